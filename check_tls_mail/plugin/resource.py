"""The nagiosplugin Resource: collect the probe reports, assess them, and yield one metric per finding.

It measures and hands over typed findings; it judges nothing (the contexts
do). A name with several addresses is probed at each; every finding names
its address, and ``findings.label`` puts it into the metric name.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from datetime import datetime
from typing import Any

import nagiosplugin
from nagiosplugin import Metric

from ..judgement.assessment import AddressAssessment, Assessment, Origin, assess
from ..probe.outcome import Accepted, Rejected
from ..probe.plan import DEFAULT_PROBE
from ..probe.report import HostReport
from ..x509.chain import utcnow
from ..x509.store import TrustAnchors
from .extras import Judging
from .findings import (
    AcceptedCount,
    ChainJudged,
    CipherTried,
    ClientTried,
    Elapsed,
    Expiry,
    FirstHello,
    LifetimeUsed,
    ServiceDown,
    Versions,
    metric,
)


class MailTlsService(nagiosplugin.Resource):
    """Probes the service at every address; yields the findings of the assessment."""

    def __init__(
        self,
        collect: Callable[[], HostReport],
        anchors: TrustAnchors | None,
        name: str,
        clock: Callable[[], datetime] = utcnow,
        extras: Sequence[Judging] = (),
    ) -> None:
        self.collect = collect
        self.anchors = anchors
        self.name_to_check = name
        self.clock = clock
        self.extras = extras
        self.assessment: Assessment | None = None
        #: Each optional check's name -> what it judged (its own type), for the summary and the long output.
        self.judged: dict[str, Any] = {}

    @property
    def name(self) -> str:  # type: ignore[override]  # a property at run time, an attribute in the stubs
        return "TLS_MAIL"

    def probe(self) -> Generator[Metric, None, None]:
        host = self.collect()
        self.assessment = assessment = assess(host, self.anchors, self.name_to_check, self.clock())
        self.judged = {extra.name: extra.assess(host.extras.get(extra.name), assessment) for extra in self.extras}
        if host.error is not None:
            yield metric(ServiceDown(None, host.error), "service")
            return
        for address in assessment.addresses:
            yield from self._address(assessment, address)
        for extra in self.extras:
            yield from extra.metrics(self.judged[extra.name], assessment)
        if host.plan.clients or host.plan.ciphers:
            yield metric(Elapsed(None, round(host.seconds, 4)), "time")

    def _address(self, assessment: Assessment, address: AddressAssessment) -> Generator[Metric, None, None]:
        primary = address.report.primary
        if address.reference is None:
            yield metric(ServiceDown(address, primary), "service")
            if isinstance(primary, Rejected):  # the server answered TLS: each client's verdict, clients_ok too
                yield from self._clients(address, service_down=True)
            return
        if isinstance(primary, Accepted):  # else the clients' own hellos got through where OpenSSL's offer cannot
            yield metric(Elapsed(address, round(primary.seconds, 4)), "time")
        if address.first_hello is not None:  # the certificates come from the small hello made after it
            library = address.report.small[DEFAULT_PROBE].library
            yield metric(FirstHello(address, address.first_hello, library), "first_hello")
        if address.unreadable is not None:
            yield metric(ServiceDown(address, address.unreadable), "service")
            return
        now = assessment.now
        for served in address.served:
            leaf = served.chain.leaf
            lifetime = round(leaf.lifetime_days, 2)
            yield metric(ChainJudged(address, served), "chain")
            yield metric(Expiry(address, served, leaf, False, leaf.days_left(now), lifetime), "expiry")
            earliest = served.chain.earliest
            if earliest.valid_until < leaf.valid_until:
                yield metric(Expiry(address, served, earliest, True, earliest.days_left(now), lifetime), "expiry")
            for extra in self.extras:
                yield from extra.served_metrics(self.judged[extra.name], address, served)
        used = [
            LifetimeUsed(address, served, 100 * (1 - served.chain.leaf.days_left(now) / days), days)
            for served in address.served
            if (days := served.chain.leaf.lifetime_days) > 0
        ]
        if used:  # one per address: the certificate nearest its end, as a share, for engines that drop ranges
            yield metric(max(used, key=lambda u: u.percent), "lifetime")
        # A certificate only one client's hello got: its dates are judged and graphed as the others'.
        own = {
            c.given.sent[:1]: c.given
            for c in address.clients
            if c.given is not None and c.given.origin is Origin.CLIENT
        }
        for ordinal, given in enumerate(own.values()):
            given = given._replace(ordinal=ordinal)
            leaf = given.chain.leaf
            yield metric(
                Expiry(address, given, leaf, False, leaf.days_left(now), round(leaf.lifetime_days, 2)), "expiry"
            )
        yield from self._clients(address)
        for cipher in address.ciphers:
            yield metric(CipherTried(address, cipher), "cipher")
        if address.ciphers:
            accepted = sum(isinstance(c.outcome, Accepted) for c in address.ciphers)
            yield metric(AcceptedCount(address, True, accepted, len(address.ciphers)), "all_accepted")
        if address.versions:
            yield metric(Versions(address, address.versions), "versions")

    @staticmethod
    def _clients(address: AddressAssessment, service_down: bool = False) -> Generator[Metric, None, None]:
        for client in address.clients:
            yield metric(ClientTried(address, client, service_down), "client")
        if address.clients:
            accepted = sum(c.connects for c in address.clients)
            yield metric(AcceptedCount(address, False, accepted, len(address.clients)), "all_accepted")
