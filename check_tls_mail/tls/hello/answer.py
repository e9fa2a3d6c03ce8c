"""What a server answers to a ClientHello, typed: its choice, a retry, an alert, an end, or not TLS.

Wire layer, data only: the flight reader makes these; the hello probe turns them into handshake outcomes.
"""

import enum

from ...records import NamedTuple
from ..alerts import ReceivedAlert
from ..codepoints import MAX_FRAGMENT


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
    SESSION_ID_TOO_LONG = "legacy session id longer than 32 bytes"
    #: TLS 1.3 without a PSK (the hellos offer none): the ServerHello must carry the server's key share.
    NO_KEY_SHARE = "TLS 1.3 ServerHello without a key share"
    # TLS <= 1.2: what the rest of the first flight must hold before a client goes on (RFC 5246 7.4.2)
    NO_CERTIFICATE = "no Certificate message for a suite that needs one"
    EMPTY_CERTIFICATE_LIST = "an empty certificate list"
    UNREADABLE_CERTIFICATE = "a server certificate that does not parse"


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
    warnings: tuple[ReceivedAlert, ...] = ()
    #: TLS <= 1.2: the flight asked for a client certificate (CertificateRequest, in the clear).
    certificate_requested: bool = False

    @property
    def accepted(self) -> bool:
        return not self.problems


class Ending(enum.Enum):
    CLOSED = "closed the connection"
    RESET = "reset the connection"
    TIMEOUT = "did not answer in time"


class CutAfterHello(NamedTuple):
    """TLS <= 1.2: the server chose (``hello``), then ended the flight before ServerHelloDone: with a fatal
    alert (``alert``) or by closing, resetting or going silent (``ending``). The client cannot go on."""

    hello: ServerHelloAnswer
    alert: ReceivedAlert | None
    ending: Ending | None

    @property
    def accepted(self) -> bool:
        return False

    @property
    def certificate_seen(self) -> bool:
        return self.hello.certificates is not None


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

    alert: ReceivedAlert

    @property
    def accepted(self) -> bool:
        return False


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


ServerAnswer = ServerHelloAnswer | CutAfterHello | HelloRetry | AlertAnswer | ConnectionEnded | NotTls | Malformed

#: Most bytes read from the server in one hello exchange.
MAX_FLIGHT = 256 * 1024
#: TLSCiphertext may exceed TLSPlaintext's 2^14 by 2048 (RFC 5246 section 6.2.3): the lenient bound.
MAX_RECORD = MAX_FRAGMENT + 2048
