"""ARI judged: one finding per served certificate (``AriJudged``), and its Context, with the window as perfdata.

Checks layer, on the nagiosplugin layer: states from status.severity(), words from words.describe(). The
perfdata ``ari_window_start`` is the seconds until the suggested window starts (negative inside it and after
it), warn below 0 (inside the window), crit below minus the window's length (past its end).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import nagiosplugin
from nagiosplugin import Context, Metric, Performance, Result
from nagiosplugin.state import Ok

from ...plugin.contexts import state_of, the
from ...records import NamedTuple
from .status import Answered, AriOutcome, severity
from .words import describe

if TYPE_CHECKING:
    from ...judgement.assessment import AddressAssessment, Served


class AriJudged(NamedTuple):
    """--ari: what the CA says of one served certificate's renewal, judged at ``now``."""

    address: AddressAssessment
    served: Served
    outcome: AriOutcome
    now: datetime

    @property
    def stem(self) -> str:
        return "ari_window_start"


class AriContext(Context):
    """--ari: inside the suggested window WARNING, past it CRITICAL; no usable answer a WARNING (soft fail)."""

    def __init__(self) -> None:
        super().__init__("ari")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: AriJudged = metric.value
        answer = finding.outcome.answer
        state = state_of(severity(answer, finding.now))
        if state == Ok:
            return Result(Ok, None, metric)
        return Result(state, describe(answer, the(finding.served), finding.now), metric)

    def performance(self, metric: Metric, resource: nagiosplugin.Resource) -> Performance | None:
        """Seconds until the window starts, when the CA gave one."""
        finding: AriJudged = metric.value
        answer = finding.outcome.answer
        if not isinstance(answer, Answered):
            return None
        window = answer.window
        until = round((window.start - finding.now).total_seconds())
        length = round((window.end - window.start).total_seconds())
        # as text: nagiosplugin prints Range("0:") as "", which reads as no threshold
        return Performance(metric.name, until, "s", warn="0:", crit=f"{-length}:")
