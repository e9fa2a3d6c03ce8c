"""Transport layer: resolve, connect and read lines under one deadline, bounded.

Every blocking call gets the time left until the probe's deadline, not a fixed
per-call timeout, so a server that trickles a byte a second cannot stretch a
probe past it. Reads are bounded in line length and in total bytes.
"""

import errno
import socket
import threading
import time

from ..errors import ConnectError, FailureKind, ProtocolError, ResolveError, ServerTimeout
from ..records import NamedTuple
from ..sanitize import clean
from .names import as_sent

#: Longest line accepted from a server (RFC 5321 allows 512; be lenient).
MAX_LINE = 4096
#: Most bytes read in plain text from one server before TLS starts.
MAX_DIALOGUE_BYTES = 64 * 1024


class Deadline:
    """A point in time by which a step must be done."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()


class Address(NamedTuple):
    """One resolved address of the service."""

    family: int
    sockaddr: tuple[str, int] | tuple[str, int, int, int]

    @property
    def ip(self) -> str:
        return self.sockaddr[0]

    def __str__(self) -> str:
        if self.family == socket.AF_INET6:
            return f"[{self.ip}]:{self.sockaddr[1]}"
        return f"{self.ip}:{self.sockaddr[1]}"


def resolve(host: str, port: int, family: int, deadline: Deadline) -> list[Address]:
    """Resolve ``host`` within the deadline (getaddrinfo itself has no timeout)."""
    found: list[Address] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(as_sent(host), port, family, socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            failure.append(exc)
            return
        for fam, _type, _proto, _name, sockaddr in infos:
            address = Address(fam, sockaddr)  # type: ignore[arg-type]
            if address not in found:
                found.append(address)

    worker = threading.Thread(target=lookup, name="resolve", daemon=True)
    worker.start()
    worker.join(max(deadline.remaining(), 0.0))
    name = clean(host)
    if worker.is_alive():
        raise ResolveError(f"DNS resolution of {name} timed out")
    if failure:
        exc = failure[0]
        if isinstance(exc, socket.gaierror) and exc.errno in (
            socket.EAI_NONAME,
            getattr(socket, "EAI_NODATA", socket.EAI_NONAME),
        ):
            family_note: dict[int, str] = {socket.AF_INET: " (IPv4)", socket.AF_INET6: " (IPv6)"}
            raise ResolveError(f"cannot resolve {name}{family_note.get(family, '')}: no such host")
        raise ResolveError(f"cannot resolve {name}: {clean(str(exc))}")
    if not found:
        raise ResolveError(f"cannot resolve {name}: no address")
    return found


#: The errors of connecting, in the words every connection failure uses (the system's otherwise).
_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.EADDRNOTAVAIL: "address not available",
}


def error_words(exc: OSError) -> str:
    """'connection refused', or the system's words for an error of connecting."""
    return _ERRNO_WORDS.get(exc.errno or 0, exc.strerror or exc.__class__.__name__)


def connection_error(exc: OSError, address: Address) -> ConnectError:
    kind = FailureKind.RESET if exc.errno == errno.ECONNRESET else FailureKind.CONNECT
    return ConnectError(f"{error_words(exc)} ({address})", kind)


class Connection:
    """A connected socket with a read buffer, reading bounded lines by a deadline."""

    def __init__(self, sock: socket.socket, address: Address, deadline: Deadline) -> None:
        self.sock = sock
        self.address = address
        self.deadline = deadline
        self._buffer = b""
        self._received = 0
        #: what was said, for -vv output: ("C" or "S", sanitised line)
        self.transcript: list[tuple[str, str]] = []
        #: what the dialogue noticed that is worth a line with -v
        self.remarks: list[str] = []

    @classmethod
    def open(cls, address: Address, deadline: Deadline) -> "Connection":
        sock = socket.socket(address.family, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.settimeout(max(deadline.remaining(), 0.001))
            sock.connect(address.sockaddr)
        except TimeoutError:
            sock.close()
            raise ServerTimeout(f"connection to {address} timed out") from None
        except OSError as exc:
            sock.close()
            raise connection_error(exc, address) from None
        return cls(sock, address, deadline)

    def send(self, line: str) -> None:
        self.transcript.append(("C", line))
        try:
            self.sock.settimeout(max(self.deadline.remaining(), 0.001))
            self.sock.sendall(line.encode("ascii") + b"\r\n")
        except TimeoutError:
            raise ServerTimeout(f"server did not accept {line.split()[-1]} in time") from None
        except OSError as exc:
            raise ConnectError(
                f"connection lost while sending {line.split()[-1]}: {exc.strerror or exc}", FailureKind.RESET
            ) from None

    def read_line(self, waiting_for: str) -> bytes:
        """One line without its CRLF; ``waiting_for`` words the errors."""
        started = time.monotonic()
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_LINE:
                raise ProtocolError(f"{waiting_for}: line longer than {MAX_LINE} bytes, not a mail protocol reply")
            remaining = self.deadline.remaining()
            if remaining <= 0:
                waited = time.monotonic() - started
                partial = " (incomplete, server sends slowly)" if self._buffer else ""
                raise ServerTimeout(f"no {waiting_for} within {waited:.1f} s{partial}")
            try:
                self.sock.settimeout(remaining)
                chunk = self.sock.recv(4096)
            except TimeoutError:
                continue  # the loop reports it with the elapsed time
            except OSError as exc:
                raise ConnectError(
                    f"connection {'reset' if exc.errno == errno.ECONNRESET else 'failed'} "
                    f"while waiting for {waiting_for}",
                    FailureKind.RESET,
                ) from None
            if not chunk:
                raise ProtocolError(
                    f"server closed the connection instead of sending {waiting_for}", FailureKind.CLOSED
                )
            self._received += len(chunk)
            if self._received > MAX_DIALOGUE_BYTES:
                raise ProtocolError(f"{waiting_for}: more than {MAX_DIALOGUE_BYTES // 1024} KiB without end")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        line = line.rstrip(b"\r")
        self.transcript.append(("S", clean(line.decode("utf-8", "backslashreplace"), 200)))
        return line

    def ready_for_tls(self, after: str) -> None:
        """Check that nothing is buffered before the TLS handshake starts on ``sock``.

        Plaintext sent ahead of the handshake would be read as if it came over
        TLS (the STARTTLS command injection class of bugs): refuse it.
        """
        if self._buffer:
            raise ProtocolError(f"server sent unexpected plaintext after {after}")
