"""Running the real CLI (``python -m check_tls_mail``) as operators do, and what tests of it share.

``check`` and ``check_raw`` run the CLI in a subprocess and capture everything
(``check_raw`` as bytes, with a changed environment, stdout or a signal);
``serving`` and ``args_for`` put a loopback server (fakeserver.py) in front of
it; ``require`` says which programs a test needs: a test skips without them on
a laptop, and fails with ``CI=true`` (CI must have everything).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakeserver import Behaviour, MailServer, TlsConfig
from pki import Pki
from realservers import MAIL_SERVER_PACKAGES, have

ROOT = Path(__file__).resolve().parent.parent.parent
NAME = "mail.example.test"
#: The operator's RSA-only TLS 1.2 list from the incident.
RSA_ONLY = (
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-GCM-SHA256:"
    "DHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA"
)
ECDSA_ONLY = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"
IN_CI = os.environ.get("CI") == "true"
#: How far past the deadline it was given a run of the CLI may end on a loaded machine (Python's start-up, judging,
#: output). Tests of a deadline hold their hostile server longer than that (fakeserver.HOLD); speed is scripts/bench's.
CLI_SLACK = 15.0
#: The same for a lookup, an exchange or main() in process, which has no start-up.
IN_PROCESS_SLACK = 5.0


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def first_line(self) -> str:
        return self.stdout.split("\n", 1)[0]

    @property
    def summary(self) -> str:
        return self.first_line.split(" | ", 1)[0]

    @property
    def perfdata(self) -> dict[str, list[str]]:
        """label -> [value with UOM, warn, crit, min, max]."""
        if " | " not in self.first_line:
            return {}
        out = {}
        for item in self.first_line.split(" | ", 1)[1].split():
            label, _, rest = item.partition("=")
            fields = rest.split(";")
            out[label.strip("'")] = fields + [""] * (5 - len(fields))
        return out

    def value(self, label: str) -> float:
        return float(re.match(r"-?[\d.]+", self.perfdata[label][0]).group())  # type: ignore[union-attr]


def check(*args: str, timeout: float = 30) -> Run:
    """Run the real CLI (python -m check_tls_mail) and capture everything."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "check_tls_mail", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    run = Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
    record(list(args), run.code, run.stdout)
    assert "Traceback" not in run.stdout + run.stderr, run
    return run


@dataclass
class RawRun:
    """A run of the CLI as bytes, for tests of the process edge (locale, streams, signals)."""

    code: int
    stdout: bytes
    stderr: bytes
    seconds: float


def check_raw(
    *args: str,
    env: Mapping[str, str | None] | None = None,
    stdout: int | None = subprocess.PIPE,
    close_stdout: bool = False,
    signal_when: tuple[Callable[[], bool], int] | None = None,
    timeout: float = 30,
) -> RawRun:
    """Run the real CLI with changes to its environment (None removes a variable) and a chosen stdout.

    ``stdout``: a descriptor (a pipe's end, /dev/full) or PIPE; ``close_stdout``
    starts it with descriptor 1 closed; ``signal_when`` = (condition, signal)
    sends the signal as soon as the condition holds (polled).
    """
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    command = [sys.executable, "-m", "check_tls_mail", *args]
    if signal_when is not None:  # as from a terminal: a test run started in the background ignores SIGINT
        command = ["env", "--default-signal=INT", *command]
    if close_stdout:  # as `check_tls_mail ... >&-` in a shell
        command = ["sh", "-c", 'exec "$0" "$@" >&-', *command]
    started = time.monotonic()
    proc = subprocess.Popen(
        command, stdout=None if close_stdout else stdout, stderr=subprocess.PIPE, cwd=ROOT, env=environment
    )
    if signal_when is not None:
        condition, signum = signal_when
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signum)
    out, err = proc.communicate(timeout=timeout)
    run = RawRun(proc.returncode, out or b"", err, time.monotonic() - started)
    record(list(args), run.code, run.stdout.decode("utf-8", "replace"))
    assert b"Traceback" not in run.stdout + run.stderr, run
    return run


def record(args: list[str], code: int, stdout: str) -> None:
    """With CHECK_TLS_MAIL_RECORD=FILE, append every run (JSON lines): compare outputs across a refactoring."""
    path = os.environ.get("CHECK_TLS_MAIL_RECORD")
    if path:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"test": test, "args": args, "code": code, "stdout": stdout}) + "\n")


@contextmanager
def serving(protocol: str, tls: TlsConfig, how: Behaviour | None = None) -> Iterator[MailServer]:
    with MailServer.speaking(protocol, tls, how) as server:
        yield server


def args_for(server: MailServer, protocol: str, pki: Pki, *extra: str) -> list[str]:
    return [
        "-H",
        "127.0.0.1",
        "--servername",
        NAME,
        "-p",
        str(server.port),
        "-P",
        protocol,
        "--ca-file",
        pki.root_file,
        *extra,
    ]


def clients(*names: str) -> list[str]:
    """``--client NAME`` for each name."""
    return [arg for name in names for arg in ("--client", name)]


def require(*commands: str) -> None:
    """The commands must be on this host (``postfix`` and ``dovecot``: on it, or in their chroot)."""
    missing = [c for c in have(*commands) if c not in MAIL_SERVER_PACKAGES or have("debootstrap", "chroot")]
    if missing and IN_CI:
        pytest.fail(f"{', '.join(missing)} missing with CI=true: .ci/setup must install them")
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed; `make test` installs them (needs root and apt)")


def imported(*args: str) -> set[str]:
    """The check_tls_mail modules a run of the CLI imports (python -X importtime)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "check_tls_mail", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.split("\n") if line.startswith("import time:")}
