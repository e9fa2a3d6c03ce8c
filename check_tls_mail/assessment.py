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
from typing import TYPE_CHECKING, NamedTuple

from .certificate import ChainReport, TrustAnchors, judge_chain
from .dane import DaneReport, judge
from .diagnosis import Diagnosis, diagnose
from .errors import ServiceError
from .handshake import Accepted, HandshakeOutcome, cipher_offer
from .probe import AddressReport, HostReport, ProbePlan, Purpose, TlsaState
from .profiles import ClientProfile

if TYPE_CHECKING:
    from .mtasts import HostCertificateUnverified, MtaStsFinding, MtaStsReport, Policy
    from .renewal import Deployment, ExpectedCertificate, NameCoverage
    from .revocation import CertificateRevocation


class Served(NamedTuple):
    """One distinct certificate an address serves, judged."""

    label: str  # "" for the default one, else its key type in lower case ("rsa"), "ecdsa2" for a third
    key_type: str
    chain: ChainReport
    sent: tuple[bytes, ...]  # the chain as the server sent it (DER), for DANE
    dane: DaneReport | None  # the TLSA answer matched against ``sent``, when there is an answer
    deployment: Deployment | None = None  # --expect-cert: the served leaf against the files on disk
    coverage: NameCoverage | None = None  # --require-name: the names the leaf must cover
    revocation: tuple[CertificateRevocation, ...] | None = None  # --revocation: each certificate of the path
    policy_chain: ChainReport | None = None  # --mta-sts: the chain judged with trust anchors for the MX name
    policy_problem: HostCertificateUnverified | None = None  # --mta-sts: the policy applies, the chain fails

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


class MtaStsAssessment(NamedTuple):
    """--mta-sts: the domain's records and policy judged for the MX name (each certificate's verdict is on Served)."""

    report: MtaStsReport
    mx: str  # the name matched against the policy's mx patterns
    policy: Policy | None  # the policy senders apply, when one was fetched
    findings: tuple[MtaStsFinding, ...]  # record, policy, mx, mode, max_age, TLS-RPT; most severe first


class Expectations(NamedTuple):
    """The judgement settings of the optional checks: what the served certificates are held against."""

    expected: tuple[ExpectedCertificate, ...] = ()  # --expect-cert: the first certificate of each file
    required_names: tuple[str, ...] = ()  # --require-name
    policy_anchors: TrustAnchors | None = None  # --mta-sts: the policy verifies whatever --no-verify-chain says


NOTHING_EXPECTED = Expectations()


class Assessment(NamedTuple):
    host: HostReport
    now: datetime
    addresses: tuple[AddressAssessment, ...]
    mta_sts: MtaStsAssessment | None = None

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
    host: HostReport,
    report: AddressReport,
    shown_as: str,
    name: str,
    anchors: TrustAnchors | None,
    now: datetime,
    expectations: Expectations,
    policy: Policy | None,
) -> AddressAssessment:
    served: tuple[Served, ...] = ()
    unreadable = None
    primary = report.primary
    if isinstance(primary, Accepted):
        try:
            served = _served(report, primary, name, anchors, now, host.tlsa)
        except ServiceError as exc:  # a certificate that cannot be read at all
            unreadable = exc
    served = tuple(_beyond(s, host, name, anchors, now, expectations, policy) for s in served)
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


def assess(
    host: HostReport,
    anchors: TrustAnchors | None,
    name: str,
    now: datetime,
    expectations: Expectations = NOTHING_EXPECTED,
) -> Assessment:
    """Judge what the probes found, for the name the certificate must match, at the time ``now``."""
    several = len(host.addresses) > 1
    mta_sts = _mta_sts(host.mta_sts, name) if host.mta_sts is not None else None
    policy = mta_sts.policy if mta_sts is not None else None
    addresses = tuple(
        _address(host, report, report.target.address.ip if several else "", name, anchors, now, expectations, policy)
        for report in host.addresses
    )
    return Assessment(host, now, addresses, mta_sts)


# --- the optional checks: --expect-cert, --require-name, --revocation, --mta-sts ---------------------------


def verifies(chain: ChainReport, now: datetime) -> bool:
    """Trusted, for the name, and every certificate of the path valid now: what an MTA-STS sender requires."""
    return chain.trusted is True and not chain.problems and all(f.days_left(now) > 0 for f in chain.path)


def _mta_sts(report: MtaStsReport, mx: str) -> MtaStsAssessment:
    from .mtasts import assess as assess_policy
    from .mtasts import policy_of

    # The certificate is judged per served chain (Served.policy_problem), so not here: None.
    findings = assess_policy(report.domain, report.record, report.fetch, mx, None, report.tlsrpt)
    return MtaStsAssessment(report, mx, policy_of(report.fetch), findings)


def _beyond(
    served: Served,
    host: HostReport,
    name: str,
    anchors: TrustAnchors | None,
    now: datetime,
    expectations: Expectations,
    policy: Policy | None,
) -> Served:
    """One served certificate with the verdicts of the optional checks that were asked for."""
    if expectations.expected:
        from .renewal import compare

        served = served._replace(deployment=compare(served.chain.leaf, expectations.expected))
    if expectations.required_names:
        from .renewal import required_names

        served = served._replace(coverage=required_names(served.chain.leaf, expectations.required_names))
    if host.plan.revocation:
        served = served._replace(revocation=host.revocation.get(tuple(served.sent)))
    policy_anchors = anchors if anchors is not None else expectations.policy_anchors
    if policy is not None and policy_anchors is not None:
        from .mtasts import HostCertificateUnverified, Mode

        chain = served.chain if anchors is not None else judge_chain(served.sent, name, policy_anchors, now)
        served = served._replace(policy_chain=chain)
        if policy.mode is not Mode.NONE and not verifies(chain, now):
            assert host.mta_sts is not None
            problem = HostCertificateUnverified(name, host.mta_sts.domain, policy.mode)
            served = served._replace(policy_problem=problem)
    return served
