"""A test PKI made with cryptography: a root, intermediates and leaves with chosen keys and dates.

Certificates follow the web PKI profile that cryptography's verifier enforces
(key usage, AKI/SKI, subjectAltName), so a failure in a test is the scenario's,
not the test certificate's.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
NOW = datetime.now(UTC)
DAY = timedelta(days=1)


def new_key(key_type: str) -> Key:
    if key_type == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass
class Issued:
    cert: x509.Certificate
    key: Key
    issuer: Issued | None = None

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def chain_pem(self) -> bytes:
        """This certificate and the intermediates above it (not the root)."""
        out, node = self.pem, self.issuer
        while node is not None and node.issuer is not None:
            out += node.pem
            node = node.issuer
        return out

    def write(self, directory: Path, stem: str) -> tuple[str, str]:
        """(chain file, key file) for a server's load_cert_chain."""
        chain, key = directory / f"{stem}.chain.pem", directory / f"{stem}.key.pem"
        chain.write_bytes(self.chain_pem())
        key.write_bytes(self.key_pem)
        return str(chain), str(key)


def issue(
    subject: str,
    key: Key,
    issuer: Issued | None,
    not_before: datetime,
    not_after: datetime,
    ca: bool,
    names: tuple[str, ...] = (),
    raw_subject: x509.Name | None = None,
    eku: bool = True,
) -> Issued:
    """A certificate; a leaf has keyEncipherment too when its key is RSA (RSA key exchange), and EKU serverAuth
    unless ``eku`` is False."""
    signer_key = issuer.key if issuer else key
    signer_name = issuer.cert.subject if issuer else (raw_subject or _name(subject))
    builder = (
        x509.CertificateBuilder()
        .subject_name(raw_subject or _name(subject))
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        # digitalSignature, and keyEncipherment for an RSA key (RFC 5280 4.2.1.3: RSA key transport)
        rsa_key = isinstance(key, rsa.RSAPrivateKey)
        builder = builder.add_extension(
            x509.KeyUsage(True, False, rsa_key, False, False, False, False, False, False), critical=True
        )
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if names:
        sans: list[x509.GeneralName] = []
        for name in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                sans.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    digest = None if isinstance(signer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return Issued(builder.sign(signer_key, digest), key, issuer)


class Pki:
    """One root and intermediate, and leaves issued on demand (keys reused for speed)."""

    def __init__(self, directory: Path, name: str = "Test") -> None:
        self.directory = directory
        self._keys = {"RSA": new_key("RSA"), "ECDSA": new_key("ECDSA"), "Ed25519": new_key("Ed25519")}
        self.root = issue(f"{name} Root CA", new_key("ECDSA"), None, NOW - 400 * DAY, NOW + 3650 * DAY, ca=True)
        self.intermediate = self.sub_ca(f"{name} Intermediate CA", NOW - 30 * DAY, NOW + 1000 * DAY)
        self.root_file = str(directory / f"{name.lower()}-root.pem")
        Path(self.root_file).write_bytes(self.root.pem)

    def sub_ca(self, subject: str, not_before: datetime, not_after: datetime) -> Issued:
        return issue(subject, new_key("ECDSA"), self.root, not_before, not_after, ca=True)

    def leaf(
        self,
        names: tuple[str, ...] = ("mail.example.test",),
        key_type: str = "ECDSA",
        days_left: float = 60,
        lifetime: float = 90,
        issuer: Issued | None = None,
        subject: str | None = None,
        raw_subject: x509.Name | None = None,
        eku: bool = True,
    ) -> Issued:
        not_after = NOW + timedelta(days=days_left)
        return issue(
            subject or (names[0] if names else "no-san"),
            self._keys[key_type],
            issuer or self.intermediate,
            not_after - timedelta(days=lifetime),
            not_after,
            ca=False,
            names=names,
            raw_subject=raw_subject,
            eku=eku,
        )


class Certs:
    """Leaf files by scenario, made once per session (the ``certs`` fixture)."""

    def __init__(self, pki: Pki) -> None:
        self.pki = pki
        self._cache: dict[str, tuple[str, str]] = {}

    def get(self, stem: str, **leaf: object) -> tuple[str, str]:
        if stem not in self._cache:
            self._cache[stem] = self.pki.leaf(**leaf).write(self.pki.directory, stem)  # type: ignore[arg-type]
        return self._cache[stem]

    @property
    def ecdsa(self) -> tuple[str, str]:
        return self.get("ecdsa", key_type="ECDSA")

    @property
    def rsa(self) -> tuple[str, str]:
        return self.get("rsa", key_type="RSA")
