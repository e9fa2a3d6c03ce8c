"""Failure reasons that tell the truth: dropped connections, connection limits, client certificates, POP3 without CAPA.

A server or firewall that limits connections per client drops some of the
concurrent probes; those are tried again one at a time, and a connection
problem is never reported as a cipher-list problem. Whole first lines asserted.
"""

from __future__ import annotations

import re
import ssl

import pytest
from cryptography import x509
from fakeserver import Behaviour, Limited, Lines, MailServer, TlsConfig, reset
from pki import Certs, Pki
from runs import RSA_ONLY, Run, args_for, check, serving

TOO_MANY = "421 4.7.0 too many connections from your address"


def until(chain: tuple[str, str]) -> str:
    with open(chain[0], "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    return cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")


def ok_certificate(chain: tuple[str, str]) -> str:
    return f"ECDSA P-256 certificate valid 60.0 days (until {until(chain)}, warning at 18 days)"


def without_times(run: Run) -> str:
    """The first line with the measured seconds blanked out."""
    return re.sub(r"_time=[0-9.]+s", "_time=Ts", run.first_line)


def no_cipher_advice(run: Run) -> None:
    for words in ("cipher list", "accepts no", "accepts none", "only an", "dual certificates"):
        assert words not in run.stdout, run.stdout


def limited(protocol: str, tls: TlsConfig, refuse, ever: bool = False, limit: int = 1) -> MailServer:  # type: ignore[no-untyped-def]
    return MailServer(Limited(MailServer.dialogue(protocol, tls), refuse, limit=limit, ever=ever))


def test_resets_beyond_one_connection_at_a_time_are_retried_and_ok(pki: Pki, certs: Certs) -> None:
    with limited("imaps", TlsConfig([certs.ecdsa]), reset) as server:
        run = check(*args_for(server, "imaps", pki, "-v"))
        refused = server.handler.refused  # type: ignore[attr-defined]
    assert run.code == 0, run.stdout
    assert without_times(run) == (
        f"TLS_MAIL OK - 127.0.0.1:{server.port} imaps implicit TLS, TLS 1.3, {ok_certificate(certs.ecdsa)}, "
        "4/4 clients connect | clients_ok=4;;4:;0;4 days_remaining=60.00;18:;9:;;90 "
        "handshake_time=Ts;;;0 lifetime_used=33.33%;80;90;0;100 probes_time=Ts;;;0"
    )
    dropped = re.search(
        r"(\d+) of 7 connections made at once were dropped \((.*)\); made again one at a time, "
        r"(\d+) got through: the server limits concurrent connections",
        run.stdout,
    )
    assert dropped, run.stdout
    assert refused >= 1 and int(dropped.group(1)) == int(dropped.group(3)) >= 1
    # The reset comes as the client connects: before its ClientHello went out or after, as the scheduler has it.
    reasons = dropped.group(2)
    assert "connection reset by the server during the handshake" in reasons or "connection reset (127.0.0.1:" in reasons
    no_cipher_advice(run)


@pytest.mark.parametrize("attempt", range(3))
def test_two_connections_at_a_time_and_resets_beyond_are_never_a_client_verdict(
    attempt: int, pki: Pki, certs: Certs
) -> None:
    """A firewall's connlimit of 2 (the rest reset), the RFC 9325 profile and the MUAs: the retries wait, with
    growing pauses and jitter, until the first wave's connections are gone; whatever still fails is "could not
    be probed" (WARNING), never "cannot connect". Three runs: it once failed 2 runs in 3."""
    with limited("imaps", TlsConfig([certs.ecdsa]), reset, limit=2) as server:
        run = check(
            *args_for(
                server,
                "imaps",
                pki,
                "--client",
                "rfc9325",
                "--client",
                "apple-mail",
                "--client",
                "thunderbird",
                "--client",
                "outlook",
                "--client",
                "android",
            )
        )
    assert run.code in (0, 1), run.stdout
    assert "cannot connect" not in run.stdout, run.stdout
    if run.code == 1:
        assert "could not be probed" in run.summary, run.stdout


def test_a_421_beyond_one_connection_at_a_time_is_retried_and_ok(pki: Pki, certs: Certs) -> None:
    with limited("submission", TlsConfig([certs.ecdsa]), lambda sock: Lines(sock).send(TOO_MANY)) as server:
        run = check(*args_for(server, "submission", pki, "-v"))
    assert run.code == 0, run.stdout
    assert without_times(run).startswith(
        f"TLS_MAIL OK - 127.0.0.1:{server.port} submission STARTTLS, TLS 1.3, {ok_certificate(certs.ecdsa)}, "
        "4/4 clients connect | "
    )
    assert f"server refused the session: {TOO_MANY}" in run.stdout  # the -v line on the dropped connections
    no_cipher_advice(run)


@pytest.mark.parametrize("protocol", ["submission", "imaps"])
def test_a_server_that_serves_only_its_first_connection_is_a_connection_problem(
    protocol: str, pki: Pki, certs: Certs
) -> None:
    """Every client's probe dropped, also alone after pauses, while the first connection got through: no client
    verdict (WARNING "could not be probed", never "cannot connect"), and the drop said as it came."""
    refuse = (lambda sock: Lines(sock).send(TOO_MANY)) if protocol == "submission" else reset
    with limited(protocol, TlsConfig([certs.ecdsa]), refuse, ever=True) as server:
        # One probe at a time, so that the first connection is the widest offer's (it is started first, but
        # concurrently another probe's connection can arrive first on a loaded machine: then the widest offer is
        # the one reset every time, and the check is CRITICAL "TLS handshake failed: connection reset").
        run = check(*args_for(server, protocol, pki, "--max-parallel", "1"))
    assert run.code == 1, run.stdout
    words = f"server refused the session: {TOO_MANY}" if protocol == "submission" else "connection reset"
    assert "could not be probed: " + words in run.summary, run.stdout
    assert "cannot connect" not in run.stdout and "clients_ok=0;;4:;0;4" in run.first_line
    no_cipher_advice(run)


def test_the_incident_keeps_its_diagnosis_beside_the_retries(pki: Pki, certs: Certs) -> None:
    """A refusal of the offer itself (an alert before any ServerHello) still gets the cipher-list advice."""
    with limited("imaps", TlsConfig([certs.ecdsa], ciphers=RSA_ONLY), reset) as server:
        run = check(*args_for(server, "imaps", pki))
    assert run.code == 2, run.stdout
    assert without_times(run) == (
        f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} imaps: Apple Mail cannot connect over TLS 1.2: the certificate "
        "is ECDSA and the server accepts no ECDSA suite over TLS 1.2: add ECDHE-ECDSA suites to the server's TLS 1.2 "
        f"cipher list / {ok_certificate(certs.ecdsa)} | clients_ok=3;;4:;0;4 days_remaining=60.00;18:;9:;;90 "
        "handshake_time=Ts;;;0 lifetime_used=33.33%;80;90;0;100 probes_time=Ts;;;0"
    )


@pytest.mark.parametrize(
    ("version", "alert"),
    [(ssl.TLSVersion.TLSv1_2, "handshake failure"), (ssl.TLSVersion.TLSv1_3, "certificate required")],
)
def test_a_server_that_requires_a_client_certificate_is_named_as_such(
    version: ssl.TLSVersion, alert: str, pki: Pki, certs: Certs
) -> None:
    tls = TlsConfig([certs.ecdsa], max_version=version, client_certificates=ssl.CERT_REQUIRED, client_ca=pki.root_file)
    with serving("imaps", tls) as server:
        run = check(*args_for(server, "imaps", pki, "-v"))
    assert run.code == 2, run.stdout
    assert without_times(run) == (
        f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} imaps: TLS handshake failed: server requires a client "
        f"certificate (it asked for one, then sent TLS alert {alert}) | clients_ok=0;;4:;0;4 probes_time=Ts;;;0"
    )
    # Each client agrees with the status line, whether its hello was answered (TLS 1.3: the request is encrypted;
    # TLS 1.2: it is in the clear in the flight): NSS, GnuTLS and Postfix all fail on such a server.
    for title in ("Apple Mail", "Thunderbird", "Outlook (Windows 11)", "Android"):
        lines = run.stdout.split(f"\nclient {title} (", 1)[1].split("\nclient ", 1)[0]
        assert "  cannot connect: server requires a client certificate (it asked for one, then sent TLS alert" in (
            lines
        ), run.stdout
    no_cipher_advice(run)


def test_a_server_that_refuses_every_offer_says_no_client_can_connect_and_keeps_clients_ok(
    pki: Pki, certs: Certs
) -> None:
    """The seed incident on a server without TLS 1.3: an ECDSA certificate and an RSA-only TLS 1.2 list."""
    tls = TlsConfig([certs.ecdsa], ciphers=RSA_ONLY, max_version=ssl.TLSVersion.TLSv1_2)
    with serving("imaps", tls) as server:
        run = check(*args_for(server, "imaps", pki))
    assert run.code == 2, run.stdout
    assert without_times(run) == (
        f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} imaps: no client can connect: the server refuses every "
        "offer, all 4 clients' and a full handshake's, with TLS alert handshake failure (likely no TLS 1.2 suite "
        "fits its certificate, and no TLS 1.3: an ECDSA certificate needs ECDHE-ECDSA suites in the server's TLS "
        "1.2 cipher list, an RSA one ECDHE-RSA suites) | clients_ok=0;;4:;0;4 probes_time=Ts;;;0"
    )


def test_a_server_that_only_asks_for_a_client_certificate_is_fine(pki: Pki, certs: Certs) -> None:
    tls = TlsConfig([certs.ecdsa], client_certificates=ssl.CERT_OPTIONAL, client_ca=pki.root_file)
    with serving("smtp", tls) as server:
        run = check(*args_for(server, "smtp", pki))
    assert run.code == 0, run.stdout
    assert run.summary.endswith("4/4 clients connect")


def test_pop3_without_capa_sends_stls_anyway(pki: Pki, certs: Certs) -> None:
    with serving("pop3", TlsConfig([certs.ecdsa]), Behaviour(capa=False)) as server:
        run = check(*args_for(server, "pop3", pki, "-v"))
    assert run.code == 0, run.stdout
    assert without_times(run).startswith(
        f"TLS_MAIL OK - 127.0.0.1:{server.port} pop3 STLS, TLS 1.3, {ok_certificate(certs.ecdsa)}, "
    )
    assert "  note: the POP3 server has no CAPA (-ERR Unknown command.): STLS sent anyway" in run.stdout.splitlines()


def test_pop3_without_capa_that_refuses_stls_has_no_stls(pki: Pki, certs: Certs) -> None:
    with serving("pop3", TlsConfig([certs.ecdsa]), Behaviour(capa=False, offer_starttls=False)) as server:
        run = check(*args_for(server, "pop3", pki))
    assert run.code == 2, run.stdout
    assert without_times(run) == (
        f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} pop3: STLS not supported: no CAPA, and STLS answered "
        "-ERR STLS not available | probes_time=Ts;;;0"
    )
