"""Reading the server's first flight: bytes in any fragments into one ``ServerAnswer``, never an exception.

Wire layer (pure, no socket): records, handshake messages, the ServerHello checked against the client's hello.
"""

from __future__ import annotations

from ...x509.certificate import MAX_CHAIN
from ..alerts import Alert, ReceivedAlert
from ..codepoints import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    GREASE,
    HRR_RANDOM,
    RENEGOTIATION_SCSV,
    ContentType,
    ExtensionType,
    HandshakeType,
)
from ..versions import TlsVersion
from .answer import (
    MAX_FLIGHT,
    MAX_RECORD,
    AlertAnswer,
    ChoiceProblem,
    ConnectionEnded,
    CutAfterHello,
    Ending,
    HelloRetry,
    Malformation,
    Malformed,
    NotTls,
    Problem,
    ServerAnswer,
    ServerHelloAnswer,
)
from .serverhello import Cursor, MalformedMessage, ParsedHello, is_tls13_suite, parse_server_hello
from .spec import HelloSpec, shared_groups

#: The alert level of a warning (RFC 5246 section 7.2); any other level is fatal.
WARNING = 1


class FlightReader:
    """Incremental reader of the server's first flight; ``feed`` returns an answer once it can decide.

    Pure (no socket): records may arrive in any fragments, handshake messages
    may span records. Every input yields a ``ServerAnswer`` or ``None`` (need
    more), never an exception.
    """

    def __init__(self, spec: HelloSpec, session_id: bytes, shared: tuple[int, ...] | None = None) -> None:
        self.spec = spec
        self.session_id = session_id
        self.shared = shared_groups(spec) if shared is None else shared
        self.received = 0
        self._buffer = b""
        self._handshake = b""
        self._hello: ServerHelloAnswer | None = None
        self._warnings: list[ReceivedAlert] = []
        # TLS <= 1.2, after the ServerHello: the rest of the flight up to ServerHelloDone
        self._certificates: tuple[bytes, ...] | None = None
        self._chain_length = 0
        self._certificate_requested = False

    def feed(self, data: bytes) -> ServerAnswer | None:
        try:
            return self._feed(data)
        except MalformedMessage as exc:
            return Malformed(exc.what, exc.detail)

    def end(self, how: Ending) -> ServerAnswer:
        """The connection ended (closed, reset, timed out) before a decision."""
        if self._hello is not None:  # TLS <= 1.2 cut after the ServerHello: the choice is known, the flight short
            return CutAfterHello(self._so_far(), None, how)
        if self._warnings and how is Ending.CLOSED:
            return AlertAnswer(self._warnings[-1])
        return ConnectionEnded(how, self.received)

    def _feed(self, data: bytes) -> ServerAnswer | None:
        first = self.received == 0
        self.received += len(data)
        if self.received > MAX_FLIGHT:
            raise MalformedMessage(Malformation.TOO_MUCH_DATA, self.received)
        self._buffer += data
        if first and data and not self._looks_like_tls(self._buffer):
            return NotTls(self._buffer[:200])
        while len(self._buffer) >= 5:
            content_type = self._buffer[0]
            size = int.from_bytes(self._buffer[3:5], "big")
            if not self._looks_like_tls(self._buffer):
                raise MalformedMessage(Malformation.UNEXPECTED_RECORD, content_type)
            if size > MAX_RECORD:
                raise MalformedMessage(Malformation.RECORD_TOO_LONG, size)
            if len(self._buffer) < 5 + size:
                return None
            fragment = self._buffer[5 : 5 + size]
            self._buffer = self._buffer[5 + size :]
            answer = self._record(content_type, fragment)
            if answer is not None:
                return answer
        return None

    @staticmethod
    def _looks_like_tls(buffer: bytes) -> bool:
        if buffer[0] not in (20, 21, 22, 23):
            return False
        return len(buffer) < 2 or buffer[1] == 3

    def _record(self, content_type: int, fragment: bytes) -> ServerAnswer | None:
        if content_type == ContentType.ALERT:
            if len(fragment) < 2 or len(fragment) % 2:
                raise MalformedMessage(Malformation.BAD_ALERT, len(fragment))
            for i in range(0, len(fragment), 2):
                alert = ReceivedAlert(fragment[i + 1], fragment[i] != WARNING)
                if (alert.fatal or alert.alert is Alert.close_notify) and self._hello is not None:
                    return CutAfterHello(self._so_far(), alert, None)  # it chose, then gave up: keep the choice
                if alert.fatal or alert.alert is Alert.close_notify:
                    return AlertAnswer(alert)
                self._warnings.append(alert)
            return None
        if content_type == ContentType.HANDSHAKE:
            self._handshake += fragment
            return self._messages()
        if content_type == ContentType.CHANGE_CIPHER_SPEC and self._hello is not None:
            return None  # middlebox compatibility (RFC 8446 appendix D.4)
        raise MalformedMessage(Malformation.UNEXPECTED_RECORD, content_type)

    def _messages(self) -> ServerAnswer | None:
        while len(self._handshake) >= 4:
            msg_type = self._handshake[0]
            size = int.from_bytes(self._handshake[1:4], "big")
            if size > MAX_FLIGHT:
                raise MalformedMessage(Malformation.MESSAGE_TOO_LONG, size)
            if len(self._handshake) < 4 + size:
                return None
            body = self._handshake[4 : 4 + size]
            self._handshake = self._handshake[4 + size :]
            answer = self._message(msg_type, body)
            if answer is not None:
                return answer
        return None

    def _message(self, msg_type: int, body: bytes) -> ServerAnswer | None:
        if self._hello is None:
            if msg_type == HandshakeType.HELLO_REQUEST and not body:
                return None  # ignored during a handshake (RFC 5246 section 7.4.1.1)
            if msg_type != HandshakeType.SERVER_HELLO:
                raise MalformedMessage(Malformation.UNEXPECTED_MESSAGE, msg_type)
            return self._server_hello(parse_server_hello(body))
        # TLS <= 1.2 after the ServerHello: the whole flight, to ServerHelloDone, as a client reads it.
        if msg_type == HandshakeType.CERTIFICATE and self._certificates is None:
            self._certificates, self._chain_length = self._read_certificates(body)
            return None
        if msg_type == HandshakeType.CERTIFICATE_REQUEST:
            self._certificate_requested = True
            return None
        if msg_type in (HandshakeType.CERTIFICATE_STATUS, HandshakeType.SERVER_KEY_EXCHANGE):
            return None
        if msg_type == HandshakeType.SERVER_HELLO_DONE:
            return self._flight_done()
        raise MalformedMessage(Malformation.UNEXPECTED_MESSAGE, msg_type)

    def _so_far(self) -> ServerHelloAnswer:
        """The ServerHello with what of the rest of the flight came."""
        assert self._hello is not None
        return self._hello._replace(
            certificates=self._certificates,
            chain_length=self._chain_length,
            certificate_requested=self._certificate_requested,
        )

    def _flight_done(self) -> ServerHelloAnswer:
        """ServerHelloDone: what a client checks before it sends its key exchange."""
        answer = self._so_far()
        problems = list(answer.problems)
        chain = answer.certificates
        if chain is None:
            if _needs_certificate(answer.cipher_suite):
                problems.append(ChoiceProblem(Problem.NO_CERTIFICATE, answer.cipher_suite))
        elif not chain:
            problems.append(ChoiceProblem(Problem.EMPTY_CERTIFICATE_LIST, 0))
        elif not _readable(chain[0]):
            problems.append(ChoiceProblem(Problem.UNREADABLE_CERTIFICATE, len(chain[0])))
        return answer._replace(certificates=chain or (), problems=tuple(problems))

    @staticmethod
    def _read_certificates(body: bytes) -> tuple[tuple[bytes, ...], int]:
        what = Malformation.BAD_CERTIFICATE_MESSAGE
        cur = Cursor(body, what)
        entries = Cursor(cur.vec24(), what)
        if not cur.done():
            raise MalformedMessage(what, len(body))
        chain: list[bytes] = []
        count = 0
        while not entries.done():
            der = entries.vec24()
            count += 1
            if len(chain) < MAX_CHAIN:
                chain.append(der)
        return tuple(chain), count

    def _server_hello(self, hello: ParsedHello) -> ServerAnswer | None:
        spec = self.spec
        problems: list[ChoiceProblem] = []

        def problem(kind: Problem, value: int) -> None:
            problems.append(ChoiceProblem(kind, value))

        if hello.random == HRR_RANDOM:
            return self._retry(hello)
        if len(hello.session_id) > 32:  # RFC 5246 7.4.1.3, RFC 8446 4.1.3: at most 32 bytes
            problem(Problem.SESSION_ID_TOO_LONG, len(hello.session_id))
        if hello.version not in spec.sent_versions():
            problem(Problem.VERSION_NOT_OFFERED, hello.version)
        elif hello.version < spec.min_version:
            problem(Problem.VERSION_BELOW_MINIMUM, hello.version)
        if hello.cipher_suite not in spec.cipher_suites or hello.cipher_suite in GREASE:
            problem(Problem.SUITE_NOT_OFFERED, hello.cipher_suite)
        elif is_tls13_suite(hello.cipher_suite) != (hello.version == TlsVersion.TLS1_3):
            problem(Problem.SUITE_NOT_FOR_VERSION, hello.cipher_suite)
        if hello.compression not in spec.compression_methods:
            problem(Problem.COMPRESSION_NOT_OFFERED, hello.compression)
        offered_exts = set(spec.extensions)
        if RENEGOTIATION_SCSV in spec.cipher_suites:
            offered_exts.add(ExtensionType.RENEGOTIATION_INFO)
        for ext in hello.order:
            if ext not in offered_exts:
                problem(Problem.EXTENSION_NOT_OFFERED, ext)
        group: int | None = None
        if hello.version == TlsVersion.TLS1_3:
            if hello.session_id != self.session_id:
                problem(Problem.SESSION_ID_MISMATCH, len(hello.session_id))
            if ExtensionType.KEY_SHARE in hello.extensions:
                share = Cursor(hello.extensions[ExtensionType.KEY_SHARE], Malformation.BAD_SERVER_HELLO)
                group = share.u16()
                share.vec16()
                if group not in spec.supported_groups:
                    problem(Problem.GROUP_NOT_OFFERED, group)
                elif group not in self.shared:
                    problem(Problem.GROUP_WITHOUT_KEY_SHARE, group)
            else:  # no PSK was offered, so (EC)DHE it must be (RFC 8446 4.2.8)
                problem(Problem.NO_KEY_SHARE, 0)
        elif spec.offered_versions() and max(spec.offered_versions()) == TlsVersion.TLS1_3:
            tail = hello.random[-8:]
            if (hello.version == TlsVersion.TLS1_2 and tail == DOWNGRADE_TLS12) or (
                hello.version < TlsVersion.TLS1_2 and tail in (DOWNGRADE_TLS12, DOWNGRADE_TLS11)
            ):
                problem(Problem.DOWNGRADE_SENTINEL, hello.version)
        formats: tuple[int, ...] | None = None
        if ExtensionType.EC_POINT_FORMATS in hello.extensions:
            formats = tuple(
                Cursor(hello.extensions[ExtensionType.EC_POINT_FORMATS], Malformation.BAD_SERVER_HELLO).vec8()
            )
        alpn: str | None = None
        if ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION in hello.extensions:
            cur = Cursor(
                hello.extensions[ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION], Malformation.BAD_SERVER_HELLO
            )
            chosen = Cursor(cur.vec16(), Malformation.BAD_SERVER_HELLO).vec8()
            alpn = chosen.decode("ascii", "backslashreplace")
            if spec.alpn is not None and alpn not in spec.alpn:
                problem(Problem.ALPN_NOT_OFFERED, len(chosen))
        answer = ServerHelloAnswer(
            version=hello.version,
            cipher_suite=hello.cipher_suite,
            group=group,
            compression=hello.compression,
            extensions=hello.order,
            ec_point_formats=formats,
            alpn=alpn,
            certificates=None,
            chain_length=0,
            problems=tuple(problems),
            warnings=tuple(self._warnings),
        )
        if hello.version >= TlsVersion.TLS1_3 or problems:
            return answer  # the rest of a TLS 1.3 flight is encrypted; a broken choice decides already
        self._hello = answer
        return self._messages()

    def _retry(self, hello: ParsedHello) -> HelloRetry:
        spec = self.spec
        problems: list[ChoiceProblem] = []
        group: int | None = None
        if ExtensionType.KEY_SHARE in hello.extensions:
            cur = Cursor(hello.extensions[ExtensionType.KEY_SHARE], Malformation.BAD_SERVER_HELLO)
            group = cur.u16()
            if not cur.done():
                raise MalformedMessage(Malformation.BAD_SERVER_HELLO, ExtensionType.KEY_SHARE)
            if group not in spec.supported_groups or group in GREASE:
                problems.append(ChoiceProblem(Problem.GROUP_NOT_OFFERED, group))
            elif group in self.shared:
                problems.append(ChoiceProblem(Problem.HRR_GROUP_ALREADY_SHARED, group))
        if hello.version != TlsVersion.TLS1_3 or TlsVersion.TLS1_3 not in spec.offered_versions():
            problems.append(ChoiceProblem(Problem.VERSION_NOT_OFFERED, hello.version))
        if hello.cipher_suite not in spec.cipher_suites or not is_tls13_suite(hello.cipher_suite):
            problems.append(ChoiceProblem(Problem.SUITE_NOT_OFFERED, hello.cipher_suite))
        if hello.session_id != self.session_id:
            problems.append(ChoiceProblem(Problem.SESSION_ID_MISMATCH, len(hello.session_id)))
        return HelloRetry(group, hello.cipher_suite, 44 in hello.extensions, tuple(problems))


def _needs_certificate(suite: int) -> bool:
    """A TLS <= 1.2 suite that authenticates the server with a certificate (not anonymous, PSK or SRP-only)."""
    from ..suites import CIPHER_SUITES

    known = CIPHER_SUITES.get(suite)
    return known is not None and known.auth is not None


def _readable(der: bytes) -> bool:
    """Whether the leaf is a DER certificate at all (one SEQUENCE of its whole length, starting with the
    to-be-signed SEQUENCE), as every client must find before it goes on. What only a strict parser refuses is
    for each client's own rules and the chain's judgement, not a refusal by all; the judgement reads the
    certificate (once, x509/parse.py), not the probe."""
    from ...x509.der import DerError, tlv

    try:
        tag, start, end, _ = tlv(der, 0)
        return tag == 0x30 and end == len(der) and tlv(der, start)[0] == 0x30
    except DerError:
        return False
