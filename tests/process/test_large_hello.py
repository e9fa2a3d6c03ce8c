"""The post-quantum hello: a middlebox that drops large ClientHellos while smaller ones connect (issue 22).

A hybrid X25519MLKEM768 key share (1216 bytes) makes Thunderbird 153's hello 1882 bytes and Debian 13's
sendmail's (OpenSSL 3.5) 1529: more than one TCP segment on an Ethernet path. Servers and middleboxes that reset
such hellos, or never answer them, lock those clients out while every smaller hello connects. Here a
``fakeserver.HelloGate`` stands in front of a well-behaved server's TLS: hellos over the limit are reset or held,
the others go on to the handshake. Whole first lines through the CLI, measured times masked.

The check's own first handshake is the local OpenSSL's widest offer: 517 bytes on OpenSSL 3.0, 1.7 KB on
OpenSSL 3.5, whose hybrid share the gate stops too. The check then makes it again with a small hello (P-256
only), judges the certificate that one gets, and says that large hellos are dropped; tests/seams/test_small_hello.py
runs that on any OpenSSL with a stand-in for the large hello.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from cryptography import x509
from fakeserver import MailServer, TlsConfig, gated
from hellos import NAME, sent_hello
from lines import assert_line, utcnow, validity
from pki import Certs, Pki
from runs import args_for, check

from check_tls_mail.clients.offer import PRIMARY
from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.probe.handshake import LIBRARY, context_for
from check_tls_mail.probe.outcome import LARGE_HELLO

TAIL = "handshake_time=Ts;;;0 lifetime_used=U%;80;90;0;100 probes_time=Ts;;;0"
WHY = "a middlebox or the server drops large ClientHellos (a post-quantum key share makes them span two TCP segments)"
#: The check's own first handshake's ClientHello, as the local OpenSSL sends it (SNI included).
OWN = len(sent_hello(context_for(PRIMARY), NAME))
#: How the connection ends after the large hello, in the words of each gate.
ENDS = {
    "reset": "the connection is reset after its {size} ClientHello",
    "stall": "the connection stalls after its {size} ClientHello (no answer until the timeout)",
}


def leaf(chain: str) -> x509.Certificate:
    return x509.load_pem_x509_certificates(Path(chain).read_bytes())[0]


@pytest.mark.parametrize(
    ("protocol", "limit", "client", "size", "through", "clients_ok"),
    [
        # Thunderbird 153's 1882 bytes stop; Android's 1732 (a hybrid share too, but less besides) pass.
        pytest.param("imaps", 1800, "Thunderbird", "1.9 KB", 1732, "3;;4:;0;4", id="mail-clients"),
        # Port 25: Debian 13's sendmail sends OpenSSL 3.5's 1529 bytes; Postfix's padded 517 is the largest through.
        # On OpenSSL 3.5 the gate stops the check's own 1.7 KB first handshake too: sendmail's words say it, and
        # the certificate comes from the small hello made after it.
        pytest.param("smtp", 1500, "sendmail 8.18", "1.5 KB", 517, "3;;4:;0;4", id="port-25"),
    ],
)
@pytest.mark.parametrize("answer", ["reset", "stall"])
def test_a_middlebox_that_drops_large_hellos_locks_out_the_post_quantum_client_in_those_words(
    pki: Pki,
    certs: Certs,
    protocol: str,
    limit: int,
    client: str,
    size: str,
    through: int,
    clients_ok: str,
    answer: str,
) -> None:
    handler, gate = gated(protocol, TlsConfig([certs.ecdsa]), limit, answer)
    cert = leaf(certs.ecdsa[0])
    before = utcnow()
    with MailServer(handler) as server:
        # a stall holds the large hello until the probes' deadline: a short -t keeps the run short
        run = check(*args_for(server, protocol, pki, "-v", "-t", "6" if answer == "stall" else "10"))
    port = server.port
    head = f"127.0.0.1:{port} {protocol}"

    def line(now: datetime) -> str:
        served, days = validity(cert, now)
        end = ENDS[answer].format(size=size)
        return (
            f"TLS_MAIL CRITICAL - {head}: {client} cannot connect: {end}, while smaller hellos ({through} bytes and "
            f"less) connect: {WHY} / {served} | clients_ok={clients_ok} days_remaining={days} {TAIL}"
        )

    assert run.code == 2, run.stdout
    assert_line(run, line, before)
    # The gate stopped only the large client's hellos, and let every other probe through to the handshake.
    assert gate.stopped and all(stopped > limit for stopped in gate.stopped)
    assert any(limit >= seen > 0 for seen in gate.sizes)
    profile = next(p for p in catalogue().profiles.values() if p.title == client)
    assert profile.capture is not None
    assert f"\n  profile: {profile.capture.words}\n" in run.stdout  # -v: which client, captured when
    others = [t for t in run.stdout.splitlines() if t.startswith("client ") and not t.startswith(f"client {client} (")]
    assert len(others) == 3 and all(": accepted, TLS 1." in t for t in others), run.stdout


def test_with_both_large_clients_stopped_the_smaller_hellos_set_the_bound(pki: Pki, certs: Certs) -> None:
    """At 1700 bytes Android's 1732 stop too: Thunderbird is named first, Android left below, and the hellos that
    got through are Outlook's 275 bytes and less. (The check's own first handshake, 1.5 KB on OpenSSL 3.5, passes.)"""
    handler, gate = gated("imaps", TlsConfig([certs.ecdsa]), 1700, "reset")
    with MailServer(handler) as server:
        run = check(*args_for(server, "imaps", pki, "-v"))
    assert run.code == 2, run.stdout
    assert run.first_line.startswith(
        f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} imaps: Thunderbird cannot connect: the connection is reset "
        f"after its 1.9 KB ClientHello, while smaller hellos (275 bytes and less) connect: {WHY} (1 more problem "
        "below) | clients_ok=2;;4:;0;4 "
    ), run.stdout
    assert (
        f"\nAndroid cannot connect: the connection is reset after its 1.7 KB ClientHello, while smaller hellos (275 "
        f"bytes and less) connect: {WHY}\n"
    ) in run.stdout
    assert sorted(set(gate.stopped)) == [1732, 1882]


@pytest.mark.skipif(
    OWN <= LARGE_HELLO,
    reason=f"the local {LIBRARY}'s first handshake sends {OWN} bytes, one TCP segment: nothing for the gate to stop "
    "(the Debian 13 part of the suite runs this with OpenSSL 3.5; test_small_hello.py runs it on any OpenSSL)",
)
@pytest.mark.parametrize(
    ("answer", "ending", "connections"),
    [
        # the wave's first handshake, three times alone after pauses, then the small hello; and the key types
        ("reset", "the connection is reset after", 7),
        # no answer within half the time: the small hello at once
        ("stall", "the connection stalls after", 4),
    ],
)
def test_the_checks_own_large_hello_dropped_still_judges_the_certificate_and_says_why(
    pki: Pki, certs: Certs, answer: str, ending: str, connections: int
) -> None:
    """No client probed: the check's own OpenSSL 3.5 hello is the only large one, and the first line says its fate."""
    handler, gate = gated("smtp", TlsConfig([certs.ecdsa]), 1500, answer)
    cert = leaf(certs.ecdsa[0])
    before = utcnow()
    with MailServer(handler) as server:
        run = check(*args_for(server, "smtp", pki, "--client", "none", "-v", "-t", "6"))
    through = max(seen for seen in gate.sizes if seen <= 1500)

    def line(now: datetime) -> str:
        served, days = validity(cert, now)
        stall = " (no answer in S s)" if answer == "stall" else ""
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} smtp: {ending} the check's own {OWN / 1000:.1f} KB "
            f"{LIBRARY} ClientHello{stall}, while smaller hellos ({through} bytes and less) connect: {WHY} / {served} "
            f"| days_remaining={days} handshake_time=Ts;;;0 lifetime_used=U%;80;90;0;100"
        )

    assert run.code == 2, run.stdout
    assert_line(run, line, before)
    assert gate.stopped == [OWN] * len(gate.stopped) and server.connections == connections == len(gate.sizes)
    small = gate.sizes[-1]  # the last hello: the small one
    assert small <= 1500
    assert (
        f"\n  its {OWN}-byte ClientHello ({LIBRARY}) dropped, made again with a {small}-byte hello with one key "
        "share (P-256): accepted, TLS 1.3 "
    ) in run.stdout


def test_a_server_that_answers_the_checks_own_hello_sees_no_connection_more(pki: Pki, certs: Certs) -> None:
    """The gate stops nothing: the first handshake (large on OpenSSL 3.5) and the two key types, one connection each."""
    handler, gate = gated("smtp", TlsConfig([certs.ecdsa]), 2**14, "reset")
    with MailServer(handler) as server:
        run = check(*args_for(server, "smtp", pki, "--client", "none", "-v"))
    assert run.code == 0, run.stdout
    assert server.connections == 3 and len(gate.sizes) == 3 and OWN in gate.sizes and not gate.stopped
    assert "made again" not in run.stdout
