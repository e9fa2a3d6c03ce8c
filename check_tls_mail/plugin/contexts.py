"""The nagiosplugin Contexts of the core findings: each judges one kind of finding, from the finding alone.

A context never reads the resource: the finding it gets names its subject and
carries what the judgement needs. Words come from wording.py; which address a
judgement is about is the summary's to say (from the finding, not the words).
The optional checks' contexts live in their folders (checks/) and use the
helpers at the end of this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nagiosplugin
from nagiosplugin import Context, Metric, Performance, Range, Result
from nagiosplugin.state import Critical, Ok, Unknown, Warn

from ..probe.outcome import Accepted, HandshakeOutcome, Rejected
from ..tls.versions import TlsVersion
from ..words import CLAUSES, certificate, days, when
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
)
from .findings import Versions as VersionsFinding
from .thresholds import ExpiryThreshold, crossed, fmt_days

if TYPE_CHECKING:
    from nagiosplugin.state import ServiceState

    from ..judgement.assessment import Served
    from ..severity import Severity


def whose(served: Served) -> str:
    """'RSA certificate: ' before the words of a judgement of a certificate other than the default one."""
    named = served.named
    return f"{certificate(named)}: " if named else ""


class QuietContext(Context):
    """A context whose metrics carry no perfdata."""

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> None:
        return None


class ServiceContext(QuietContext):
    """The service could not be probed: resolution, connection, dialogue, STARTTLS, handshake, certificate."""

    def __init__(self) -> None:
        super().__init__("service")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: ServiceDown = metric.value
        failure = finding.failure
        from . import wording  # the words of states that happen, imported only then

        text = str(failure) if isinstance(failure, Exception) else wording.service_failure(failure)
        address = finding.address
        if address is not None and address.clients and isinstance(failure, Rejected):
            from ..judgement.diagnosis import refuses_every_offer

            if refuses_every_offer(address.report):
                text = wording.every_offer_refused(failure, len(address.clients))
        return Result(Critical, text, metric)


class FirstHelloContext(QuietContext):
    """The first handshake's large ClientHello dropped while a small one connected: the certificates come from
    the small one, and every client whose hello is as large is locked out (CRITICAL)."""

    def __init__(self) -> None:
        super().__init__("first_hello")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: FirstHello = metric.value
        diagnosis = finding.diagnosis
        from ..judgement.diagnosis import Why
        from . import wording

        if diagnosis.why is not Why.LARGE_HELLO_DROPPED:  # as large a hello got through: no verdict on the size
            return Result(Warn, wording.first_hello(diagnosis, finding.library), metric)
        clients = [c.diagnosis for c in finding.address.clients if c.diagnosis is not None]
        if any(d.why is Why.LARGE_HELLO_DROPPED for d in clients):  # a client's words say it, with its name
            return Result(Critical, None, metric)
        return Result(Critical, wording.first_hello(diagnosis, finding.library), metric)


class ChainContext(QuietContext):
    """Trust and name (judged unless --no-verify-chain), and certificates not yet valid."""

    def __init__(self) -> None:
        super().__init__("chain")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: ChainJudged = metric.value
        problems = finding.served.chain.problems
        if problems:
            from . import wording

            return Result(Critical, whose(finding.served) + wording.problems(problems), metric)
        return Result(Ok, None, metric)


class ExpiryContext(Context):
    """Days remaining against -w/-c, resolved per certificate (percent of its lifetime)."""

    def __init__(self, warning: ExpiryThreshold, critical: ExpiryThreshold) -> None:
        super().__init__("expiry")
        self.warning = warning
        self.critical = critical

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: Expiry = metric.value
        kind = certificate(finding.served.named)
        what = f"intermediate {finding.certificate.subject} (before the {kind})" if finding.intermediate else kind
        left = finding.days
        until = when(finding.certificate.valid_until)
        crossing = crossed(self.warning, self.critical, finding.lifetime)
        if crossing is not None:
            return Result(Unknown, f"{what}: {crossing}", metric)
        if left <= 0:
            return Result(Critical, f"{what} expired {-left:.1f} days ago ({until})", metric)
        for state, threshold in ((Critical, self.critical), (Warn, self.warning)):
            if left < threshold.days(finding.lifetime):
                hint = f"{what} expires in {days(left)} ({until}), below {threshold.describe(finding.lifetime)}"
                return Result(state, hint, metric)
        return Result(Ok, None, metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> Performance:
        finding: Expiry = metric.value
        lifetime = finding.lifetime
        return Performance(
            metric.name,
            f"{finding.days:.2f}",
            warn=Range(f"{fmt_days(self.warning.days(lifetime))}:"),
            crit=Range(f"{fmt_days(self.critical.days(lifetime))}:"),
            max=int(lifetime) if lifetime == int(lifetime) else lifetime,
        )


class LifetimeContext(Context):
    """The share of the lifetime gone: perfdata only (the expiry context judges), with -w/-c as upper bounds."""

    def __init__(self, warning: ExpiryThreshold, critical: ExpiryThreshold) -> None:
        super().__init__("lifetime")
        self.warning = warning
        self.critical = critical

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        return Result(Ok, None, metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> Performance:
        finding: LifetimeUsed = metric.value
        lifetime = finding.lifetime

        def bound(threshold: ExpiryThreshold) -> str:
            return fmt_days(max(0.0, 100 * (1 - threshold.days(lifetime) / lifetime)))

        return Performance(
            metric.name,
            f"{min(max(finding.percent, 0.0), 100.0):.2f}",
            uom="%",
            warn=bound(self.warning),
            crit=bound(self.critical),
            min=0,
            max=100,
        )


class ClientContext(QuietContext):
    """A client profile that must connect."""

    def __init__(self) -> None:
        super().__init__("client")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: ClientTried = metric.value
        diagnosis = finding.result.diagnosis
        if diagnosis is None:
            return Result(Ok, None, metric)
        if finding.result.repeats_chain or finding.service_down:  # the chain's or the service's words say it
            return Result(Critical, None, metric)
        from ..judgement.diagnosis import Why
        from . import wording

        state = Warn if diagnosis.why is Why.NOT_PROBED else Critical  # no verdict on the client: a warning
        return Result(state, wording.diagnosis(diagnosis), metric)


class CipherContext(QuietContext):
    """A cipher that must be accepted on its own over TLS 1.2."""

    def __init__(self) -> None:
        super().__init__("cipher")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: CipherTried = metric.value
        diagnosis = finding.result.diagnosis
        if diagnosis is None:
            return Result(Ok, None, metric)
        from . import wording

        return Result(Critical, wording.diagnosis(diagnosis, cipher=True), metric)


class AllAcceptedContext(Context):
    """Perfdata for the number accepted; each one is judged by its own context."""

    def __init__(self) -> None:
        super().__init__("all_accepted")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        return Result(Ok, None, metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> Performance:
        finding: AcceptedCount = metric.value
        total = finding.total
        return Performance(metric.name, finding.accepted, crit=Range(f"{total}:"), min=0, max=total)


class TimeContext(Context):
    """Seconds, as perfdata only."""

    def __init__(self) -> None:
        super().__init__("time")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        return Result(Ok, None, metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> Performance:
        finding: Elapsed = metric.value
        return Performance(metric.name, finding.seconds, "s", min=0)


def _local_limit(outcome: HandshakeOutcome) -> bool:
    """The local OpenSSL could not make the offer: the server was not tested."""
    return isinstance(outcome, Rejected) and outcome.cause.local_limit


class VersionPolicyContext(QuietContext):
    """--min-tls: nothing older accepted; --require-tls: each of these accepted."""

    def __init__(self, min_tls: TlsVersion | None, required: tuple[TlsVersion, ...]) -> None:
        super().__init__("versions")
        self.min_tls = min_tls
        self.required = required

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: VersionsFinding = metric.value
        versions = finding.outcomes
        accepted = [v for v, o in versions.items() if isinstance(o, Accepted)]
        problems = []
        if self.min_tls is not None:
            old = [v for v in accepted if v < self.min_tls]
            if old:
                problems.append(f"accepts TLS {_numbers(old)}, older than --min-tls {self.min_tls.number}")
        # A required version this host's OpenSSL cannot offer was not tested. An old one it cannot offer
        # under --min-tls is not made UNKNOWN, which would outrank every other verdict on such a host for
        # good: -v shows it as not offered locally.
        untested = [v for v in self.required if _local_limit(versions[v])]
        missing = [v for v in self.required if v not in accepted and v not in untested]
        if missing:
            problems.append(f"does not accept TLS {_numbers(missing)} (--require-tls)")
        if problems:
            return Result(Critical, "server " + CLAUSES.join(problems), metric)
        if untested:
            return Result(Unknown, f"this host's OpenSSL cannot offer TLS {_numbers(untested)}", metric)
        return Result(Ok, None, metric)


def _numbers(versions: list[TlsVersion]) -> str:
    """'1.0, 1.1' (after the words 'TLS')."""
    return ", ".join(v.number for v in versions)


# --- for the optional checks' contexts (checks/): states from their severity(), words naming the certificate ---


def state_of(severity: Severity) -> ServiceState:
    return (Ok, Warn, Critical, Unknown)[severity]


def the(served: Served) -> str:
    """How the words of a check name the certificate: 'the certificate', 'the RSA certificate'."""
    return f"the {certificate(served.named)}"
