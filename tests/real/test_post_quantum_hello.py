"""The post-quantum hello against real servers with and without the hybrid group (issue 22).

Thunderbird 153 and Debian 13's sendmail send an X25519MLKEM768 key share beside an X25519 one. A server without
the hybrid group (OpenSSL 3.0 on Debian 12; Postfix 3.10, which sets its own groups, on Debian 13) takes the
X25519 share, as a client falls back through key_share (or a HelloRetryRequest): it must connect, and does.
Dovecot 2.4 on Debian 13 keeps OpenSSL 3.5's default groups and negotiates the hybrid: -v names the group. The
suite runs on Debian 12 and, through scripts/trixie.py, in a Debian 13 chroot. Oracle on OpenSSL 3.5: its own
``openssl s_client`` names the group it negotiated with the same server.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime

from lines import assert_line, utcnow, valid
from realservers import NAME, Credentials, DovecotInstance, PostfixInstance, openssl_version
from runs import Run, check

TIMES = "handshake_time=Ts;;;0 lifetime_used=U%;80;90;0;100 probes_time=Ts;;;0"


def run(port: int, protocol: str, creds: Credentials) -> Run:
    return check(
        "-H", "127.0.0.1", "--servername", NAME, "-p", str(port), "-P", protocol, "--ca-file", creds.ca_file, "-v"
    )


def assert_all_connect(result: Run, port: int, protocol: str, creds: Credentials, before: datetime) -> None:
    how = "STARTTLS" if protocol in ("smtp", "submission", "imap", "pop3", "sieve") else "implicit TLS"

    def line(now: datetime) -> str:
        words, perf = valid(creds.leaf("ecdsa"), now)
        return (
            f"TLS_MAIL OK - 127.0.0.1:{port} {protocol} {how}, TLS 1.3, {words}, 4/4 clients connect | "
            f"clients_ok=4;;4:;0;4 days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)


def group_of(result: Run, title: str) -> str:
    found = re.search(rf"^client {re.escape(title)} \(TLS 1.2-1.3(?:, no SNI)?\): accepted, TLS 1.3 \S+, group (\S+) ",
                      result.stdout, re.M)  # fmt: skip
    assert found, result.stdout
    return found.group(1)


def test_thunderbirds_hybrid_hello_connects_to_postfix_which_has_no_hybrid_group(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    """Postfix 3.7 (OpenSSL 3.0) has no ML-KEM; Postfix 3.10 (OpenSSL 3.5) sets tls_eecdh_auto_curves to X25519,
    X448 and the NIST curves: either way the server takes Thunderbird's X25519 share."""
    port = postfix.ports["fixed-submission"]
    before = utcnow()
    result = run(port, "submission", creds)
    assert_all_connect(result, port, "submission", creds, before)
    assert group_of(result, "Thunderbird") == "X25519"
    curves = postfix.tool("postconf", "-h", "tls_eecdh_auto_curves")  # the instance's value, default or not
    assert curves.returncode == 0 and curves.stdout.strip() and "MLKEM" not in curves.stdout.upper(), curves


def test_the_openssl_35_mta_connects_to_postfix_on_port_25(postfix: PostfixInstance, creds: Credentials) -> None:
    """Debian 13's sendmail, in the default MTA set, sends the hybrid and an X25519 share: Postfix takes X25519."""
    port = postfix.ports["fixed-smtp"]
    before = utcnow()
    result = run(port, "smtp", creds)
    assert_all_connect(result, port, "smtp", creds, before)
    assert group_of(result, "sendmail 8.18") == "X25519"


def test_dovecot_negotiates_the_hybrid_group_with_openssl_35_and_x25519_without(
    dovecot: dict[str, DovecotInstance], creds: Credentials
) -> None:
    """Dovecot leaves the groups to OpenSSL (ssl_curve_list unset): on OpenSSL 3.5 (Debian 13) the first of its
    defaults, X25519MLKEM768, on OpenSSL 3.0 (Debian 12) X25519. Thunderbird connects with either; Android's hello
    has the hybrid share too, Outlook's and Apple Mail's have none."""
    server = dovecot["fixed"]
    port = server.ports["imaps"]
    before = utcnow()
    result = run(port, "imaps", creds)
    assert_all_connect(result, port, "imaps", creds, before)
    hybrid = openssl_version("dovecot") >= (3, 5)
    expected = "X25519MLKEM768" if hybrid else "X25519"
    assert group_of(result, "Thunderbird") == expected
    assert group_of(result, "Android") == expected
    assert group_of(result, "Outlook (Windows 11)") == "X25519"
    if hybrid:  # the oracle: OpenSSL 3.5's own client gets the same group from the same server
        oracle = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", NAME, "-groups",
             "X25519MLKEM768:X25519"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
        assert "X25519MLKEM768" in oracle.stdout + oracle.stderr, oracle.stdout + oracle.stderr
