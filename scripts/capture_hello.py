"""Capture the ClientHello a real TLS client sends, as hex, on a loopback port.

Used once to record the hellos of clients installed on the checking host
(Postfix's posttls-finger, GnuTLS's gnutls-cli) for profiles.json. With
--smtp the listener first speaks just enough SMTP for STARTTLS.

Usage: python scripts/capture_hello.py [--smtp] PORT -- COMMAND... ({port} is replaced)
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


def serve(listener: socket.socket, smtp: bool, out: list[bytes]) -> None:
    conn, _ = listener.accept()
    with conn:
        if smtp:
            reader = conn.makefile("rb")
            conn.sendall(b"220 capture ESMTP\r\n")
            while True:
                line = reader.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250-capture\r\n250 STARTTLS\r\n")
                elif verb == b"STAR":
                    conn.sendall(b"220 2.0.0 go ahead\r\n")
                    break
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")
        out.append(read_hello(conn))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smtp", action="store_true")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    out: list[bytes] = []
    worker = threading.Thread(target=serve, args=(listener, args.smtp, out), daemon=True)
    worker.start()
    command = [part.replace("{port}", str(port)) for part in args.command]
    subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    worker.join(10)
    if not out:
        sys.exit("no ClientHello captured")
    print(out[0].hex())


if __name__ == "__main__":
    main()
