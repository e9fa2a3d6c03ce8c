"""scripts/bench_watched.py: the ban arithmetic and the syslog names docs/performance.md's fail2ban table rests on."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def watched() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_watched", ROOT / "scripts" / "bench_watched.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_watched", module)  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("per_run", "words"),
    [
        (0, "never"),
        (1, "at run 5, if runs come less than 2.5 min apart"),
        (2, "at run 3, if runs come less than 5 min apart"),
        (4, "at run 2, if runs come less than 10 min apart"),
        (5, "at the first run"),
        (9, "at the first run"),
    ],
)
def test_when_the_default_jail_bans(watched: ModuleType, per_run: int, words: str) -> None:
    # maxretry 5 within findtime 10m: n runs reach it when n * per_run >= 5 and they span less than 10 minutes
    assert watched.ban_words(per_run) == words


@pytest.mark.parametrize(
    ("line", "debian"),
    [
        (
            "Dec 03 07:53:55 mail postfix/fixed-submission/smtpd[23817]: lost connection after STARTTLS from x",
            "Dec 03 07:53:55 mail postfix/submission/smtpd[23817]: lost connection after STARTTLS from x",
        ),
        (
            "Dec 03 07:53:55 mail postfix/fixed-smtp/smtpd[1]: connect from localhost[127.0.0.1]",
            "Dec 03 07:53:55 mail postfix/smtpd[1]: connect from localhost[127.0.0.1]",
        ),
        (
            "Dec 03 07:53:55 mail postfix/incident-smtps/smtpd[1]: connect from localhost[127.0.0.1]",
            "Dec 03 07:53:55 mail postfix/smtps/smtpd[1]: connect from localhost[127.0.0.1]",
        ),
        (
            "Dec 03 07:53:58 imap-login: Info: Disconnected: Connection closed (no auth attempts in 0 secs)",
            "Dec 03 07:53:58 imap-login: Info: Disconnected: Connection closed (no auth attempts in 0 secs)",
        ),
    ],
)
def test_postfix_lines_get_debians_syslog_names(watched: ModuleType, line: str, debian: str) -> None:
    assert watched.debian_names(line) == debian
