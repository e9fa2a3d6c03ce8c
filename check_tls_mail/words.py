"""Words every layer uses: moments, dates, durations and lists of names, each in one form.

Shared vocabulary (no decisions, no imports of the package): the first line, the long output and the optional
checks' words all say a moment as '2027-01-26 23:37 UTC' and a day as '2027-01-26'.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


def when(moment: datetime | None) -> str:
    """'2027-01-26 23:37 UTC' ('(unknown date)' for a date that could not be read)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "(unknown date)"


def day(moment: datetime) -> str:
    """'2027-01-26'."""
    return moment.strftime("%Y-%m-%d")


def days(amount: float) -> str:
    """'5.0 days', or '12.0 hours' under two days."""
    return f"{amount * 24:.1f} hours" if amount < 2 else f"{amount:.1f} days"


def join(names: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def limited(names: Sequence[str], most: int = 4) -> str:
    """Like ``join``, but past ``most`` names the first few and how many more: 'a, b, c and 10 more'."""
    if len(names) <= most:
        return join(names)
    return join([*names[: most - 1], f"{len(names) - most + 1} more"])


def first_few(names: Sequence[str], most: int = 4, empty: str = "") -> str:
    """'a, b, c, d and 3 more': a list of names (already cleaned) shown with commas, bounded."""
    shown = ", ".join(names[:most])
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return (shown + more) or empty


#: Between the clauses of the first line. Not "; ": Nagios 4 turns every ";" of a plugin's first line into ":"
#: (status.dat, the SERVICE ALERT log line and so the notifications), which runs the clauses together.
CLAUSES = " / "


def certificate(named: str | None) -> str:
    """How a judgement names a certificate: 'certificate', or a second one's name ('RSA certificate')."""
    return named or "certificate"
