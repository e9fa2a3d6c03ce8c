"""The ClientHello encoder and the server-answer reader (helloencoder.py, flightreader.py, helloexchange.py).

Oracles: the RFCs' byte layouts (expectations written here from the RFC text,
not from the encoder), the captured hellos of real clients (tests/captured_hellos.json,
and posttls-finger / gnutls-cli run live), and a real ``openssl s_server``
that must answer every profile's hello and whose ``-trace`` parse of it must
list what we sent.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pki import Certs
from realservers import mail_server_root
from runs import ROOT, require
from tlsservers import GnutlsServer, OpenSslServer, traced_client_hello

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
from check_tls_mail.tls.hello.flight import FlightReader
from check_tls_mail.tls.hello.spec import HelloSpec, KeyShare, shared_groups
from check_tls_mail.tls.versions import TlsVersion

NAME = "mail.example.test"
PROFILES = list(catalogue().profiles.values())
CAPTURES: dict[str, dict[str, str]] = json.loads((ROOT / "tests" / "support" / "captured_hellos.json").read_text())[
    "captures"
]
ANSWER_TYPES = (ServerHelloAnswer, HelloRetry, AlertAnswer, ConnectionEnded, NotTls, Malformed)

# ---------------------------------------------------------------------------
# An independent ClientHello parser, written from RFC 8446 section 4.1.2 and RFC 5246 section 6.2.1
# ---------------------------------------------------------------------------


class ParsedHello(NamedTuple):
    record_versions: list[int]
    legacy_version: int
    random: bytes
    session_id: bytes
    suites: list[int]
    compression: bytes
    extensions: list[tuple[int, bytes]]

    def ext(self, ext_type: int) -> bytes:
        (body,) = [b for t, b in self.extensions if t == ext_type]
        return body


def parse_hello(records: bytes) -> ParsedHello:
    message, versions, rest = b"", [], records
    while rest:
        assert rest[0] == 22, "a handshake record"
        size = struct.unpack("!H", rest[3:5])[0]
        assert size <= 2**14
        versions.append(struct.unpack("!H", rest[1:3])[0])
        message += rest[5 : 5 + size]
        rest = rest[5 + size :]
    assert message[0] == 1, "ClientHello"
    length = int.from_bytes(message[1:4], "big")
    assert length == len(message) - 4
    body = message[4:]
    sid_len = body[34]
    at = 35 + sid_len
    suites_len = struct.unpack("!H", body[at : at + 2])[0]
    suites = [struct.unpack("!H", body[at + 2 + i : at + 4 + i])[0] for i in range(0, suites_len, 2)]
    at += 2 + suites_len
    compression = body[at + 1 : at + 1 + body[at]]
    at += 1 + body[at]
    extensions = []
    if at < len(body):
        block_len = struct.unpack("!H", body[at : at + 2])[0]
        assert at + 2 + block_len == len(body), "the extension block ends the message"
        at += 2
        while at < len(body):
            ext_type, ext_len = struct.unpack("!HH", body[at : at + 4])
            extensions.append((ext_type, body[at + 4 : at + 4 + ext_len]))
            at += 4 + ext_len
    return ParsedHello(
        versions, struct.unpack("!H", body[:2])[0], body[2:34], body[35 : 35 + sid_len], suites, compression, extensions
    )


def key_shares_of(hello: ParsedHello) -> tuple[KeyShare, ...]:
    if 51 not in [t for t, _ in hello.extensions]:
        return ()
    data, shares, at = hello.ext(51), [], 2
    while at < len(data):
        group, size = struct.unpack("!HH", data[at : at + 4])
        shares.append(KeyShare(group, data[at + 4 : at + 4 + size]))
        at += 4 + size
    return tuple(shares)


def server_name_of(hello: ParsedHello) -> str | None:
    if 0 not in [t for t, _ in hello.extensions]:
        return None
    return hello.ext(0)[5:].decode()


def spec_with(*extensions: int, **fields: object) -> HelloSpec:
    fields.setdefault("cipher_suites", (0xC02B,))
    return HelloSpec(extensions=extensions, **fields)  # type: ignore[arg-type]


def only_extension(spec: HelloSpec) -> tuple[int, bytes]:
    """(type, whole extension bytes as on the wire) of a spec with one extension."""
    hello = parse_hello(encode_client_hello(spec))
    ((ext_type, body),) = hello.extensions
    return ext_type, struct.pack("!HH", ext_type, len(body)) + body


# ---------------------------------------------------------------------------
# The ClientHello and each extension against its RFC layout
# ---------------------------------------------------------------------------


def test_client_hello_layout_follows_rfc8446_section_4_1_2() -> None:
    spec = HelloSpec(cipher_suites=(0x1301, 0xC02B, 0x000A), extensions=(0xFF01,), session_id_length=32)
    random, session_id = bytes(range(32)), bytes(range(100, 132))
    record = encode_client_hello(spec, random, session_id)
    body = (
        b"\x03\x03"  # legacy_version TLS 1.2
        + random
        + b"\x20"
        + session_id
        + b"\x00\x06\x13\x01\xc0\x2b\x00\x0a"  # cipher_suites<2..2^16-2>
        + b"\x01\x00"  # legacy_compression_methods: null
        + b"\x00\x05"  # extensions<8..2^16-1>
        + b"\xff\x01\x00\x01\x00"
    )
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    assert record == b"\x16\x03\x01" + len(handshake).to_bytes(2, "big") + handshake


def test_empty_session_id_and_record_version_as_the_client_sends_them() -> None:
    record = encode_client_hello(spec_with(0xFF01, session_id_length=0, record_version=TlsVersion.TLS1_2))
    assert record[1:3] == b"\x03\x03"
    assert record[9 + 2 + 32] == 0  # session_id length byte


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # RFC 6066 section 3: ServerNameList of (name_type host_name(0), HostName<1..2^16-1>)
        (spec_with(0, server_name="mx.example"), b"\x00\x00\x00\x0f\x00\x0d\x00\x00\x0amx.example"),
        # RFC 6066 section 8: status_type ocsp(1), empty responder_id_list and request_extensions
        (spec_with(5), b"\x00\x05\x00\x05\x01\x00\x00\x00\x00"),
        # RFC 8446 section 4.2.7 / RFC 8422 section 5.1.1: NamedGroupList
        (spec_with(10, supported_groups=(0x1D, 0x17)), b"\x00\x0a\x00\x06\x00\x04\x00\x1d\x00\x17"),
        # RFC 8422 section 5.1.2: ECPointFormatList<1..2^8-1>, uncompressed(0)
        (spec_with(11, ec_point_formats=(0,)), b"\x00\x0b\x00\x02\x01\x00"),
        # RFC 8446 section 4.2.3: SignatureSchemeList
        (spec_with(13, signature_algorithms=(0x0403, 0x0804)), b"\x00\x0d\x00\x06\x00\x04\x04\x03\x08\x04"),
        # RFC 6520 section 2: HeartbeatMode peer_allowed_to_send(1)
        (spec_with(15, heartbeat_mode=1), b"\x00\x0f\x00\x01\x01"),
        # RFC 7301 section 3.1: ProtocolNameList of ProtocolName<1..2^8-1>
        (spec_with(16, alpn=("imap", "h2")), b"\x00\x10\x00\x0a\x00\x08\x04imap\x02h2"),
        # RFC 6962 section 3.3.1: empty extension_data
        (spec_with(18), b"\x00\x12\x00\x00"),
        # RFC 7366 section 2, RFC 7627 section 5.1, RFC 5077 section 3.2: empty
        (spec_with(22), b"\x00\x16\x00\x00"),
        (spec_with(23), b"\x00\x17\x00\x00"),
        (spec_with(35), b"\x00\x23\x00\x00"),
        # RFC 8879 section 3: CertificateCompressionAlgorithm algorithms<2..2^8-2>
        (spec_with(27, compress_certificate=(2,)), b"\x00\x1b\x00\x03\x02\x00\x02"),
        # RFC 8449 section 4: RecordSizeLimit uint16
        (spec_with(28, record_size_limit=0x4001), b"\x00\x1c\x00\x02\x40\x01"),
        # RFC 9345 section 4.1.1: SignatureSchemeList
        (spec_with(34, delegated_credential=(0x0403,)), b"\x00\x22\x00\x04\x00\x02\x04\x03"),
        # RFC 8446 section 4.2.1: ProtocolVersion versions<2..254>
        (
            spec_with(43, supported_versions=(TlsVersion.TLS1_3, TlsVersion.TLS1_2)),
            b"\x00\x2b\x00\x05\x04\x03\x04\x03\x03",
        ),
        # RFC 8446 section 4.2.9: PskKeyExchangeMode ke_modes<1..255>, psk_dhe_ke(1)
        (spec_with(45, psk_key_exchange_modes=(1,)), b"\x00\x2d\x00\x02\x01\x01"),
        # RFC 8446 section 4.2.3: signature_algorithms_cert has the same layout
        (spec_with(50, signature_algorithms_cert=(0x0401,)), b"\x00\x32\x00\x04\x00\x02\x04\x01"),
        # RFC 5746 section 3.2: renegotiated_connection<0..255>, empty on an initial hello
        (spec_with(0xFF01), b"\xff\x01\x00\x01\x00"),
        # An extension we do not model travels as the raw body the profile gives
        (spec_with(0x44CD, raw_extensions=((0x44CD, b"\x00\x03\x02h2"),)), b"\x44\xcd\x00\x05\x00\x03\x02h2"),
        (spec_with(0x9A9A, raw_extensions=((0x9A9A, b""),)), b"\x9a\x9a\x00\x00"),
    ],
)
def test_extension_layout_follows_its_rfc(spec: HelloSpec, expected: bytes) -> None:
    assert only_extension(spec)[1] == expected


def test_no_sni_and_no_alpn_when_the_spec_has_none() -> None:
    hello = parse_hello(encode_client_hello(spec_with(0, 16, 0xFF01)))
    assert [t for t, _ in hello.extensions] == [0xFF01]


def test_key_share_layout_follows_rfc8446_section_4_2_8() -> None:
    spec = spec_with(51, supported_groups=(0x1D, 0x17, 0x18, 0x0A0A), key_share_groups=(0x0A0A, 0x1D, 0x17, 0x18))
    _, ext = only_extension(spec)
    assert ext[:2] == b"\x00\x33"
    data = ext[4:]
    assert struct.unpack("!H", data[:2])[0] == len(data) - 2  # client_shares<0..2^16-1>
    entries, at = [], 2
    while at < len(data):
        group, size = struct.unpack("!HH", data[at : at + 4])
        entries.append((group, data[at + 4 : at + 4 + size]))
        at += 4 + size
    assert [g for g, _ in entries] == [0x0A0A, 0x1D, 0x17, 0x18]
    assert entries[0][1] == b"\x00"  # a GREASE share is one byte (RFC 8701 section 3.1, as BoringSSL sends it)
    assert len(entries[1][1]) == 32  # X25519: 32 bytes (RFC 8446 section 4.2.8.2)
    for (_, key), size in zip(entries[2:], (65, 97), strict=True):  # UncompressedPointRepresentation
        assert len(key) == size and key[0] == 4


def test_key_shares_are_fresh_keys_on_their_curve() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, x25519

    spec = spec_with(51, supported_groups=(0x1D, 0x17), key_share_groups=(0x1D, 0x17))
    first, second = (key_shares_of(parse_hello(encode_client_hello(spec))) for _ in range(2))
    assert first[0].key_exchange != second[0].key_exchange
    x25519.X25519PublicKey.from_public_bytes(first[0].key_exchange)
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), first[1].key_exchange)  # raises off the curve


def test_hybrid_share_is_mlkem768_then_x25519_and_ffdhe_is_left_out() -> None:
    pytest.importorskip("cryptography.hazmat.primitives.asymmetric.mlkem")
    spec = spec_with(51, supported_groups=(0x11EC, 0x1D, 0x100), key_share_groups=(0x11EC, 0x100, 0x1D))
    shares = key_shares_of(parse_hello(encode_client_hello(spec)))
    assert [s.group for s in shares] == [0x11EC, 0x1D]  # ffdhe2048: no share, the server may ask for it
    assert len(shares[0].key_exchange) == 1184 + 32  # draft-ietf-tls-ecdhe-mlkem: ML-KEM-768 ek || X25519
    assert shared_groups(spec) == (0x11EC, 0x1D)


@pytest.mark.parametrize(("suites", "pads"), [(20, False), (120, True), (250, False)])
def test_padding_fills_a_256_to_511_byte_hello_to_512_as_rfc7685_clients_do(suites: int, pads: bool) -> None:
    base = spec_with(0, 21, 0xFF01, server_name="a.example", cipher_suites=tuple(range(0xC001, 0xC001 + suites)))
    record = encode_client_hello(base)
    hello = parse_hello(record)
    types = [t for t, _ in hello.extensions]
    if pads:
        assert types == [0, 21, 0xFF01]
        assert len(record) - 5 == 512
        assert set(hello.ext(21)) == {0}
    else:
        assert types == [0, 0xFF01] and not 0xFF < len(record) - 5 < 0x200


def test_a_hello_over_16k_is_split_into_records() -> None:
    spec = spec_with(0x1234, raw_extensions=((0x1234, bytes(20000)),))
    record = encode_client_hello(spec)
    hello = parse_hello(record)
    assert len(hello.record_versions) == 2
    assert hello.ext(0x1234) == bytes(20000)


def test_extension_order_is_the_specs_order() -> None:
    order = (0xFF01, 23, 10, 11, 13, 43, 45, 51, 0)
    spec = spec_with(
        *order,
        server_name=NAME,
        supported_groups=(0x1D,),
        key_share_groups=(0x1D,),
        signature_algorithms=(0x0403,),
        supported_versions=(TlsVersion.TLS1_3,),
    )
    assert [t for t, _ in parse_hello(encode_client_hello(spec)).extensions] == list(order)


def test_a_spec_the_encoder_cannot_build_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_client_hello(spec_with(0x4444))  # no builder, no raw body
    with pytest.raises(ValueError):
        encode_client_hello(spec_with(10, 10))


# ---------------------------------------------------------------------------
# Profiles against the captured hellos of the real clients
# ---------------------------------------------------------------------------


def reencode(profile: ClientProfile, captured: bytes) -> bytes:
    """The profile's hello with what is random in the capture (random, session id, key shares, SNI) taken from it."""
    seen = parse_hello(captured)
    spec = profile.hello(server_name_of(seen))
    return encode_client_hello(spec, seen.random, seen.session_id, key_shares_of(seen))


@pytest.mark.parametrize("name", ["apple-mail", "thunderbird", "postfix", "exim-gnutls", "sendmail"])
def test_profile_hello_is_the_captured_hello_byte_for_byte(name: str) -> None:
    captured = bytes.fromhex(CAPTURES[name]["hex"])
    assert reencode(catalogue().profiles[name], captured) == captured


@pytest.mark.parametrize(
    ("name", "dropped"),
    [
        ("android", {16, 0x44CD, 41}),  # ALPN and ALPS of an HTTP app; a resumption PSK
        ("openssl-mta-tls12", {0}),  # SSL Labs sent SNI; the MTA sends none
        ("apple-ats", {16}),  # Safari's ALPN
    ],
)
def test_profile_hello_is_the_capture_less_the_documented_drops(name: str, dropped: set[int]) -> None:
    profile = catalogue().profiles[name]
    seen = parse_hello(bytes.fromhex(CAPTURES[name]["hex"]))
    ours = parse_hello(reencode(profile, bytes.fromhex(CAPTURES[name]["hex"])))
    assert [(t, b) for t, b in ours.extensions] == [(t, b) for t, b in seen.extensions if t not in dropped]
    if name != "apple-ats":  # apple-ats carries ATS's suites instead of Safari's
        assert ours.suites == seen.suites

    def inferred(field: str) -> bool:  # why the fact is inferred, said for the field or a field above it
        return any(field == key or field.startswith(key + ".") for key, _ in profile.inferred)

    for ext_type in dropped:
        assert inferred(f"hello.{'alpn' if ext_type == 16 else 'extensions'}") or inferred("hello.sni")


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


# ---------------------------------------------------------------------------
# A real OpenSSL server answers every profile's hello
# ---------------------------------------------------------------------------


def hello_to(port: int, spec: HelloSpec) -> ServerAnswer:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        return exchange_hello(sock, spec, Deadline(10)).answer


def leaf_der(chain_file: str) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

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
    assert (f"{len(NAME):02x} " in trace and "mail.examp" in trace) is profile.sends_sni


# ---------------------------------------------------------------------------
# The server-side cases of issue 13 at the hello level
# ---------------------------------------------------------------------------


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
    RSA leaves do (tests/pki.py).
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
    assert {"apple-mail", "thunderbird", "outlook", "gmail"} <= offering
    assert "postfix" not in offering


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


# ---------------------------------------------------------------------------
# The reader against servers that misbehave
# ---------------------------------------------------------------------------

SIMPLE = HelloSpec(
    cipher_suites=(0x1301, 0xC02B),
    extensions=(10, 13, 43, 51),
    supported_versions=(TlsVersion.TLS1_3, TlsVersion.TLS1_2),
    supported_groups=(0x1D, 0x17),
    key_share_groups=(0x1D,),
    signature_algorithms=(0x0403,),
)


@contextmanager
def fake_server(handler: Callable[[socket.socket], None]) -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        conn, _ = listener.accept()
        with conn, suppress(OSError):
            handler(conn)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        yield listener.getsockname()[1]
    finally:
        worker.join(5)
        listener.close()


def read_hello(conn: socket.socket) -> bytes:
    data = b""
    while len(data) < 5 or len(data) < 5 + struct.unpack("!H", data[3:5])[0]:
        data += conn.recv(65536)
    return data


def record(content_type: int, body: bytes, version: int = TlsVersion.TLS1_2) -> bytes:
    return struct.pack("!BHH", content_type, version, len(body)) + body


def server_hello(
    version: int = TlsVersion.TLS1_2,
    suite: int = 0xC02B,
    session_id: bytes = b"",
    extensions: bytes = b"",
    random: bytes = b"",
) -> bytes:
    legacy = min(version, TlsVersion.TLS1_2)
    body = struct.pack("!H", legacy) + (random or os.urandom(32)) + bytes([len(session_id)]) + session_id
    body += struct.pack("!HB", suite, 0) + struct.pack("!H", len(extensions)) + extensions
    return b"\x02" + len(body).to_bytes(3, "big") + body


def certificate_message(ders: list[bytes]) -> bytes:
    entries = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    body = len(entries).to_bytes(3, "big") + entries
    return b"\x0b" + len(body).to_bytes(3, "big") + body


def replying(data: bytes) -> Callable[[socket.socket], None]:
    """A server that reads the hello and answers ``data``, then closes."""

    def handler(conn: socket.socket) -> None:
        read_hello(conn)
        conn.sendall(data)

    return handler


def silent(conn: socket.socket) -> None:
    read_hello(conn)
    time.sleep(2)


def probe(handler: Callable[[socket.socket], None], spec: HelloSpec = SIMPLE, seconds: float = 5) -> object:
    with fake_server(handler) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        return exchange_hello(sock, spec, Deadline(seconds)).answer


def test_closed_before_any_answer() -> None:
    assert probe(read_hello) == ConnectionEnded(Ending.CLOSED, 0)  # type: ignore[arg-type]


def test_reset_before_any_answer() -> None:
    def reset(conn: socket.socket) -> None:
        read_hello(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    assert probe(reset) == ConnectionEnded(Ending.RESET, 0)


def test_silence_is_a_timeout_within_the_deadline() -> None:
    with fake_server(silent) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        exchange = exchange_hello(sock, SIMPLE, Deadline(0.5))
    assert exchange.answer == ConnectionEnded(Ending.TIMEOUT, 0)
    assert 0.45 < exchange.seconds < 1.0


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


_LEAF: list[bytes] = []


def leaf_der_for_test() -> bytes:
    if not _LEAF:
        import datetime

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        _LEAF.append(cert.public_bytes(Encoding.DER))
    return _LEAF[0]


# ---------------------------------------------------------------------------
# Any bytes from the server give a typed answer, never an exception
# ---------------------------------------------------------------------------


def feed_all(chunks: list[bytes], how: Ending = Ending.CLOSED) -> object:
    reader = FlightReader(SIMPLE, b"")
    for chunk in chunks:
        answer = reader.feed(chunk)
        if answer is not None:
            return answer
    return reader.end(how)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), max_size=8), st.sampled_from(list(Ending)))
def test_any_bytes_give_a_typed_answer(chunks: list[bytes], how: Ending) -> None:
    assert isinstance(feed_all(chunks, how), ANSWER_TYPES)


records_strategy = st.lists(
    st.tuples(st.sampled_from([20, 21, 22, 23, 22, 22]), st.binary(max_size=120)).map(lambda t: record(t[0], t[1])),
    max_size=6,
)
hello_strategy = st.builds(
    lambda v, s, ext, sid: record(22, server_hello(v, s, sid, ext)),
    st.sampled_from([0x0300, TlsVersion.TLS1_2, TlsVersion.TLS1_3, 0x7F1C]),
    st.sampled_from([0x1301, 0xC02B, 0x000A, 0x0A0A]),
    st.binary(max_size=60),
    st.binary(max_size=32),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(records_strategy.map(b"".join), hello_strategy), max_size=4), st.integers(1, 50))
def test_well_framed_garbage_gives_a_typed_answer(parts: list[bytes], step: int) -> None:
    data = b"".join(parts)
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    assert isinstance(feed_all(chunks), ANSWER_TYPES)
