"""MTA-STS's lookup (--mta-sts): the _mta-sts record then the policy on one thread, TLS-RPT on another.

Checks layer, beside the handshakes within the run's deadline: what has not finished by then is said so
(LookupNotFinished, a timed-out fetch), never waited for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...net.transport import Deadline
from ...probe.workers import GRACE_SECONDS

if TYPE_CHECKING:
    from ...probe.report import HostReport
    from .judge import MtaStsReport
    from .policy import PolicyFetch
    from .records import MtaStsState, TlsRptState


class MtaStsLookup:
    """The records of ``domain`` and its policy, started at once; ``finish`` collects them by the deadline."""

    def __init__(self, domain: str, dns_server: tuple[str, int] | None, ca_file: str | None, deadline: Deadline):
        self.domain = domain.rstrip(".").lower()
        self.dns_server = dns_server
        self.ca_file = ca_file
        self.deadline = deadline
        self.failure: BaseException | None = None
        self.record: MtaStsState | None = None
        self.fetch: PolicyFetch | None = None
        self.tlsrpt: TlsRptState | None = None
        self.threads = [
            threading.Thread(target=self._guarded, args=(job,), name=f"mta-sts {index}", daemon=True)
            for index, job in enumerate((self._policy, self._tlsrpt))
        ]
        for thread in self.threads:
            thread.start()

    def _guarded(self, job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # a bug: raised in the main thread by finish(), never printed here
            self.failure = exc

    def _policy(self) -> None:
        from .policy import fetch_policy
        from .records import StsRecord, lookup_record

        record = lookup_record(self.domain, self.dns_server, self.deadline)
        self.record = record
        if isinstance(record, StsRecord):
            self.fetch = fetch_policy(self.domain, self.deadline, self.ca_file, dns_server=self.dns_server)

    def _tlsrpt(self) -> None:
        from .records import lookup_tlsrpt

        self.tlsrpt = lookup_tlsrpt(self.domain, self.dns_server, self.deadline)

    def finish(self, report: HostReport, deadline: Deadline) -> MtaStsReport:
        """What was found by the deadline; what had not finished is LookupNotFinished or a timed-out fetch."""
        for thread in self.threads:
            thread.join(max(deadline.remaining(), 0.0) + GRACE_SECONDS)
        if self.failure is not None:
            raise self.failure
        from ...net.http import FetchFailure
        from .judge import MtaStsReport
        from .policy import PolicyUnreachable, policy_url
        from .records import LookupNotFinished, RecordKind, StsRecord

        record, fetch, tlsrpt = self.record, self.fetch, self.tlsrpt  # read once: the threads may still write
        if record is None:
            record = LookupNotFinished(RecordKind.MTA_STS, f"_mta-sts.{self.domain}")
        if isinstance(record, StsRecord) and fetch is None:
            fetch = PolicyUnreachable(policy_url(self.domain), FetchFailure.TIMEOUT, "the fetch did not finish in time")
        if tlsrpt is None:
            tlsrpt = LookupNotFinished(RecordKind.TLSRPT, f"_smtp._tls.{self.domain}")
        return MtaStsReport(self.domain, record, fetch, tlsrpt)
