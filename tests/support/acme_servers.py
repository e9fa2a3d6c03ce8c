"""ACME test world: an HTTPS server on loopback with ACME directories and renewalInfo answers (RFC 9773).

One scenario per first path segment: ``/<scenario>/directory`` is an ACME
directory whose ``renewalInfo`` is ``/<scenario>/renewal-info`` (none for
``no-ari``), and ``GET /<scenario>/renewal-info/<CertID>`` answers as the
scenario says (a window in the future, open now or past; Retry-After in
seconds, as a date, too short, absent; errors; hostile answers: huge, slow,
malformed, nested, a redirect to itself). Windows are placed around the
session's start (pki.NOW) to the minute, so a test can word them. Every
request is kept, so a test can count what the check asked and check the
CertID it sent. The certificate is the test PKI's, for 127.0.0.1: tests
trust it with --ca-file (pki.root_file).

Tests get it as the ``acme_server`` fixture (tests/conftest.py), one per session.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

from cryptography import x509
from loopback import Answer, HttpServer, send
from pki import NOW, Pki

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: The moment the windows are placed around: the session's start, to the minute.
BASE = NOW.replace(second=0, microsecond=0)
#: (start, end) of the scenarios' windows.
FUTURE = (BASE + 10 * DAY, BASE + 12 * DAY)
OPEN = (BASE - HOUR, BASE + 30 * DAY)
PAST = (BASE - 3 * DAY, BASE - DAY)
EXPLANATION = "https://acme.example.test/docs/incident-2026"
#: Past the check's limit (64 KiB) for a directory or a RenewalInfo object.
HUGE = 100 * 1024


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window(start: datetime, end: datetime, explanation: str | None = None) -> bytes:
    document: dict[str, object] = {"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)}}
    if explanation is not None:
        document["explanationURL"] = explanation
    return json.dumps(document).encode()


def cert_id(cert: x509.Certificate) -> str:
    """The CertID of RFC 9773 section 4.1, computed with cryptography, independently of the plugin's DER walk."""
    key_id = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert key_id is not None
    serial = cert.serial_number
    content = serial.to_bytes((serial.bit_length() + 8) // 8, "big")  # two's complement: a leading 0 if the top bit
    return ".".join(base64.urlsafe_b64encode(part).decode().rstrip("=") for part in (key_id, content))


def _http_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def renewal_answer(scenario: str, path: str) -> Answer:
    """What renewalInfo/<CertID> answers in ``scenario`` (``path`` is the request's, for the redirect)."""
    retry = (("Retry-After", "21600"),)
    answers = {
        "future": Answer(body=window(*FUTURE), headers=retry),
        "open": Answer(body=window(*OPEN, EXPLANATION), headers=retry),
        "past": Answer(body=window(*PAST, EXPLANATION), headers=retry),
        "no-retry-after": Answer(body=window(*FUTURE)),
        "short-retry": Answer(body=window(*FUTURE), headers=(("Retry-After", "1"),)),
        "long-retry": Answer(body=window(*FUTURE), headers=(("Retry-After", str(30 * 86400)),)),
        "date-retry": Answer(
            body=window(*FUTURE), headers=(("Retry-After", _http_date(datetime.now(UTC) + 2 * HOUR)),)
        ),
        "not-found": Answer(404, b'{"type": "urn:ietf:params:acme:error:malformed"}'),
        "server-error": Answer(500, b"oops", headers=(("Retry-After", "120"),)),
        "bad-json": Answer(body=b'{"suggestedWindow": {"start": '),
        "missing": Answer(body=json.dumps({"explanationURL": EXPLANATION}).encode()),
        "inverted": Answer(body=window(FUTURE[1], FUTURE[0])),
        "bad-time": Answer(body=json.dumps({"suggestedWindow": {"start": "tomorrow", "end": "later"}}).encode()),
        "huge": Answer(body=window(*FUTURE) + b" " * HUGE),
        "streamed": Answer(body=window(*FUTURE) + b" " * HUGE, length=False),
        "slow": Answer(body=window(*FUTURE), trickle=True),
        "redirect": Answer(302, headers=(("Location", path),)),
        "deep": Answer(body=b"[" * 30000 + b"]" * 30000),
    }
    return answers.get(scenario, Answer(404, b"no such scenario"))


class _Handler(BaseHTTPRequestHandler):
    server: AcmeServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.headers.get("Host") or "", self.path))
        scenario, _, rest = self.path.lstrip("/").partition("/")
        if rest == "directory":
            answer = self._directory(scenario)
        elif rest.startswith("renewal-info/"):
            answer = renewal_answer(scenario, self.path)
        else:
            answer = Answer(404, b"not found")
        send(self, replace(answer, content_type="application/json"))  # every answer of an ACME server is JSON

    def _directory(self, scenario: str) -> Answer:
        base = self.server.url(scenario)
        document = {
            "newNonce": f"{base}/new-nonce",
            "newAccount": f"{base}/new-account",
            "newOrder": f"{base}/new-order",
            "revokeCert": f"{base}/revoke-cert",
            "keyChange": f"{base}/key-change",
            "renewalInfo": f"{base}/renewal-info",
            "meta": {"termsOfService": "https://acme.example.test/terms"},
        }
        if scenario == "no-ari":
            del document["renewalInfo"]
        if scenario == "directory-error":
            return Answer(503, b"unavailable")
        if scenario == "directory-huge":
            return Answer(body=json.dumps(document).encode() + b" " * HUGE)
        if scenario == "directory-not-json":
            return Answer(body=b"<html>ACME</html>")
        if scenario == "directory-bad-url":
            document["renewalInfo"] = "http://127.0.0.1/renewal-info"
        return Answer(body=json.dumps(document).encode())


class AcmeServer(HttpServer):
    """HTTPS on 127.0.0.1 with a certificate of the test PKI; the TLS handshake runs in the request's thread."""

    def __init__(self, pki: Pki) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        chain, key = pki.leaf(names=("127.0.0.1",), subject="ACME test server").write(pki.directory, "acme-server")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(chain, key)
        self.ca_file = pki.root_file

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate: that is the test's point
        super().finish_request(tls, client_address)  # type: ignore[arg-type]

    def url(self, scenario: str, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}/{scenario}"

    def directory(self, scenario: str, host: str = "127.0.0.1") -> str:
        """The ACME directory URL of a scenario."""
        return f"{self.url(scenario, host)}/directory"

    def asked(self, scenario: str) -> list[str]:
        """The paths asked in a scenario, in order."""
        return [path for _, path in self.requests if path.startswith(f"/{scenario}/")]
