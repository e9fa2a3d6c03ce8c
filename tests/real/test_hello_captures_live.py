"""The profiles' hellos against what the real clients send now, captured live on loopback.

Postfix's posttls-finger for the postfix profile (Debian 12) and postfix-3.10
(Debian 13), gnutls-cli for exim-gnutls (Debian 12 only).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hellos import (
    reencode,
)
from realservers import mail_server_root
from runs import ROOT, require

from check_tls_mail.clients.profiles import catalogue


@contextmanager
def capture_server(smtp: bool) -> Iterator[tuple[int, list[bytes]]]:
    """A loopback listener that records the first ClientHello (after STARTTLS with ``smtp``)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from capture_hello import serve

    listener = socket.create_server(("127.0.0.1", 0))
    out: list[bytes] = []
    worker = threading.Thread(target=serve, args=(listener, smtp, out), daemon=True)
    worker.start()
    try:
        yield listener.getsockname()[1], out
    finally:
        worker.join(10)
        listener.close()


def debian() -> str:
    return Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "?"


def captured_here() -> None:
    """The exim-gnutls profile was captured on Debian 12: compare only there.

    Debian 13's GnuTLS 3.8 puts the extensions in another order on each connection.
    """
    version = debian()
    if not version.startswith("12"):
        pytest.skip(f"the capture is of Debian 12's client; this is Debian {version}, whose client sends another hello")


#: The profile of each Debian's Postfix (captures/clients.json postfix-bookworm and postfix-trixie).
POSTFIX = {"12": "postfix", "13": "postfix-3.10"}


def test_postfix_profile_is_what_posttls_finger_sends_now() -> None:
    """Debian 12's Postfix 3.7 sends the postfix profile's hello, Debian 13's Postfix 3.10 postfix-3.10's: both
    captured from smtp(8) delivering a mail; posttls-finger, its own TLS client code, sends the same."""
    name = POSTFIX.get(debian().split(".")[0])
    if name is None:
        pytest.skip(f"no Postfix profile captured on Debian {debian()}")
    require("postfix")
    where = mail_server_root("postfix")  # the host's Postfix, or the chroot's where the host has another MTA
    config = where.directory("posttls-finger")
    try:
        (config / "main.cf").write_text("compatibility_level = 3.6\n")
        finger = ["env", f"MAIL_CONFIG={where.inside(config)}", "posttls-finger", "-c", "-l", "may"]
        with capture_server(smtp=True) as (port, out):
            subprocess.run(
                where.command([*finger, f"[127.0.0.1]:{port}"]), capture_output=True, timeout=30, check=False
            )
    finally:
        shutil.rmtree(config, ignore_errors=True)
    assert out, "posttls-finger sent no ClientHello"
    assert reencode(catalogue().profiles[name], out[0]) == out[0]


def test_exim_gnutls_profile_is_what_gnutls_sends_now() -> None:
    captured_here()
    require("gnutls-cli")
    with capture_server(smtp=False) as (port, out):
        subprocess.run(
            ["gnutls-cli", "--priority", "NORMAL", "--disable-sni", "--insecure", "-p", str(port), "127.0.0.1"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    assert out, "gnutls-cli sent no ClientHello"
    assert reencode(catalogue().profiles["exim-gnutls"], out[0]) == out[0]
