"""The nagiosplugin Contexts: each judges one kind of finding, from the finding alone.

A context never reads the resource: the finding it gets names its subject and
carries what the judgement needs. Words come from wording.py; which address a
judgement is about is the summary's to say (from the finding, not the words).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nagiosplugin
from nagiosplugin import Context, Metric, Performance, Range, Result
from nagiosplugin.state import Critical, Ok, Unknown, Warn

from ..probe.handshake import Accepted, HandshakeOutcome, Rejected
from ..probe.report import TlsaStatus
from ..tls.versions import TlsVersion
from ..words import days, when
from . import wording
from .findings import (
    AcceptedCount,
    ChainJudged,
    CipherTried,
    ClientTried,
    DaneJudged,
    Deployed,
    Elapsed,
    Expiry,
    MtaStsJudged,
    RequiredNames,
    RevocationChecked,
    ServiceDown,
)
from .findings import Versions as VersionsFinding
from .thresholds import ExpiryThreshold, fmt_days

if TYPE_CHECKING:
    from nagiosplugin.state import ServiceState

    from ..judgement.assessment import Served
    from ..severity import Severity
    from ..x509.chain import ChainReport
    from ..x509.problems import CertificateProblem


def _whose(finding: ChainJudged | DaneJudged) -> str:
    """'192.0.2.25: RSA certificate: ' for a judgement of one certificate at one address."""
    named = finding.served.named
    return f"{wording.certificate(named)}: " if named else ""


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
        text = str(failure) if isinstance(failure, Exception) else wording.service_failure(failure)
        return Result(Critical, text, metric)


class ChainContext(QuietContext):
    """Trust and name (judged unless --no-verify-chain), and certificates not yet valid."""

    def __init__(self) -> None:
        super().__init__("chain")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: ChainJudged = metric.value
        problems = finding.served.chain.problems
        if problems:
            return Result(Critical, _whose(finding) + wording.problems(problems), metric)
        return Result(Ok, None, metric)


class ExpiryContext(Context):
    """Days remaining against -w/-c, resolved per certificate (percent of its lifetime)."""

    def __init__(self, warning: ExpiryThreshold, critical: ExpiryThreshold) -> None:
        super().__init__("expiry")
        self.warning = warning
        self.critical = critical

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: Expiry = metric.value
        kind = wording.certificate(finding.served.named)
        what = f"intermediate {finding.certificate.subject} (before the {kind})" if finding.intermediate else kind
        left = finding.days
        until = when(finding.certificate.valid_until)
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


class ClientContext(QuietContext):
    """A client profile that must connect."""

    def __init__(self) -> None:
        super().__init__("client")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: ClientTried = metric.value
        diagnosis = finding.result.diagnosis
        if diagnosis is None:
            return Result(Ok, None, metric)
        if finding.result.repeats_chain:  # the chain context words it; -v names the client
            return Result(Critical, None, metric)
        return Result(Critical, wording.diagnosis(diagnosis), metric)


class CipherContext(QuietContext):
    """A cipher that must be accepted on its own over TLS 1.2."""

    def __init__(self) -> None:
        super().__init__("cipher")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: CipherTried = metric.value
        diagnosis = finding.result.diagnosis
        if diagnosis is None:
            return Result(Ok, None, metric)
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
            return Result(Critical, "server " + "; ".join(problems), metric)
        if untested:
            return Result(Unknown, f"this host's OpenSSL cannot offer TLS {_numbers(untested)}", metric)
        return Result(Ok, None, metric)


def _numbers(versions: list[TlsVersion]) -> str:
    """'1.0, 1.1' (after the words 'TLS')."""
    return ", ".join(v.number for v in versions)


class DaneContext(QuietContext):
    """TLSA records (DANE): looked up, validated, usable, and matching what the server presents."""

    def __init__(self, required: bool) -> None:
        super().__init__("dane")
        self.required = required

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: DaneJudged = metric.value
        prefix = _whose(finding)
        tlsa = finding.tlsa
        if tlsa.status is TlsaStatus.FAILED:
            return self._required(metric, f"{prefix}DANE: {tlsa.error}")
        if tlsa.status is not TlsaStatus.ANSWERED or finding.served.dane is None:
            return self._required(metric, f"{prefix}DANE: the TLSA lookup of {tlsa.name} did not finish in time")
        report = finding.served.dane
        name = report.answer.name
        if not report.answer.records:
            return self._required(metric, f"{prefix}DANE: no TLSA records at {name}")
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

    def _required(self, metric: Metric, hint: str) -> Result:
        """Missing records or no answer: CRITICAL with --dane, else not judged."""
        return Result(Critical, hint, metric) if self.required else Result(Ok, None, metric)


# --- the optional checks (issue 16): states from each module's severity(), words from its describe() ---


def _state(severity: Severity) -> ServiceState:
    return (Ok, Warn, Critical, Unknown)[severity]


def _the(served: Served) -> str:
    """How the words of a check name the certificate: 'the certificate', 'the RSA certificate'."""
    return f"the {wording.certificate(served.named)}"


class RenewalContext(QuietContext):
    """--expect-cert: the served certificate is the one on disk; --require-name: it covers every required name."""

    def __init__(self) -> None:
        super().__init__("renewal")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        from ..checks.renewal.judge import describe, severity

        finding: Deployed | RequiredNames = metric.value
        judged = finding.deployment if isinstance(finding, Deployed) else finding.coverage
        state = _state(severity(judged))
        if state == Ok:
            return Result(Ok, None, metric)
        return Result(state, describe(judged, _the(finding.served)), metric)


class RevocationContext(QuietContext):
    """--revocation: revoked or unknown is CRITICAL; no usable answer a WARNING (soft fail, as clients do)."""

    def __init__(self) -> None:
        super().__init__("revocation")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        from ..checks.revocation.status import severity
        from ..checks.revocation.words import describe

        finding: RevocationChecked = metric.value
        checked = finding.checked
        state = _state(severity(checked.status))
        if state == Ok:
            return Result(Ok, None, metric)
        which = _the(finding.served) if checked.position == 0 else f"intermediate {checked.subject}"
        return Result(state, describe(checked.status, which), metric)


def _unverified(chain: ChainReport, said: tuple[CertificateProblem, ...]) -> str:
    """Why a chain fails MTA-STS verification, unless the first line says it already.

    ``said``: the problems the chain context reports (none of trust and name
    with --no-verify-chain); expiry is always the expiry context's to say.
    """
    return wording.problems([p for p in chain.problems if p not in said])


class MtaStsContext(Context):
    """--mta-sts: the domain's records and policy, the MX name against its mx patterns, the chain it verifies."""

    def __init__(self) -> None:
        super().__init__("mta_sts")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        from ..checks.mtasts.judge import severity
        from ..checks.mtasts.words import describe

        finding: MtaStsJudged = metric.value
        state = _state(severity(finding.finding))
        if state == Ok:
            return Result(Ok, None, metric)
        served = finding.served
        if served is None or finding.address is None:
            return Result(state, describe(finding.finding), metric)
        why = _unverified(served.policy_chain, served.chain.problems) if served.policy_chain is not None else ""
        named = served.named
        prefix = f"{wording.certificate(named)}: " if named else ""
        return Result(state, prefix + describe(finding.finding, why), metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> Performance | None:
        """The fetched policy's max_age in seconds, WARNING under a day as judged by its own finding."""
        from ..checks.mtasts.judge import SHORT_MAX_AGE
        from ..checks.mtasts.policy import MAX_AGE_LIMIT, PolicyFetched

        finding: MtaStsJudged = metric.value
        if not isinstance(finding.finding, PolicyFetched):
            return None
        age = finding.finding.policy.max_age
        return Performance(metric.name, age, "s", warn=Range(f"{SHORT_MAX_AGE}:"), min=0, max=MAX_AGE_LIMIT)
