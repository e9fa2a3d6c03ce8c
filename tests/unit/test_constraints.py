"""Certificate constraints per client (check_tls_mail/clients/constraints.py).

Oracles: Apple's published rules (support.apple.com/103769) as the cases are
worded there, and the real verifiers for the MTA profiles: ``openssl verify
-auth_level 2`` (Debian 12's OpenSSL security level) and GnuTLS's ``certtool
--verify`` must fail exactly where the judge finds a key or signature violation.
"""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from runs import require

from check_tls_mail.clients.constraints import Verification, hello_curves, hello_key_types
from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.judgement.violations import (
    CurveNotAccepted,
    Ed25519NotAccepted,
    KeyTypeNotAccepted,
    NoServerAuthEku,
    NoSubjectAltName,
    RsaTooSmall,
    Sha1Signature,
    ValidityTooLong,
    ViolationKind,
)
from check_tls_mail.judgement.violations import judge as judge_chain
from check_tls_mail.net.dialects import PROTOCOLS
from check_tls_mail.tls.versions import TlsVersion
from check_tls_mail.x509.keys import Curve, Digest, KeyType
from check_tls_mail.x509.parse import read

NAME = "mail.example.test"
NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)
PROFILES = catalogue().profiles

_KEYS: dict[str, object] = {}


def judge(chain: list[x509.Certificate], *rules: object) -> tuple[object, ...]:
    """The violations of a chain of cryptography's certificates, read as the check reads them."""
    return judge_chain([read(c.public_bytes(serialization.Encoding.DER)) for c in chain], *rules)  # type: ignore[arg-type]


def key(kind: str) -> object:
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
    subject = key(kind)
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


def kinds(violations: tuple[object, ...]) -> list[ViolationKind]:
    return [v.kind for v in violations]  # type: ignore[attr-defined]


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


# ---------------------------------------------------------------------------
# Apple's published rules, case by case
# ---------------------------------------------------------------------------

APPLE = PROFILES["apple-mail"].certificate
assert APPLE is not None


def test_a_private_cas_ten_year_certificate_locks_apple_mail_out_but_not_thunderbird() -> None:
    cert = leaf(days=3650, eku=SERVER_AUTH)
    assert judge([cert], APPLE) == (ValidityTooLong(3650, 825),)
    assert judge([cert], PROFILES["thunderbird"].certificate) == ()  # type: ignore[arg-type]
    assert judge([cert], PROFILES["postfix"].certificate) == ()  # type: ignore[arg-type]


def test_825_days_is_allowed_and_one_more_is_not() -> None:
    assert judge([leaf(days=825, eku=SERVER_AUTH)], APPLE) == ()
    assert kinds(judge([leaf(days=826, eku=SERVER_AUTH)], APPLE)) == [ViolationKind.VALIDITY_TOO_LONG]


def test_lifetime_and_eku_rules_bind_only_certificates_issued_from_july_2019() -> None:
    old = leaf(days=1500, not_before=datetime.datetime(2019, 6, 30, tzinfo=datetime.UTC))
    new = leaf(days=1500, not_before=datetime.datetime(2019, 7, 1, tzinfo=datetime.UTC))
    assert judge([old], APPLE) == ()
    assert judge([new], APPLE) == (NoServerAuthEku(False), ValidityTooLong(1500, 825))


def test_eku_must_name_server_auth_for_apple_and_when_present_for_everyone() -> None:
    client_only = leaf(eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    no_eku = leaf()
    assert judge([no_eku], APPLE) == (NoServerAuthEku(False),)
    assert judge([no_eku], PROFILES["thunderbird"].certificate) == ()  # type: ignore[arg-type]
    for name in ("apple-mail", "thunderbird", "outlook", "postfix"):
        assert judge([client_only], PROFILES[name].certificate) == (NoServerAuthEku(True),), name  # type: ignore[arg-type]


def test_rsa_under_2048_bits_fails_apple_and_passes_thunderbird() -> None:
    cert = leaf("rsa1024", eku=SERVER_AUTH)
    assert judge([cert], APPLE) == (RsaTooSmall(1024, 2048),)
    assert judge([cert], PROFILES["thunderbird"].certificate) == ()  # type: ignore[arg-type]


def test_ed25519_is_not_accepted_by_apple_mail_but_by_postfix() -> None:
    cert = leaf("ed25519", eku=SERVER_AUTH)
    assert judge([cert], APPLE) == (Ed25519NotAccepted(0),)
    assert judge([cert], PROFILES["postfix"].certificate) == ()  # type: ignore[arg-type]
    spec = PROFILES["postfix"].hello(None)
    assert judge([cert], PROFILES["postfix"].certificate, spec, TlsVersion.TLS1_3) == ()  # type: ignore[arg-type]


def test_curve_outside_the_clients_list() -> None:
    k256 = leaf("k256", eku=SERVER_AUTH)
    (violation,) = judge([k256], APPLE)
    assert isinstance(violation, CurveNotAccepted) and violation.curve is Curve.SECP256K1
    p521 = leaf("p521", eku=SERVER_AUTH)
    assert judge([p521], APPLE) == ()
    android = PROFILES["android"]
    assert kinds(judge([p521], android.certificate, android.hello(NAME), TlsVersion.TLS1_3)) == [  # type: ignore[arg-type]
        ViolationKind.CURVE_NOT_ACCEPTED
    ]


def test_apple_requires_a_dns_name_in_subject_alt_name() -> None:
    assert judge([leaf(eku=SERVER_AUTH, san=False)], APPLE) == (NoSubjectAltName(),)


def test_sha1_signature_fails_apple_and_is_ignored_on_a_root_sent_along(tmp_path: Path) -> None:
    cert, _, ca_file = sha1_leaf(tmp_path)
    assert judge([cert], APPLE) == (Sha1Signature(Digest.SHA1, 0),)
    assert judge([cert], PROFILES["openssl-mta-tls12"].certificate) == ()  # type: ignore[arg-type]
    root = x509.load_pem_x509_certificate(ca_file.read_bytes())
    assert judge([leaf(eku=SERVER_AUTH), root], APPLE) == ()  # the root's self-signature is not judged


def test_an_intermediate_with_a_small_rsa_key_is_named_by_position() -> None:
    small_ca_key = key("rsa1024")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Small Intermediate")])
    ca_cert, ca_key = ca()
    intermediate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_cert.subject)
        .public_key(small_ca_key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 300 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    assert judge([leaf(eku=SERVER_AUTH), intermediate], APPLE) == (RsaTooSmall(1024, 2048, 1),)


# ---------------------------------------------------------------------------
# What the hello allows at the negotiated version
# ---------------------------------------------------------------------------


def test_hello_derived_key_types_and_curves() -> None:
    apple = PROFILES["apple-mail"].hello(NAME)
    assert hello_key_types(apple, TlsVersion.TLS1_2) == {KeyType.RSA, KeyType.ECDSA}
    assert hello_curves(apple, TlsVersion.TLS1_2) == {Curve.P256, Curve.P384, Curve.P521}
    m365 = PROFILES["microsoft-365"].hello(NAME)
    assert hello_key_types(m365, TlsVersion.TLS1_2) == {KeyType.RSA}
    outlook = PROFILES["outlook"].hello(NAME)
    assert hello_curves(outlook, TlsVersion.TLS1_2) == {Curve.P256, Curve.P384}
    assert hello_curves(outlook, TlsVersion.TLS1_3) == {Curve.P256, Curve.P384, Curve.P521}
    assert KeyType.ED25519 in hello_key_types(PROFILES["postfix"].hello(None), TlsVersion.TLS1_3)
    assert KeyType.ED25519 not in hello_key_types(PROFILES["thunderbird"].hello(NAME), TlsVersion.TLS1_3)


def test_an_ecdsa_certificate_over_tls12_fails_the_rsa_only_microsoft_365_profile() -> None:
    m365 = PROFILES["microsoft-365"]
    cert = leaf(eku=SERVER_AUTH)
    assert judge([cert], m365.certificate, m365.hello(NAME), TlsVersion.TLS1_2) == (  # type: ignore[arg-type]
        KeyTypeNotAccepted(KeyType.ECDSA, frozenset({KeyType.RSA}), 0),
    )


def test_a_p521_certificate_fails_outlook_over_tls12_only() -> None:
    outlook = PROFILES["outlook"]
    cert = leaf("p521", eku=SERVER_AUTH)
    assert kinds(judge([cert], outlook.certificate, outlook.hello(NAME), TlsVersion.TLS1_2)) == [  # type: ignore[arg-type]
        ViolationKind.CURVE_NOT_ACCEPTED
    ]
    assert judge([cert], outlook.certificate, outlook.hello(NAME), TlsVersion.TLS1_3) == ()  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# The real verifiers agree with the MTA profiles' constraints
# ---------------------------------------------------------------------------


def write_chain(directory: Path, cert: x509.Certificate) -> tuple[Path, Path]:
    leaf_file, ca_file = directory / "leaf.pem", directory / "ca.pem"
    leaf_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ca_file.write_bytes(ca()[0].public_bytes(serialization.Encoding.PEM))
    return leaf_file, ca_file


CASES = ["rsa1024", "rsa2048", "p256", "p521", "sha1"]


def case_chain(case: str, directory: Path) -> tuple[x509.Certificate, Path, Path]:
    if case == "sha1":
        return sha1_leaf(directory)
    cert = leaf(case, eku=SERVER_AUTH)
    return (cert, *write_chain(directory, cert))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", ["postfix", "sendmail"])
def test_openssl_at_debians_security_level_agrees_with_the_openssl_mta_profiles(
    name: str, case: str, tmp_path: Path
) -> None:
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


# ---------------------------------------------------------------------------
# Every profile's facts carry a source, and inferred ones say why
# ---------------------------------------------------------------------------

FIELDS = [
    "hello.cipher_suites",
    "hello.supported_groups",
    "hello.signature_algorithms",
    "hello.extensions",
    "hello.alpn",
    "hello.sni",
    "certificate.key_types",
    "certificate.min_rsa_bits",
    "certificate.ecdsa_curves",
    "certificate.requires_sha2",
    "certificate.server_auth_eku",
]


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=lambda p: p.name)
def test_every_fact_has_its_own_source(profile: object) -> None:
    from check_tls_mail.clients.profiles import ClientProfile

    assert isinstance(profile, ClientProfile)
    assert profile.hello_template is not None and profile.certificate is not None
    for field in FIELDS:  # a source for the field itself, or for a field above it ("hello" covers "hello.sni")
        assert any(field == key or field.startswith(key + ".") for key, _ in profile.sources), (profile.name, field)
    known = {"hello", "certificate"} | set(FIELDS) | {f"hello.{f}" for f in ("key_share_groups",)}
    for key, why in profile.inferred:
        assert why and (key in known or key.split(".")[0] in ("hello", "certificate")), (profile.name, key)


def test_mail_user_agents_send_sni_and_the_port_25_mtas_do_not() -> None:
    assert {p.name for p in catalogue().default_for(PROTOCOLS["imaps"].audience) if p.sends_sni} == {
        "apple-mail",
        "thunderbird",
        "outlook",
        "android",
    }
    assert not any(p.sends_sni for p in catalogue().default_for(PROTOCOLS["smtp"].audience))
    assert PROFILES["postfix"].hello(NAME).server_name is None
    assert PROFILES["thunderbird"].hello("192.0.2.1").server_name is None  # no IP literal in SNI (RFC 6066)
    assert PROFILES["thunderbird"].hello(NAME).server_name == NAME


def test_profile_versions_agree_with_their_hellos() -> None:
    for profile in PROFILES.values():  # the range written as "1.0"-"1.3" against the wire codes of the hello
        spec = profile.hello(NAME)
        assert max(spec.offered_versions()) == profile.max_version, profile.name
        assert min(spec.offered_versions()) == profile.min_version, profile.name
