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
from dataclasses import dataclass, field
from typing import TypeVar

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


@dataclass(frozen=True)
class ProbePlan:
    host: str
    port: int
    dialect: Dialect
    family: int
    servername: str | None
    clients: tuple[ClientProfile, ...]
    ciphers: tuple[str, ...]
    parallel: int
    seconds: float  # time allowed for all probes


@dataclass
class ServiceReport:
    """What the server did, probe by probe. Measured, not judged."""

    plan: ProbePlan
    target: Target | None = None
    error: ServiceError | None = None  # the service could not be probed at all
    primary: HandshakeOutcome | None = None
    key_probes: dict[str, HandshakeOutcome] = field(default_factory=dict)
    clients: list[tuple[ClientProfile, HandshakeOutcome]] = field(default_factory=list)
    ciphers: list[tuple[str, HandshakeOutcome]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accepted_key_types(self) -> set[str]:
        """Key types for which the server completed a TLS 1.2 handshake."""
        return {kt for kt, outcome in self.key_probes.items() if isinstance(outcome, Accepted)}


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
