"""--address and the TLS version policy (--min-tls, --require-tls) through the real CLI."""

from __future__ import annotations

import ssl

import pytest
from fakeserver import MailServer, TlsConfig
from pki import Certs, Pki
from runs import NAME, args_for, check, serving


def test_address_option_probes_one_address_with_the_host_name(pki: Pki, certs: Certs) -> None:
    with MailServer.speaking("imaps", TlsConfig([certs.ecdsa]), host="127.0.0.2") as server:
        run = check(
            "-H",
            NAME,
            "--address",
            "127.0.0.2",
            "-p",
            str(server.port),
            "-P",
            "imaps",
            "--ca-file",
            pki.root_file,
            "--client",
            "none",
            "-v",
        )
    assert run.code == 0, run.stdout
    assert run.summary.startswith(f"TLS_MAIL OK - {NAME}:{server.port} imaps implicit TLS, TLS 1.3")
    assert f"({'127.0.0.2'}) imaps" in run.stdout and f"SNI {NAME}" in run.stdout
    assert "days_remaining" in run.perfdata  # one address: plain labels


def test_address_must_be_an_ip() -> None:
    run = check("-H", NAME, "--address", "mx.example.org", "-P", "imaps")
    assert run.code == 3 and "--address mx.example.org: not an IP address" in run.stdout


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
def test_min_tls_flags_old_versions(pki: Pki, certs: Certs) -> None:
    tls = TlsConfig([certs.ecdsa], ciphers="ALL:@SECLEVEL=0", min_version=ssl.TLSVersion.TLSv1)
    with serving("imaps", tls) as server:
        run = check(*args_for(server, "imaps", pki, "--client", "none", "--min-tls", "1.2"))
    assert run.code == 2, run.stdout
    assert "server accepts TLS 1.0, 1.1, older than --min-tls 1.2" in run.summary


def test_require_tls_flags_a_missing_version(pki: Pki, certs: Certs) -> None:
    tls = TlsConfig([certs.ecdsa], min_version=ssl.TLSVersion.TLSv1_3)
    with serving("submission", tls) as server:
        run = check(
            *args_for(server, "submission", pki, "--client", "none", "--require-tls", "1.2", "--require-tls", "1.3")
        )
    assert run.code == 2, run.stdout
    assert "server does not accept TLS 1.2 (--require-tls)" in run.summary


def test_version_policy_met_is_ok_and_reported(pki: Pki, certs: Certs) -> None:
    with serving("pop3", TlsConfig([certs.ecdsa])) as server:
        run = check(
            *args_for(
                server,
                "pop3",
                pki,
                "--client",
                "none",
                "--min-tls",
                "1.2",
                "--require-tls",
                "1.2",
                "--require-tls",
                "1.3",
                "-v",
            )
        )
    assert run.code == 0, run.stdout
    assert "accepts TLS 1.2, 1.3" in run.summary
    assert "TLS 1.0 only: rejected" in run.stdout and "TLS 1.3 only: accepted, TLS 1.3" in run.stdout
