"""DANE (RFC 7672) as an optional check: --dane, --no-dane; by default for -P smtp with a host name.

Checks layer, the face of the DANE folder: its options, its lookup (lookup.py), its match (match.py), its
findings and context (context.py), and its words in the first line and the long output.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ...errors import UsageError
from ..protocol import OptionalCheck

if TYPE_CHECKING:
    from nagiosplugin import Context, Metric

    from ...judgement.assessment import AddressAssessment, Assessment, Served
    from ...net.resolver import TlsaAnswer
    from ...net.transport import Deadline
    from ...probe.plan import ProbePlan
    from .lookup import TlsaLookup, TlsaState
    from .match import DaneJudgement, RenewedFile


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class Dane(OptionalCheck):
    """TLSA records for _PORT._tcp.NAME, matched against every served chain."""

    name = "dane"

    def __init__(self, record: str, required: bool, renewed: tuple[str, ...] = ()) -> None:
        self.record = record  # _25._tcp.mx.example.org
        self.required = required  # --dane: a missing or failed lookup is CRITICAL
        #: --expect-cert files: a renewed certificate must be published before the reload (DANE senders).
        self.renewed = renewed

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        dane = parser.add_argument_group("DANE").add_mutually_exclusive_group()
        dane.add_argument(
            "--dane",
            action="store_true",
            help="require TLSA records for _PORT._tcp.NAME that match the served chain "
            "(default: checked for -P smtp with a host name when records exist)",
        )
        dane.add_argument("--no-dane", action="store_true", help="do not look up TLSA records")

    @classmethod
    def configure(cls, args: argparse.Namespace, plan: ProbePlan) -> Dane | None:
        if args.no_dane:
            return None
        # The renewal check's --expect-cert files (the renewed certificate on disk) are judged against the
        # records too: their key must be published before the service is reloaded.
        renewed = tuple(getattr(args, "expect_cert", None) or ())
        if args.dane:
            if plan.servername is None:
                raise UsageError("--dane needs a host name: give -H NAME or --servername NAME")
            return cls(f"_{plan.port}._tcp.{plan.servername.rstrip('.')}", required=True, renewed=renewed)
        if plan.dialect.relay and not _is_ip(plan.host):
            return cls(f"_{plan.port}._tcp.{plan.host.rstrip('.')}", required=False, renewed=renewed)
        return None

    def start(self, plan: ProbePlan, deadline: Deadline) -> TlsaLookup:
        from .lookup import TlsaLookup

        return TlsaLookup(self.record, plan.dns_server, deadline)

    def assess(self, measured: TlsaState | None, assessment: Assessment) -> DaneJudgement | None:
        if measured is None:
            return None
        from .match import DaneJudgement, judge

        answer = measured.answer
        reports = {
            served.sent: judge(answer, served.sent) if answer is not None else None
            for address in assessment.addresses
            for served in address.served
        }
        return DaneJudgement(measured, reports, self._renewed(answer, {sent[:1] for sent in reports}))

    def _renewed(self, answer: TlsaAnswer | None, served: set[tuple[bytes, ...]]) -> tuple[RenewedFile, ...]:
        """The --expect-cert files whose leaf is not served yet (unusable ones: the renewal check says why)."""
        from ...x509.files import FileError, read_certificate_file
        from .match import RenewedFile, judge

        found = []
        for path in self.renewed:
            try:
                chain = read_certificate_file(path).chain
            except FileError:
                continue
            if chain[:1] not in served:
                found.append(RenewedFile(path, chain, judge(answer, chain) if answer is not None else None))
        return tuple(found)

    def served_metrics(
        self, judged: DaneJudgement | None, address: AddressAssessment, served: Served
    ) -> Iterable[Metric]:
        if judged is None:
            return ()
        from ...plugin.findings import metric
        from .context import DaneJudged

        report = judged.reports.get(served.sent)
        others = (judged.reports.get(other.sent) for other in address.served if other.sent != served.sent)
        other_matched = any(other is not None and other.matching for other in others)
        return (metric(DaneJudged(address, served, judged.tlsa, report, other_matched), "dane"),)

    def metrics(self, judged: DaneJudgement | None, assessment: Assessment) -> Iterable[Metric]:
        if judged is None:
            return ()
        from ...plugin.findings import metric
        from .context import RenewedJudged

        return tuple(
            metric(RenewedJudged(renewed, judged.tlsa, ordinal), "dane")
            for ordinal, renewed in enumerate(judged.renewed)
        )

    def contexts(self) -> Sequence[Context]:
        from .context import DaneContext

        return (DaneContext(self.required),)

    def ok_words(self, judged: DaneJudgement | None, assessment: Assessment) -> list[str]:
        from .lookup import TlsaStatus

        if judged is None or judged.tlsa.status is not TlsaStatus.ANSWERED:
            return []
        answer = judged.tlsa.answer
        return [f"DANE: TLSA at {answer.name} matches"] if answer is not None and answer.records else []

    def lines(self, judged: DaneJudgement | None, assessment: Assessment) -> list[str]:
        """-v: each renewed certificate on disk against the records, the record to publish when none covers it."""
        if judged is None:
            return []
        from ...sanitize import clean
        from .match import record_for

        lines = []
        for renewed in judged.renewed:
            report = renewed.report
            if report is None or not report.usable:
                continue
            where = clean(renewed.path, 200)
            if report.matching:
                covered = ", ".join(str(r) for r in report.matching)
                lines.append(f"DANE: the renewed certificate in {where} is published already (TLSA {covered})")
            else:
                record = record_for(report.answer.name, renewed.chain[0])
                lines.append(f"DANE: the renewed certificate in {where} needs {record}")
        return lines

    def served_lines(self, judged: DaneJudgement | None, address: AddressAssessment, served: Served) -> list[str]:
        if judged is None:
            return []
        from .lookup import TlsaStatus

        tlsa = judged.tlsa
        if tlsa.status is TlsaStatus.FAILED:
            return [f"  DANE: {tlsa.error}"]
        report = judged.reports.get(served.sent)
        if report is None:
            return [f"  DANE: the TLSA lookup of {tlsa.name} did not finish in time"]
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
