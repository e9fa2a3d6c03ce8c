"""x509/signatures.ecdsa: cryptography's ECDSA signature algorithm, made without its constructor's backend import.

It must verify exactly as ``ec.ECDSA(digest)`` does, must really spare the
import (else it is only a risk), and must fall back to the constructor when a
cryptography release stores the attributes otherwise.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from check_tls_mail.x509.signatures import ecdsa

DIGESTS = [hashes.SHA1, hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512]
DATA = b"tbsCertificate stand-in"


def verdict(key: ec.EllipticCurvePublicKey, signature: bytes, algorithm: ec.EllipticCurveSignatureAlgorithm) -> bool:
    try:
        key.verify(signature, DATA, algorithm)
    except InvalidSignature:
        return False
    return True


@pytest.mark.parametrize("digest", DIGESTS, ids=lambda d: d.name)
@pytest.mark.parametrize("curve", [ec.SECP256R1, ec.SECP384R1, ec.SECP521R1], ids=lambda c: c.name)
def test_it_verifies_as_the_constructors_object_does(
    curve: type[ec.EllipticCurve], digest: type[hashes.HashAlgorithm]
) -> None:
    key = ec.generate_private_key(curve())
    other = ec.generate_private_key(curve()).public_key()
    good = key.sign(DATA, ec.ECDSA(digest()))
    bad = good[:-1] + bytes([good[-1] ^ 1])
    cases = [(key.public_key(), good), (key.public_key(), bad), (other, good)]
    ours = [verdict(k, s, ecdsa(digest())) for k, s in cases]
    theirs = [verdict(k, s, ec.ECDSA(digest())) for k, s in cases]
    assert ours == theirs == [True, False, False]


def test_it_spares_the_backend_import() -> None:
    """In a fresh interpreter: verifying with it leaves cryptography's OpenSSL backend unimported; the
    constructor imports it (which is why the helper exists: if a release stops that, the helper can go)."""
    script = """
import sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from check_tls_mail.x509.signatures import ecdsa
key = ec.derive_private_key(7, ec.SECP256R1())
signature = key.sign(b"data", ec.ECDSA(hashes.SHA256())) if sys.argv[1] == "constructor" else None
backend = "cryptography.hazmat.backends.openssl.backend"
if sys.argv[1] == "helper":
    before = backend in sys.modules
    made = ecdsa(hashes.SHA256())
    signature = bytes.fromhex(sys.argv[2])
    key.public_key().verify(signature, b"data", made)  # raises if it does not verify
    print(type(made) is ec.ECDSA, before, backend in sys.modules)
else:
    print(backend in sys.modules)
"""
    signature = ec.derive_private_key(7, ec.SECP256R1()).sign(b"data", ec.ECDSA(hashes.SHA256())).hex()
    helper = subprocess.run(
        [sys.executable, "-c", script, "helper", signature], capture_output=True, text=True, check=True
    )
    constructor = subprocess.run(
        [sys.executable, "-c", script, "constructor"], capture_output=True, text=True, check=True
    )
    assert helper.stdout.split() == ["True", "False", "False"]
    assert constructor.stdout.split() == ["True"]


def test_a_release_that_stores_the_digest_otherwise_gets_the_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ec.ECDSA, "algorithm", property(lambda self: self._hash))
    monkeypatch.setattr(
        ec.ECDSA, "__init__", lambda self, algorithm, deterministic_signing=False: setattr(self, "_hash", algorithm)
    )
    digest = hashes.SHA256()
    made = ecdsa(digest)
    assert made.algorithm is digest
    assert "_algorithm" not in made.__dict__


class _RustLike(ec.ECDSA):
    """A class made otherwise: its ``__new__`` wants the digest (as a class written in Rust would)."""

    def __new__(cls, algorithm: hashes.HashAlgorithm, deterministic_signing: bool = False) -> _RustLike:
        made = super().__new__(cls)
        made._algorithm = algorithm
        made._deterministic_signing = deterministic_signing
        return made

    def __init__(self, algorithm: hashes.HashAlgorithm, deterministic_signing: bool = False) -> None:
        pass


class _Slotted:
    """A class without a ``__dict__`` (slots), whose objects the verifier would still accept."""

    __slots__ = ("algorithm", "deterministic_signing")

    def __init__(self, algorithm: hashes.HashAlgorithm, deterministic_signing: bool = False) -> None:
        self.algorithm = algorithm
        self.deterministic_signing = deterministic_signing


@pytest.mark.parametrize("made_otherwise", [_RustLike, _Slotted], ids=["new-wants-arguments", "no-dict"])
def test_a_release_whose_class_is_made_otherwise_gets_the_constructor(
    monkeypatch: pytest.MonkeyPatch, made_otherwise: type
) -> None:
    """Whatever the shortcut trips on, the constructor makes the object: never an error, never a refusal."""
    monkeypatch.setattr(ec, "ECDSA", made_otherwise)
    digest = hashes.SHA256()
    made = ecdsa(digest)
    assert type(made) is made_otherwise
    assert made.algorithm is digest
