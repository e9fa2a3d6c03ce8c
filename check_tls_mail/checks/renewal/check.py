"""After a renewal, as an optional check: --expect-cert (the file on disk is served) and --require-name.

Checks layer, the face of the renewal folder: its options, its judgement of each served leaf (judge.py),
its findings and context (context.py), and its words.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..protocol import OptionalCheck

if TYPE_CHECKING:
    from nagiosplugin import Context, Metric

    from ...judgement.assessment import AddressAssessment, Assessment, Served
    from ...probe.plan import ProbePlan
    from ...x509.certificate import Certificate
    from .judge import ExpectedCertificate


class Renewal(OptionalCheck):
    """Every served leaf against the --expect-cert files and the --require-name names."""

    name = "renewal"

    def __init__(self, expected: tuple[ExpectedCertificate, ...], names: tuple[str, ...]) -> None:
        self.expected = expected  # the first certificate of each file, read while parsing
        self.names = names

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("after a renewal")
        group.add_argument(
            "--expect-cert",
            action="append",
            default=[],
            metavar="PEM",
            help="the served certificate must be the first one in this file, e.g. the ACME client's fullchain.pem "
            "(repeatable, one per certificate); WARNING when the file holds a newer one (reload the service) "
            "or an older one",
        )
        group.add_argument(
            "--require-name",
            action="append",
            default=[],
            metavar="NAME",
            help="every served certificate must cover this name, as for the checked name (repeatable); "
            "CRITICAL naming the missing names",
        )

    @classmethod
    def configure(cls, args: argparse.Namespace, plan: ProbePlan) -> Renewal | None:
        if not (args.expect_cert or args.require_name):
            return None
        from .judge import check_required_name, load_all

        expected = load_all(args.expect_cert) if args.expect_cert else ()  # an unusable file is a UsageError
        names = tuple(dict.fromkeys(check_required_name(name) for name in args.require_name))
        return cls(expected, names)

    def served_metrics(self, judged: object, address: AddressAssessment, served: Served) -> Iterable[Metric]:
        from ...plugin.findings import metric
        from .context import Deployed, RequiredNames
        from .judge import compare, required_names

        leaf = served.chain.leaf
        if self.expected:
            yield metric(Deployed(address, served, compare(leaf, self.expected, _beside(address, served))), "renewal")
        if self.names:
            yield metric(RequiredNames(address, served, required_names(leaf, self.names)), "renewal")

    def contexts(self) -> Sequence[Context]:
        from .context import RenewalContext

        return (RenewalContext(),)

    def ok_words(self, judged: object, assessment: Assessment) -> list[str]:
        from ...words import join

        served = [s for address in assessment.addresses for s in address.served]
        words = []
        deployed = {s.chain.leaf.fingerprint for s in served} if self.expected else set()
        if deployed:
            words.append(f"serves the certificate{'s' if len(deployed) > 1 else ''} of --expect-cert")
        if self.names and served:
            from ...sanitize import clean

            shown = join([clean(n) for n in self.names])
            words.append(f"covers {shown}" if len(shown) <= 60 else f"covers the {len(self.names)} required names")
        return words

    def served_lines(self, judged: object, address: AddressAssessment, served: Served) -> list[str]:
        from ...plugin.contexts import the
        from .judge import compare, describe, required_names

        leaf = served.chain.leaf
        lines = []
        if self.expected:
            deployment = compare(leaf, self.expected, _beside(address, served))
            lines.append(f"  --expect-cert: {describe(deployment, the(served))}")
        if self.names:
            lines.append(f"  --require-name: {describe(required_names(leaf, self.names), the(served))}")
        return lines


def _beside(address: AddressAssessment, served: Served) -> list[Certificate]:
    """The other certificates served at this address (dual certificates)."""
    return [other.chain.leaf for other in address.served if other is not served]
