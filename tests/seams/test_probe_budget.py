"""The probes' budget counts from when -t began (cli/main.check): what the imports take comes off it.

In a burst of checks on a busy machine the imports can take seconds; the probes, started after them, must
still end with their own words before the global timeout (docs/performance.md, the burst). Here the imports'
time is made up: the clock ``check`` reads jumps between before and after them.
"""

from __future__ import annotations

import itertools
import time

import pytest
from loopback import free_port

from check_tls_mail.cli import main as cli
from check_tls_mail.probe import run as probe_run


class JumpingClock:
    """time as cli/main reads it, except that each monotonic() reading is ``step`` seconds after the last."""

    def __init__(self, step: float) -> None:
        self._readings = itertools.count(time.monotonic(), step)

    def monotonic(self) -> float:
        return next(self._readings)

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


def run_with_imports_taking(seconds: float, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, list[float]]:
    budgets: list[float] = []
    real_start = probe_run.start

    def start(plan: probe_run.ProbePlan, lookups: object = ()) -> probe_run.RunningProbes:
        budgets.append(plan.seconds)
        return real_start(plan, lookups)  # type: ignore[arg-type]

    monkeypatch.setattr(probe_run, "start", start)
    args = cli.parser().parse_args(["-H", "127.0.0.1", "-p", str(free_port()), "-P", "imaps", "-t", "5"])
    options = cli.options_from(args)
    clock = JumpingClock(seconds)
    monkeypatch.setattr(cli, "time", clock)
    try:
        code, text = cli.check(options, clock.monotonic())
    except cli.GlobalTimeout:
        return 3, "GlobalTimeout", budgets
    return code, text, budgets


def test_the_imports_time_comes_off_the_probes_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = cli.options_from(cli.parser().parse_args(["-H", "127.0.0.1", "-P", "imaps", "-t", "5"])).plan.seconds
    code, text, budgets = run_with_imports_taking(1.5, monkeypatch)
    assert budgets == [pytest.approx(plain - 1.5)], (plain, budgets)
    assert code == 2 and text.startswith("TLS_MAIL CRITICAL"), text  # a refused port, worded by the probes


def test_imports_that_took_the_whole_budget_start_no_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    code, text, budgets = run_with_imports_taking(60.0, monkeypatch)
    assert (code, text, budgets) == (3, "GlobalTimeout", [])
