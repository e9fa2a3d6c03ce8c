"""Whole first lines for CLI tests: what the line says of a served leaf at a moment, measured seconds masked.

Days left move while a session runs (certificates are dated from its start),
so the expected words are made from the certificate for the moments before
and after the run: the line must equal one of them. Only the handshake and
probe times, which are measurements, are masked (``=Ts``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography import x509
from runs import Run

#: 'label'=value[UOM];[warn];[crit];[min];[max], as the plugin API defines it.
PERF_ITEM = re.compile(r"^('[^'=]+'|[^' =]+)=-?[\d.]+(s|%|B|c)?(;[^; ]*){0,4}$")


def masked(run: Run) -> str:
    """The first line with handshake_time and probes_time values shown as T, lifetime_used's share as U (its
    value is asserted to the hundredth in the seams and tests/process/test_operator.py), and --ari's seconds
    until the renewal window as N (asserted between the moments before and after the run, in test_ari_cli.py), and
    the wait for a large hello that got no answer as S."""
    line = re.sub(r"((?:handshake|probes)_time(?:@[^=']+)?'?=)[0-9.]+s", r"\1Ts", run.first_line)
    line = re.sub(r"(ari_window_start[a-z0-9_]*(?:@[^=']+)?'?=)-?[0-9]+s", r"\1Ns", line)
    line = re.sub(r"\(no answer in [0-9.]+ s\)", "(no answer in S s)", line)  # how long a stalled hello was waited for
    return re.sub(r"(lifetime_used(?:@[^=']+)?'?=)[0-9.]+%", r"\1U%", line)


def validity(cert: x509.Certificate, now: datetime, key: str = "ECDSA P-256") -> tuple[str, str]:
    """('ECDSA P-256 certificate valid 60.0 days (until ..., warning at 18 days)', '60.00;18:;9:;;90').

    For a 90-day certificate under the default -w 20% -c 10%.
    """
    lifetime = (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() / 86400
    assert round(lifetime) == 90, "these words are for 90-day certificates"
    days = (cert.not_valid_after_utc - now).total_seconds() / 86400
    until = cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
    return f"{key} certificate valid {days:.1f} days (until {until}, warning at 18 days)", f"{days:.2f};18:;9:;;90"


def valid(cert: x509.Certificate, now: datetime, key: str = "ECDSA P-256") -> tuple[str, str]:
    """The certificate's words and days_remaining perfdata under the default -w 20% -c 10%, at ``now``.

    For a certificate of any lifetime (``validity`` is for 90-day ones).
    """
    lifetime = round((cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() / 86400)
    warn, crit = round(lifetime * 0.2), round(lifetime * 0.1)
    days = (cert.not_valid_after_utc - now).total_seconds() / 86400
    until = cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{key} certificate valid {days:.1f} days (until {until}, warning at {warn} days)",
        f"{days:.2f};{warn}:;{crit}:;;{lifetime}",
    )


#: The lifetime_used item as ``masked`` shows it, under the default -w 20% -c 10% (upper bounds 80 and 90).
USED = "lifetime_used=U%;80;90;0;100"


def used(cert: x509.Certificate, now: datetime) -> str:
    """The lifetime_used item of a certificate, masked (its share changes while a session runs)."""
    return USED


def day(cert: x509.Certificate) -> str:
    """The certificate's last day, as renewal words give it."""
    return cert.not_valid_after_utc.strftime("%Y-%m-%d")


def utcnow() -> datetime:
    return datetime.now(UTC)


def assert_line(run: Run, expected: Callable[[datetime], str], before: datetime) -> None:
    """The masked first line equals ``expected(moment)`` for the moment before or after the run."""
    wanted = {expected(before), expected(utcnow())}
    assert masked(run) in wanted, f"\n got: {masked(run)}\nwant: {' OR '.join(sorted(wanted))}\n{run.stdout}"
