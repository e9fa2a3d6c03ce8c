"""Why a client cannot connect, as a typed diagnosis; wording.py puts it in an operator's words.

Works from facts the probes measured: the leaf's key type, which key types the
server completes TLS 1.2 handshakes for (the ECDSA-only and RSA-only probes),
which TLS alerts it sent, and what the failing client offered.
"""

import enum
from typing import TYPE_CHECKING

from ..clients.offer import ClientOffer
from ..probe.axes import Axis, AxisResult
from ..probe.handshake import context_for
from ..probe.outcome import LARGE_HELLO, Accepted, Failed, HandshakeCause, HandshakeOutcome, Rejected
from ..probe.report import AddressReport
from ..records import NamedTuple
from ..tls.alerts import Alert
from ..tls.versions import TlsVersion
from ..x509.keys import KeyType
from ..x509.problems import CertificateProblem

if TYPE_CHECKING:
    from .violations import Violation

#: OpenSSL's names (SSLContext.get_ciphers()) of the certificate key types a suite authenticates with.
_AUTH = {"auth-rsa": KeyType.RSA, "auth-ecdsa": KeyType.ECDSA}


class Why(enum.Enum):
    """The reason an offer failed against this server."""

    FAILED_BEFORE_HANDSHAKE = "the probe failed before the handshake"
    CONNECTION_LOST = "the connection broke during the handshake (reset, or closed without an alert)"
    #: Dropped each time, also alone after pauses, while other connections got through: a connection limit or a
    #: flaky path, not this client's verdict (WARNING).
    NOT_PROBED = "the client's probe was dropped each time while other connections got through"
    #: Dropped each time, while smaller hellos got through: a middlebox or the server drops large ClientHellos
    #: (a post-quantum key share makes a hello span two TCP segments).
    LARGE_HELLO_DROPPED = "the client's large ClientHello is dropped while smaller hellos connect"
    CLIENT_CERTIFICATE = "the server requires a client certificate"
    AFTER_SERVER_HELLO = "the server agreed on a version and a suite, then failed the handshake"
    #: The server answered with a ServerHello (and flight) the client cannot go on with: the client ends it.
    CLIENT_ABORTS = "the server's answer breaks what the client checks, so the client ends the handshake"
    OTHER_REFUSAL = "the server refused the offer with an alert that is not about suites or versions"
    GROUPS = "the server takes none of the client's groups (key exchange)"
    TLS13_SUITES = "the server takes none of the client's TLS 1.3 suites"
    SIGNATURE_ALGORITHMS = "the server's certificate needs a signature algorithm the client does not offer"
    CERTIFICATE = "the client connects, then refuses the certificate the server gives it"
    #: The client's hello gets a chain no other probe got, and that chain fails trust, name or dates.
    OWN_CERTIFICATE = "the client gets a certificate of its own, which fails verification"
    REQUIRES_TLS13 = "the server requires TLS 1.3 and the offer stops at TLS 1.2"
    NO_COMMON_VERSION = "the server accepts none of the offered versions"
    SERVER_TOO_OLD = "the server's newest version is older than the offer's oldest"
    NO_SUITE_FOR_KEY_TYPE = "the server accepts no TLS 1.2 suite for its own certificate's key type"
    #: Other clients connect over TLS <= 1.2 with suites the local OpenSSL cannot offer (3DES): the server has
    #: TLS 1.2 suites, just none that this client offers.
    SUITES_OF_OTHERS = "the server takes TLS 1.2 suites from other clients, none of which this client offers"
    KEY_TYPE_MISMATCH = "the server's certificates and the offer's suites are for different key types"
    NO_COMMON_SUITE = "the server accepts none of the offered TLS 1.2 suites"


class Diagnosis(NamedTuple):
    why: Why
    outcome: HandshakeOutcome
    offer: ClientOffer
    server_version: TlsVersion | None = None  # what the widest offer negotiated
    key_type: KeyType | None = None  # the certificate's key type (NO_SUITE_FOR_KEY_TYPE)
    served: tuple[KeyType, ...] = ()  # key types the server completes TLS 1.2 for (KEY_TYPE_MISMATCH)
    offered: tuple[KeyType, ...] = ()  # key types the offer has suites for (KEY_TYPE_MISMATCH)
    axis: AxisResult | None = None  # GROUPS, TLS13_SUITES, SIGNATURE_ALGORITHMS: what widening it showed
    violations: tuple["Violation", ...] = ()  # CERTIFICATE: the client's rules the certificate breaks
    client: str = ""  # the client's name, for words that name it twice
    #: NO_SUITE_FOR_KEY_TYPE: the server closed without an alert, so a TLS 1.2 switched off looks the same.
    silent: bool = False
    suites: tuple[str, ...] = ()  # SUITES_OF_OTHERS: the TLS <= 1.2 suites the clients that connect were given
    problems: tuple[CertificateProblem, ...] = ()  # OWN_CERTIFICATE: what is wrong with the chain it gets
    #: LARGE_HELLO_DROPPED: the size of this client's hello and of the largest hello that got through, in bytes.
    sizes: tuple[int, int] = (0, 0)


def offered_key_types(offer: ClientOffer) -> set[KeyType]:
    """Certificate key types the offer has TLS <= 1.2 suites for."""
    ctx = context_for(offer)
    return {_AUTH[c["auth"]] for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3" and c.get("auth") in _AUTH}


def server_refuses_tls12(report: AddressReport) -> bool:
    """Every TLS 1.2 probe was refused with a protocol_version alert."""
    outcomes = list(report.key_types().values())
    return bool(outcomes) and all(isinstance(o, Rejected) and o.alert is Alert.protocol_version for o in outcomes)


def tls12_suites_of_clients(report: AddressReport) -> tuple[str, ...]:
    """The suites the server chose for the client hellos it accepted over TLS <= 1.2, each once."""
    return tuple(
        dict.fromkeys(
            outcome.cipher
            for outcome in report.clients().values()
            if isinstance(outcome, Accepted) and outcome.version <= TlsVersion.TLS1_2
        )
    )


def accepted_key_types(report: AddressReport) -> set[KeyType]:
    """Key types for which the server completed a TLS 1.2 handshake."""
    return {kt for kt, outcome in report.key_types().items() if isinstance(outcome, Accepted)}


_AXIS_WHY = {
    Axis.GROUPS: Why.GROUPS,
    Axis.TLS13_SUITES: Why.TLS13_SUITES,
    Axis.SIGNATURE_ALGORITHMS: Why.SIGNATURE_ALGORITHMS,
}


def diagnose(
    offer: ClientOffer,
    outcome: Rejected | Failed,
    report: AddressReport,
    leaf_key_type: KeyType | None,
    axes: tuple[AxisResult, ...] = (),
    client: str = "",
) -> Diagnosis:
    """Why ``offer`` failed against this server; ``axes``: what widening each axis of the client's hello showed."""
    if isinstance(outcome, Failed):
        return Diagnosis(Why.FAILED_BEFORE_HANDSHAKE, outcome, offer)
    if outcome.dropped:
        return Diagnosis(Why.CONNECTION_LOST, outcome, offer)
    if outcome.wants_client_certificate:
        return Diagnosis(Why.CLIENT_CERTIFICATE, outcome, offer)
    if outcome.cause is HandshakeCause.CHOICE_REFUSED:
        return Diagnosis(Why.CLIENT_ABORTS, outcome, offer)
    if outcome.server_hello:
        return Diagnosis(Why.AFTER_SERVER_HELLO, outcome, offer)
    primary = report.primary
    best = primary.version if isinstance(primary, Accepted) else None
    if offer.max_version < TlsVersion.TLS1_3 and (
        outcome.alert is Alert.protocol_version or server_refuses_tls12(report)
    ):
        why = Why.REQUIRES_TLS13 if best is TlsVersion.TLS1_3 else Why.NO_COMMON_VERSION
        return Diagnosis(why, outcome, offer, best)
    if best is not None and best < offer.min_version:
        return Diagnosis(Why.SERVER_TOO_OLD, outcome, offer, best)
    if not outcome.refused_offer:
        return Diagnosis(Why.OTHER_REFUSAL, outcome, offer, best)
    # From here on the server refused this very offer: its suites can be blamed.
    widened = next((result for result in axes if result.accepted), None)
    axis = (
        Diagnosis(_AXIS_WHY[widened.axis], outcome, offer, best, key_type=leaf_key_type, axis=widened, client=client)
        if widened is not None
        else None
    )
    if best is TlsVersion.TLS1_3 and offer.max_version >= TlsVersion.TLS1_3:
        # The server picks TLS 1.3 for a client that offers it: no TLS 1.2 suite or key type is why.
        return axis or Diagnosis(Why.OTHER_REFUSAL, outcome, offer, best)
    served = accepted_key_types(report)
    own = report.key_types().get(leaf_key_type) if leaf_key_type is not None else None
    if not served and isinstance(own, Rejected) and own.refused_suites and not server_refuses_tls12(report):
        others = tls12_suites_of_clients(report)
        if others:
            return Diagnosis(Why.SUITES_OF_OTHERS, outcome, offer, best, key_type=leaf_key_type, suites=others)
        silent = own.closed_in_answer and best is TlsVersion.TLS1_3
        return Diagnosis(Why.NO_SUITE_FOR_KEY_TYPE, outcome, offer, best, key_type=leaf_key_type, silent=silent)
    if axis is not None:
        return axis
    wanted = offered_key_types(offer)
    if served and not served & wanted:
        return Diagnosis(Why.KEY_TYPE_MISMATCH, outcome, offer, best, served=_sorted(served), offered=_sorted(wanted))
    return Diagnosis(Why.NO_COMMON_SUITE, outcome, offer, best)


def _sorted(key_types: set[KeyType]) -> tuple[KeyType, ...]:
    """In the order the words name them (alphabetical, as they always were)."""
    return tuple(sorted(key_types, key=lambda k: k.value))


def refuses_every_offer(report: AddressReport) -> bool:
    """No handshake and no hello got a choice: every probe (the first handshake, the key-type probes, each
    client's hello) was refused as an offer (an alert about suites, groups or versions, or a close shown to
    be the answer), not dropped. The status line then speaks for every client."""
    outcomes = list(report.outcomes.values())
    return bool(outcomes) and all(isinstance(o, Rejected) and o.refused_offer for o in outcomes)


def dropped_probe(
    offer: ClientOffer, outcome: Rejected | Failed, size: int, through: int, client: str = ""
) -> Diagnosis:
    """A client's hello dropped each time (also alone, after pauses) at an address where other connections got
    through, the largest client hello among them ``through`` bytes (0: none of the clients' hellos): the large
    hello's own fate, or not probed at all. A hello over LARGE_HELLO bytes (one TCP segment's payload on an
    Ethernet path) and larger than every hello that got through is "large" when it alone is dropped."""
    if through and size > LARGE_HELLO and size > through:  # another client's smaller hello got through
        return Diagnosis(Why.LARGE_HELLO_DROPPED, outcome, offer, client=client, sizes=(size, through))
    return Diagnosis(Why.NOT_PROBED, outcome, offer, client=client)
