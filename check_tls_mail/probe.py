"""Probing one service: every handshake it needs, concurrently, into a ServiceReport.

Each client profile, each required cipher and each key-type probe is its own
connection with its own plaintext dialogue; nothing is reused between them,
since a resumed session or a shared connection would change the result. A
bounded number run at once (servers rate-limit), all under one deadline.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

from .dialects import Dialect
from .errors import ServiceError
from .handshake import (
    PRIMARY,
    Accepted,
    ClientOffer,
    HandshakeOutcome,
    Target,
    cipher_offer,
    key_type_offer,
    probe,
)
from .profiles import ClientProfile
from .wire import Deadline, resolve

#: The certificate key types probed separately over TLS 1.2 (dual certificates, diagnosis).
KEY_TYPES = ("ECDSA", "RSA")

T = TypeVar("T")


def run_concurrently(jobs: Sequence[Callable[[], T]], parallel: int) -> list[T]:
    """Run ``jobs`` on at most ``parallel`` daemon threads; results in job order.

    Daemon threads, so that the global timeout can end the process even while a
    handshake is still blocked. Jobs must not raise.
    """
    results: list[T | None] = [None] * len(jobs)
    queue = iter(enumerate(jobs))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            index, job = item
            results[index] = job()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(parallel, len(jobs)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results  # type: ignore[return-value]


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


class ServiceReport:
    """What the server did, probe by probe. Measured, not judged."""

    def __init__(self, plan: ProbePlan) -> None:
        self.plan = plan
        self.target: Target | None = None
        self.error: ServiceError | None = None  # the service could not be probed at all
        self.primary: HandshakeOutcome | None = None
        self.key_probes: dict[str, HandshakeOutcome] = {}
        self.clients: list[tuple[ClientProfile, HandshakeOutcome]] = []
        self.ciphers: list[tuple[str, HandshakeOutcome]] = []
        self.seconds = 0.0

    @property
    def accepted_key_types(self) -> set[str]:
        """Key types for which the server completed a TLS 1.2 handshake."""
        return {kt for kt, outcome in self.key_probes.items() if isinstance(outcome, Accepted)}


class RunningProbes:
    """Probes started in the background, so that start-up work overlaps the network."""

    def __init__(self, plan: ProbePlan) -> None:
        self.plan = plan
        self._report: ServiceReport | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="probes", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._report = run(self.plan)
        except BaseException as exc:  # handed to wait(), which raises it in the main thread
            self._failure = exc

    def wait(self) -> ServiceReport:
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        assert self._report is not None
        return self._report


def start(plan: ProbePlan) -> RunningProbes:
    """Start probing now; ``wait()`` for the report."""
    return RunningProbes(plan)


def run(plan: ProbePlan) -> ServiceReport:
    started = time.monotonic()
    deadline = Deadline(plan.seconds)
    report = ServiceReport(plan)
    try:
        address = resolve(plan.host, plan.port, plan.family, deadline)[0]
    except ServiceError as exc:
        report.error = exc
        return report
    target = Target(plan.host, plan.port, plan.dialect, address, plan.servername)
    report.target = target

    offers: list[ClientOffer] = [PRIMARY]
    offers += [key_type_offer(kt) for kt in KEY_TYPES]
    offers += [profile.offer for profile in plan.clients]
    offers += [cipher_offer(name) for name in plan.ciphers]
    # SSLContexts are made here, in one thread, before any probe starts.
    contexts: list[ssl.SSLContext] = [offer.context() for offer in offers]
    jobs = [
        (lambda offer=offer, ctx=ctx: probe(target, offer, ctx, deadline))
        for offer, ctx in zip(offers, contexts, strict=True)
    ]
    outcomes = run_concurrently(jobs, plan.parallel)

    report.primary = outcomes[0]
    rest = iter(outcomes[1:])
    report.key_probes = {kt: next(rest) for kt in KEY_TYPES}
    report.clients = [(profile, next(rest)) for profile in plan.clients]
    report.ciphers = [(name, next(rest)) for name in plan.ciphers]
    report.seconds = time.monotonic() - started
    return report
