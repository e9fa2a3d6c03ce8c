"""The profiles' hellos against what the real clients send now, captured live on loopback.

Postfix's posttls-finger for the postfix profile, gnutls-cli for exim-gnutls;
only on Debian 12, whose clients those profiles were captured from.
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


def captured_here() -> None:
    """The postfix and exim-gnutls profiles were captured on Debian 12: compare only there.

    Debian 13's Postfix 3.10 on OpenSSL 3.5 and GnuTLS 3.8 send other hellos (new
    groups such as X25519MLKEM768); the profiles stand for the Debian 12 clients.
    """
    version = Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "?"
    if not version.startswith("12"):
        pytest.skip(f"the capture is of Debian 12's client; this is Debian {version}, whose client sends another hello")


def test_postfix_profile_is_what_posttls_finger_sends_now() -> None:
    captured_here()
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
    assert reencode(catalogue().profiles["postfix"], out[0]) == out[0]


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
