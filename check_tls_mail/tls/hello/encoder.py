"""The ClientHello encoder: a ``HelloSpec`` into TLS record(s), byte for byte.

Wire layer (pure Python, struct and bytes); raises ValueError only for a spec that cannot be encoded.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable

from ..codepoints import MAX_FRAGMENT, ContentType, ExtensionType, HandshakeType
from .spec import HelloSpec, KeyShare, make_key_shares


def _u8(value: int) -> bytes:
    return struct.pack("!B", value)


def _u16(value: int) -> bytes:
    return struct.pack("!H", value)


def _u24(value: int) -> bytes:
    return struct.pack("!I", value)[1:]


def _vec8(body: bytes) -> bytes:
    if len(body) > 0xFF:
        raise ValueError("vector too long for a one-byte length")
    return _u8(len(body)) + body


def _vec16(body: bytes) -> bytes:
    if len(body) > 0xFFFF:
        raise ValueError("vector too long for a two-byte length")
    return _u16(len(body)) + body


def _codes16(codes: Iterable[int]) -> bytes:
    return b"".join(_u16(c) for c in codes)


def _host_name(name: str) -> bytes:
    """A HostName for SNI: A-labels, no trailing dot (RFC 6066 section 3); odd ASCII names go as they are."""
    name = name.rstrip(".")
    if name.isascii():  # as it is, without the idna codec's import (which gives the same bytes where it takes one)
        return name.encode("ascii")
    try:
        return name.encode("idna")
    except UnicodeError:
        raise ValueError(f"server name {name!r} cannot be sent as SNI") from None


def _server_name(spec: HelloSpec, _shares: tuple[KeyShare, ...]) -> bytes | None:
    if spec.server_name is None:
        return None
    name = _host_name(spec.server_name)
    return _vec16(_u8(0) + _vec16(name))  # ServerNameList of one host_name (RFC 6066 section 3)


def _alpn(spec: HelloSpec, _shares: tuple[KeyShare, ...]) -> bytes | None:
    if spec.alpn is None:
        return None
    return _vec16(b"".join(_vec8(p.encode("ascii")) for p in spec.alpn))


def _key_share(_spec: HelloSpec, shares: tuple[KeyShare, ...]) -> bytes:
    return _vec16(b"".join(_u16(s.group) + _vec16(s.key_exchange) for s in shares))


def _fixed(body: bytes) -> Callable[[HelloSpec, tuple[KeyShare, ...]], bytes]:
    return lambda _spec, _shares: body


_BUILDERS: dict[int, Callable[[HelloSpec, tuple[KeyShare, ...]], bytes | None]] = {
    ExtensionType.SERVER_NAME: _server_name,
    # status_type ocsp(1), empty responder_id_list and request_extensions (RFC 6066 section 8)
    ExtensionType.STATUS_REQUEST: _fixed(b"\x01\x00\x00\x00\x00"),
    ExtensionType.SUPPORTED_GROUPS: lambda s, _k: _vec16(_codes16(s.supported_groups)),
    ExtensionType.EC_POINT_FORMATS: lambda s, _k: _vec8(bytes(s.ec_point_formats)),
    ExtensionType.SIGNATURE_ALGORITHMS: lambda s, _k: _vec16(_codes16(s.signature_algorithms)),
    ExtensionType.HEARTBEAT: lambda s, _k: _u8(s.heartbeat_mode),
    ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION: _alpn,
    ExtensionType.SIGNED_CERTIFICATE_TIMESTAMP: _fixed(b""),
    ExtensionType.ENCRYPT_THEN_MAC: _fixed(b""),
    ExtensionType.EXTENDED_MASTER_SECRET: _fixed(b""),
    ExtensionType.COMPRESS_CERTIFICATE: lambda s, _k: _vec8(_codes16(s.compress_certificate)),
    ExtensionType.RECORD_SIZE_LIMIT: lambda s, _k: _u16(s.record_size_limit),
    ExtensionType.DELEGATED_CREDENTIAL: lambda s, _k: _vec16(_codes16(s.delegated_credential)),
    ExtensionType.SESSION_TICKET: _fixed(b""),  # empty: no ticket to resume (RFC 5077)
    ExtensionType.SUPPORTED_VERSIONS: lambda s, _k: _vec8(_codes16(s.supported_versions or ())),
    ExtensionType.PSK_KEY_EXCHANGE_MODES: lambda s, _k: _vec8(bytes(s.psk_key_exchange_modes)),
    ExtensionType.SIGNATURE_ALGORITHMS_CERT: lambda s, _k: _vec16(_codes16(s.signature_algorithms_cert)),
    ExtensionType.KEY_SHARE: _key_share,
    ExtensionType.RENEGOTIATION_INFO: _fixed(b"\x00"),  # empty renegotiated_connection (RFC 5746)
}


def check_spec(spec: HelloSpec) -> None:
    """Raise ValueError when the spec cannot be encoded (a fault of the profile data, not the server)."""
    if len(set(spec.extensions)) != len(spec.extensions):
        raise ValueError("an extension type appears twice")
    for ext in spec.extensions:
        if ext not in _BUILDERS and ext != ExtensionType.PADDING and spec.raw(ext) is None:
            raise ValueError(f"extension {ext:#06x} has no builder and no raw body")
    if spec.session_id_length not in range(33):
        raise ValueError("session_id is 0 to 32 bytes")
    if not spec.cipher_suites:
        raise ValueError("no cipher suite")


def _handshake(msg_type: int, body: bytes) -> bytes:
    return _u8(msg_type) + _u24(len(body)) + body


def _padding_body(length_without: int) -> bytes | None:
    """RFC 7685 padding as OpenSSL, BoringSSL and NSS add it: a 256-511 byte hello grows to 512."""
    if not 0xFF < length_without < 0x200:
        return None
    size = 0x200 - length_without
    size = size - 4 if size > 4 else 1  # never an empty extension (WebSphere intolerance)
    return bytes(size)


def encode_client_hello(
    spec: HelloSpec,
    random: bytes | None = None,
    session_id: bytes | None = None,
    key_shares: tuple[KeyShare, ...] | None = None,
) -> bytes:
    """The ClientHello as TLS records (split at 2^14 bytes), ready for ``sendall``.

    ``random`` (32 bytes) and ``session_id`` default to fresh random bytes;
    ``key_shares`` to fresh keys for the spec's key_share groups.
    """
    check_spec(spec)
    random = os.urandom(32) if random is None else random
    if len(random) != 32:
        raise ValueError("random is 32 bytes")
    session_id = os.urandom(spec.session_id_length) if session_id is None else session_id
    shares = make_key_shares(spec) if key_shares is None else key_shares
    bodies: list[tuple[int, bytes]] = []
    for ext in spec.extensions:
        if ext == ExtensionType.PADDING:
            bodies.append((ext, b""))  # placeholder, sized below
            continue
        raw = spec.raw(ext)
        body = raw if raw is not None and ext not in _BUILDERS else _BUILDERS[ext](spec, shares)
        if body is not None:
            bodies.append((ext, body))

    def message(items: list[tuple[int, bytes]]) -> bytes:
        head = (
            _u16(spec.legacy_version)
            + random
            + _vec8(session_id)
            + _vec16(_codes16(spec.cipher_suites))
            + _vec8(bytes(spec.compression_methods))
        )
        exts = b"".join(_u16(t) + _vec16(b) for t, b in items)
        return _handshake(HandshakeType.CLIENT_HELLO, head + (_vec16(exts) if items else b""))

    if any(t == ExtensionType.PADDING for t, _ in bodies):
        without = [(t, b) for t, b in bodies if t != ExtensionType.PADDING]
        pad = _padding_body(len(message(without)))
        bodies = without if pad is None else [(t, pad if t == ExtensionType.PADDING else b) for t, b in bodies]
    hello = message(bodies)
    return b"".join(
        _u8(ContentType.HANDSHAKE) + _u16(spec.record_version) + _vec16(hello[i : i + MAX_FRAGMENT])
        for i in range(0, len(hello), MAX_FRAGMENT)
    )
