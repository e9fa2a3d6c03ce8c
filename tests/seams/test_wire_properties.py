"""The dialogues and the HTTP fetch in process, against a peer on a socket: any reply is a typed answer."""

from __future__ import annotations

import socket
import threading

import pytest
from fakeserver import MailServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from check_tls_mail.errors import ServiceError, StartTlsError
from check_tls_mail.net.dialects import PROTOCOLS
from check_tls_mail.net.transport import Address, Connection, Deadline

STARTTLS_DIALECTS = [name for name, d in PROTOCOLS.items() if d.starttls]


def _negotiate(protocol: str, server_bytes: bytes) -> BaseException | None:
    """Run a dialect against a peer that sends ``server_bytes`` and closes."""
    ours, theirs = socket.socketpair()

    def peer() -> None:
        try:
            theirs.sendall(server_bytes)
        except OSError:
            pass
        finally:
            theirs.shutdown(socket.SHUT_WR)

    writer = threading.Thread(target=peer, daemon=True)
    writer.start()
    conn = Connection(ours, Address(socket.AF_INET, ("127.0.0.1", 1)), Deadline(2))
    try:
        PROTOCOLS[protocol].negotiate(conn)
    except ServiceError as exc:
        return exc
    finally:
        writer.join(2)
        ours.close()
        theirs.close()
    return None


replies = st.lists(
    st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [
                b"220 ok",
                b"250-STARTTLS",
                b"250 STARTTLS",
                b"* OK [CAPABILITY STARTTLS]",
                b"+OK",
                b"STLS",
                b".",
                b'"STARTTLS"',
                b"OK",
                b"a1 OK",
                b"a2 OK",
                b"* CAPABILITY STARTTLS",
            ]
        ),
    ),
    max_size=30,
).map(lambda lines: b"\r\n".join(lines) + b"\r\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STARTTLS_DIALECTS), replies)
def test_dialects_turn_any_reply_into_a_service_error_or_success(protocol: str, data: bytes) -> None:
    outcome = _negotiate(protocol, data)
    assert outcome is None or isinstance(outcome, ServiceError)
    if outcome is not None:
        assert str(outcome).isprintable() and "|" not in str(outcome)


@pytest.mark.parametrize(
    ("protocol", "server"),
    [
        ("smtp", b"220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 go\r\n"),
        ("imap", b"* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\na2 OK go\r\n"),
        ("pop3", b"+OK ready\r\n+OK\r\nUSER\r\nSTLS\r\n.\r\n+OK go\r\n"),
        ("sieve", b'"IMPLEMENTATION" "x"\r\n"STARTTLS"\r\nOK "hi"\r\nOK "go"\r\n'),
    ],
)
def test_well_formed_dialogues_reach_the_handshake(protocol: str, server: bytes) -> None:
    assert _negotiate(protocol, server) is None


def test_multiline_ehlo_reply_is_read_whole() -> None:
    # STARTTLS on the last line of a long reply must be found (sslyze's single-recv bug).
    reply = b"220 mx\r\n" + b"".join(b"250-EXT%d\r\n" % i for i in range(60)) + b"250 STARTTLS\r\n220 go\r\n"
    assert _negotiate("smtp", reply) is None


def test_starttls_missing_from_capabilities() -> None:
    outcome = _negotiate("smtp", b"220 mx\r\n250-mx\r\n250 8BITMIME\r\n")
    assert isinstance(outcome, StartTlsError)


@pytest.mark.parametrize(("length", "oversized"), [("\xb2", False), ("12abc", False), ("-1", False), ("9" * 40, True)])
def test_a_hostile_content_length_never_raises_out_of_a_fetch(length: str, oversized: bool) -> None:
    """A Content-Length that is no plain number (a Unicode digit, garbage, negative, huge) is a typed answer."""
    from check_tls_mail.net.http import FetchFailure, HttpFailed, HttpResponse, request
    from check_tls_mail.net.transport import Deadline

    def serve(conn: socket.socket) -> None:
        conn.recv(4096)
        conn.sendall(f"HTTP/1.0 200 OK\r\nContent-Length: {length}\r\n\r\nhello".encode("latin-1"))

    with MailServer(serve) as server:
        answer = request(f"http://127.0.0.1:{server.port}/policy", Deadline(3), 1000)
    if oversized:  # refused before reading, by what it announces
        assert isinstance(answer, HttpFailed) and answer.failure is FetchFailure.OVERSIZED, answer
    else:  # no number: read to the end, bounded by the limit as any body
        assert isinstance(answer, HttpResponse) and answer.body == b"hello", answer
