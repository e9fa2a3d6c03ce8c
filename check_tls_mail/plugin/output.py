"""Presentation: the plugin's stdout and exit code, bounded and safe at every -v level and in any locale.

nagiosplugin's own Runtime moves perfdata off the first line with -v and
prints tracebacks for internal errors; monitoring wants neither, so the final
text is assembled here from the Check's state, summary, long output and perfdata.

The first line is at most ``LINE_LIMIT`` bytes: the summary gets up to
``SUMMARY_LIMIT`` of them, perfdata the rest. Perfdata items are never cut:
when they do not all fit, whole items are left off, the highest rank first.
The text is written as UTF-8 whatever the locale (see ``emit``).
"""

import errno
import os
from collections.abc import Sequence

from ..records import NamedTuple
from ..sanitize import clean

NAME = "TLS_MAIL"
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
#: Longest first line in bytes (UTF-8), perfdata included: well under NRPE v2's 1024-byte packets.
LINE_LIMIT = 1000
#: Longest summary in bytes; a longer one is cut (the summary aims at SUMMARY_TARGET itself).
SUMMARY_LIMIT = 520
#: What the check's own summary aims at: longer wording is made compact, the detail moves to the long output.
SUMMARY_TARGET = 400
#: Longest perfdata item; a longer one is left off whole, never cut.
ITEM_LIMIT = 120
LONG_LINE_LIMIT = 300
LONG_LINES_LIMIT = 60
#: The whole output, first line included: Nagios 4 keeps 8192 bytes of it.
OUTPUT_LIMIT = 8000


class PerfItem(NamedTuple):
    """One perfdata item, and its rank: items are left off the first line from the highest rank down."""

    text: str
    rank: tuple[int, ...] = ()


def fit(text: str, limit: int) -> str:
    """``clean`` the text, and cut it to at most ``limit`` bytes of UTF-8 (marked with "...")."""
    out = clean(text, limit)
    if len(out.encode()) <= limit:
        return out
    return out.encode()[: max(limit - 3, 0)].decode("utf-8", "ignore") + "..."


def size(text: str) -> int:
    """Bytes on the wire."""
    return len(text.encode("utf-8", "backslashreplace"))


def _perfdata(items: Sequence[str | PerfItem], budget: int) -> tuple[list[str], int]:
    """The items that fit in ``budget`` bytes, in their given order, and how many were left off.

    Items are admitted by rank (then position) until one does not fit: it and
    every item ranked after it are left off. An item that is not one clean
    token of at most ITEM_LIMIT characters is left off too, never cut.
    """
    candidates = []
    for position, item in enumerate(items):
        text, rank = (item.text, item.rank) if isinstance(item, PerfItem) else (item, ())
        if text and clean(text, ITEM_LIMIT) == text:
            candidates.append((rank, position, text))
    kept: set[int] = set()
    used = 0
    for _rank, position, text in sorted(candidates):
        cost = size(text) + (1 if kept else 0)
        if used + cost > budget:
            break
        kept.add(position)
        used += cost
    shown = [text for _rank, position, text in sorted(candidates, key=lambda c: c[1]) if position in kept]
    return shown, len(items) - len(shown)


def first_line(exitcode: int, summary: str, perfdata: Sequence[str | PerfItem] = ()) -> tuple[str, int]:
    """The status line, and how many perfdata items had to be left off it."""
    line = f"{NAME} {STATES[exitcode]} - {fit(summary, SUMMARY_LIMIT)}"
    shown, left_off = _perfdata(perfdata, LINE_LIMIT - size(line) - len(" | "))
    if shown:
        line += " | " + " ".join(shown)
    return line, left_off


def render(exitcode: int, summary: str, perfdata: Sequence[str | PerfItem], long_output: Sequence[str]) -> str:
    """The whole plugin output: one self-contained line, then bounded long output."""
    line, left_off = first_line(exitcode, summary, perfdata)
    body = [clean(text, LONG_LINE_LIMIT) for text in long_output]
    if left_off:  # first, so that a cut long output never loses it
        body.insert(
            0,
            f"perfdata: {left_off} of {len(perfdata)} items left off to keep the first line under "
            f"{LINE_LIMIT} bytes (the least important first)",
        )
    kept: list[str] = []
    room = OUTPUT_LIMIT - size(line) - 1
    for index, text in enumerate(body):
        left = len(body) - index
        more = f"... {left} more line{'s' if left > 1 else ''}"
        last = index == len(body) - 1
        if (len(kept) == LONG_LINES_LIMIT - 1 and not last) or size(text) + 1 > room - (0 if last else size(more) + 1):
            kept.append(more)
            break
        kept.append(text)
        room -= size(text) + 1
    return "\n".join([line, *kept]) + "\n"


def unknown(reason: str) -> str:
    return render(3, reason, (), ())


def emit(text: str, fd: int = 1) -> OSError | None:
    """Write the whole text to ``fd`` as UTF-8; the error if it could not be written, else None.

    Always UTF-8, whatever the locale: the engines store and show plugin output
    as UTF-8 (Icinga 2 replaces bytes that are not, Nagios's CGIs serve UTF-8
    pages, NRPE passes bytes through), and a daemon's locale (C, POSIX,
    ISO-8859-1) is incidental. Every string can be written, so nothing a
    server sends can cut the output short. Written with os.write, not
    sys.stdout, so that a closed or full stream is an error value here and
    never a traceback at interpreter exit.
    """
    data = text.encode("utf-8", "backslashreplace")
    while data:
        try:
            written = os.write(fd, data)
        except BlockingIOError:  # a non-blocking pipe inherited from the caller: wait until it drains
            import select

            if not select.select([], [fd], [], 10)[1]:
                return OSError(errno.EAGAIN, "stdout did not drain within 10 s")
            continue
        except OSError as exc:
            return exc
        if not written:
            return OSError(errno.EIO, "nothing written")
        data = data[written:]
    return None


def quiet_failure(error: OSError) -> bool:
    """A reader that went away (closed pipe) needs no word; a full disk or a bad descriptor gets one line."""
    return error.errno == errno.EPIPE
