"""What one probe came to, typed: ``HandshakeOutcome``.

``Accepted`` (with what was negotiated and the chain as the server sent it),
``Rejected`` (the TLS handshake failed, with its ``HandshakeCause`` and the
server's alert: a result, not an exception) or ``Failed`` (we never got to the
handshake). handshake.py makes them for full handshakes, tls/hello/ for
clients' recorded hellos; judgement/ reads them.
"""

import enum
from typing import TYPE_CHECKING

from ..errors import ServiceError
from ..records import NamedTuple
from ..tls.alerts import Alert
from ..tls.versions import TlsVersion

if TYPE_CHECKING:
    from ..tls.hello.answer import ServerAnswer


#: A ClientHello over one TCP segment's payload on an Ethernet path (1460 bytes), record header included, is
#: "large": a middlebox or server that drops hellos spanning two segments drops it. OpenSSL 3.5's default offer
#: (an X25519MLKEM768 hybrid key share of 1216 bytes) makes the widest offer's hello about 1.7 KB.
LARGE_HELLO = 1460


class Accepted(NamedTuple):
    version: TlsVersion
    cipher: str
    chain: tuple[bytes, ...]
    chain_sent: int
    seconds: float
    transcript: tuple[tuple[str, str], ...] = ()
    certificate_request: bool = False  # the server asked for a client certificate (and did not insist)
    remarks: tuple[str, ...] = ()  # what the dialogue noticed, for -v
    group: str = ""  # a hello probe's key exchange group, when the answer names it ("X25519")
    answer: "ServerAnswer | None" = None  # a hello probe's server answer, whole
    hello: int = 0  # the bytes of the ClientHello a full handshake sent, record header included (0: not measured)


class HandshakeCause(enum.Enum):
    """Why a TLS handshake that started did not complete."""

    ALERT = "the server sent a fatal TLS alert"
    CLOSE_NOTIFY = "the server closed the TLS connection (close_notify) during the handshake"
    CLOSED = "the server closed the connection during the handshake, without an alert"
    RESET = "the server reset the connection during the handshake"
    CONNECTION_FAILED = "the connection failed during the handshake"
    NOT_TLS = "the server did not answer with TLS"
    OVERSIZED_RECORD = "the server sent an oversized TLS record"
    VERSION_OUT_OF_RANGE = "the server chose a TLS version outside the offered range"
    OVERSIZED_MESSAGE = "the server sent an oversized handshake message"
    LOCAL_VERSION_LIMIT = "the local TLS library cannot offer this TLS version"
    LOCAL_CIPHER_LIMIT = "the local TLS library cannot offer these ciphers"
    CHOICE_REFUSED = "the server chose what the client did not offer (the client would abort)"
    #: A hello probe: the server chose (ServerHello), then sent nothing more of its flight before the deadline.
    STALLED = "the server stopped in the middle of its first flight"
    MALFORMED = "the server's TLS records break the protocol"
    RECORD_LAYER = "TLS record layer failure"
    OTHER = "another TLS failure"

    @property
    def local_limit(self) -> bool:
        """The local TLS library could not make the offer: the server was not tested."""
        return self in (HandshakeCause.LOCAL_VERSION_LIMIT, HandshakeCause.LOCAL_CIPHER_LIMIT)


class Rejected(NamedTuple):
    """The TLS handshake failed: its cause, the alert when one was seen, and a detail for the words.

    ``server_hello`` says the server had agreed on a version and a suite before
    the failure, so the failure is not about suites; ``certificate_request``
    that it had asked for a client certificate.
    """

    cause: HandshakeCause
    alert: Alert | None
    seconds: float
    transcript: tuple[tuple[str, str], ...] = ()
    detail: str = ""  # words only, never decided on: the system's error, OpenSSL's reason, the malformation
    server_hello: bool = False
    certificate_request: bool = False
    remarks: tuple[str, ...] = ()
    #: The close (CLOSED) came again when tried alone, while the server served the widest offer on the
    #: next connection: it is the server's answer to this offer (Dovecot closes on an offer it cannot serve).
    closed_in_answer: bool = False
    answer: "ServerAnswer | None" = None  # a hello probe's server answer, whole
    hello: int = 0  # the bytes of the ClientHello a full handshake sent, record header included (0: not measured)

    @property
    def refused_offer(self) -> bool:
        """The server answered the ClientHello itself with a refusal: no common suite, group or version.

        A fatal handshake_failure, insufficient_security or protocol_version
        alert before any ServerHello; from GnuTLS servers a close_notify there;
        from Dovecot a close shown to be its answer (``closed_in_answer``).
        Anything else (a reset, a close, an alert after the ServerHello) says
        nothing about the offer.
        """
        if self.server_hello:
            return False
        if self.cause is HandshakeCause.CLOSE_NOTIFY or self.closed_in_answer:
            return True
        return self.alert is not None and (self.alert.means_no_common_suite or self.alert is Alert.protocol_version)

    @property
    def refused_suites(self) -> bool:
        """A refusal of the offer that is not about the TLS version: no common suite, group or key."""
        return self.refused_offer and self.alert is not Alert.protocol_version

    @property
    def dropped(self) -> bool:
        """The connection broke (reset, closed without an alert): a connection problem, not an answer. After the
        server's ServerHello it is not: the server had answered, then failed its own flight."""
        if self.closed_in_answer or self.server_hello:
            return False
        return self.cause in (HandshakeCause.RESET, HandshakeCause.CLOSED, HandshakeCause.CONNECTION_FAILED)

    @property
    def closed_after_hello(self) -> bool:
        """Closed without an alert or a ServerHello: either a dropped connection or a silent refusal."""
        return self.cause is HandshakeCause.CLOSED and not self.server_hello

    @property
    def wants_client_certificate(self) -> bool:
        """The server asked for a client certificate and ended the handshake when none came."""
        return self.certificate_request and self.alert is not None


class Failed(NamedTuple):
    """The probe never reached the handshake's end for a reason other than TLS."""

    error: ServiceError
    seconds: float
    transcript: tuple[tuple[str, str], ...] = ()
    remarks: tuple[str, ...] = ()
    #: The bytes of a full handshake's ClientHello that the server never answered (not a byte came back before
    #: the failure, a timeout); 0: the failure was another, or came before the hello.
    hello: int = 0

    @property
    def dropped(self) -> bool:
        """Refused, reset, closed, timed out or turned away (421, BYE, -ERR): a connection problem."""
        return self.error.kind.connection_problem


HandshakeOutcome = Accepted | Rejected | Failed


def large_hello_dropped(outcome: HandshakeOutcome) -> bool:
    """A full handshake's large ClientHello (over LARGE_HELLO bytes) went out, and the connection then broke (a
    reset, a close without an alert) or the server never answered it: what a middlebox that drops large hellos
    does. Not an answer of the server's (an alert, a ServerHello)."""
    if isinstance(outcome, Rejected):
        return outcome.dropped and outcome.hello > LARGE_HELLO
    return isinstance(outcome, Failed) and outcome.hello > LARGE_HELLO
