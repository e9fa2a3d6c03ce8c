"""Hostile and broken servers: a clear CRITICAL within the timeout, never a traceback."""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import time
from collections.abc import Callable

import pytest
from fakeserver import Lines, MailServer, TlsConfig, hold
from loopback import free_port
from pki import DAY, NOW, Certs, Pki, issue, new_key
from runs import CLI_SLACK, NAME, args_for, check

#: The -t of every run here: a silent server holds out far longer (fakeserver.HOLD), so only -t ends those runs.
TIMEOUT = 3.0


def run_fault(handler: Callable[[socket.socket], None], protocol: str = "submission", *extra: str):
    with MailServer(handler) as server:
        run = check(
            "-H",
            "127.0.0.1",
            "--servername",
            NAME,
            "-p",
            str(server.port),
            "-P",
            protocol,
            "-t",
            str(TIMEOUT),
            "--client",
            "none",
            *extra,
        )
    assert run.seconds < TIMEOUT + CLI_SLACK, run  # ended by its -t, well before the server lets go
    assert run.code == 2, run.stdout
    first = run.first_line
    assert first.count("|") <= 1 and len(first.encode()) < 1024
    return run


def smtp_until(after: str, then: Callable[[Lines], None]) -> Callable[[socket.socket], None]:
    """A well-behaved SMTP server up to ``after`` (greeting, EHLO, STARTTLS), then ``then``."""

    def handler(sock: socket.socket) -> None:
        io = Lines(sock)
        if after == "connect":
            return then(io)
        io.send("220 fake ESMTP")
        if after == "greeting":
            return then(io)
        io.readline()
        io.send("250-fake", "250-STARTTLS", "250 8BITMIME")
        if after == "ehlo":
            return then(io)
        io.readline()
        io.send("220 go ahead")
        then(io)

    return handler


def silence(io: Lines) -> None:
    hold(io.sock)


def trickle(io: Lines) -> None:
    for byte in b"250-fake.example.test\r\n250 STARTTLS\r\n":
        io.sock.sendall(bytes([byte]))
        time.sleep(0.5)


def endless(io: Lines) -> None:
    with pytest.raises(OSError):
        while True:
            io.sock.sendall(b"250-SIZE 1000\r\n" * 100)


def megaline(io: Lines) -> None:
    with contextlib.suppress(OSError):
        io.sock.sendall(b"2" * 4 * 1024 * 1024)


def test_connection_refused() -> None:
    port = free_port()
    run = check("-H", "127.0.0.1", "-p", str(port), "-P", "submission", "-t", str(TIMEOUT))
    assert run.code == 2
    assert f"connection refused (127.0.0.1:{port})" in run.summary


def test_unresolvable_name_is_critical_and_says_so() -> None:
    run = check("-H", "no-such-host.invalid", "-P", "imaps", "-t", str(TIMEOUT))
    assert run.code == 2, run.stdout
    assert "cannot resolve no-such-host.invalid" in run.summary


def test_accept_then_silence() -> None:
    run = run_fault(smtp_until("connect", silence))
    assert "no reply" not in run.summary and "no SMTP greeting within" in run.summary


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        ("submission", "no reply to EHLO within"),
        ("imap", "no reply to CAPABILITY within"),
        ("pop3", "no reply to CAPA within"),
    ],
)
def test_greeting_then_silence(protocol: str, expected: str) -> None:
    greetings = {"submission": "220 fake ESMTP", "imap": "* OK fake", "pop3": "+OK fake"}

    def handler(sock: socket.socket) -> None:
        Lines(sock).send(greetings[protocol])
        hold(sock)

    run = run_fault(handler, protocol)
    assert expected in run.summary


def test_trickled_reply_cannot_stretch_the_check() -> None:
    run = run_fault(smtp_until("greeting", lambda io: (io.readline(), trickle(io))))
    assert "no reply to EHLO within" in run.summary
    assert "server sends slowly" in run.summary


def test_endless_multiline_reply() -> None:
    run = run_fault(smtp_until("greeting", lambda io: (io.readline(), endless(io))))
    assert "reply to EHLO has more than 100 lines" in run.summary


def test_megabyte_line_without_newline() -> None:
    run = run_fault(smtp_until("connect", megaline))
    assert "line longer than 4096 bytes" in run.summary


@pytest.mark.parametrize(
    ("banner", "expected"),
    [
        (b"\x00\xff\xfe garbage \x80\x81\r\n", "(binary data): \\x00\\xff\\xfe garbage \\x80\\x81"),
        (b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "this looks like an SSH server"),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "this looks like an HTTP server"),
        (b"* OK [CAPABILITY IMAP4rev1] ready\r\n", "this looks like an IMAP server"),
    ],
)
def test_wrong_protocol_or_garbage_instead_of_a_greeting(banner: bytes, expected: str) -> None:
    run = run_fault(lambda sock: (sock.sendall(banner), time.sleep(1)))
    assert "not an SMTP reply (SMTP greeting)" in run.summary
    assert expected in run.summary


def test_imap_greeting_on_port_25_is_named() -> None:
    run = run_fault(lambda sock: (sock.sendall(b"* OK Dovecot ready.\r\n"), time.sleep(1)), "smtp")
    assert "not an SMTP reply (SMTP greeting) (this looks like an IMAP server)" in run.summary


def test_421_greeting() -> None:
    run = run_fault(lambda sock: Lines(sock).send("421 4.3.2 Service shutting down"))
    assert "server refused the session: 421 4.3.2 Service shutting down" in run.summary


@pytest.mark.parametrize("reply", ["554 5.7.1 You are not welcome", "421 4.7.0 Try again later"])
def test_ehlo_rejected(reply: str) -> None:
    run = run_fault(smtp_until("greeting", lambda io: (io.readline(), io.send(reply))))
    assert f"server rejected EHLO: {reply}" in run.summary


def test_starttls_accepted_then_closed() -> None:
    # The server reads the ClientHello before it closes: a close with unread data would be a reset.
    run = run_fault(smtp_until("starttls", lambda io: io.sock.recv(4096)))
    assert "TLS handshake failed: server closed the connection during the handshake" in run.summary


def test_starttls_accepted_then_plaintext() -> None:
    run = run_fault(smtp_until("starttls", lambda io: (io.readline(), io.send("500 what?"), time.sleep(1))))
    assert "server did not answer with TLS" in run.summary


def test_plaintext_pipelined_with_the_starttls_reply_is_refused() -> None:
    def handler(sock: socket.socket) -> None:
        io = Lines(sock)
        io.send("220 fake ESMTP")
        io.readline()
        io.send("250-fake", "250 STARTTLS")
        io.readline()
        io.send("220 go ahead", "250 injected")
        time.sleep(1)

    run = run_fault(handler)
    assert "server sent unexpected plaintext after STARTTLS" in run.summary


def test_tls_alert_mid_handshake() -> None:
    def alert(io: Lines) -> None:
        io.sock.recv(4096)  # the ClientHello
        io.sock.sendall(bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]))  # fatal handshake_failure
        time.sleep(0.5)

    run = run_fault(smtp_until("starttls", alert))
    assert "TLS handshake failed: server sent TLS alert handshake failure" in run.summary


def test_reset_during_handshake() -> None:
    def reset(io: Lines) -> None:
        io.sock.recv(4096)
        io.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    run = run_fault(smtp_until("starttls", reset))
    assert "connection reset by the server during the handshake" in run.summary


def test_hundreds_of_certificates(tmp_path, pki: Pki, certs: Certs) -> None:
    leaf = pki.leaf(days_left=60)
    junk_key = new_key("ECDSA")
    chain = leaf.pem + b"".join(
        issue(f"junk {i}", junk_key, None, NOW - DAY, NOW + DAY, ca=True).pem for i in range(400)
    )
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(leaf.key_pem)
    ctx = TlsConfig([(str(tmp_path / "chain.pem"), str(tmp_path / "key.pem"))]).context()

    def serve(sock: socket.socket) -> None:
        with contextlib.suppress(ssl.SSLError, OSError):
            ctx.wrap_socket(sock, server_side=True).close()

    run = run_fault(serve, "imaps", "--ca-file", pki.root_file)
    assert "certificate chain too long" in run.summary


def test_hostile_names_cannot_forge_the_status_line(pki: Pki) -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    evil = "evil|x=1;2;3 \nTLS_MAIL OK - all fine\x1b[31m" + "A" * 3000
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, evil[:64])])
    leaf = pki.leaf(
        names=("pipe|name.example.test", "line\nbreak.example.test", "x" * 250 + ".test"), raw_subject=subject
    )
    chain = leaf.write(pki.directory, "evil")
    with MailServer.speaking("imaps", TlsConfig([chain])) as server:
        run = check(*args_for(server, "imaps", pki, "--client", "none", "-vvv"))
    assert run.code == 2
    first = run.first_line
    assert first.count("|") == 1 and "\x1b" not in run.stdout
    assert "name mismatch" in first and "pipe\\x7cname.example.test" in first
    assert not any(line.startswith("TLS_MAIL OK") for line in run.stdout.splitlines())
    assert all(line.isprintable() for line in run.stdout.splitlines())
    assert len(first.encode()) < 1024
