"""Command-line contract: usage errors are UNKNOWN with one line, help and version exit 0."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys

import pytest
from runs import ROOT, check


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "-H HOST is required"),
        (["-H", "mx.example.org"], "give -P PROTOCOL or a well-known -p PORT"),
        (["-H", "mx.example.org", "-p", "2525"], "port 2525 is not a well-known mail port: give -P PROTOCOL"),
        (["-H", "mx.example.org", "-P", "gopher"], "argument -P/--protocol: invalid choice"),
        (["-H", "mx.example.org", "-P", "imaps", "-w", "soon"], "-w 'soon': expected days"),
        (["-H", "mx.example.org", "-P", "imaps", "-c", "120%"], "at most 100%"),
        (["-H", "mx.example.org", "-P", "imaps", "-w", "5", "-c", "10"], "-w 5 is below -c 10"),
        (["-H", "mx.example.org", "-P", "imaps", "-t", "0"], "give a timeout between 0 and 3600"),
        (["-H", "mx.example.org", "-P", "imaps", "-p", "70000"], "-p 70000: not a TCP port"),
        (["-H", "mx.example.org", "-P", "imaps", "-4", "-6"], "not allowed with argument"),
        (["-H", "mx.example.org", "-P", "imaps", "--client", "mutt"], "unknown client profile mutt"),
        (["-H", "mx.example.org", "-P", "imaps", "--client", "none", "--client", "android"], "cannot be combined"),
        (["-H", "mx.example.org", "-P", "imaps", "--cipher", "TLS_AES_128_GCM_SHA256"], "TLS 1.3 suites cannot"),
        (["-H", "mx.example.org", "-P", "imaps", "--cipher", "HIGH"], "cannot offer this cipher on its own"),
        (["-H", "mx.example.org", "-P", "imaps", "--servername", "192.0.2.1"], "must be a DNS name"),
        (["-H", "mx.example.org", "-P", "imaps", "--ca-file", "/nonexistent.pem"], "cannot read --ca-file"),
        (["-H", "mx.example.org", "-P", "imaps", "--bogus"], "unrecognized arguments: --bogus"),
        (["-H", "mx.example.org", "-P", "imaps", "--max-parallel", "0"], "--max-parallel must be between"),
    ],
)
def test_usage_errors_are_unknown_with_one_line(args: list[str], words: str) -> None:
    run = check(*args)
    assert run.code == 3, run.stdout
    assert run.stdout.startswith("TLS_MAIL UNKNOWN - usage: ")
    assert words in run.stdout
    assert run.stdout.count("\n") == 1 and run.stderr == ""


def test_help_documents_every_option_and_exits_0() -> None:
    run = check("--help")
    assert run.code == 0
    for option in (
        "--hostname",
        "--port",
        "--protocol",
        "--servername",
        "--warning",
        "--critical",
        "--ca-file",
        "--no-verify-chain",
        "--ipv4",
        "--ipv6",
        "--cipher",
        "--client",
        "--list-clients",
        "--max-parallel",
        "--timeout",
        "--verbose",
        "--version",
    ):
        assert option in run.stdout
    assert "days_remaining" in run.stdout


def test_version_exits_0() -> None:
    run = check("--version")
    assert run.code == 0 and run.stdout.startswith("check_tls_mail ")


def test_the_console_script_runs_the_cli() -> None:
    """What pip's console script does for each entry in setup.cfg: load the entry point, call it (here: --version)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    scripts = [line for line in config["options.entry_points"]["console_scripts"].splitlines() if line.strip()]
    assert scripts
    for line in scripts:
        name, _, value = (part.strip() for part in line.partition("="))
        script = (
            "import sys; from importlib.metadata import EntryPoint; "
            f"sys.argv[0] = {name!r}; EntryPoint({name!r}, {value!r}, 'console_scripts').load()()"
        )
        proc = subprocess.run(
            [sys.executable, "-c", script, "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert (proc.returncode, proc.stderr) == (0, ""), proc
        assert proc.stdout.startswith("check_tls_mail "), proc.stdout
