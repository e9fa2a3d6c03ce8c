"""A certificate's key, read from the subjectPublicKeyInfo the DER walk found (x509/keys.load_public_key).

The default check reads keys without cryptography's certificate parser; these tests hold it to that parser.
"""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.bindings._rust import openssl
from cryptography.hazmat.primitives import serialization
from pki import DAY, NOW, issue, new_key

from check_tls_mail.x509.keys import UNSUPPORTED, Curve, Key, KeyType, key_of, load_public_key
from check_tls_mail.x509.parse import parse


def test_the_loader_asked_is_cryptographys_public_one() -> None:
    """keys.py asks cryptography's Rust module for the loader to spare the serialization package's import; it
    must be the very function the public name is (cryptography 43 to 50). Should a release part them, this fails
    and keys.py should take the public name."""
    assert openssl.keys.load_der_public_key is serialization.load_der_public_key


@pytest.mark.parametrize(
    ("key_type", "expected"),
    [
        ("RSA", Key(KeyType.RSA, 2048)),
        ("ECDSA", Key(KeyType.ECDSA, 256, Curve.P256)),
        ("Ed25519", Key(KeyType.ED25519, 256)),
    ],
)
def test_the_key_read_from_the_walk_is_the_one_cryptographys_certificate_parser_reads(
    key_type: str, expected: Key
) -> None:
    issued = issue("key.example.test", new_key(key_type), None, NOW - DAY, NOW + 30 * DAY, ca=False)
    der = issued.cert.public_bytes(serialization.Encoding.DER)
    cert = parse(der)
    assert cert.key == expected
    assert cert.key == key_of(x509.load_der_x509_certificate(der).public_key())


@pytest.mark.parametrize("spki", [b"", b"\x30\x03\x02\x01\x00", bytes(40)], ids=["empty", "not a key", "zeros"])
def test_what_is_not_a_key_is_none(spki: bytes) -> None:
    assert load_public_key(spki) is None


def test_a_certificate_whose_key_cannot_be_read_has_an_unsupported_key() -> None:
    """The EC point of the key replaced by bytes that are no point: the certificate reads, its key does not."""
    issued = issue("key.example.test", new_key("ECDSA"), None, NOW - DAY, NOW + 30 * DAY, ca=False)
    der = issued.cert.public_bytes(serialization.Encoding.DER)
    point = issued.cert.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    broken = parse(der.replace(point, b"\x04" + bytes(len(point) - 1)))
    assert broken.key_algorithm is KeyType.ECDSA and broken.public_key is None
    assert broken.key is UNSUPPORTED
