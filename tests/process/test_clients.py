"""Required client set: the incident, its fix, and the other ways clients fail."""

from __future__ import annotations

import socket
import ssl

import pytest
from fakeserver import TlsConfig
from pki import Certs, Pki
from runs import ECDSA_ONLY, NAME, RSA_ONLY, args_for, check, imported, serving

from check_tls_mail.clients.profiles import catalogue

ALL_PROTOCOLS = ["smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s", "sieve", "tls"]
MUA_PROTOCOLS = ["submission", "smtps", "imap", "imaps", "pop3", "pop3s", "sieve"]


def tls13_handshake_succeeds(port: int) -> bool:
    """What `openssl s_client -connect` does against an implicit-TLS port: TLS 1.3, default suites."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
        ctx.wrap_socket(sock, server_hostname=NAME) as tls,
    ):
        return tls.version() == "TLSv1.3"


@pytest.mark.parametrize("protocol", MUA_PROTOCOLS)
def test_incident_is_critical_and_names_apple_mail_with_the_ecdsa_diagnosis(
    protocol: str, pki: Pki, certs: Certs
) -> None:
    with serving(protocol, TlsConfig([certs.ecdsa], ciphers=RSA_ONLY)) as server:
        run = check(*args_for(server, protocol, pki))
    assert run.code == 2, run.stdout
    assert run.summary.startswith("TLS_MAIL CRITICAL - ")
    assert "Apple Mail cannot connect over TLS 1.2" in run.summary
    assert "the certificate is ECDSA and the server accepts no ECDSA suite over TLS 1.2" in run.summary
    assert "add ECDHE-ECDSA suites to the server's TLS 1.2 cipher list" in run.summary
    assert "Thunderbird" not in run.summary  # TLS 1.3 clients still connect
    assert run.perfdata["clients_ok"] == ["3", "", "4:", "0", "4"]
    assert run.value("days_remaining") == pytest.approx(60, abs=0.02)


def test_only_a_failing_client_loads_the_diagnosis_and_the_axes(pki: Pki, certs: Certs) -> None:
    """Why a client fails (judgement/diagnosis.py) and which axis of its hello the server refuses (probe/axes.py)
    are imported where a client fails, not by a check whose clients all connect (docs/performance.md)."""
    why = {"check_tls_mail.judgement.diagnosis", "check_tls_mail.probe.axes"}
    with serving("imaps", TlsConfig([certs.ecdsa])) as server:
        ok = imported(*args_for(server, "imaps", pki))
    with serving("imaps", TlsConfig([certs.ecdsa], ciphers=RSA_ONLY)) as server:
        incident = imported(*args_for(server, "imaps", pki))
    assert "check_tls_mail.probe.run" in ok and not why & ok, sorted(ok)
    assert why <= incident, sorted(incident)


def test_a_default_check_reads_certificates_without_cryptography_x509(pki: Pki, certs: Certs) -> None:
    """Importing cryptography.x509 costs more CPU than the rest of a default run (docs/performance.md): the DER
    walk reads the certificates and cryptography only their keys and signatures. --expect-cert needs its
    certificate parser, and imports it."""
    ecdsa_chain, _ = certs.ecdsa
    with serving("imaps", TlsConfig([certs.ecdsa, certs.rsa])) as server:
        default = imported(*args_for(server, "imaps", pki))
        expecting = imported(*args_for(server, "imaps", pki, "--expect-cert", ecdsa_chain))
    assert "check_tls_mail.x509.verify" in default and "cryptography.x509" not in default, sorted(default)
    assert "cryptography.x509" in expecting, sorted(expecting)


def test_a_default_check_sends_the_name_without_the_idna_codec_or_cryptographys_backend(pki: Pki, certs: Certs) -> None:
    """Two imports a default check does without (docs/performance.md): Python's idna codec, since an ASCII name
    goes to getaddrinfo and to SNI as bytes (net/names.as_sent), and cryptography's OpenSSL backend, which its
    ECDSA constructor imports (x509/signatures.ecdsa). The name still reaches the server: it serves the ECDSA
    chain, whose signatures verify, only to a client that names mail.example.test in SNI, the RSA one to any
    other name or none."""
    without_sni = TlsConfig([certs.ecdsa], without_sni=certs.rsa, sni_for=NAME)
    with serving("imaps", without_sni) as server:
        run = check(*args_for(server, "imaps", pki))
        modules = imported(*args_for(server, "imaps", pki))
    assert run.code == 0, run.stdout
    assert "ECDSA P-256 certificate" in run.summary
    assert "check_tls_mail.x509.signatures" in modules, sorted(modules)
    assert not {"encodings.idna", "cryptography.hazmat.backends.openssl.backend"} & modules, sorted(modules)


def test_incident_is_hidden_from_a_tls13_handshake(pki: Pki, certs: Certs) -> None:
    """The premise: a default TLS 1.3 handshake passes, only the TLS 1.2 clients fail."""
    with serving("imaps", TlsConfig([certs.ecdsa], ciphers=RSA_ONLY)) as server:
        assert tls13_handshake_succeeds(server.port)
        hidden = check(*args_for(server, "imaps", pki, "--client", "thunderbird"))
        caught = check(*args_for(server, "imaps", pki))
    assert hidden.code == 0, hidden.stdout
    assert caught.code == 2, caught.stdout


def test_incident_on_port_25_fails_the_mta_capped_at_tls12(pki: Pki, certs: Certs) -> None:
    with serving("smtp", TlsConfig([certs.ecdsa], ciphers=RSA_ONLY)) as server:
        run = check(*args_for(server, "smtp", pki))
    assert run.code == 2, run.stdout
    assert "MTA on OpenSSL 1.0.2 cannot connect over TLS 1.2" in run.summary
    assert "the certificate is ECDSA" in run.summary
    assert run.perfdata["clients_ok"] == ["3", "", "4:", "0", "4"]


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_fixed_server_is_ok(protocol: str, pki: Pki, certs: Certs) -> None:
    with serving(protocol, TlsConfig([certs.ecdsa])) as server:
        run = check(*args_for(server, protocol, pki))
    assert run.code == 0, run.stdout
    assert run.summary.startswith(f"TLS_MAIL OK - 127.0.0.1:{server.port} {protocol}")
    assert "ECDSA P-256 certificate valid 60.0 days" in run.summary
    offered = run.perfdata["clients_ok"]
    assert offered[0] == offered[4] and int(offered[0]) >= 1


def test_reverse_mismatch_rsa_certificate_with_ecdsa_only_list(pki: Pki, certs: Certs) -> None:
    with serving("submission", TlsConfig([certs.rsa], ciphers=ECDSA_ONLY)) as server:
        run = check(*args_for(server, "submission", pki))
    assert run.code == 2, run.stdout
    assert "Apple Mail cannot connect over TLS 1.2" in run.summary
    assert "the certificate is RSA and the server accepts no RSA suite over TLS 1.2" in run.summary
    assert "add ECDHE-RSA suites" in run.summary


def test_tls13_only_server_against_tls12_client(pki: Pki, certs: Certs) -> None:
    tls = TlsConfig([certs.ecdsa], min_version=ssl.TLSVersion.TLSv1_3)
    with serving("imaps", tls) as server:
        run = check(*args_for(server, "imaps", pki, "--client", "apple-mail", "--client", "thunderbird"))
    assert run.code == 2, run.stdout
    assert "Apple Mail cannot connect over TLS 1.2: the server requires TLS 1.3" in run.summary
    assert "Thunderbird" not in run.summary
    assert run.perfdata["clients_ok"][0] == "1"


def test_ecdsa_only_server_fails_the_rsa_only_microsoft_365_profile(pki: Pki, certs: Certs) -> None:
    with serving("smtp", TlsConfig([certs.ecdsa])) as server:
        run = check(*args_for(server, "smtp", pki, "--client", "microsoft-365"))
    assert run.code == 2, run.stdout
    assert "Microsoft 365 cannot connect over TLS 1.2" in run.summary
    assert "only an ECDSA certificate for TLS 1.2" in run.summary
    assert "offers only RSA suites" in run.summary


def test_dual_certificates_are_both_reported_and_judged(pki: Pki, certs: Certs) -> None:
    soon = certs.get("rsa-soon", key_type="RSA", days_left=5)
    with serving("imaps", TlsConfig([certs.ecdsa, soon])) as server:
        run = check(*args_for(server, "imaps", pki, "-v"))
    assert run.code == 2, run.stdout  # 5 of 90 days is below 10%
    assert "RSA certificate expires in 5.0 days" in run.summary
    assert run.value("days_remaining") == pytest.approx(60, abs=0.02)
    assert run.value("days_remaining_rsa") == pytest.approx(5, abs=0.02)
    assert "certificate (RSA): mail.example.test, RSA 2048" in run.stdout


def test_dual_certificates_both_fine_are_ok_and_named(pki: Pki, certs: Certs) -> None:
    with serving("imaps", TlsConfig([certs.ecdsa, certs.rsa])) as server:
        run = check(*args_for(server, "imaps", pki))
    assert run.code == 0, run.stdout
    assert "ECDSA P-256 certificate valid 60.0 days" in run.summary
    assert "RSA 2048 certificate valid 60.0 days" in run.summary
    assert "days_remaining_rsa" in run.perfdata


def test_explicit_ciphers_accepted_and_rejected(pki: Pki, certs: Certs) -> None:
    with serving("submission", TlsConfig([certs.ecdsa], ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")) as server:
        run = check(
            *args_for(
                server,
                "submission",
                pki,
                "--client",
                "none",
                "--cipher",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
                "--cipher",
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                "--cipher",
                "ECDHE-ECDSA-CHACHA20-POLY1305",
                "-v",
            )
        )
    assert run.code == 2, run.stdout
    assert (
        "ciphers ECDHE-ECDSA-AES256-GCM-SHA384 and ECDHE-ECDSA-CHACHA20-POLY1305 rejected over TLS 1.2" in run.summary
    )
    assert "ECDHE-ECDSA-AES128-GCM-SHA256 rejected" not in run.summary
    assert run.perfdata["ciphers_ok"] == ["1", "", "3:", "0", "3"]
    assert (
        "cipher ECDHE-ECDSA-AES128-GCM-SHA256 (TLS 1.2): accepted, TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256" in run.stdout
    )


def test_explicit_cipher_all_accepted_is_ok(pki: Pki, certs: Certs) -> None:
    with serving("pop3s", TlsConfig([certs.ecdsa])) as server:
        run = check(*args_for(server, "pop3s", pki, "--client", "none", "--cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"))
    assert run.code == 0, run.stdout
    assert "1/1 ciphers accepted" in run.summary
    assert "clients_ok" not in run.perfdata


def test_unknown_cipher_name_is_unknown_before_connecting(pki: Pki, certs: Certs) -> None:
    with serving("imaps", TlsConfig([certs.ecdsa])) as server:
        run = check(*args_for(server, "imaps", pki, "--cipher", "ECDHE-ECDSA-NOPE-SHA"))
        connections = server.connections
    assert run.code == 3, run.stdout
    assert "the local OpenSSL cannot offer this cipher" in run.summary
    assert connections == 0


def test_client_none_checks_only_the_certificate(pki: Pki, certs: Certs) -> None:
    with serving("imaps", TlsConfig([certs.ecdsa], ciphers=RSA_ONLY)) as server:
        run = check(*args_for(server, "imaps", pki, "--client", "none"))
    assert run.code == 0, run.stdout
    assert "clients_ok" not in run.perfdata and "clients connect" not in run.summary


def test_verbose_lists_every_profile_with_version_and_cipher(pki: Pki, certs: Certs) -> None:
    with serving("imaps", TlsConfig([certs.ecdsa], ciphers=RSA_ONLY)) as server:
        run = check(*args_for(server, "imaps", pki, "-v"))
    lines = run.stdout.splitlines()
    assert any(
        line.startswith("client Apple Mail (TLS 1.0-1.2): rejected: server sent TLS alert handshake failure")
        for line in lines
    ), run.stdout
    assert any(line.startswith("client Thunderbird (TLS 1.2-1.3): accepted, TLS 1.3") for line in lines)
    assert " | " in lines[0]  # perfdata stays on the first line with -v


def test_list_clients_shows_every_profile_with_source() -> None:
    run = check("--list-clients", "-v")
    assert run.code == 0
    for name in (
        "apple-mail",
        "thunderbird",
        "outlook",
        "android",
        "postfix",
        "openssl-1.0.2-mta",
        "exim-gnutls",
        "microsoft-365",
        "mozilla-intermediate",
        "rfc9325",
    ):
        assert f"\n{name}: " in run.stdout
    assert "source: testssl.sh" in run.stdout
    assert "TLS 1.0-1.2" in run.stdout


def test_list_clients_shows_hello_sni_certificate_rules_and_sources() -> None:
    result = check("--list-clients", "-v")
    assert result.code == 0
    sections = {block.split(":", 1)[0]: block for block in result.stdout.split("\n\n")[1:]}
    apple = sections["apple-mail"]
    assert "\n  groups: P-256, P-384, P-521\n" in apple
    assert "\n  SNI: sent; ALPN: none\n" in apple
    assert (
        "validity <= 825 days (issued from 2019-07-01)" in apple and "serverAuth EKU required to a public root" in apple
    )
    assert "\n  source of certificate: apple-oss-distributions/Security" in apple and "HT210176" in apple
    postfix = sections["postfix"]
    assert "\n  SNI: not sent; ALPN: none\n" in postfix
    assert "\n  source of hello.sni: postconf(5) smtp_tls_servername" in postfix
    assert "verified only when configured (DANE, MTA-STS)" in postfix
    for name, block in sections.items():
        profile = catalogue().profiles[name]
        for field, _text in profile.sources:
            assert f"\n  source of {field}: " in block, (name, field)
