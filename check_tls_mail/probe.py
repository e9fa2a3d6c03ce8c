"""Probing one service: every handshake it needs, concurrently, into a ServiceReport.

Each client profile, each required cipher and each key-type probe is its own
connection with its own plaintext dialogue; nothing is reused between them,
since a resumed session or a shared connection would change the result. A
bounded number run at once (servers rate-limit), all under one deadline.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from .dialects import Dialect
from .errors import ServiceError
from .handshake import (
    PRIMARY,
    VERSIONS,
    Accepted,
    ClientOffer,
    HandshakeOutcome,
    Target,
    cipher_offer,
    key_type_offer,
    probe,
    version_offer,
)
from .profiles import ClientProfile
from .wire import Address, Deadline, resolve

if TYPE_CHECKING:
    from .resolver import TlsaAnswer

#: The certificate key types probed separately over TLS 1.2 (dual certificates, diagnosis).
KEY_TYPES = ("ECDSA", "RSA")
#: Most addresses of one name probed; more are reported but not probed.
MAX_ADDRESSES = 8

T = TypeVar("T")


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


class ServiceReport:
    """What the server at one address did, probe by probe. Measured, not judged."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.primary: HandshakeOutcome | None = None
        self.key_probes: dict[str, HandshakeOutcome] = {}
        self.clients: list[tuple[ClientProfile, HandshakeOutcome]] = []
        self.ciphers: list[tuple[str, HandshakeOutcome]] = []
        self.versions: dict[str, HandshakeOutcome] = {}

    @property
    def accepted_key_types(self) -> set[str]:
        """Key types for which the server completed a TLS 1.2 handshake."""
        return {kt for kt, outcome in self.key_probes.items() if isinstance(outcome, Accepted)}


class HostReport:
    """Every address of the service, each with its ServiceReport."""

    def __init__(self, plan: ProbePlan) -> None:
        self.plan = plan
        self.error: ServiceError | None = None  # the name could not be resolved at all
        self.services: list[ServiceReport] = []
        self.tlsa: TlsaAnswer | ServiceError | None = None  # None: not looked up
        self.addresses_found = 0  # before the cut at MAX_ADDRESSES
        self.seconds = 0.0


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
    if plan.dns_server and not plan.address:
        from .resolver import lookup_addresses

        return lookup_addresses(plan.host, plan.port, plan.family, plan.dns_server, deadline)
    return resolve(plan.address or plan.host, plan.port, plan.family, deadline)


def _tlsa(report: HostReport, plan: ProbePlan, deadline: Deadline) -> None:
    """The TLSA lookup, as one more job beside the handshakes."""
    if plan.tlsa_host is None:
        return
    try:
        from .resolver import lookup_tlsa

        report.tlsa = lookup_tlsa(plan.tlsa_host, plan.port, plan.dns_server, deadline)
    except ServiceError as exc:
        report.tlsa = exc
    except Exception as exc:  # a thread must not print a traceback: the lookup failed
        report.tlsa = ServiceError(f"TLSA lookup failed: {exc.__class__.__name__}: {exc}")


def run(plan: ProbePlan) -> HostReport:
    started = time.monotonic()
    deadline = Deadline(plan.seconds)
    report = HostReport(plan)
    try:
        addresses = _addresses(plan, deadline)
    except ServiceError as exc:
        report.error = exc
        return report
    # DNS rotates the order of records: sort, so that output and perfdata stay stable between runs.
    addresses.sort(key=lambda a: (a.family != socket.AF_INET, socket.inet_pton(a.family, a.ip)))
    report.addresses_found = len(addresses)
    services = [
        ServiceReport(Target(plan.host, plan.port, plan.dialect, address, plan.servername))
        for address in addresses[:MAX_ADDRESSES]
    ]
    report.services = services

    offers: list[ClientOffer] = [PRIMARY]
    offers += [key_type_offer(kt) for kt in KEY_TYPES]
    offers += [profile.offer for profile in plan.clients]
    offers += [cipher_offer(name) for name in plan.ciphers]
    if plan.versions:
        offers += [version_offer(version) for version in VERSIONS]
    # SSLContexts are made here, in one thread, before any probe starts; each serves every address.
    contexts: list[ssl.SSLContext] = [offer.context() for offer in offers]
    # Offer by offer across the addresses, so that every address's default probe goes first.
    jobs = [
        (lambda service=service, offer=offer, ctx=ctx: probe(service.target, offer, ctx, deadline))
        for offer, ctx in zip(offers, contexts, strict=True)
        for service in services
    ]
    lookup = threading.Thread(target=_tlsa, args=(report, plan, deadline), name="tlsa", daemon=True)
    lookup.start()
    outcomes = iter(run_concurrently(jobs, plan.parallel))
    lookup.join(max(deadline.remaining(), 0.0))
    by_offer = [[next(outcomes) for _ in services] for _ in offers]
    for index, service in enumerate(services):
        column = iter(row[index] for row in by_offer)
        service.primary = next(column)
        service.key_probes = {kt: next(column) for kt in KEY_TYPES}
        service.clients = [(profile, next(column)) for profile in plan.clients]
        service.ciphers = [(name, next(column)) for name in plan.ciphers]
        if plan.versions:
            service.versions = {version: next(column) for version in VERSIONS}
    report.seconds = time.monotonic() - started
    return report
