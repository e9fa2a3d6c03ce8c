"""main() in process against a silent server and with a probe that never ends: resources and the global timeout."""

from __future__ import annotations

import os
import threading
import time

import pytest
from fakeserver import MailServer
from runs import IN_PROCESS_SLACK


def test_no_threads_or_descriptors_left_behind_in_process() -> None:
    """Run the CLI in-process against a silent server; the probes' sockets and threads end."""
    from check_tls_mail.cli.main import main

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    with MailServer(lambda sock: time.sleep(3)) as server:
        before_fds, before_threads = fds(), threading.active_count()
        code, text = main(
            [
                "-H",
                "127.0.0.1",
                "-p",
                str(server.port),
                "-P",
                "submission",
                "-t",
                "1.5",
                "--ca-file",
                "/dev/null",
                "--no-verify-chain",
            ]
        )
        assert code == 2 and "no SMTP greeting within" in text
        deadline = time.monotonic() + 3
        while threading.active_count() > before_threads and time.monotonic() < deadline:
            time.sleep(0.05)
        server_threads = server.connections  # handlers of the fake server still sleeping
        assert threading.active_count() <= before_threads + server_threads
        assert fds() <= before_fds + server_threads


def test_global_timeout_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    from check_tls_mail.cli import main as cli
    from check_tls_mail.cli import options
    from check_tls_mail.probe import run as probe

    finished = threading.Event()  # the probes never end on their own (30 s): only -t 0.5 can end the check
    monkeypatch.setattr(probe, "run", lambda plan, lookups=(): finished.wait(30))
    monkeypatch.setattr(options, "probe_budget", lambda timeout: timeout)
    started = time.monotonic()
    try:
        code, text = cli.main(["-H", "127.0.0.1", "-p", "993", "-t", "0.5", "--no-verify-chain"])
        elapsed = time.monotonic() - started
    finally:
        finished.set()
    assert code == 3
    assert text == "TLS_MAIL UNKNOWN - timeout: check did not complete within 0.5 s\n"
    assert elapsed < 0.5 + IN_PROCESS_SLACK, elapsed
