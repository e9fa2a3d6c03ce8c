"""A test PKI made with cryptography: a root, intermediates and leaves with chosen keys and dates.

Certificates follow the web PKI profile that cryptography's verifier enforces
(key usage, AKI/SKI, subjectAltName), so a failure in a test is the scenario's,
not the test certificate's. ``issue`` is the tests' one certificate builder:
chains.py (the corpus of odd chains), revocation_servers.py, clientcerts.py and
seam.py make theirs with it, leaving out or adding what their scenarios need.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
NOW = datetime.now(UTC)
DAY = timedelta(days=1)
#: keyCertSign and cRLSign: what a CA's key is for.
CA_USAGE = x509.KeyUsage(False, False, False, False, False, True, True, False, False)


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


#: The default of ``issue``'s ``usage``: keyCertSign and cRLSign for a CA; digitalSignature for a leaf, and
#: keyEncipherment too when its key is RSA (RFC 5280 4.2.1.3: RSA key transport).
DEFAULT_USAGE = object()


def issue(
    subject: str | x509.Name,
    key: Key,
    issuer: Issued | None,
    not_before: datetime,
    not_after: datetime,
    ca: bool,
    names: tuple[str, ...] = (),
    raw_subject: x509.Name | None = None,
    eku: bool | Sequence[x509.ObjectIdentifier] = True,
    *,
    usage: x509.KeyUsage | object | None = DEFAULT_USAGE,
    basic: bool = True,
    pathlen: int | None = None,
    keyids: bool = True,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
    extra: Sequence[tuple[x509.ExtensionType, bool]] = (),
    issuer_name: x509.Name | None = None,
    v1: bool = False,
    pss: bool = False,
) -> Issued:
    """A certificate of ``key``, signed by ``issuer`` (self-signed without one), with only what is asked for.

    By default in the web PKI profile: basicConstraints (critical), key identifiers, key usage (DEFAULT_USAGE),
    extendedKeyUsage serverAuth for a leaf (``eku``: False for none, or the purposes to name, for a CA too),
    subjectAltName of ``names`` (IP addresses as such). Then, when given: the OCSP responder (authority
    information access), the CRL distribution point, and ``extra`` extensions as (extension, critical).
    ``issuer_name`` names the issuer otherwise than its subject; ``v1`` makes a version 1 certificate, which
    has no extensions; ``pss`` signs with RSASSA-PSS (an RSA issuer). SHA-256 throughout, none for Ed25519.
    """
    name = subject if isinstance(subject, x509.Name) else (raw_subject or _name(subject))
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or (issuer.cert.subject if issuer else name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if v1:
        builder._version = x509.Version.v1  # no public way to make a v1 certificate
    else:
        for extension, critical in _extensions(key, issuer, ca, names, eku, usage, basic, pathlen, keyids):
            builder = builder.add_extension(extension, critical=critical)
        if ocsp_url:
            access = x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
            )
            builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
        if crl_url:
            point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        for extension, critical in extra:
            builder = builder.add_extension(extension, critical=critical)
    if isinstance(signer_key, ed25519.Ed25519PrivateKey):
        return Issued(builder.sign(signer_key, None), key, issuer)
    if pss:
        salted = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)
        return Issued(builder.sign(signer_key, hashes.SHA256(), rsa_padding=salted), key, issuer)  # type: ignore[arg-type]
    return Issued(builder.sign(signer_key, hashes.SHA256()), key, issuer)


def _extensions(
    key: Key,
    issuer: Issued | None,
    ca: bool,
    names: tuple[str, ...],
    eku: bool | Sequence[x509.ObjectIdentifier],
    usage: x509.KeyUsage | object | None,
    basic: bool,
    pathlen: int | None,
    keyids: bool,
) -> list[tuple[x509.ExtensionType, bool]]:
    """issue's extensions of the web PKI profile, in the order they are written."""
    out: list[tuple[x509.ExtensionType, bool]] = []
    if basic:
        out.append((x509.BasicConstraints(ca=ca, path_length=pathlen), True))
    if keyids:
        out.append((x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False))
        if issuer is not None:
            out.append((x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False))
    if usage is DEFAULT_USAGE:
        rsa_key = isinstance(key, rsa.RSAPrivateKey)
        usage = CA_USAGE if ca else x509.KeyUsage(True, False, rsa_key, False, False, False, False, False, False)
    if isinstance(usage, x509.KeyUsage):
        out.append((usage, True))
    purposes = ([] if ca else [ExtendedKeyUsageOID.SERVER_AUTH]) if eku is True else list(eku or [])
    if purposes:
        out.append((x509.ExtendedKeyUsage(purposes), False))
    if names:
        out.append((x509.SubjectAlternativeName([general_name(name) for name in names]), False))
    return out


def general_name(text: str) -> x509.GeneralName:
    """An IP address as an iPAddress, anything else as a dNSName."""
    try:
        return x509.IPAddress(ipaddress.ip_address(text))
    except ValueError:
        return x509.DNSName(text)


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
