"""Trust layer: a served chain judged as OpenSSL-based mail clients judge it (pure; words in trustwords.py).

The verdict is the one `openssl s_client -verify_hostname NAME -verify_return_error
-CAfile ANCHORS` and Postfix's SMTP client (smtp_tls_security_level = verify)
reach with OpenSSL 3 at Debian's security level 2: path building as OpenSSL
does it (trust anchors first, then what the server sent, in any order), the
sslserver purpose, basic constraints and key usage of issuers, path length,
unknown critical extensions, name constraints, key sizes and signature
digests, the host name or IP address, validity. Stricter than OpenSSL, as mail
clients are documented to be: a certificate without subjectAltName (NO_SAN),
malformed certificates (MALFORMED). More lenient: a trailing dot on the name.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime

from ..records import NamedTuple
from ..sanitize import clean
from .certificate import MAX_CHAIN, Certificate
from .fields import EXTENSION_NAMES, Defect, Malformation
from .keys import Key, KeyType
from .names import name_problem, nc_match, shown_name, subject_names
from .parse import read
from .path import build_chain, role, self_signed
from .problems import CaDefect, CertificateProblem, ConstraintDefect, ProblemKind
from .purpose import ca_defect, check_ca, purpose_defect
from .signatures import SIGNATURES, signed_by
from .store import TrustAnchors

#: OpenSSL's security level 2 (Debian's default): 112-bit keys and signature digests.
SECURITY_BITS = 112
DAY = 86400.0


class TrustVerdict(NamedTuple):
    """The chain as OpenSSL builds it, and every problem found on it."""

    sent: tuple[Certificate, ...]  # as the server sent them (at most MAX_CHAIN)
    chain: tuple[Certificate, ...]  # leaf first, then issuers (sent or trust anchors), root last
    trusted_depth: int | None  # index of the first trust-store certificate in chain; None: untrusted
    problems: tuple[CertificateProblem, ...]

    @property
    def trusted(self) -> bool:
        return self.trusted_depth is not None

    @property
    def path(self) -> tuple[Certificate, ...]:
        """The sent certificates the chain uses, leaf first (the leaf alone when it is the anchor)."""
        if self.trusted_depth is None:
            return self.chain
        return self.chain[: max(self.trusted_depth, 1)]

    @property
    def anchor(self) -> Certificate | None:
        return self.chain[-1] if self.trusted_depth is not None else None


def verify(chain: Sequence[bytes], name: str, anchors: TrustAnchors, now: datetime) -> TrustVerdict:
    """Judge ``chain`` (DER, leaf first, as sent) for ``name`` (DNS name, trailing dot allowed, or IP address)."""
    if not chain:
        raise ValueError("no certificate to verify")
    sent = tuple(read(der) for der in chain[:MAX_CHAIN])
    built, trusted = build_chain(sent, anchors, now)
    problems = list(_problems(sent, built, trusted, name, anchors, now))
    return TrustVerdict(sent, tuple(built), trusted, tuple(problems))


def _problems(
    sent: tuple[Certificate, ...],
    chain: list[Certificate],
    trusted: int | None,
    name: str,
    anchors: TrustAnchors,
    now: datetime,
) -> Iterator[CertificateProblem]:
    """Every problem, in the order OpenSSL meets them (malformed certificates first)."""
    size = len(chain)

    def problem(kind: ProblemKind, position: int, **data: object) -> CertificateProblem:
        cert = chain[position]
        return CertificateProblem(kind, position, role(chain, position), cert.subject, **data)  # type: ignore[arg-type]

    for position, cert in enumerate(chain):
        for defect in cert.defects:
            yield _malformed(problem, position, defect)

    for position, cert in enumerate(chain):
        if cert.key_algorithm and cert.key.type is None and not cert.defects:
            yield problem(ProblemKind.MALFORMED, position, detail=Malformation.UNSUPPORTED_KEY)
    leaf_key = chain[0].key
    if leaf_key.type is not None and leaf_key.security_bits < SECURITY_BITS:
        yield _key_problem(problem, 0, leaf_key)

    top = chain[-1]
    if trusted is None:
        if size == 1 and self_signed(top):
            yield problem(ProblemKind.SELF_SIGNED, 0, origin=anchors.origin)
        elif self_signed(top):
            yield problem(ProblemKind.UNTRUSTED, size - 1, text=top.subject, origin=anchors.origin)
        elif size == 1 and len(sent) == 1:
            yield problem(ProblemKind.INCOMPLETE_CHAIN, 0, text=top.issuer, origin=anchors.origin)
        else:
            yield problem(ProblemKind.UNTRUSTED, size - 1, text=top.issuer, origin=anchors.origin)
    elif not self_signed(top):
        yield problem(ProblemKind.UNTRUSTED, size - 1, text=top.issuer, origin=anchors.origin)

    path_length = 0
    for position, cert in enumerate(chain):
        unknown = cert.critical_unknown
        if unknown:
            yield problem(ProblemKind.UNKNOWN_CRITICAL_EXTENSION, position, text=EXTENSION_NAMES.get(unknown[0], ""))
        if position > 0:
            ca = check_ca(cert)
            if ca == 0 or (position + 1 < size and ca != 1):
                yield problem(ProblemKind.INVALID_CA, position, detail=ca_defect(cert))
        purpose = purpose_defect(cert, as_ca=position > 0)
        if purpose is not None:
            yield problem(ProblemKind.PURPOSE, position, detail=purpose[0], names=purpose[1])
        pathlen = cert.basic_constraints[1] if cert.basic_constraints else None
        if position > 1 and pathlen is not None and path_length > pathlen:
            yield problem(ProblemKind.INVALID_CA, position, detail=CaDefect.PATH_LENGTH, number=pathlen)
        if position > 0 and not cert.self_issued:
            path_length += 1

    for position, cert in enumerate(chain):
        if position > 0:
            key = cert.key
            if key.type is not None and key.security_bits < SECURITY_BITS:
                yield _key_problem(problem, position, key)
        if position < size - 1:
            digest = SIGNATURES.get(cert.signature_oid, (None, None))[1]
            if digest is not None and digest.weak:
                yield problem(ProblemKind.WEAK_SIGNATURE, position, digest=digest)

    kind = name_problem(chain[0], name)
    if kind is not None:
        yield problem(kind, 0, names=chain[0].dns_names + chain[0].ip_addresses, wanted=name)

    for position in range(size - 1, -1, -1):
        cert = chain[position]
        if position + 1 < size and not signed_by(cert, chain[position + 1]):
            yield problem(ProblemKind.BAD_SIGNATURE, position, text=chain[position + 1].subject)
    for position, cert in enumerate(chain):
        if cert.not_after is not None and cert.not_after < now:
            days = (now - cert.not_after).total_seconds() / DAY
            yield problem(ProblemKind.EXPIRED, position, moment=cert.not_after, days=days)
        elif cert.not_before is not None and cert.not_before > now:
            days = (cert.not_before - now).total_seconds() / DAY
            yield problem(ProblemKind.NOT_YET_VALID, position, moment=cert.not_before, days=days)

    for position in range(size - 1, -1, -1):
        cert = chain[position]
        if position and cert.self_issued:
            continue
        for holder in range(size - 1, position, -1):
            constraints = chain[holder].name_constraints
            if constraints is None:
                continue
            if constraints.has_minmax:
                yield problem(
                    ProblemKind.NAME_CONSTRAINTS,
                    position,
                    detail=ConstraintDefect.UNSUPPORTED,
                    text=chain[holder].subject,
                )
                continue
            for general in subject_names(cert, position == 0):
                violation = nc_match(general, constraints.permitted, constraints.excluded)
                if violation is not None:
                    yield problem(
                        ProblemKind.NAME_CONSTRAINTS,
                        position,
                        detail=violation,
                        names=(shown_name(general),),
                        text=chain[holder].subject,
                    )
                    break


def _malformed(make: object, position: int, defect: Defect) -> CertificateProblem:
    assert callable(make)
    problem: CertificateProblem = make(
        ProblemKind.MALFORMED, position, detail=defect.what, text=clean(defect.text, 64), text2=defect.detail
    )
    return problem


def _key_problem(make: object, position: int, key: Key) -> CertificateProblem:
    assert callable(make)
    kind = ProblemKind.RSA_TOO_SMALL if key.type is KeyType.RSA else ProblemKind.KEY_TOO_SMALL
    problem: CertificateProblem = make(kind, position, number=key.bits, key=key)
    return problem
