"""Judgement vocabulary: the four monitoring states, valued as the plugin exit codes.

The pure judgement functions of the optional checks (mtasts, revocation,
renewal) return these; the nagiosplugin contexts turn them into results.
"""

from __future__ import annotations

import enum


class Severity(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3
