"""Assessment: probe reports in, judged facts per address out. Pure: no I/O, no nagiosplugin.

Between probing and presentation: chains are judged, the certificates an
address serves are deduplicated (the default one, then any other the key-type
probes found), TLSA records are matched against each, and every failed client
or cipher gets its diagnosis. The resource, the summary and the long output
all read an ``Assessment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

from .certificate import ChainReport, TrustAnchors, judge_chain
from .dane import DaneReport, judge
from .diagnosis import Diagnosis, diagnose
from .errors import ServiceError
from .handshake import Accepted, HandshakeOutcome, cipher_offer
from .probe import AddressReport, HostReport, ProbePlan, Purpose, TlsaState
from .profiles import ClientProfile


class Served(NamedTuple):
    """One distinct certificate an address serves, judged."""

    label: str  # "" for the default one, else its key type in lower case ("rsa"), "ecdsa2" for a third
    key_type: str
    chain: ChainReport
    sent: tuple[bytes, ...]  # the chain as the server sent it (DER), for DANE
    dane: DaneReport | None  # the TLSA answer matched against ``sent``, when there is an answer

    @property
    def named(self) -> str | None:
        """The key type when words must say which certificate ("RSA certificate"), else None."""
        return self.key_type if self.label else None


class ClientResult(NamedTuple):
    profile: ClientProfile
    outcome: HandshakeOutcome
    diagnosis: Diagnosis | None  # None when the client connected


class CipherResult(NamedTuple):
    cipher: str
    outcome: HandshakeOutcome
    diagnosis: Diagnosis | None


class AddressAssessment(NamedTuple):
    """One address of the service and what was judged there."""

    report: AddressReport
    shown_as: str  # "" when the name has one address, else the IP: labels and words name it
    served: tuple[Served, ...]  # empty when the default probe failed or a certificate is unreadable
    unreadable: ServiceError | None  # a served certificate that cannot be read at all
    clients: tuple[ClientResult, ...]
    ciphers: tuple[CipherResult, ...]
    versions: Mapping[str, HandshakeOutcome]

    @property
    def prefix(self) -> str:
        """How a judgement names the address: "" or "192.0.2.25: "."""
        return f"{self.shown_as}: " if self.shown_as else ""

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(s.chain.leaf.fingerprint for s in self.served)


class Assessment(NamedTuple):
    host: HostReport
    now: datetime
    addresses: tuple[AddressAssessment, ...]

    @property
    def plan(self) -> ProbePlan:
        return self.host.plan

    @property
    def tlsa(self) -> TlsaState:
        return self.host.tlsa


def _served(
    report: AddressReport, primary: Accepted, name: str, anchors: TrustAnchors | None, now: datetime, tlsa: TlsaState
) -> tuple[Served, ...]:
    """The default certificate, plus any other one the key-type probes found (raises CertificateError)."""

    def judged(label: str, outcome: Accepted, chain: ChainReport) -> Served:
        dane = judge(tlsa.answer, outcome.chain) if tlsa.answer is not None else None
        return Served(label, chain.leaf.key_type, chain, outcome.chain, dane)

    first = judge_chain(primary.chain, name, anchors, now, primary.chain_sent)
    served = [judged("", primary, first)]
    for outcome in report.of(Purpose.KEY_TYPE).values():
        if not isinstance(outcome, Accepted) or not outcome.chain:
            continue
        chain = judge_chain(outcome.chain, name, anchors, now, outcome.chain_sent)
        if chain.leaf.fingerprint in {s.chain.leaf.fingerprint for s in served}:
            continue
        label = chain.leaf.key_type.lower()
        if any(s.label == label for s in served):
            label = f"{label}{len(served)}"
        served.append(judged(label, outcome, chain))
    return tuple(served)


def _address(
    host: HostReport, report: AddressReport, shown_as: str, name: str, anchors: TrustAnchors | None, now: datetime
) -> AddressAssessment:
    served: tuple[Served, ...] = ()
    unreadable = None
    primary = report.primary
    if isinstance(primary, Accepted):
        try:
            served = _served(report, primary, name, anchors, now, host.tlsa)
        except ServiceError as exc:  # a certificate that cannot be read at all
            unreadable = exc
    key_type = served[0].key_type if served else None
    profiles = {p.name: p for p in host.plan.clients}
    clients = tuple(
        ClientResult(
            profiles[subject],
            outcome,
            None if isinstance(outcome, Accepted) else diagnose(profiles[subject].offer, outcome, report, key_type),
        )
        for subject, outcome in report.of(Purpose.CLIENT).items()
    )
    ciphers = tuple(
        CipherResult(
            cipher,
            outcome,
            None if isinstance(outcome, Accepted) else diagnose(cipher_offer(cipher), outcome, report, key_type),
        )
        for cipher, outcome in report.of(Purpose.CIPHER).items()
    )
    return AddressAssessment(report, shown_as, served, unreadable, clients, ciphers, report.of(Purpose.VERSION))


def assess(host: HostReport, anchors: TrustAnchors | None, name: str, now: datetime) -> Assessment:
    """Judge what the probes found, for the name the certificate must match, at the time ``now``."""
    several = len(host.addresses) > 1
    addresses = tuple(
        _address(host, report, report.target.address.ip if several else "", name, anchors, now)
        for report in host.addresses
    )
    return Assessment(host, now, addresses)
