"""Real TLS servers as subprocesses on a free port: ``openssl s_server`` (loopback) and ``gnutls-serv``.

For the hello tests and the hello benchmark. gnutls-serv serves what the local
OpenSSL cannot (3DES suites); it has no bind option and listens on all
addresses, the tests reach it on 127.0.0.1 only.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from loopback import free_port


class TlsServer:
    """A server subprocess on ``self.port``; its output kept in a file; ready once ``ready`` is printed.

    ``command`` makes the command line for a port (from loopback.free_port); where another process took that
    port before the server bound it, the server is started again on another one.
    """

    ready = b""

    def __init__(self, command: Callable[[int], list[str]]) -> None:
        for _attempt in range(3):
            self.port = free_port()
            self.command = command(self.port)
            self._log = tempfile.NamedTemporaryFile("w+b", prefix="tls-server-", suffix=".log")  # noqa: SIM115
            # stdin stays an open pipe: s_server stops at end of input.
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT
            )
            deadline = time.monotonic() + 10
            while self.ready not in self.output_bytes():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            else:
                return
            output = self.output()
            self.stop()
            if "Address already in use" not in output:
                raise RuntimeError(f"{self.command[0]} did not start: {output}")
        raise RuntimeError(f"{self.command[0]} found no free port")

    def output_bytes(self) -> bytes:
        return Path(self._log.name).read_bytes()

    def output(self) -> str:
        return self.output_bytes().decode("utf-8", "replace")

    def wait_for(self, text: str, seconds: float = 5) -> str:
        """The output once ``text`` appears in it (s_server writes after the connection ends)."""
        deadline = time.monotonic() + seconds
        while text not in self.output() and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.output()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        if self.process.stdin:
            self.process.stdin.close()
        self._log.close()

    def __enter__(self) -> TlsServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


class OpenSslServer(TlsServer):
    """``openssl s_server`` on 127.0.0.1 with the given options (``-trace`` output kept)."""

    ready = b"ACCEPT"

    def __init__(self, *options: str) -> None:
        super().__init__(lambda port: ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", *options])


class GnutlsServer(TlsServer):
    """``gnutls-serv`` with a certificate and a GnuTLS priority string."""

    ready = b"listening on IPv4"

    def __init__(self, cert: str, key: str, priority: str) -> None:
        files = ["--x509certfile", cert, "--x509keyfile", key]
        super().__init__(lambda port: ["gnutls-serv", "-p", str(port), *files, "--priority", priority])


def client_hello_trace(trace: str) -> str:
    """The first ClientHello's part of ``s_server -trace`` output: the server's own messages (its Certificate, which
    names the server) come after it, and how much of them the output holds when it is read depends on timing."""
    start = trace.index("ClientHello")
    # The ClientHello ends where the trace shows the next record (OpenSSL 3.0 "Sent Record", 3.5 "Sent TLS Record")
    # or the server's first message.
    end = re.search(r"\n\S*\s*(Sent|Received)\b[^\n]*Record|ServerHello|HelloRetryRequest", trace[start + 1 :])
    return trace[start : start + 1 + end.start() if end else None]


def traced_client_hello(trace: str) -> tuple[list[int], list[int]]:
    """(cipher suites, extension types) of the first ClientHello in ``s_server -trace`` output, as OpenSSL read them."""
    section = client_hello_trace(trace)
    suites_at = section.index("cipher_suites")
    suites_end = section.find("compression_methods", suites_at)
    suites = [
        int(a, 16) << 8 | int(b, 16)
        for a, b in re.findall(r"\{0x([0-9A-Fa-f]{2}), 0x([0-9A-Fa-f]{2})\}", section[suites_at:suites_end])
    ]
    extensions = [int(code) for code in re.findall(r"extension_type=[^(\s]*\((\d+)\), length=", section)]
    return suites, extensions
