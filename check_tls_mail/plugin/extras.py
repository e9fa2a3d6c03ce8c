"""What the nagiosplugin layer needs of an optional check (checks/protocol.py implements it): ``Judging``.

Plugin layer, an interface only: the resource has each check judge what it measured and yield its findings,
the assembly registers its contexts, the summary and the long output ask for its words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from nagiosplugin import Context, Metric

    from ..judgement.assessment import AddressAssessment, Assessment, Served


class Judging(Protocol):
    @property
    def name(self) -> str: ...

    def assess(self, measured: Any, assessment: Assessment) -> Any: ...

    def served_metrics(self, judged: Any, address: AddressAssessment, served: Served) -> Iterable[Metric]: ...

    def metrics(self, judged: Any, assessment: Assessment) -> Iterable[Metric]: ...

    def contexts(self) -> Sequence[Context]: ...

    def ok_words(self, judged: Any, assessment: Assessment) -> list[str]: ...

    def served_lines(self, judged: Any, address: AddressAssessment, served: Served) -> list[str]: ...

    def lines(self, judged: Any, assessment: Assessment) -> list[str]: ...
