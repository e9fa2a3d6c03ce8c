"""Checks started in a burst against a server that stalls: every one ends with one clean line, nothing on stderr.

A monitoring engine after a reload, or a satellite with many services of one host, starts checks in bursts; on a
busy machine the global timeout then fires wherever a check is (importing, inside a C call): it must end the
process with its one UNKNOWN line, never a traceback ("Exception ignored in ... _get_module_lock"). How fast
they end is measured by scripts/bench (the burst section), not here.
"""

from __future__ import annotations

import os
import subprocess
import sys

from fakeserver import MailServer, hold
from runs import ROOT

BURST = 24


def test_a_burst_against_a_stalling_server_ends_each_check_with_one_clean_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with MailServer(hold) as server:
        command = [sys.executable, "-m", "check_tls_mail", "-H", "127.0.0.1", "-p", str(server.port), "-P", "imaps"]
        started = [
            subprocess.Popen([*command, "-t", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
            for _ in range(BURST)
        ]
        ended = [process.communicate(timeout=60) for process in started]
    for process, (out, err) in zip(started, ended, strict=True):
        text = out.decode()
        assert err == b"", err.decode()
        assert text.count("\n") == 1 and text.endswith("\n"), text
        assert (
            process.returncode,
            text.startswith("TLS_MAIL UNKNOWN - timeout: check did not complete within 2 s"),
        ) in (
            (3, True),
            (2, False),
        ), text
        if process.returncode == 2:  # the probes' own deadline came first: the server's silence, worded
            assert text.startswith(f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} imaps: "), text
