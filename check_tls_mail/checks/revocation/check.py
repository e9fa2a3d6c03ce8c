"""Revocation as an optional check (--revocation): OCSP, else the CRL, of each served certificate.

Checks layer, the face of the revocation folder: its option, its lookup after the handshakes (lookup.py),
its findings and context (context.py), and its words.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..protocol import OptionalCheck

if TYPE_CHECKING:
    from nagiosplugin import Context, Metric

    from ...judgement.assessment import AddressAssessment, Assessment, Served
    from ...net.transport import Deadline
    from ...probe.plan import ProbePlan
    from .lookup import RevocationLookup
    from .status import CertificateRevocation

#: Each distinct served chain (as sent) -> the status of each certificate of its path.
Revocations = Mapping[tuple[bytes, ...], tuple["CertificateRevocation", ...]]


class Revocation(OptionalCheck):
    """Each certificate of every distinct served path asked of its CA, after the handshakes."""

    name = "revocation"

    def __init__(self, ca_file: str | None) -> None:
        self.ca_file = ca_file  # the anchors that issued the last intermediate

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument_group("revocation").add_argument(
            "--revocation",
            action="store_true",
            help="ask the OCSP responder, else the CRL, of each served certificate and intermediate over HTTP "
            "(requests to the CA on every run); revoked is CRITICAL, no usable answer a WARNING",
        )

    @classmethod
    def configure(cls, args: argparse.Namespace, plan: ProbePlan) -> Revocation | None:
        return cls(args.ca_file) if args.revocation else None

    def start(self, plan: ProbePlan, deadline: Deadline) -> RevocationLookup:
        from .lookup import RevocationLookup

        return RevocationLookup(self.ca_file, plan.parallel)

    def served_metrics(
        self, judged: Revocations | None, address: AddressAssessment, served: Served
    ) -> Iterable[Metric]:
        from ...plugin.findings import metric
        from .context import RevocationChecked

        for checked in (judged or {}).get(served.sent, ()):
            yield metric(RevocationChecked(address, served, checked), "revocation")

    def contexts(self) -> Sequence[Context]:
        from .context import RevocationContext

        return (RevocationContext(),)

    def ok_words(self, judged: Revocations | None, assessment: Assessment) -> list[str]:
        from .status import Good

        served = [s for address in assessment.addresses for s in address.served]
        checked = [c.status for s in served for c in (judged or {}).get(s.sent, ())]
        if not checked:
            return []
        words = []
        sources = list(dict.fromkeys(status.source.value for status in checked if isinstance(status, Good)))
        unchecked = len(checked) - sum(isinstance(status, Good) for status in checked)
        if sources:
            words.append(f"not revoked ({', '.join(sources)})")
        if unchecked:
            words.append(f"{unchecked} certificate{'s' if unchecked > 1 else ''} without OCSP or CRL")
        return words

    def served_lines(self, judged: Revocations | None, address: AddressAssessment, served: Served) -> list[str]:
        from ...plugin.contexts import the
        from .words import describe

        lines = []
        for checked in (judged or {}).get(served.sent, ()):
            which = the(served) if checked.position == 0 else f"intermediate {checked.subject}"
            lines.append(f"  revocation: {describe(checked.status, which)}")
        return lines
