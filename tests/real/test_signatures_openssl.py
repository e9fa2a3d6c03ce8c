"""A certificate signed by its issuer, as `openssl verify` decides it (x509/signatures.signed_by).

The check verifies signatures itself (the DER walk's TBSCertificate and signatureValue, cryptography's key
and primitives), not through cryptography's certificate parser: each case here is decided by OpenSSL too.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from chains import pem
from cryptography.hazmat.primitives import serialization
from oracle import openssl_verify
from pki import DAY, NOW, Issued, Pki, issue, new_key

from check_tls_mail.x509.parse import read
from check_tls_mail.x509.signatures import signed_by

#: AlgorithmIdentifier ecdsa-with-SHA256 (no parameters), and the same for SHA-384.
ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")
ECDSA_SHA384 = bytes.fromhex("300a06082a8648ce3d040303")


def der(issued: Issued) -> bytes:
    return issued.cert.public_bytes(serialization.Encoding.DER)


def openssl_verifies(tmp_path: Path, leaf: bytes, issuer: Issued, root: Issued | None) -> bool:
    """`openssl verify` of ``leaf`` (DER) with ``issuer`` as the trust anchor (and ``root`` above it)."""
    target = tmp_path / "leaf.der"
    target.write_bytes(leaf)
    # OpenSSL must decode it: what is refused here is the signature, not the encoding
    subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(target), "-noout"], capture_output=True, check=True)
    anchors = issuer.pem + (root.pem if root else b"")
    return openssl_verify(tmp_path, pem(leaf), anchors, b"", "-partial_chain").returncode == 0


def ecdsa_leaf(pki: Pki) -> bytes:
    return der(pki.leaf(("signed.example.test",)))


def outer_algorithm_changed(leaf: bytes) -> bytes:
    """The certificate with its outer signatureAlgorithm SHA-384 where the TBSCertificate says SHA-256."""
    at = leaf.rindex(ECDSA_SHA256)
    assert at > leaf.index(ECDSA_SHA256), "the TBSCertificate's own algorithm is left as it is"
    return leaf[:at] + ECDSA_SHA384 + leaf[at + len(ECDSA_SHA256) :]


def bits_left_over(leaf: bytes) -> bytes:
    """The certificate with its signatureValue BIT STRING saying one bit of the last octet is unused."""
    at = leaf.rindex(ECDSA_SHA256) + len(ECDSA_SHA256)
    assert leaf[at] == 0x03 and leaf[at + 2] == 0x00, leaf[at : at + 3].hex()
    return leaf[: at + 2] + b"\x01" + leaf[at + 3 :]


def flipped_signature(leaf: bytes) -> bytes:
    """The certificate with one bit of its signature's last octet changed."""
    return leaf[:-1] + bytes([leaf[-1] ^ 0x01])


@pytest.mark.parametrize(
    ("case", "mutate", "expected"),
    [
        ("as issued", lambda d: d, True),
        ("outer signatureAlgorithm differs from the TBSCertificate's", outer_algorithm_changed, False),
        ("signatureValue with bits left over", bits_left_over, False),
        ("signature changed", flipped_signature, False),
    ],
)
def test_an_ecdsa_signature_is_verified_as_openssl_verifies_it(
    pki: Pki, tmp_path: Path, case: str, mutate: object, expected: bool
) -> None:
    leaf = mutate(ecdsa_leaf(pki))  # type: ignore[operator]
    assert openssl_verifies(tmp_path, leaf, pki.intermediate, pki.root) is expected, f"OpenSSL: {case}"
    assert signed_by(read(leaf), read(der(pki.intermediate))) is expected, case


def test_a_certificate_is_not_signed_by_another_key_of_the_same_name(pki: Pki, tmp_path: Path) -> None:
    impostor = issue(pki.intermediate.cert.subject, new_key("ECDSA"), pki.root, NOW - DAY, NOW + 30 * DAY, ca=True)
    leaf = ecdsa_leaf(pki)
    assert not openssl_verifies(tmp_path, leaf, impostor, pki.root)
    assert not signed_by(read(leaf), read(der(impostor)))
    assert signed_by(read(leaf), read(der(pki.intermediate)))


@pytest.mark.parametrize("pss", [False, True], ids=["PKCS#1 v1.5", "RSASSA-PSS"])
def test_rsa_signatures_are_verified_as_openssl_verifies_them(tmp_path: Path, pss: bool) -> None:
    ca = issue("RSA Test CA", new_key("RSA"), None, NOW - DAY, NOW + 300 * DAY, ca=True)
    leaf = issue("rsa.example.test", new_key("ECDSA"), ca, NOW - DAY, NOW + timedelta(days=30), ca=False, pss=pss)
    assert openssl_verifies(tmp_path, der(leaf), ca, None)
    assert signed_by(read(der(leaf)), read(der(ca)))
    assert not openssl_verifies(tmp_path, flipped_signature(der(leaf)), ca, None)
    assert not signed_by(read(flipped_signature(der(leaf))), read(der(ca)))


def test_an_ed25519_signature_is_verified(tmp_path: Path) -> None:
    ca = issue("Ed25519 Test CA", new_key("Ed25519"), None, NOW - DAY, NOW + 300 * DAY, ca=True)
    leaf = issue("ed.example.test", new_key("ECDSA"), ca, NOW - DAY, NOW + timedelta(days=30), ca=False)
    assert openssl_verifies(tmp_path, der(leaf), ca, None)
    assert signed_by(read(der(leaf)), read(der(ca)))
    assert not signed_by(read(flipped_signature(der(leaf))), read(der(ca)))
