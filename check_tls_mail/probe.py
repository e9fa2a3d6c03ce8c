"""Probing one service: every handshake it needs, concurrently, into an immutable HostReport.

Each client profile, each required cipher and each key-type probe is its own
connection with its own plaintext dialogue; nothing is reused between them,
since a resumed session or a shared connection would change the result. A
bounded number run at once (servers rate-limit), all under one deadline.
Every probe has a ``ProbeKey`` (what it is for, and for whom); its outcome is
found by that key, never by position.
"""

from __future__ import annotations

import enum
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from .axes import Axis, AxisResult, offered, scans, widened
from .dialects import Dialect
from .errors import ServiceError
from .handshake import (
    PRIMARY,
    VERSIONS,
    Accepted,
    ClientOffer,
    HandshakeOutcome,
    Rejected,
    Target,
    cipher_offer,
    key_type_offer,
    probe,
    version_offer,
)
from .profiles import ClientProfile
from .wire import Address, Deadline, resolve

if TYPE_CHECKING:
    from .hellospec import HelloSpec
    from .mtasts import MtaStsReport
    from .mtastspolicy import PolicyFetch
    from .mtastsrecords import MtaStsState, TlsRptState
    from .resolver import TlsaAnswer
    from .revocationstatus import CertificateRevocation

#: The certificate key types probed separately over TLS 1.2 (dual certificates, diagnosis).
KEY_TYPES = ("ECDSA", "RSA")
#: Most addresses of one name probed; more are reported but not probed.
MAX_ADDRESSES = 8
#: Pause before each retry of a dropped probe, so that the server has counted the last connection as closed.
RETRY_PAUSE = 0.05

T = TypeVar("T")


class Purpose(enum.Enum):
    """What a probe is for."""

    DEFAULT = "the widest offer: certificate and preferred version"
    KEY_TYPE = "TLS 1.2 with the suites of one certificate key type"
    CLIENT = "a client profile"
    CIPHER = "one required cipher over TLS 1.2"
    VERSION = "exactly one TLS version"
    NO_SNI = "the widest offer without SNI, as most MTAs connect"


class ProbeKey(NamedTuple):
    """One probe of one address: its purpose and for whom (key type, profile name, cipher, version)."""

    purpose: Purpose
    subject: str = ""


DEFAULT_PROBE = ProbeKey(Purpose.DEFAULT)


class ProbePlan(NamedTuple):
    host: str
    port: int
    dialect: Dialect
    family: int
    servername: str | None
    clients: tuple[ClientProfile, ...]
    ciphers: tuple[str, ...]
    parallel: int
    seconds: float  # time allowed for all probes
    address: str | None = None  # --address: probe only this one (the host name still names the service)
    versions: bool = False  # probe TLS 1.0, 1.1, 1.2 and 1.3 one by one
    dns_server: tuple[str, int] | None = None  # --dns-server: addresses and TLSA from it
    tlsa_host: str | None = None  # look up TLSA records for this name (DANE)
    ca_file: str | None = None  # --ca-file: the MTA-STS policy host's trust anchors, the anchors for revocation
    mta_sts: str | None = None  # --mta-sts DOMAIN: look up its records and fetch its policy
    revocation: bool = False  # --revocation: ask OCSP responders and CRLs about each served chain

    def offers(self) -> dict[ProbeKey, ClientOffer]:
        """Every probe one address gets, in the order they start, with what each offers."""
        offers = {DEFAULT_PROBE: PRIMARY}
        offers.update({ProbeKey(Purpose.KEY_TYPE, kt): key_type_offer(kt) for kt in KEY_TYPES})
        offers.update({ProbeKey(Purpose.CLIENT, p.name): p.offer for p in self.clients})
        offers.update({ProbeKey(Purpose.CIPHER, name): cipher_offer(name) for name in self.ciphers})
        if self.versions:
            offers.update({ProbeKey(Purpose.VERSION, v): version_offer(v) for v in VERSIONS})
        if self.servername and any(not p.sends_sni for p in self.clients):
            offers[ProbeKey(Purpose.NO_SNI)] = PRIMARY
        return offers

    def hellos(self) -> dict[ProbeKey, HelloSpec]:
        """The client profiles probed with their own ClientHello (all that carry hello facts)."""
        return {
            ProbeKey(Purpose.CLIENT, p.name): p.hello(self.servername)
            for p in self.clients
            if p.hello_template is not None
        }


class AddressReport(NamedTuple):
    """What the server at one address did, probe by probe. Measured, not judged.

    ``outcomes`` holds each probe's final outcome; ``dropped`` the first
    outcome of the probes whose connection broke in the concurrent wave and
    that were therefore tried again one at a time.
    """

    target: Target
    outcomes: Mapping[ProbeKey, HandshakeOutcome]
    dropped: Mapping[ProbeKey, HandshakeOutcome] = MappingProxyType({})
    control: HandshakeOutcome | None = None  # the widest offer tried once more after closes that came again
    #: Profiles whose hello the server refused -> what widening each axis of it showed.
    axes: Mapping[str, tuple[AxisResult, ...]] = MappingProxyType({})

    @property
    def primary(self) -> HandshakeOutcome:
        return self.outcomes[DEFAULT_PROBE]

    def of(self, purpose: Purpose) -> dict[str, HandshakeOutcome]:
        """The outcomes of one purpose by subject, in probe order."""
        return {key.subject: outcome for key, outcome in self.outcomes.items() if key.purpose is purpose}


class TlsaStatus(enum.Enum):
    NOT_ASKED = "not looked up"
    ANSWERED = "answered"
    FAILED = "the lookup failed"
    NOT_FINISHED = "the lookup did not finish in time"


class TlsaState(NamedTuple):
    """The TLSA lookup (DANE): whether it was made and how it ended."""

    status: TlsaStatus
    name: str = ""  # _25._tcp.mx.example.org
    answer: TlsaAnswer | None = None
    error: ServiceError | None = None


class HostReport(NamedTuple):
    """Every address of the service, each with its AddressReport, and the TLSA lookup."""

    plan: ProbePlan
    error: ServiceError | None  # the name could not be resolved at all
    addresses: tuple[AddressReport, ...]
    tlsa: TlsaState
    addresses_found: int  # before the cut at MAX_ADDRESSES
    seconds: float
    mta_sts: MtaStsReport | None = None  # --mta-sts
    # --revocation: each distinct served chain (as sent) -> the status of each certificate of its path
    revocation: Mapping[tuple[bytes, ...], tuple[CertificateRevocation, ...]] = MappingProxyType({})


def dropped(outcome: HandshakeOutcome) -> bool:
    """The connection broke (refused, reset, closed, timed out, turned away): worth a second try."""
    return not isinstance(outcome, Accepted) and outcome.dropped


def run_concurrently(jobs: Sequence[Callable[[], T]], parallel: int) -> list[T]:
    """Run ``jobs`` on at most ``parallel`` daemon threads; results in job order.

    Daemon threads, so that the global timeout can end the process even while a
    handshake is still blocked. Probes report server faults as outcomes; an
    exception from a job is a bug, raised here (the CLI makes it UNKNOWN)
    instead of being printed by the thread.
    """
    results: list[T | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    queue = iter(enumerate(jobs))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            index, job = item
            try:
                results[index] = job()
            except BaseException as exc:  # a bug, not a server fault: raised in the caller, never printed here
                failures.append(exc)
                return

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(parallel, len(jobs)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results  # type: ignore[return-value]


class RunningProbes:
    """Probes started in the background, so that start-up work overlaps the network."""

    def __init__(self, plan: ProbePlan) -> None:
        self.plan = plan
        self._report: HostReport | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="probes", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._report = run(self.plan)
        except BaseException as exc:  # handed to wait(), which raises it in the main thread
            self._failure = exc

    def wait(self) -> HostReport:
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        assert self._report is not None
        return self._report


def start(plan: ProbePlan) -> RunningProbes:
    """Start probing now; ``wait()`` for the report."""
    return RunningProbes(plan)


def _addresses(plan: ProbePlan, deadline: Deadline) -> list[Address]:
    """The addresses to probe: --address, an address given as -H, or what the name resolves to.

    An address is never sent to --dns-server as a name; getaddrinfo takes it as it is.
    """
    import ipaddress

    try:
        ipaddress.ip_address(plan.host)
        literal = True
    except ValueError:
        literal = False
    if plan.dns_server and not plan.address and not literal:
        from .resolver import lookup_addresses

        return lookup_addresses(plan.host, plan.port, plan.family, plan.dns_server, deadline)
    return resolve(plan.address or plan.host, plan.port, plan.family, deadline)


class _TlsaLookup:
    """The TLSA lookup, on its own thread beside the handshakes."""

    def __init__(self, plan: ProbePlan, deadline: Deadline) -> None:
        self.plan = plan
        self.deadline = deadline
        self.name = f"_{plan.port}._tcp.{(plan.tlsa_host or '').rstrip('.')}"
        self.state = TlsaState(TlsaStatus.NOT_FINISHED, self.name)
        self.thread = threading.Thread(target=self._look_up, name="tlsa", daemon=True)
        if plan.tlsa_host is not None:
            self.thread.start()

    def _look_up(self) -> None:
        try:
            from .resolver import lookup_tlsa

            answer = lookup_tlsa(self.name, self.plan.dns_server, self.deadline)
            self.state = TlsaState(TlsaStatus.ANSWERED, self.name, answer=answer)
        except ServiceError as exc:
            self.state = TlsaState(TlsaStatus.FAILED, self.name, error=exc)
        except Exception as exc:  # a thread must not print a traceback: the lookup failed
            error = ServiceError(f"TLSA lookup failed: {exc.__class__.__name__}: {exc}")
            self.state = TlsaState(TlsaStatus.FAILED, self.name, error=error)

    def result(self) -> TlsaState:
        """The state once the lookup ended, or NOT_FINISHED when the probe time is up first."""
        if self.plan.tlsa_host is None:
            return TlsaState(TlsaStatus.NOT_ASKED)
        self.thread.join(max(self.deadline.remaining(), 0.0))
        return self.state


class _Prober:
    """The offers of one run with their SSLContexts, made once in one thread, each serving every address."""

    def __init__(self, plan: ProbePlan, deadline: Deadline) -> None:
        self.offers = plan.offers()
        self.hellos = plan.hellos()
        self.contexts = {key: offer.context() for key, offer in self.offers.items() if key not in self.hellos}

        self.parallel = plan.parallel
        self.deadline = deadline

    def __call__(self, target: Target, key: ProbeKey) -> HandshakeOutcome:
        if key in self.hellos:
            from .helloprobe import probe_hello  # here: a check without client probes never loads the hello modules

            return probe_hello(target, self.hellos[key], self.deadline)
        if key.purpose is Purpose.NO_SNI:
            target = target._replace(servername=None)
        return probe(target, self.offers[key], self.contexts[key], self.deadline)

    def hellos_answered(self, target: Target, specs: Sequence[HelloSpec]) -> list[bool]:
        """Whether the server accepts each hello; what the wave drops is tried again alone."""
        from .helloprobe import probe_hello

        outcomes = run_concurrently(
            [partial(probe_hello, target, spec, self.deadline) for spec in specs], self.parallel
        )
        for index, outcome in enumerate(outcomes):
            if dropped(outcome) and self.deadline.remaining() > 0:
                time.sleep(max(min(RETRY_PAUSE, self.deadline.remaining()), 0))
                outcomes[index] = probe_hello(target, specs[index], self.deadline)
        return [isinstance(outcome, Accepted) for outcome in outcomes]

    def axes(self, report: AddressReport) -> AddressReport:
        """For each client whose hello the server refused: the axis that, widened, the server accepts."""
        refused = {
            key.subject: spec
            for key, spec in self.hellos.items()
            if isinstance(outcome := report.outcomes[key], Rejected) and outcome.refused_offer
        }
        if not refused or self.deadline.remaining() <= 0:
            return report
        variants = [
            (name, axis, wide)
            for name, spec in refused.items()
            for axis in Axis
            if (wide := widened(spec, axis)) is not None
        ]
        accepted = self.hellos_answered(report.target, [wide for _, _, wide in variants])
        found: dict[str, list[AxisResult]] = {name: [] for name in refused}
        for (name, axis, _), ok in zip(variants, accepted, strict=True):
            server: tuple[int, ...] = ()
            candidates = scans(refused[name], axis) if ok else {}
            if candidates and self.deadline.remaining() > 0:
                taken = self.hellos_answered(report.target, list(candidates.values()))
                server = tuple(code for code, ok in zip(candidates, taken, strict=True) if ok)
            found[name].append(AxisResult(axis, ok, offered(refused[name], axis), server))
        return report._replace(axes=MappingProxyType({name: tuple(results) for name, results in found.items()}))

    def alone(self, target: Target, key: ProbeKey) -> HandshakeOutcome:
        """One more connection, after a pause in which the server notices the last one closed."""
        time.sleep(max(min(RETRY_PAUSE, self.deadline.remaining()), 0))
        return self(target, key)

    def second_chances(self, target: Target, wave: dict[ProbeKey, HandshakeOutcome]) -> AddressReport:
        """The report of one address after the concurrent wave: dropped probes tried again one at a time.

        Servers and firewalls limit connections per client: what the wave lost
        to that is tried again, where something at the address got through.
        Closes that come again are then checked with the widest offer: when it
        connects right after, the server closes in answer to those offers
        (``closed_in_answer``); otherwise they stay connection problems.
        """
        outcomes = dict(wave)
        first: dict[ProbeKey, HandshakeOutcome] = {}
        if not all(dropped(outcome) for outcome in wave.values()):
            for key, outcome in wave.items():
                if dropped(outcome) and self.deadline.remaining() > 0:
                    first[key] = outcome
                    outcomes[key] = self.alone(target, key)
        closed = [key for key in first if isinstance(o := outcomes[key], Rejected) and o.closed_after_hello]
        control = None
        if closed and self.deadline.remaining() > 0:
            control = self.alone(target, DEFAULT_PROBE)
            if isinstance(control, Accepted):
                for key in closed:
                    outcome = outcomes[key]
                    assert isinstance(outcome, Rejected)
                    outcomes[key] = outcome._replace(closed_in_answer=True)
        return AddressReport(target, MappingProxyType(outcomes), MappingProxyType(first), control)


def run(plan: ProbePlan) -> HostReport:
    started = time.monotonic()
    deadline = Deadline(plan.seconds)
    lookup = _TlsaLookup(plan, deadline)
    policy = _MtaStsLookup(plan, deadline)
    try:
        addresses = _addresses(plan, deadline)
    except ServiceError as exc:
        return HostReport(plan, exc, (), TlsaState(TlsaStatus.NOT_ASKED), 0, time.monotonic() - started)
    # DNS rotates the order of records: sort, so that output and perfdata stay stable between runs.
    addresses.sort(key=lambda a: (a.family != socket.AF_INET, socket.inet_pton(a.family, a.ip)))
    targets = [Target(plan.host, plan.port, plan.dialect, address, plan.servername) for address in addresses]
    targets = targets[:MAX_ADDRESSES]
    prober = _Prober(plan, deadline)
    # Offer by offer across the addresses, so that every address's default probe goes first.
    order = [(key, target) for key in prober.offers for target in targets]
    jobs = [(lambda key=key, target=target: prober(target, key)) for key, target in order]
    wave = list(zip(order, run_concurrently(jobs, plan.parallel), strict=True))
    reports = tuple(
        prober.axes(prober.second_chances(target, {key: outcome for (key, at), outcome in wave if at is target}))
        for target in targets
    )
    report = HostReport(plan, None, reports, lookup.result(), len(addresses), time.monotonic() - started)
    return _after_handshakes(report, policy, deadline)


# --- MTA-STS and revocation (issue 16): beside the handshakes, and after them for the served chains ---

#: A lookup thread still running this long after the deadline has not finished (its I/O is bounded by the deadline).
GRACE_SECONDS = 0.05


class _MtaStsLookup:
    """--mta-sts: the _mta-sts record then the policy on one thread, the TLS-RPT record on another."""

    def __init__(self, plan: ProbePlan, deadline: Deadline) -> None:
        self.plan = plan
        self.deadline = deadline
        self.domain = (plan.mta_sts or "").rstrip(".").lower()
        self.failure: BaseException | None = None
        self.record: MtaStsState | None = None
        self.fetch: PolicyFetch | None = None
        self.tlsrpt: TlsRptState | None = None
        self.threads = [
            threading.Thread(target=self._guarded, args=(job,), name=f"mta-sts {index}", daemon=True)
            for index, job in enumerate((self._policy, self._tlsrpt))
        ]
        if plan.mta_sts is not None:
            for thread in self.threads:
                thread.start()

    def _guarded(self, job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # a bug: raised in the main thread by result(), never printed here
            self.failure = exc

    def _policy(self) -> None:
        from .mtastspolicy import fetch_policy
        from .mtastsrecords import StsRecord, lookup_record

        record = lookup_record(self.domain, self.plan.dns_server, self.deadline)
        self.record = record
        if isinstance(record, StsRecord):
            self.fetch = fetch_policy(self.domain, self.deadline, self.plan.ca_file, dns_server=self.plan.dns_server)

    def _tlsrpt(self) -> None:
        from .mtastsrecords import lookup_tlsrpt

        self.tlsrpt = lookup_tlsrpt(self.domain, self.plan.dns_server, self.deadline)

    def result(self) -> MtaStsReport | None:
        """What was found by the deadline; what had not finished is LookupNotFinished or a timed-out fetch."""
        if self.plan.mta_sts is None:
            return None
        for thread in self.threads:
            thread.join(max(self.deadline.remaining(), 0.0) + GRACE_SECONDS)
        if self.failure is not None:
            raise self.failure
        from .httpfetch import FetchFailure
        from .mtasts import MtaStsReport
        from .mtastspolicy import PolicyUnreachable, policy_url
        from .mtastsrecords import LookupNotFinished, RecordKind, StsRecord

        record, fetch, tlsrpt = self.record, self.fetch, self.tlsrpt  # read once: the threads may still write
        if record is None:
            record = LookupNotFinished(RecordKind.MTA_STS, f"_mta-sts.{self.domain}")
        if isinstance(record, StsRecord) and fetch is None:
            fetch = PolicyUnreachable(policy_url(self.domain), FetchFailure.TIMEOUT, "the fetch did not finish in time")
        if tlsrpt is None:
            tlsrpt = LookupNotFinished(RecordKind.TLSRPT, f"_smtp._tls.{self.domain}")
        return MtaStsReport(self.domain, record, fetch, tlsrpt)


def run_until(jobs: Sequence[Callable[[], T]], parallel: int, deadline: Deadline) -> list[T | None]:
    """Like run_concurrently, but waits no longer than the deadline: a job still running then gives None."""
    results: list[T | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    queue = iter(enumerate(jobs))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            index, job = item
            try:
                value = job()
            except BaseException as exc:  # a bug, not a server fault: raised in the caller, never printed here
                failures.append(exc)
                return
            with lock:
                results[index] = value

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(parallel, len(jobs)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(deadline.remaining(), 0.0) + GRACE_SECONDS)
    if failures:
        raise failures[0]
    with lock:
        return list(results)


def served_chains(reports: Sequence[AddressReport]) -> list[tuple[bytes, ...]]:
    """Each distinct chain the servers sent (default and key-type probes), in the order first seen."""
    from .handshake import Accepted

    chains: dict[tuple[bytes, ...], None] = {}
    for report in reports:
        for key, outcome in report.outcomes.items():
            if key.purpose in (Purpose.DEFAULT, Purpose.KEY_TYPE) and isinstance(outcome, Accepted) and outcome.chain:
                chains[tuple(outcome.chain)] = None
    return list(chains)


def _revocation(
    plan: ProbePlan, reports: Sequence[AddressReport], deadline: Deadline
) -> Mapping[tuple[bytes, ...], tuple[CertificateRevocation, ...]]:
    """--revocation: every certificate of every distinct served path, each asked once, all at once, by the deadline."""
    from .certificate import TrustAnchors, load_store
    from .errors import UsageError
    from .revocation import check, not_finished, served_path, steps
    from .revocationstatus import CertificateRevocation

    anchors: TrustAnchors | None
    try:
        anchors = load_store(plan.ca_file)
    except UsageError:  # no trust store: the last intermediate is not checked (the chain judgement says why)
        anchors = None
    planned = {chain: steps(*served_path(chain, anchors)) for chain in served_chains(reports)}
    pairs = list(dict.fromkeys((step.certificate, step.issuer) for found in planned.values() for step in found))
    jobs = [(lambda pair=pair: check(pair[0], pair[1], deadline)) for pair in pairs]
    answers = dict(zip(pairs, run_until(jobs, plan.parallel, deadline), strict=True))
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


def _after_handshakes(report: HostReport, policy: _MtaStsLookup, deadline: Deadline) -> HostReport:
    """The report with the MTA-STS lookup's result and, with --revocation, the served chains' revocation."""
    plan = report.plan
    if plan.mta_sts is None and not plan.revocation:
        return report
    revocation = _revocation(plan, report.addresses, deadline) if plan.revocation else report.revocation
    return report._replace(mta_sts=policy.result(), revocation=revocation)
