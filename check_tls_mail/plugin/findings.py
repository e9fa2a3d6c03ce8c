"""Findings: the typed values the resource hands to the contexts, and the one function that labels them.

Each finding names its subject (the address, which certificate, which client
profile, cipher or TLS version), so that a context judges it alone and the
summary words it without reading any metric name back. ``label`` makes the
metric name, which is also the perfdata label; nothing parses it. The optional
checks' findings (checks/) give their stem; ``label`` adds which certificate
and which address, as for every other finding.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from nagiosplugin import Metric

from ..errors import ServiceError
from ..judgement.assessment import AddressAssessment, CipherResult, ClientResult, Origin, Served
from ..probe.outcome import HandshakeOutcome
from ..records import NamedTuple
from ..tls.versions import TlsVersion
from ..x509.certificate import Certificate

if TYPE_CHECKING:  # a FirstHello is made only when the first hello failed, after the diagnosis is imported
    from ..judgement.diagnosis import Diagnosis


class ServiceDown(NamedTuple):
    """The service could not be probed (at this address, or at all when ``address`` is None)."""

    address: AddressAssessment | None
    failure: HandshakeOutcome | ServiceError


class FirstHello(NamedTuple):
    """The first handshake's large ClientHello was dropped while the same offer with a small hello connected."""

    address: AddressAssessment
    diagnosis: "Diagnosis"  # AddressAssessment.first_hello
    library: str  # what made the hellos ("OpenSSL 3.5")


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


class LifetimeUsed(NamedTuple):
    """The share of a served certificate's lifetime gone, in percent, for the one nearest its end at an
    address: the expiry thresholds as plain upper bounds, which every engine's perfdata parser reads (Icinga 2
    ignores ranges such as "18:")."""

    address: AddressAssessment
    served: Served
    percent: float
    lifetime: float  # in days


class ClientTried(NamedTuple):
    address: AddressAssessment
    result: ClientResult
    #: The service itself could not be probed (no handshake completed): its words say why, once.
    service_down: bool = False


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


class CheckFinding(Protocol):
    """A finding of an optional check (checks/): its subject, and the stem of its metric name."""

    @property
    def address(self) -> AddressAssessment | None: ...

    @property
    def served(self) -> Served | None: ...

    @property
    def stem(self) -> str: ...


Finding = (
    ServiceDown
    | FirstHello
    | Elapsed
    | ChainJudged
    | Expiry
    | LifetimeUsed
    | ClientTried
    | CipherTried
    | AcceptedCount
    | Versions
    | CheckFinding
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
        return f"_client{served.ordinal or ''}"
    key = served.key_type.value.lower() if served.key_type is not None else "unsupported"
    return f"_{key}{served.ordinal or ''}"


def label(finding: Finding) -> str:
    """The metric name and perfdata label: what, which certificate, and the address when there are several."""
    tag = _tag(finding.address)
    if isinstance(finding, ServiceDown):
        return f"service{tag}"
    if isinstance(finding, FirstHello):
        return f"first_hello{tag}"
    if isinstance(finding, Elapsed):
        return f"{'handshake' if finding.address else 'probes'}_time{tag}"
    if isinstance(finding, ChainJudged):
        return f"chain{_which(finding.served)}{tag}"
    if isinstance(finding, Expiry):
        return f"days_{'chain' if finding.intermediate else 'remaining'}{_which(finding.served)}{tag}"
    if isinstance(finding, LifetimeUsed):
        return f"lifetime_used{tag}"
    if isinstance(finding, ClientTried):
        return f"client {finding.result.profile.name}{tag}"
    if isinstance(finding, CipherTried):
        return f"cipher {finding.result.cipher}{tag}"
    if isinstance(finding, AcceptedCount):
        return f"{'ciphers' if finding.ciphers else 'clients'}_ok{tag}"
    if isinstance(finding, Versions):
        return f"tls_versions{tag}"
    served = finding.served
    return f"{finding.stem}{_which(served) if served is not None else ''}{tag}"


def metric(finding: Finding, context: str) -> Metric:
    """A metric named by ``label`` whose value is the finding itself."""
    return Metric(label(finding), finding, context=context)
