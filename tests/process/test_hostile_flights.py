"""The whole first flight decides a hello, as a client reads it: a ServerHello alone is not a connection.

A server answers one client's hello (Apple Mail's, TLS 1.2; or Thunderbird's, TLS 1.3) with a broken flight
and every other hello with a real handshake. What each real client does with such a flight: OpenSSL's client
(ssl/statem/statem_clnt.c) and NSS (ssl3con.c) abort on each of them; RFC 5246 7.4.2 and 7.4.5, RFC 8446 4.1.3
and 4.2.8 say why. The verdict is "cannot connect", in the flight's own words, never a cipher-list advice.
"""

from __future__ import annotations

import os
import struct
from datetime import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fakeserver import MailServer, TlsConfig
from flights import SERVER_HELLO_DONE, End, alert, flight_server, handshake
from hellos import ParsedHello, certificate_message, server_hello
from lines import USED, assert_line, utcnow, validity
from pki import Certs, Pki
from runs import args_for, check

from check_tls_mail.clients.profiles import catalogue

PROFILES = catalogue().profiles
APPLE = PROFILES["apple-mail"].hello_template
THUNDERBIRD = PROFILES["thunderbird"].hello_template
SUITE = 0xC02B  # ECDHE-ECDSA-AES128-GCM-SHA256, which Apple Mail offers
SUITE_NAME = "ECDHE-ECDSA-AES128-GCM-SHA256"


def chain_of(certs: Certs) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(Path(certs.ecdsa[0]).read_bytes())


def chain_der(certs: Certs) -> list[bytes]:
    return [c.public_bytes(Encoding.DER) for c in chain_of(certs)]


def chose(hello: ParsedHello, **kwargs: object) -> bytes:
    """A TLS 1.2 ServerHello for Apple Mail's hello (its session id echoed, no extensions)."""
    return server_hello(suite=SUITE, session_id=hello.session_id, **kwargs)  # type: ignore[arg-type]


def flights(certs: Certs) -> dict[str, tuple[object, ...]]:
    """name -> (victim's suites, answer, the words after "<client> cannot connect[ over TLS 1.2]: ")."""
    chain = chain_der(certs)
    return {
        "closed before the certificate": (
            APPLE,
            lambda h: [handshake(chose(h)), End.CLOSE],
            f"server chose TLS 1.2 {SUITE_NAME}, then closed the connection before its certificate",
        ),
        "reset before the certificate": (
            APPLE,
            lambda h: [handshake(chose(h)), End.RESET],
            f"server chose TLS 1.2 {SUITE_NAME}, then reset the connection before its certificate",
        ),
        "fatal alert after the ServerHello": (
            APPLE,
            lambda h: [handshake(chose(h)), alert(40)],
            f"server chose TLS 1.2 {SUITE_NAME}, then sent TLS alert handshake failure before its certificate",
        ),
        "no Certificate message": (
            APPLE,
            lambda h: [handshake(chose(h), SERVER_HELLO_DONE), End.STALL],
            f"server sent no certificate for the suite {SUITE_NAME}: the client ends the handshake",
        ),
        "an empty certificate list": (
            APPLE,
            lambda h: [handshake(chose(h), certificate_message([]), SERVER_HELLO_DONE), End.STALL],
            "server sent an empty certificate list: the client ends the handshake",
        ),
        "a certificate that does not parse": (
            APPLE,
            lambda h: [handshake(chose(h), certificate_message([b"not a certificate"]), SERVER_HELLO_DONE), End.STALL],
            "server sent a certificate that does not parse: the client ends the handshake",
        ),
        "a 33-byte session id": (
            APPLE,
            lambda h: [handshake(server_hello(suite=SUITE, session_id=os.urandom(33))), End.STALL],
            "server sent a session id of 33 bytes (at most 32): the client ends the handshake",
        ),
        "a TLS 1.3 ServerHello without a key share": (
            THUNDERBIRD,
            lambda h: [
                handshake(
                    server_hello(
                        version=0x0304,
                        suite=0x1301,
                        session_id=h.session_id,
                        extensions=struct.pack("!HHH", 43, 2, 0x0304),
                    )
                ),
                End.STALL,
            ],
            "server chose TLS 1.3 without sending its key share: the client ends the handshake",
        ),
        "the real chain, then a stall before ServerHelloDone": (
            APPLE,
            lambda h: [handshake(chose(h), certificate_message(chain)), End.STALL],
            None,  # worded with the time it waited
        ),
    }


CASES = [
    "closed before the certificate",
    "reset before the certificate",
    "fatal alert after the ServerHello",
    "no Certificate message",
    "an empty certificate list",
    "a certificate that does not parse",
    "a 33-byte session id",
    "a TLS 1.3 ServerHello without a key share",
]


@pytest.mark.parametrize("case", CASES)
def test_a_broken_first_flight_is_cannot_connect_in_its_own_words(case: str, pki: Pki, certs: Certs) -> None:
    victim, answer, words = flights(certs)[case]
    assert victim is not None
    handler = flight_server(TlsConfig([certs.ecdsa]), victim.cipher_suites, answer)  # type: ignore[attr-defined,arg-type]
    started = utcnow()
    with MailServer(handler) as server:
        run = check(*args_for(server, "imaps", pki, "--client", "apple-mail", "--client", "thunderbird"))
    who = "Apple Mail cannot connect over TLS 1.2" if victim is APPLE else "Thunderbird cannot connect"

    def line(now: datetime) -> str:
        served, days = validity(chain_of(certs)[0], now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} imaps: {who}: {words} / {served} | clients_ok=1;;2:;0;2 "
            f"days_remaining={days} handshake_time=Ts;;;0 {USED} probes_time=Ts;;;0"
        )

    assert run.code == 2, run.stdout
    assert_line(run, line, started)
    assert "cipher list" not in run.stdout and "the same hello with" not in run.stdout  # never blamed on suites


def test_a_stall_in_the_middle_of_the_flight_is_a_timeout_of_that_client(pki: Pki, certs: Certs) -> None:
    victim, answer, _ = flights(certs)["the real chain, then a stall before ServerHelloDone"]
    handler = flight_server(TlsConfig([certs.ecdsa]), victim.cipher_suites, answer)  # type: ignore[attr-defined,arg-type]
    with MailServer(handler) as server:
        run = check(*args_for(server, "imaps", pki, "--client", "apple-mail", "--client", "thunderbird", "-t", "4"))
    assert run.code == 2, run.stdout
    assert run.summary.startswith(
        f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} imaps: Apple Mail cannot connect over TLS 1.2: "
    ), run.stdout
    assert f"server chose TLS 1.2 {SUITE_NAME}, then sent nothing more for " in run.summary, run.stdout
    assert "s before the end of its first flight" in run.summary, run.stdout
