"""One probe: connect, speak the dialect, do one TLS handshake for one client offer.

The result is a typed ``HandshakeOutcome``: ``Accepted`` (with what was
negotiated and the chain as the server sent it), ``Rejected`` (the TLS
handshake failed: a result, not an exception) or ``Failed`` (we never got to
the handshake). Certificates are not verified here; certificate.py judges them.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from typing import NamedTuple

from .dialects import Dialect
from .errors import ServerTimeout, ServiceError
from .wire import Address, Connection, Deadline

VERSIONS: dict[str, ssl.TLSVersion] = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}

#: Certificates kept from what a server sends; a longer chain is cut.
MAX_CHAIN = 10


class ClientOffer(NamedTuple):
    """What one simulated client offers: a version range and a TLS <= 1.2 cipher string."""

    label: str
    min_version: str = "1.0"
    max_version: str = "1.3"
    ciphers: str = "ALL"

    def context(self) -> ssl.SSLContext:
        """An SSLContext offering exactly this (warnings about old versions are silenced by the CLI)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        # Security level 0: offer what the real client offers, even where the
        # local OpenSSL policy would refuse it (TLS 1.0, SHA-1, small keys).
        ctx.set_ciphers(f"{self.ciphers}:@SECLEVEL=0")
        ctx.minimum_version = VERSIONS[self.min_version]
        ctx.maximum_version = VERSIONS[self.max_version]
        return ctx


class Target(NamedTuple):
    """The one service being checked, at one address."""

    host: str
    port: int
    dialect: Dialect
    address: Address
    servername: str | None  # SNI; None when the host is an IP address

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class Accepted(NamedTuple):
    version: str
    cipher: str
    chain: tuple[bytes, ...]
    chain_sent: int
    seconds: float
    transcript: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.version}, {self.cipher}"


class Rejected(NamedTuple):
    """The TLS handshake failed; ``alert`` is the TLS alert name when one was seen."""

    reason: str
    alert: str | None
    seconds: float
    transcript: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.reason


class Failed(NamedTuple):
    """The probe never reached the handshake's end for a reason other than TLS."""

    error: ServiceError
    seconds: float
    transcript: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return str(self.error)


HandshakeOutcome = Accepted | Rejected | Failed

# OpenSSL reasons that are not alerts, in words; alerts are worded from their name.
_REASONS = {
    "WRONG_VERSION_NUMBER": "server did not answer with TLS (plaintext or another protocol)",
    "UNSUPPORTED_PROTOCOL": "server chose a TLS version outside the offered range",
    "NO_PROTOCOLS_AVAILABLE": "no TLS version can be offered locally",
    "UNEXPECTED_EOF_WHILE_READING": "server closed the connection during the handshake",
    "EXCESSIVE_MESSAGE_SIZE": "server sent an oversized handshake message (certificate chain too long?)",
    "NO_CIPHERS_AVAILABLE": "no cipher can be offered locally",
    "RECORD_LAYER_FAILURE": "TLS record layer failure",
    "PACKET_LENGTH_TOO_LONG": "server did not answer with TLS (oversized record)",
    "HTTP_REQUEST": "server did not answer with TLS",
}


def _ssl_error(exc: ssl.SSLError) -> tuple[str, str | None]:
    """(reason in words, alert name) for an OpenSSL error."""
    reason = getattr(exc, "reason", None) or ""
    if isinstance(exc, ssl.SSLZeroReturnError):  # GnuTLS servers end a failed handshake this way
        return "server closed the TLS connection during the handshake without an alert", None
    if isinstance(exc, ssl.SSLEOFError) or "EOF" in reason:
        return _REASONS["UNEXPECTED_EOF_WHILE_READING"], None
    if "_ALERT_" in reason:
        alert = reason.split("_ALERT_", 1)[1].lower()
        return f"server sent TLS alert {alert.replace('_', ' ')}", alert
    if reason == "UNSUPPORTED_PROTOCOL":
        return _REASONS[reason], "protocol_version"
    if reason in _REASONS:
        return _REASONS[reason], None
    words = reason.replace("_", " ").lower() if reason else exc.__class__.__name__
    return f"TLS handshake failed: {words}", None


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


def probe(target: Target, offer: ClientOffer, ctx: ssl.SSLContext, deadline: Deadline) -> HandshakeOutcome:
    """Run one full probe. Never raises for anything the server does."""
    started = time.monotonic()
    conn: Connection | None = None
    tls: ssl.SSLSocket | None = None

    def elapsed() -> float:
        return time.monotonic() - started

    def said() -> tuple[tuple[str, str], ...]:
        return tuple(conn.transcript) if conn else ()

    try:
        conn = Connection.open(target.address, deadline)
        target.dialect.negotiate(conn)
        tls = ctx.wrap_socket(conn.sock, server_hostname=target.servername, do_handshake_on_connect=False)
        tls.settimeout(max(deadline.remaining(), 0.001))
        try:
            tls.do_handshake()
        except ssl.SSLError as exc:
            reason, alert = _ssl_error(exc)
            return Rejected(reason, alert, elapsed(), said())
        except TimeoutError:
            raise ServerTimeout(f"TLS handshake not completed within {elapsed():.1f} s") from None
        except ConnectionResetError:
            return Rejected("connection reset by the server during the handshake", None, elapsed(), said())
        except OSError as exc:
            return Rejected(f"connection failed during the handshake: {exc.strerror or exc}", None, elapsed(), said())
        chain, sent = _peer_chain(tls)
        cipher = tls.cipher()
        outcome = Accepted(
            version=tls.version() or "?",
            cipher=cipher[0] if cipher else "?",
            chain=chain,
            chain_sent=sent,
            seconds=elapsed(),
            transcript=said(),
        )
        if target.dialect.goodbye:
            try:  # polite goodbye, best effort and without waiting for an answer
                tls.settimeout(0.05)
                tls.sendall(target.dialect.goodbye.encode() + b"\r\n")
            except OSError:
                pass
        return outcome
    except ServiceError as exc:
        return Failed(exc, elapsed(), said())
    finally:
        for sock in (tls, conn.sock if conn else None):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()


def key_type_offer(key_type: str) -> ClientOffer:
    """TLS 1.2 offer with every suite for one certificate key type (ECDSA or RSA)."""
    return ClientOffer(f"{key_type} suites over TLS 1.2", "1.2", "1.2", f"a{key_type}")


def version_offer(version: str) -> ClientOffer:
    """Exactly one TLS version, every suite (security level 0 lets TLS 1.0 and 1.1 be offered)."""
    return ClientOffer(f"TLS {version} only", version, version, "ALL")


def cipher_offer(name: str) -> ClientOffer:
    return ClientOffer(name, "1.2", "1.2", name)


#: Widest offer, used to fetch the certificate and the server's preferred version.
PRIMARY = ClientOffer("default client", "1.0", "1.3", "ALL")
