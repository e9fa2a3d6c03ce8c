"""TLS code points and record limits the hello encoder and the flight reader share (RFC 8446, RFC 5246, IANA).

Wire layer, data only: GREASE, SCSVs, record and handshake types, extension types, alerts (versions: versions.py).
"""

from __future__ import annotations

import enum

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


#: Largest TLSPlaintext fragment (RFC 8446 section 5.1).
MAX_FRAGMENT = 1 << 14
