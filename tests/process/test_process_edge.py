"""The process edge through the real CLI: any locale, a stdout that cannot be written, signals, odd --ca-files.

Whatever the locale and whatever happens to stdout, the exit code is the
state's and nothing but one short line reaches stderr.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakeserver import Lines, MailServer, TlsConfig, hold
from loopback import free_port
from pki import Certs, Pki
from runs import IN_CI, NAME, ROOT, RSA_ONLY, args_for, check, check_raw, require, serving

from check_tls_mail.clients.profiles import catalogue

RUSSIAN = "TLS недоступен ☃ 日本"


def refuses_starttls_in_russian(sock: socket.socket) -> None:
    """An SMTP server whose 454 reply is not Latin-1."""
    io = Lines(sock)
    io.send("220 mx.example.test ESMTP")
    while (line := io.readline()) is not None:
        verb = line.split(b" ")[0].upper()
        if verb == b"EHLO":
            io.send("250-mx.example.test", "250-STARTTLS", "250 8BITMIME")
        elif verb == b"STARTTLS":
            io.send(f"454 4.7.0 {RUSSIAN}")
        else:
            io.send("221 2.0.0 Bye")
            return


# --- locale -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def latin1_locale(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """An environment with a compiled en_US.ISO-8859-1 locale, built into a private LOCPATH."""
    require("localedef")
    directory = tmp_path_factory.mktemp("locale")
    built = subprocess.run(
        ["localedef", "-i", "en_US", "-f", "ISO-8859-1", str(directory / "en_US.ISO-8859-1")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # localedef exits 1 for mere warnings; what matters is that Python then writes ISO-8859-1.
    env: dict[str, str | None] = {
        "LOCPATH": str(directory),
        "LC_ALL": "en_US.ISO-8859-1",
        "PYTHONUTF8": None,
        "PYTHONIOENCODING": None,
    }
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.stdout.encoding)"],
        capture_output=True,
        text=True,
        env={k: v for k, v in {**os.environ, **env}.items() if v is not None},
    )
    if probe.stdout.strip() != "iso8859-1":
        message = f"no ISO-8859-1 locale (localedef: {built.stderr.strip()[-300:]}); .ci/setup installs locales"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return env


@pytest.fixture(scope="module")
def russian_server() -> Iterator[MailServer]:
    with MailServer(refuses_starttls_in_russian) as server:
        yield server


def refusal(server: MailServer, env: dict[str, str | None]) -> tuple[int, bytes, bytes]:
    args = ["-H", "127.0.0.1", "-p", str(server.port), "-P", "smtp", "--no-verify-chain", "--client", "none"]
    run = check_raw(*args, env=env)
    return run.code, run.stdout, run.stderr


def test_output_is_whole_utf8_under_a_latin1_locale(
    russian_server: MailServer, latin1_locale: dict[str, str | None]
) -> None:
    code, out, err = refusal(russian_server, latin1_locale)
    assert code == 2, out
    assert err == b""
    text = out.decode("utf-8")  # UTF-8, not the locale's ISO-8859-1: what the engines read
    assert text.startswith(f"TLS_MAIL CRITICAL - 127.0.0.1:{russian_server.port} smtp: ")
    assert text.endswith(f": 454 4.7.0 {RUSSIAN}\n")
    assert (code, out, err) == refusal(russian_server, {"LC_ALL": "C.UTF-8"})


@pytest.mark.parametrize("name", ["C", "POSIX"])
def test_output_is_the_same_in_the_c_locale(russian_server: MailServer, name: str) -> None:
    code, out, err = refusal(russian_server, {"LC_ALL": name, "PYTHONUTF8": None, "PYTHONIOENCODING": None})
    assert code == 2 and err == b"" and RUSSIAN.encode() in out
    assert (code, out, err) == refusal(russian_server, {"LC_ALL": "C.UTF-8"})


def test_a_non_latin1_issuer_name_under_a_latin1_locale(
    latin1_locale: dict[str, str | None], pki: Pki, tmp_path: Path
) -> None:
    stranger = Pki(tmp_path, "Корневой ☃")
    chain = stranger.leaf(names=(NAME,)).write(tmp_path, "stranger")
    with MailServer.speaking("imaps", TlsConfig([chain])) as server:
        run = check_raw(
            "-H", "127.0.0.1", "--servername", NAME, "-p", str(server.port), "-P", "imaps",
            "--ca-file", pki.root_file, "--client", "none", env=latin1_locale,
        )  # fmt: skip
    assert run.code == 2 and run.stderr == b""
    first = run.stdout.decode("utf-8").split("\n")[0]
    assert "untrusted chain: issuer Корневой ☃ Root CA is not in --ca-file" in first


# --- output streams -------------------------------------------------------------------------------


def critical_args() -> list[str]:
    """A loopback port nothing listens on: the check is CRITICAL at once (connection refused)."""
    return ["-H", "127.0.0.1", "-p", str(free_port()), "-P", "imaps"]


def test_closed_stdout_exits_with_the_state() -> None:
    run = check_raw(*critical_args(), close_stdout=True)
    assert run.code == 2
    assert run.stderr == b""


def test_full_device_exits_with_the_state_and_says_so_in_one_line() -> None:
    with open("/dev/full", "wb") as full:
        run = check_raw(*critical_args(), stdout=full.fileno())
    assert run.code == 2
    assert run.stderr == b"check_tls_mail: cannot write the output: No space left on device\n"


def test_help_on_a_full_device_exits_0_without_a_traceback() -> None:
    with open("/dev/full", "wb") as full:
        run = check_raw("--help", stdout=full.fileno())
    assert run.code == 0
    assert run.stderr.count(b"\n") == 1


def test_closed_pipe_exits_with_the_state_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away before the plugin wrote
    try:
        run = check_raw(*critical_args(), stdout=write_end)
    finally:
        os.close(write_end)
    assert run.code == 2
    assert run.stderr == b""


def test_a_full_non_blocking_pipe_is_waited_for() -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    filler = 0
    for size in (4096, 1):  # to the last byte: a write up to PIPE_BUF is all or nothing
        with contextlib.suppress(BlockingIOError):
            while True:
                filler += os.write(write_end, b"x" * size)
    received = bytearray()

    def drain_later() -> None:
        time.sleep(0.5)
        while chunk := os.read(read_end, 65536):
            received.extend(chunk)

    reader = threading.Thread(target=drain_later, daemon=True)
    reader.start()
    try:
        run = check_raw(*critical_args(), stdout=write_end)
    finally:
        os.close(write_end)
    reader.join(10)
    os.close(read_end)
    assert run.code == 2 and run.stderr == b""
    assert bytes(received[:filler]) == b"x" * filler
    assert bytes(received[filler:]).startswith(b"TLS_MAIL CRITICAL - 127.0.0.1:")
    assert received.endswith(b"\n")


def test_usage_error_on_a_closed_pipe_is_unknown() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        run = check_raw("-H", "a..b", "-P", "imaps", stdout=write_end)
    finally:
        os.close(write_end)
    assert run.code == 3 and run.stderr == b""


# --- signals --------------------------------------------------------------------------------------


@pytest.fixture
def stalling_server() -> Iterator[MailServer]:
    """Accepts and says nothing until the client goes away (fakeserver.hold)."""
    with MailServer(hold) as server:
        yield server


def connected(server: MailServer) -> Callable[[], bool]:
    return lambda: server.connections > 0


def test_sigint_while_the_server_stalls_is_one_unknown_line(stalling_server: MailServer) -> None:
    args = ["-H", "127.0.0.1", "-p", str(stalling_server.port), "-P", "submission", "-t", "20"]
    run = check_raw(*args, signal_when=(connected(stalling_server), signal.SIGINT))
    assert run.code == 3
    assert run.stdout == b"TLS_MAIL UNKNOWN - interrupted (SIGINT): the check did not complete\n"
    assert run.stderr == b""
    assert run.seconds < 20  # the signal ended it, not its own -t 20 (whose line would be another)


#: SIGINT arrives while the main thread runs a finalizer, as importlib's module-lock callback during the
#: lazy imports of a run: a KeyboardInterrupt raised there is swallowed ("Exception ignored").
IN_A_FINALIZER = """
import os, signal, sys, time, weakref
from check_tls_mail.cli import entry
if sys.argv[1] == "entry":
    signal.signal(signal.SIGINT, entry._interrupted)  # what entry.run installs
class Thing: pass
thing = Thing()
def finalizer(ref):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.3)
kept = weakref.ref(thing, finalizer)
del thing
sys.stdout.write("ran on\\n")
"""


@pytest.mark.parametrize("handler", ["entry", "python"])
def test_sigint_in_a_finalizer_still_ends_the_check(handler: str) -> None:
    """The console entry's handler ends the process itself; Python's KeyboardInterrupt would be lost there."""
    from check_tls_mail.cli.interrupt import INTERRUPTED
    from check_tls_mail.plugin.output import unknown

    run = subprocess.run(
        ["env", "--default-signal=INT", sys.executable, "-c", IN_A_FINALIZER, handler],  # as from a terminal
        capture_output=True,
        cwd=ROOT,
        timeout=30,
        check=False,
    )
    if handler == "python":  # the mechanism: Python's own handler loses the interrupt
        assert run.stdout == b"ran on\n" and b"Exception ignored" in run.stderr, run
        return
    assert (run.returncode, run.stdout, run.stderr) == (3, unknown(INTERRUPTED).encode(), b"")


def test_sigterm_still_ends_the_process_at_once(stalling_server: MailServer) -> None:
    args = ["-H", "127.0.0.1", "-p", str(stalling_server.port), "-P", "submission", "-t", "20"]
    run = check_raw(*args, signal_when=(connected(stalling_server), signal.SIGTERM))
    assert run.code == -signal.SIGTERM
    assert run.stdout == b"" and run.stderr == b""


# --- --ca-file ------------------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> str:
    path = tmp_path / "anchors.fifo"
    os.mkfifo(path)
    return str(path)


@pytest.fixture
def huge_file(tmp_path: Path) -> str:
    path = tmp_path / "huge.pem"
    with open(path, "wb") as handle:
        handle.truncate(100 * 2**20)  # sparse: 100 MB without writing them
    return str(path)


@pytest.mark.parametrize(
    ("which", "words"),
    [
        ("/dev/zero", "--ca-file /dev/zero: not a regular file"),
        ("directory", ": not a regular file"),
        ("fifo", ": not a regular file"),
        ("huge", ": larger than 4 MiB, not a trust store"),
    ],
)
def test_ca_file_that_is_no_trust_store_is_a_usage_error(
    which: str, words: str, tmp_path: Path, fifo: str, huge_file: str
) -> None:
    path = {"/dev/zero": "/dev/zero", "directory": str(tmp_path), "fifo": fifo, "huge": huge_file}[which]
    # A FIFO waited on, or /dev/zero read to its end, would never end: check() fails at its timeout then.
    run = check(*critical_args(), "--ca-file", path, timeout=30)
    assert run.code == 3, run.stdout
    assert run.stdout.startswith("TLS_MAIL UNKNOWN - usage: ") and words in run.stdout
    assert run.stdout.count("\n") == 1 and run.stderr == ""


def test_ca_file_still_works(pki: Pki, certs: Certs) -> None:
    with MailServer.speaking("imaps", TlsConfig([certs.ecdsa])) as server:
        run = check(
            "-H", "127.0.0.1", "--servername", NAME, "-p", str(server.port), "-P", "imaps",
            "--ca-file", pki.root_file, "--client", "none",
        )  # fmt: skip
    assert run.code == 0, run.stdout


#: Runs its arguments and writes their peak RSS (KiB) to stderr: a small process to fork from, since a child's
#: ru_maxrss starts at its parent's RSS when forked (the test run's own, tens of MiB, would be measured).
PEAK = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "sys.stderr.write(f'peak {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}')\n"
    "sys.exit(code)\n"
)


def test_without_the_cyclic_collector_the_largest_check_stays_small(pki: Pki, certs: Certs) -> None:
    """The console process runs without the cyclic garbage collector (cli/entry.no_collector): the largest
    check there is (every client profile, every TLS version, -vvv) against the incident's server, which refuses
    most of them with alerts, ends CRITICAL in a process whose peak memory stays bounded: 37 MiB measured on
    Debian 12 and 13 (with the collector: within a MiB of that; an installed default check: 33 MiB,
    docs/performance.md). A bound, not a comparison."""
    every = [arg for name in catalogue().profiles for arg in ("--client", name)]
    with serving("imaps", TlsConfig([certs.ecdsa], ciphers=RSA_ONLY)) as server:
        args = [*args_for(server, "imaps", pki, *every), "--versions", "-vvv"]
        run = subprocess.run(
            [sys.executable, "-c", PEAK, sys.executable, "-m", "check_tls_mail", *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert run.returncode == 2 and run.stdout.startswith("TLS_MAIL CRITICAL"), (run.returncode, run.stdout[:300])
    assert run.stderr.startswith("peak "), run.stderr  # the check itself wrote nothing to stderr
    peak = int(run.stderr.removeprefix("peak "))
    assert peak < 48 * 1024, f"{peak} KiB"
