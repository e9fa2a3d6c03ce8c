"""When to ask the CA again about a certificate (RFC 9773 section 4.3): Retry-After, bounded, and error backoff.

Judgement over a fetch's outcome, pure. "Retry-After ... indicates the desired (i.e., both requested minimum
and maximum) amount of time to wait"; "values under one minute could be treated as if they were one minute,
and values over one day could be treated as if they were one day" (section 4.3.2). Temporary errors
(timeouts, 5xx) back off exponentially for a few tries, then count as long-term; after a long-term error (no
or an invalid Retry-After, an invalid answer, DNS failure, connection refused, another HTTP error) the next
request is "as soon as possible after six hours have passed" (section 4.3.3).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from ...records import NamedTuple
from .status import Answered, Failure, Unavailable

MIN_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(days=1)
#: After a long-term error, or an answer without a usable Retry-After.
LONG_TERM = timedelta(hours=6)
#: Temporary errors: 1, 2, 4 ... 32 minutes, then the next one counts as long-term.
BACKOFF_FIRST = timedelta(minutes=1)
MAX_TRIES = 6


class Next(NamedTuple):
    """When to ask again, and how many temporary failures in a row that counts (0 after an answer)."""

    at: datetime
    failures: int


def retry_after(text: str, now: datetime) -> timedelta | None:
    """A Retry-After header (RFC 9110 section 10.2.3: delay-seconds or an HTTP-date) as a delay, else None."""
    text = text.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return timedelta(seconds=int(text)) if len(text) <= 9 else MAX_RETRY  # beyond 31 years: a day anyway
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": a time in UTC with no zone claimed
        return None
    return max(moment - now, timedelta(0))


def bounded(delay: timedelta) -> timedelta:
    return min(max(delay, MIN_RETRY), MAX_RETRY)


def temporary(answer: Unavailable) -> bool:
    """RFC 9773 section 4.3.3's temporary errors: timeouts, 5xx (and 429, too many requests), a cut answer."""
    if answer.why in (Failure.TIMEOUT, Failure.PROTOCOL, Failure.TLS):
        return True
    return answer.why is Failure.HTTP_STATUS and (answer.status >= 500 or answer.status == 429)


def next_ask(answer: Answered | Unavailable, sent: str, failures: int, now: datetime) -> Next:
    """When to ask again after ``answer`` (with Retry-After ``sent``), ``failures`` temporary ones before it."""
    delay = retry_after(sent, now)
    if isinstance(answer, Answered):
        return Next(now + (bounded(delay) if delay is not None else LONG_TERM), 0)
    if temporary(answer) and failures < MAX_TRIES:
        backoff = BACKOFF_FIRST * 2**failures
        return Next(now + bounded(delay if delay is not None else backoff), failures + 1)
    return Next(now + (bounded(delay) if delay is not None and delay > LONG_TERM else LONG_TERM), 0)
