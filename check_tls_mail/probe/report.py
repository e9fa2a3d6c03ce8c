"""What the server did, probe by probe: ``AddressReport`` per address, and the ``HostReport``.

Probe layer, data only: measured, not judged, and immutable once made.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import ServiceError
from ..records import NamedTuple
from ..tls.versions import TlsVersion
from ..x509.keys import KeyType
from .handshake import Target
from .outcome import Accepted, HandshakeOutcome, Rejected
from .plan import DEFAULT_PROBE, ProbeKey, ProbePlan, Purpose

if TYPE_CHECKING:  # the axes are probed, and their module imported, only for a client whose hello is refused
    from .axes import AxisResult


class SmallHello(NamedTuple):
    """A full handshake whose large ClientHello was dropped, made again with a small hello.

    ``large`` is the large hello's last outcome (a reset or a close, also when made alone after pauses, or no
    answer at all); ``small`` the same offer's with one key exchange group (``group``), whose hello fits one TCP
    segment. ``library`` made both hellos ("OpenSSL 3.5").
    """

    large: HandshakeOutcome
    small: HandshakeOutcome
    group: str
    library: str


class AddressReport(NamedTuple):
    """What the server at one address did, probe by probe. Measured, not judged.

    ``outcomes`` holds each probe's final outcome; ``dropped`` the first
    outcome of the probes whose connection broke in the concurrent wave and
    that were therefore tried again one at a time; ``small`` the full
    handshakes whose large hello was dropped and that were made again with a
    small one (in ``outcomes`` the small hello's outcome when it connected).
    """

    target: Target
    outcomes: Mapping[ProbeKey, HandshakeOutcome]
    dropped: Mapping[ProbeKey, HandshakeOutcome] = MappingProxyType({})
    control: HandshakeOutcome | None = None  # the widest offer tried once more after closes that came again
    #: Profiles whose hello the server refused -> what widening each axis of it showed.
    axes: Mapping[str, tuple["AxisResult", ...]] = MappingProxyType({})
    small: Mapping[ProbeKey, SmallHello] = MappingProxyType({})

    @property
    def primary(self) -> HandshakeOutcome:
        return self.outcomes[DEFAULT_PROBE]

    def large(self, key: ProbeKey) -> HandshakeOutcome:
        """Probe ``key``'s outcome with its own hello: the large hello's when it was made again with a small one."""
        again = self.small.get(key)
        return again.large if again is not None else self.outcomes[key]

    def _of(self, purpose: Purpose) -> dict[Any, HandshakeOutcome]:
        return {key.subject: outcome for key, outcome in self.outcomes.items() if key.purpose is purpose}

    def key_types(self) -> dict[KeyType, HandshakeOutcome]:
        """The TLS 1.2 probes with the suites of one certificate key type, in probe order."""
        return self._of(Purpose.KEY_TYPE)

    def clients(self) -> dict[str, HandshakeOutcome]:
        """The client profiles' probes by profile name, in probe order."""
        return self._of(Purpose.CLIENT)

    def ciphers(self) -> dict[str, HandshakeOutcome]:
        """The --cipher probes by cipher, in probe order."""
        return self._of(Purpose.CIPHER)

    def versions(self) -> dict[TlsVersion, HandshakeOutcome]:
        """The probes of one TLS version each, oldest first."""
        return self._of(Purpose.VERSION)

    @property
    def without_sni(self) -> HandshakeOutcome | None:
        """The widest offer without SNI (probed when a client sends none)."""
        return self.outcomes.get(ProbeKey(Purpose.NO_SNI))

    @property
    def reference(self) -> Accepted | None:
        """The default probe when it connected, else a client's hello answer with certificates (TLS <= 1.2).

        Only when the server refused the default offer itself (the local OpenSSL
        cannot offer what it takes, such as 3DES): any other failure (a client
        certificate required, a dropped connection) is the service's for every client.
        """
        primary = self.primary
        if isinstance(primary, Accepted):
            return primary
        if not (isinstance(primary, Rejected) and primary.refused_offer):
            return None
        answers = self.clients().values()
        return next((o for o in answers if isinstance(o, Accepted) and o.chain), None)


class HostReport(NamedTuple):
    """Every address of the service, each with its AddressReport, and what the optional checks measured."""

    plan: ProbePlan
    error: ServiceError | None  # the name could not be resolved at all
    addresses: tuple[AddressReport, ...]
    addresses_found: int  # before the cut at MAX_ADDRESSES
    seconds: float
    #: Each optional check's name -> what its lookup measured (its own type; see checks/).
    extras: Mapping[str, object] = MappingProxyType({})


def dropped(outcome: HandshakeOutcome) -> bool:
    """The connection broke (refused, reset, closed, timed out, turned away): worth a second try."""
    return not isinstance(outcome, Accepted) and outcome.dropped
