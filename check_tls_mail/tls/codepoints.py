"""TLS code points and record limits the hello encoder and the flight reader share (RFC 8446, RFC 5246, IANA).

Wire layer, data only: GREASE, SCSVs, record, handshake and extension types (versions and alerts: their own).
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


#: Largest TLSPlaintext fragment (RFC 8446 section 5.1).
MAX_FRAGMENT = 1 << 14
