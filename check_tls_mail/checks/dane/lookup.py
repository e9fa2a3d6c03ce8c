"""DANE's lookup: the TLSA records of the service, on a thread of their own beside the handshakes.

Checks layer: what was measured (``TlsaState``), never waited for past the deadline (NOT_FINISHED).
"""

from __future__ import annotations

import enum
import threading
from typing import TYPE_CHECKING

from ...errors import ServiceError
from ...net.transport import Deadline
from ...records import NamedTuple

if TYPE_CHECKING:
    from ...net.resolver import TlsaAnswer
    from ...probe.report import HostReport


class TlsaStatus(enum.Enum):
    ANSWERED = "answered"
    FAILED = "the lookup failed"
    NOT_FINISHED = "the lookup did not finish in time"


class TlsaState(NamedTuple):
    """The TLSA lookup: how it ended."""

    status: TlsaStatus
    name: str  # _25._tcp.mx.example.org
    answer: TlsaAnswer | None = None
    error: ServiceError | None = None


class TlsaLookup:
    """The TLSA lookup of ``name``, started at once on its own thread; ``finish`` waits for it by the deadline."""

    def __init__(self, name: str, dns_server: tuple[str, int] | None, deadline: Deadline) -> None:
        self.name = name
        self.dns_server = dns_server
        self.deadline = deadline
        self.state = TlsaState(TlsaStatus.NOT_FINISHED, name)
        self.thread = threading.Thread(target=self._look_up, name="tlsa", daemon=True)
        self.thread.start()

    def _look_up(self) -> None:
        try:
            from ...net.resolver import lookup_tlsa

            answer = lookup_tlsa(self.name, self.dns_server, self.deadline)
            self.state = TlsaState(TlsaStatus.ANSWERED, self.name, answer=answer)
        except ServiceError as exc:
            self.state = TlsaState(TlsaStatus.FAILED, self.name, error=exc)
        except Exception as exc:  # a thread must not print a traceback: the lookup failed
            error = ServiceError(f"TLSA lookup failed: {exc.__class__.__name__}: {exc}")
            self.state = TlsaState(TlsaStatus.FAILED, self.name, error=error)

    def finish(self, report: HostReport, deadline: Deadline) -> TlsaState:
        """The state once the lookup ended, or NOT_FINISHED when the probe time is up first."""
        self.thread.join(max(deadline.remaining(), 0.0))
        return self.state
