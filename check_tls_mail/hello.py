"""Client simulation at the ClientHello: encode one client's hello byte for byte, read the server's answer.

Wire layer below the probes (pure Python, struct and bytes): ``encode_client_hello``
builds the TLS record(s) of a ``HelloSpec``; ``exchange_hello`` sends it on a
socket already past any STARTTLS dialogue and reads the server's flight, bounded,
until it can decide; the result is one typed ``ServerAnswer``, never an exception.
"""

from __future__ import annotations

import enum
import os
import socket
import struct
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

# ---------------------------------------------------------------------------
# Code points (RFC 8446, RFC 5246 and the IANA TLS registries)
# ---------------------------------------------------------------------------

TLS10, TLS11, TLS12, TLS13 = 0x0301, 0x0302, 0x0303, 0x0304
VERSION_NAMES = {0x0300: "SSL 3.0", TLS10: "TLS 1.0", TLS11: "TLS 1.1", TLS12: "TLS 1.2", TLS13: "TLS 1.3"}

#: RFC 8701 GREASE values (cipher suites, extensions, groups, versions, signature algorithms).
GREASE = frozenset(0x0A0A + 0x1010 * i for i in range(16))

#: TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746): offers secure renegotiation like the extension.
RENEGOTIATION_SCSV = 0x00FF
#: TLS_FALLBACK_SCSV (RFC 7507).
FALLBACK_SCSV = 0x5600

#: ServerHello.random of a HelloRetryRequest (RFC 8446 section 4.1.3).
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
#: Last 8 bytes of ServerHello.random when a TLS 1.3 server negotiates TLS 1.2 / 1.1 or below.
DOWNGRADE_TLS12 = b"DOWNGRD\x01"
DOWNGRADE_TLS11 = b"DOWNGRD\x00"


class ContentType(enum.IntEnum):
    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23


class HandshakeType(enum.IntEnum):
    HELLO_REQUEST = 0
    CLIENT_HELLO = 1
    SERVER_HELLO = 2
    NEW_SESSION_TICKET = 4
    ENCRYPTED_EXTENSIONS = 8
    CERTIFICATE = 11
    SERVER_KEY_EXCHANGE = 12
    CERTIFICATE_REQUEST = 13
    SERVER_HELLO_DONE = 14
    CERTIFICATE_STATUS = 22


class ExtensionType(enum.IntEnum):
    """Extensions the encoder builds from a ``HelloSpec``'s fields (others travel as raw bytes)."""

    SERVER_NAME = 0
    STATUS_REQUEST = 5
    SUPPORTED_GROUPS = 10
    EC_POINT_FORMATS = 11
    SIGNATURE_ALGORITHMS = 13
    HEARTBEAT = 15
    APPLICATION_LAYER_PROTOCOL_NEGOTIATION = 16
    SIGNED_CERTIFICATE_TIMESTAMP = 18
    PADDING = 21
    ENCRYPT_THEN_MAC = 22
    EXTENDED_MASTER_SECRET = 23
    COMPRESS_CERTIFICATE = 27
    RECORD_SIZE_LIMIT = 28
    DELEGATED_CREDENTIAL = 34
    SESSION_TICKET = 35
    SUPPORTED_VERSIONS = 43
    PSK_KEY_EXCHANGE_MODES = 45
    SIGNATURE_ALGORITHMS_CERT = 50
    KEY_SHARE = 51
    RENEGOTIATION_INFO = 0xFF01


class AlertLevel(enum.IntEnum):
    WARNING = 1
    FATAL = 2


class AlertDescription(enum.IntEnum):
    """Every alert of RFC 8446 section 6 and RFC 5246 section 7.2 (and the IANA registry's later ones)."""

    CLOSE_NOTIFY = 0
    UNEXPECTED_MESSAGE = 10
    BAD_RECORD_MAC = 20
    DECRYPTION_FAILED = 21  # RFC 5246, reserved in TLS 1.3
    RECORD_OVERFLOW = 22
    DECOMPRESSION_FAILURE = 30  # RFC 5246, reserved in TLS 1.3
    HANDSHAKE_FAILURE = 40
    NO_CERTIFICATE = 41  # SSL 3.0, reserved
    BAD_CERTIFICATE = 42
    UNSUPPORTED_CERTIFICATE = 43
    CERTIFICATE_REVOKED = 44
    CERTIFICATE_EXPIRED = 45
    CERTIFICATE_UNKNOWN = 46
    ILLEGAL_PARAMETER = 47
    UNKNOWN_CA = 48
    ACCESS_DENIED = 49
    DECODE_ERROR = 50
    DECRYPT_ERROR = 51
    EXPORT_RESTRICTION = 60  # RFC 5246, reserved
    PROTOCOL_VERSION = 70
    INSUFFICIENT_SECURITY = 71
    INTERNAL_ERROR = 80
    INAPPROPRIATE_FALLBACK = 86
    USER_CANCELED = 90
    NO_RENEGOTIATION = 100  # RFC 5246, reserved in TLS 1.3
    MISSING_EXTENSION = 109
    UNSUPPORTED_EXTENSION = 110
    CERTIFICATE_UNOBTAINABLE = 111  # RFC 6066, reserved in TLS 1.3
    UNRECOGNIZED_NAME = 112
    BAD_CERTIFICATE_STATUS_RESPONSE = 113
    BAD_CERTIFICATE_HASH_VALUE = 114  # RFC 6066, reserved in TLS 1.3
    UNKNOWN_PSK_IDENTITY = 115
    CERTIFICATE_REQUIRED = 116
    GENERAL_ERROR = 117
    NO_APPLICATION_PROTOCOL = 120
    ECH_REQUIRED = 121


# ---------------------------------------------------------------------------
# The hello a client sends
# ---------------------------------------------------------------------------


class HelloSpec(NamedTuple):
    """Everything one client puts in its ClientHello, in its order.

    ``extensions`` is the order of extension types on the wire and decides
    which are sent: each type in ``ExtensionType`` is built from the fields
    below; any other type (GREASE, ALPS, an ECH GREASE payload, heartbeat...)
    must have its body in ``raw_extensions``. SERVER_NAME and ALPN are skipped
    while ``server_name`` / ``alpn`` is None; PADDING follows the RFC 7685
    rule of OpenSSL, BoringSSL and NSS (pad a hello of 256-511 bytes to 512).

    Key shares are generated for each group of ``key_share_groups`` that can be
    made here (X25519, X448, P-256, P-384, P-521, the ML-KEM hybrids when
    cryptography has ML-KEM; GREASE gets one zero byte). A group that cannot be
    generated (e.g. an FFDHE group) is left out of key_share but stays in
    supported_groups, so a server that wants it asks with a HelloRetryRequest,
    which counts as accepted: see ``shared_groups``.
    """

    cipher_suites: tuple[int, ...]
    extensions: tuple[int, ...]
    legacy_version: int = TLS12
    record_version: int = TLS10
    #: None: no supported_versions extension (a TLS <= 1.2 client).
    supported_versions: tuple[int, ...] | None = None
    #: The lowest version the client accepts in a ServerHello (not on the wire).
    min_version: int = TLS10
    compression_methods: tuple[int, ...] = (0,)
    session_id_length: int = 32
    server_name: str | None = None
    supported_groups: tuple[int, ...] = ()
    key_share_groups: tuple[int, ...] = ()
    ec_point_formats: tuple[int, ...] = (0,)
    signature_algorithms: tuple[int, ...] = ()
    signature_algorithms_cert: tuple[int, ...] = ()
    alpn: tuple[str, ...] | None = None
    psk_key_exchange_modes: tuple[int, ...] = (1,)
    record_size_limit: int = 0x4001
    compress_certificate: tuple[int, ...] = ()
    delegated_credential: tuple[int, ...] = ()
    heartbeat_mode: int = 1
    raw_extensions: tuple[tuple[int, bytes], ...] = ()

    def sent_versions(self) -> frozenset[int]:
        """The versions the hello offers on the wire (supported_versions, else up to legacy_version)."""
        if self.supported_versions is not None:
            return frozenset(v for v in self.supported_versions if v not in GREASE)
        return frozenset(range(0x0300, self.legacy_version + 1))

    def offered_versions(self) -> frozenset[int]:
        """The versions a ServerHello may carry for this client (those sent, from ``min_version`` on)."""
        return frozenset(v for v in self.sent_versions() if v >= self.min_version)

    def raw(self, ext_type: int) -> bytes | None:
        for code, body in self.raw_extensions:
            if code == ext_type:
                return body
        return None


class KeyShare(NamedTuple):
    group: int
    key_exchange: bytes


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


# Key shares: X25519 and X448 raw, NIST curves as uncompressed points (RFC 8446
# section 4.2.8.2), hybrids as draft-ietf-tls-ecdhe-mlkem concatenations.
_X25519, _X448, _P256, _P384, _P521 = 0x001D, 0x001E, 0x0017, 0x0018, 0x0019
_SECP256R1MLKEM768, _X25519MLKEM768, _SECP384R1MLKEM1024 = 0x11EB, 0x11EC, 0x11ED


def _ecdh_public(group: int) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519

    if group == _X25519:
        return x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    if group == _X448:
        return x448.X448PrivateKey.generate().public_key().public_bytes_raw()
    curve: ec.EllipticCurve = {_P256: ec.SECP256R1(), _P384: ec.SECP384R1(), _P521: ec.SECP521R1()}[group]
    return (
        ec.generate_private_key(curve)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def _mlkem_public(size: int) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import mlkem  # type: ignore[attr-defined,unused-ignore]

    key = mlkem.MLKEM768PrivateKey.generate() if size == 768 else mlkem.MLKEM1024PrivateKey.generate()
    public: bytes = key.public_key().public_bytes_raw()
    return public


def _have_mlkem() -> bool:
    try:
        from cryptography.hazmat.primitives.asymmetric import mlkem  # type: ignore[attr-defined,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


_SHARE_MAKERS: dict[int, Callable[[], bytes]] = {
    _X25519: lambda: _ecdh_public(_X25519),
    _X448: lambda: _ecdh_public(_X448),
    _P256: lambda: _ecdh_public(_P256),
    _P384: lambda: _ecdh_public(_P384),
    _P521: lambda: _ecdh_public(_P521),
}
_HYBRID_MAKERS: dict[int, Callable[[], bytes]] = {
    _X25519MLKEM768: lambda: _mlkem_public(768) + _ecdh_public(_X25519),
    _SECP256R1MLKEM768: lambda: _ecdh_public(_P256) + _mlkem_public(768),
    _SECP384R1MLKEM1024: lambda: _ecdh_public(_P384) + _mlkem_public(1024),
}


def can_share(group: int) -> bool:
    """True when a key share for ``group`` can be generated here."""
    if group in GREASE or group in _SHARE_MAKERS:
        return True
    return group in _HYBRID_MAKERS and _have_mlkem()


def shared_groups(spec: HelloSpec) -> tuple[int, ...]:
    """The groups of ``spec.key_share_groups`` that really get a key share (GREASE excluded)."""
    return tuple(g for g in spec.key_share_groups if g not in GREASE and can_share(g))


def make_key_shares(spec: HelloSpec) -> tuple[KeyShare, ...]:
    """Fresh key shares in the client's order (the private keys are thrown away)."""
    shares = []
    for group in spec.key_share_groups:
        if group in GREASE:
            shares.append(KeyShare(group, b"\x00"))  # as BoringSSL sends it
        elif group in _SHARE_MAKERS:
            shares.append(KeyShare(group, _SHARE_MAKERS[group]()))
        elif group in _HYBRID_MAKERS and _have_mlkem():
            shares.append(KeyShare(group, _HYBRID_MAKERS[group]()))
    return tuple(shares)


def _host_name(name: str) -> bytes:
    """A HostName for SNI: A-labels, no trailing dot (RFC 6066 section 3); odd ASCII names go as they are."""
    name = name.rstrip(".")
    try:
        return name.encode("idna")
    except UnicodeError:
        if name.isascii():
            return name.encode("ascii")
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

#: Largest TLSPlaintext fragment (RFC 8446 section 5.1).
MAX_FRAGMENT = 1 << 14


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


# ---------------------------------------------------------------------------
# What the server answers
# ---------------------------------------------------------------------------


class Alert(NamedTuple):
    level: int
    code: int

    @property
    def description(self) -> AlertDescription | None:
        try:
            return AlertDescription(self.code)
        except ValueError:
            return None

    @property
    def fatal(self) -> bool:
        return self.level != AlertLevel.WARNING

    def __str__(self) -> str:
        name = self.description.name.lower() if self.description is not None else f"alert {self.code}"
        return name if self.fatal else f"{name} (warning)"


class Problem(enum.Enum):
    """Why a client would abort on a server's hello although the server answered it."""

    VERSION_NOT_OFFERED = "version not offered"
    #: Offered on the wire, but below what the client accepts (e.g. TLS 1.0 at OpenSSL security level 2).
    VERSION_BELOW_MINIMUM = "version below the client's minimum"
    SUITE_NOT_OFFERED = "cipher suite not offered"
    SUITE_NOT_FOR_VERSION = "cipher suite unusable with the negotiated version"
    GROUP_NOT_OFFERED = "group not offered"
    GROUP_WITHOUT_KEY_SHARE = "TLS 1.3 group without a key share from the client"
    COMPRESSION_NOT_OFFERED = "compression method not offered"
    SESSION_ID_MISMATCH = "TLS 1.3 legacy_session_id_echo differs"
    DOWNGRADE_SENTINEL = "downgrade sentinel in the random of a TLS 1.3 server"
    EXTENSION_NOT_OFFERED = "extension the client did not send"
    ALPN_NOT_OFFERED = "application protocol not offered"
    HRR_GROUP_ALREADY_SHARED = "retry asks for a group the client already sent a key share for"


class ChoiceProblem(NamedTuple):
    kind: Problem
    value: int


class ServerHelloAnswer(NamedTuple):
    """The server chose: a ServerHello (for TLS <= 1.2 with the Certificate message that followed it)."""

    version: int
    cipher_suite: int
    #: TLS 1.3: the key_share group. TLS <= 1.2: None (the ECDHE curve is in ServerKeyExchange).
    group: int | None
    compression: int
    extensions: tuple[int, ...]
    ec_point_formats: tuple[int, ...] | None
    alpn: str | None
    #: DER certificates as sent, leaf first, cut at MAX_CHAIN; None when not seen (TLS 1.3, or cut short).
    certificates: tuple[bytes, ...] | None
    chain_length: int
    problems: tuple[ChoiceProblem, ...]
    warnings: tuple[Alert, ...] = ()

    @property
    def accepted(self) -> bool:
        return not self.problems


class HelloRetry(NamedTuple):
    """A TLS 1.3 HelloRetryRequest: accepted when it asks for a group the client offers without a share."""

    group: int | None
    cipher_suite: int
    cookie: bool
    problems: tuple[ChoiceProblem, ...]

    @property
    def accepted(self) -> bool:
        return not self.problems


class AlertAnswer(NamedTuple):
    """The server refused the hello with an alert."""

    alert: Alert

    @property
    def accepted(self) -> bool:
        return False


class Ending(enum.Enum):
    CLOSED = "closed the connection"
    RESET = "reset the connection"
    TIMEOUT = "did not answer in time"


class ConnectionEnded(NamedTuple):
    """No decision: the connection ended (``received`` bytes in; 0 means before any answer)."""

    how: Ending
    received: int

    @property
    def accepted(self) -> bool:
        return False


class NotTls(NamedTuple):
    """The server answered, but not with TLS (e.g. a plaintext ``500 ...`` reply)."""

    preview: bytes

    @property
    def accepted(self) -> bool:
        return False


class Malformation(enum.Enum):
    RECORD_TOO_LONG = "record longer than TLS allows"
    TOO_MUCH_DATA = "flight larger than the read limit"
    MESSAGE_TOO_LONG = "handshake message larger than the read limit"
    UNEXPECTED_RECORD = "unexpected record type"
    UNEXPECTED_MESSAGE = "unexpected handshake message"
    BAD_ALERT = "malformed alert record"
    BAD_SERVER_HELLO = "malformed ServerHello"
    BAD_CERTIFICATE_MESSAGE = "malformed Certificate message"


class Malformed(NamedTuple):
    """TLS records that break the protocol (``detail``: the offending type or length)."""

    what: Malformation
    detail: int

    @property
    def accepted(self) -> bool:
        return False


ServerAnswer = ServerHelloAnswer | HelloRetry | AlertAnswer | ConnectionEnded | NotTls | Malformed

#: Most bytes read from the server in one hello exchange.
MAX_FLIGHT = 256 * 1024
#: TLSCiphertext may exceed TLSPlaintext's 2^14 by 2048 (RFC 5246 section 6.2.3): the lenient bound.
MAX_RECORD = MAX_FRAGMENT + 2048
#: Certificates kept from a chain; a longer chain is counted, not kept.
MAX_CHAIN = 10


class _Malformed(Exception):
    def __init__(self, what: Malformation, detail: int = 0) -> None:
        super().__init__(what.value)
        self.what = what
        self.detail = detail


class _Cursor:
    """Bounded reads from one message; any overrun raises ``_Malformed(what)``."""

    def __init__(self, data: bytes, what: Malformation) -> None:
        self.data = data
        self.at = 0
        self.what = what

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise _Malformed(self.what, len(self.data))
        piece = self.data[self.at : self.at + size]
        self.at += size
        return piece

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        value: int = struct.unpack("!H", self.take(2))[0]
        return value

    def u24(self) -> int:
        return int.from_bytes(self.take(3), "big")

    def vec8(self) -> bytes:
        return self.take(self.u8())

    def vec16(self) -> bytes:
        return self.take(self.u16())

    def vec24(self) -> bytes:
        return self.take(self.u24())

    def done(self) -> bool:
        return self.at == len(self.data)


def _codes(data: bytes, what: Malformation) -> tuple[int, ...]:
    if len(data) % 2:
        raise _Malformed(what, len(data))
    return tuple(struct.unpack(f"!{len(data) // 2}H", data))


class _ParsedHello(NamedTuple):
    version: int
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression: int
    extensions: dict[int, bytes]
    order: tuple[int, ...]


def _parse_server_hello(body: bytes) -> _ParsedHello:
    what = Malformation.BAD_SERVER_HELLO
    cur = _Cursor(body, what)
    legacy = cur.u16()
    random = cur.take(32)
    session_id = cur.vec8()
    suite = cur.u16()
    compression = cur.u8()
    extensions: dict[int, bytes] = {}
    order: list[int] = []
    if not cur.done():
        block = _Cursor(cur.vec16(), what)
        while not block.done():
            ext_type = block.u16()
            if ext_type in extensions:
                raise _Malformed(what, ext_type)
            extensions[ext_type] = block.vec16()
            order.append(ext_type)
    if not cur.done():
        raise _Malformed(what, len(body))
    version = legacy
    if ExtensionType.SUPPORTED_VERSIONS in extensions:
        chosen = _Cursor(extensions[ExtensionType.SUPPORTED_VERSIONS], what)
        version = chosen.u16()
        if not chosen.done():
            raise _Malformed(what, ExtensionType.SUPPORTED_VERSIONS)
    return _ParsedHello(version, legacy, random, session_id, suite, compression, extensions, tuple(order))


def _is_tls13_suite(suite: int) -> bool:
    return 0x1301 <= suite <= 0x13FF


class FlightReader:
    """Incremental reader of the server's first flight; ``feed`` returns an answer once it can decide.

    Pure (no socket): records may arrive in any fragments, handshake messages
    may span records. Every input yields a ``ServerAnswer`` or ``None`` (need
    more), never an exception.
    """

    def __init__(self, spec: HelloSpec, session_id: bytes, shared: tuple[int, ...] | None = None) -> None:
        self.spec = spec
        self.session_id = session_id
        self.shared = shared_groups(spec) if shared is None else shared
        self.received = 0
        self._buffer = b""
        self._handshake = b""
        self._hello: ServerHelloAnswer | None = None
        self._warnings: list[Alert] = []

    def feed(self, data: bytes) -> ServerAnswer | None:
        try:
            return self._feed(data)
        except _Malformed as exc:
            return Malformed(exc.what, exc.detail)

    def end(self, how: Ending) -> ServerAnswer:
        """The connection ended (closed, reset, timed out) before a decision."""
        if self._hello is not None:
            return self._hello  # TLS <= 1.2 cut after the ServerHello: the choice is known
        if self._warnings and how is Ending.CLOSED:
            return AlertAnswer(self._warnings[-1])
        return ConnectionEnded(how, self.received)

    def _feed(self, data: bytes) -> ServerAnswer | None:
        first = self.received == 0
        self.received += len(data)
        if self.received > MAX_FLIGHT:
            raise _Malformed(Malformation.TOO_MUCH_DATA, self.received)
        self._buffer += data
        if first and data and not self._looks_like_tls(self._buffer):
            return NotTls(self._buffer[:200])
        while len(self._buffer) >= 5:
            content_type = self._buffer[0]
            size = int.from_bytes(self._buffer[3:5], "big")
            if not self._looks_like_tls(self._buffer):
                raise _Malformed(Malformation.UNEXPECTED_RECORD, content_type)
            if size > MAX_RECORD:
                raise _Malformed(Malformation.RECORD_TOO_LONG, size)
            if len(self._buffer) < 5 + size:
                return None
            fragment = self._buffer[5 : 5 + size]
            self._buffer = self._buffer[5 + size :]
            answer = self._record(content_type, fragment)
            if answer is not None:
                return answer
        return None

    @staticmethod
    def _looks_like_tls(buffer: bytes) -> bool:
        if buffer[0] not in (20, 21, 22, 23):
            return False
        return len(buffer) < 2 or buffer[1] == 3

    def _record(self, content_type: int, fragment: bytes) -> ServerAnswer | None:
        if content_type == ContentType.ALERT:
            if len(fragment) < 2 or len(fragment) % 2:
                raise _Malformed(Malformation.BAD_ALERT, len(fragment))
            for i in range(0, len(fragment), 2):
                alert = Alert(fragment[i], fragment[i + 1])
                if alert.fatal or alert.code == AlertDescription.CLOSE_NOTIFY:
                    return AlertAnswer(alert)
                self._warnings.append(alert)
            return None
        if content_type == ContentType.HANDSHAKE:
            self._handshake += fragment
            return self._messages()
        if content_type == ContentType.CHANGE_CIPHER_SPEC and self._hello is not None:
            return None  # middlebox compatibility (RFC 8446 appendix D.4)
        raise _Malformed(Malformation.UNEXPECTED_RECORD, content_type)

    def _messages(self) -> ServerAnswer | None:
        while len(self._handshake) >= 4:
            msg_type = self._handshake[0]
            size = int.from_bytes(self._handshake[1:4], "big")
            if size > MAX_FLIGHT:
                raise _Malformed(Malformation.MESSAGE_TOO_LONG, size)
            if len(self._handshake) < 4 + size:
                return None
            body = self._handshake[4 : 4 + size]
            self._handshake = self._handshake[4 + size :]
            answer = self._message(msg_type, body)
            if answer is not None:
                return answer
        return None

    def _message(self, msg_type: int, body: bytes) -> ServerAnswer | None:
        if self._hello is None:
            if msg_type == HandshakeType.HELLO_REQUEST and not body:
                return None  # ignored during a handshake (RFC 5246 section 7.4.1.1)
            if msg_type != HandshakeType.SERVER_HELLO:
                raise _Malformed(Malformation.UNEXPECTED_MESSAGE, msg_type)
            return self._server_hello(_parse_server_hello(body))
        # TLS <= 1.2 after the ServerHello: wait for the Certificate message.
        if msg_type == HandshakeType.CERTIFICATE:
            chain, count = self._certificates(body)
            return self._hello._replace(certificates=chain, chain_length=count)
        if msg_type in (HandshakeType.SERVER_KEY_EXCHANGE, HandshakeType.SERVER_HELLO_DONE):
            return self._hello._replace(certificates=())  # anonymous or PSK suite: no certificate
        if msg_type in (HandshakeType.CERTIFICATE_STATUS, HandshakeType.CERTIFICATE_REQUEST):
            return None
        raise _Malformed(Malformation.UNEXPECTED_MESSAGE, msg_type)

    @staticmethod
    def _certificates(body: bytes) -> tuple[tuple[bytes, ...], int]:
        what = Malformation.BAD_CERTIFICATE_MESSAGE
        cur = _Cursor(body, what)
        entries = _Cursor(cur.vec24(), what)
        if not cur.done():
            raise _Malformed(what, len(body))
        chain: list[bytes] = []
        count = 0
        while not entries.done():
            der = entries.vec24()
            count += 1
            if len(chain) < MAX_CHAIN:
                chain.append(der)
        return tuple(chain), count

    def _server_hello(self, hello: _ParsedHello) -> ServerAnswer | None:
        spec = self.spec
        problems: list[ChoiceProblem] = []

        def problem(kind: Problem, value: int) -> None:
            problems.append(ChoiceProblem(kind, value))

        if hello.random == HRR_RANDOM:
            return self._retry(hello)
        if hello.version not in spec.sent_versions():
            problem(Problem.VERSION_NOT_OFFERED, hello.version)
        elif hello.version < spec.min_version:
            problem(Problem.VERSION_BELOW_MINIMUM, hello.version)
        if hello.cipher_suite not in spec.cipher_suites or hello.cipher_suite in GREASE:
            problem(Problem.SUITE_NOT_OFFERED, hello.cipher_suite)
        elif _is_tls13_suite(hello.cipher_suite) != (hello.version == TLS13):
            problem(Problem.SUITE_NOT_FOR_VERSION, hello.cipher_suite)
        if hello.compression not in spec.compression_methods:
            problem(Problem.COMPRESSION_NOT_OFFERED, hello.compression)
        offered_exts = set(spec.extensions)
        if RENEGOTIATION_SCSV in spec.cipher_suites:
            offered_exts.add(ExtensionType.RENEGOTIATION_INFO)
        for ext in hello.order:
            if ext not in offered_exts:
                problem(Problem.EXTENSION_NOT_OFFERED, ext)
        group: int | None = None
        if hello.version == TLS13:
            if hello.session_id != self.session_id:
                problem(Problem.SESSION_ID_MISMATCH, len(hello.session_id))
            if ExtensionType.KEY_SHARE in hello.extensions:
                share = _Cursor(hello.extensions[ExtensionType.KEY_SHARE], Malformation.BAD_SERVER_HELLO)
                group = share.u16()
                share.vec16()
                if group not in spec.supported_groups:
                    problem(Problem.GROUP_NOT_OFFERED, group)
                elif group not in self.shared:
                    problem(Problem.GROUP_WITHOUT_KEY_SHARE, group)
        elif spec.offered_versions() and max(spec.offered_versions()) == TLS13:
            tail = hello.random[-8:]
            if (hello.version == TLS12 and tail == DOWNGRADE_TLS12) or (
                hello.version < TLS12 and tail in (DOWNGRADE_TLS12, DOWNGRADE_TLS11)
            ):
                problem(Problem.DOWNGRADE_SENTINEL, hello.version)
        formats: tuple[int, ...] | None = None
        if ExtensionType.EC_POINT_FORMATS in hello.extensions:
            formats = tuple(
                _Cursor(hello.extensions[ExtensionType.EC_POINT_FORMATS], Malformation.BAD_SERVER_HELLO).vec8()
            )
        alpn: str | None = None
        if ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION in hello.extensions:
            cur = _Cursor(
                hello.extensions[ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION], Malformation.BAD_SERVER_HELLO
            )
            chosen = _Cursor(cur.vec16(), Malformation.BAD_SERVER_HELLO).vec8()
            alpn = chosen.decode("ascii", "backslashreplace")
            if spec.alpn is not None and alpn not in spec.alpn:
                problem(Problem.ALPN_NOT_OFFERED, len(chosen))
        answer = ServerHelloAnswer(
            version=hello.version,
            cipher_suite=hello.cipher_suite,
            group=group,
            compression=hello.compression,
            extensions=hello.order,
            ec_point_formats=formats,
            alpn=alpn,
            certificates=None,
            chain_length=0,
            problems=tuple(problems),
            warnings=tuple(self._warnings),
        )
        if hello.version >= TLS13 or problems:
            return answer  # the rest of a TLS 1.3 flight is encrypted; a broken choice decides already
        self._hello = answer
        return self._messages()

    def _retry(self, hello: _ParsedHello) -> HelloRetry:
        spec = self.spec
        problems: list[ChoiceProblem] = []
        group: int | None = None
        if ExtensionType.KEY_SHARE in hello.extensions:
            cur = _Cursor(hello.extensions[ExtensionType.KEY_SHARE], Malformation.BAD_SERVER_HELLO)
            group = cur.u16()
            if not cur.done():
                raise _Malformed(Malformation.BAD_SERVER_HELLO, ExtensionType.KEY_SHARE)
            if group not in spec.supported_groups or group in GREASE:
                problems.append(ChoiceProblem(Problem.GROUP_NOT_OFFERED, group))
            elif group in self.shared:
                problems.append(ChoiceProblem(Problem.HRR_GROUP_ALREADY_SHARED, group))
        if hello.version != TLS13 or TLS13 not in spec.offered_versions():
            problems.append(ChoiceProblem(Problem.VERSION_NOT_OFFERED, hello.version))
        if hello.cipher_suite not in spec.cipher_suites or not _is_tls13_suite(hello.cipher_suite):
            problems.append(ChoiceProblem(Problem.SUITE_NOT_OFFERED, hello.cipher_suite))
        if hello.session_id != self.session_id:
            problems.append(ChoiceProblem(Problem.SESSION_ID_MISMATCH, len(hello.session_id)))
        return HelloRetry(group, hello.cipher_suite, 44 in hello.extensions, tuple(problems))


# ---------------------------------------------------------------------------
# On a socket
# ---------------------------------------------------------------------------


class Deadline(Protocol):
    """What ``exchange_hello`` needs of a deadline (wire.Deadline has it)."""

    def remaining(self) -> float: ...


class HelloExchange(NamedTuple):
    """What was sent and what came back, with the time it took."""

    answer: ServerAnswer
    sent: int
    seconds: float


def exchange_hello(
    sock: socket.socket,
    spec: HelloSpec,
    deadline: Deadline,
    random: bytes | None = None,
    session_id: bytes | None = None,
) -> HelloExchange:
    """Send ``spec``'s hello on a connected socket and read until the server's answer decides.

    The socket must be past any STARTTLS dialogue with nothing buffered. The
    whole step is bounded by ``deadline`` and by ``MAX_FLIGHT`` bytes; the
    socket is left open (the caller closes it). Never raises for anything the
    server does.
    """
    started = time.monotonic()
    session_id = os.urandom(spec.session_id_length) if session_id is None else session_id
    hello = encode_client_hello(spec, random, session_id)
    reader = FlightReader(spec, session_id)

    def done(answer: ServerAnswer) -> HelloExchange:
        return HelloExchange(answer, len(hello), time.monotonic() - started)

    try:
        sock.settimeout(max(deadline.remaining(), 0.001))
        sock.sendall(hello)
    except TimeoutError:
        return done(reader.end(Ending.TIMEOUT))
    except ConnectionResetError:
        return done(reader.end(Ending.RESET))
    except OSError:
        return done(reader.end(Ending.CLOSED))
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            return done(reader.end(Ending.TIMEOUT))
        try:
            sock.settimeout(remaining)
            chunk = sock.recv(MAX_RECORD + 5)
        except TimeoutError:
            return done(reader.end(Ending.TIMEOUT))
        except ConnectionResetError:
            return done(reader.end(Ending.RESET))
        except OSError:
            return done(reader.end(Ending.CLOSED))
        if not chunk:
            return done(reader.end(Ending.CLOSED))
        answer = reader.feed(chunk)
        if answer is not None:
            return done(answer)
