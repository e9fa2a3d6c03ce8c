"""Certificate judgement: the chain the server sent, read and judged with cryptography.

Trust is verified with cryptography's web PKI verifier against the system
store or --ca-file; the name is matched here so that a mismatch can be worded
plainly; validity is judged on the verified path (leaf and intermediates, not
extra certificates the path does not use, such as an expired cross-sign).
"""

from __future__ import annotations

import enum
import ipaddress
import re
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import NamedTuple

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509 import DNSName, IPAddress
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from .errors import CertificateError, UsageError
from .handshake import MAX_CHAIN
from .sanitize import clean

_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
DAY = 86400.0


def _key(cert: x509.Certificate) -> tuple[str, str]:
    """(key type, description): ("ECDSA", "ECDSA P-256"), ("RSA", "RSA 2048")."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return "unknown", "unsupported key"
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECDSA", f"ECDSA {_CURVES.get(key.curve.name, key.curve.name)}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA", "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "EdDSA", "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", f"DSA {key.key_size}"
    return "unknown", key.__class__.__name__


def _short_name(name: x509.Name) -> str:
    """The CN if there is one, else the whole name (cleaned for output)."""
    try:
        cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        text = str(cns[0].value) if cns else name.rfc4514_string()
    except ValueError:
        text = "(unreadable name)"
    return clean(text or "(empty name)", 64)


class CertificateFacts(NamedTuple):
    """What one certificate says, ready for judgement and output."""

    cert: x509.Certificate
    subject: str  # cleaned, short (CN)
    issuer: str
    key_type: str  # "ECDSA", "RSA", ...
    key: str  # "ECDSA P-256"
    not_before: datetime
    not_after: datetime
    dns_names: tuple[str, ...]  # raw, for matching only: clean() before output
    ip_addresses: tuple[str, ...]
    fingerprint: str

    @classmethod
    def read(cls, der: bytes) -> CertificateFacts:
        try:
            cert = x509.load_der_x509_certificate(der)
            key_type, key = _key(cert)
            try:
                san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                dns = tuple(san.get_values_for_type(x509.DNSName))
                ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
            except x509.ExtensionNotFound:
                dns, ips = (), ()
            return cls(
                cert=cert,
                subject=_short_name(cert.subject),
                issuer=_short_name(cert.issuer),
                key_type=key_type,
                key=key,
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                dns_names=dns,
                ip_addresses=ips,
                fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
            )
        except ValueError as exc:
            raise CertificateError(f"server sent a certificate that cannot be read: {clean(str(exc))}") from None

    def days_left(self, now: datetime) -> float:
        return (self.not_after - now).total_seconds() / DAY

    def days_until_valid(self, now: datetime) -> float:
        return (self.not_before - now).total_seconds() / DAY

    @property
    def lifetime_days(self) -> float:
        return (self.not_after - self.not_before).total_seconds() / DAY

    @property
    def names(self) -> str:
        """The names the certificate is for, cleaned and bounded, for output."""
        names = self.dns_names + self.ip_addresses
        shown = ", ".join(clean(n, 64) for n in names[:4])
        more = f" and {len(names) - 4} more" if len(names) > 4 else ""
        return (shown + more) or "no subjectAltName"


def matches_name(facts: CertificateFacts, name: str) -> bool:
    """RFC 6125 matching of a DNS name or IP address against the SAN."""
    try:
        wanted_ip = ipaddress.ip_address(name)
    except ValueError:
        wanted_ip = None
    if wanted_ip is not None:
        return any(ipaddress.ip_address(ip) == wanted_ip for ip in facts.ip_addresses)
    wanted = _idna(name).lower().rstrip(".")
    for pattern in facts.dns_names:
        pattern = pattern.lower().rstrip(".")
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "*" not in pattern[2:]:
            head, _, rest = wanted.partition(".")
            if head and rest == pattern[2:] and "." in rest:
                return True
    return False


def _idna(name: str) -> str:
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


class TrustAnchors(NamedTuple):
    store: Store
    subjects: frozenset[x509.Name]
    origin: str


@cache
def load_store(ca_file: str | None, limit: int = 4 * 2**20) -> TrustAnchors:
    """Trust anchors: --ca-file, or the system store OpenSSL uses.

    Only a regular file of at most ``limit`` bytes is read (Debian's whole
    bundle is about 0.2 MiB); a FIFO, a device such as /dev/zero or a
    directory is refused before any byte is read.
    """
    import os
    import stat

    path = ca_file
    if path is None:
        paths = ssl.get_default_verify_paths()
        path = paths.cafile or paths.openssl_cafile
    what = f"--ca-file {ca_file}" if ca_file else f"system trust store {path}"
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it changes nothing for a regular file).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise UsageError(f"{what}: not a regular file")
            if info.st_size > limit:
                raise UsageError(f"{what}: larger than {limit // 2**20} MiB, not a trust store")
            with open(fd, "rb", closefd=False) as handle:
                data = handle.read(limit + 1)
        finally:
            os.close(fd)
        if len(data) > limit:
            raise UsageError(f"{what}: larger than {limit // 2**20} MiB, not a trust store")
        certs = x509.load_pem_x509_certificates(data)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {what}: {exc}") from None
    if not certs:
        raise UsageError(f"no certificates in {path}")
    origin = f"--ca-file {ca_file}" if ca_file else "the system trust store"
    return TrustAnchors(Store(certs), frozenset(c.subject for c in certs), origin)


class ProblemKind(enum.Enum):
    """What is wrong with a served chain (expiry is judged from the days left, not here)."""

    NOT_YET_VALID = "a certificate on the path is not valid yet"
    SELF_SIGNED = "a self-signed certificate the trust anchors do not hold"
    UNTRUSTED_ISSUER = "the chain ends at an issuer the trust anchors do not hold"
    CHAIN_INVALID = "the chain reaches a trust anchor but does not verify"
    NO_SAN = "no subjectAltName: clients cannot match the name"
    NAME_MISMATCH = "the certificate is for other names"


class CertificateProblem(NamedTuple):
    """One problem of a chain, with the facts its words need."""

    kind: ProblemKind
    certificate: CertificateFacts  # the leaf, or the intermediate the problem is about
    position: int  # 0 for the leaf
    wanted: str = ""  # the name checked (NAME_MISMATCH, NO_SAN)
    anchors: str = ""  # where the trust anchors come from (SELF_SIGNED, UNTRUSTED_ISSUER)
    issuer: str = ""  # the unknown issuer (UNTRUSTED_ISSUER)
    detail: str = ""  # the verifier's words, cleaned (CHAIN_INVALID)
    days: float = 0.0  # days until it becomes valid (NOT_YET_VALID)


class ChainReport(NamedTuple):
    """The judgement of one served chain: its path and its problems, typed."""

    leaf: CertificateFacts
    path: tuple[CertificateFacts, ...]  # leaf first; the trust anchor is not included
    sent: int
    trusted: bool | None  # None: not checked (--no-verify-chain, or no name to check)
    problems: tuple[CertificateProblem, ...]  # not yet valid first, then trust, then name
    verifier_detail: str | None  # cryptography's own words, for -v

    @property
    def earliest(self) -> CertificateFacts:
        return min(self.path, key=lambda f: f.not_after)


def _not_yet_valid(path: tuple[CertificateFacts, ...], now: datetime) -> list[CertificateProblem]:
    return [
        CertificateProblem(ProblemKind.NOT_YET_VALID, facts, position, days=facts.days_until_valid(now))
        for position, facts in enumerate(path)
        if facts.not_before > now and facts.not_after > now
    ]


def _walk(facts: list[CertificateFacts]) -> tuple[CertificateFacts, ...]:
    """Leaf plus the sent certificates that chain from it by name (unverified)."""
    path = [facts[0]]
    rest = facts[1:]
    while len(path) <= MAX_CHAIN:
        current = path[-1].cert
        if current.issuer == current.subject:
            break
        parent = next((f for f in rest if f.cert.subject == current.issuer and f not in path), None)
        if parent is None or parent.cert.issuer == parent.cert.subject:
            break  # a self-signed root sent along is the anchor's business, not the path's
        path.append(parent)
    return tuple(path)


_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?$"
)


def _verifier_subject(facts: CertificateFacts, name: str | None) -> DNSName | IPAddress | None:
    """What to hand the verifier: the requested name, or a well-formed one the certificate has."""
    candidates = (
        ([name] if name else []) + list(facts.ip_addresses) + [n.replace("*", "wildcard", 1) for n in facts.dns_names]
    )
    for candidate in candidates:
        try:
            return IPAddress(ipaddress.ip_address(candidate))
        except ValueError:
            pass
        host = _idna(candidate).lower()
        if _HOSTNAME.match(host):
            return DNSName(host)
    return None


def judge_chain(
    chain: Sequence[bytes],
    name: str,
    anchors: TrustAnchors | None,
    now: datetime,
    sent: int | None = None,
) -> ChainReport:
    """Judge a chain (DER, leaf first) for ``name`` (DNS name or IP address).

    ``anchors`` None means trust and name are not judged (--no-verify-chain).
    """
    if not chain:
        raise CertificateError("server sent no certificate")
    facts = [CertificateFacts.read(der) for der in chain]
    leaf = facts[0]
    walked = _walk(facts)
    sent = sent or len(chain)
    if anchors is None:
        return ChainReport(leaf, walked, sent, None, tuple(_not_yet_valid(walked, now)), None)

    name_problem = None
    if not leaf.dns_names and not leaf.ip_addresses:
        name_problem = CertificateProblem(ProblemKind.NO_SAN, leaf, 0, wanted=name)
    elif not matches_name(leaf, name):
        name_problem = CertificateProblem(ProblemKind.NAME_MISMATCH, leaf, 0, wanted=name)
    named = [name_problem] if name_problem else []

    subject = _verifier_subject(leaf, None if name_problem else name)
    if subject is None:
        return ChainReport(leaf, walked, sent, None, tuple(_not_yet_valid(walked, now) + named), None)
    intermediates = [f.cert for f in facts[1:]]
    # First at the real time; if that fails, inside the leaf's validity, so an
    # expired certificate is reported as expired and not as untrusted.
    middle = leaf.not_before + (leaf.not_after - leaf.not_before) / 2
    detail = None
    for moment in (now, middle):
        try:
            verifier = PolicyBuilder().store(anchors.store).time(moment).build_server_verifier(subject)
            verified = verifier.verify(leaf.cert, intermediates)
        except VerificationError as exc:
            detail = detail or clean(str(exc), 300)
            continue
        except ValueError as exc:  # malformed extensions and the like
            detail = detail or clean(str(exc), 300)
            break
        by_cert = {f.cert: f for f in facts}
        # the verified path: leaf and intermediates as sent; the anchor comes from the store
        path = tuple(by_cert[c] for c in verified[:-1] if c in by_cert) or (leaf,)
        return ChainReport(leaf, path, sent, True, tuple(_not_yet_valid(path, now) + named), detail)

    last = walked[-1]
    if len(walked) == 1 and last.cert.issuer == last.cert.subject:
        trust = CertificateProblem(ProblemKind.SELF_SIGNED, last, 0, anchors=anchors.origin)
    elif last.cert.issuer in anchors.subjects:
        trust = CertificateProblem(ProblemKind.CHAIN_INVALID, last, len(walked) - 1, detail=detail or "")
    else:
        issuer = _short_name(last.cert.issuer)
        trust = CertificateProblem(
            ProblemKind.UNTRUSTED_ISSUER, last, len(walked) - 1, anchors=anchors.origin, issuer=issuer
        )
    return ChainReport(leaf, walked, sent, False, tuple([*_not_yet_valid(walked, now), trust, *named]), detail)


def utcnow() -> datetime:
    return datetime.now(UTC)
