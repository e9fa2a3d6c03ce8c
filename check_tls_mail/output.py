"""Presentation: the plugin's stdout and exit code, bounded and safe at every -v level.

nagiosplugin's own Runtime moves perfdata off the first line with -v and
prints tracebacks for internal errors; monitoring wants neither, so the final
text is assembled here from the Check's state, summary, long output and perfdata.
"""

from __future__ import annotations

from collections.abc import Sequence

from .sanitize import clean

NAME = "TLS_MAIL"
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
#: Longest summary on the first line; with perfdata the line stays well under 1024 bytes.
SUMMARY_LIMIT = 520
LONG_LINE_LIMIT = 300
LONG_LINES_LIMIT = 60


def status_line(exitcode: int, summary: str, perfdata: Sequence[str] = ()) -> str:
    line = f"{NAME} {STATES[exitcode]} - {clean(summary, SUMMARY_LIMIT)}"
    if perfdata:
        line += " | " + " ".join(clean(p, 120) for p in perfdata)
    return line


def render(exitcode: int, summary: str, perfdata: Sequence[str], long_output: Sequence[str]) -> str:
    """The whole plugin output: one self-contained line, then bounded long output."""
    lines = [status_line(exitcode, summary, perfdata)]
    body = [clean(line, LONG_LINE_LIMIT) for line in long_output]
    if len(body) > LONG_LINES_LIMIT:
        body = [*body[: LONG_LINES_LIMIT - 1], f"... {len(body) - LONG_LINES_LIMIT + 1} more lines"]
    return "\n".join(lines + body) + "\n"


def unknown(reason: str) -> str:
    return render(3, reason, (), ())
