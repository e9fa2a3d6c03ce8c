"""After a renewal, judged: one finding per served certificate for each option, and their Context.

Checks layer, on the nagiosplugin layer: states from judge.severity(), words from judge.describe().
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nagiosplugin
from nagiosplugin import Metric, Result
from nagiosplugin.state import Ok

from ...plugin.contexts import QuietContext, state_of, the
from ...records import NamedTuple
from .judge import Deployment, NameCoverage, describe, severity

if TYPE_CHECKING:
    from ...judgement.assessment import AddressAssessment, Served


class Deployed(NamedTuple):
    """--expect-cert: one served certificate against the certificates in the files on disk."""

    address: AddressAssessment
    served: Served
    deployment: Deployment

    @property
    def stem(self) -> str:
        return "expect_cert"


class RequiredNames(NamedTuple):
    """--require-name: whether one served certificate covers every required name."""

    address: AddressAssessment
    served: Served
    coverage: NameCoverage

    @property
    def stem(self) -> str:
        return "required_names"


class RenewalContext(QuietContext):
    """--expect-cert: the served certificate is the one on disk; --require-name: it covers every required name."""

    def __init__(self) -> None:
        super().__init__("renewal")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: Deployed | RequiredNames = metric.value
        judged = finding.deployment if isinstance(finding, Deployed) else finding.coverage
        state = state_of(severity(judged))
        if state == Ok:
            return Result(Ok, None, metric)
        return Result(state, describe(judged, the(finding.served)), metric)
