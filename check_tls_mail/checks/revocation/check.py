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
from .crl import check_crl
from .fetch import short_name
from .ocsp import check_ocsp
from .status import CertificateRevocation, NotCheckable, RevocationStatus, Source, Unavailability, Unavailable

if TYPE_CHECKING:
    from cryptography import x509

    from ...x509.chain import TrustAnchors


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
    from cryptography import x509

    from ...x509.chain import utcnow

    moment = now or utcnow()
    try:
        cert = x509.load_der_x509_certificate(leaf_der)
        issuer = x509.load_der_x509_certificate(issuer_der)
        ocsp_urls, crl_urls = _urls(cert)
    except ValueError:
        return NotCheckable()
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
    from cryptography import x509

    found = []
    issuers = [*path[1:], anchor]
    for position, (der, issuer) in enumerate(zip(path, issuers, strict=True)):
        if issuer is None:
            break
        try:
            subject = short_name(x509.load_der_x509_certificate(der).subject)
        except ValueError:
            subject = "(unreadable certificate)"
        found.append(Step(position, subject, der, issuer))
    return tuple(found)


def check_path(
    path: Sequence[bytes], anchor: bytes | None, deadline: Deadline, now: datetime | None = None
) -> tuple[CertificateRevocation, ...]:
    """Each certificate of a verified path (DER, leaf first, anchor excluded), checked against its issuer, in turn.

    The last certificate's issuer is ``anchor``; without it, that one is not checked.
    """
    return tuple(
        CertificateRevocation(step.position, step.subject, check(step.certificate, step.issuer, deadline, now))
        for step in steps(path, anchor)
    )


def served_path(chain: Sequence[bytes], anchors: TrustAnchors | None) -> tuple[tuple[bytes, ...], bytes | None]:
    """The path to check in a chain as sent, and the DER of the certificate that issued its last one.

    The path follows issuer names through the sent certificates from the leaf
    (extra certificates are left out, and so is a root the server sent); the
    last issuer is the trust anchor that signed it, else a root the server
    sent, else unknown (None).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        certs = [x509.load_der_x509_certificate(der) for der in chain]
    except ValueError:
        return (), None
    if not certs:
        return (), None
    path = [0]
    while certs[path[-1]].issuer != certs[path[-1]].subject:
        issuer = certs[path[-1]].issuer
        following = next((i for i, c in enumerate(certs) if i not in path and c.subject == issuer), None)
        if following is None:
            break
        path.append(following)
    sent_root = None
    if len(path) > 1 and certs[path[-1]].issuer == certs[path[-1]].subject:
        sent_root = certs[path.pop()]
    last = certs[path[-1]]
    anchor = anchors.issuer_of(last) if anchors is not None else None
    issuer_cert = anchor or sent_root
    return tuple(chain[i] for i in path), issuer_cert.public_bytes(Encoding.DER) if issuer_cert is not None else None


def not_finished(certificate: bytes) -> RevocationStatus:
    """The status of a check that was still waiting for its answer when the time was up."""
    from cryptography import x509

    try:
        ocsp_urls, crl_urls = _urls(x509.load_der_x509_certificate(certificate))
    except ValueError:
        return NotCheckable()
    if ocsp_urls:
        return Unavailable(Source.OCSP, ocsp_urls[0], Unavailability.TIMEOUT, "no answer before the deadline")
    if crl_urls:
        return Unavailable(Source.CRL, crl_urls[0], Unavailability.TIMEOUT, "no answer before the deadline")
    return NotCheckable()
