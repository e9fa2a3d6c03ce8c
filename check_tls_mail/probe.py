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
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from .dialects import Dialect
from .errors import ServiceError
from .handshake import (
    PRIMARY,
    VERSIONS,
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


class Purpose(enum.Enum):
    """What a probe is for."""

    DEFAULT = "the widest offer: certificate and preferred version"
    KEY_TYPE = "TLS 1.2 with the suites of one certificate key type"
    CLIENT = "a client profile"
    CIPHER = "one required cipher over TLS 1.2"
    VERSION = "exactly one TLS version"


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

    def offers(self) -> dict[ProbeKey, ClientOffer]:
        """Every probe one address gets, in the order they start, with what each offers."""
        offers = {DEFAULT_PROBE: PRIMARY}
        offers.update({ProbeKey(Purpose.KEY_TYPE, kt): key_type_offer(kt) for kt in KEY_TYPES})
        offers.update({ProbeKey(Purpose.CLIENT, p.name): p.offer for p in self.clients})
        offers.update({ProbeKey(Purpose.CIPHER, name): cipher_offer(name) for name in self.ciphers})
        if self.versions:
            offers.update({ProbeKey(Purpose.VERSION, v): version_offer(v) for v in VERSIONS})
        return offers


class AddressReport(NamedTuple):
    """What the server at one address did, probe by probe. Measured, not judged."""

    target: Target
    outcomes: Mapping[ProbeKey, HandshakeOutcome]

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


def run(plan: ProbePlan) -> HostReport:
    started = time.monotonic()
    deadline = Deadline(plan.seconds)
    lookup = _TlsaLookup(plan, deadline)
    try:
        addresses = _addresses(plan, deadline)
    except ServiceError as exc:
        return HostReport(plan, exc, (), TlsaState(TlsaStatus.NOT_ASKED), 0, time.monotonic() - started)
    # DNS rotates the order of records: sort, so that output and perfdata stay stable between runs.
    addresses.sort(key=lambda a: (a.family != socket.AF_INET, socket.inet_pton(a.family, a.ip)))
    targets = [Target(plan.host, plan.port, plan.dialect, address, plan.servername) for address in addresses]
    targets = targets[:MAX_ADDRESSES]

    offers = plan.offers()
    # SSLContexts are made here, in one thread, before any probe starts; each serves every address.
    contexts: dict[ProbeKey, ssl.SSLContext] = {key: offer.context() for key, offer in offers.items()}
    # Offer by offer across the addresses, so that every address's default probe goes first.
    order = [(key, index) for key in offers for index in range(len(targets))]
    jobs = [
        (lambda key=key, index=index: probe(targets[index], offers[key], contexts[key], deadline))
        for key, index in order
    ]
    outcomes = dict(zip(order, run_concurrently(jobs, plan.parallel), strict=True))
    reports = tuple(
        AddressReport(target, MappingProxyType({key: outcomes[key, index] for key in offers}))
        for index, target in enumerate(targets)
    )
    return HostReport(plan, None, reports, lookup.result(), len(addresses), time.monotonic() - started)
