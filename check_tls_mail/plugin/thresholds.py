"""Expiry thresholds: "21" (days), "36h" (hours), "20%" (of the certificate's lifetime).

A percentage only becomes a number of days against one certificate's total
lifetime, so thresholds are resolved per certificate at judgement time.
"""

import enum
import re

from ..errors import UsageError
from ..records import NamedTuple

_SYNTAX = re.compile(r"^(\d+(?:\.\d+)?)\s*(d|h|%)?$", re.IGNORECASE)
#: Longest threshold: 100 years. Anything longer is a typo, and would make perfdata too long to print.
MAX_DAYS = 36500


def _shown(text: str) -> str:
    """The argument as a usage error quotes it: a long one cut, so that the reason stays on the line."""
    return repr(text if len(text) <= 24 else text[:20] + "...")


def fmt_days(days: float) -> str:
    """Compact C-locale number of days: 18, 1.2, 0.35."""
    return f"{days:.2f}".rstrip("0").rstrip(".") or "0"


class Unit(enum.Enum):
    DAYS = "d"
    HOURS = "h"
    PERCENT = "%"  # of the certificate's whole lifetime


class ExpiryThreshold(NamedTuple):
    amount: float
    unit: Unit

    @classmethod
    def parse(cls, text: str, option: str) -> "ExpiryThreshold":
        match = _SYNTAX.match(text.strip())
        if not match:
            raise UsageError(
                f"{option} {_shown(text)}: expected days (21, 0.5), hours (36h) or percent of lifetime (20%)"
            )
        unit = Unit((match.group(2) or "d").lower())
        amount = float(match.group(1))
        if unit is Unit.PERCENT and amount > 100:
            raise UsageError(f"{option} {_shown(text)}: a percentage of the lifetime is at most 100%")
        threshold = cls(amount, unit)
        if threshold.days(0) > MAX_DAYS:
            raise UsageError(f"{option} {_shown(text)}: at most {MAX_DAYS} days (100 years)")
        return threshold

    def days(self, lifetime_days: float) -> float:
        """This threshold in days for a certificate of the given total lifetime."""
        if self.unit is Unit.HOURS:
            return self.amount / 24
        if self.unit is Unit.PERCENT:
            return lifetime_days * self.amount / 100
        return self.amount

    def describe(self, lifetime_days: float) -> str:
        """Words for the output: '18 days (20% of 90)' where a percent was given."""
        days = fmt_days(self.days(lifetime_days))
        if self.unit is Unit.PERCENT:
            return f"{days} days ({fmt_days(self.amount)}% of its {fmt_days(lifetime_days)}-day lifetime)"
        if self.unit is Unit.HOURS:
            return f"{fmt_days(self.amount)} hours"
        return f"{days} days"


def check_order(warning: ExpiryThreshold, critical: ExpiryThreshold) -> None:
    """A warning threshold below the critical one would never fire: refuse it."""
    if warning.unit is critical.unit and warning.amount < critical.amount:
        raise UsageError(
            f"-w {fmt_days(warning.amount)} is below -c {fmt_days(critical.amount)}: "
            "the warning must come before the critical threshold (more time left)"
        )
    if {warning.unit, critical.unit} == {Unit.DAYS, Unit.HOURS} and warning.days(0) < critical.days(0):
        raise UsageError("the warning threshold must leave more time than the critical one")


def _given(threshold: ExpiryThreshold, lifetime_days: float) -> str:
    """A threshold as the operator gave it, with its days where they differ: '20% (18 days of its 90-day
    lifetime)', '36h (1.5 days)', '21 days'."""
    days = fmt_days(threshold.days(lifetime_days))
    amount = fmt_days(threshold.amount)
    if threshold.unit is Unit.PERCENT:
        return f"{amount}% ({days} days of its {fmt_days(lifetime_days)}-day lifetime)"
    if threshold.unit is Unit.HOURS:
        return f"{amount}h ({days} days)"
    return f"{days} days"


def crossed(warning: ExpiryThreshold, critical: ExpiryThreshold, lifetime_days: float) -> str | None:
    """Why WARNING could never fire for a certificate of this lifetime, or None. Units that resolve only per
    certificate (a percentage beside days or hours) are compared here; the others already at parse time."""
    if warning.days(lifetime_days) >= critical.days(lifetime_days):
        return None
    return (
        f"-w {_given(warning, lifetime_days)} leaves less time than -c {_given(critical, lifetime_days)}: "
        "WARNING could never fire"
    )
