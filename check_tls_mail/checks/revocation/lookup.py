"""Revocation's lookup (--revocation): has the CA revoked a served certificate? Each path planned and checked.

OCSP where the certificate names a responder (AIA), else the CRL from its
distribution point, over plain HTTP with http.client and cryptography's OCSP
and CRL support (ocsp.py, crl.py). Every answer is verified: signed by the
issuer (or, for OCSP, by a responder the issuer authorised with
id-kp-OCSPSigning), about this certificate, and fresh. Unreachable or unusable
answers are a soft failure, as clients treat them. Bounded in time (the
deadline) and size. cryptography is imported only when a check runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from ...net.transport import Deadline
from ...records import NamedTuple
from ...x509.parse import read
from ...x509.path import by_name
from .crl import check_crl
from .ocsp import check_ocsp
from .status import CertificateRevocation, NotCheckable, RevocationStatus, Source, Unavailability, Unavailable

if TYPE_CHECKING:
    from cryptography import x509

    from ...probe.report import AddressReport, HostReport
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


def served_chains(reports: Sequence[AddressReport]) -> list[tuple[bytes, ...]]:
    """Each distinct chain the servers sent, in the order first seen: the reference probe's (as the assessment
    takes it: the default probe, or a client's answer when the server refused the default offer), the
    key-type probes' and the no-SNI probe's."""
    from ...probe.outcome import Accepted

    chains: dict[tuple[bytes, ...], None] = {}
    for report in reports:
        for outcome in [report.reference, *report.key_types().values(), report.without_sni]:
            if isinstance(outcome, Accepted) and outcome.chain:
                chains[tuple(outcome.chain)] = None
    return list(chains)


class RevocationLookup:
    """--revocation after the handshakes: every certificate of every distinct served path, each asked once,
    all at once, by the deadline."""

    def __init__(self, ca_file: str | None, parallel: int) -> None:
        self.ca_file = ca_file
        self.parallel = parallel

    def finish(
        self, report: HostReport, deadline: Deadline
    ) -> Mapping[tuple[bytes, ...], tuple[CertificateRevocation, ...]]:
        from ...errors import UsageError
        from ...probe.workers import run_until
        from ...x509.store import load_store

        anchors: TrustAnchors | None
        try:
            anchors = load_store(self.ca_file)
        except UsageError:  # no trust store: the last intermediate is not checked (the chain judgement says why)
            anchors = None
        planned = {chain: steps(*served_path(chain, anchors)) for chain in served_chains(report.addresses)}
        pairs = list(dict.fromkeys((step.certificate, step.issuer) for found in planned.values() for step in found))
        jobs = [(lambda pair=pair: check(pair[0], pair[1], deadline)) for pair in pairs]
        answers = dict(zip(pairs, run_until(jobs, self.parallel, deadline), strict=True))
        return MappingProxyType(
            {
                chain: tuple(
                    CertificateRevocation(
                        step.position,
                        step.subject,
                        answers[step.certificate, step.issuer] or not_finished(step.certificate),
                    )
                    for step in found
                )
                for chain, found in planned.items()
            }
        )
