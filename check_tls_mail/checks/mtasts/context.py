"""MTA-STS judged: one finding per fact about the domain, one per served chain the policy refuses, and the Context.

Checks layer, on the nagiosplugin layer: states from judge.severity(), words from words.describe(); the fetched
policy's max_age is perfdata.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nagiosplugin
from nagiosplugin import Context, Metric, Performance, Range, Result
from nagiosplugin.state import Ok

from ...plugin import wording
from ...plugin.contexts import state_of
from ...records import NamedTuple
from ...words import certificate
from . import judge, policy, records
from .judge import MtaStsFinding, severity
from .words import describe

if TYPE_CHECKING:
    from ...judgement.assessment import AddressAssessment, Served
    from ...x509.chain import ChainReport
    from ...x509.problems import CertificateProblem


class MtaStsJudged(NamedTuple):
    """--mta-sts: one finding about the domain's records and policy (no address), or a chain the policy rejects
    (``served``, with the chain as the policy verifies it)."""

    address: AddressAssessment | None
    served: Served | None
    finding: MtaStsFinding
    policy_chain: ChainReport | None = None

    @property
    def stem(self) -> str:
        """One label per kind of finding about the domain; the fetched policy's carries max_age as perfdata."""
        found = self.finding
        if self.served is not None or isinstance(found, judge.HostCertificateUnverified):
            return "mta_sts_certificate"
        if isinstance(found, policy.PolicyFetched):
            return "mta_sts_max_age"
        if isinstance(found, judge.MaxAgeShort):
            return "mta_sts_short_max_age"
        if isinstance(found, judge.HostListed | judge.HostNotListed):
            return "mta_sts_mx"
        if isinstance(found, judge.ModeNone):
            return "mta_sts_mode"
        if isinstance(found, records.StsRecord):
            return "mta_sts_record"
        if isinstance(found, records.TlsRptRecord):
            return "tls_rpt"
        if isinstance(
            found, records.RecordAbsent | records.RecordInvalid | records.LookupFailed | records.LookupNotFinished
        ):
            return "tls_rpt" if found.kind is records.RecordKind.TLSRPT else "mta_sts_record"
        return "mta_sts_policy"


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
        finding: MtaStsJudged = metric.value
        state = state_of(severity(finding.finding))
        if state == Ok:
            return Result(Ok, None, metric)
        served = finding.served
        senders = _senders(resource)
        if served is None or finding.address is None:
            return Result(state, describe(finding.finding, senders=senders), metric)
        chain = finding.policy_chain
        why = _unverified(chain, served.chain.problems) if chain is not None else ""
        named = served.named
        prefix = f"{certificate(named)}: " if named else ""
        return Result(state, prefix + describe(finding.finding, why, senders), metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> Performance | None:
        """The fetched policy's max_age in seconds, WARNING under a day as judged by its own finding."""
        finding: MtaStsJudged = metric.value
        if not isinstance(finding.finding, policy.PolicyFetched):
            return None
        age = finding.finding.policy.max_age
        warn = Range(f"{judge.SHORT_MAX_AGE}:")
        return Performance(metric.name, age, "s", warn=warn, min=0, max=policy.MAX_AGE_LIMIT)


def _senders(resource: nagiosplugin.Resource) -> str:
    """Under an enforced policy, who of the sending MTAs probed would refuse (their profiles' delivery
    policies) and who would deliver all the same; "" for the general words when no sending MTA was probed."""
    from ...clients.profiles import DeliveryPolicy, who_applies

    assessment = getattr(resource, "assessment", None)
    clients = assessment.plan.clients if assessment is not None else ()
    refusing, delivering = who_applies(clients, DeliveryPolicy.MTA_STS)
    if not refusing and not delivering:
        return ""
    comma = "," if ", and " in refusing else ""
    refuse = f"{refusing}{comma} would refuse to deliver to it" if refusing else "senders that apply MTA-STS refuse"
    return refuse + (f" ({delivering} would deliver)" if delivering else "")
