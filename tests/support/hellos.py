"""ClientHellos without the encoder: an independent parser, the captured hellos of real clients, server records.

The parser is written from RFC 8446 section 4.1.2 and RFC 5246 section 6.2.1,
not from check_tls_mail/tls/hello/encoder.py; the captures
(captured_hellos.json from testssl.sh, captures/clients.json from Debian's
clients) are what the real clients sent; the record and
ServerHello builders make what a fake server answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import struct
import threading
from pathlib import Path
from typing import NamedTuple

from check_tls_mail.clients.profiles import Capture, ClientProfile
from check_tls_mail.tls.hello.encoder import encode_client_hello
from check_tls_mail.tls.hello.spec import HelloSpec, KeyShare
from check_tls_mail.tls.versions import TlsVersion

NAME = "mail.example.test"
#: Real clients' ClientHellos (hex) from testssl.sh's client simulation data, by their testssl.sh names.
CAPTURES: dict[str, dict[str, str]] = json.loads((Path(__file__).parent / "captured_hellos.json").read_text())[
    "captures"
]
#: The Debian clients' ClientHellos (scripts/capture_clients), by capture id, with package version and date.
CLIENT_CAPTURES: dict[str, dict[str, object]] = json.loads(
    (Path(__file__).resolve().parents[2] / "captures" / "clients.json").read_text()
)["captures"]


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


def captured(capture: Capture, capture_id: str | None = None) -> bytes:
    """The records of a profile's capture (or of ``capture_id``, another capture of the same file)."""
    key = capture_id or capture.id
    if capture.file == "captures/clients.json":
        return bytes.fromhex(str(CLIENT_CAPTURES[key]["hex"]))
    assert capture.file.startswith("testssl.sh"), capture.file
    return bytes.fromhex(CAPTURES[key]["hex"])


def sent_hello(ctx: ssl.SSLContext, server_name: str | None = NAME) -> bytes:
    """The records of the ClientHello an SSLContext sends (to a socket pair that reads it and closes)."""
    ours, theirs = socket.socketpair()
    records: list[bytes] = []

    def read() -> None:
        data = b""
        theirs.settimeout(5)
        with contextlib.suppress(OSError):
            while len(data) < 5 or len(data) < 5 + struct.unpack("!H", data[3:5])[0]:
                chunk = theirs.recv(65536)
                if not chunk:
                    break
                data += chunk
        records.append(data)
        theirs.close()

    reader = threading.Thread(target=read)
    reader.start()
    with ctx.wrap_socket(ours, server_hostname=server_name, do_handshake_on_connect=False) as tls:
        tls.settimeout(5)
        with contextlib.suppress(OSError):
            tls.do_handshake()
    reader.join()
    return records[0]


def is_grease(code: int) -> bool:
    """RFC 8701 GREASE values: 0x0A0A, 0x1A1A, ... 0xFAFA."""
    return code & 0x0F0F == 0x0A0A and code >> 8 == code & 0xFF


def _grease(code: int) -> int:
    """GREASE code points as one, since a client draws them anew for each connection."""
    return 0x0A0A if is_grease(code) else code


def _u16s(data: bytes) -> bytes:
    return b"".join(struct.pack("!H", _grease(struct.unpack("!H", data[i : i + 2])[0])) for i in range(0, len(data), 2))


def masked(records: bytes) -> ParsedHello:
    """A hello with what its client draws anew for each connection masked: the random, the session id and the key
    shares' bytes zeroed, GREASE values as one, the GREASE encrypted_client_hello payload (0xfe0d) zeroed. Lengths
    and everything else stay as sent, so two hellos of one client compare equal and any other difference shows."""
    hello = parse_hello(records)
    extensions = []
    for ext_type, body in hello.extensions:
        if ext_type == 51:  # key_share: each group kept, its key_exchange bytes zeroed
            body = body[:2] + b"".join(
                struct.pack("!HH", _grease(share.group), len(share.key_exchange)) + bytes(len(share.key_exchange))
                for share in key_shares_of(hello)
            )
        elif ext_type == 0xFE0D:
            body = bytes(len(body))
        elif ext_type in (10, 13):  # supported_groups, signature_algorithms: a u16 list after its length
            body = body[:2] + _u16s(body[2:])
        elif ext_type == 43 and len(body) % 2:  # supported_versions: a u8 length, then u16s
            body = body[:1] + _u16s(body[1:])
        extensions.append((_grease(ext_type), body))
    return hello._replace(
        random=bytes(len(hello.random)),
        session_id=bytes(len(hello.session_id)),
        suites=[_grease(suite) for suite in hello.suites],
        extensions=extensions,
    )


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
