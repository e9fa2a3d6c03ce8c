"""Error hierarchy: every failure of the monitored service, typed by kind and in words for a human.

Socket, protocol and OpenSSL errors are translated into these at one boundary
(wire.py, dialects.py, handshake.py). A ServiceError is a fact about the
server (CRITICAL); a UsageError is a fact about the command line (UNKNOWN).
Verdicts read ``kind``; the message is only ever shown.
"""

from __future__ import annotations

import enum


class UsageError(Exception):
    """The command line cannot be carried out (bad argument, local limit)."""


class FailureKind(enum.Enum):
    """What kind of failure, for verdicts; the words stay in the message."""

    RESOLVE = "the name could not be resolved"
    CONNECT = "no connection (refused, unreachable)"
    RESET = "the server reset the connection"
    CLOSED = "the server closed the connection"
    TIMEOUT = "the server did not answer in time"
    SESSION_REFUSED = "the server refused the session in the protocol dialogue"
    PROTOCOL = "the server does not speak the expected protocol"
    STARTTLS_MISSING = "STARTTLS is not offered"
    STARTTLS_REFUSED = "STARTTLS was refused"
    CERTIFICATE = "a certificate that cannot be read"

    @property
    def connection_problem(self) -> bool:
        """A problem of the connection, not of TLS: worth trying again, never a cipher verdict."""
        return self in _CONNECTION_PROBLEMS


_CONNECTION_PROBLEMS = frozenset(
    {FailureKind.CONNECT, FailureKind.RESET, FailureKind.CLOSED, FailureKind.TIMEOUT, FailureKind.SESSION_REFUSED}
)


class ServiceError(Exception):
    """The monitored service failed; ``kind`` says how, the message says it for an operator."""

    kind = FailureKind.PROTOCOL

    def __init__(self, message: str, kind: FailureKind | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        return self.message


class ResolveError(ServiceError):
    """The name could not be resolved."""

    kind = FailureKind.RESOLVE


class ConnectError(ServiceError):
    """Refused, reset, unreachable."""

    kind = FailureKind.CONNECT


class ServerTimeout(ServiceError):
    """The server did not answer before the probe's deadline."""

    kind = FailureKind.TIMEOUT


class ProtocolError(ServiceError):
    """The server said something that is not the protocol we expected."""

    kind = FailureKind.PROTOCOL


class StartTlsError(ServiceError):
    """STARTTLS is not advertised, or the server refused it."""

    kind = FailureKind.STARTTLS_MISSING


class CertificateError(ServiceError):
    """The server sent a certificate that cannot be read at all."""

    kind = FailureKind.CERTIFICATE
