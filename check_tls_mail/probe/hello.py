"""One client's probe at the ClientHello: connect, speak the dialect, send that client's own hello, read the answer.

Handshake layer beside handshake.py: the outcome is the same typed
``HandshakeOutcome`` (outcome.py), made from tls/hello/answer.py's
``ServerAnswer``, which it carries for the diagnosis and the long output.
No full handshake: the server's answer to the hello decides.
"""

from __future__ import annotations

import contextlib
import time

from ..errors import ServerTimeout, ServiceError
from ..net.transport import Connection, Deadline, connection_error
from ..tls.alerts import Alert
from ..tls.hello.answer import (
    AlertAnswer,
    ConnectionEnded,
    CutAfterHello,
    Ending,
    HelloRetry,
    Malformed,
    NotTls,
    ServerAnswer,
    ServerHelloAnswer,
)
from ..tls.hello.exchange import exchange_hello
from ..tls.hello.spec import HelloSpec
from ..tls.registry import group_name, suite_name
from ..tls.versions import TlsVersion
from .handshake import Target
from .outcome import Accepted, Failed, HandshakeCause, HandshakeOutcome, Rejected


def probe_hello(target: Target, spec: HelloSpec, deadline: Deadline) -> HandshakeOutcome:
    """Run one hello probe. Never raises for anything the server does."""
    started = time.monotonic()
    conn: Connection | None = None

    def said() -> tuple[tuple[str, str], ...]:
        return tuple(conn.transcript) if conn else ()

    def remarks() -> tuple[str, ...]:
        return tuple(conn.remarks) if conn else ()

    try:
        conn = Connection.open(target.address, deadline)
        target.dialect.negotiate(conn)
        try:
            exchange = exchange_hello(conn.sock, spec, deadline)
        except OSError as exc:  # the encoder and reader never raise for the server; a socket error here is one
            raise connection_error(exc, target.address) from None
    except ServiceError as exc:
        return Failed(exc, time.monotonic() - started, said(), remarks())
    finally:
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.sock.close()
    return outcome(exchange.answer, time.monotonic() - started, said(), remarks())


def outcome(
    answer: ServerAnswer, seconds: float, transcript: tuple[tuple[str, str], ...] = (), remarks: tuple[str, ...] = ()
) -> HandshakeOutcome:
    """The typed outcome of a hello probe from the server's answer."""

    def rejected(cause: HandshakeCause, alert: Alert | None = None, detail: str = "", hello: bool = False) -> Rejected:
        return Rejected(cause, alert, seconds, transcript, detail, hello, remarks=remarks, answer=answer)

    if isinstance(answer, ServerHelloAnswer):
        version = TlsVersion.of(answer.version)
        if not answer.accepted or version is None:  # a version no client offers is a problem of the answer
            return rejected(HandshakeCause.CHOICE_REFUSED, hello=True)
        return Accepted(
            version,
            suite_name(answer.cipher_suite, openssl=True),
            answer.certificates or (),
            answer.chain_length,
            seconds,
            transcript,
            remarks=remarks,
            group=group_name(answer.group) if answer.group is not None else "",
            answer=answer,
        )
    if isinstance(answer, CutAfterHello):  # it chose, then ended its flight: never about the offer's suites
        requested = answer.hello.certificate_requested
        if answer.ending is Ending.TIMEOUT:  # the server's own flight stopped: its doing, not the connection's
            return Rejected(
                HandshakeCause.STALLED, None, seconds, transcript, "", True, requested, remarks, answer=answer
            )
        if answer.alert is not None:
            alert = answer.alert.alert
            return Rejected(
                HandshakeCause.ALERT,
                alert,
                seconds,
                transcript,
                "" if alert else f"alert {answer.alert.code}",
                True,
                requested,
                remarks,
                answer=answer,
            )
        cause = HandshakeCause.RESET if answer.ending is Ending.RESET else HandshakeCause.CLOSED
        return Rejected(cause, None, seconds, transcript, "", True, requested, remarks, answer=answer)
    if isinstance(answer, HelloRetry):
        if not answer.accepted:
            return rejected(HandshakeCause.CHOICE_REFUSED, hello=True)
        group = group_name(answer.group) if answer.group is not None else ""
        return Accepted(
            TlsVersion.TLS1_3,
            suite_name(answer.cipher_suite, openssl=True),
            (),
            0,
            seconds,
            transcript,
            remarks=remarks,
            group=group,
            answer=answer,
        )
    if isinstance(answer, AlertAnswer):
        alert = answer.alert.alert
        if alert is Alert.close_notify:
            return rejected(HandshakeCause.CLOSE_NOTIFY)
        return rejected(HandshakeCause.ALERT, alert, detail="" if alert else f"alert {answer.alert.code}")
    if isinstance(answer, ConnectionEnded):
        if answer.how is Ending.TIMEOUT:
            return Failed(
                ServerTimeout(f"no answer to the ClientHello within {seconds:.1f} s"), seconds, transcript, remarks
            )
        return rejected(HandshakeCause.RESET if answer.how is Ending.RESET else HandshakeCause.CLOSED)
    if isinstance(answer, NotTls):
        return rejected(HandshakeCause.NOT_TLS)
    assert isinstance(answer, Malformed)
    return rejected(HandshakeCause.MALFORMED, detail=answer.what.value)
