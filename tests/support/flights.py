"""A server whose answer to one client's ClientHello is a crafted, broken first flight; every other hello gets a
real TLS handshake (Python's ssl). For the hello path's verdicts: what a real client does with each flight.

``flight_server(tls, victim, answer)`` gives a ``MailServer`` handler for implicit TLS: it peeks at each
ClientHello, and when its cipher suites are ``victim``'s (a profile's own hello, as profiles.json has it),
consumes it and sends ``answer(hello)``: records, then an ``END`` that closes, resets or stalls.
"""

from __future__ import annotations

import enum
import socket
import struct
import time
from collections.abc import Callable, Sequence

from fakeserver import TlsConfig, finish_tls
from hellos import ParsedHello, parse_hello


class End(enum.Enum):
    CLOSE = "close"
    RESET = "reset"  # SO_LINGER 0: a TCP reset, as a middlebox sends it
    STALL = "stall"  # say nothing more; hold the connection until the client goes


Flight = Sequence[bytes | End]


def _peek_hello(sock: socket.socket, seconds: float = 10) -> bytes:
    """The client's first TLS record(s) holding its ClientHello, left in the socket (MSG_PEEK)."""
    deadline = time.monotonic() + seconds
    sock.settimeout(seconds)
    while time.monotonic() < deadline:
        data = sock.recv(65536, socket.MSG_PEEK)
        if len(data) >= 5:
            size = struct.unpack("!H", data[3:5])[0]
            if len(data) >= 5 + size:
                return data[: 5 + size]
        if not data:
            return b""
        time.sleep(0.005)
    return b""


def _end(sock: socket.socket, how: End) -> None:
    if how is End.RESET:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif how is End.STALL:
        sock.settimeout(30)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass


def flight_server(
    tls: TlsConfig, victim: Sequence[int], answer: Callable[[ParsedHello], Flight]
) -> Callable[[socket.socket], None]:
    ctx = tls.context()
    suites = list(victim)

    def handler(sock: socket.socket) -> None:
        first = _peek_hello(sock)
        if not first:
            return
        hello = parse_hello(first)
        if hello.suites != suites:
            finish_tls(sock, ctx)
            return
        sock.recv(len(first))  # the hello, consumed
        for part in answer(hello):
            if isinstance(part, End):
                _end(sock, part)
                return
            sock.sendall(part)

    return handler


def handshake(*messages: bytes) -> bytes:
    """Handshake messages in one TLS 1.2 handshake record."""
    body = b"".join(messages)
    return struct.pack("!BHH", 22, 0x0303, len(body)) + body


def alert(description: int, level: int = 2) -> bytes:
    return struct.pack("!BHHBB", 21, 0x0303, 2, level, description)


SERVER_HELLO_DONE = b"\x0e\x00\x00\x00"
