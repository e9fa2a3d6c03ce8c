"""ACME renewal information as an optional check (--ari, RFC 9773): does the CA ask to renew a served certificate?

Checks layer, the face of the ari folder: its options, its lookup after the handshakes (lookup.py: cache.py,
fetch.py, schedule.py), its findings and context (context.py), and its words (words.py). Nothing of the
folder but this module is imported without --ari.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ...errors import UsageError
from ..protocol import OptionalCheck

if TYPE_CHECKING:
    from nagiosplugin import Context, Metric

    from ...judgement.assessment import AddressAssessment, Assessment, Served
    from ...net.transport import Deadline
    from ...probe.plan import ProbePlan
    from .cache import StateDir
    from .lookup import AriLookup
    from .status import AriJudgement, AriOutcome

#: Where the CA's answers are kept between runs unless --state-dir says otherwise.
DEFAULT_STATE_DIR = "/var/tmp/check_tls_mail"


class Ari(OptionalCheck):
    """The renewal window the issuing CA suggests for each served leaf (RFC 9773), cached per certificate."""

    name = "ari"

    def __init__(self, directory: str | None, state: StateDir, ca_file: str | None) -> None:
        self.directory = directory  # --acme-directory; None: chosen per certificate by its issuer
        self.state = state
        self.ca_file = ca_file  # the CA's HTTPS trust anchors (None: the system store)

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("the CA's renewal window (ARI)")
        group.add_argument(
            "--ari",
            action="store_true",
            help="ask the issuing CA's ACME renewal information (RFC 9773) when to renew each served certificate "
            "(cached in --state-dir as the CA's Retry-After says); inside the suggested window WARNING, past it "
            "CRITICAL, no usable answer a WARNING; perfdata ari_window_start (seconds until the window)",
        )
        group.add_argument(
            "--acme-directory",
            metavar="URL",
            help="the CA's ACME directory (https) for --ari (default: Let's Encrypt's production or staging "
            "directory, by the certificate's issuer)",
        )
        group.add_argument(
            "--state-dir",
            metavar="DIR",
            help=f"where --ari keeps the CA's answers between runs, created 0700 (default {DEFAULT_STATE_DIR})",
        )

    @classmethod
    def configure(cls, args: argparse.Namespace, plan: ProbePlan) -> Ari | None:
        if not args.ari:
            if args.acme_directory is not None:
                raise UsageError("--acme-directory is for --ari: add --ari")
            return None
        from ...sanitize import clean
        from .cache import open_state_dir
        from .fetch import https_url

        directory = args.acme_directory
        if directory is not None and not https_url(directory):
            raise UsageError(f"--acme-directory {clean(directory, 200)}: not an https URL (ACME is HTTPS only)")
        if args.state_dir is not None:
            state = open_state_dir(args.state_dir, f"--state-dir {clean(args.state_dir, 200)}")
        else:
            state = open_state_dir(DEFAULT_STATE_DIR, f"the state directory {DEFAULT_STATE_DIR} (--state-dir)")
        return cls(directory, state, args.ca_file)

    def start(self, plan: ProbePlan, deadline: Deadline) -> AriLookup:
        from .lookup import AriLookup

        return AriLookup(self.directory, self.state, self.ca_file, plan.dns_server, plan.parallel)

    def assess(self, measured: Mapping[bytes, AriOutcome] | None, assessment: Assessment) -> AriJudgement | None:
        if measured is None:
            return None
        from .status import AriJudgement

        return AriJudgement(measured, assessment.now)

    def served_metrics(
        self, judged: AriJudgement | None, address: AddressAssessment, served: Served
    ) -> Iterable[Metric]:
        outcome = judged.outcomes.get(served.sent[0]) if judged is not None and served.sent else None
        if outcome is None or judged is None:
            return ()
        from ...plugin.findings import metric
        from .context import AriJudged

        return (metric(AriJudged(address, served, outcome, judged.now), "ari"),)

    def contexts(self) -> Sequence[Context]:
        from .context import AriContext

        return (AriContext(),)

    def ok_words(self, judged: AriJudgement | None, assessment: Assessment) -> list[str]:
        """'renewal window (ARI) from 2027-01-26': the earliest start of the served certificates' windows."""
        if judged is None:
            return []
        from ...words import day
        from .status import Answered

        served = [s for address in assessment.addresses for s in address.served if s.sent]
        starts = [
            outcome.answer.window.start
            for s in served
            if (outcome := judged.outcomes.get(s.sent[0])) is not None and isinstance(outcome.answer, Answered)
        ]
        return [f"renewal window (ARI) from {day(min(starts))}"] if starts else []

    def served_lines(self, judged: AriJudgement | None, address: AddressAssessment, served: Served) -> list[str]:
        outcome = judged.outcomes.get(served.sent[0]) if judged is not None and served.sent else None
        if outcome is None or judged is None:
            return []
        from ...plugin.contexts import the
        from .words import served_line

        return [f"  ARI: {served_line(outcome, the(served), judged.now)}"]

    def lines(self, judged: AriJudgement | None, assessment: Assessment) -> list[str]:
        if judged is None:
            return []
        directory = self.directory or "chosen by each certificate's issuer"
        return [f"ARI: ACME directory {directory}, answers kept in {self.state.path}"]
