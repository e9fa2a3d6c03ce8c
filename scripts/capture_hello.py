"""Capture the ClientHello a real TLS client sends, as hex, on a loopback port.

Used to record the hellos of clients installed on the checking host
(Postfix's posttls-finger, GnuTLS's gnutls-cli) for profiles.json, and by
scripts/capture_clients.py for clients installed in Debian chroots. The
listener speaks just enough of the protocol to reach STARTTLS: --smtp (or
--protocol smtp), --protocol imap, --protocol pop3; --protocol tls (the
default) is implicit TLS (IMAPS, SMTPS, POP3S): the hello comes first.

Usage: python scripts/capture_hello.py [--smtp | --protocol P] -- COMMAND... ({port} is replaced)
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import threading


def read_hello(conn: socket.socket) -> bytes:
    """The first handshake message's records, whole (the hello may span records)."""
    data = b""
    conn.settimeout(10)
    while True:
        while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        # enough when the handshake message in the records is complete
        body, rest = b"", data
        while len(rest) >= 5 and len(rest) >= 5 + int.from_bytes(rest[3:5], "big"):
            size = int.from_bytes(rest[3:5], "big")
            body += rest[5 : 5 + size]
            rest = rest[5 + size :]
        if len(body) >= 4 and len(body) >= 4 + int.from_bytes(body[1:4], "big"):
            return data
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk


#: What each dialogue sends first, and how it answers a command line until the client asks for TLS.
PROTOCOLS = ("tls", "smtp", "imap", "pop3")


def _dialogue(conn: socket.socket, protocol: str, transcript: list[str]) -> bool:
    """Speak ``protocol`` up to the client's STARTTLS (STLS); True when the client then starts TLS."""
    if protocol == "tls":
        return True
    reader = conn.makefile("rb")

    def send(text: str) -> None:
        transcript.append("S: " + text.rstrip("\r\n").replace("\r\n", "\nS: "))
        conn.sendall(text.encode())

    greeting = {
        "smtp": "220 mail.capture.test ESMTP capture\r\n",
        "imap": "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] capture ready\r\n",
        "pop3": "+OK capture ready\r\n",
    }[protocol]
    send(greeting)
    while True:
        line = reader.readline(4096)
        if not line:
            transcript.append("C: (closed)")
            return False
        text = line.decode("latin-1").rstrip("\r\n")
        transcript.append("C: " + text)
        words = text.split()
        if protocol == "smtp":
            verb = text[:4].upper()
            if verb == "EHLO":
                send("250-mail.capture.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 STARTTLS\r\n")
            elif verb == "HELO":
                send("250 mail.capture.test\r\n")
            elif verb == "STAR":
                send("220 2.0.0 Ready to start TLS\r\n")
                return True
            elif verb == "QUIT":
                send("221 2.0.0 Bye\r\n")
                return False
            else:
                send("250 2.0.0 Ok\r\n")
        elif protocol == "imap":
            tag, command = ([*words, "", ""])[:2] if words else ("*", "")
            command = command.upper()
            if command == "CAPABILITY":
                send(f"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n{tag} OK CAPABILITY completed\r\n")
            elif command == "STARTTLS":
                send(f"{tag} OK Begin TLS negotiation now\r\n")
                return True
            elif command == "LOGOUT":
                send(f"* BYE capture\r\n{tag} OK LOGOUT completed\r\n")
                return False
            elif command in ("LOGIN", "AUTHENTICATE"):
                send(f"{tag} NO [PRIVACYREQUIRED] STARTTLS first\r\n")
            else:
                send(f"{tag} OK {command or 'NOOP'} completed\r\n")
        else:  # pop3
            command = words[0].upper() if words else ""
            if command == "CAPA":
                send("+OK Capability list follows\r\nSTLS\r\nUSER\r\n.\r\n")
            elif command == "STLS":
                send("+OK Begin TLS negotiation\r\n")
                return True
            elif command == "QUIT":
                send("+OK bye\r\n")
                return False
            else:
                send("-ERR STLS first\r\n")


def serve_protocol(
    listener: socket.socket,
    protocol: str,
    out: list[bytes],
    transcript: list[str] | None = None,
    connections: int = 8,
) -> None:
    """Accept connections until one brings a ClientHello (at most ``connections``); append its records to ``out``.

    Each connection gets the ``protocol`` dialogue up to STARTTLS; then the
    whole first handshake message is read (records and TCP segments joined)
    and the connection closed without an answer.
    """
    transcript = transcript if transcript is not None else []
    for number in range(1, connections + 1):
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        transcript.append(f"-- connection {number}")
        with conn:
            conn.settimeout(30)
            try:
                if not _dialogue(conn, protocol, transcript):
                    continue
                hello = read_hello(conn)
            except OSError as error:
                transcript.append(f"-- {error}")
                continue
            transcript.append(f"C: (TLS record bytes: {len(hello)})")
            if len(hello) > 5 and hello[0] == 0x16:
                out.append(hello)
                return


def serve(listener: socket.socket, smtp: bool, out: list[bytes]) -> None:
    """The first connection's ClientHello, after SMTP STARTTLS with ``smtp`` (as the tests use it)."""
    serve_protocol(listener, "smtp" if smtp else "tls", out, connections=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smtp", action="store_true", help="the same as --protocol smtp")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="tls")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    out: list[bytes] = []
    protocol = "smtp" if args.smtp else args.protocol
    worker = threading.Thread(target=serve_protocol, args=(listener, protocol, out), daemon=True)
    worker.start()
    command = [part.replace("{port}", str(port)) for part in args.command]
    subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    worker.join(10)
    if not out:
        sys.exit("no ClientHello captured")
    print(out[0].hex())


if __name__ == "__main__":
    main()
