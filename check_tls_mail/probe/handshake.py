"""One probe: connect, speak the dialect, do one TLS handshake for one client offer.

The result is a typed ``HandshakeOutcome`` (outcome.py). Certificates are not
verified here; x509/ judges them.
"""

import contextlib
import ssl
import time
from typing import TYPE_CHECKING

from ..clients.offer import ClientOffer
from ..errors import ServerTimeout, ServiceError
from ..net.dialects import Dialect
from ..net.names import as_sent
from ..net.transport import Address, Connection, Deadline, connection_error
from ..records import NamedTuple
from ..tls.alerts import Alert
from ..tls.versions import TlsVersion
from ..x509.certificate import MAX_CHAIN
from .outcome import LARGE_HELLO, Accepted, Failed, HandshakeCause, HandshakeOutcome, Rejected

if TYPE_CHECKING:
    pass


#: A large ClientHello that gets no answer at all within this share of the time left is given up (see
#: ``probe``), so that the same offer with a small hello still fits in the rest.
UNANSWERED_SHARE = 0.5
#: The one key exchange group of a small hello (``small_context_for``): P-256, which every TLS 1.3 server must
#: support (RFC 8446 section 9.1), by its code point and by the name SSLContext.set_ecdh_curve takes with every
#: OpenSSL (Python 3.11 on OpenSSL 3.0 takes no X25519 there).
SMALL_HELLO_GROUP = 0x0017
_SMALL_HELLO_CURVE = "prime256v1"
#: The TLS library that makes the full handshakes' hellos, as the words name it ("OpenSSL 3.5").
LIBRARY = f"{ssl.OPENSSL_VERSION.split()[0]} {'.'.join(map(str, ssl.OPENSSL_VERSION_INFO[:2]))}"


def context_for(offer: ClientOffer) -> ssl.SSLContext:
    """An SSLContext offering exactly ``offer`` (warnings about old versions are silenced by the CLI)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # Every option the outcome depends on is set here, whatever the
    # interpreter's build defaults (Debian's python3 sets
    # OP_IGNORE_UNEXPECTED_EOF, which reports a TCP close as a clean TLS close).
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    ctx._msg_callback = _watch  # type: ignore[attr-defined]  # which handshake messages the server sent
    # Security level 0: offer what the real client offers, even where the
    # local OpenSSL policy would refuse it (TLS 1.0, SHA-1, small keys).
    ctx.set_ciphers(f"{offer.ciphers}:@SECLEVEL=0")
    ctx.minimum_version = offer.min_version.openssl
    ctx.maximum_version = offer.max_version.openssl
    return ctx


def small_context_for(offer: ClientOffer) -> ssl.SSLContext:
    """``offer`` with one key exchange group, P-256: a small ClientHello (one 65-byte key share, no post-quantum
    one), for an offer whose large hello a middlebox drops.

    Python before 3.15 has no SSLContext.set_groups; set_ecdh_curve makes its one group the whole group list
    and the one key share (seen with OpenSSL 3.0 and 3.5). The offer's versions and suites stay as they are.
    """
    ctx = context_for(offer)
    ctx.set_ecdh_curve(_SMALL_HELLO_CURVE)
    return ctx


class Target(NamedTuple):
    """The one service being checked, at one address."""

    host: str
    port: int
    dialect: Dialect
    address: Address
    servername: str | None  # SNI; None when the host is an IP address


#: TLS handshake message types (RFC 8446 section 4) that change what a failure means.
CLIENT_HELLO = 1
SERVER_HELLO = 2
CERTIFICATE_REQUEST = 13
_HANDSHAKE = 22  # the TLS record content type of handshake messages
_RECORD_HEADER = 5  # bytes before a TLS record's content


class _Watched:
    """What OpenSSL's message callback saw on one connection (a plain class: dataclasses would cost its imports)."""

    __slots__ = ("answered", "hello", "server_messages")

    def __init__(self) -> None:
        self.server_messages: set[int] = set()  # the handshake message types the server sent
        self.hello = 0  # the bytes of our first ClientHello, as one record with its header (0: none sent yet)
        self.answered = False  # the server sent anything at all (a record header read)


def _watch(conn: object, direction: str, version: object, content_type: int, msg_type: int, data: bytes) -> None:
    """OpenSSL's message callback: note what was sent and read on this connection."""
    watched = getattr(conn, "_watched", None)
    if watched is None:
        return
    if direction == "read":
        watched.answered = True
        if content_type == _HANDSHAKE:
            watched.server_messages.add(int(msg_type))
    elif content_type == _HANDSHAKE and msg_type == CLIENT_HELLO and not watched.hello:
        watched.hello = len(data) + _RECORD_HEADER  # the message with its own header; one record (< 16 KB)


#: OpenSSL reason codes that are not alerts, and what they mean.
_CAUSES = {
    "WRONG_VERSION_NUMBER": HandshakeCause.NOT_TLS,
    "HTTP_REQUEST": HandshakeCause.NOT_TLS,
    "PACKET_LENGTH_TOO_LONG": HandshakeCause.OVERSIZED_RECORD,
    "UNSUPPORTED_PROTOCOL": HandshakeCause.VERSION_OUT_OF_RANGE,
    "NO_PROTOCOLS_AVAILABLE": HandshakeCause.LOCAL_VERSION_LIMIT,
    "NO_CIPHERS_AVAILABLE": HandshakeCause.LOCAL_CIPHER_LIMIT,
    "UNEXPECTED_EOF_WHILE_READING": HandshakeCause.CLOSED,
    "EXCESSIVE_MESSAGE_SIZE": HandshakeCause.OVERSIZED_MESSAGE,
    "RECORD_LAYER_FAILURE": HandshakeCause.RECORD_LAYER,
}


def _ssl_error(exc: ssl.SSLError) -> tuple[HandshakeCause, Alert | None, str]:
    """(cause, alert, detail) for an OpenSSL error: its class and reason code, read here and nowhere else."""
    reason = getattr(exc, "reason", None) or ""
    if isinstance(exc, ssl.SSLZeroReturnError):  # GnuTLS servers end a failed handshake this way
        return HandshakeCause.CLOSE_NOTIFY, None, reason
    if isinstance(exc, ssl.SSLEOFError):
        return HandshakeCause.CLOSED, None, reason
    alert = Alert.from_openssl_reason(reason)
    if alert is not None:
        return HandshakeCause.ALERT, alert, reason
    cause = _CAUSES.get(reason, HandshakeCause.OTHER)
    if cause is HandshakeCause.VERSION_OUT_OF_RANGE:  # OpenSSL's own refusal of the server's version
        return cause, Alert.protocol_version, reason
    return cause, None, reason or exc.__class__.__name__


def _peer_chain(tls: ssl.SSLSocket) -> tuple[tuple[bytes, ...], int]:
    """The chain as the server sent it (leaf first), cut at MAX_CHAIN, and its length."""
    getter = getattr(tls, "get_unverified_chain", None)  # public from Python 3.13
    if getter is None:  # Python 3.10-3.12: on the private SSLObject
        getter = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    items = list(getter() or []) if getter is not None else []
    if not items:
        leaf = tls.getpeercert(binary_form=True)
        return ((leaf,) if leaf else ()), (1 if leaf else 0)
    der = [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in items[:MAX_CHAIN]]  # type: ignore[attr-defined]
    return tuple(der), len(items)


#: How long to wait for a TLS 1.3 server that asked for a client certificate to say whether it insists.
CERTIFICATE_VERDICT_SECONDS = 0.3


def _insists_on_certificate(tls: ssl.SSLSocket, deadline: Deadline) -> ssl.SSLError | None:
    """TLS 1.3 servers refuse a missing client certificate after the handshake: read briefly for that alert."""
    tls.settimeout(max(min(CERTIFICATE_VERDICT_SECONDS, deadline.remaining()), 0.001))
    try:
        tls.recv(1)
    except ssl.SSLError as exc:
        return exc
    except OSError:  # silence (STARTTLS protocols wait for the client) or a close: not a refusal
        pass
    return None


class _Unanswered(Exception):
    """A large ClientHello got no answer at all within its share of the time (see ``_handshake``)."""


def _handshake(tls: ssl.SSLSocket, watched: _Watched, deadline: Deadline) -> None:
    """The handshake within the deadline; raises _Unanswered for a large ClientHello the server does not answer.

    A middlebox that drops large hellos may swallow them: the server never answers, and waiting for it would
    take the whole deadline. So the handshake first waits UNANSWERED_SHARE of the time left; when it is still
    under way then, a small hello, or a hello the server began to answer, is waited for to the deadline (the
    handshake goes on where it was), and a large hello that got no byte back is given up.
    """
    tls.settimeout(max(deadline.remaining() * UNANSWERED_SHARE, 0.001))
    try:
        tls.do_handshake()
        return
    except TimeoutError:
        if watched.hello > LARGE_HELLO and not watched.answered:
            raise _Unanswered from None
    tls.settimeout(max(deadline.remaining(), 0.001))
    tls.do_handshake()


def probe(target: Target, offer: ClientOffer, ctx: ssl.SSLContext, deadline: Deadline) -> HandshakeOutcome:
    """Run one full probe. Never raises for anything the server does."""
    started = time.monotonic()
    conn: Connection | None = None
    tls: ssl.SSLSocket | None = None
    watched = _Watched()
    seen = watched.server_messages

    def elapsed() -> float:
        return time.monotonic() - started

    def said() -> tuple[tuple[str, str], ...]:
        return tuple(conn.transcript) if conn else ()

    def remarks() -> tuple[str, ...]:
        return tuple(conn.remarks) if conn else ()

    def rejected(cause: HandshakeCause, alert: Alert | None, detail: str = "") -> Rejected:
        return Rejected(
            cause,
            alert,
            elapsed(),
            said(),
            detail,
            SERVER_HELLO in seen,
            CERTIFICATE_REQUEST in seen,
            remarks(),
            hello=watched.hello,
        )

    def unanswered(words: str) -> Failed:
        """A timeout; with the size of the ClientHello when not a byte came back after it."""
        hello = 0 if watched.answered else watched.hello
        return Failed(ServerTimeout(f"{words} within {elapsed():.1f} s"), elapsed(), said(), remarks(), hello)

    try:
        conn = Connection.open(target.address, deadline)
        target.dialect.negotiate(conn)
        try:  # wrap_socket reads a byte when the connection looks gone, and may find a reset
            sni = None if target.servername is None else as_sent(target.servername)
            tls = ctx.wrap_socket(conn.sock, server_hostname=sni, do_handshake_on_connect=False)
        except OSError as exc:
            raise connection_error(exc, target.address) from None
        tls._watched = watched  # type: ignore[attr-defined]  # filled by _watch
        try:
            _handshake(tls, watched, deadline)
            version = TlsVersion.from_openssl(tls.version())
            if CERTIFICATE_REQUEST in seen and version is TlsVersion.TLS1_3:
                refusal = _insists_on_certificate(tls, deadline)
                if refusal is not None:
                    return rejected(*_ssl_error(refusal))
        except ssl.SSLError as exc:
            return rejected(*_ssl_error(exc))
        except _Unanswered:
            return unanswered("no answer to the ClientHello")
        except TimeoutError:
            return unanswered("TLS handshake not completed")
        except ConnectionResetError:
            return rejected(HandshakeCause.RESET, None)
        except OSError as exc:
            return rejected(HandshakeCause.CONNECTION_FAILED, None, str(exc.strerror or exc))
        chain, sent = _peer_chain(tls)
        cipher = tls.cipher()
        if version is None:  # OpenSSL completed a handshake of a version it does not name: not one we offer
            return rejected(HandshakeCause.VERSION_OUT_OF_RANGE, None, str(tls.version()))
        outcome = Accepted(
            version=version,
            cipher=cipher[0] if cipher else "?",
            chain=chain,
            chain_sent=sent,
            seconds=elapsed(),
            transcript=said(),
            certificate_request=CERTIFICATE_REQUEST in seen,
            remarks=remarks(),
            hello=watched.hello,
        )
        if target.dialect.goodbye:
            try:  # polite goodbye, best effort and without waiting for an answer
                tls.settimeout(0.05)
                tls.sendall(target.dialect.goodbye.encode() + b"\r\n")
            except OSError:
                pass
        return outcome
    except ServiceError as exc:
        return Failed(exc, elapsed(), said(), remarks())
    finally:
        for sock in (tls, conn.sock if conn else None):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
