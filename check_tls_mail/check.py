"""nagiosplugin layer: the Resource measures, the Contexts judge, the Summary words it."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime
from typing import NamedTuple

import nagiosplugin
from nagiosplugin import Context, Metric, Performance, Range, Result, Results
from nagiosplugin.state import Critical, Ok, Warn

from .certificate import CertificateFacts, ChainReport, TrustAnchors, judge_chain, utcnow
from .diagnosis import explain
from .errors import ServiceError
from .handshake import Accepted, HandshakeOutcome, Rejected, cipher_offer
from .probe import ProbePlan, ServiceReport, run
from .thresholds import ExpiryThreshold, fmt_days


class Served(NamedTuple):
    """One distinct certificate the service serves, judged."""

    label: str  # "" for the default one, else its key type in lower case ("rsa")
    key_type: str
    chain: ChainReport


class MailTlsService(nagiosplugin.Resource):
    """Probes the service and yields one metric per measured fact."""

    def __init__(
        self,
        plan: ProbePlan,
        anchors: TrustAnchors | None,
        name: str,
        collect: Callable[[], ServiceReport] | None = None,
    ) -> None:
        self.plan = plan
        self.collect = collect or (lambda: run(plan))
        self.anchors = anchors
        self.name_to_check = name
        self.report = ServiceReport(plan)
        self.served: list[Served] = []
        self.now: datetime = utcnow()

    @property
    def name(self) -> str:  # type: ignore[override]  # a property at run time, an attribute in the stubs
        return "TLS_MAIL"

    def _judge(self, outcome: Accepted) -> ChainReport:
        return judge_chain(outcome.chain, self.name_to_check, self.anchors, self.now, outcome.chain_sent)

    def _serve(self, primary: Accepted) -> list[Served]:
        """The default certificate, plus any other one the key-type probes found."""
        first = self._judge(primary)
        served = [Served("", first.leaf.key_type, first)]
        seen = {first.leaf.fingerprint}
        for outcome in self.report.key_probes.values():
            if not isinstance(outcome, Accepted) or not outcome.chain:
                continue
            chain = self._judge(outcome)
            if chain.leaf.fingerprint in seen:
                continue
            seen.add(chain.leaf.fingerprint)
            label = chain.leaf.key_type.lower()
            if any(s.label == label for s in served):
                label = f"{label}{len(served)}"
            served.append(Served(label, chain.leaf.key_type, chain))
        return served

    def served_by_metric(self, metric_name: str) -> Served:
        label = metric_name.rsplit("_", 1)[-1] if metric_name.count("_") > 1 else ""
        return next(s for s in self.served if s.label == label)

    def probe(self) -> Generator[Metric, None, None]:
        self.report = report = self.collect()
        self.now = utcnow()
        if report.error is not None:
            yield Metric("service", report.error, context="service")
            return
        primary = report.primary
        if not isinstance(primary, Accepted):
            yield Metric("service", primary, context="service")
            return
        yield Metric("handshake_time", round(primary.seconds, 4), uom="s", min=0, context="time")
        try:
            self.served = self._serve(primary)
        except ServiceError as exc:  # a certificate that cannot be read at all
            yield Metric("service", exc, context="service")
            return
        for served in self.served:
            suffix = f"_{served.label}" if served.label else ""
            leaf = served.chain.leaf
            lifetime = round(leaf.lifetime_days, 2)
            yield Metric(f"chain{suffix}", served.chain, context="chain")
            yield Metric(f"days_remaining{suffix}", leaf.days_left(self.now), max=lifetime, context="expiry")
            earliest = served.chain.earliest
            if earliest.not_after < leaf.not_after:
                yield Metric(f"days_chain{suffix}", earliest.days_left(self.now), max=lifetime, context="expiry")
        for profile, outcome in report.clients:
            yield Metric(f"client {profile.name}", outcome, context="client")
        if report.clients:
            accepted = sum(isinstance(o, Accepted) for _, o in report.clients)
            yield Metric("clients_ok", accepted, min=0, max=len(report.clients), context="all_accepted")
        for name, outcome in report.ciphers:
            yield Metric(f"cipher {name}", outcome, context="cipher")
        if report.ciphers:
            accepted = sum(isinstance(o, Accepted) for _, o in report.ciphers)
            yield Metric("ciphers_ok", accepted, min=0, max=len(report.ciphers), context="all_accepted")
        if report.clients or report.ciphers:
            yield Metric("probes_time", round(report.seconds, 4), uom="s", min=0, context="time")


class ServiceContext(Context):
    """The service could not be probed: connection, dialogue, STARTTLS or handshake."""

    def __init__(self) -> None:
        super().__init__("service")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        failure = metric.value
        text = str(failure)
        if isinstance(failure, Rejected) and not text.startswith("TLS handshake"):
            text = f"TLS handshake failed: {text}"
        return Result(Critical, text, metric)


class ChainContext(Context):
    """Trust and name (unless --no-verify-chain), and certificates not yet valid."""

    def __init__(self, verify: bool) -> None:
        super().__init__("chain")
        self.verify = verify

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        assert isinstance(resource, MailTlsService)
        chain: ChainReport = metric.value
        problems = [p for p in chain.validity_problems(resource.now) if "not valid before" in p]
        if self.verify:
            problems += [p for p in (chain.trust_problem, chain.name_problem) if p]
        if problems:
            served = resource.served_by_metric(metric.name)
            prefix = f"{served.key_type} certificate: " if served.label else ""
            return Result(Critical, prefix + "; ".join(problems), metric)
        return Result(Ok, None, metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> None:
        return None


class ExpiryContext(Context):
    """Days remaining against -w/-c, resolved per certificate (percent of its lifetime)."""

    def __init__(self, warning: ExpiryThreshold, critical: ExpiryThreshold) -> None:
        super().__init__("expiry")
        self.warning = warning
        self.critical = critical

    def _subject(self, metric: Metric, resource: MailTlsService) -> tuple[str, CertificateFacts]:
        served = resource.served_by_metric(metric.name)
        kind = f"{served.key_type} certificate" if served.label else "certificate"
        if metric.name.startswith("days_chain"):
            earliest = served.chain.earliest
            return f"intermediate {earliest.subject} (before the {kind})", earliest
        return kind, served.chain.leaf

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        assert isinstance(resource, MailTlsService)
        what, facts = self._subject(metric, resource)
        days = metric.value
        lifetime = metric.max
        until = facts.not_after.strftime("%Y-%m-%d %H:%M UTC")
        if days <= 0:
            return Result(Critical, f"{what} expired {-days:.1f} days ago ({until})", metric)
        for state, threshold in ((Critical, self.critical), (Warn, self.warning)):
            if days < threshold.days(lifetime):
                hint = f"{what} expires in {_days(days)} ({until}), below {threshold.describe(lifetime)}"
                return Result(state, hint, metric)
        return Result(Ok, None, metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> Performance:
        lifetime = metric.max
        return Performance(
            metric.name,
            f"{metric.value:.2f}",
            warn=Range(f"{fmt_days(self.warning.days(lifetime))}:"),
            crit=Range(f"{fmt_days(self.critical.days(lifetime))}:"),
            max=int(lifetime) if lifetime == int(lifetime) else lifetime,
        )


def _days(days: float) -> str:
    return f"{days * 24:.1f} hours" if days < 2 else f"{days:.1f} days"


class AcceptedContext(Context):
    """A client profile or cipher that must be accepted."""

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        assert isinstance(resource, MailTlsService)
        outcome: HandshakeOutcome = metric.value
        if isinstance(outcome, Accepted):
            return Result(Ok, None, metric)
        return Result(Critical, self.why(metric, outcome, resource), metric)

    def why(self, metric: Metric, outcome: HandshakeOutcome, resource: MailTlsService) -> str:
        report = resource.report
        key_type = resource.served[0].key_type if resource.served else None
        name = metric.name.split(" ", 1)[1]
        if self.name == "client":
            profile = next(p for p, _ in report.clients if p.name == name)
            return explain(profile.offer, outcome, report, key_type)
        return explain(cipher_offer(name), outcome, report, key_type, who="this cipher")

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> None:
        return None


class AllAcceptedContext(Context):
    """Perfdata for the number accepted; each one is judged by its own context."""

    def __init__(self) -> None:
        super().__init__("all_accepted")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        return Result(Ok, None, metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> Performance:
        return Performance(metric.name, metric.value, crit=Range(f"{metric.max}:"), min=0, max=metric.max)


class TlsMailSummary(nagiosplugin.Summary):
    """Words the first line: what was checked, and every problem, worst first."""

    def __init__(self, resource: MailTlsService, warning: ExpiryThreshold | None = None, verbosity: int = 0) -> None:
        self.resource = resource
        self.warning = warning
        self.verbosity = verbosity

    def _where(self) -> str:
        plan = self.resource.plan
        return f"{plan.host}:{plan.port} {plan.dialect.name}"

    def _certificates(self) -> str:
        now = self.resource.now
        parts = []
        for served in self.resource.served:
            leaf = served.chain.leaf
            until = leaf.not_after.strftime("%Y-%m-%d %H:%M UTC")
            warn = ""
            if self.warning is not None and self.warning.unit == "percent":
                warn = f", warning at {fmt_days(self.warning.days(leaf.lifetime_days))} days"
            parts.append(f"{leaf.key} certificate valid {_days(leaf.days_left(now))} (until {until}{warn})")
        return " and ".join(parts)

    def ok(self, results: Results) -> str:
        report = self.resource.report
        primary = report.primary
        assert isinstance(primary, Accepted)
        words = [f"{self._where()} {self.resource.plan.dialect.upgrade_word}", primary.version, self._certificates()]
        if report.clients:
            words.append(f"{len(report.clients)}/{len(report.clients)} clients connect")
        if report.ciphers:
            words.append(f"{len(report.ciphers)}/{len(report.ciphers)} ciphers accepted")
        return ", ".join(words)

    def problem(self, results: Results) -> str:
        entries: list[str | tuple[str, str, str]] = []
        groups: dict[tuple[str, str, str], list[str]] = {}
        for result in sorted(results, key=lambda r: -int(r.state)):
            if result.state == Ok or not result.hint:
                continue
            if result.metric is not None and result.metric.context in ("client", "cipher"):
                kind, name = result.metric.name.split(" ", 1)
                key = (kind, self._over(kind, name), result.hint)
                if key not in groups:
                    groups[key] = []
                    entries.append(key)
                groups[key].append(name if kind == "cipher" else self._title(name))
            else:
                entries.append(result.hint)
        words = [entry if isinstance(entry, str) else self._group(entry, groups[entry]) for entry in entries]
        certificate_judged = any(
            r.state != Ok and r.metric is not None and r.metric.context in ("expiry", "chain") for r in results
        )
        if self.resource.served and not certificate_judged:
            words.append(self._certificates())
        return f"{self._where()}: " + "; ".join(words)

    @staticmethod
    def _group(key: tuple[str, str, str], names: list[str]) -> str:
        kind, over, why = key
        if kind == "cipher":
            plural = "s" if len(names) > 1 else ""
            return f"cipher{plural} {_join(names)} rejected{over}: {why}"
        return f"{_join(names)} cannot connect{over}: {why}"

    def _title(self, name: str) -> str:
        return next(p.title for p, _ in self.resource.report.clients if p.name == name)

    def _over(self, kind: str, name: str) -> str:
        if kind == "cipher":
            return " over TLS 1.2"
        profile = next(p for p, _ in self.resource.report.clients if p.name == name)
        return f" over TLS {profile.max_version}" if profile.tls12_only else ""

    def verbose(self, results: Results) -> list[str]:
        return long_output(self.resource, self.verbosity)


def _outcome(outcome: HandshakeOutcome | None) -> str:
    if isinstance(outcome, Accepted):
        return f"accepted, {outcome.version} {outcome.cipher} ({outcome.seconds:.3f} s)"
    if outcome is None:
        return "not run"
    verb = "rejected" if isinstance(outcome, Rejected) else "failed"
    return f"{verb}: {outcome} ({outcome.seconds:.3f} s)"


def _transcript(title: str, outcome: HandshakeOutcome | None) -> list[str]:
    if outcome is None or not outcome.transcript:
        return []
    return [f"{title} dialogue:"] + [f"  {who}: {text}" for who, text in outcome.transcript]


def long_output(resource: MailTlsService, verbosity: int) -> list[str]:
    """What was checked, for -v (1), the dialogue too (2), every probe's dialogue (3)."""
    if verbosity < 1:
        return []
    report = resource.report
    plan = resource.plan
    where = f"{plan.host}:{plan.port}"
    if report.target is not None:
        where += f" ({report.target.address.ip})"
    lines = [f"service: {where} {plan.dialect.name}, {plan.dialect.description}; SNI {plan.servername or 'none'}"]
    lines.append(f"default client (TLS 1.0-1.3, all suites): {_outcome(report.primary)}")
    if verbosity >= 2:
        lines += _transcript("default client", report.primary)
    now = resource.now
    for served in resource.served:
        chain = served.chain
        leaf = chain.leaf
        trust = {True: "trusted", False: "NOT trusted", None: "trust not checked"}[chain.trusted]
        lines.append(
            f"certificate{' (' + served.key_type + ')' if served.label else ''}: {leaf.subject}, {leaf.key}, "
            f"{leaf.not_before:%Y-%m-%d} to {leaf.not_after:%Y-%m-%d %H:%M} UTC "
            f"({_days(leaf.days_left(now))} left of {leaf.lifetime_days:.0f} days); "
            f"names: {leaf.names}; {trust}; server sent {chain.sent} certificate(s)"
        )
        for position, facts in enumerate(chain.path[1:], 1):
            lines.append(
                f"  chain {position}: {facts.subject}, {facts.key}, until "
                f"{facts.not_after:%Y-%m-%d %H:%M} UTC ({_days(facts.days_left(now))} left), issuer {facts.issuer}"
            )
        if verbosity >= 2 and chain.verifier_detail:
            lines.append(f"  verifier: {chain.verifier_detail}")
    for key_type, outcome in report.key_probes.items():
        lines.append(f"{key_type} suites over TLS 1.2: {_outcome(outcome)}")
        if verbosity >= 3:
            lines += _transcript(f"{key_type} probe", outcome)
    for profile, outcome in report.clients:
        lines.append(f"client {profile.title} (TLS {profile.min_version}-{profile.max_version}): {_outcome(outcome)}")
        if verbosity >= 3:
            lines += _transcript(profile.title, outcome)
    for name, outcome in report.ciphers:
        lines.append(f"cipher {name} (TLS 1.2): {_outcome(outcome)}")
        if verbosity >= 3:
            lines += _transcript(name, outcome)
    if report.clients or report.ciphers:
        lines.append(
            f"{1 + len(report.key_probes) + len(report.clients) + len(report.ciphers)} probes, "
            f"at most {plan.parallel} at once, took {report.seconds:.3f} s"
        )
    return lines


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def build(
    plan: ProbePlan,
    anchors: TrustAnchors | None,
    name: str,
    warning: ExpiryThreshold,
    critical: ExpiryThreshold,
    verbosity: int = 0,
    collect: Callable[[], ServiceReport] | None = None,
) -> nagiosplugin.Check:
    """One assembly: the resource, the contexts that judge it, the summary that words it."""
    resource = MailTlsService(plan, anchors, name, collect)
    check = nagiosplugin.Check(
        resource,
        ServiceContext(),
        ChainContext(verify=anchors is not None),
        ExpiryContext(warning, critical),
        AcceptedContext("client"),
        AcceptedContext("cipher"),
        AllAcceptedContext(),
        nagiosplugin.ScalarContext("time"),
        TlsMailSummary(resource, warning, verbosity),
    )
    check.name = "TLS_MAIL"
    return check
