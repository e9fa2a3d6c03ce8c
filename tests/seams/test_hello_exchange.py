"""The hello exchange in process against servers on loopback (tls/hello/exchange.py).

A real ``openssl s_server`` (and ``gnutls-serv`` for 3DES) must answer every
profile's hello, and its ``-trace`` parse of it must list what we sent; the
server-side cases of issue 13 at the hello level; and the reader against fake
servers that misbehave (closes, resets, silence, trickles, floods, choices the
client did not offer).
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fakeserver import MailServer, hold
from hellos import (
    NAME,
    SIMPLE,
    certificate_message,
    parse_hello,
    record,
    server_hello,
)
from pki import DAY, NOW, Certs, issue, new_key
from runs import IN_PROCESS_SLACK, require
from tlsservers import GnutlsServer, OpenSslServer, client_hello_trace, traced_client_hello

from check_tls_mail.clients.profiles import ClientProfile, catalogue
from check_tls_mail.net.transport import Deadline
from check_tls_mail.tls.alerts import Alert
from check_tls_mail.tls.hello.answer import (
    AlertAnswer,
    ConnectionEnded,
    Ending,
    HelloRetry,
    Malformation,
    Malformed,
    NotTls,
    Problem,
    ServerAnswer,
    ServerHelloAnswer,
)
from check_tls_mail.tls.hello.encoder import encode_client_hello
from check_tls_mail.tls.hello.exchange import exchange_hello
from check_tls_mail.tls.hello.spec import HelloSpec, shared_groups
from check_tls_mail.tls.versions import TlsVersion

PROFILES = list(catalogue().profiles.values())


def hello_to(port: int, spec: HelloSpec) -> ServerAnswer:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        return exchange_hello(sock, spec, Deadline(10)).answer


def leaf_der(chain_file: str) -> bytes:
    return x509.load_pem_x509_certificates(Path(chain_file).read_bytes())[0].public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def dual_server(certs: Certs) -> Iterator[OpenSslServer]:
    """RSA and ECDSA certificates, every suite OpenSSL has, TLS 1.0-1.3."""
    rsa, ecdsa = certs.rsa, certs.ecdsa
    with OpenSslServer(
        "-cert", rsa[0], "-key", rsa[1], "-dcert", ecdsa[0], "-dkey", ecdsa[1], "-cipher", "ALL:@SECLEVEL=0"
    ) as server:
        yield server


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_openssl_server_answers_every_profile_with_a_server_hello(
    profile: ClientProfile, dual_server: OpenSslServer, certs: Certs
) -> None:
    spec = profile.hello(NAME)
    answer = hello_to(dual_server.port, spec)
    assert isinstance(answer, ServerHelloAnswer), (answer, dual_server.output()[-2000:])
    assert answer.accepted, answer.problems
    assert answer.cipher_suite in spec.cipher_suites
    assert answer.version == max(spec.offered_versions())
    if answer.version == TlsVersion.TLS1_3:
        assert answer.group in shared_groups(spec)
        assert answer.certificates is None  # encrypted in TLS 1.3
    else:
        assert answer.certificates, "TLS <= 1.2: the Certificate message in clear"
        assert answer.certificates[0] in (leaf_der(certs.rsa[0]), leaf_der(certs.ecdsa[0]))
        x509.load_der_x509_certificate(answer.certificates[0])


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_openssl_trace_reads_back_the_suites_and_extensions_we_sent(profile: ClientProfile, certs: Certs) -> None:
    """``s_server -trace`` is an independent ClientHello parser: it must list what the profile sends."""
    spec = profile.hello(NAME)
    with OpenSslServer("-cert", certs.ecdsa[0], "-key", certs.ecdsa[1], "-trace", "-naccept", "1") as server:
        hello_to(server.port, spec)
        trace = server.wait_for("Sent Record")
    suites, extensions = traced_client_hello(trace)
    assert suites == list(spec.cipher_suites)
    assert extensions == [t for t, _ in parse_hello(encode_client_hello(spec)).extensions]
    hello = client_hello_trace(trace)  # not the server's Certificate after it, which names mail.example.test too
    assert (f"{len(NAME):02x} " in hello and "mail.examp" in hello) is profile.sends_sni


def test_x25519_only_server_refuses_apple_mail_with_handshake_failure(certs: Certs) -> None:
    ecdsa = certs.ecdsa
    with OpenSslServer("-cert", ecdsa[0], "-key", ecdsa[1], "-groups", "X25519", "-cipher", "ALL:@SECLEVEL=0") as s:
        apple = hello_to(s.port, catalogue().profiles["apple-mail"].hello(NAME))
        thunderbird = hello_to(s.port, catalogue().profiles["thunderbird"].hello(NAME))
    assert isinstance(apple, AlertAnswer), apple
    assert apple.alert.alert is Alert.handshake_failure and apple.alert.fatal
    assert isinstance(thunderbird, ServerHelloAnswer) and thunderbird.group == 0x1D


def test_tls13_chacha20_only_server_refuses_the_profiles_without_it(certs: Certs) -> None:
    ecdsa = certs.ecdsa
    with OpenSslServer(
        "-cert", ecdsa[0], "-key", ecdsa[1], "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"
    ) as server:
        for profile in PROFILES:
            spec = profile.hello(NAME)
            answer = hello_to(server.port, spec)
            if TlsVersion.TLS1_3 not in spec.offered_versions():
                assert isinstance(answer, AlertAnswer), (profile.name, answer)
                assert answer.alert.alert is Alert.protocol_version
            elif 0x1303 in spec.cipher_suites:
                assert isinstance(answer, ServerHelloAnswer) and answer.accepted, (profile.name, answer)
                assert answer.cipher_suite == 0x1303
            else:
                assert isinstance(answer, AlertAnswer), (profile.name, answer)
                assert answer.alert.alert is Alert.handshake_failure
    assert "outlook" in {p.name for p in PROFILES if 0x1303 not in p.hello(NAME).cipher_suites}


def test_3des_only_tls12_server_answers_exactly_the_profiles_that_offer_3des(certs: Certs) -> None:
    """TLS 1.2, TLS_RSA_WITH_3DES_EDE_CBC_SHA only. Debian's OpenSSL has no 3DES suite at all, so GnuTLS serves it.

    GnuTLS uses an RSA key for key exchange only when its certificate allows keyEncipherment: the test PKI's
    RSA leaves do (tests/support/pki.py).
    """
    require("gnutls-serv")
    offering = set()
    only_3des = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+3DES-CBC:-KX-ALL:+RSA:-MAC-ALL:+SHA1"
    with GnutlsServer(*certs.rsa, only_3des) as server:
        for profile in PROFILES:
            spec = profile.hello(NAME)
            answer = hello_to(server.port, spec)
            if 0x000A in spec.cipher_suites:
                offering.add(profile.name)
                assert isinstance(answer, ServerHelloAnswer) and answer.accepted, (profile.name, answer)
                assert answer.cipher_suite == 0x000A and answer.version == TlsVersion.TLS1_2
            else:
                assert isinstance(answer, AlertAnswer), (profile.name, answer)
                assert answer.alert.alert is Alert.handshake_failure
    assert {"apple-mail", "gmail", "openssl-1.0.2-mta"} <= offering
    # Thunderbird 153 and Windows 11 22H2+ dropped 3DES (Thunderbird 91.9 and Windows 11 21H2 offered it)
    assert not {"postfix", "thunderbird", "outlook"} & offering


@pytest.mark.parametrize(
    ("name", "group", "openssl_name"), [("thunderbird", 0x18, "P-384"), ("postfix", 0x17, "P-256")]
)
def test_retry_request_for_an_offered_group_without_share_is_accepted(
    name: str, group: int, openssl_name: str, certs: Certs
) -> None:
    spec = catalogue().profiles[name].hello(NAME)
    assert group in spec.supported_groups and group not in shared_groups(spec)
    ecdsa = certs.ecdsa
    with OpenSslServer("-cert", ecdsa[0], "-key", ecdsa[1], "-groups", openssl_name) as server:
        answer = hello_to(server.port, spec)
    assert isinstance(answer, HelloRetry), answer
    assert answer.group == group and answer.accepted


def test_tls10_only_server_answers_but_below_a_profiles_minimum_is_a_problem(certs: Certs) -> None:
    rsa = certs.rsa
    with OpenSslServer("-cert", rsa[0], "-key", rsa[1], "-tls1", "-cipher", "ALL:@SECLEVEL=0") as server:
        apple = hello_to(server.port, catalogue().profiles["apple-mail"].hello(NAME))
        sendmail = hello_to(server.port, catalogue().profiles["sendmail"].hello(NAME))
        thunderbird = hello_to(server.port, catalogue().profiles["thunderbird"].hello(NAME))
    assert isinstance(apple, ServerHelloAnswer) and apple.accepted and apple.version == 0x0301
    # sendmail's OpenSSL offers TLS 1.0 in supported_versions, the profile accepts 1.2 and up
    assert isinstance(sendmail, ServerHelloAnswer)
    assert [(p.kind, p.value) for p in sendmail.problems] == [(Problem.VERSION_BELOW_MINIMUM, 0x0301)]
    assert isinstance(thunderbird, AlertAnswer)
    assert thunderbird.alert.alert is Alert.protocol_version


def test_server_whose_only_group_the_client_lacks_sends_an_alert(certs: Certs) -> None:
    spec = catalogue().profiles["android"].hello(NAME)
    assert 0x19 not in spec.supported_groups
    ecdsa = certs.ecdsa
    with OpenSslServer("-cert", ecdsa[0], "-key", ecdsa[1], "-groups", "P-521") as server:
        answer = hello_to(server.port, spec)
    assert isinstance(answer, AlertAnswer) and answer.alert.alert is Alert.handshake_failure


def read_hello(conn: socket.socket) -> bytes:
    data = b""
    while len(data) < 5 or len(data) < 5 + struct.unpack("!H", data[3:5])[0]:
        data += conn.recv(65536)
    return data


def replying(data: bytes) -> Callable[[socket.socket], None]:
    """A server that reads the hello and answers ``data``, then closes."""

    def handler(conn: socket.socket) -> None:
        read_hello(conn)
        conn.sendall(data)

    return handler


def silent(conn: socket.socket) -> None:
    read_hello(conn)
    hold(conn)  # until the client gives up, which only its deadline makes it do


def probe(handler: Callable[[socket.socket], None], spec: HelloSpec = SIMPLE, seconds: float = 5) -> object:
    with MailServer(handler) as server, socket.create_connection(("127.0.0.1", server.port)) as sock:
        return exchange_hello(sock, spec, Deadline(seconds)).answer


def test_closed_before_any_answer() -> None:
    assert probe(read_hello) == ConnectionEnded(Ending.CLOSED, 0)  # type: ignore[arg-type]


def test_reset_before_any_answer() -> None:
    def reset(conn: socket.socket) -> None:
        read_hello(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    assert probe(reset) == ConnectionEnded(Ending.RESET, 0)


def test_silence_is_a_timeout_within_the_deadline() -> None:
    with MailServer(silent) as server, socket.create_connection(("127.0.0.1", server.port)) as sock:
        exchange = exchange_hello(sock, SIMPLE, Deadline(0.5))
    assert exchange.answer == ConnectionEnded(Ending.TIMEOUT, 0)
    assert 0.45 < exchange.seconds < 0.5 + IN_PROCESS_SLACK  # not before the deadline, and ended by it


def test_plaintext_reply_is_not_tls() -> None:
    answer = probe(replying(b"500 5.5.1 command unrecognized\r\n"))
    assert isinstance(answer, NotTls) and answer.preview.startswith(b"500 5.5.1")


def test_records_a_byte_at_a_time_and_a_message_across_records() -> None:
    der = leaf_der_for_test()
    flight = server_hello() + certificate_message([der]) + b"\x0e\x00\x00\x00"
    records = record(22, flight[:30]) + record(22, flight[30:200]) + record(22, flight[200:])

    def trickle(conn: socket.socket) -> None:
        read_hello(conn)
        for i in range(len(records)):
            conn.sendall(records[i : i + 1])

    answer = probe(trickle)
    assert isinstance(answer, ServerHelloAnswer), answer
    assert answer.version == TlsVersion.TLS1_2 and answer.cipher_suite == 0xC02B and answer.certificates == (der,)


def test_alert_warning_then_close_is_the_alert() -> None:
    answer = probe(replying(record(21, b"\x01\x70")))
    assert isinstance(answer, AlertAnswer) and answer.alert.alert is Alert.unrecognized_name
    assert not answer.alert.fatal


def test_unknown_alert_code_is_kept() -> None:
    answer = probe(replying(record(21, b"\x02\xee")))
    assert isinstance(answer, AlertAnswer) and answer.alert.code == 0xEE and answer.alert.alert is None


def test_oversized_record_and_endless_flight_are_bounded() -> None:
    huge = probe(replying(b"\x16\x03\x03\xff\xff"))
    assert huge == Malformed(Malformation.RECORD_TOO_LONG, 0xFFFF)

    def flood(conn: socket.socket) -> None:
        read_hello(conn)
        message = b"\x02" + (2**20).to_bytes(3, "big")
        conn.sendall(record(22, message))
        while True:
            conn.sendall(record(22, bytes(16000)))

    answer = probe(flood)
    assert isinstance(answer, Malformed) and answer.what in (Malformation.MESSAGE_TOO_LONG, Malformation.TOO_MUCH_DATA)


def test_server_choices_the_client_did_not_offer_are_problems() -> None:
    tls13 = b"\x00\x2b\x00\x02\x03\x04"  # supported_versions: TLS 1.3

    def answer_with(extensions: bytes, suite: int = 0x1301) -> Callable[[socket.socket], None]:
        def handler(conn: socket.socket) -> None:
            seen = parse_hello(read_hello(conn))
            conn.sendall(record(22, server_hello(TlsVersion.TLS1_2, suite, seen.session_id, extensions)))

        return handler

    unknown_group = probe(answer_with(tls13 + b"\x00\x33\x00\x24\x00\x18\x00\x20" + bytes(32)))
    assert isinstance(unknown_group, ServerHelloAnswer)
    assert [p.kind for p in unknown_group.problems] == [Problem.GROUP_NOT_OFFERED]
    no_share = probe(answer_with(tls13 + b"\x00\x33\x00\x45\x00\x17\x00\x41" + bytes(65)))
    assert isinstance(no_share, ServerHelloAnswer)
    assert [p.kind for p in no_share.problems] == [Problem.GROUP_WITHOUT_KEY_SHARE]
    wrong_suite = probe(answer_with(tls13 + b"\x00\x33\x00\x24\x00\x1d\x00\x20" + bytes(32), suite=0x1302))
    assert isinstance(wrong_suite, ServerHelloAnswer)
    assert [p.kind for p in wrong_suite.problems] == [Problem.SUITE_NOT_OFFERED]
    unasked = probe(answer_with(tls13 + b"\x00\x33\x00\x24\x00\x1d\x00\x20" + bytes(32) + b"\x00\x17\x00\x00"))
    assert isinstance(unasked, ServerHelloAnswer)
    assert [p.kind for p in unasked.problems] == [Problem.EXTENSION_NOT_OFFERED]


def test_retry_for_a_group_already_shared_or_not_offered_is_a_failure() -> None:
    from check_tls_mail.tls.codepoints import HRR_RANDOM

    def retry(group: int) -> Callable[[socket.socket], None]:
        def handler(conn: socket.socket) -> None:
            seen = parse_hello(read_hello(conn))
            ext = b"\x00\x2b\x00\x02\x03\x04" + b"\x00\x33\x00\x02" + struct.pack("!H", group)
            conn.sendall(record(22, server_hello(TlsVersion.TLS1_2, 0x1301, seen.session_id, ext, HRR_RANDOM)))

        return handler

    ok, shared, foreign = probe(retry(0x17)), probe(retry(0x1D)), probe(retry(0x19))
    assert isinstance(ok, HelloRetry) and ok.accepted
    assert isinstance(shared, HelloRetry) and [p.kind for p in shared.problems] == [Problem.HRR_GROUP_ALREADY_SHARED]
    assert isinstance(foreign, HelloRetry) and [p.kind for p in foreign.problems] == [Problem.GROUP_NOT_OFFERED]


def test_downgrade_sentinel_from_a_tls13_server_is_a_problem() -> None:
    sentinel = os.urandom(24) + b"DOWNGRD\x01"
    answer = probe(replying(record(22, server_hello(random=sentinel))))
    assert isinstance(answer, ServerHelloAnswer)
    assert [p.kind for p in answer.problems] == [Problem.DOWNGRADE_SENTINEL]


@cache
def leaf_der_for_test() -> bytes:
    """A self-signed certificate without extensions (pki.issue), for a Certificate message to carry."""
    bare = issue(
        NAME, new_key("ECDSA"), None, NOW, NOW + DAY, ca=False, eku=False, usage=None, basic=False, keyids=False
    )
    return bare.cert.public_bytes(Encoding.DER)
