"""The real verifiers agree with the MTA profiles' certificate constraints.

``openssl verify -auth_level 2`` (Debian 12's OpenSSL security level) and GnuTLS's
``certtool --verify`` must fail exactly where the judge finds a key or signature
violation. The SHA-1 leaf is made by the openssl CLI (cryptography refuses SHA-1).
"""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from clientcerts import NAME, SERVER_AUTH, ca, judge, key_of, leaf
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fakeserver import DIALOGUES, Behaviour, MailServer
from realservers import PostfixInstance
from runs import require

from check_tls_mail.clients.constraints import Verification
from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.judgement.violations import (
    Sha1Signature,
)
from check_tls_mail.x509.keys import Digest

PROFILES = catalogue().profiles


def sha1_leaf(directory: Path) -> tuple[x509.Certificate, Path, Path]:
    """A P-256 leaf signed with ecdsa-with-SHA1 by its own CA, made by the openssl CLI (cryptography refuses SHA-1)."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
    run(
        "req",
        "-x509",
        "-key",
        "ca.key",
        "-subj",
        "/CN=SHA1 CA",
        "-days",
        "30",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "leaf.key")
    run("req", "-new", "-key", "leaf.key", "-subj", f"/CN={NAME}", "-out", "leaf.csr")
    (directory / "ext.cnf").write_text(f"subjectAltName=DNS:{NAME}\nextendedKeyUsage=serverAuth\n")
    run(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-sha1",
        "-days",
        "30",
        "-extfile",
        "ext.cnf",
        "-out",
        "leaf.pem",
    )
    cert = x509.load_pem_x509_certificate((directory / "leaf.pem").read_bytes())
    return cert, directory / "leaf.pem", directory / "ca.pem"


APPLE = PROFILES["apple-mail"].certificate
assert APPLE is not None


def test_sha1_signature_fails_apple_and_is_ignored_on_a_root_sent_along(tmp_path: Path) -> None:
    cert, _, ca_file = sha1_leaf(tmp_path)
    assert judge([cert], APPLE) == (Sha1Signature(Digest.SHA1, 0),)
    assert judge([cert], PROFILES["openssl-1.0.2-mta"].certificate) == ()  # type: ignore[arg-type]
    root = x509.load_pem_x509_certificate(ca_file.read_bytes())
    assert judge([leaf(eku=SERVER_AUTH), root], APPLE) == ()  # the root's self-signature is not judged


def write_chain(directory: Path, cert: x509.Certificate) -> tuple[Path, Path]:
    leaf_file, ca_file = directory / "leaf.pem", directory / "ca.pem"
    leaf_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ca_file.write_bytes(ca().pem)
    return leaf_file, ca_file


CASES = ["rsa1024", "rsa2048", "p256", "p521", "sha1"]


def case_chain(case: str, directory: Path) -> tuple[x509.Certificate, Path, Path]:
    if case == "sha1":
        return sha1_leaf(directory)
    cert = leaf(case, eku=SERVER_AUTH)
    return (cert, *write_chain(directory, cert))


def key_file(case: str, directory: Path) -> Path:
    """The leaf's private key as PEM (the SHA-1 case's was written by the openssl CLI)."""
    path = directory / "leaf.key"
    if case != "sha1":
        key = key_of(case)
        path.write_bytes(
            key.private_bytes(  # type: ignore[attr-defined]
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return path


@pytest.mark.parametrize("case", CASES)
def test_postfixs_own_client_agrees_with_the_postfix_profile(
    case: str, tmp_path: Path, postfix: PostfixInstance
) -> None:
    """posttls-finger -l secure, Postfix's smtp(8) TLS at a verifying level (security level 1, tls_client.c),
    against an SMTP server serving each case: a 1024-bit RSA leaf verifies, a SHA-1-signed one does not."""
    constraints = PROFILES["postfix"].certificate
    assert constraints is not None
    cert, leaf_file, ca_file = case_chain(case, tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # the server serves whatever the case is; the client judges
    context.load_cert_chain(leaf_file, key_file(case, tmp_path))
    anchors = postfix.dir / f"verify-{case}-ca.pem"  # where Postfix lives (the host, or its chroot)
    anchors.write_bytes(ca_file.read_bytes())
    with MailServer(lambda sock: DIALOGUES["smtp"](sock, context, Behaviour())) as server:
        found = postfix.tool(
            "posttls-finger",
            "-c",
            "-l",
            "secure",
            "-F",
            postfix.where.inside(anchors),
            f"[127.0.0.1]:{server.port}",
            NAME,
        )
    said = found.stdout + found.stderr
    assert "TLS connection established" in said, said
    verified = "Verified TLS connection established" in said
    assert verified is (judge([cert], constraints) == ()), said


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", ["sendmail"])
def test_openssl_at_debians_security_level_agrees_with_the_openssl_mta_profiles(
    name: str, case: str, tmp_path: Path
) -> None:
    """sendmail leaves OpenSSL's default security level, Debian's 2 (/etc/ssl/openssl.cnf)."""
    constraints = PROFILES[name].certificate
    assert constraints is not None and constraints.verifies is Verification.WHEN_CONFIGURED
    cert, leaf_file, ca_file = case_chain(case, tmp_path)
    verified = subprocess.run(
        ["openssl", "verify", "-auth_level", "2", "-CAfile", str(ca_file), str(leaf_file)],
        capture_output=True,
        check=False,
    )
    assert (verified.returncode == 0) is (judge([cert], constraints) == ()), verified.stdout + verified.stderr


@pytest.mark.parametrize("case", CASES)
def test_gnutls_certtool_agrees_with_the_exim_profile(case: str, tmp_path: Path) -> None:
    require("certtool")
    constraints = PROFILES["exim-gnutls"].certificate
    assert constraints is not None
    cert, leaf_file, ca_file = case_chain(case, tmp_path)
    verified = subprocess.run(
        ["certtool", "--verify", "--load-ca-certificate", str(ca_file), "--infile", str(leaf_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    trusted = "Chain verification output: Verified" in verified.stdout
    assert trusted is (judge([cert], constraints) == ()), verified.stdout
