"""In-process loopback mail servers for the hermetic tests.

A ``MailServer`` listens on 127.0.0.1 port 0 in a thread and speaks one
dialect (SMTP, IMAP, POP3, ManageSieve or implicit TLS) up to a TLS handshake
with a configurable server context: certificates (one or an RSA+ECDSA pair),
TLS 1.2 cipher list, version range. Faults are plain handler functions.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

Handler = Callable[[socket.socket], None]


@dataclass
class TlsConfig:
    chains: list[tuple[str, str]]  # (chain file, key file); two for dual certificates
    ciphers: str | None = None  # TLS <= 1.2 list; TLS 1.3 stays on unless max_version says
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    client_certificates: ssl.VerifyMode = ssl.CERT_NONE  # CERT_OPTIONAL asks for one, CERT_REQUIRED insists
    client_ca: str | None = None
    without_sni: tuple[str, str] | None = None  # (chain file, key file) served when the client sends no SNI
    sni_for: str | None = None  # with without_sni: ``chains`` only for this SNI name, without_sni for any other

    def context(self) -> ssl.SSLContext:
        if self.without_sni is None:
            return self._context(self.chains)
        with_sni = self._context(self.chains)
        ctx = self._context([self.without_sni])

        def by_name(sock: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext) -> None:
            if server_name is not None and self.sni_for in (None, server_name):
                sock.context = with_sni

        ctx.sni_callback = by_name
        return ctx

    def _context(self, chains: list[tuple[str, str]]) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        for chain, key in chains:
            ctx.load_cert_chain(chain, key)
        if self.client_certificates != ssl.CERT_NONE:
            ctx.verify_mode = self.client_certificates
            if self.client_ca:
                ctx.load_verify_locations(self.client_ca)
        if self.ciphers:
            ctx.set_ciphers(self.ciphers)
        ctx.minimum_version = self.min_version
        ctx.maximum_version = self.max_version
        return ctx


@dataclass
class Behaviour:
    """How the plaintext part goes; defaults are a well-behaved server."""

    offer_starttls: bool = True
    refuse_starttls: bool = False
    caps_in_greeting: bool = False  # IMAP: capabilities in the greeting
    capa: bool = True  # POP3: CAPA known (RFC 2449 makes it optional)


class Lines:
    """Line reading on a server-side socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def readline(self) -> bytes | None:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r")

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(f"{line}\r\n" for line in lines).encode())


def finish_tls(sock: socket.socket, ctx: ssl.SSLContext) -> None:
    """Server side of the handshake; then wait for the client to go away."""
    try:
        tls = ctx.wrap_socket(sock, server_side=True)
    except (ssl.SSLError, OSError):
        return
    try:
        tls.settimeout(2)
        while tls.recv(1024):
            pass
    except (ssl.SSLError, OSError):
        pass
    finally:
        tls.close()


def _smtp(sock: socket.socket, ctx: ssl.SSLContext, how: Behaviour) -> None:
    io = Lines(sock)
    io.send("220 fake.example.test ESMTP ready")
    while (line := io.readline()) is not None:
        verb = line.split(b" ")[0].upper()
        if verb == b"EHLO":
            starttls = ["250-STARTTLS"] if how.offer_starttls else []
            io.send("250-fake.example.test", "250-PIPELINING", *starttls, "250 8BITMIME")
        elif verb == b"STARTTLS" and how.offer_starttls and not how.refuse_starttls:
            io.send("220 2.0.0 Ready to start TLS")
            return finish_tls(sock, ctx)
        elif verb == b"STARTTLS":
            io.send("454 4.7.0 TLS not available due to local problem")
        elif verb == b"QUIT":
            io.send("221 2.0.0 Bye")
            return
        else:
            io.send("502 5.5.2 Error: command not recognized")


def _imap(sock: socket.socket, ctx: ssl.SSLContext, how: Behaviour) -> None:
    io = Lines(sock)
    caps = "IMAP4rev1 LITERAL+ SASL-IR" + (" STARTTLS" if how.offer_starttls else "") + " LOGINDISABLED"
    io.send(f"* OK [CAPABILITY {caps}] fake ready" if how.caps_in_greeting else "* OK fake ready")
    while (line := io.readline()) is not None:
        tag, _, command = line.decode().partition(" ")
        command = command.upper()
        if command == "CAPABILITY":
            io.send(f"* CAPABILITY {caps}", f"{tag} OK Capability completed.")
        elif command == "STARTTLS" and how.offer_starttls and not how.refuse_starttls:
            io.send(f"{tag} OK Begin TLS negotiation now.")
            return finish_tls(sock, ctx)
        elif command == "STARTTLS":
            io.send(f"{tag} BAD STARTTLS not available")
        elif command == "LOGOUT":
            io.send("* BYE Logging out", f"{tag} OK Logout completed.")
            return
        else:
            io.send(f"{tag} BAD Error in IMAP command")


def _pop3(sock: socket.socket, ctx: ssl.SSLContext, how: Behaviour) -> None:
    io = Lines(sock)
    io.send("+OK fake ready.")
    while (line := io.readline()) is not None:
        command = line.decode().upper()
        if command == "CAPA" and how.capa:
            io.send("+OK", "TOP", "UIDL", "USER", *(["STLS"] if how.offer_starttls else []), ".")
        elif command == "STLS" and how.offer_starttls and not how.refuse_starttls:
            io.send("+OK Begin TLS negotiation now.")
            return finish_tls(sock, ctx)
        elif command == "STLS":
            io.send("-ERR STLS not available")
        elif command == "QUIT":
            io.send("+OK Logging out.")
            return
        else:
            io.send("-ERR Unknown command.")


def _sieve(sock: socket.socket, ctx: ssl.SSLContext, how: Behaviour) -> None:
    io = Lines(sock)
    caps = ['"IMPLEMENTATION" "fake sieve"', '"SIEVE" "fileinto reject"', '"SASL" ""']
    if how.offer_starttls:
        caps.append('"STARTTLS"')
    io.send(*caps, '"VERSION" "1.0"', 'OK "fake ready."')
    while (line := io.readline()) is not None:
        command = line.decode().upper()
        if command == "STARTTLS" and how.offer_starttls and not how.refuse_starttls:
            io.send('OK "Begin TLS negotiation now."')
            return finish_tls(sock, ctx)
        if command == "STARTTLS":
            io.send('NO "STARTTLS not available"')
        elif command == "LOGOUT":
            io.send('OK "Logout completed."')
            return
        else:
            io.send('NO "Unknown command."')


def _implicit(sock: socket.socket, ctx: ssl.SSLContext, how: Behaviour) -> None:
    finish_tls(sock, ctx)


#: How long a silent server here holds a connection at most: far longer than any deadline a test sets plus the
#: slack it allows (runs.CLI_SLACK), so a run that ended in time was ended by its own deadline.
HOLD = 30.0


def hold(sock: socket.socket, seconds: float = HOLD) -> None:
    """Send nothing and keep the connection open until the client goes away, for at most ``seconds``."""
    sock.settimeout(seconds)
    until = time.monotonic() + seconds
    with contextlib.suppress(OSError):
        while sock.recv(4096) and time.monotonic() < until:
            pass


def reset(sock: socket.socket) -> None:
    """End the connection with a TCP reset, as a connlimit firewall rule does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def hello_size(sock: socket.socket, seconds: float = 5) -> int:
    """The bytes of the client's first TLS record (header included), peeked: the socket still holds all of it.

    What a middlebox sees before it decides: a ClientHello of one record, however many TCP segments it spans.
    0: no TLS record header came within ``seconds``.
    """
    sock.settimeout(seconds)
    until = time.monotonic() + seconds
    header = b""
    while len(header) < 5 and time.monotonic() < until:
        header = sock.recv(5, socket.MSG_PEEK)
        if not header:
            return 0
        if len(header) < 5:
            time.sleep(0.005)
    if len(header) < 5 or header[0] != 22:
        return 0
    size = 5 + struct.unpack("!H", header[3:5])[0]
    while len(sock.recv(size, socket.MSG_PEEK)) < size and time.monotonic() < until:
        time.sleep(0.005)
    return size


class HelloGate:
    """A middlebox in front of a server's TLS: a ClientHello over ``limit`` bytes is reset (``answer`` "reset") or
    never answered ("stall"), while smaller ones go on to the server's handshake.

    Stands in for the server's SSLContext in a dialogue (its ``wrap_socket``), so it acts where TLS starts: at
    once for implicit TLS, after STARTTLS otherwise. ``sizes`` records each hello's size, ``stopped`` the sizes it
    reset or held.
    """

    def __init__(self, ctx: ssl.SSLContext, limit: int, answer: str) -> None:
        assert answer in ("reset", "stall"), answer
        self.ctx, self.limit, self.answer = ctx, limit, answer
        self.sizes: list[int] = []
        self.stopped: list[int] = []

    def wrap_socket(self, sock: socket.socket, server_side: bool = True) -> ssl.SSLSocket:
        size = hello_size(sock)
        self.sizes.append(size)
        if size > self.limit:
            self.stopped.append(size)
            if self.answer == "reset":
                reset(sock)
            else:
                hold(sock)
            raise ConnectionResetError(f"the gate stopped a {size}-byte ClientHello")
        return self.ctx.wrap_socket(sock, server_side=server_side)


def gated(protocol: str, tls: TlsConfig, limit: int, answer: str) -> tuple[Handler, HelloGate]:
    """A well-behaved server's handler behind a HelloGate (see there), and the gate."""
    gate = HelloGate(tls.context(), limit, answer)
    dialogue = DIALOGUES[protocol]
    behaviour = Behaviour()
    return (lambda sock: dialogue(sock, gate, behaviour)), gate  # type: ignore[arg-type]  # a context's stand-in


class Limited:
    """A handler that serves ``limit`` connections at once (or, ``ever``, only the first ``limit``).

    Others get ``refuse`` (a reset, a 421 greeting...), as from a server or firewall
    that limits connections per client.
    """

    def __init__(self, handler: Handler, refuse: Handler, limit: int = 1, ever: bool = False) -> None:
        self.handler, self.refuse, self.limit, self.ever = handler, refuse, limit, ever
        self.active = self.served = self.refused = 0
        self.decided: dict[int, bool] = {}
        self.lock = threading.Lock()

    def accepted(self, sock: socket.socket) -> None:
        """Decide in accept order (MailServer's accept thread calls this), not in the order the workers run."""
        with self.lock:
            allowed = (self.served if self.ever else self.active) < self.limit
            if allowed:
                self.active += 1
                self.served += 1
            else:
                self.refused += 1
            self.decided[sock.fileno()] = allowed

    def __call__(self, sock: socket.socket) -> None:
        with self.lock:
            allowed = self.decided.pop(sock.fileno())
        if not allowed:
            return self.refuse(sock)
        try:
            self.handler(sock)
        finally:
            with self.lock:
                self.active -= 1


DIALOGUES: dict[str, Callable[[socket.socket, ssl.SSLContext, Behaviour], None]] = {
    "smtp": _smtp,
    "submission": _smtp,
    "imap": _imap,
    "pop3": _pop3,
    "sieve": _sieve,
    "smtps": _implicit,
    "imaps": _implicit,
    "pop3s": _implicit,
    "tls": _implicit,
}


@dataclass
class MailServer:
    """A loopback server running ``handler`` for every connection, in threads."""

    handler: Handler
    host: str = "127.0.0.1"
    port: int = 0
    connections: int = 0
    _sock: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @staticmethod
    def dialogue(protocol: str, tls: TlsConfig, how: Behaviour | None = None) -> Handler:
        """The handler of a well-behaved server speaking ``protocol`` up to the handshake."""
        ctx = tls.context()
        dialogue = DIALOGUES[protocol]
        behaviour = how or Behaviour()
        return lambda sock: dialogue(sock, ctx, behaviour)

    @classmethod
    def speaking(
        cls, protocol: str, tls: TlsConfig, how: Behaviour | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> MailServer:
        return cls(cls.dialogue(protocol, tls, how), host=host, port=port)

    def __enter__(self) -> MailServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.host, self.port))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connections += 1
            accepted = getattr(self.handler, "accepted", None)
            if accepted is not None:
                accepted(conn)
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(15)
        try:
            self.handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()


def loopback(count: int) -> list[str]:
    """127.0.0.1 ... 127.0.0.N."""
    return [f"127.0.0.{n}" for n in range(1, count + 1)]


@contextmanager
def servers_at(protocol: str, configs: Sequence[TlsConfig | None], hosts: Sequence[str] | None = None) -> Iterator[int]:
    """One server per config, all at one port, on ``hosts`` (127.0.0.1, 127.0.0.2, ... by default); yields the port.

    A None config leaves its host without a server (connections there are refused). Where the port of the first
    server is taken on another host, all are started again on another one.
    """
    hosts = hosts or loopback(len(configs))
    for _ in range(30):
        with ExitStack() as stack:
            port = 0
            try:
                for host, config in zip(hosts, configs, strict=True):
                    if config is not None:
                        port = stack.enter_context(MailServer.speaking(protocol, config, host=host, port=port)).port
            except OSError:
                continue  # that port is taken on one of the addresses: try another
            yield port
            return
    raise RuntimeError(f"no common free port on {', '.join(hosts)}")
