"""Error hierarchy: every failure of the monitored service, in words for a human.

Socket, protocol and OpenSSL errors are translated into these at one boundary
(wire.py, dialects.py, handshake.py). A ServiceError is a fact about the
server (CRITICAL); a UsageError is a fact about the command line (UNKNOWN).
"""

from __future__ import annotations


class UsageError(Exception):
    """The command line cannot be carried out (bad argument, local limit)."""


class ServiceError(Exception):
    """The monitored service failed; the message says how, for an operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ResolveError(ServiceError):
    """The name could not be resolved."""


class ConnectError(ServiceError):
    """Refused, reset, unreachable."""


class ServerTimeout(ServiceError):
    """The server did not answer before the probe's deadline."""


class ProtocolError(ServiceError):
    """The server said something that is not the protocol we expected."""


class StartTlsError(ServiceError):
    """STARTTLS is not advertised, or the server refused it."""


class CertificateError(ServiceError):
    """The server sent a certificate that cannot be read at all."""
