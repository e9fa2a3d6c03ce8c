"""Revocation judged: one finding per certificate of a served path (``RevocationChecked``), and its Context.

Checks layer, on the nagiosplugin layer: revoked or unknown is CRITICAL; no usable answer a WARNING (soft fail,
as clients do); states from status.severity(), words from words.describe().
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nagiosplugin
from nagiosplugin import Metric, Result
from nagiosplugin.state import Ok

from ...plugin.contexts import QuietContext, state_of, the
from ...records import NamedTuple
from .status import CertificateRevocation, severity
from .words import describe

if TYPE_CHECKING:
    from ...judgement.assessment import AddressAssessment, Served


class RevocationChecked(NamedTuple):
    """One certificate of a served path (position 0 is the leaf) as its OCSP responder or CRL says."""

    address: AddressAssessment
    served: Served
    checked: CertificateRevocation

    @property
    def stem(self) -> str:
        position = self.checked.position
        return f"revocation{f'_chain{position}' if position else ''}"


class RevocationContext(QuietContext):
    """--revocation: revoked or unknown is CRITICAL; no usable answer a WARNING (soft fail, as clients do)."""

    def __init__(self) -> None:
        super().__init__("revocation")

    def evaluate(self, metric: Metric, resource: nagiosplugin.Resource) -> Result:
        finding: RevocationChecked = metric.value
        checked = finding.checked
        state = state_of(severity(checked.status))
        if state == Ok:
            return Result(Ok, None, metric)
        which = the(finding.served) if checked.position == 0 else f"intermediate {checked.subject}"
        return Result(state, describe(checked.status, which), metric)
