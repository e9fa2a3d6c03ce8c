"""Certificate judgement: the chain the server sent, read, and judged by trust.verify.

Trust and name are judged as OpenSSL-based clients judge them (trust.py)
against the system store or --ca-file; validity is judged on the verified
path (leaf and intermediates, not extra certificates the path does not use,
such as an expired cross-sign). Reading never raises on a malformed
certificate (certparse.py): its defects are problems like any other.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import NamedTuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from ..errors import CertificateError, UsageError
from ..probe.handshake import MAX_CHAIN
from ..sanitize import clean
from .fields import ParsedCertificate, load
from .names import name_matches
from .parse import parse
from .path import Anchors
from .problems import NAME_KINDS, VALIDITY_KINDS, CertificateProblem, ProblemKind, Role
from .verify import verify

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
    parsed: ParsedCertificate  # names as DER and every extension verification uses, read without raising

    @classmethod
    def read(cls, der: bytes) -> CertificateFacts:
        parsed = parse(der)
        try:
            cert = load(der)
            key_type, key = _key(cert)
            return cls(
                cert=cert,
                subject=parsed.subject,
                issuer=parsed.issuer,
                key_type=key_type,
                key=key,
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                dns_names=parsed.dns_names,
                ip_addresses=parsed.ip_addresses,
                fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
                parsed=parsed,
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
    """Whether the certificate is for ``name`` (DNS name, trailing dot allowed, or IP address), as OpenSSL matches."""
    return name_matches(facts.parsed, name)


class TrustAnchors(NamedTuple):
    anchors: Anchors
    origin: str

    def issuer_of(self, cert: x509.Certificate) -> x509.Certificate | None:
        """The anchor that signed ``cert`` (name and signature), or None (revocation of the last intermediate)."""
        from cryptography.hazmat.primitives.serialization import Encoding  # only --revocation asks

        issued = parse(cert.public_bytes(Encoding.DER))
        for candidate in self.anchors.named(issued.issuer_der, issued.issuer_key):
            try:
                anchor = x509.load_der_x509_certificate(candidate.der)
                cert.verify_directly_issued_by(anchor)
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                continue
            return anchor
        return None


def _pem_blocks(data: bytes) -> list[bytes]:
    """The DER of each PEM certificate in ``data`` (ValueError for a block that is not base64)."""
    import base64
    import re

    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", data, re.S)
    try:
        return [base64.b64decode(b"".join(block.split()), validate=True) for block in blocks]
    except ValueError as exc:
        raise ValueError(f"a certificate block is not base64: {exc}") from None


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
        certs = _pem_blocks(data)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {what}: {exc}") from None
    if not certs:
        raise UsageError(f"no certificates in {path}")
    origin = f"--ca-file {ca_file}" if ca_file else "the system trust store"
    return TrustAnchors(Anchors(certs, origin), origin)


class ChainReport(NamedTuple):
    """The judgement of one served chain: its path and its problems, typed."""

    leaf: CertificateFacts
    path: tuple[CertificateFacts, ...]  # leaf first; the trust anchor is not included
    sent: int
    trusted: bool | None  # None: not checked (--no-verify-chain)
    problems: tuple[CertificateProblem, ...]  # not yet valid on the path first, then trust, then the name

    @property
    def earliest(self) -> CertificateFacts:
        return min(self.path, key=lambda f: f.not_after)


def _not_yet_valid(path: tuple[CertificateFacts, ...], now: datetime) -> list[CertificateProblem]:
    return [
        CertificateProblem(
            ProblemKind.NOT_YET_VALID,
            position,
            Role.CERTIFICATE if position == 0 else Role.INTERMEDIATE,
            facts.subject,
            moment=facts.not_before,
            days=facts.days_until_valid(now),
        )
        for position, facts in enumerate(path)
        if facts.not_before > now and facts.not_after > now
    ]


def _walk(facts: list[CertificateFacts]) -> tuple[CertificateFacts, ...]:
    """Leaf plus the sent certificates that chain from it by name (unverified)."""
    path = [facts[0]]
    rest = facts[1:]
    while len(path) <= MAX_CHAIN:
        current = path[-1].parsed
        if current.self_issued:
            break
        parent = next((f for f in rest if f.parsed.subject_der == current.issuer_der and f not in path), None)
        if parent is None or parent.parsed.self_issued:
            break  # a self-signed root sent along is the anchor's business, not the path's
        path.append(parent)
    return tuple(path)


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
    sent = sent or len(chain)
    if anchors is None:
        walked = _walk(facts)
        return ChainReport(leaf, walked, sent, None, tuple(_not_yet_valid(walked, now)))

    verdict = verify(chain, name, anchors.anchors, now)
    by_der = {f.parsed.der: f for f in facts}
    path = [by_der[c.der] for c in verdict.path if c.der in by_der] or [leaf]
    if len(path) > 1 and path[-1].parsed.self_issued:
        path.pop()  # a self-signed root sent along is the anchor's business, not the path's
    on_path = len(verdict.path)
    # Expiry on the path is judged from the days left (the expiry findings); not yet valid is said here.
    dated = [p for p in verdict.problems if p.kind is ProblemKind.NOT_YET_VALID and p.position < on_path]
    chained = [
        p
        for p in verdict.problems
        if p.kind not in NAME_KINDS and not (p.kind in VALIDITY_KINDS and p.position < on_path)
    ]
    named = [p for p in verdict.problems if p.kind in NAME_KINDS][:1]
    return ChainReport(leaf, tuple(path), sent, not chained, tuple(dated + chained + named))


def utcnow() -> datetime:
    return datetime.now(UTC)
