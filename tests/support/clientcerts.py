"""Certificates for the client-constraint tests: one CA, leaves by key kind, judged as the check reads them."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from check_tls_mail.judgement.violations import judge as judge_chain
from check_tls_mail.x509.parse import read

NAME = "mail.example.test"
NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


_KEYS: dict[str, object] = {}


def judge(chain: list[x509.Certificate], *rules: object) -> tuple[object, ...]:
    """The violations of a chain of cryptography's certificates, read as the check reads them."""
    return judge_chain([read(c.public_bytes(serialization.Encoding.DER)) for c in chain], *rules)  # type: ignore[arg-type]


def key_of(kind: str) -> object:
    """Keys reused across tests (RSA generation is slow)."""
    if kind not in _KEYS:
        _KEYS[kind] = {
            "rsa1024": lambda: rsa.generate_private_key(65537, 1024),
            "rsa2048": lambda: rsa.generate_private_key(65537, 2048),
            "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
            "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
            "k256": lambda: ec.generate_private_key(ec.SECP256K1()),
            "ed25519": ed25519.Ed25519PrivateKey.generate,
        }[kind]()
    return _KEYS[kind]


def ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    if "ca" not in _KEYS:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Constraints Test CA")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - 400 * DAY)
            .not_valid_after(NOW + 3650 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        _KEYS["ca"] = (cert, ca_key)
    return _KEYS["ca"]  # type: ignore[return-value]


def leaf(
    kind: str = "p256",
    days: float = 90,
    not_before: datetime.datetime | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
    san: bool = True,
) -> x509.Certificate:
    ca_cert, ca_key = ca()
    subject = key_of(kind)
    start = not_before or NOW - DAY
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)]))
        .issuer_name(ca_cert.subject)
        .public_key(subject.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, kind.startswith("rsa"), False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


SERVER_AUTH = [ExtendedKeyUsageOID.SERVER_AUTH]
