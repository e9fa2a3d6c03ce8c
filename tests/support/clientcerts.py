"""Certificates for the client-constraint tests (pki.issue): one CA, and leaves by key kind."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from pki import Issued, issue, new_key

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


def ca() -> Issued:
    """The one CA of these tests (P-256, self-signed, no key identifiers), made once."""
    if "ca" not in _KEYS:
        _KEYS["ca"] = issue(
            "Constraints Test CA", new_key("ECDSA"), None, NOW - 400 * DAY, NOW + 3650 * DAY, ca=True, keyids=False
        )
    return _KEYS["ca"]  # type: ignore[return-value]


def leaf(
    kind: str = "p256",
    days: float = 90,
    not_before: datetime.datetime | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
    san: bool = True,
) -> x509.Certificate:
    """A leaf for NAME with a key of ``kind``, from ``not_before`` (a day ago) for ``days``, issued by ca()."""
    start = not_before or NOW - DAY
    return issue(
        NAME,
        key_of(kind),  # type: ignore[arg-type]
        ca(),
        start,
        start + datetime.timedelta(days=days),
        ca=False,
        names=(NAME,) if san else (),
        eku=eku or False,
    ).cert


SERVER_AUTH = [ExtendedKeyUsageOID.SERVER_AUTH]
