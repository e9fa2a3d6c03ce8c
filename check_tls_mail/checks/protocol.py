"""What an optional check supplies, from its own folder: ``OptionalCheck``.

Checks layer (above the nagiosplugin layer): a check adds its options to the parser, and when they are given
it is configured into one object that takes part in every step of the run, through hooks that the core
calls without knowing the check: its lookup beside the handshakes (the probes), its judgement of what was
measured and served (the resource), its findings and their contexts (nagiosplugin), its words in the first
line and the long output. ``registry.py`` lists the checks; adding one touches its folder and that list.
A check's module is imported on every run for its options: what it needs beyond them (dnspython,
cryptography, HTTP) it imports in the hooks, which run only when its option is given.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from nagiosplugin import Context, Metric

    from ..judgement.assessment import AddressAssessment, Assessment, Served
    from ..net.transport import Deadline
    from ..probe.plan import ProbePlan
    from ..probe.report import HostReport


class Pending(Protocol):
    """A lookup under way beside the handshakes; ``finish`` gives what it measured, within the deadline."""

    def finish(self, report: HostReport, deadline: Deadline) -> object: ...


class _Nothing:
    """No lookup: nothing measured."""

    def finish(self, report: HostReport, deadline: Deadline) -> object:
        return None


NOTHING = _Nothing()


class OptionalCheck:
    """One optional check, configured for this run (``configure``); every hook does nothing by default.

    The core calls, in this order: ``start`` (as the probes start), ``Pending.finish`` (after the
    handshakes, within the same deadline), ``assess`` (with what was measured and the core's
    assessment), then ``served_metrics`` for each served certificate and ``metrics`` once, with
    ``contexts`` judging them; ``ok_words``, ``served_lines`` and ``lines`` give the words.
    """

    #: The key of what it measured in HostReport.extras and of what it judged.
    name: ClassVar[str] = ""

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Add the check's options (argparse); they appear in --help and the man page in registry order."""

    @classmethod
    def configure(cls, args: argparse.Namespace, plan: ProbePlan) -> OptionalCheck | None:
        """The check set up from its options and the core's plan, or None when it was not asked for.

        Raises UsageError for options that cannot be carried out.
        """
        return None

    def start(self, plan: ProbePlan, deadline: Deadline) -> Pending:
        """Start what the check looks up beside the handshakes (threads within the deadline)."""
        return NOTHING

    def assess(self, measured: Any, assessment: Assessment) -> Any:
        """Judge what was measured (``measured`` is None when the service was not reached)."""
        return measured

    def served_metrics(self, judged: Any, address: AddressAssessment, served: Served) -> Iterable[Metric]:
        """The check's findings about one served certificate, as metrics for its contexts."""
        return ()

    def metrics(self, judged: Any, assessment: Assessment) -> Iterable[Metric]:
        """The check's findings that are about no one certificate (after every address's)."""
        return ()

    def contexts(self) -> Sequence[Context]:
        """The nagiosplugin Contexts that judge the check's findings."""
        return ()

    def ok_words(self, judged: Any, assessment: Assessment) -> list[str]:
        """What the first line says when all is well ('DANE: TLSA at ... matches')."""
        return []

    def served_lines(self, judged: Any, address: AddressAssessment, served: Served) -> list[str]:
        """Long-output lines (-v) under one served certificate."""
        return []

    def lines(self, judged: Any, assessment: Assessment) -> list[str]:
        """Long-output lines (-v) after every address's."""
        return []
