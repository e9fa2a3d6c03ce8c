"""ClientHellos without the encoder: an independent parser, the captured hellos of real clients, server records.

The parser is written from RFC 8446 section 4.1.2 and RFC 5246 section 6.2.1,
not from check_tls_mail/tls/hello/encoder.py; the captures
(captured_hellos.json) are what the real clients sent; the record and
ServerHello builders make what a fake server answers.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import NamedTuple

from check_tls_mail.clients.profiles import ClientProfile
from check_tls_mail.tls.hello.encoder import encode_client_hello
from check_tls_mail.tls.hello.spec import HelloSpec, KeyShare
from check_tls_mail.tls.versions import TlsVersion

NAME = "mail.example.test"
#: Real clients' ClientHellos (hex), by profile name, with where each was captured.
CAPTURES: dict[str, dict[str, str]] = json.loads((Path(__file__).parent / "captured_hellos.json").read_text())[
    "captures"
]


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


def reencode(profile: ClientProfile, captured: bytes) -> bytes:
    """The profile's hello with what is random in the capture (random, session id, key shares, SNI) taken from it."""
    seen = parse_hello(captured)
    spec = profile.hello(server_name_of(seen))
    return encode_client_hello(spec, seen.random, seen.session_id, key_shares_of(seen))


SIMPLE = HelloSpec(
    cipher_suites=(0x1301, 0xC02B),
    extensions=(10, 13, 43, 51),
    supported_versions=(TlsVersion.TLS1_3, TlsVersion.TLS1_2),
    supported_groups=(0x1D, 0x17),
    key_share_groups=(0x1D,),
    signature_algorithms=(0x0403,),
)


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
