"""Certificate constraints per client (check_tls_mail/clients/constraints.py).

The oracle: Apple's published rules (support.apple.com/103769) as the cases are
worded there. The real verifiers for the MTA profiles (``openssl verify``,
``certtool``) are asked in tests/real/test_verifiers_agree.py.
"""

from __future__ import annotations

import datetime

import pytest
from clientcerts import DAY, NAME, NOW, SERVER_AUTH, ca, judge, key_of, leaf
from cryptography.x509.oid import ExtendedKeyUsageOID
from pki import issue

from check_tls_mail.clients.constraints import hello_curves, hello_key_types
from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.judgement.violations import (
    CaAsLeaf,
    CurveNotAccepted,
    Ed25519NotAccepted,
    KeyTypeNotAccepted,
    NoServerAuthEku,
    NoSubjectAltName,
    PartialWildcard,
    RsaTooSmall,
    ValidityTooLong,
    ViolationKind,
)
from check_tls_mail.net.dialects import PROTOCOLS
from check_tls_mail.tls.versions import TlsVersion
from check_tls_mail.x509.keys import Curve, KeyType

PROFILES = catalogue().profiles


def kinds(violations: tuple[object, ...]) -> list[ViolationKind]:
    return [v.kind for v in violations]  # type: ignore[attr-defined]


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
    assert judge([new], APPLE) == (ValidityTooLong(1500, 825),)  # a private root: an absent EKU passes
    assert judge([new], APPLE, None, None, None, True) == (NoServerAuthEku(False), ValidityTooLong(1500, 825))


def test_eku_must_name_server_auth_for_apple_and_when_present_for_everyone() -> None:
    client_only = leaf(eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    no_eku = leaf()
    # Apple (SecPolicyCheckServerAuthEKU): strict for chains to a built-in root; to a private one absent is fine.
    assert judge([no_eku], APPLE, None, None, None, True) == (NoServerAuthEku(False),)
    assert judge([no_eku], APPLE) == ()
    assert judge([no_eku], PROFILES["thunderbird"].certificate) == ()  # type: ignore[arg-type]
    for name in ("apple-mail", "thunderbird", "outlook", "postfix"):
        assert judge([client_only], PROFILES[name].certificate) == (NoServerAuthEku(True),), name  # type: ignore[arg-type]


def test_rsa_under_2048_bits_fails_apple_and_thunderbird_to_a_public_root_only() -> None:
    cert = leaf("rsa1024", eku=SERVER_AUTH)
    thunderbird = PROFILES["thunderbird"].certificate
    assert judge([cert], APPLE) == (RsaTooSmall(1024, 2048),)
    assert judge([cert], thunderbird) == ()  # CertVerifier.cpp: MIN_RSA_BITS_WEAK for a private root
    assert judge([cert], thunderbird, None, None, None, True) == (RsaTooSmall(1024, 2048),)
    assert judge([cert], PROFILES["postfix"].certificate) == ()  # measured: posttls-finger -l secure verifies it


def test_apple_caps_public_roots_at_398_days_from_september_2020() -> None:
    before = leaf(days=500, not_before=datetime.datetime(2020, 8, 31, tzinfo=datetime.UTC), eku=SERVER_AUTH)
    after = leaf(days=500, not_before=datetime.datetime(2020, 9, 1, tzinfo=datetime.UTC), eku=SERVER_AUTH)
    assert judge([before], APPLE, None, None, None, True) == ()
    assert judge([after], APPLE, None, None, None, True) == (ValidityTooLong(500, 398),)
    assert judge([after], APPLE) == ()  # a private root: 825 days


def test_thunderbird_refuses_a_ca_certificate_as_the_servers() -> None:
    made = issue(NAME, key_of("p256"), ca(), NOW - DAY, NOW + 60 * DAY, ca=True, names=(NAME,))  # type: ignore[arg-type]
    assert judge([made.cert], PROFILES["thunderbird"].certificate) == (CaAsLeaf(),)  # type: ignore[arg-type]
    assert judge([made.cert], APPLE) == ()  # Apple's SSL policy adds no NotCA check


@pytest.mark.parametrize(
    ("pattern", "refused"),
    [("m*.example.test", True), ("*ail.example.test", True), ("*.example.test", False), (NAME, False)],
)
def test_thunderbird_apple_and_android_match_only_whole_label_wildcards(pattern: str, refused: bool) -> None:
    cert = issue(NAME, key_of("p256"), ca(), NOW - DAY, NOW + 60 * DAY, False, names=(pattern,), eku=SERVER_AUTH).cert  # type: ignore[arg-type]
    for name in ("thunderbird", "apple-mail", "android"):
        found = judge([cert], PROFILES[name].certificate, None, None, NAME)
        assert found == ((PartialWildcard(pattern, NAME),) if refused else ()), name
    assert judge([cert], PROFILES["postfix"].certificate, None, None, NAME) == ()  # OpenSSL's matching


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


def test_an_intermediate_with_a_small_rsa_key_is_named_by_position() -> None:
    small = key_of("rsa1024")
    # basicConstraints and nothing else
    window = (NOW - DAY, NOW + 300 * DAY)
    intermediate = issue("Small Intermediate", small, ca(), *window, ca=True, usage=None, keyids=False).cert  # type: ignore[arg-type]
    assert judge([leaf(eku=SERVER_AUTH), intermediate], APPLE) == (RsaTooSmall(1024, 2048, 1),)


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
