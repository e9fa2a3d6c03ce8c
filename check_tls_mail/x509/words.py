"""The words for a certificate problem: ``describe`` makes an operator's sentence from a ``CertificateProblem``.

Words layer (the edge): no OID, no exception text, no repr; server-supplied names cleaned.
"""

from __future__ import annotations

from ..sanitize import clean
from ..words import first_few, when
from .fields import Malformation
from .keys import KeyType
from .problems import CaDefect, CertificateProblem, ConstraintDefect, ProblemKind, PurposeDefect, Role


def _what(problem: CertificateProblem) -> str:
    """ "certificate", "intermediate R11", "root ISRG Root X1"."""
    if problem.role is Role.CERTIFICATE:
        return "certificate"
    return f"{problem.role.value} {problem.subject}"


def _names(names: tuple[str, ...]) -> str:
    return first_few([clean(n, 64) for n in names], empty="no subjectAltName")


_MALFORMED_WORDS = {
    Malformation.UNREADABLE: "it cannot be read as a certificate",
    Malformation.UNREADABLE_DATES: "its validity dates cannot be read",
    Malformation.UNSUPPORTED_KEY: "its public key is of a kind clients do not support",
}


def _malformed_words(problem: CertificateProblem) -> str:
    what = problem.detail
    if what is Malformation.DUPLICATE_EXTENSION:
        return f"two {problem.text} extensions" if problem.text else "an extension appears twice"
    if what is Malformation.UNREADABLE_EXTENSION:
        return f"its {problem.text} extension cannot be read" if problem.text else "an extension cannot be read"
    if what is Malformation.UNSUPPORTED_NAME_TYPE:
        return f"its subjectAltName holds an {problem.text}"
    if what is Malformation.NON_TEXT_NAME:
        return f"its {problem.text} is a {problem.text2}, not text"
    if what is Malformation.IP_WITH_NETMASK:
        return f"its subjectAltName holds an IP address with a netmask ({problem.text})"
    if what is Malformation.BAD_IP_ADDRESS:
        return f"its subjectAltName holds an IP address of {problem.text} bytes"
    assert isinstance(what, Malformation)
    return _MALFORMED_WORDS[what]


def describe(problem: CertificateProblem) -> str:
    """The problem in an operator's words (no OID, no exception, no repr)."""
    kind, what = problem.kind, _what(problem)
    if kind is ProblemKind.MALFORMED:
        return f"{what} is malformed: {_malformed_words(problem)}"
    if kind is ProblemKind.EXPIRED:
        return f"{what} expired {problem.days:.1f} days ago ({when(problem.moment)})"
    if kind is ProblemKind.NOT_YET_VALID:
        return f"{what} not valid before {when(problem.moment)} (in {problem.days:.1f} days)"
    if kind is ProblemKind.SELF_SIGNED:
        return f"self-signed certificate, not trusted by {problem.origin}"
    if kind is ProblemKind.UNTRUSTED:
        return f"untrusted chain: issuer {problem.text} is not in {problem.origin}"
    if kind is ProblemKind.INCOMPLETE_CHAIN:
        return (
            f"untrusted chain: issuer {problem.text} is not in {problem.origin}, "
            "and the server sends no intermediate certificate"
        )
    if kind is ProblemKind.BAD_SIGNATURE:
        return f"{what} has a signature that {problem.text}'s key does not verify"
    if kind is ProblemKind.INVALID_CA:
        return _ca_words(problem, what)
    if kind is ProblemKind.PURPOSE:
        return _purpose_words(problem, what)
    if kind is ProblemKind.UNKNOWN_CRITICAL_EXTENSION:
        if problem.text:
            return f"{what} marks its {problem.text} extension critical, which clients cannot process"
        return f"{what} has a critical extension that clients do not know"
    if kind is ProblemKind.NAME_CONSTRAINTS:
        name = problem.names[0] if problem.names else "a name"
        holder = problem.text
        if problem.detail is ConstraintDefect.EXCLUDED:
            return f"name constraints of {holder} exclude {name} ({what})"
        if problem.detail is ConstraintDefect.NOT_PERMITTED:
            return f"name constraints of {holder} do not permit {name} ({what})"
        return f"{holder} has name constraints of a kind clients cannot check"
    if kind is ProblemKind.WEAK_SIGNATURE:
        digest = problem.digest.value if problem.digest is not None else "a weak digest"
        return f"{what} is signed with {digest}: clients refuse {digest} signatures"
    if kind is ProblemKind.RSA_TOO_SMALL:
        where = "" if problem.role is Role.CERTIFICATE else f" ({what})"
        return f"RSA {problem.number}-bit key{where}: clients require 2048 bits or more"
    if kind is ProblemKind.KEY_TOO_SMALL:
        where = "" if problem.role is Role.CERTIFICATE else f" ({what})"
        key = problem.key
        ecdsa = key is not None and key.type is KeyType.ECDSA
        need = "P-256 or another curve of 224 bits or more" if ecdsa else "2048 bits or more"
        return f"{key} key{where} is too weak: clients require {need}"
    if kind is ProblemKind.NAME_MISMATCH:
        return f"name mismatch: certificate is for {_names(problem.names)}, not {clean(problem.wanted)}"
    assert kind is ProblemKind.NO_SAN
    return f"certificate has no subjectAltName (CN {problem.subject}), so clients cannot match {clean(problem.wanted)}"


def _ca_words(problem: CertificateProblem, what: str) -> str:
    defect = problem.detail
    if defect is CaDefect.PATH_LENGTH:
        below = "no intermediate" if problem.number == 0 else f"at most {problem.number} intermediates"
        return f"{what} allows {below} below it (pathLenConstraint), the chain has more"
    if defect is CaDefect.NO_CERT_SIGN:
        return f"{what} may not sign certificates: its keyUsage lacks keyCertSign"
    if defect is CaDefect.VERSION_1:
        return f"{what} is a version 1 certificate, which cannot be an intermediate CA"
    if defect is CaDefect.NOT_CA:
        return f"{what} is not a CA certificate (basicConstraints CA:FALSE)"
    return f"{what} is not a CA certificate: it has no basicConstraints CA:TRUE"


def _purpose_words(problem: CertificateProblem, what: str) -> str:
    allowed = ", ".join(problem.names) or "nothing"
    if problem.detail is PurposeDefect.EXTENDED_KEY_USAGE:
        if problem.role is Role.CERTIFICATE:
            return f"certificate is not for TLS servers: its extendedKeyUsage allows only {allowed}"
        return f"{what} may not issue TLS server certificates: its extendedKeyUsage allows only {allowed}"
    if problem.detail is PurposeDefect.KEY_USAGE:
        return f"certificate is not for TLS servers: its keyUsage allows only {allowed}"
    return f"{what} is not for TLS servers: its Netscape certificate type excludes SSL servers"
