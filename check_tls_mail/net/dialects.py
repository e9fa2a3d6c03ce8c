"""Protocol dialects: the plaintext dialogue that leads up to the TLS handshake.

One small interface for all mail protocols: a ``Dialect`` knows its default
port, whether it upgrades with STARTTLS, and how to take a connected socket to
the point where the handshake starts. We never send credentials or mail
commands: only greeting, capabilities, STARTTLS, and a polite goodbye.
"""

import enum
import socket

from ..errors import FailureKind, ProtocolError, StartTlsError
from ..records import NamedTuple
from ..sanitize import from_wire
from .transport import Connection

#: Most lines accepted in one multi-line reply (EHLO, CAPABILITY, CAPA).
MAX_REPLY_LINES = 100


_BANNERS = (
    (b"SSH-", "an SSH server"),
    (b"HTTP/", "an HTTP server"),
    (b"* OK", "an IMAP server"),
    (b"+OK", "a POP3 server"),
    (b'"IMPLEMENTATION"', "a ManageSieve server"),
    (b"220", "an SMTP server"),
)


def unexpected(what: str, line: bytes) -> ProtocolError:
    """'not an SMTP reply' with a guess at what answered instead, and the line, cleaned."""
    guess = next((f" (this looks like {name})" for prefix, name in _BANNERS if line.startswith(prefix)), "")
    if not guess and any((byte < 0x20 and byte != 0x09) or byte == 0x7F for byte in line[:64]):
        guess = " (binary data)"
    return ProtocolError(f"{what}{guess}: {from_wire(line)}")


def _ehlo_name() -> str:
    name = socket.gethostname()
    return name if "." in name and name.isascii() and " " not in name else "localhost"


class Audience(enum.Enum):
    """Who connects to a service: the default client set is theirs (the keys of profiles.json's defaults)."""

    MTA = "mta"  # port 25: other mail servers relaying (DANE and MTA-STS apply)
    MUA = "mua"  # submission and mail access: mail user agents
    ANY = "tls"  # plain TLS on any port


class Dialect(NamedTuple):
    """Implicit TLS: the handshake starts right after connecting."""

    name: str
    default_port: int
    description: str
    goodbye: str | None = None
    audience: Audience = Audience.MUA
    #: SMTP: the name given in EHLO (--ehlo); None: this host's name when it is a full one, else localhost.
    client_name: str | None = None

    @property
    def relay(self) -> bool:
        """SMTP relay (port 25): the clients are MTAs, and DANE and MTA-STS are about this service."""
        return self.audience is Audience.MTA

    @property
    def starttls(self) -> bool:
        return False

    def negotiate(self, conn: Connection) -> None:
        """Leave ``conn`` ready for the TLS handshake, or raise a ServiceError."""

    @property
    def upgrade_word(self) -> str:
        return "implicit TLS"


class StartTlsDialect(Dialect):
    """A plaintext dialogue first, then an upgrade command."""

    @property
    def starttls(self) -> bool:
        return True

    @property
    def upgrade_word(self) -> str:
        return "STARTTLS"


class Smtp(StartTlsDialect):
    """ESMTP: greeting, EHLO, STARTTLS (RFC 3207)."""

    @staticmethod
    def read_reply(conn: Connection, waiting_for: str) -> tuple[int, list[bytes]]:
        """A whole (multi-line) SMTP reply: its code and the text of each line."""
        lines: list[bytes] = []
        while True:
            line = conn.read_line(waiting_for)
            code, sep = line[:3], line[3:4]
            if not (code.isdigit() and sep in (b" ", b"-", b"")):
                raise unexpected(f"not an SMTP reply ({waiting_for})", line)
            lines.append(line[4:])
            if sep != b"-":
                return int(code), lines
            if len(lines) >= MAX_REPLY_LINES:
                raise ProtocolError(f"{waiting_for} has more than {MAX_REPLY_LINES} lines")

    def negotiate(self, conn: Connection) -> None:
        code, text = self.read_reply(conn, "SMTP greeting")
        if code != 220:
            raise ProtocolError(f"server refused the session: {code} {from_wire(text[0])}", FailureKind.SESSION_REFUSED)
        conn.send(f"EHLO {self.client_name or _ehlo_name()}")
        code, text = self.read_reply(conn, "reply to EHLO")
        if code != 250:
            raise ProtocolError(f"server rejected EHLO: {code} {from_wire(text[0])}", FailureKind.SESSION_REFUSED)
        keywords = {line.split(b" ")[0].upper() for line in text[1:]}
        if b"STARTTLS" not in keywords:
            raise StartTlsError("STARTTLS not offered in the EHLO reply")
        conn.send("STARTTLS")
        code, text = self.read_reply(conn, "reply to STARTTLS")
        if code != 220:
            raise StartTlsError(f"server refused STARTTLS: {code} {from_wire(text[0])}", FailureKind.STARTTLS_REFUSED)
        conn.ready_for_tls("STARTTLS")


class Imap(StartTlsDialect):
    """IMAP: greeting (may carry capabilities), CAPABILITY, STARTTLS (RFC 9051)."""

    @staticmethod
    def _capabilities(line: bytes) -> set[bytes]:
        return set(line.upper().replace(b"[", b" ").replace(b"]", b" ").split())

    def _command(self, conn: Connection, tag: str, command: str) -> tuple[bytes, set[bytes]]:
        """Send a tagged command; its tagged reply and capabilities seen on the way."""
        conn.send(f"{tag} {command}")
        capabilities: set[bytes] = set()
        for _ in range(MAX_REPLY_LINES):
            line = conn.read_line(f"reply to {command}")
            if line.startswith(tag.encode() + b" "):
                return line[len(tag) + 1 :], capabilities
            if not line.startswith(b"* "):
                raise unexpected(f"not an IMAP reply (to {command})", line)
            if line[2:].upper().startswith(b"CAPABILITY "):
                capabilities |= self._capabilities(line)
            elif line[2:].upper().startswith(b"BYE"):
                raise ProtocolError(f"server closed the session: {from_wire(line)}", FailureKind.SESSION_REFUSED)
        raise ProtocolError(f"reply to {command} has more than {MAX_REPLY_LINES} lines")

    def negotiate(self, conn: Connection) -> None:
        greeting = conn.read_line("IMAP greeting")
        word = greeting[2:].split(b" ", 1)[0].upper()
        if not greeting.startswith(b"* ") or word not in (b"OK", b"PREAUTH", b"BYE"):
            raise unexpected("not an IMAP greeting", greeting)
        if word == b"BYE":
            raise ProtocolError(f"server refused the session: {from_wire(greeting)}", FailureKind.SESSION_REFUSED)
        capabilities = set()
        if b"[CAPABILITY " in greeting.upper():
            capabilities = self._capabilities(greeting)
        if b"STARTTLS" not in capabilities:
            status, capabilities = self._command(conn, "a1", "CAPABILITY")
            if not status.upper().startswith(b"OK"):
                raise ProtocolError(f"server rejected CAPABILITY: {from_wire(status)}")
            if b"STARTTLS" not in capabilities:
                raise StartTlsError("STARTTLS not offered in the IMAP capabilities")
        status, _ = self._command(conn, "a2", "STARTTLS")
        if not status.upper().startswith(b"OK"):
            raise StartTlsError(f"server refused STARTTLS: {from_wire(status)}", FailureKind.STARTTLS_REFUSED)
        conn.ready_for_tls("STARTTLS")


class Pop3(StartTlsDialect):
    """POP3: greeting, CAPA, STLS (RFC 2595)."""

    @property
    def upgrade_word(self) -> str:
        return "STLS"

    @staticmethod
    def _status(conn: Connection, waiting_for: str) -> tuple[bool, bytes]:
        line = conn.read_line(waiting_for)
        if line.startswith(b"+OK"):
            return True, line
        if line.startswith(b"-ERR"):
            return False, line
        raise unexpected(f"not a POP3 reply ({waiting_for})", line)

    def negotiate(self, conn: Connection) -> None:
        ok, line = self._status(conn, "POP3 greeting")
        if not ok:
            raise ProtocolError(f"server refused the session: {from_wire(line)}", FailureKind.SESSION_REFUSED)
        conn.send("CAPA")
        ok, line = self._status(conn, "reply to CAPA")
        capabilities_known = ok
        if ok:
            capabilities: set[bytes] = set()
            for _ in range(MAX_REPLY_LINES):
                line = conn.read_line("reply to CAPA")
                if line == b".":
                    break
                capabilities.add(line.split(b" ")[0].upper())
            else:
                raise ProtocolError(f"reply to CAPA has more than {MAX_REPLY_LINES} lines")
            if b"STLS" not in capabilities:
                raise StartTlsError("STLS not offered in the CAPA reply")
        else:
            # RFC 2449 makes CAPA optional: a client set to STARTTLS sends STLS anyway.
            conn.remarks.append(f"the POP3 server has no CAPA ({from_wire(line)}): STLS sent anyway")
        conn.send("STLS")
        ok, line = self._status(conn, "reply to STLS")
        if not ok and not capabilities_known:
            raise StartTlsError(f"STLS not supported: no CAPA, and STLS answered {from_wire(line)}")
        if not ok:
            raise StartTlsError(f"server refused STLS: {from_wire(line)}", FailureKind.STARTTLS_REFUSED)
        conn.ready_for_tls("STLS")


class ManageSieve(StartTlsDialect):
    """ManageSieve: capabilities sent on connect, STARTTLS (RFC 5804)."""

    @staticmethod
    def _response(conn: Connection, waiting_for: str) -> tuple[bytes, set[bytes]]:
        """Capability lines up to the OK/NO/BYE response that ends them."""
        capabilities: set[bytes] = set()
        for _ in range(MAX_REPLY_LINES):
            line = conn.read_line(waiting_for)
            word = line.split(b" ", 1)[0].upper()
            if word in (b"OK", b"NO", b"BYE"):
                return line, capabilities
            if not line.startswith(b'"'):
                raise unexpected(f"not a ManageSieve reply ({waiting_for})", line)
            capabilities.add(line.split(b'"')[1].upper())
        raise ProtocolError(f"{waiting_for} has more than {MAX_REPLY_LINES} lines")

    def negotiate(self, conn: Connection) -> None:
        status, capabilities = self._response(conn, "ManageSieve greeting")
        if not status.upper().startswith(b"OK"):
            raise ProtocolError(f"server refused the session: {from_wire(status)}", FailureKind.SESSION_REFUSED)
        if b"STARTTLS" not in capabilities:
            raise StartTlsError("STARTTLS not offered in the ManageSieve capabilities")
        conn.send("STARTTLS")
        status, _ = self._response(conn, "reply to STARTTLS")
        if not status.upper().startswith(b"OK"):
            raise StartTlsError(f"server refused STARTTLS: {from_wire(status)}", FailureKind.STARTTLS_REFUSED)
        conn.ready_for_tls("STARTTLS")


PROTOCOLS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Smtp("smtp", 25, "SMTP relay (MTA to MTA), STARTTLS", goodbye="QUIT", audience=Audience.MTA),
        Smtp("submission", 587, "mail submission, STARTTLS", goodbye="QUIT"),
        Dialect("smtps", 465, "mail submission over implicit TLS", goodbye="QUIT"),
        Imap("imap", 143, "IMAP, STARTTLS", goodbye="a3 LOGOUT"),
        Dialect("imaps", 993, "IMAP over implicit TLS", goodbye="a1 LOGOUT"),
        Pop3("pop3", 110, "POP3, STLS", goodbye="QUIT"),
        Dialect("pop3s", 995, "POP3 over implicit TLS", goodbye="QUIT"),
        ManageSieve("sieve", 4190, "ManageSieve, STARTTLS", goodbye="LOGOUT"),
        Dialect("tls", 443, "plain implicit TLS on any port (e.g. HTTPS)", audience=Audience.ANY),
    )
}

#: Well-known port -> protocol, for when only -p is given.
BY_PORT: dict[int, str] = {d.default_port: d.name for d in PROTOCOLS.values()}
