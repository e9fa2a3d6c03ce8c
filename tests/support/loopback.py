"""Loopback plumbing every server of the tests shares: a free port, waiting for one, HTTP servers in a thread.

``free_port`` is the one port picker (the in-process servers bind port 0
themselves; the subprocess servers and daemons are given one); ``HttpServer``
is the base of the HTTP(S) servers that run in a thread of this process (the
revocation world's, the MTA-STS policy servers); ``silent_udp`` is a DNS
server that never answers. The TCP servers in this process are
fakeserver.MailServer, with a handler per connection.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Ports this process has handed out: the kernel may give a closed port out again at once, and two listeners of
#: one server on the same port fail its start ("duplicate listener"), which the suite saw with Dovecot.
_HANDED_OUT: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now on ``host`` that this process has not handed out before (nothing listens there yet)."""
    while True:
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def wait_for_port(port: int, host: str = "127.0.0.1", seconds: float = 15.0) -> bool:
    """Whether something accepts connections on ``port`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@contextmanager
def silent_udp() -> Iterator[tuple[str, int]]:
    """(address, port) of a UDP socket that receives queries and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield "127.0.0.1", int(sock.getsockname()[1])
    finally:
        sock.close()


@dataclass(frozen=True)
class Answer:
    """What one of the tests' HTTP servers sends for a request (``send``)."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/plain"
    headers: tuple[tuple[str, str], ...] = ()
    length: bool = True  # send Content-Length
    trickle: bool = False  # send the body a byte every half second


def send(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
    """Write ``answer`` as the handler's response, closing the connection after it."""
    handler.send_response(answer.status)
    if answer.content_type:
        handler.send_header("Content-Type", answer.content_type)
    for name, value in answer.headers:
        handler.send_header(name, value)
    if answer.length:
        handler.send_header("Content-Length", str(len(answer.body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    if answer.trickle:
        for byte in answer.body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.5)
    else:
        handler.wfile.write(answer.body)


class HttpServer(ThreadingHTTPServer):
    """An HTTP server serving from a thread of its own between ``start`` (or ``with``) and ``close``.

    Every request's (method or host, path) is kept in ``requests`` by the handler; a client that hangs up
    mid-answer (an oversized answer, a timeout) is expected, and not reported.
    """

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.requests: list[tuple[str, str]] = []
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self.shutdown()
        self.server_close()

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def handle_error(self, request: object, client_address: object) -> None:
        pass
