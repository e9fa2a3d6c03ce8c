"""Findings: the typed values the resource hands to the contexts, and the one function that labels them.

Each finding names its subject (the address, which certificate, which client
profile, cipher or TLS version), so that a context judges it alone and the
summary words it without reading any metric name back. ``label`` makes the
metric name, which is also the perfdata label; nothing parses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from ..errors import ServiceError
from ..judgement.assessment import AddressAssessment, CipherResult, ClientResult, Origin, Served
from ..probe.handshake import HandshakeOutcome
from ..probe.report import TlsaState
from ..tls.versions import TlsVersion
from ..x509.certificate import Certificate

if TYPE_CHECKING:
    from ..checks.mtasts.judge import MtaStsFinding
    from ..checks.renewal.judge import Deployment, NameCoverage
    from ..checks.revocation.status import CertificateRevocation


class ServiceDown(NamedTuple):
    """The service could not be probed (at this address, or at all when ``address`` is None)."""

    address: AddressAssessment | None
    failure: HandshakeOutcome | ServiceError


class Elapsed(NamedTuple):
    """Seconds: the default probe's (``address`` set) or all probes' together (``address`` None)."""

    address: AddressAssessment | None
    seconds: float


class ChainJudged(NamedTuple):
    """Trust, name and validity of one served chain."""

    address: AddressAssessment
    served: Served


class Expiry(NamedTuple):
    """Days left of one served certificate, or of an intermediate on its path that expires first."""

    address: AddressAssessment
    served: Served
    certificate: Certificate
    intermediate: bool
    days: float
    lifetime: float  # of the leaf, in days: percentage thresholds are resolved against it


class ClientTried(NamedTuple):
    address: AddressAssessment
    result: ClientResult


class CipherTried(NamedTuple):
    address: AddressAssessment
    result: CipherResult


class AcceptedCount(NamedTuple):
    """How many of the clients (``ciphers`` False) or required ciphers connected."""

    address: AddressAssessment
    ciphers: bool
    accepted: int
    total: int


class Versions(NamedTuple):
    """Each TLS version probed alone."""

    address: AddressAssessment
    outcomes: Mapping[TlsVersion, HandshakeOutcome]


class DaneJudged(NamedTuple):
    """The TLSA lookup and its match against one served chain."""

    address: AddressAssessment
    served: Served
    tlsa: TlsaState


class Deployed(NamedTuple):
    """--expect-cert: one served certificate against the certificates in the files on disk."""

    address: AddressAssessment
    served: Served
    deployment: Deployment


class RequiredNames(NamedTuple):
    """--require-name: whether one served certificate covers every required name."""

    address: AddressAssessment
    served: Served
    coverage: NameCoverage


class RevocationChecked(NamedTuple):
    """--revocation: one certificate of a served path (position 0 is the leaf) as its OCSP responder or CRL says."""

    address: AddressAssessment
    served: Served
    checked: CertificateRevocation


class MtaStsJudged(NamedTuple):
    """--mta-sts: one finding about the domain's records and policy (no address), or a chain the policy rejects."""

    address: AddressAssessment | None
    served: Served | None  # set for the policy's verdict on one served chain
    finding: MtaStsFinding


Finding = (
    ServiceDown
    | Elapsed
    | ChainJudged
    | Expiry
    | ClientTried
    | CipherTried
    | AcceptedCount
    | Versions
    | DaneJudged
    | Deployed
    | RequiredNames
    | RevocationChecked
    | MtaStsJudged
)


def _tag(address: AddressAssessment | None) -> str:
    return f"@{address.shown_as}" if address is not None and address.shown_as else ""


def _which(served: Served) -> str:
    """Which certificate of an address: '' (the default), '_rsa', '_ecdsa2', '_nosni', '_client'."""
    if served.default:
        return ""
    if served.origin is Origin.WITHOUT_SNI:
        return "_nosni"
    if served.origin is Origin.CLIENT:
        return "_client"
    key = served.key_type.value.lower() if served.key_type is not None else "unsupported"
    return f"_{key}{served.ordinal or ''}"


def label(finding: Finding) -> str:
    """The metric name and perfdata label: what, which certificate, and the address when there are several."""
    tag = _tag(finding.address)
    if isinstance(finding, ServiceDown):
        return f"service{tag}"
    if isinstance(finding, Elapsed):
        return f"{'handshake' if finding.address else 'probes'}_time{tag}"
    if isinstance(finding, ChainJudged):
        return f"chain{_which(finding.served)}{tag}"
    if isinstance(finding, Expiry):
        return f"days_{'chain' if finding.intermediate else 'remaining'}{_which(finding.served)}{tag}"
    if isinstance(finding, ClientTried):
        return f"client {finding.result.profile.name}{tag}"
    if isinstance(finding, CipherTried):
        return f"cipher {finding.result.cipher}{tag}"
    if isinstance(finding, AcceptedCount):
        return f"{'ciphers' if finding.ciphers else 'clients'}_ok{tag}"
    if isinstance(finding, Versions):
        return f"tls_versions{tag}"
    if isinstance(finding, Deployed):
        return f"expect_cert{_which(finding.served)}{tag}"
    if isinstance(finding, RequiredNames):
        return f"required_names{_which(finding.served)}{tag}"
    if isinstance(finding, RevocationChecked):
        position = finding.checked.position
        return f"revocation{f'_chain{position}' if position else ''}{_which(finding.served)}{tag}"
    if isinstance(finding, MtaStsJudged):
        if finding.served is not None:
            return f"mta_sts_certificate{_which(finding.served)}{tag}"
        return _mta_sts_label(finding.finding)
    return f"dane{_which(finding.served)}{tag}"


def _mta_sts_label(finding: MtaStsFinding) -> str:
    """One label per kind of MTA-STS finding about the domain; the fetched policy's carries max_age as perfdata."""
    from ..checks.mtasts import judge as mtasts
    from ..checks.mtasts import policy as mtastspolicy
    from ..checks.mtasts import records as mtastsrecords

    if isinstance(finding, mtastspolicy.PolicyFetched):
        return "mta_sts_max_age"
    if isinstance(finding, mtasts.MaxAgeShort):
        return "mta_sts_short_max_age"
    if isinstance(finding, mtasts.HostListed | mtasts.HostNotListed):
        return "mta_sts_mx"
    if isinstance(finding, mtasts.ModeNone):
        return "mta_sts_mode"
    if isinstance(finding, mtasts.HostCertificateUnverified):
        return "mta_sts_certificate"
    if isinstance(finding, mtastsrecords.StsRecord):
        return "mta_sts_record"
    if isinstance(finding, mtastsrecords.TlsRptRecord):
        return "tls_rpt"
    if isinstance(
        finding,
        mtastsrecords.RecordAbsent
        | mtastsrecords.RecordInvalid
        | mtastsrecords.LookupFailed
        | mtastsrecords.LookupNotFinished,
    ):
        return "tls_rpt" if finding.kind is mtastsrecords.RecordKind.TLSRPT else "mta_sts_record"
    return "mta_sts_policy"
