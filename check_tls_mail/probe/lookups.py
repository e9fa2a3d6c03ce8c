"""The lookups beside the handshakes: TLSA (DANE), MTA-STS, and revocation of the served chains after them.

Probe layer: each runs on its own threads within the run's deadline; what has not finished by then is said so
(NOT_FINISHED, LookupNotFinished, a timed-out fetch or check), never waited for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..errors import ServiceError
from ..net.transport import Deadline
from .plan import ProbePlan
from .report import AddressReport, HostReport, TlsaState, TlsaStatus
from .workers import GRACE_SECONDS, run_until

if TYPE_CHECKING:
    from ..checks.mtasts.judge import MtaStsReport
    from ..checks.mtasts.policy import PolicyFetch
    from ..checks.mtasts.records import MtaStsState, TlsRptState
    from ..checks.revocation.status import CertificateRevocation


class TlsaLookup:
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
            from ..net.resolver import lookup_tlsa

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


class MtaStsLookup:
    """--mta-sts: the _mta-sts record then the policy on one thread, the TLS-RPT record on another."""

    def __init__(self, plan: ProbePlan, deadline: Deadline) -> None:
        self.plan = plan
        self.deadline = deadline
        self.domain = (plan.mta_sts or "").rstrip(".").lower()
        self.failure: BaseException | None = None
        self.record: MtaStsState | None = None
        self.fetch: PolicyFetch | None = None
        self.tlsrpt: TlsRptState | None = None
        self.threads = [
            threading.Thread(target=self._guarded, args=(job,), name=f"mta-sts {index}", daemon=True)
            for index, job in enumerate((self._policy, self._tlsrpt))
        ]
        if plan.mta_sts is not None:
            for thread in self.threads:
                thread.start()

    def _guarded(self, job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # a bug: raised in the main thread by result(), never printed here
            self.failure = exc

    def _policy(self) -> None:
        from ..checks.mtasts.policy import fetch_policy
        from ..checks.mtasts.records import StsRecord, lookup_record

        record = lookup_record(self.domain, self.plan.dns_server, self.deadline)
        self.record = record
        if isinstance(record, StsRecord):
            self.fetch = fetch_policy(self.domain, self.deadline, self.plan.ca_file, dns_server=self.plan.dns_server)

    def _tlsrpt(self) -> None:
        from ..checks.mtasts.records import lookup_tlsrpt

        self.tlsrpt = lookup_tlsrpt(self.domain, self.plan.dns_server, self.deadline)

    def result(self) -> MtaStsReport | None:
        """What was found by the deadline; what had not finished is LookupNotFinished or a timed-out fetch."""
        if self.plan.mta_sts is None:
            return None
        for thread in self.threads:
            thread.join(max(self.deadline.remaining(), 0.0) + GRACE_SECONDS)
        if self.failure is not None:
            raise self.failure
        from ..checks.mtasts.judge import MtaStsReport
        from ..checks.mtasts.policy import PolicyUnreachable, policy_url
        from ..checks.mtasts.records import LookupNotFinished, RecordKind, StsRecord
        from ..net.http import FetchFailure

        record, fetch, tlsrpt = self.record, self.fetch, self.tlsrpt  # read once: the threads may still write
        if record is None:
            record = LookupNotFinished(RecordKind.MTA_STS, f"_mta-sts.{self.domain}")
        if isinstance(record, StsRecord) and fetch is None:
            fetch = PolicyUnreachable(policy_url(self.domain), FetchFailure.TIMEOUT, "the fetch did not finish in time")
        if tlsrpt is None:
            tlsrpt = LookupNotFinished(RecordKind.TLSRPT, f"_smtp._tls.{self.domain}")
        return MtaStsReport(self.domain, record, fetch, tlsrpt)


def served_chains(reports: Sequence[AddressReport]) -> list[tuple[bytes, ...]]:
    """Each distinct chain the servers sent, in the order first seen: the reference probe's (as the assessment
    takes it: the default probe, or a client's answer when the server refused the default offer), the
    key-type probes' and the no-SNI probe's."""
    from .handshake import Accepted

    chains: dict[tuple[bytes, ...], None] = {}
    for report in reports:
        outcomes = [report.reference, *report.key_types().values(), report.without_sni]
        for outcome in outcomes:
            if isinstance(outcome, Accepted) and outcome.chain:
                chains[tuple(outcome.chain)] = None
    return list(chains)


def _revocation(
    plan: ProbePlan, reports: Sequence[AddressReport], deadline: Deadline
) -> Mapping[tuple[bytes, ...], tuple[CertificateRevocation, ...]]:
    """--revocation: every certificate of every distinct served path, each asked once, all at once, by the deadline."""
    from ..checks.revocation.check import check, not_finished, served_path, steps
    from ..checks.revocation.status import CertificateRevocation
    from ..errors import UsageError
    from ..x509.store import TrustAnchors, load_store

    anchors: TrustAnchors | None
    try:
        anchors = load_store(plan.ca_file)
    except UsageError:  # no trust store: the last intermediate is not checked (the chain judgement says why)
        anchors = None
    planned = {chain: steps(*served_path(chain, anchors)) for chain in served_chains(reports)}
    pairs = list(dict.fromkeys((step.certificate, step.issuer) for found in planned.values() for step in found))
    jobs = [(lambda pair=pair: check(pair[0], pair[1], deadline)) for pair in pairs]
    answers = dict(zip(pairs, run_until(jobs, plan.parallel, deadline), strict=True))
    return MappingProxyType(
        {
            chain: tuple(
                CertificateRevocation(
                    step.position,
                    step.subject,
                    answers[step.certificate, step.issuer] or not_finished(step.certificate),
                )
                for step in found
            )
            for chain, found in planned.items()
        }
    )


def after_handshakes(report: HostReport, policy: MtaStsLookup, deadline: Deadline) -> HostReport:
    """The report with the MTA-STS lookup's result and, with --revocation, the served chains' revocation."""
    plan = report.plan
    if plan.mta_sts is None and not plan.revocation:
        return report
    revocation = _revocation(plan, report.addresses, deadline) if plan.revocation else report.revocation
    return report._replace(mta_sts=policy.result(), revocation=revocation)
