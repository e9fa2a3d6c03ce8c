"""Trust layer: a served chain judged as OpenSSL-based mail clients judge it (pure; words only in describe()).

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

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from .certparse import (
    EXTENSION_NAMES,
    SIGNATURES,
    WEAK_DIGESTS,
    Defect,
    GeneralName,
    Malformation,
    ParsedCertificate,
    parse,
    subject_der,
    subject_key,
)
from .sanitize import clean

if TYPE_CHECKING:
    from cryptography import x509

#: Longest chain a server may send that is read (more is cut, as handshake.MAX_CHAIN does).
MAX_SENT = 10
#: OpenSSL's security level 2 (Debian's default): 112-bit keys and signature digests.
SECURITY_BITS = 112
DAY = 86400.0

SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
#: Server Gated Crypto EKUs (Netscape, Microsoft), which OpenSSL takes as serverAuth.
_SGC = frozenset({"2.16.840.1.113730.4.1", "1.3.6.1.4.1.311.10.3.3"})
_EKU_WORDS = {
    SERVER_AUTH: "TLS server authentication",
    "1.3.6.1.5.5.7.3.2": "TLS client authentication",
    "1.3.6.1.5.5.7.3.3": "code signing",
    "1.3.6.1.5.5.7.3.4": "email protection",
    "1.3.6.1.5.5.7.3.8": "time stamping",
    "1.3.6.1.5.5.7.3.9": "OCSP signing",
    "2.5.29.37.0": "any purpose",
}
# keyUsage bits (bit 0 first)
_DIGITAL_SIGNATURE, _KEY_ENCIPHERMENT, _KEY_AGREEMENT, _KEY_CERT_SIGN = 1 << 0, 1 << 2, 1 << 4, 1 << 5
_KU_WORDS = (
    "digital signature",
    "non-repudiation",
    "key encipherment",
    "data encipherment",
    "key agreement",
    "certificate signing",
    "CRL signing",
    "encipher only",
    "decipher only",
)
# Netscape certificate type bits (bit 0 first): SSL server is bit 1, SSL CA bit 5
_NS_SSL_SERVER, _NS_ANY_CA = 1 << 1, (1 << 5) | (1 << 6) | (1 << 7)


class ProblemKind(enum.Enum):
    """What is wrong, as far as a TLS client that verifies is concerned."""

    MALFORMED = "malformed"  # detail: Malformation (stricter than OpenSSL for some)
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    SELF_SIGNED = "self-signed"  # the server's own certificate, self-signed and not a trust anchor
    UNTRUSTED = "untrusted"  # the chain ends at an issuer that is not a trust anchor
    INCOMPLETE_CHAIN = "incomplete chain"  # the server sent only its certificate, whose issuer is unknown
    BAD_SIGNATURE = "bad signature"  # the issuer's key does not verify the signature
    INVALID_CA = "invalid CA"  # detail: CaDefect
    PURPOSE = "purpose"  # detail: PurposeDefect
    UNKNOWN_CRITICAL_EXTENSION = "unknown critical extension"
    NAME_CONSTRAINTS = "name constraints"  # detail: ConstraintDefect
    WEAK_SIGNATURE = "weak signature"  # SHA-1, MD5 below the trust anchor
    RSA_TOO_SMALL = "RSA key too small"  # under 2048 bits
    KEY_TOO_SMALL = "key too small"  # DSA under 2048 bits, EC under 224 bits
    NAME_MISMATCH = "name mismatch"
    NO_SAN = "no subjectAltName"  # the name only in the CN (stricter than OpenSSL)


class CaDefect(enum.Enum):
    """Why a certificate above the server's cannot issue it."""

    NOT_CA = "basicConstraints CA:FALSE"
    NO_BASIC_CONSTRAINTS = "no basicConstraints"
    VERSION_1 = "version 1"
    NO_CERT_SIGN = "keyUsage without keyCertSign"
    PATH_LENGTH = "pathLenConstraint exceeded"  # number: the pathLenConstraint


class PurposeDefect(enum.Enum):
    """Why a certificate is not for TLS servers."""

    EXTENDED_KEY_USAGE = "extendedKeyUsage without serverAuth"  # names: what it allows, in words
    KEY_USAGE = "keyUsage without a TLS usage"  # names: what it allows, in words
    NETSCAPE_TYPE = "Netscape certificate type without SSL server"


class ConstraintDefect(enum.Enum):
    EXCLUDED = "excluded"
    NOT_PERMITTED = "not permitted"
    UNSUPPORTED = "unsupported"  # a constraint of a kind OpenSSL cannot check (or with minimum/maximum)


class Role(enum.Enum):
    CERTIFICATE = "certificate"  # the server's own
    INTERMEDIATE = "intermediate"
    ROOT = "root"  # the self-signed trust anchor (or a self-signed root the server sent)


class CertificateProblem(NamedTuple):
    """One problem with one certificate of the chain; describe() words it."""

    kind: ProblemKind
    position: int  # index in TrustVerdict.chain: 0 is the server's certificate
    role: Role
    subject: str  # short name (CN), cleaned
    detail: Malformation | CaDefect | PurposeDefect | ConstraintDefect | None = None
    moment: datetime | None = None  # EXPIRED: notAfter; NOT_YET_VALID: notBefore
    days: float = 0.0  # EXPIRED: days since; NOT_YET_VALID: days until
    names: tuple[str, ...] = ()  # the names the certificate is for (raw; describe() cleans)
    wanted: str = ""  # the name asked for (raw)
    number: int = 0  # key bits; pathLenConstraint
    algorithm: str = ""  # "RSA", "DSA", "ECDSA P-192"; "SHA-1", "MD5"
    text: str = ""  # issuer's name, extension's name, constraint holder's name, defect datum (cleaned)
    text2: str = ""  # a second datum of a Malformation (the ASN.1 type)
    origin: str = ""  # where the anchors came from: "--ca-file /etc/x.pem", "the system trust store"


class TrustVerdict(NamedTuple):
    """The chain as OpenSSL builds it, and every problem found on it."""

    sent: tuple[ParsedCertificate, ...]  # as the server sent them (at most MAX_SENT)
    chain: tuple[ParsedCertificate, ...]  # leaf first, then issuers (sent or trust anchors), root last
    trusted_depth: int | None  # index of the first trust-store certificate in chain; None: untrusted
    problems: tuple[CertificateProblem, ...]

    @property
    def trusted(self) -> bool:
        return self.trusted_depth is not None

    @property
    def path(self) -> tuple[ParsedCertificate, ...]:
        """The sent certificates the chain uses, leaf first (the leaf alone when it is the anchor)."""
        if self.trusted_depth is None:
            return self.chain
        return self.chain[: max(self.trusted_depth, 1)]

    @property
    def anchor(self) -> ParsedCertificate | None:
        return self.chain[-1] if self.trusted_depth is not None else None

    def of_kind(self, *kinds: ProblemKind) -> tuple[CertificateProblem, ...]:
        return tuple(p for p in self.problems if p.kind in kinds)


#: Kinds about the name asked for; the others are about the chain.
NAME_KINDS = frozenset({ProblemKind.NAME_MISMATCH, ProblemKind.NO_SAN})
#: Kinds about dates on the chain.
VALIDITY_KINDS = frozenset({ProblemKind.EXPIRED, ProblemKind.NOT_YET_VALID})


class Anchors:
    """Trust anchors (DER), indexed by subject; each read only when a chain needs it."""

    def __init__(self, certificates: Sequence[bytes], origin: str) -> None:
        self.origin = origin
        self._der = tuple(certificates)
        self._exact = frozenset(self._der)
        self._by_subject: dict[bytes, list[bytes]] = {}
        for der in self._der:
            self._by_subject.setdefault(subject_der(der), []).append(der)
        self._parsed: dict[bytes, ParsedCertificate] = {}
        self._by_key: dict[tuple[tuple[str, str], ...], list[bytes]] | None = None

    def __len__(self) -> int:
        return len(self._der)

    def _read(self, der: bytes) -> ParsedCertificate:
        if der not in self._parsed:
            self._parsed[der] = parse(der)
        return self._parsed[der]

    def contains(self, cert: ParsedCertificate) -> bool:
        return cert.der in self._exact

    def named(self, name_der: bytes, key: tuple[tuple[str, str], ...]) -> list[ParsedCertificate]:
        """Anchors whose subject is this name (by encoding, else by value as OpenSSL compares names)."""
        found = [self._read(der) for der in self._by_subject.get(name_der, ())]
        if found or not key:
            return found
        if self._by_key is None:
            self._by_key = {}
            for der in self._der:
                self._by_key.setdefault(subject_key(der), []).append(der)
        return [self._read(der) for der in self._by_key.get(key, ())]


def _names_match(issuer: ParsedCertificate, subject: ParsedCertificate) -> bool:
    return issuer.subject_der == subject.issuer_der or (
        bool(issuer.subject_key) and issuer.subject_key == subject.issuer_key
    )


def likely_issued(issuer: ParsedCertificate, subject: ParsedCertificate) -> bool:
    """OpenSSL's test for a candidate issuer: names, key identifiers, key type (no signature check)."""
    if not _names_match(issuer, subject):
        return False
    if None not in (subject.authority_key_id, issuer.subject_key_id) and (
        subject.authority_key_id != issuer.subject_key_id
    ):
        return False
    if subject.authority_issuer_serial is not None:
        name, serial = subject.authority_issuer_serial
        if name != issuer.issuer_der or serial != issuer.serial:
            return False
    expected = SIGNATURES.get(subject.signature_oid, ("", ""))[0]
    return not (expected and issuer.key_algorithm and expected != issuer.key_algorithm)


def self_signed(cert: ParsedCertificate) -> bool:
    """OpenSSL's "self-signed": self-issued, and its key identifiers and key type fit itself."""
    return cert.self_issued and likely_issued(cert, cert)


def _in_time(cert: ParsedCertificate, now: datetime) -> bool:
    return cert.not_before is not None and cert.not_after is not None and cert.not_before <= now <= cert.not_after


def _pick(candidates: list[ParsedCertificate], now: datetime) -> ParsedCertificate | None:
    """As OpenSSL: the first one valid now, else the one that expired last."""
    for cert in candidates:
        if _in_time(cert, now):
            return cert
    if not candidates:
        return None
    return max(candidates, key=lambda c: c.not_after or datetime.min.replace(tzinfo=now.tzinfo))


def _build(
    sent: tuple[ParsedCertificate, ...], anchors: Anchors, now: datetime
) -> tuple[list[ParsedCertificate], int | None]:
    """(chain, index of the first trusted certificate): trust anchors first, then what was sent."""
    chain = [sent[0]]
    trusted: int | None = None
    while len(chain) < MAX_SENT + 10:
        current = chain[-1]
        if trusted is None and self_signed(current) and anchors.contains(current):
            trusted = len(chain) - 1
            break
        candidates = [a for a in anchors.named(current.issuer_der, current.issuer_key) if likely_issued(a, current)]
        candidates = [c for c in candidates if c.der != current.der]
        issuer = _pick(candidates, now)
        if issuer is not None and self_signed(current) and len(chain) > 1:
            chain[-1] = issuer  # a self-signed root sent along gives way to the trusted one, as in OpenSSL
            trusted = len(chain) - 1
            break
        if issuer is not None:
            chain.append(issuer)
            if trusted is None:
                trusted = len(chain) - 1
            if self_signed(issuer):
                break
            continue
        if trusted is not None or self_signed(current):
            break
        used = {c.der for c in chain}
        issuer = _pick([c for c in sent[1:] if c.der not in used and likely_issued(c, current)], now)
        if issuer is None:
            break
        chain.append(issuer)
    return chain, trusted


def _role(chain: Sequence[ParsedCertificate], position: int) -> Role:
    if position == 0:
        return Role.CERTIFICATE
    if position == len(chain) - 1 and self_signed(chain[position]):
        return Role.ROOT
    return Role.INTERMEDIATE


def _check_ca(cert: ParsedCertificate) -> int:
    """OpenSSL's X509_check_ca: 0 not a CA, 1 by basicConstraints, 3 v1 root, 4 by keyUsage, 5 Netscape."""
    if cert.key_usage is not None and not cert.key_usage & _KEY_CERT_SIGN:
        return 0
    if cert.basic_constraints is not None:
        return 1 if cert.basic_constraints[0] else 0
    if cert.version == 1 and self_signed(cert):
        return 3
    if cert.key_usage is not None:
        return 4
    if cert.netscape_type is not None and cert.netscape_type & _NS_ANY_CA:
        return 5
    return 0


def _ca_defect(cert: ParsedCertificate) -> CaDefect:
    if cert.key_usage is not None and not cert.key_usage & _KEY_CERT_SIGN:
        return CaDefect.NO_CERT_SIGN
    if cert.basic_constraints is not None:
        return CaDefect.NOT_CA
    if cert.version == 1:
        return CaDefect.VERSION_1
    return CaDefect.NO_BASIC_CONSTRAINTS


def _eku_words(ekus: frozenset[str]) -> tuple[str, ...]:
    known = sorted({_EKU_WORDS[e] for e in ekus if e in _EKU_WORDS})
    return (*known, "other purposes") if any(e not in _EKU_WORDS for e in ekus) else tuple(known)


def _purpose(cert: ParsedCertificate, as_ca: bool) -> tuple[PurposeDefect, tuple[str, ...]] | None:
    """OpenSSL's sslserver purpose check: what fails, and what the certificate allows instead."""
    ekus = cert.extended_key_usage
    if ekus is not None and not ekus & ({SERVER_AUTH} | _SGC):
        return PurposeDefect.EXTENDED_KEY_USAGE, _eku_words(ekus)
    if as_ca:
        return None
    if cert.netscape_type is not None and not cert.netscape_type & _NS_SSL_SERVER:
        return PurposeDefect.NETSCAPE_TYPE, ()
    usage = cert.key_usage
    if usage is not None and not usage & (_DIGITAL_SIGNATURE | _KEY_ENCIPHERMENT | _KEY_AGREEMENT):
        return PurposeDefect.KEY_USAGE, tuple(w for bit, w in enumerate(_KU_WORDS) if usage & (1 << bit))
    return None


# host names, as OpenSSL's X509_check_host


def _idna(name: str) -> str:
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def _valid_star(pattern: str) -> int:
    """Index of the one usable wildcard in ``pattern``, or -1 (OpenSSL's valid_star, partial wildcards allowed)."""
    star, label_start, hyphen, idna, dots = -1, True, False, False, 0
    for i, char in enumerate(pattern):
        if char == "*":
            at_end = i == len(pattern) - 1 or pattern[i + 1] == "."
            if star >= 0 or idna or dots or (not label_start and not at_end):
                return -1
            star, label_start = i, False
        elif char.isascii() and char.isalnum():
            if label_start and pattern[i : i + 4].lower() == "xn--":
                idna = True
            label_start = hyphen = False
        elif char == ".":
            if label_start or hyphen:
                return -1
            label_start, hyphen, idna = True, False, False
            dots += 1
        elif char == "-":
            if label_start:
                return -1
            hyphen = True
        else:
            return -1
    if label_start or hyphen or dots < 2:
        return -1
    return star


def host_matches(pattern: str, host: str) -> bool:
    """One DNS pattern from a certificate against a host name, as OpenSSL matches them."""
    if "\0" in pattern:
        return False
    pattern, host = pattern.lower(), host.lower()
    star = _valid_star(pattern) if not host.startswith(".") else -1
    if star < 0:
        return pattern == host
    prefix, suffix = pattern[:star], pattern[star + 1 :]
    if len(host) < len(prefix) + len(suffix) or not host.startswith(prefix) or not host.endswith(suffix):
        return False
    middle = host[len(prefix) : len(host) - len(suffix)]
    if not prefix and suffix.startswith("."):
        if not middle:
            return False
    elif host.startswith("xn--"):
        return False
    if middle == "*":
        return True
    return all(c.isascii() and (c.isalnum() or c == "-") for c in middle)


def name_matches(leaf: ParsedCertificate, wanted: str) -> bool:
    """Whether ``wanted`` (DNS name with or without its trailing dot, or IP address) is in the subjectAltName."""
    try:
        address = ipaddress.ip_address(wanted)
    except ValueError:
        address = None
    if address is not None:
        return any(n.kind == 7 and n.value == address.packed for n in leaf.san or ())
    host = _idna(wanted)
    host = host[:-1] if host.endswith(".") and len(host) > 1 else host
    return any(host_matches(pattern, host) for pattern in leaf.dns_names)


def _name_problem(leaf: ParsedCertificate, wanted: str) -> ProblemKind | None:
    """NO_SAN or NAME_MISMATCH for ``wanted``."""
    if not leaf.dns_names and not leaf.ip_addresses:
        return ProblemKind.NO_SAN
    return None if name_matches(leaf, wanted) else ProblemKind.NAME_MISMATCH


# name constraints, as OpenSSL's NAME_CONSTRAINTS_check


def _nc_dns(name: str, base: str) -> bool:
    if not base:
        return True
    if len(name) < len(base):
        return False
    if len(name) > len(base) and not base.startswith(".") and name[len(name) - len(base) - 1] != ".":
        return False
    return name[len(name) - len(base) :].lower() == base.lower()


def _nc_email(name: str, base: str) -> bool:
    if "@" in base:
        return name.lower() == base.lower()
    domain = name.rpartition("@")[2]
    if base.startswith("."):
        return _nc_dns(domain, base) and len(domain) > len(base)
    return domain.lower() == base.lower()


def _nc_uri(name: str, base: str) -> bool:
    host = name.partition("://")[2].split("/")[0].split("@")[-1].split(":")[0] if "://" in name else ""
    if not host:
        return False
    if base.startswith("."):
        return host.lower().endswith(base.lower())
    return host.lower() == base.lower()


def _nc_match_single(name: GeneralName, base: GeneralName) -> bool | None:
    """True: within the subtree; False: outside; None: a kind OpenSSL cannot check."""
    text, pattern = name.value.decode("latin-1"), base.value.decode("latin-1")
    if name.kind == 2:
        return _nc_dns(text, pattern)
    if name.kind == 1:
        return _nc_email(text, pattern)
    if name.kind == 6:
        return _nc_uri(text, pattern)
    if name.kind == 4:  # the constraint's RDNs must be the first RDNs of the name
        return _content(name.value).startswith(_content(base.value))
    if name.kind == 7:
        size = len(name.value)
        if len(base.value) != 2 * size:
            return False
        mask = base.value[size:]
        return all((a & m) == (b & m) for a, b, m in zip(name.value, base.value[:size], mask, strict=True))
    return None


def _content(der: bytes) -> bytes:
    """A TLV's content (a Name's RDNs)."""
    if len(der) < 2:
        return b""
    size = der[1]
    return der[2 + (size & 0x7F if size & 0x80 else 0) :]


def _nc_match(
    name: GeneralName, permitted: tuple[GeneralName, ...], excluded: tuple[GeneralName, ...]
) -> ConstraintDefect | None:
    relevant = [p for p in permitted if p.kind == name.kind]
    if relevant:
        results = [_nc_match_single(name, p) for p in relevant]
        if None in results:
            return ConstraintDefect.UNSUPPORTED
        if not any(results):
            return ConstraintDefect.NOT_PERMITTED
    for base in excluded:
        if base.kind != name.kind:
            continue
        inside = _nc_match_single(name, base)
        if inside is None:
            return ConstraintDefect.UNSUPPORTED
        if inside:
            return ConstraintDefect.EXCLUDED
    return None


def _looks_like_host(cn: str) -> bool:
    labels = cn.split(".")
    return len(labels) > 1 and all(
        label
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in label)
        for label in labels
    )


def _subject_names(cert: ParsedCertificate, leaf: bool) -> Iterator[GeneralName]:
    """The names constraints apply to: the subject DN, the subjectAltName, and (leaf without DNS SAN) host-like CNs."""
    if cert.subject_key:
        yield GeneralName(4, cert.subject_der)
    yield from (n for n in cert.san or () if n.kind in (1, 2, 4, 6, 7))
    if leaf and not cert.dns_names:
        yield from (GeneralName(2, cn.encode("latin-1", "replace")) for cn in cert.common_names if _looks_like_host(cn))


def _shown(name: GeneralName) -> str:
    if name.kind == 7 and len(name.value) in (4, 16):
        return str(ipaddress.ip_address(name.value))
    if name.kind == 4:
        return "its subject name"
    return clean(name.value.decode("latin-1"), 64)


# the verdict


def verify(chain: Sequence[bytes], name: str, anchors: Anchors, now: datetime) -> TrustVerdict:
    """Judge ``chain`` (DER, leaf first, as sent) for ``name`` (DNS name, trailing dot allowed, or IP address)."""
    if not chain:
        raise ValueError("no certificate to verify")
    sent = tuple(parse(der) for der in chain[:MAX_SENT])
    built, trusted = _build(sent, anchors, now)
    problems = list(_problems(sent, built, trusted, name, anchors, now))
    return TrustVerdict(sent, tuple(built), trusted, tuple(problems))


def _problems(
    sent: tuple[ParsedCertificate, ...],
    chain: list[ParsedCertificate],
    trusted: int | None,
    name: str,
    anchors: Anchors,
    now: datetime,
) -> Iterator[CertificateProblem]:
    """Every problem, in the order OpenSSL meets them (malformed certificates first)."""
    size = len(chain)

    def problem(kind: ProblemKind, position: int, **data: object) -> CertificateProblem:
        cert = chain[position]
        return CertificateProblem(kind, position, _role(chain, position), cert.subject, **data)  # type: ignore[arg-type]

    for position, cert in enumerate(chain):
        for defect in cert.defects:
            yield _malformed(problem, position, defect)

    for position, cert in enumerate(chain):
        if cert.key_algorithm and cert.key().algorithm == "unknown" and not cert.defects:
            yield problem(ProblemKind.MALFORMED, position, detail=Malformation.UNSUPPORTED_KEY)
    leaf_key = chain[0].key()
    if leaf_key.algorithm != "unknown" and leaf_key.security_bits < SECURITY_BITS:
        yield _key_problem(problem, 0, leaf_key.algorithm, leaf_key.bits, str(leaf_key))

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
            ca = _check_ca(cert)
            if ca == 0 or (position + 1 < size and ca != 1):
                yield problem(ProblemKind.INVALID_CA, position, detail=_ca_defect(cert))
        purpose = _purpose(cert, as_ca=position > 0)
        if purpose is not None:
            yield problem(ProblemKind.PURPOSE, position, detail=purpose[0], names=purpose[1])
        pathlen = cert.basic_constraints[1] if cert.basic_constraints else None
        if position > 1 and pathlen is not None and path_length > pathlen:
            yield problem(ProblemKind.INVALID_CA, position, detail=CaDefect.PATH_LENGTH, number=pathlen)
        if position > 0 and not cert.self_issued:
            path_length += 1

    for position, cert in enumerate(chain):
        if position > 0:
            key = cert.key()
            if key.algorithm != "unknown" and key.security_bits < SECURITY_BITS:
                yield _key_problem(problem, position, key.algorithm, key.bits, str(key))
        if position < size - 1:
            digest = SIGNATURES.get(cert.signature_oid, ("", ""))[1]
            if digest in WEAK_DIGESTS:
                yield problem(ProblemKind.WEAK_SIGNATURE, position, algorithm=digest)

    kind = _name_problem(chain[0], name)
    if kind is not None:
        yield problem(kind, 0, names=chain[0].dns_names + chain[0].ip_addresses, wanted=name)

    for position in range(size - 1, -1, -1):
        cert = chain[position]
        if position + 1 < size and not _signed_by(cert, chain[position + 1]):
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
            for general in _subject_names(cert, position == 0):
                violation = _nc_match(general, constraints.permitted, constraints.excluded)
                if violation is not None:
                    yield problem(
                        ProblemKind.NAME_CONSTRAINTS,
                        position,
                        detail=violation,
                        names=(_shown(general),),
                        text=chain[holder].subject,
                    )
                    break


def _malformed(make: object, position: int, defect: Defect) -> CertificateProblem:
    assert callable(make)
    problem: CertificateProblem = make(
        ProblemKind.MALFORMED, position, detail=defect.what, text=clean(defect.text, 64), text2=defect.detail
    )
    return problem


def _key_problem(make: object, position: int, algorithm: str, bits: int, shown: str) -> CertificateProblem:
    assert callable(make)
    kind = ProblemKind.RSA_TOO_SMALL if algorithm == "RSA" else ProblemKind.KEY_TOO_SMALL
    problem: CertificateProblem = make(kind, position, number=bits, algorithm=shown)
    return problem


def _signed_by(cert: ParsedCertificate, issuer: ParsedCertificate) -> bool:
    """The issuer's key verifies the signature.

    cryptography's own check first; by hand where it refuses: SHA-1 and MD5
    signatures, and issuer names that differ in encoding only (OpenSSL compares
    names by value).
    """
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

    child, parent = cert.x509(), issuer.x509()
    if child is None or parent is None:
        return False
    try:
        child.verify_directly_issued_by(parent)
        return True
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass
    try:
        return _verify_by_hand(child, parent, SIGNATURES.get(cert.signature_oid, ("", ""))[1])
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False


def _verify_by_hand(child: x509.Certificate, parent: x509.Certificate, digest_name: str) -> bool:
    """Verify child's signature with parent's key; raises InvalidSignature (and others) when it does not hold."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

    digests: dict[str, type[hashes.HashAlgorithm]] = {
        "MD5": hashes.MD5,
        "SHA-1": hashes.SHA1,
        "SHA-224": hashes.SHA224,
        "SHA-256": hashes.SHA256,
        "SHA-384": hashes.SHA384,
        "SHA-512": hashes.SHA512,
    }
    key, signature, signed = parent.public_key(), child.signature, child.tbs_certificate_bytes
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key.verify(signature, signed)
        return True
    if digest_name == "PSS" and isinstance(key, rsa.RSAPublicKey):
        pss, pss_digest = child.signature_algorithm_parameters, child.signature_hash_algorithm
        if not isinstance(pss, padding.PSS) or pss_digest is None:
            return False
        key.verify(signature, signed, pss, pss_digest)
        return True
    if digest_name not in digests:
        return False
    digest = digests[digest_name]()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, signed, padding.PKCS1v15(), digest)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, signed, ec.ECDSA(digest))
    elif isinstance(key, dsa.DSAPublicKey):
        key.verify(signature, signed, digest)
    else:
        return False
    return True


# words


def _date(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "(unknown date)"


def _what(problem: CertificateProblem) -> str:
    """ "certificate", "intermediate R11", "root ISRG Root X1"."""
    if problem.role is Role.CERTIFICATE:
        return "certificate"
    return f"{problem.role.value} {problem.subject}"


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(clean(n, 64) for n in names[:4])
    more = f" and {len(names) - 4} more" if len(names) > 4 else ""
    return (shown + more) or "no subjectAltName"


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
    if what is Malformation.UNREADABLE_NAME:
        return f"its {problem.text} name cannot be read"
    assert isinstance(what, Malformation)
    return _MALFORMED_WORDS[what]


def describe(problem: CertificateProblem) -> str:
    """The problem in an operator's words (no OID, no exception, no repr)."""
    kind, what = problem.kind, _what(problem)
    if kind is ProblemKind.MALFORMED:
        return f"{what} is malformed: {_malformed_words(problem)}"
    if kind is ProblemKind.EXPIRED:
        return f"{what} expired {problem.days:.1f} days ago ({_date(problem.moment)})"
    if kind is ProblemKind.NOT_YET_VALID:
        return f"{what} not valid before {_date(problem.moment)} (in {problem.days:.1f} days)"
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
        return f"{what} is signed with {problem.algorithm}: clients refuse {problem.algorithm} signatures"
    if kind is ProblemKind.RSA_TOO_SMALL:
        where = "" if problem.role is Role.CERTIFICATE else f" ({what})"
        return f"RSA {problem.number}-bit key{where}: clients require 2048 bits or more"
    if kind is ProblemKind.KEY_TOO_SMALL:
        where = "" if problem.role is Role.CERTIFICATE else f" ({what})"
        need = (
            "P-256 or another curve of 224 bits or more"
            if problem.algorithm.startswith("ECDSA")
            else "2048 bits or more"
        )
        return f"{problem.algorithm} key{where} is too weak: clients require {need}"
    if kind is ProblemKind.NAME_MISMATCH:
        return f"name mismatch: certificate is for {_names(problem.names)}, not {clean(problem.wanted)}"
    assert kind is ProblemKind.NO_SAN
    return f"certificate has no subjectAltName (CN {problem.subject}); clients cannot match {clean(problem.wanted)}"


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
