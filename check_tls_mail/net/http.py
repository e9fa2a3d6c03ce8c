"""Transport layer: one HTTP(S) request with http.client, bounded in time and size.

For the MTA-STS policy and ACME renewal information (HTTPS, certificate
verified, redirects not followed), OCSP and CRLs (plain HTTP). A watchdog closes the socket at the deadline, so
a server that trickles a byte a second cannot stretch the request past it.
Failures are typed results, never exceptions.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import http.client
import socket
import ssl
import threading
from urllib.parse import urlsplit

from ..records import NamedTuple
from ..sanitize import clean
from .transport import Deadline, error_words

#: Most header bytes http.client reads is its own limit (65536 per line, 100 lines).
READ_CHUNK = 65536


class FetchFailure(enum.Enum):
    UNREACHABLE = "unreachable"  # no address, refused, reset, unreachable network
    TIMEOUT = "timeout"  # the deadline passed
    TLS = "tls"  # TLS handshake failed for a reason other than the certificate
    CERTIFICATE = "certificate"  # the server's certificate does not verify for the host
    PROTOCOL = "protocol"  # not an HTTP response, or cut short
    OVERSIZED = "oversized"  # the body is larger than allowed


class HttpsCertificateProblem(enum.Enum):
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    NAME_MISMATCH = "not valid for the host name"
    UNTRUSTED = "not trusted"
    OTHER = "does not verify"


#: OpenSSL X509_V_ERR_* codes -> what the operator needs to know.
_VERIFY_CODES = {
    9: HttpsCertificateProblem.NOT_YET_VALID,
    10: HttpsCertificateProblem.EXPIRED,
    2: HttpsCertificateProblem.UNTRUSTED,
    18: HttpsCertificateProblem.UNTRUSTED,
    19: HttpsCertificateProblem.UNTRUSTED,
    20: HttpsCertificateProblem.UNTRUSTED,
    21: HttpsCertificateProblem.UNTRUSTED,
    62: HttpsCertificateProblem.NAME_MISMATCH,
    64: HttpsCertificateProblem.NAME_MISMATCH,
}


class HttpResponse(NamedTuple):
    url: str
    status: int
    reason: str  # cleaned
    content_type: str  # cleaned, as sent ("" if none)
    location: str  # cleaned, "" if none
    body: bytes
    retry_after: str = ""  # cleaned, as sent ("" if none): ACME renewal information schedules by it (RFC 9773)


class HttpFailed(NamedTuple):
    url: str
    failure: FetchFailure
    detail: str  # cleaned, for an operator
    certificate: HttpsCertificateProblem | None = None


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == (443 if scheme == "https" else 80) else f"{shown}:{port}"


def _addresses(
    host: str, port: int, deadline: Deadline, connect_to: tuple[str, int] | None, dns_server: tuple[str, int] | None
) -> list[tuple[int, tuple[str, int] | tuple[str, int, int, int]]]:
    """Where to connect; raises ResolveError (a ServiceError) when the name does not resolve."""
    if connect_to is not None:
        family = socket.AF_INET6 if ":" in connect_to[0] else socket.AF_INET
        return [(family, connect_to)]
    if dns_server is not None:
        from .resolver import lookup_addresses

        found = lookup_addresses(host, port, socket.AF_UNSPEC, dns_server, deadline)
    else:
        from .transport import resolve

        found = resolve(host, port, socket.AF_UNSPEC, deadline)
    return [(a.family, a.sockaddr) for a in found]


def _connect(
    url: str, addresses: list[tuple[int, tuple[str, int] | tuple[str, int, int, int]]], deadline: Deadline
) -> socket.socket | HttpFailed:
    last: HttpFailed | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        where = f"[{sockaddr[0]}]:{sockaddr[1]}" if family == socket.AF_INET6 else f"{sockaddr[0]}:{sockaddr[1]}"
        try:
            sock.settimeout(max(deadline.remaining(), 0.001))
            sock.connect(sockaddr)
            return sock
        except TimeoutError:
            sock.close()
            return HttpFailed(url, FetchFailure.TIMEOUT, f"connection to {where} timed out")
        except OSError as exc:
            sock.close()
            last = HttpFailed(url, FetchFailure.UNREACHABLE, f"{error_words(exc)} ({where})")
    return last or HttpFailed(url, FetchFailure.UNREACHABLE, "no address")


def request(
    url: str,
    deadline: Deadline,
    max_bytes: int,
    *,
    method: str = "GET",
    body: bytes | None = None,
    content_type: str | None = None,
    accept: str | None = None,
    ca_file: str | None = None,
    connect_to: tuple[str, int] | None = None,
    dns_server: tuple[str, int] | None = None,
) -> HttpResponse | HttpFailed:
    """One request; redirects are returned, never followed.

    ``https`` URLs are verified for the URL's host against ``ca_file`` or the
    system store. ``connect_to`` (ip, port) connects there instead of resolving
    the host (like curl's --connect-to); the name verified and sent stays the
    URL's. ``dns_server`` resolves the host with dnspython at that server.
    """
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        return HttpFailed(url, FetchFailure.UNREACHABLE, f"not an http(s) URL: {clean(url)}")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return HttpFailed(url, FetchFailure.UNREACHABLE, f"bad port in {clean(url)}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    from ..errors import ServiceError

    try:
        addresses = _addresses(host, port, deadline, connect_to, dns_server)
    except ServiceError as exc:
        failure = FetchFailure.TIMEOUT if deadline.remaining() <= 0 else FetchFailure.UNREACHABLE
        return HttpFailed(url, failure, str(exc))
    connected = _connect(url, addresses, deadline)
    if isinstance(connected, HttpFailed):
        return connected
    sock: socket.socket = connected
    # The watchdog: at the deadline, shut the socket down under whatever call is blocked.
    # socket.socket.shutdown (not SSLSocket's) leaves the TLS object alone.
    watchdog = threading.Timer(max(deadline.remaining(), 0.0), _shutdown, (sock,))
    watchdog.daemon = True
    watchdog.start()
    try:
        if scheme == "https":
            context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
            try:
                sock = context.wrap_socket(sock, server_hostname=host)
            except ssl.SSLCertVerificationError as exc:
                problem = _VERIFY_CODES.get(exc.verify_code, HttpsCertificateProblem.OTHER)
                detail = clean(exc.verify_message or str(exc), 160)
                return HttpFailed(url, FetchFailure.CERTIFICATE, detail, problem)
            watchdog.cancel()  # the TLS socket is a new object: watch it instead
            watchdog = threading.Timer(max(deadline.remaining(), 0.0), _shutdown, (sock,))
            watchdog.daemon = True
            watchdog.start()
        return _exchange(url, sock, host, port, scheme, path, method, body, content_type, accept, max_bytes, deadline)
    except (ssl.SSLError, OSError, http.client.HTTPException, ValueError, UnicodeError) as exc:
        if isinstance(exc, ValueError | UnicodeError) and not isinstance(exc, OSError):
            # what http.client cannot make sense of in a hostile answer (a header it cannot parse)
            return HttpFailed(url, FetchFailure.PROTOCOL, f"not an HTTP response ({clean(str(exc), 80)})")
        if deadline.remaining() <= 0 or isinstance(exc, TimeoutError):
            return HttpFailed(url, FetchFailure.TIMEOUT, "no complete answer before the deadline")
        if isinstance(exc, ssl.SSLError):
            return HttpFailed(url, FetchFailure.TLS, f"TLS handshake failed: {clean(exc.reason or str(exc))}")
        if isinstance(exc, http.client.IncompleteRead):
            return HttpFailed(url, FetchFailure.PROTOCOL, "connection closed before the whole body was sent")
        if isinstance(exc, http.client.HTTPException):
            return HttpFailed(url, FetchFailure.PROTOCOL, f"not an HTTP response ({exc.__class__.__name__})")
        if exc.errno == errno.ECONNRESET:
            return HttpFailed(url, FetchFailure.UNREACHABLE, "connection reset")
        return HttpFailed(url, FetchFailure.UNREACHABLE, clean(exc.strerror or str(exc)))
    finally:
        watchdog.cancel()
        sock.close()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _exchange(
    url: str,
    sock: socket.socket,
    host: str,
    port: int,
    scheme: str,
    path: str,
    method: str,
    body: bytes | None,
    content_type: str | None,
    accept: str | None,
    max_bytes: int,
    deadline: Deadline,
) -> HttpResponse | HttpFailed:
    conn = http.client.HTTPConnection(host, port)
    conn.sock = sock  # connected (and verified) by us: http.client only speaks HTTP on it
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", _host_header(host, port, scheme))
    conn.putheader("Connection", "close")
    conn.putheader("User-Agent", "check_tls_mail")
    if accept:
        conn.putheader("Accept", accept)
    if content_type:
        conn.putheader("Content-Type", content_type)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    length = response.length  # http.client's own reading of Content-Length (None: absent or not a number)
    if length is not None and length > max_bytes:
        return HttpFailed(url, FetchFailure.OVERSIZED, f"Content-Length {length} is over {max_bytes} bytes")
    data = b""
    while True:
        chunk = response.read(min(READ_CHUNK, max_bytes + 1 - len(data)))
        if not chunk:
            break
        data += chunk
        if len(data) > max_bytes:
            return HttpFailed(url, FetchFailure.OVERSIZED, f"more than {max_bytes} bytes")
    if deadline.remaining() <= 0:  # the watchdog cut the body short
        return HttpFailed(url, FetchFailure.TIMEOUT, "no complete answer before the deadline")
    return HttpResponse(
        url,
        response.status,
        clean(response.reason or "", 60),
        clean(response.getheader("Content-Type", "") or "", 100),
        clean(response.getheader("Location", "") or "", 200),
        data,
        clean(response.getheader("Retry-After", "") or "", 60),
    )
