"""Revocation test world: a test CA whose certificates name OCSP responders and CRLs on 127.0.0.1.

* OCSP answered by OpenSSL's own responder (``openssl ocsp -index index.txt
  -rsigner ... -CA ...``), fed each request through a small loopback HTTP
  front end (``-reqin``/``-respout``): ``openssl ocsp -port`` binds every
  interface, and the tests stay on loopback. Two responders: one delegated
  (a certificate with id-kp-OCSPSigning issued by the CA), one the CA itself.
  The index (``openssl ca`` format) has a good and a revoked serial; any
  other serial is unknown to it.
* OCSP answers OpenSSL's responder cannot make (expired, wrong signer, a
  responder without OCSPSigning, bad signature, another certificate's
  answer, tryLater, garbage, HTTP 500, oversized, no answer at all) are built
  with cryptography's OCSPResponseBuilder and served by the same front end.
* CRLs made with cryptography: the CA's (DER and PEM), stale, signed by
  another CA, signed with the wrong key, oversized, missing, garbage; and the
  root's CRL, which revokes one of two intermediates.
* RSA-PSS: an RSA intermediate whose OCSP answers (OpenSSL's responder with
  ``-rsigopt rsa_padding_mode:pss``) and CRL are signed with RSASSA-PSS.

Tests get it as the ``revocation_world`` fixture (tests/conftest.py), one per session.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from loopback import HttpServer, free_port
from pki import DAY, NOW, Issued, Key, issue, new_key

from check_tls_mail.checks.revocation.lookup import check
from check_tls_mail.net.transport import Deadline

#: When the revoked certificates were revoked (whole seconds: OpenSSL's index keeps no more).
REVOKED_AT = (NOW - 3 * DAY).replace(microsecond=0)
#: Served CRLs past this size are refused by the checker (revocation.MAX_CRL_BYTES); the big one is larger.
OVERSIZED_CRL_BYTES = 10 * 1024 * 1024 + 4096


def make(
    subject: str,
    key: Key,
    issuer: Issued | None,
    ca: bool = False,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
    usage: x509.ObjectIdentifier | None = ExtendedKeyUsageOID.SERVER_AUTH,
    days: tuple[float, float] = (-10, 80),
) -> Issued:
    """A certificate in the web PKI profile (pki.issue), with the revocation pointers the test needs.

    A leaf has one extended key usage, ``usage``, and its subject as its subjectAltName when that usage is
    serverAuth; a CA has neither.
    """
    server = usage == ExtendedKeyUsageOID.SERVER_AUTH and not ca
    return issue(
        subject,
        key,
        issuer,
        NOW + timedelta(days=days[0]),
        NOW + timedelta(days=days[1]),
        ca=ca,
        names=(subject,) if server else (),
        eku=[usage] if usage is not None and not ca else False,
        ocsp_url=ocsp_url,
        crl_url=crl_url,
    )


def der(issued: Issued) -> bytes:
    return issued.cert.public_bytes(serialization.Encoding.DER)


def make_crl(
    issuer_name: x509.Name,
    key: Key,
    revoked: list[tuple[int, x509.ReasonFlags]],
    last: timedelta = -DAY,
    next_: timedelta = 6 * DAY,
    claimed_key: Key | None = None,
    pss: bool = False,
) -> x509.CertificateRevocationList:
    """A CRL signed with ``key`` (RSA: with RSASSA-PSS if ``pss``); its authority key identifier names
    ``claimed_key`` if given (an impostor)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_name)
        .last_update(NOW + last)
        .next_update(NOW + next_)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key((claimed_key or key).public_key()), critical=False
        )
        .add_extension(x509.CRLNumber(1), critical=False)
    )
    for serial, reason in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(REVOKED_AT)
            .add_extension(x509.CRLReason(reason), critical=False)
            .build()
        )
    if pss:
        mgf = padding.MGF1(hashes.SHA256())
        return builder.sign(key, hashes.SHA256(), rsa_padding=padding.PSS(mgf, padding.PSS.DIGEST_LENGTH))  # type: ignore[arg-type]
    return builder.sign(key, hashes.SHA256())


def _openssl_time(moment: object) -> str:
    return moment.strftime("%y%m%d%H%M%SZ")  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Responder:
    """One OpenSSL OCSP responder configuration (run per request)."""

    index: Path
    ca: Path
    signer: Path
    signer_key: Path
    by_key: bool = False
    #: more options for the signature, such as ("-rsigopt", "rsa_padding_mode:pss")
    signing: tuple[str, ...] = ()

    def answer(self, request: bytes) -> bytes:
        with tempfile.TemporaryDirectory() as work:
            req, resp = Path(work) / "req.der", Path(work) / "resp.der"
            req.write_bytes(request)
            command = (
                [
                    "openssl",
                    "ocsp",
                    "-index",
                    str(self.index),
                    "-CA",
                    str(self.ca),
                    "-rsigner",
                    str(self.signer),
                    "-rkey",
                    str(self.signer_key),
                    "-ndays",
                    "1",
                    "-reqin",
                    str(req),
                    "-respout",
                    str(resp),
                ]
                + (["-resp_key_id"] if self.by_key else [])
                + list(self.signing)
            )
            subprocess.run(command, capture_output=True, timeout=20, check=True)
            return resp.read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: RevocationServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path))
        if self.path == "/oversized.crl":  # no Content-Length: the cap must hold while reading
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.end_headers()
            chunk = b"\x00" * 65536
            sent = 0
            while sent < OVERSIZED_CRL_BYTES:
                self.wfile.write(chunk)
                sent += len(chunk)
            return
        body = self.server.crls.get(self.path)
        if body is None:
            self._send(404, b"not found\n", "text/plain")
        else:
            self._send(200, body, "application/pkix-crl")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = self.rfile.read(length)
        self.server.requests.append(("POST", self.path))
        name = self.path.strip("/")
        if name in self.server.responders:
            self._send(200, self.server.responders[name].answer(request), "application/ocsp-response")
        elif name == "ocsp/status500":
            self._send(500, b"internal error\n", "text/plain")
        elif name == "ocsp/slow":
            time.sleep(8)  # longer than any test waits
        elif name in self.server.ocsp_answers:
            self._send(200, self.server.ocsp_answers[name], "application/ocsp-response")
        else:
            self._send(404, b"no such responder\n", "text/plain")


class RevocationServer(HttpServer):
    """The front end on 127.0.0.1: CRLs by path, OCSP answers by path, OpenSSL's responders by name."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.crls: dict[str, bytes] = {}
        self.ocsp_answers: dict[str, bytes] = {}
        self.responders: dict[str, Responder] = {}

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"


#: leaf name -> (OCSP path or None, CRL path or None)
LEAVES: dict[str, tuple[str | None, str | None]] = {
    "ocsp-good": ("openssl/delegated", None),
    "ocsp-revoked": ("openssl/delegated", None),
    "ocsp-unknown": ("openssl/delegated", None),
    "ocsp-direct": ("openssl/direct", None),
    "ocsp-direct-revoked": ("openssl/direct", None),
    "ocsp-and-crl": ("openssl/delegated", "ca.crl"),  # OCSP first
    "ocsp-expired": ("ocsp/expired", None),
    "ocsp-wrong-signer": ("ocsp/wrong-signer", None),
    "ocsp-no-eku": ("ocsp/no-eku", None),
    "ocsp-bad-signature": ("ocsp/bad-signature", None),
    "ocsp-mismatch": ("ocsp/mismatch", None),
    "ocsp-trylater": ("ocsp/trylater", None),
    "ocsp-garbage": ("ocsp/garbage", None),
    "ocsp-status500": ("ocsp/status500", None),
    "ocsp-oversized": ("ocsp/oversized", None),
    "ocsp-slow": ("ocsp/slow", None),
    "ocsp-unreachable": ("UNREACHABLE", None),
    "crl-good": (None, "ca.crl"),
    "crl-revoked": (None, "ca.crl"),
    "crl-pem": (None, "ca.pem.crl"),
    "crl-stale": (None, "stale.crl"),
    "crl-wrong-signer": (None, "wrong-signer.crl"),
    "crl-bad-signature": (None, "bad-signature.crl"),
    "crl-oversized": (None, "oversized.crl"),
    "crl-missing": (None, "missing.crl"),
    "crl-garbage": (None, "garbage.crl"),
    "none": (None, None),
}
#: Leaves of the RSA intermediate whose OCSP answers and CRL are signed with RSASSA-PSS.
PSS_LEAVES: dict[str, tuple[str | None, str | None]] = {
    "ocsp-pss": ("openssl/pss", None),
    "ocsp-pss-revoked": ("openssl/pss", None),
    "crl-pss": (None, "pss.crl"),
    "crl-pss-revoked": (None, "pss.crl"),
}


@dataclass
class RevocationWorld:
    directory: Path
    server: RevocationServer
    root: Issued
    ca: Issued  # the intermediate every leaf in LEAVES comes from; good on the root's CRL
    revoked_ca: Issued  # another intermediate, revoked on the root's CRL
    rsa_ca: Issued  # the RSA intermediate of PSS_LEAVES, signing with RSASSA-PSS
    leaves: dict[str, Issued] = field(default_factory=dict)
    under_revoked_ca: Issued | None = None
    closed_port: int = 0
    files: dict[str, Path] = field(default_factory=dict)  # PEM files for openssl as an oracle

    def leaf(self, name: str) -> bytes:
        return der(self.leaves[name])

    @property
    def issuer(self) -> bytes:
        return der(self.ca)

    def issuer_of(self, name: str) -> bytes:
        return der(self.rsa_ca if name in PSS_LEAVES else self.ca)

    def issuer_file(self, name: str) -> Path:
        return self.files["rsa_ca" if name in PSS_LEAVES else "ca"]

    def pointers(self, name: str) -> tuple[str | None, str | None]:
        """(OCSP path, CRL path) of a leaf, as LEAVES and PSS_LEAVES name them."""
        return (LEAVES | PSS_LEAVES)[name]

    def ocsp_url(self, name: str) -> str:
        return self.server.url(self.pointers(name)[0] or "")

    def crl_url(self, name: str) -> str:
        return self.server.url(self.pointers(name)[1] or "")

    def status(self, name: str, seconds: float = 10) -> object:
        """What the check's revocation lookup says of a leaf (against its issuer), within ``seconds``."""
        return check(self.leaf(name), self.issuer_of(name), Deadline(seconds))


def _pem(path: Path, *issued: Issued) -> Path:
    path.write_bytes(b"".join(i.pem for i in issued))
    return path


def build(directory: Path) -> RevocationWorld:
    """Start the front end, issue the certificates with its URLs, write the index, make the answers."""
    server = RevocationServer().start()
    closed_port = free_port()
    root = make("Revocation Test Root", new_key("ECDSA"), None, ca=True, days=(-400, 3650))
    ca = make("Revocation Test CA", new_key("ECDSA"), root, ca=True, crl_url=server.url("root.crl"), days=(-30, 1000))
    revoked_ca = make(
        "Revoked Test CA", new_key("ECDSA"), root, ca=True, crl_url=server.url("root.crl"), days=(-30, 1000)
    )
    rsa_ca = make(
        "Revocation Test RSA CA", new_key("RSA"), root, ca=True, crl_url=server.url("root.crl"), days=(-30, 1000)
    )
    other_root = make("Unrelated Test Root", new_key("ECDSA"), None, ca=True, days=(-400, 3650))
    world = RevocationWorld(directory, server, root, ca, revoked_ca, rsa_ca, closed_port=closed_port)
    leaf_key = new_key("ECDSA")
    for name, (ocsp_path, crl_path) in (LEAVES | PSS_LEAVES).items():
        ocsp_url = None
        if ocsp_path == "UNREACHABLE":
            ocsp_url = f"http://127.0.0.1:{closed_port}/"
        elif ocsp_path:
            ocsp_url = server.url(ocsp_path)
        crl_url = server.url(crl_path) if crl_path else None
        issuer = rsa_ca if name in PSS_LEAVES else ca
        world.leaves[name] = make(f"{name}.example.test", leaf_key, issuer, ocsp_url=ocsp_url, crl_url=crl_url)
    world.under_revoked_ca = make("behind-revoked-ca.example.test", leaf_key, revoked_ca)

    # OpenSSL's responders: index.txt in `openssl ca` format (status, expiry, revocation, serial, file, subject).
    lines = []
    for name in ("ocsp-good", "ocsp-revoked", "ocsp-direct", "ocsp-direct-revoked", "ocsp-and-crl", *PSS_LEAVES):
        cert = world.leaves[name].cert
        revoked = f"{_openssl_time(REVOKED_AT)},keyCompromise" if name.endswith("revoked") else ""
        status = "R" if revoked else "V"
        serial = f"{cert.serial_number:X}"
        serial = "0" * (len(serial) % 2) + serial
        lines.append(
            f"{status}\t{_openssl_time(cert.not_valid_after_utc)}\t{revoked}\t{serial}\tunknown\t/CN={name}.example.test"
        )
    index = directory / "index.txt"
    index.write_text("\n".join(lines) + "\n")
    key_file = directory / "ca.key"
    key_file.write_bytes(ca.key_pem)
    delegated = make("Revocation Test OCSP Responder", new_key("ECDSA"), ca, usage=ExtendedKeyUsageOID.OCSP_SIGNING)
    delegated_key = directory / "responder.key"
    delegated_key.write_bytes(delegated.key_pem)
    ca_file = _pem(directory / "ca.pem", ca)
    server.responders["openssl/delegated"] = Responder(
        index, ca_file, _pem(directory / "responder.pem", delegated), delegated_key
    )
    server.responders["openssl/direct"] = Responder(index, ca_file, ca_file, key_file, by_key=True)
    rsa_key_file = directory / "rsa-ca.key"
    rsa_key_file.write_bytes(rsa_ca.key_pem)
    rsa_ca_file = _pem(directory / "rsa-ca.pem", rsa_ca)
    server.responders["openssl/pss"] = Responder(
        index, rsa_ca_file, rsa_ca_file, rsa_key_file, signing=("-rmd", "sha256", "-rsigopt", "rsa_padding_mode:pss")
    )

    # Answers OpenSSL's responder cannot make.
    def answer(
        leaf: Issued,
        signer: Issued,
        include: bool,
        this_update: timedelta = -timedelta(hours=1),
        next_update: timedelta = DAY,
    ) -> bytes:
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=leaf.cert,
                issuer=ca.cert,
                algorithm=hashes.SHA1(),
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=NOW + this_update,
                next_update=NOW + next_update,
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
        )
        if include:
            builder = builder.certificates([signer.cert])
        return builder.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]

    leaves = world.leaves
    stranger = make("Stranger OCSP Responder", new_key("ECDSA"), other_root, usage=ExtendedKeyUsageOID.OCSP_SIGNING)
    no_eku = make("Not An OCSP Responder", new_key("ECDSA"), ca, usage=ExtendedKeyUsageOID.SERVER_AUTH)
    good_answer = answer(leaves["ocsp-bad-signature"], ca, include=False)
    server.ocsp_answers.update(
        {
            "ocsp/expired": answer(leaves["ocsp-expired"], ca, False, -10 * DAY, -3 * DAY),
            "ocsp/wrong-signer": answer(leaves["ocsp-wrong-signer"], stranger, include=True),
            "ocsp/no-eku": answer(leaves["ocsp-no-eku"], no_eku, include=True),
            # an ECDSA signature ends with the last byte of s: flipping it keeps the DER valid
            "ocsp/bad-signature": good_answer[:-1] + bytes([good_answer[-1] ^ 0x01]),
            "ocsp/mismatch": answer(leaves["ocsp-good"], ca, include=False),
            "ocsp/trylater": ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.TRY_LATER
            ).public_bytes(serialization.Encoding.DER),
            "ocsp/garbage": b"<html>not OCSP</html>\n",
            "ocsp/oversized": b"\x30" * (70 * 1024),
        }
    )

    # CRLs.
    revoked_leaf = [(leaves["crl-revoked"].cert.serial_number, x509.ReasonFlags.key_compromise)]
    ca_crl = make_crl(ca.cert.subject, ca.key, revoked_leaf)
    impostor_key = new_key("ECDSA")
    pss_crl = make_crl(
        rsa_ca.cert.subject,
        rsa_ca.key,
        [(leaves["crl-pss-revoked"].cert.serial_number, x509.ReasonFlags.key_compromise)],
        pss=True,
    )
    server.crls.update(
        {
            "/root.crl": make_crl(
                root.cert.subject, root.key, [(revoked_ca.cert.serial_number, x509.ReasonFlags.ca_compromise)]
            ).public_bytes(serialization.Encoding.DER),
            "/ca.crl": ca_crl.public_bytes(serialization.Encoding.DER),
            "/ca.pem.crl": ca_crl.public_bytes(serialization.Encoding.PEM),
            "/stale.crl": make_crl(ca.cert.subject, ca.key, [], -10 * DAY, -2 * DAY).public_bytes(
                serialization.Encoding.DER
            ),
            "/wrong-signer.crl": make_crl(other_root.cert.subject, other_root.key, []).public_bytes(
                serialization.Encoding.DER
            ),
            "/bad-signature.crl": make_crl(ca.cert.subject, impostor_key, [], claimed_key=ca.key).public_bytes(
                serialization.Encoding.DER
            ),
            "/pss.crl": pss_crl.public_bytes(serialization.Encoding.DER),
            "/garbage.crl": b"-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n",
        }
    )
    for name, crl_bytes in (("ca.crl.pem", ca_crl.public_bytes(serialization.Encoding.PEM)),):
        (directory / name).write_bytes(crl_bytes)
    world.files = {
        "root": _pem(directory / "root.pem", root),
        "ca": ca_file,
        "rsa_ca": rsa_ca_file,
        "chain": _pem(directory / "chain.pem", ca, root),
        "ca_crl": directory / "ca.crl.pem",
        **{name: _pem(directory / f"{name}.pem", issued) for name, issued in leaves.items()},
    }
    return world
