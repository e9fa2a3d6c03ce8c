"""Presentation: the first line's perfdata, each item ranked by the finding it measures.

When the first line cannot hold every item, ``output.render`` leaves whole
items off from the last rank up: every address's days_remaining stays longest.
"""

from __future__ import annotations

import enum

import nagiosplugin

from .findings import AcceptedCount, Elapsed, Expiry, Finding, LifetimeUsed
from .output import PerfItem


class Rank(enum.IntEnum):
    """What a perfdata item measures, the most important first (the README lists this order)."""

    DAYS_REMAINING = 0  # the certificate served by default
    SECOND_CERTIFICATE = 1  # days_remaining_rsa, _ecdsa: another certificate the address serves
    CHAIN = 2  # days_chain: an intermediate that expires before its leaf
    ACCEPTED = 3  # clients_ok, ciphers_ok
    LIFETIME_USED = 4  # lifetime_used: the thresholds as upper bounds, for engines that ignore ranges
    PROBES_TIME = 5
    HANDSHAKE_TIME = 6
    OTHER = 7


def rank(finding: Finding) -> Rank:
    if isinstance(finding, Expiry):
        if finding.intermediate:
            return Rank.CHAIN
        return Rank.DAYS_REMAINING if finding.served.default else Rank.SECOND_CERTIFICATE
    if isinstance(finding, AcceptedCount):
        return Rank.ACCEPTED
    if isinstance(finding, LifetimeUsed):
        return Rank.LIFETIME_USED
    if isinstance(finding, Elapsed):
        return Rank.HANDSHAKE_TIME if finding.address is not None else Rank.PROBES_TIME
    return Rank.OTHER


def ranked(check: nagiosplugin.Check) -> list[PerfItem]:
    """Every perfdata item of a run check, sorted as nagiosplugin sorts them, each with (rank, address order)."""
    items = []
    for position, result in enumerate(check.results.results):
        metric = result.metric
        if metric is None:
            continue
        performance = metric.performance()
        if performance is not None:
            items.append(PerfItem(str(performance), (int(rank(metric.value)), position)))
    return sorted(items, key=lambda item: item.text)
