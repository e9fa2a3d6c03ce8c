"""The oracle: a chain served by `openssl s_server`, judged by `openssl s_client` as an OpenSSL client would.

`openssl s_client -verify_hostname NAME -verify_return_error -CAfile ANCHORS`
verifies with libssl's default purpose for a TLS client (sslserver) and the
security level the system's OpenSSL is built with (2 on Debian), as Postfix's
SMTP client does with smtp_tls_security_level = verify.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from chains import Variant, key_pem, pem
from tlsservers import OpenSslServer


class OpenSslVerdict(NamedTuple):
    code: int  # X509_V_* code; 0 is ok; -1: the handshake failed without a verify error
    words: str  # OpenSSL's own words ("certificate has expired")
    depth: int | None  # depth of the certificate with the error
    output: str  # what s_client printed, for assertion messages


@contextmanager
def served(variant: Variant, directory: Path, accepts: int = 1) -> Iterator[int]:
    """`openssl s_server` with the variant's chain, sent as is, for ``accepts`` connections; yields the port."""
    leaf, key, chain = directory / "leaf.pem", directory / "key.pem", directory / "chain.pem"
    leaf.write_bytes(pem(variant.served[0]))
    key.write_bytes(key_pem(variant.key))
    chain.write_bytes(b"".join(pem(der) for der in variant.served[1:]))
    options = ["-cert", str(leaf), "-key", str(key), "-cipher", "DEFAULT:@SECLEVEL=0", "-naccept", str(accepts)]
    if len(variant.served) > 1:
        options += ["-cert_chain", str(chain)]
    with OpenSslServer(*options) as server:
        yield server.port


def s_client(port: int, variant: Variant, directory: Path) -> OpenSslVerdict:
    """`openssl s_client -verify_hostname NAME -verify_return_error -CAfile ANCHORS`; the verdict it reaches."""
    anchors = directory / "anchors.pem"
    anchors.write_bytes(b"".join(pem(der) for der in variant.anchors))
    command = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(anchors), "-verify_return_error"]
    try:
        ipaddress.ip_address(variant.host)
        command += ["-verify_ip", variant.host]
    except ValueError:
        command += ["-servername", variant.host, "-verify_hostname", variant.host]
    proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    output = proc.stdout + proc.stderr
    errors = re.findall(r"verify error:num=(\d+):(.*)", output)
    depth = re.findall(r"^depth=(\d+) ", output, re.M)
    if errors:
        code, words = errors[-1]
        return OpenSslVerdict(int(code), words.strip(), int(depth[-1]) if depth else None, output)
    final = re.search(r"Verify return code: (\d+) \((.*)\)", output)
    if proc.returncode == 0 and final and final.group(1) == "0":
        return OpenSslVerdict(0, "ok", None, output)
    return OpenSslVerdict(-1, _ssl_error(output), None, output)


def openssl_verify(
    directory: Path, leaf: bytes, anchors: bytes, untrusted: bytes = b"", *options: str
) -> subprocess.CompletedProcess[str]:
    """`openssl verify OPTIONS -CAfile ANCHORS [-untrusted UNTRUSTED] LEAF`: the PEM texts written to
    ``directory``; exit code 0 when OpenSSL's verifier accepts the leaf, its words in stdout and stderr."""
    (directory / "anchors.pem").write_bytes(anchors)
    (directory / "leaf.pem").write_bytes(leaf)
    command = ["openssl", "verify", *options, "-CAfile", str(directory / "anchors.pem")]
    if untrusted:
        (directory / "untrusted.pem").write_bytes(untrusted)
        command += ["-untrusted", str(directory / "untrusted.pem")]
    return subprocess.run([*command, str(directory / "leaf.pem")], capture_output=True, text=True, timeout=20)


def _ssl_error(output: str) -> str:
    """The libssl reason of a handshake that failed before or beside verification."""
    found = re.search(r"error:[0-9A-F]+:[^:]*:[^:]*:([^\n]*)", output)
    return found.group(1).strip() if found else "handshake failed"


def served_chain(port: int, host: str) -> tuple[bytes, ...]:
    """The chain the server sends (DER, leaf first, in its order), read without verifying anything."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    try:
        ipaddress.ip_address(host)
        server_hostname = None
    except ValueError:
        server_hostname = host.rstrip(".")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
        context.wrap_socket(sock, server_hostname=server_hostname) as tls,
    ):
        getter = getattr(tls, "get_unverified_chain", None) or tls._sslobj.get_unverified_chain  # type: ignore[attr-defined]
        items = getter() or []
        encoding = ssl._ssl.ENCODING_DER  # type: ignore[attr-defined]
        return tuple(c if isinstance(c, bytes) else c.public_bytes(encoding) for c in items)


def judge(variant: Variant) -> OpenSslVerdict:
    """Serve the variant and ask s_client."""
    with tempfile.TemporaryDirectory(prefix="oracle-") as name:
        directory = Path(name)
        with served(variant, directory) as port:
            return s_client(port, variant, directory)
