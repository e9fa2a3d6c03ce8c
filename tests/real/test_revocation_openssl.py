"""OpenSSL's own clients as a second opinion on revocation; the check's lookup must agree with them.

``openssl ocsp`` asks the same responders about the same certificates, and
``openssl verify -crl_check`` reads the same CRLs (revocation_servers.py).
"""

from __future__ import annotations

import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from revocation_servers import RevocationWorld

from check_tls_mail.checks.revocation.status import (
    Good,
    Revoked,
    Unavailability,
    Unavailable,
    Unknown,
)


def openssl_ocsp(world: RevocationWorld, name: str) -> str:
    """What `openssl ocsp` as a client says about the same certificate and responder."""
    result = subprocess.run(
        [
            "openssl",
            "ocsp",
            "-issuer",
            str(world.issuer_file(name)),
            "-cert",
            str(world.files[name]),
            "-url",
            world.ocsp_url(name),
            "-CAfile",
            str(world.files["root"]),
            "-verify_other",
            str(world.issuer_file(name)),
            "-no_nonce",
            "-timeout",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "openssl_says", "ours"),
    [
        ("ocsp-good", ": good", Good),
        ("ocsp-direct", ": good", Good),
        ("ocsp-revoked", ": revoked", Revoked),
        ("ocsp-unknown", ": unknown", Unknown),
        ("ocsp-expired", "Status times invalid", Unavailability.STALE),
        ("ocsp-wrong-signer", "Response Verify Failure", Unavailability.WRONG_SIGNER),
        ("ocsp-no-eku", "Response Verify Failure", Unavailability.WRONG_SIGNER),
        ("ocsp-bad-signature", "Response Verify Failure", Unavailability.BAD_SIGNATURE),
        ("ocsp-mismatch", "No Status found", Unavailability.MISMATCH),
        ("ocsp-trylater", "Responder Error: trylater", Unavailability.RESPONDER_ERROR),
        ("ocsp-pss", ": good", Good),
        ("ocsp-pss-revoked", ": revoked", Revoked),
    ],
)
def test_openssl_client_agrees_about_ocsp(
    revocation_world: RevocationWorld, name: str, openssl_says: str, ours: object
) -> None:
    said = openssl_ocsp(revocation_world, name)
    assert openssl_says in said, said
    if openssl_says.startswith(": ") and "Response verify OK" not in said:
        pytest.fail(f"openssl did not verify the {name} response: {said}")
    status = revocation_world.status(name)
    if isinstance(ours, Unavailability):
        assert isinstance(status, Unavailable) and status.why is ours, status
    else:
        assert isinstance(status, ours), status  # type: ignore[arg-type]


def openssl_verify_with_crl(world: RevocationWorld, name: str, crl: bytes) -> str:
    crl_file = world.directory / f"{name}.oracle.crl.pem"
    if not crl.startswith(b"-----"):
        crl = x509.load_der_x509_crl(crl).public_bytes(Encoding.PEM)
    crl_file.write_bytes(crl)
    result = subprocess.run(
        [
            "openssl",
            "verify",
            "-crl_check",
            "-CAfile",
            str(world.files["root"]),
            "-untrusted",
            str(world.issuer_file(name)),
            "-CRLfile",
            str(crl_file),
            str(world.files[name]),
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "path", "openssl_says", "ours"),
    [
        ("crl-good", "/ca.crl", ": OK", Good),
        ("crl-revoked", "/ca.crl", "certificate revoked", Revoked),
        ("crl-stale", "/stale.crl", "CRL has expired", Unavailability.STALE),
        ("crl-bad-signature", "/bad-signature.crl", "CRL signature failure", Unavailability.BAD_SIGNATURE),
        ("crl-wrong-signer", "/wrong-signer.crl", "unable to get certificate CRL", Unavailability.WRONG_SIGNER),
        ("crl-pss", "/pss.crl", ": OK", Good),
        ("crl-pss-revoked", "/pss.crl", "certificate revoked", Revoked),
    ],
)
def test_openssl_verify_agrees_about_crls(
    revocation_world: RevocationWorld, name: str, path: str, openssl_says: str, ours: object
) -> None:
    said = openssl_verify_with_crl(revocation_world, name, revocation_world.server.crls[path])
    assert openssl_says in said, said
    status = revocation_world.status(name)
    if isinstance(ours, Unavailability):
        assert isinstance(status, Unavailable) and status.why is ours, status
    else:
        assert isinstance(status, ours), status  # type: ignore[arg-type]
