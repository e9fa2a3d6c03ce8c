"""A served chain judged: ``judge_chain`` reads it (each certificate once) and judges it with verify.py.

Trust and name are judged as OpenSSL-based clients judge them (verify.py)
against the system store or --ca-file; validity is judged on the verified
path (leaf and intermediates, not extra certificates the path does not use,
such as an expired cross-sign). Reading never raises on a malformed
certificate (parse.py): its defects are problems like any other.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from ..errors import CertificateError
from ..records import NamedTuple
from .certificate import Certificate
from .fields import Malformation
from .names import name_matches
from .parse import read
from .path import by_name
from .problems import NAME_KINDS, VALIDITY_KINDS, CertificateProblem, ProblemKind, Role
from .store import TrustAnchors
from .verify import verify


def matches_name(cert: Certificate, name: str) -> bool:
    """Whether the certificate is for ``name`` (DNS name, trailing dot allowed, or IP address), as OpenSSL matches."""
    return name_matches(cert, name)


def readable(der: bytes) -> Certificate:
    """The certificate, when it is a certificate at all; else the server sent something no client can use.

    The DER walk decides (what OpenSSL's own reading let through the handshake); what is malformed in a
    certificate it reads is a defect, judged with the chain."""
    cert = read(der)
    if any(defect.what is Malformation.UNREADABLE for defect in cert.defects):
        raise CertificateError("server sent a certificate that cannot be read: it is not a DER X.509 certificate")
    if cert.not_before is None or cert.not_after is None:  # OpenSSL: error 13/14, no client goes on
        raise CertificateError("server sent a certificate that cannot be read: its validity dates cannot be read")
    return cert


class ChainReport(NamedTuple):
    """The judgement of one served chain: its path and its problems, typed."""

    leaf: Certificate
    path: tuple[Certificate, ...]  # leaf first; the trust anchor is not included
    sent: int
    trusted: bool | None  # None: not checked (--no-verify-chain)
    problems: tuple[CertificateProblem, ...]  # not yet valid on the path first, then trust, then the name

    @property
    def earliest(self) -> Certificate:
        return min(self.path, key=lambda c: c.valid_until)


def _not_yet_valid(path: tuple[Certificate, ...], now: datetime) -> list[CertificateProblem]:
    return [
        CertificateProblem(
            ProblemKind.NOT_YET_VALID,
            position,
            Role.CERTIFICATE if position == 0 else Role.INTERMEDIATE,
            cert.subject,
            moment=cert.valid_from,
            days=cert.days_until_valid(now),
        )
        for position, cert in enumerate(path)
        if cert.valid_from > now and cert.valid_until > now
    ]


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
    certs = [readable(der) for der in chain]
    leaf = certs[0]
    sent = sent or len(chain)
    if anchors is None:
        walked, _root = by_name(certs)
        return ChainReport(leaf, walked, sent, None, tuple(_not_yet_valid(walked, now)))

    verdict = verify(chain, name, anchors, now)
    given = {c.der for c in certs}
    path = [c for c in verdict.path if c.der in given] or [leaf]
    if len(path) > 1 and path[-1].self_issued:
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
