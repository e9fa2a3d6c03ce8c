"""Assessment: probe reports in, judged facts per address out. Pure: no I/O, no nagiosplugin.

Between probing and presentation: chains are judged, the certificates an
address serves are deduplicated (the default one, then any other the key-type
probes found), and every failed client or cipher gets its diagnosis. The
resource, the summary and the long output all read an ``Assessment``; the
optional checks judge what they measured beside it (checks/).
"""

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from ..clients.offer import PRIMARY, cipher_offer
from ..clients.profiles import ClientProfile
from ..errors import ServiceError
from ..probe.outcome import Accepted, HandshakeOutcome, Rejected
from ..probe.plan import DEFAULT_PROBE, ProbePlan
from ..probe.report import AddressReport, HostReport, dropped
from ..records import NamedTuple
from ..tls.versions import TlsVersion
from ..x509.chain import ChainReport, judge_chain
from ..x509.keys import KeyType
from ..x509.store import TrustAnchors

if TYPE_CHECKING:
    from ..probe.axes import AxisResult
    from .diagnosis import Diagnosis  # imported where a client or cipher fails: an OK run never loads it
    from .violations import Violation


class Origin(enum.Enum):
    """Which probe found a served certificate."""

    DEFAULT = "the widest offer (the certificate most clients get)"
    KEY_TYPE = "a TLS 1.2 probe with the suites of another key type (dual certificates)"
    WITHOUT_SNI = "the widest offer without SNI (what most MTAs get)"
    CLIENT = "one client's own hello, and no other probe"


class Served(NamedTuple):
    """One distinct certificate an address serves, judged."""

    origin: Origin
    key_type: KeyType | None
    chain: ChainReport
    sent: tuple[bytes, ...]  # the chain as the server sent it (DER): what the optional checks look at
    #: A KEY_TYPE certificate of a key type another served certificate has too: 2 for the second, and so on.
    ordinal: int = 0

    @property
    def default(self) -> bool:
        return self.origin is Origin.DEFAULT

    @property
    def without_sni(self) -> bool:
        """What a client that sends no SNI gets (most MTAs), unlike the default one."""
        return self.origin is Origin.WITHOUT_SNI

    @property
    def named(self) -> str | None:
        """How words name it when it is not the default: "RSA certificate", "certificate without SNI"; else None."""
        if self.default:
            return None
        if self.without_sni:
            return "certificate without SNI"
        if self.origin is Origin.CLIENT:
            return f"{self.key_type.value if self.key_type else 'unsupported'} certificate only its hello gets"
        return f"{self.key_type.value if self.key_type else 'unsupported'} certificate"


class ClientResult(NamedTuple):
    profile: ClientProfile
    outcome: HandshakeOutcome
    diagnosis: "Diagnosis | None"  # None when the client connects and takes the certificate it gets
    given: Served | None = None  # the certificate the client gets (its hello answer, or by SNI and key type)
    axes: tuple["AxisResult", ...] = ()  # what widening each axis of its refused hello showed
    #: The client refuses its certificate only for what that certificate's own judgement already says
    #: (RSA under 2048 bits, SHA-1, no subjectAltName): it fails, and the chain's words say why, once.
    repeats_chain: bool = False

    @property
    def connects(self) -> bool:
        """The client completes its handshake and takes the certificate it gets (counted in clients_ok)."""
        return self.diagnosis is None


class CipherResult(NamedTuple):
    cipher: str
    outcome: HandshakeOutcome
    diagnosis: "Diagnosis | None"


class AddressAssessment(NamedTuple):
    """One address of the service and what was judged there."""

    report: AddressReport
    shown_as: str  # "" when the name has one address, else the IP: labels and words name it
    served: tuple[Served, ...]  # empty when the default probe failed or a certificate is unreadable
    unreadable: ServiceError | None  # a served certificate that cannot be read at all
    clients: tuple[ClientResult, ...]
    ciphers: tuple[CipherResult, ...]
    versions: Mapping[TlsVersion, HandshakeOutcome]
    #: The handshake the certificates come from: the default probe's, or when the local OpenSSL cannot make
    #: an offer the server takes (a 3DES-only server), a client hello answer that carried them; None: none did.
    reference: Accepted | None = None
    #: The first handshake's large ClientHello was dropped each time while the same offer with a small hello
    #: connected: LARGE_HELLO_DROPPED, or NOT_PROBED when as large a hello got through. None: not so.
    first_hello: "Diagnosis | None" = None

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(s.chain.leaf.fingerprint for s in self.served)


class Assessment(NamedTuple):
    host: HostReport
    name: str  # the name the certificates are judged for
    now: datetime
    addresses: tuple[AddressAssessment, ...]

    @property
    def plan(self) -> ProbePlan:
        return self.host.plan


def _served(
    report: AddressReport, primary: Accepted, name: str, anchors: TrustAnchors | None, now: datetime
) -> tuple[Served, ...]:
    """The default certificate, plus any other one the key-type probes found (raises CertificateError)."""

    def judged(origin: Origin, outcome: Accepted, chain: ChainReport, ordinal: int = 0) -> Served:
        return Served(origin, chain.leaf.key_type, chain, outcome.chain, ordinal)

    first = judge_chain(primary.chain, name, anchors, now, primary.chain_sent)
    served = [judged(Origin.DEFAULT, primary, first)]
    for outcome in report.key_types().values():
        if not isinstance(outcome, Accepted) or not outcome.chain:
            continue
        chain = judge_chain(outcome.chain, name, anchors, now, outcome.chain_sent)
        if chain.leaf.fingerprint in {s.chain.leaf.fingerprint for s in served}:
            continue
        same = any(s.origin is Origin.KEY_TYPE and s.key_type is chain.leaf.key_type for s in served)
        served.append(judged(Origin.KEY_TYPE, outcome, chain, len(served) if same else 0))
    bare = report.without_sni
    if isinstance(bare, Accepted) and bare.chain:
        chain = judge_chain(bare.chain, name, anchors, now, bare.chain_sent)
        if chain.leaf.fingerprint not in {s.chain.leaf.fingerprint for s in served}:
            served.append(judged(Origin.WITHOUT_SNI, bare, chain))
    return tuple(served)


#: Judges a chain a client's hello answer carried: (DER chain, length as sent) -> its ChainReport.
Judged = Callable[[tuple[bytes, ...], int], ChainReport]


def _given(profile: ClientProfile, outcome: Accepted, served: tuple[Served, ...], judged: Judged) -> Served | None:
    """The certificate a client gets: the one its hello answer carried (TLS <= 1.2), else by SNI and key.

    A TLS <= 1.2 answer's chain that no other probe saw is judged here; a TLS 1.3 client whose
    signature algorithms fit none of the served certificates gets no claim (None).
    """
    if outcome.chain:
        known = next((s for s in served if s.sent[:1] == outcome.chain[:1]), None)
        if known is not None:
            return known
        try:
            chain = judged(outcome.chain, outcome.chain_sent)
        except ServiceError:  # unreadable: the chain's own probes say so where they see it
            return None
        return Served(Origin.CLIENT, chain.leaf.key_type, chain, outcome.chain)
    if not served:
        return None
    if not profile.sends_sni:
        return next((s for s in served if s.without_sni), served[0])
    from ..clients.constraints import hello_key_types

    template = profile.hello_template
    usable = hello_key_types(template, TlsVersion.TLS1_3) if template is not None else frozenset()
    return next((s for s in served if not s.without_sni and s.key_type in usable), None)


def _violations(
    profile: ClientProfile, outcome: Accepted, given: Served | None, anchors: TrustAnchors | None, name: str
) -> tuple["Violation", ...]:
    """The client's certificate rules that the certificate it gets breaks, as far as this client checks.

    A malformed certificate is not judged again here: its chain already says
    what is wrong with it.
    """
    rules = profile.certificate
    if rules is None or given is None or any(cert.defects for cert in given.chain.path):
        return ()
    from ..clients.constraints import Verification
    from .violations import judge

    if rules.verifies is Verification.WHEN_CONFIGURED and anchors is None:
        return ()
    builtin = anchors is not None and anchors.builtin
    return judge(given.chain.path, rules, profile.hello_template, outcome.version, name, builtin)


def _client(
    report: AddressReport,
    profile: ClientProfile,
    outcome: HandshakeOutcome,
    served: tuple[Served, ...],
    anchors: TrustAnchors | None,
    name: str,
    judged: Judged,
    through: tuple[int, ...] = (),
) -> ClientResult:
    """One client: whether it connects, why not, and whether it takes the certificate it gets. ``through``: the
    sizes of the hellos that got an answer at this address (a dropped one is judged against them)."""
    key_type = served[0].key_type if served else None
    primary = report.primary
    if isinstance(outcome, Accepted) and isinstance(primary, Rejected) and primary.wants_client_certificate:
        # The full handshake showed the server insists on a client certificate, which mail clients do not send:
        # a hello answered (even its CertificateRequest, in the clear over TLS 1.2) does not make a connection.
        from .diagnosis import Diagnosis, Why

        return ClientResult(profile, outcome, Diagnosis(Why.CLIENT_CERTIFICATE, primary, profile.offer))
    if not isinstance(outcome, Accepted):
        from .diagnosis import Why, diagnose, dropped_probe

        axes = report.axes.get(profile.name, ())
        why = diagnose(profile.offer, outcome, report, key_type, axes, profile.title)
        if why.why in (Why.CONNECTION_LOST, Why.FAILED_BEFORE_HANDSHAKE) and outcome.dropped and through:
            size = hello_size(profile, report.target.servername)
            why = dropped_probe(profile.offer, outcome, size, max(through), profile.title)
        return ClientResult(profile, outcome, why, axes=axes)
    given = _given(profile, outcome, served, judged)
    if given is not None and given.origin is Origin.CLIENT and given.chain.problems:
        # A chain no other probe got (chosen by this hello's signature algorithms, groups or SNI): the client
        # judges its trust, name and dates as for any other; the chain's own words are not said elsewhere.
        from .diagnosis import Diagnosis, Why

        own = Diagnosis(
            Why.OWN_CERTIFICATE, outcome, profile.offer, client=profile.title, problems=given.chain.problems
        )
        return ClientResult(profile, outcome, own, given)
    violations = _violations(profile, outcome, given, anchors, name)
    if violations:
        from .diagnosis import Diagnosis, Why

        refusal = Diagnosis(Why.CERTIFICATE, outcome, profile.offer, violations=violations, client=profile.title)
        assert given is not None
        return ClientResult(profile, outcome, refusal, given, repeats_chain=_repeats(violations, given, served))
    return ClientResult(profile, outcome, None, given)


def hello_size(profile: ClientProfile, servername: str | None) -> int:
    """The bytes of a client's ClientHello on the wire, as its probe sent it (with SNI for ``servername`` when the
    client sends SNI)."""
    from ..tls.hello.encoder import encode_client_hello

    if profile.hello_template is None:
        return 0
    return len(encode_client_hello(profile.hello(servername)))


def _repeats(violations: tuple["Violation", ...], given: Served, served: tuple[Served, ...]) -> bool:
    """Whether each violation is one the chain judgement of that served certificate already words."""
    from ..x509.problems import ProblemKind
    from .violations import ViolationKind

    if not any(s is given for s in served):  # a chain only this client got: no chain judgement speaks of it
        return False
    echoes = {
        ViolationKind.RSA_TOO_SMALL: ProblemKind.RSA_TOO_SMALL,
        ViolationKind.SHA1_SIGNATURE: ProblemKind.WEAK_SIGNATURE,
        ViolationKind.NO_SUBJECT_ALT_NAME: ProblemKind.NO_SAN,
    }
    said = {p.kind for p in given.chain.problems}
    return all(echoes.get(v.kind) in said for v in violations)


def _address(
    host: HostReport,
    report: AddressReport,
    shown_as: str,
    name: str,
    anchors: TrustAnchors | None,
    now: datetime,
) -> AddressAssessment:
    served: tuple[Served, ...] = ()
    unreadable = None
    reference = report.reference
    if reference is not None:
        try:
            served = _served(report, reference, name, anchors, now)
        except ServiceError as exc:  # a certificate that cannot be read at all
            unreadable = exc
    key_type = served[0].key_type if served else None
    profiles = {p.name: p for p in host.plan.clients}

    def judged(chain: tuple[bytes, ...], sent: int) -> ChainReport:
        return judge_chain(chain, name, anchors, now, sent)

    answered = report.clients()
    servername = report.target.servername
    through: tuple[int, ...] = ()
    if DEFAULT_PROBE in report.small or any(dropped(outcome) for outcome in answered.values()):
        # Only a dropped hello is judged against the sizes that got through: the hellos are not encoded again
        # for a run where none was dropped.
        through = tuple(
            hello_size(profiles[subject], servername) for subject, outcome in answered.items() if not dropped(outcome)
        ) or ((0,) if reference is not None else ())
    clients = tuple(
        _client(report, profiles[subject], outcome, served, anchors, name, judged, through)
        for subject, outcome in answered.items()
    )
    ciphers = tuple(_cipher(report, cipher, outcome, key_type) for cipher, outcome in report.ciphers().items())
    versions = report.versions()
    first_hello = _first_hello(report, through)
    return AddressAssessment(report, shown_as, served, unreadable, clients, ciphers, versions, reference, first_hello)


def _cipher(report: AddressReport, cipher: str, outcome: HandshakeOutcome, key_type: KeyType | None) -> CipherResult:
    """A required cipher (--cipher): whether the server takes it, and why not."""
    if isinstance(outcome, Accepted):
        return CipherResult(cipher, outcome, None)
    from .diagnosis import diagnose

    return CipherResult(cipher, outcome, diagnose(cipher_offer(cipher), outcome, report, key_type))


def _first_hello(report: AddressReport, through: tuple[int, ...]) -> "Diagnosis | None":
    """Why the first handshake's large hello failed when the same offer with a small hello connected: the
    large hello's fate, judged as a client's (``dropped_probe``) against every hello that got through, the
    clients' (``through``) and the full handshakes' (the small one's among them)."""
    again = report.small.get(DEFAULT_PROBE)
    if again is None or not isinstance(again.small, Accepted) or isinstance(again.large, Accepted):
        return None
    sizes = [*through, *(outcome.hello for outcome in report.outcomes.values() if isinstance(outcome, Accepted))]
    from .diagnosis import dropped_probe

    large = again.large
    return dropped_probe(PRIMARY, large, large.hello, max(sizes))


def assess(host: HostReport, anchors: TrustAnchors | None, name: str, now: datetime) -> Assessment:
    """Judge what the probes found, for the name the certificate must match, at the time ``now``."""
    several = len(host.addresses) > 1
    addresses = tuple(
        _address(host, report, report.target.address.ip if several else "", name, anchors, now)
        for report in host.addresses
    )
    return Assessment(host, name, now, addresses)
