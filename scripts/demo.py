"""Demo: the incident on real Postfix and Dovecot, caught by check_tls_mail, and the fix.

Starts private loopback instances (see tests/support/realservers.py), runs the
installed ``check_tls_mail`` (the command given as the argument, found on PATH)
against the broken and the fixed configuration, prints each command and its
result, and exits non-zero if the check did not see what it must.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))

from realservers import (  # noqa: E402
    NAME,
    Credentials,
    DovecotInstance,
    MailServersChroot,
    PostfixInstance,
    base_directory,
    on_host,
)

PLUGIN = sys.argv[1] if len(sys.argv) > 1 else "check_tls_mail"


def run(title: str, port: int, protocol: str, ca_file: str, expected: int, *extra: str) -> bool:
    command = [
        PLUGIN,
        "-H",
        "127.0.0.1",
        "--servername",
        NAME,
        "-p",
        str(port),
        "-P",
        protocol,
        "--ca-file",
        ca_file,
        *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    print(f"\n## {title}\n$ {shlex.join(command)}\n{result.stdout.rstrip()}\n(exit {result.returncode})")
    return result.returncode == expected


def main() -> int:
    if shutil.which(PLUGIN) is None:
        print(f"{PLUGIN}: not found; install it first (bash scripts/install)")
        return 1
    elsewhere = [server for server in ("postfix", "dovecot") if not on_host(server)]
    if elsewhere:
        print(
            f"{' and '.join(elsewhere)} would replace this host's own mail server, so they run from a Debian chroot"
            f" (built once in {MailServersChroot.CACHE}, a few minutes; log {MailServersChroot().build_log}).",
            flush=True,
        )
    creds = Credentials.make(base_directory("demo-certs"))
    postfix = PostfixInstance(creds)
    dovecot = {s: DovecotInstance(creds, s) for s in ("incident", "fixed")}
    started: list[PostfixInstance | DovecotInstance] = []
    try:
        for server in (postfix, *dovecot.values()):
            server.start()
            started.append(server)
        print("Real Postfix and Dovecot are running on 127.0.0.1 with an ECDSA certificate.")
        print("'incident': TLS 1.2 cipher list with RSA suites only (TLS 1.3 on); 'fixed': default lists.")
        ok = all(
            [
                run(
                    "Postfix submission, incident, certificate only (what date checks see)",
                    postfix.ports["incident-submission"],
                    "submission",
                    creds.ca_file,
                    0,
                    "--client",
                    "none",
                ),
                run(
                    "Postfix submission, incident, default check",
                    postfix.ports["incident-submission"],
                    "submission",
                    creds.ca_file,
                    2,
                ),
                run("Postfix submission, fixed", postfix.ports["fixed-submission"], "submission", creds.ca_file, 0),
                run("Postfix port 25, incident", postfix.ports["incident-smtp"], "smtp", creds.ca_file, 2),
                run("Dovecot IMAPS, incident", dovecot["incident"].ports["imaps"], "imaps", creds.ca_file, 2),
                run("Dovecot IMAPS, fixed", dovecot["fixed"].ports["imaps"], "imaps", creds.ca_file, 0),
            ]
        )
    finally:
        for server in started:
            server.stop()
        shutil.rmtree(creds.directory, ignore_errors=True)
    print("\nAs expected: CRITICAL for the incident, OK for the fix." if ok else "\nUNEXPECTED results above.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
