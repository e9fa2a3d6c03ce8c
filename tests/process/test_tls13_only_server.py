"""A TLS 1.3-only server with one suite (openssl s_server): what each mail user agent is told, through the CLI."""

from __future__ import annotations

from datetime import datetime

from lines import assert_line, used, utcnow, valid
from realservers import NAME, Credentials
from runs import check, clients
from tlsservers import OpenSslServer

MUAS = ("apple-mail", "thunderbird", "outlook", "android")


def test_tls13_only_chacha20_server_with_alerts_says_tls13_is_required_and_which_suite(creds: Credentials) -> None:
    """The same policy in openssl s_server, which answers with alerts: protocol_version for Apple Mail's TLS 1.2
    hello (so the TLS 1.3 requirement is known), handshake_failure for Outlook's TLS 1.3 suites."""
    chain, key = creds.files["ecdsa"]
    before = utcnow()
    options = ("-cert", chain, "-cert_chain", chain, "-key", key, "-tls1_3")
    with OpenSslServer(*options, "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256") as server:
        result = check(
            "-H", "127.0.0.1", "--servername", NAME, "-p", str(server.port), "-P", "tls", "--ca-file", creds.ca_file,
            *clients(*MUAS),
        )  # fmt: skip

        def line(now: datetime) -> str:
            _, perf = valid(creds.leaf("ecdsa"), now)
            return (
                f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} tls: Apple Mail cannot connect over TLS 1.2: the "
                "server requires TLS 1.3 and this client supports at most TLS 1.2: enable TLS 1.2 on the server "
                f"(1 more problem below) | clients_ok=2;;4:;0;4 days_remaining={perf} handshake_time=Ts;;;0 "
                f"{used(creds.leaf('ecdsa'), now)} probes_time=Ts;;;0"
            )

        assert_line(result, line, before)
    assert result.stdout.split("\n")[2] == (
        "Outlook (Windows 11) cannot connect: the server accepts only the TLS_CHACHA20_POLY1305_SHA256 TLS 1.3 "
        "suite and Outlook (Windows 11) offers TLS_AES_256_GCM_SHA384 and TLS_AES_128_GCM_SHA256: add "
        "TLS_AES_128_GCM_SHA256 to the server's TLS 1.3 suites (Dovecot ssl_cipher_suites, OpenSSL Ciphersuites)"
    ), result.stdout
