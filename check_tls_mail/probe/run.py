"""Probing one service: every handshake it needs, concurrently, into an immutable HostReport.

Each client profile, each required cipher and each key-type probe is its own
connection with its own plaintext dialogue; nothing is reused between them,
since a resumed session or a shared connection would change the result. A
bounded number run at once (servers rate-limit), all under one deadline.
Every probe has a ``ProbeKey`` (what it is for, and for whom); its outcome is
found by that key, never by position. The optional checks' lookups (``Lookup``,
see checks/) run beside the handshakes within the same deadline.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from ..errors import ServiceError
from ..net.transport import Address, Deadline, resolve
from .handshake import LIBRARY, SMALL_HELLO_GROUP, Target, context_for, probe, small_context_for
from .outcome import Accepted, Failed, HandshakeCause, HandshakeOutcome, Rejected, large_hello_dropped
from .plan import DEFAULT_PROBE, ProbeKey, ProbePlan, Purpose
from .report import AddressReport, HostReport, SmallHello, dropped
from .workers import run_concurrently

if TYPE_CHECKING:
    from ..tls.hello.spec import HelloSpec


#: Most addresses of one name probed; more are reported but not probed.
MAX_ADDRESSES = 8
#: Pauses before the retries of a dropped probe, one at a time: the server must count the wave's connections
#: as closed first (a firewall's connlimit, a busy MTA), so they grow, with jitter, within the deadline.
RETRY_PAUSES = (0.05, 0.25, 0.6)
#: A retry's pause takes at most this share of the time left.
RETRY_SHARE = 0.2


class Pending(Protocol):
    """An optional check's lookup under way: ``finish`` waits for it (within the deadline) after the handshakes."""

    def finish(self, report: HostReport, deadline: Deadline) -> object: ...


class Lookup(Protocol):
    """What the probes need of an optional check (checks/protocol.py): its name and its lookup beside them."""

    @property
    def name(self) -> str: ...

    def start(self, plan: ProbePlan, deadline: Deadline) -> Pending: ...


class RunningProbes:
    """Probes started in the background: the main thread reads the trust store meanwhile, then waits."""

    def __init__(self, plan: ProbePlan, lookups: Sequence[Lookup] = ()) -> None:
        self.plan = plan
        self.lookups = lookups
        self._report: HostReport | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="probes", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._report = run(self.plan, self.lookups)
        except BaseException as exc:  # handed to wait(), which raises it in the main thread
            self._failure = exc

    def wait(self) -> HostReport:
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        assert self._report is not None
        return self._report


def start(plan: ProbePlan, lookups: Sequence[Lookup] = ()) -> RunningProbes:
    """Start probing now, and the optional checks' lookups beside; ``wait()`` for the report."""
    return RunningProbes(plan, lookups)


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
        from ..net.resolver import lookup_addresses

        return lookup_addresses(plan.host, plan.port, plan.family, plan.dns_server, deadline)
    return resolve(plan.address or plan.host, plan.port, plan.family, deadline)


class _Prober:
    """The offers of one run with their SSLContexts, made once in one thread, each serving every address."""

    def __init__(self, plan: ProbePlan, deadline: Deadline) -> None:
        self.offers = plan.offers()
        self.hellos = plan.hellos()
        self.contexts = {key: context_for(offer) for key, offer in self.offers.items() if key not in self.hellos}

        self.parallel = plan.parallel
        self.deadline = deadline

    def __call__(self, target: Target, key: ProbeKey) -> HandshakeOutcome:
        if key in self.hellos:
            from .hello import probe_hello  # here: a check without client probes never loads the hello modules

            return probe_hello(target, self.hellos[key], self.deadline)
        return probe(_addressed(target, key), self.offers[key], self.contexts[key], self.deadline)

    def first(self, target: Target, key: ProbeKey) -> tuple[HandshakeOutcome, SmallHello | None]:
        """A probe of the concurrent wave. A full handshake whose large hello got no answer at all is made again
        with a small hello at once: the silence took a share of the time, and after the wave none may be left
        (a client's hello held by the same middlebox waits to the deadline)."""
        outcome = self(target, key)
        if key in self.hellos or not (isinstance(outcome, Failed) and large_hello_dropped(outcome)):
            return outcome, None
        if self.deadline.remaining() <= 0:
            return outcome, None
        again = self.small_hello(target, key, outcome)
        return _final(again), again

    def small_hello(self, target: Target, key: ProbeKey, large: HandshakeOutcome) -> SmallHello:
        """The full handshake ``key`` again with a small hello (one key exchange group), after its large one
        was dropped: one connection more, made only then."""
        from ..tls.registry import group_name  # here: a server that answers never loads the registry for it

        offer = self.offers[key]
        small = probe(_addressed(target, key), offer, small_context_for(offer), self.deadline)
        return SmallHello(large, small, group_name(SMALL_HELLO_GROUP), LIBRARY)

    def small_hellos(self, report: AddressReport, made: dict[ProbeKey, SmallHello], through: bool) -> AddressReport:
        """The full handshakes whose large hello was dropped each time (also alone, after pauses), made again
        one at a time with a small hello, where something at the address got through (``through``)."""
        outcomes = dict(report.outcomes)
        small = dict(made)
        for key, outcome in report.outcomes.items():
            if key in self.hellos or key in small or not large_hello_dropped(outcome) or not through:
                continue
            if self.deadline.remaining() <= 0:
                break
            self.pause(0)
            small[key] = self.small_hello(report.target, key, outcome)
            outcomes[key] = _final(small[key])
        if not small:
            return report
        return report._replace(outcomes=MappingProxyType(outcomes), small=MappingProxyType(small))

    def hellos_answered(self, target: Target, specs: Sequence[HelloSpec]) -> list[bool]:
        """Whether the server accepts each hello; what the wave drops is tried again alone."""
        from .hello import probe_hello

        outcomes = run_concurrently(
            [partial(probe_hello, target, spec, self.deadline) for spec in specs], self.parallel
        )
        for index, outcome in enumerate(outcomes):
            if dropped(outcome) and self.deadline.remaining() > 0:
                self.pause(0)
                outcomes[index] = probe_hello(target, specs[index], self.deadline)
        return [isinstance(outcome, Accepted) for outcome in outcomes]

    def axes(self, report: AddressReport) -> AddressReport:
        """For each client whose hello the server refused: the axis that, widened, the server accepts."""
        refused = {
            str(key.subject): spec
            for key, spec in self.hellos.items()
            if isinstance(outcome := report.outcomes[key], Rejected) and outcome.refused_suites
        }
        if not refused or self.deadline.remaining() <= 0:
            return report
        from .axes import Axis, AxisResult, offered, scans, widened  # here: without a refused hello, never loaded

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

    def pause(self, attempt: int) -> None:
        """Wait before retry ``attempt`` (0, 1, 2): longer each time, with jitter, within the deadline."""
        import random

        pause = RETRY_PAUSES[min(attempt, len(RETRY_PAUSES) - 1)] * random.uniform(1.0, 1.5)
        time.sleep(max(min(pause, self.deadline.remaining() * RETRY_SHARE), 0))

    def alone(self, target: Target, key: ProbeKey) -> HandshakeOutcome:
        """The probe again, one connection at a time, after growing pauses in which the server notices that the
        last connections closed; up to len(RETRY_PAUSES) times while it is dropped and time is left."""
        outcome: HandshakeOutcome | None = None
        for attempt in range(len(RETRY_PAUSES)):
            if outcome is not None and (not _limited(outcome) or self.deadline.remaining() <= 0):
                break
            self.pause(attempt)
            outcome = self(target, key)
        assert outcome is not None
        return outcome

    def after_wave(
        self, target: Target, wave: dict[ProbeKey, tuple[HandshakeOutcome, SmallHello | None]]
    ) -> AddressReport:
        """One address's report: its second chances, the small hellos of full handshakes whose large hello was
        dropped, then the axes of its refused hellos."""
        outcomes = {key: outcome for key, (outcome, _) in wave.items()}
        made = {key: again for key, (_, again) in wave.items() if again is not None}
        through = not all(dropped(outcome) for outcome in outcomes.values())
        report = self.second_chances(target, outcomes, frozenset(made))
        return self.axes(self.small_hellos(report, made, through))

    def second_chances(
        self, target: Target, wave: dict[ProbeKey, HandshakeOutcome], again: frozenset[ProbeKey] = frozenset()
    ) -> AddressReport:
        """The report of one address after the concurrent wave: dropped probes tried again one at a time.

        Servers and firewalls limit connections per client: what the wave lost
        to that is tried again, where something at the address got through
        (not those ``again``, already made again with a small hello).
        Closes that come again are then checked with the widest offer: when it
        connects right after, the server closes in answer to those offers
        (``closed_in_answer``); otherwise they stay connection problems.
        """
        outcomes = dict(wave)
        first: dict[ProbeKey, HandshakeOutcome] = {}
        if not all(dropped(outcome) for outcome in wave.values()):
            for key, outcome in wave.items():
                if dropped(outcome) and key not in again and self.deadline.remaining() > 0:
                    first[key] = outcome
                    outcomes[key] = self.alone(target, key)
        closed = [key for key in first if isinstance(o := outcomes[key], Rejected) and o.closed_after_hello]
        control = None
        if closed and self.deadline.remaining() > 0:
            control = self.alone(target, DEFAULT_PROBE)
            if isinstance(control, Accepted) and DEFAULT_PROBE in closed:
                # The widest offer closed twice and then connected: the closes were the connection's, the
                # others' as much as its own, so no close is taken for an answer.
                outcomes[DEFAULT_PROBE] = control
            elif isinstance(control, Accepted):
                for key in closed:
                    outcome = outcomes[key]
                    assert isinstance(outcome, Rejected)
                    outcomes[key] = outcome._replace(closed_in_answer=True)
        return AddressReport(target, MappingProxyType(outcomes), MappingProxyType(first), control)


def _limited(outcome: HandshakeOutcome) -> bool:
    """Dropped as a connection limit drops: a reset or a failure before TLS, worth another wait. A close during
    the handshake, tried alone once, is checked against the widest offer instead (see second_chances); a
    ClientHello that got no answer at all is not how a limit acts, and waiting for it again takes the time."""
    if isinstance(outcome, Failed) and outcome.hello:
        return False
    return dropped(outcome) and not (isinstance(outcome, Rejected) and outcome.cause is HandshakeCause.CLOSED)


def _addressed(target: Target, key: ProbeKey) -> Target:
    """The target as probe ``key`` addresses it: without SNI for the widest offer without SNI."""
    return target._replace(servername=None) if key.purpose is Purpose.NO_SNI else target


def _final(again: SmallHello) -> HandshakeOutcome:
    """A probe's outcome after its small hello: the small one's when it connected, else the large one's."""
    return again.small if isinstance(again.small, Accepted) else again.large


def run(plan: ProbePlan, lookups: Sequence[Lookup] = ()) -> HostReport:
    started = time.monotonic()
    deadline = Deadline(plan.seconds)
    pending = [(lookup.name, lookup.start(plan, deadline)) for lookup in lookups]
    try:
        addresses = _addresses(plan, deadline)
    except ServiceError as exc:
        return HostReport(plan, exc, (), 0, time.monotonic() - started)
    # DNS rotates the order of records: sort, so that output and perfdata stay stable between runs.
    addresses.sort(key=lambda a: (a.family != socket.AF_INET, socket.inet_pton(a.family, a.ip)))
    targets = [Target(plan.host, plan.port, plan.dialect, address, plan.servername) for address in addresses]
    targets = targets[:MAX_ADDRESSES]
    prober = _Prober(plan, deadline)
    # Offer by offer across the addresses, so that every address's default probe goes first.
    order = [(key, target) for key in prober.offers for target in targets]
    jobs = [(lambda key=key, target=target: prober.first(target, key)) for key, target in order]
    wave = list(zip(order, run_concurrently(jobs, plan.parallel), strict=True))
    # One address after the other: its addresses may be one server that limits connections per client, and
    # "tried again alone" must be alone there (and --max-parallel bound the axes' hellos).
    reports = tuple(prober.after_wave(target, {k: o for (k, at), o in wave if at is target}) for target in targets)
    report = HostReport(plan, None, reports, len(addresses), time.monotonic() - started)
    if not pending:
        return report
    # One after the other in the checks' order: each waits for its own lookup, or uses the time left.
    extras = {name: finishing.finish(report, deadline) for name, finishing in pending}
    return report._replace(extras=MappingProxyType(extras))
