"""Revocation (--revocation): has the CA revoked a served certificate? The path to check, each certificate checked.

OCSP where the certificate names a responder (AIA), else the CRL from its
distribution point, over plain HTTP with http.client and cryptography's OCSP
and CRL support (ocsp.py, crl.py). Every answer is verified: signed by the
issuer (or, for OCSP, by a responder the issuer authorised with
id-kp-OCSPSigning), about this certificate, and fresh. Unreachable or unusable
answers are a soft failure, as clients treat them. Bounded in time (the
deadline) and size. cryptography is imported only when a check runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from ...net.transport import Deadline
from ...x509.parse import read
from ...x509.path import by_name
from .crl import check_crl
from .ocsp import check_ocsp
from .status import NotCheckable, RevocationStatus, Source, Unavailability, Unavailable

if TYPE_CHECKING:
    from cryptography import x509

    from ...x509.store import TrustAnchors


def _urls(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """(OCSP responder URLs, CRL URLs), http(s) only."""
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID

    def web(name: x509.GeneralName) -> str | None:
        if isinstance(name, x509.UniformResourceIdentifier) and name.value.lower().startswith(("http://", "https://")):
            return str(name.value)
        return None

    ocsp_urls: list[str] = []
    crl_urls: list[str] = []
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        for access in aia:
            url = web(access.access_location)
            if access.access_method == AuthorityInformationAccessOID.OCSP and url:
                ocsp_urls.append(url)
    except (x509.ExtensionNotFound, ValueError):
        pass
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        for point in points:
            if point.crl_issuer:  # indirect CRLs: not supported
                continue
            crl_urls += [url for url in (web(n) for n in point.full_name or ()) if url]
    except (x509.ExtensionNotFound, ValueError):
        pass
    return ocsp_urls, crl_urls


def check(leaf_der: bytes, issuer_der: bytes, deadline: Deadline, now: datetime | None = None) -> RevocationStatus:
    """The revocation status of one certificate, given the certificate that issued it (DER)."""
    from ...x509.chain import utcnow

    moment = now or utcnow()
    cert, issuer = read(leaf_der).crypto, read(issuer_der).crypto
    if cert is None or issuer is None:
        return NotCheckable()
    ocsp_urls, crl_urls = _urls(cert)
    if ocsp_urls:
        return check_ocsp(ocsp_urls[0], cert, issuer, deadline, moment)
    if crl_urls:
        return check_crl(crl_urls[0], cert, issuer, deadline, moment)
    return NotCheckable()


class Step(NamedTuple):
    """One certificate of a path to check, with the certificate that issued it (DER)."""

    position: int
    subject: str  # cleaned, short
    certificate: bytes
    issuer: bytes


def steps(path: Sequence[bytes], anchor: bytes | None) -> tuple[Step, ...]:
    """The checks a path needs (DER, leaf first, anchor excluded); the last one's issuer is ``anchor``.

    Without ``anchor`` the last certificate is not checked.
    """
    found = []
    issuers = [*path[1:], anchor]
    for position, (der, issuer) in enumerate(zip(path, issuers, strict=True)):
        if issuer is None:
            break
        found.append(Step(position, read(der).subject, der, issuer))
    return tuple(found)


def served_path(chain: Sequence[bytes], anchors: TrustAnchors | None) -> tuple[tuple[bytes, ...], bytes | None]:
    """The path to check in a chain as sent, and the DER of the certificate that issued its last one.

    The path follows issuer names through the sent certificates from the leaf
    (extra certificates are left out, and so is a root the server sent); the
    last issuer is the trust anchor that signed it, else a root the server
    sent, else unknown (None).
    """
    certs = [read(der) for der in chain]
    if not certs or any(cert.crypto is None for cert in certs):
        return (), None
    path, sent_root = by_name(certs)
    anchor = anchors.issuer_of(path[-1]) if anchors is not None else None
    issuer = anchor or sent_root
    return tuple(cert.der for cert in path), issuer.der if issuer is not None else None


def not_finished(certificate: bytes) -> RevocationStatus:
    """The status of a check that was still waiting for its answer when the time was up."""
    cert = read(certificate).crypto
    if cert is None:
        return NotCheckable()
    ocsp_urls, crl_urls = _urls(cert)
    if ocsp_urls:
        return Unavailable(Source.OCSP, ocsp_urls[0], Unavailability.TIMEOUT, "no answer before the deadline")
    if crl_urls:
        return Unavailable(Source.CRL, crl_urls[0], Unavailability.TIMEOUT, "no answer before the deadline")
    return NotCheckable()
