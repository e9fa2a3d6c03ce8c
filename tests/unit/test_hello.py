"""The ClientHello encoder and the server-answer reader without a server (tls/hello: encoder, flight).

Oracles: the RFCs' byte layouts (expectations written here from the RFC text,
not from the encoder), and the captured hellos of real clients
(support/captured_hellos.json from testssl.sh, captures/clients.json from
Debian's packages). Any bytes a server may send give the reader a
typed answer.
"""

from __future__ import annotations

import struct

import pytest
from hellos import (
    CLIENT_CAPTURES,
    NAME,
    SIMPLE,
    captured,
    key_shares_of,
    masked,
    parse_hello,
    record,
    reencode,
    server_hello,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from check_tls_mail.clients.profiles import ClientProfile, catalogue
from check_tls_mail.tls.hello.answer import (
    AlertAnswer,
    ConnectionEnded,
    CutAfterHello,
    Ending,
    HelloRetry,
    Malformed,
    NotTls,
    ServerHelloAnswer,
)
from check_tls_mail.tls.hello.encoder import encode_client_hello
from check_tls_mail.tls.hello.flight import FlightReader
from check_tls_mail.tls.hello.shares import SHARES
from check_tls_mail.tls.hello.spec import HelloSpec, shared_groups
from check_tls_mail.tls.versions import TlsVersion

ANSWER_TYPES = (ServerHelloAnswer, CutAfterHello, HelloRetry, AlertAnswer, ConnectionEnded, NotTls, Malformed)


def spec_with(*extensions: int, **fields: object) -> HelloSpec:
    fields.setdefault("cipher_suites", (0xC02B,))
    return HelloSpec(extensions=extensions, **fields)  # type: ignore[arg-type]


def only_extension(spec: HelloSpec) -> tuple[int, bytes]:
    """(type, whole extension bytes as on the wire) of a spec with one extension."""
    hello = parse_hello(encode_client_hello(spec))
    ((ext_type, body),) = hello.extensions
    return ext_type, struct.pack("!HH", ext_type, len(body)) + body


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


def test_key_shares_are_the_fixed_shares_on_their_curve() -> None:
    """A hello probe never completes the key exchange: its shares are shares.py's valid public values."""
    from cryptography.hazmat.primitives.asymmetric import ec, x25519

    spec = spec_with(51, supported_groups=(0x1D, 0x17), key_share_groups=(0x1D, 0x17))
    shares = key_shares_of(parse_hello(encode_client_hello(spec)))
    assert [(s.group, s.key_exchange) for s in shares] == [(0x1D, SHARES[0x1D]), (0x17, SHARES[0x17])]
    x25519.X25519PublicKey.from_public_bytes(shares[0].key_exchange)
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), shares[1].key_exchange)  # raises off the curve


def test_hybrid_share_is_mlkem768_then_x25519_and_ffdhe_is_left_out() -> None:
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


#: The profiles whose hello is a capture, each with every capture of that hello (its own first).
CAPTURED = [
    pytest.param(profile, capture_id, id=f"{profile.name}:{capture_id}")
    for profile in catalogue().profiles.values()
    if profile.capture is not None and profile.name not in ("android", "apple-ats", "openssl-1.0.2-mta")
    for capture_id in (profile.capture.id, *profile.capture.same)
]


@pytest.mark.parametrize(("profile", "capture_id"), CAPTURED)
def test_profile_hello_is_the_captured_hello_byte_for_byte(profile: ClientProfile, capture_id: str) -> None:
    """The hello a profile sends is its capture's, byte for byte, with the capture's random, session id, key shares
    and server name; and the same, but for what a client draws anew each time, as every other capture it names."""
    assert profile.capture is not None
    seen = captured(profile.capture, capture_id)
    ours = reencode(profile, seen)
    assert masked(ours) == masked(seen)
    if capture_id == profile.capture.id:
        assert ours == seen


def test_every_debian_client_profile_is_the_capture_of_its_version_and_date() -> None:
    """Each profile read from captures/clients.json says the package version and capture date of that entry;
    Thunderbird's is the current ESR, 1.9 KB with the hybrid share first."""
    from_debian = [p for p in catalogue().profiles.values() if p.capture and p.capture.file == "captures/clients.json"]
    assert len(from_debian) >= 14
    for profile in from_debian:
        assert profile.capture is not None
        entry = CLIENT_CAPTURES[profile.capture.id]
        assert (profile.capture.version, profile.capture.date) == (entry["version"], str(entry["date"])[:10])
        assert profile.capture.client == entry["package"]
    thunderbird = catalogue().profiles["thunderbird"]
    assert thunderbird.capture is not None and thunderbird.capture.short_version.startswith("153.")
    spec = thunderbird.hello(NAME)
    assert [s.group for s in key_shares_of(parse_hello(encode_client_hello(spec)))] == [0x11EC, 0x001D, 0x0017]
    assert 1800 < len(encode_client_hello(spec)) < 2000


@pytest.mark.parametrize(
    ("name", "dropped"),
    [
        ("apple-mail", set()),
        ("android", {16, 0x44CD, 41}),  # ALPN and ALPS of an HTTP app; a resumption PSK
        ("openssl-1.0.2-mta", {0}),  # SSL Labs sent SNI; the MTA sends none
        ("apple-ats", {16}),  # Safari's ALPN
    ],
)
def test_profile_hello_is_the_capture_less_the_documented_drops(name: str, dropped: set[int]) -> None:
    """The profiles from testssl.sh's captures: each the capture, less what a mail client does not send."""
    profile = catalogue().profiles[name]
    assert profile.capture is not None and profile.capture.file.startswith("testssl.sh")
    hello = captured(profile.capture)
    seen = parse_hello(hello)
    ours = parse_hello(reencode(profile, hello))
    assert [(t, b) for t, b in ours.extensions] == [(t, b) for t, b in seen.extensions if t not in dropped]
    if name != "apple-ats":  # apple-ats carries ATS's suites instead of Safari's
        assert ours.suites == seen.suites
    if not dropped:
        assert reencode(profile, hello) == hello

    def inferred(field: str) -> bool:  # why the fact is inferred, said for the field or a field above it
        return any(field == key or field.startswith(key + ".") for key, _ in profile.inferred)

    for ext_type in dropped:
        assert inferred(f"hello.{'alpn' if ext_type == 16 else 'extensions'}") or inferred("hello.sni")


def test_masking_hides_only_what_a_client_draws_anew() -> None:
    """Two captures of Thunderbird differ in their random bytes, key shares and GREASE ECH payload, and compare
    equal masked; the same hello with two suites swapped does not."""
    capture = catalogue().profiles["thunderbird"].capture
    assert capture is not None
    first, second = (captured(capture, key) for key in ("thunderbird-bookworm", "thunderbird-trixie"))
    assert parse_hello(first).ext(0xFE0D) != parse_hello(second).ext(0xFE0D)
    assert masked(first) == masked(second)
    assert masked(first) != masked(first.replace(bytes.fromhex("c02bc02f"), bytes.fromhex("c02fc02b"), 1))


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
