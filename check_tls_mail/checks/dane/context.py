"""DANE judged: one finding per served certificate (``DaneJudged``) and its nagiosplugin Context.

Checks layer, on the nagiosplugin layer: the TLSA records looked up, validated, usable, and matching what
the server presents; missing or unanswered records are CRITICAL only with --dane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nagiosplugin
from nagiosplugin import Metric, Result
from nagiosplugin.state import Critical, Ok, Warn

from ...plugin.contexts import QuietContext, whose
from ...records import NamedTuple
from .lookup import TlsaState, TlsaStatus

if TYPE_CHECKING:
    from ...judgement.assessment import AddressAssessment, Served
    from .match import DaneReport, RenewedFile


class DaneJudged(NamedTuple):
    """The TLSA lookup and its match against one served chain (``report`` None: no answer to match)."""

    address: AddressAssessment
    served: Served
    tlsa: TlsaState
    report: DaneReport | None
    #: Another certificate served at this address (dual certificates) is matched by the records.
    other_matched: bool = False

    @property
    def stem(self) -> str:
        return "dane"


class RenewedJudged(NamedTuple):
    """An --expect-cert file not yet served, against the TLSA records: published before the reload?"""

    renewed: RenewedFile
    tlsa: TlsaState
    ordinal: int

    @property
    def address(self) -> None:
        return None

    @property
    def served(self) -> None:
        return None

    @property
    def stem(self) -> str:
        return f"dane_renewed{self.ordinal or ''}"

    @property
    def precedence(self) -> int:
        """Said before the renewal check's "reload the service": reloading first is the outage."""
        return 1


class DaneContext(QuietContext):
    """TLSA records (DANE): looked up, validated, usable, and matching what the server presents."""

    def __init__(self, required: bool) -> None:
        super().__init__("dane")
        self.required = required

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        if isinstance(metric.value, RenewedJudged):
            return self._renewed(metric)
        finding: DaneJudged = metric.value
        prefix = whose(finding.served)
        tlsa = finding.tlsa
        if tlsa.status is TlsaStatus.FAILED:
            return self._required(metric, f"{prefix}DANE: {tlsa.error}")
        report = finding.report
        if tlsa.status is not TlsaStatus.ANSWERED or report is None:
            return self._required(metric, f"{prefix}DANE: the TLSA lookup of {tlsa.name} did not finish in time")
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
            from .match import record_for

            record = record_for(name, finding.served.sent[0])
            refuse, deliver = _refusers(resource)
            if finding.other_matched:
                hint = (
                    f"{prefix}no TLSA record at {name} covers it (they match the other certificate): {refuse} when "
                    f"they get it{deliver}: publish {record} or stop serving it"
                )
            else:
                hint = (
                    f"{prefix}TLSA records at {name} do not match the served certificate: {refuse}{deliver}: "
                    f"publish {record} or serve the certificate the records name"
                )
            return Result(Critical, hint, metric)
        return Result(Ok, None, metric)

    @staticmethod
    def _renewed(metric: Metric) -> Result:
        """A renewed certificate on disk whose key no usable, validated record covers: WARNING before the reload.
        No answer, no validated or usable records: the served certificate's judgement says so already."""
        finding: RenewedJudged = metric.value
        report = finding.renewed.report
        if report is None or not report.answer.validated or not report.usable or report.matching:
            return Result(Ok, None, metric)
        from ...sanitize import clean
        from .match import record_for

        record = record_for(report.answer.name, finding.renewed.chain[0])
        hint = (
            f"the renewed certificate in {clean(finding.renewed.path, 200)} has no TLSA record yet: publish {record} "
            "before reloading, or DANE senders will refuse mail"
        )
        return Result(Warn, hint, metric)

    def _required(self, metric: Metric, hint: str) -> Result:
        """Missing records or no answer: CRITICAL with --dane, else not judged."""
        return Result(Critical, hint, metric) if self.required else Result(Ok, None, metric)


def _refusers(resource: nagiosplugin.Resource) -> tuple[str, str]:
    """Who would refuse to deliver, of the sending MTAs probed (their profiles' delivery policies), and who would
    deliver all the same: ("Exim (GnuTLS), and Postfix MTA where DANE is set up, would refuse to deliver",
    " (MTA capped at TLS 1.2 would deliver)"); ("DANE senders would refuse to deliver", "") without MTA profiles."""
    from ...clients.profiles import DeliveryPolicy, who_applies

    assessment = getattr(resource, "assessment", None)
    clients = assessment.plan.clients if assessment is not None else ()
    refusing, delivering = who_applies(clients, DeliveryPolicy.DANE)
    if not refusing:
        return "DANE senders would refuse to deliver", ""
    comma = "," if ", and " in refusing else ""
    return f"{refusing}{comma} would refuse to deliver", (f" ({delivering} would deliver)" if delivering else "")
