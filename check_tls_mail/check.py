"""nagiosplugin layer: the Resource measures, the Contexts judge, the Summary words it.

A name with several addresses is probed at each; every metric of an address
carries the suffix ``@<ip>`` (in perfdata labels too), and every judgement
names the address. A name with one address keeps plain labels.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

import nagiosplugin
from nagiosplugin import Context, Metric, Performance, Range, Result, Results
from nagiosplugin.state import Critical, Ok, Warn

from .certificate import CertificateFacts, ChainReport, TrustAnchors, judge_chain, utcnow
from .diagnosis import explain

if TYPE_CHECKING:
    from .dane import DaneReport
from .errors import ServiceError
from .handshake import Accepted, HandshakeOutcome, Rejected, cipher_offer
from .probe import KEY_TYPES, HostReport, ProbePlan, ServiceReport, run
from .profiles import ClientProfile
from .thresholds import ExpiryThreshold, fmt_days


class Served(NamedTuple):
    """One distinct certificate the service serves, judged."""

    label: str  # "" for the default one, else its key type in lower case ("rsa")
    key_type: str
    chain: ChainReport
    sent: tuple[bytes, ...]  # the chain as the server sent it (DER), for DANE


class Scope(NamedTuple):
    """One address of the service and what was found there."""

    report: ServiceReport
    tag: str  # "" when the name has one address, else "@<ip>", appended to metric names
    served: list[Served]

    @property
    def prefix(self) -> str:
        """How a judgement names the address: "" or "192.0.2.25: "."""
        return f"{self.tag[1:]}: " if self.tag else ""


def _split(metric_name: str) -> tuple[str, str]:
    """("days_remaining_rsa", "@192.0.2.25") from "days_remaining_rsa@192.0.2.25"."""
    base, at, ip = metric_name.partition("@")
    return base, at + ip


class MailTlsService(nagiosplugin.Resource):
    """Probes the service at every address and yields one metric per measured fact."""

    def __init__(
        self,
        plan: ProbePlan,
        anchors: TrustAnchors | None,
        name: str,
        collect: Callable[[], HostReport] | None = None,
    ) -> None:
        self.plan = plan
        self.collect = collect or (lambda: run(plan))
        self.anchors = anchors
        self.name_to_check = name
        self.host = HostReport(plan)
        self.scopes: dict[str, Scope] = {}
        self.now: datetime = utcnow()

    @property
    def name(self) -> str:  # type: ignore[override]  # a property at run time, an attribute in the stubs
        return "TLS_MAIL"

    def scope(self, metric_name: str) -> Scope:
        return self.scopes[_split(metric_name)[1]]

    def served_by_metric(self, metric_name: str) -> Served:
        base, tag = _split(metric_name)
        label = base.rsplit("_", 1)[-1] if base.count("_") > 1 else ""
        return next(s for s in self.scopes[tag].served if s.label == label)

    def _judge(self, outcome: Accepted) -> ChainReport:
        return judge_chain(outcome.chain, self.name_to_check, self.anchors, self.now, outcome.chain_sent)

    def _serve(self, report: ServiceReport, primary: Accepted) -> list[Served]:
        """The default certificate, plus any other one the key-type probes found."""
        first = self._judge(primary)
        served = [Served("", first.leaf.key_type, first, primary.chain)]
        seen = {first.leaf.fingerprint}
        for outcome in report.key_probes.values():
            if not isinstance(outcome, Accepted) or not outcome.chain:
                continue
            chain = self._judge(outcome)
            if chain.leaf.fingerprint in seen:
                continue
            seen.add(chain.leaf.fingerprint)
            label = chain.leaf.key_type.lower()
            if any(s.label == label for s in served):
                label = f"{label}{len(served)}"
            served.append(Served(label, chain.leaf.key_type, chain, outcome.chain))
        return served

    def dane_report(self, served: Served) -> DaneReport | ServiceError:
        """The TLSA records judged against this certificate's chain, or why there are none."""
        tlsa = self.host.tlsa
        if tlsa is None:
            return ServiceError("TLSA records were not looked up")
        if isinstance(tlsa, ServiceError):
            return tlsa
        from .dane import judge

        return judge(tlsa, served.sent)

    def probe(self) -> Generator[Metric, None, None]:
        self.host = host = self.collect()
        self.now = utcnow()
        if host.error is not None:
            yield Metric("service", host.error, context="service")
            return
        several = len(host.services) > 1
        for report in host.services:
            scope = Scope(report, f"@{report.target.address.ip}" if several else "", [])
            self.scopes[scope.tag] = scope
            yield from self._address(scope)
        if self.plan.clients or self.plan.ciphers:
            yield Metric("probes_time", round(host.seconds, 4), uom="s", min=0, context="time")

    def _address(self, scope: Scope) -> Generator[Metric, None, None]:
        report, tag = scope.report, scope.tag
        primary = report.primary
        if not isinstance(primary, Accepted):
            yield Metric(f"service{tag}", primary, context="service")
            return
        yield Metric(f"handshake_time{tag}", round(primary.seconds, 4), uom="s", min=0, context="time")
        try:
            scope.served.extend(self._serve(report, primary))
        except ServiceError as exc:  # a certificate that cannot be read at all
            yield Metric(f"service{tag}", exc, context="service")
            return
        for served in scope.served:
            suffix = f"_{served.label}" if served.label else ""
            leaf = served.chain.leaf
            lifetime = round(leaf.lifetime_days, 2)
            yield Metric(f"chain{suffix}{tag}", served.chain, context="chain")
            yield Metric(f"days_remaining{suffix}{tag}", leaf.days_left(self.now), max=lifetime, context="expiry")
            earliest = served.chain.earliest
            if earliest.not_after < leaf.not_after:
                yield Metric(f"days_chain{suffix}{tag}", earliest.days_left(self.now), max=lifetime, context="expiry")
            if self.host.tlsa is not None:
                yield Metric(f"dane{suffix}{tag}", self.dane_report(served), context="dane")
        for profile, outcome in report.clients:
            yield Metric(f"client {profile.name}{tag}", outcome, context="client")
        if report.clients:
            accepted = sum(isinstance(o, Accepted) for _, o in report.clients)
            yield Metric(f"clients_ok{tag}", accepted, min=0, max=len(report.clients), context="all_accepted")
        for name, outcome in report.ciphers:
            yield Metric(f"cipher {name}{tag}", outcome, context="cipher")
        if report.ciphers:
            accepted = sum(isinstance(o, Accepted) for _, o in report.ciphers)
            yield Metric(f"ciphers_ok{tag}", accepted, min=0, max=len(report.ciphers), context="all_accepted")
        if report.versions:
            yield Metric(f"tls_versions{tag}", report.versions, context="versions")


class ServiceContext(Context):
    """The service could not be probed: resolution, connection, dialogue, STARTTLS or handshake."""

    def __init__(self) -> None:
        super().__init__("service")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        assert isinstance(resource, MailTlsService)
        failure = metric.value
        text = str(failure)
        if isinstance(failure, Rejected) and not text.startswith("TLS handshake"):
            text = f"TLS handshake failed: {text}"
        scope = resource.scopes.get(_split(metric.name)[1])
        return Result(Critical, (scope.prefix if scope else "") + text, metric)


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
            prefix = resource.scope(metric.name).prefix
            prefix += f"{served.key_type} certificate: " if served.label else ""
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
        what = resource.scope(metric.name).prefix + what
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


def _profile(report: ServiceReport, name: str) -> ClientProfile:
    return next(p for p, _ in report.clients if p.name == name)


class AcceptedContext(Context):
    """A client profile or cipher that must be accepted."""

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        assert isinstance(resource, MailTlsService)
        outcome: HandshakeOutcome = metric.value
        if isinstance(outcome, Accepted):
            return Result(Ok, None, metric)
        return Result(Critical, self.why(metric, outcome, resource), metric)

    def why(self, metric: Metric, outcome: HandshakeOutcome, resource: MailTlsService) -> str:
        scope = resource.scope(metric.name)
        key_type = scope.served[0].key_type if scope.served else None
        name = _split(metric.name)[0].split(" ", 1)[1]
        if self.name == "client":
            return explain(_profile(scope.report, name).offer, outcome, scope.report, key_type)
        return explain(cipher_offer(name), outcome, scope.report, key_type, who="this cipher")

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


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def cannot_offer_locally(outcome: HandshakeOutcome) -> bool:
    return isinstance(outcome, Rejected) and "offered locally" in outcome.reason


class VersionPolicyContext(Context):
    """--min-tls: nothing older accepted; --require-tls: each of these accepted."""

    def __init__(self, min_tls: str | None, required: tuple[str, ...]) -> None:
        super().__init__("versions")
        self.min_tls = min_tls
        self.required = required

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        assert isinstance(resource, MailTlsService)
        versions: dict[str, HandshakeOutcome] = metric.value
        accepted = [v for v, o in versions.items() if isinstance(o, Accepted)]
        problems = []
        if self.min_tls:
            old = [v for v in accepted if _version_key(v) < _version_key(self.min_tls)]
            if old:
                problems.append(f"accepts TLS {', '.join(old)}, older than --min-tls {self.min_tls}")
        untested = [v for v in self.required if cannot_offer_locally(versions[v])]
        missing = [v for v in self.required if v not in accepted and v not in untested]
        if missing:
            problems.append(f"does not accept TLS {', '.join(missing)} (--require-tls)")
        prefix = resource.scope(metric.name).prefix
        if problems:
            return Result(Critical, prefix + "server " + "; ".join(problems), metric)
        if untested:
            return Result(
                nagiosplugin.Unknown, f"{prefix}this host's OpenSSL cannot offer TLS {', '.join(untested)}", metric
            )
        return Result(Ok, None, metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> None:
        return None


class DaneContext(Context):
    """TLSA records (DANE): validated, usable, and matching what the server presents."""

    def __init__(self, required: bool) -> None:
        super().__init__("dane")
        self.required = required

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        assert isinstance(resource, MailTlsService)
        served = resource.served_by_metric(metric.name)
        prefix = resource.scope(metric.name).prefix + (f"{served.key_type} certificate: " if served.label else "")
        report = metric.value
        if isinstance(report, ServiceError):
            return Result(Critical, f"{prefix}DANE: {report}", metric) if self.required else Result(Ok, None, metric)
        name = report.answer.name
        if not report.answer.records:
            if self.required:
                return Result(Critical, f"{prefix}DANE: no TLSA records at {name}", metric)
            return Result(Ok, None, metric)
        mismatch = " and they do not match the served certificate" if not report.matching else ""
        if not report.answer.validated:
            hint = (
                f"{prefix}TLSA records at {name} are not DNSSEC-validated ({report.answer.server} set no AD "
                f"flag){mismatch}: DANE senders ignore them"
            )
            return Result(Warn, hint, metric)
        if not report.usable:
            return Result(Warn, f"{prefix}no usable TLSA records at {name} (SMTP uses only usages 2 and 3)", metric)
        if not report.matching:
            hint = (
                f"{prefix}TLSA records at {name} do not match the served certificate: was the key rotated "
                "without publishing the new TLSA first?"
            )
            return Result(Critical, hint, metric)
        return Result(Ok, None, metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> None:
        return None


class TlsMailSummary(nagiosplugin.Summary):
    """Words the first line: what was checked, and every problem, worst first."""

    def __init__(self, resource: MailTlsService, warning: ExpiryThreshold | None = None, verbosity: int = 0) -> None:
        self.resource = resource
        self.warning = warning
        self.verbosity = verbosity

    def _where(self) -> str:
        plan = self.resource.plan
        return f"{plan.host}:{plan.port} {plan.dialect.name}"

    def _certificates(self, scope: Scope) -> str:
        now = self.resource.now
        parts = []
        for served in scope.served:
            leaf = served.chain.leaf
            until = leaf.not_after.strftime("%Y-%m-%d %H:%M UTC")
            warn = ""
            if self.warning is not None and self.warning.unit == "percent":
                warn = f", warning at {fmt_days(self.warning.days(leaf.lifetime_days))} days"
            parts.append(f"{leaf.key} certificate valid {_days(leaf.days_left(now))} (until {until}{warn})")
        return " and ".join(parts)

    def _versions(self, scope: Scope) -> str:
        accepted = [v for v, o in scope.report.versions.items() if isinstance(o, Accepted)]
        return f"accepts TLS {', '.join(accepted)}" if accepted else ""

    def ok(self, results: Results) -> str:
        scopes = list(self.resource.scopes.values())
        first = scopes[0]
        primary = first.report.primary
        assert isinstance(primary, Accepted)
        words = [f"{self._where()} {self.resource.plan.dialect.upgrade_word}"]
        if len(scopes) > 1:
            words[0] += f" at {len(scopes)} addresses ({', '.join(s.tag[1:] for s in scopes)})"
        words.append(primary.version)
        fingerprints = {tuple(s.chain.leaf.fingerprint for s in scope.served) for scope in scopes}
        if len(fingerprints) == 1:
            words.append(self._certificates(first))
        else:
            words += [f"{scope.tag[1:]}: {self._certificates(scope)}" for scope in scopes]
        if first.report.versions:
            words.append(self._versions(first))
        tlsa = self.resource.host.tlsa
        if tlsa is not None and not isinstance(tlsa, ServiceError) and tlsa.records:
            words.append(f"DANE: TLSA at {tlsa.name} matches")
        clients, ciphers = len(self.resource.plan.clients), len(self.resource.plan.ciphers)
        if clients:
            words.append(f"{clients}/{clients} clients connect")
        if ciphers:
            words.append(f"{ciphers}/{ciphers} ciphers accepted")
        return ", ".join(words)

    def problem(self, results: Results) -> str:
        entries: list[str | tuple[str, str, str, str]] = []
        groups: dict[tuple[str, str, str, str], list[str]] = {}
        troubled: set[str] = set()
        for result in sorted(results, key=lambda r: -int(r.state)):
            if result.state == Ok or not result.hint or result.metric is None:
                continue
            base, tag = _split(result.metric.name)
            troubled.add(tag)
            if result.metric.context in ("client", "cipher"):
                kind, name = base.split(" ", 1)
                scope = self.resource.scopes[tag]
                key = (scope.prefix, kind, self._over(scope, kind, name), result.hint)
                if key not in groups:
                    groups[key] = []
                    entries.append(key)
                groups[key].append(name if kind == "cipher" else _profile(scope.report, name).title)
            else:
                entries.append(result.hint)
        words = [entry if isinstance(entry, str) else self._group(entry, groups[entry]) for entry in entries]
        judged = {
            _split(r.metric.name)[1]
            for r in results
            if r.state != Ok and r.metric is not None and r.metric.context in ("expiry", "chain")
        }
        scopes = self.resource.scopes.values()
        for scope in scopes:
            if scope.served and scope.tag not in judged and (len(scopes) == 1 or scope.tag in troubled):
                words.append(scope.prefix + self._certificates(scope))
        words += [f"{scope.tag[1:]}: OK" for scope in scopes if scope.tag and scope.tag not in troubled]
        return f"{self._where()}: " + "; ".join(words)

    @staticmethod
    def _group(key: tuple[str, str, str, str], names: list[str]) -> str:
        prefix, kind, over, why = key
        if kind == "cipher":
            plural = "s" if len(names) > 1 else ""
            return f"{prefix}cipher{plural} {_join(names)} rejected{over}: {why}"
        return f"{prefix}{_join(names)} cannot connect{over}: {why}"

    @staticmethod
    def _over(scope: Scope, kind: str, name: str) -> str:
        if kind == "cipher":
            return " over TLS 1.2"
        profile = _profile(scope.report, name)
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
    plan = resource.plan
    host = resource.host
    lines = []
    if host.addresses_found > len(host.services):
        lines.append(f"{plan.host} has {host.addresses_found} addresses; the first {len(host.services)} were probed")
    for scope in resource.scopes.values():
        lines += _address_lines(resource, scope, verbosity)
    if plan.clients or plan.ciphers:
        per_address = 1 + len(KEY_TYPES) + len(plan.clients) + len(plan.ciphers) + (4 if plan.versions else 0)
        lines.append(
            f"{per_address * len(host.services)} probes, at most {plan.parallel} at once, took {host.seconds:.3f} s"
        )
    return lines


def _address_lines(resource: MailTlsService, scope: Scope, verbosity: int) -> list[str]:
    report = scope.report
    plan = resource.plan
    target = report.target
    lines = [
        f"service: {plan.host}:{plan.port} ({target.address.ip}) {plan.dialect.name}, {plan.dialect.description}; "
        f"SNI {plan.servername or 'none'}"
    ]
    lines.append(f"default client (TLS 1.0-1.3, all suites): {_outcome(report.primary)}")
    if verbosity >= 2:
        lines += _transcript("default client", report.primary)
    now = resource.now
    for served in scope.served:
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
        lines += _dane_lines(resource, served)
    probes: list[tuple[str, HandshakeOutcome]] = [
        (f"{key_type} suites over TLS 1.2", outcome) for key_type, outcome in report.key_probes.items()
    ]
    probes += [(f"TLS {version} only", outcome) for version, outcome in report.versions.items()]
    probes += [(f"client {p.title} (TLS {p.min_version}-{p.max_version})", o) for p, o in report.clients]
    probes += [(f"cipher {name} (TLS 1.2)", outcome) for name, outcome in report.ciphers]
    for title, outcome in probes:
        lines.append(f"{title}: {_outcome(outcome)}")
        if verbosity >= 3:
            lines += _transcript(title, outcome)
    return lines


def _dane_lines(resource: MailTlsService, served: Served) -> list[str]:
    tlsa = resource.host.tlsa
    if tlsa is None:
        return []
    report = resource.dane_report(served)
    if isinstance(report, ServiceError):
        return [f"  DANE: {report}"]
    answer = report.answer
    if not answer.records:
        return [f"  DANE: no TLSA records at {answer.name} ({answer.server})"]
    validated = "DNSSEC-validated" if answer.validated else "NOT validated"
    lines = [f"  DANE: {len(answer.records)} TLSA record(s) at {answer.name}, {validated} by {answer.server}"]
    for record in answer.records:
        state = (
            "matches the served chain"
            if record in report.matching
            else "not served now (a rollover record for the next key?)"
            if record in report.usable
            else "not used by SMTP (usage 0/1)"
        )
        lines.append(f"    TLSA {record}: {state}")
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
    collect: Callable[[], HostReport] | None = None,
    min_tls: str | None = None,
    require_tls: tuple[str, ...] = (),
    dane_required: bool = False,
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
        VersionPolicyContext(min_tls, require_tls),
        DaneContext(dane_required),
        nagiosplugin.ScalarContext("time"),
        TlsMailSummary(resource, warning, verbosity),
    )
    check.name = "TLS_MAIL"
    return check
