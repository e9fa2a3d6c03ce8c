"""trust and certparse without a server: the words of every problem, reading that never raises.

Host matching against OpenSSL's is in tests/real/test_host_matching_openssl.py.
"""

# ruff: noqa: E501  (the table of words reads best one problem a line)

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import chains
import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from check_tls_mail.x509 import parse as certparse
from check_tls_mail.x509 import verify as trust
from check_tls_mail.x509 import words as trustwords
from check_tls_mail.x509.fields import Malformation as M
from check_tls_mail.x509.keys import Curve, Digest, Key, KeyType
from check_tls_mail.x509.problems import CaDefect, ConstraintDefect, PurposeDefect, Role
from check_tls_mail.x509.problems import CertificateProblem as P
from check_tls_mail.x509.problems import ProblemKind as K
from check_tls_mail.x509.store import TrustAnchors

WHEN = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
LEAF, MID, ROOT = Role.CERTIFICATE, Role.INTERMEDIATE, Role.ROOT

#: One example per kind and detail, with its whole wording.
WORDS: list[tuple[P, str]] = [
    (P(K.MALFORMED, 0, LEAF, "x", M.DUPLICATE_EXTENSION, text="subjectAltName"), "certificate is malformed: two subjectAltName extensions"),
    (P(K.MALFORMED, 0, LEAF, "x", M.DUPLICATE_EXTENSION), "certificate is malformed: an extension appears twice"),
    (P(K.MALFORMED, 1, MID, "R11", M.UNREADABLE_EXTENSION, text="keyUsage"), "intermediate R11 is malformed: its keyUsage extension cannot be read"),
    (P(K.MALFORMED, 0, LEAF, "x", M.UNREADABLE_EXTENSION), "certificate is malformed: an extension cannot be read"),
    (P(K.MALFORMED, 0, LEAF, "x", M.UNSUPPORTED_NAME_TYPE, text="x400Address"), "certificate is malformed: its subjectAltName holds an x400Address"),
    (P(K.MALFORMED, 0, LEAF, "x", M.NON_TEXT_NAME, text="common name", text2="BIT STRING"), "certificate is malformed: its common name is a BIT STRING, not text"),
    (P(K.MALFORMED, 0, LEAF, "x", M.IP_WITH_NETMASK, text="192.0.2.0/255.255.255.0"), "certificate is malformed: its subjectAltName holds an IP address with a netmask (192.0.2.0/255.255.255.0)"),
    (P(K.MALFORMED, 0, LEAF, "x", M.BAD_IP_ADDRESS, text="5"), "certificate is malformed: its subjectAltName holds an IP address of 5 bytes"),
    (P(K.MALFORMED, 0, LEAF, "x", M.UNREADABLE), "certificate is malformed: it cannot be read as a certificate"),
    (P(K.MALFORMED, 0, LEAF, "x", M.UNREADABLE_DATES), "certificate is malformed: its validity dates cannot be read"),
    (P(K.MALFORMED, 0, LEAF, "x", M.UNSUPPORTED_KEY), "certificate is malformed: its public key is of a kind clients do not support"),
    (P(K.EXPIRED, 0, LEAF, "x", moment=WHEN, days=3.0), "certificate expired 3.0 days ago (2026-03-12 09:30 UTC)"),
    (P(K.EXPIRED, 1, MID, "R11", moment=WHEN, days=2.04), "intermediate R11 expired 2.0 days ago (2026-03-12 09:30 UTC)"),
    (P(K.EXPIRED, 2, ROOT, "Old Root", moment=WHEN, days=400), "root Old Root expired 400.0 days ago (2026-03-12 09:30 UTC)"),
    (P(K.NOT_YET_VALID, 1, MID, "X", moment=WHEN, days=5), "intermediate X not valid before 2026-03-12 09:30 UTC (in 5.0 days)"),
    (P(K.SELF_SIGNED, 0, LEAF, "x", origin="--ca-file /etc/ca.pem"), "self-signed certificate, not trusted by --ca-file /etc/ca.pem"),
    (P(K.UNTRUSTED, 1, MID, "x", text="Test Root CA", origin="the system trust store"), "untrusted chain: issuer Test Root CA is not in the system trust store"),
    (P(K.INCOMPLETE_CHAIN, 0, LEAF, "x", text="R11", origin="the system trust store"), "untrusted chain: issuer R11 is not in the system trust store, and the server sends no intermediate certificate"),
    (P(K.BAD_SIGNATURE, 0, LEAF, "x", text="R11"), "certificate has a signature that R11's key does not verify"),
    (P(K.INVALID_CA, 1, MID, "X", CaDefect.NOT_CA), "intermediate X is not a CA certificate (basicConstraints CA:FALSE)"),
    (P(K.INVALID_CA, 1, MID, "X", CaDefect.NO_BASIC_CONSTRAINTS), "intermediate X is not a CA certificate: it has no basicConstraints CA:TRUE"),
    (P(K.INVALID_CA, 1, MID, "X", CaDefect.VERSION_1), "intermediate X is a version 1 certificate, which cannot be an intermediate CA"),
    (P(K.INVALID_CA, 1, MID, "X", CaDefect.NO_CERT_SIGN), "intermediate X may not sign certificates: its keyUsage lacks keyCertSign"),
    (P(K.INVALID_CA, 2, ROOT, "R", CaDefect.PATH_LENGTH, number=0), "root R allows no intermediate below it (pathLenConstraint), the chain has more"),
    (P(K.INVALID_CA, 2, ROOT, "R", CaDefect.PATH_LENGTH, number=1), "root R allows at most 1 intermediates below it (pathLenConstraint), the chain has more"),
    (P(K.PURPOSE, 0, LEAF, "x", PurposeDefect.EXTENDED_KEY_USAGE, names=("TLS client authentication",)), "certificate is not for TLS servers: its extendedKeyUsage allows only TLS client authentication"),
    (P(K.PURPOSE, 1, MID, "X", PurposeDefect.EXTENDED_KEY_USAGE, names=("email protection",)), "intermediate X may not issue TLS server certificates: its extendedKeyUsage allows only email protection"),
    (P(K.PURPOSE, 0, LEAF, "x", PurposeDefect.KEY_USAGE, names=("certificate signing",)), "certificate is not for TLS servers: its keyUsage allows only certificate signing"),
    (P(K.PURPOSE, 0, LEAF, "x", PurposeDefect.NETSCAPE_TYPE), "certificate is not for TLS servers: its Netscape certificate type excludes SSL servers"),
    (P(K.UNKNOWN_CRITICAL_EXTENSION, 0, LEAF, "x"), "certificate has a critical extension that clients do not know"),
    (P(K.UNKNOWN_CRITICAL_EXTENSION, 1, MID, "X", text="authorityKeyIdentifier"), "intermediate X marks its authorityKeyIdentifier extension critical, which clients cannot process"),
    (P(K.NAME_CONSTRAINTS, 0, LEAF, "x", ConstraintDefect.EXCLUDED, names=("mail.example.org",), text="Corp CA"), "name constraints of Corp CA exclude mail.example.org (certificate)"),
    (P(K.NAME_CONSTRAINTS, 0, LEAF, "x", ConstraintDefect.NOT_PERMITTED, names=("mail.example.org",), text="Corp CA"), "name constraints of Corp CA do not permit mail.example.org (certificate)"),
    (P(K.NAME_CONSTRAINTS, 0, LEAF, "x", ConstraintDefect.UNSUPPORTED, text="Corp CA"), "Corp CA has name constraints of a kind clients cannot check"),
    (P(K.WEAK_SIGNATURE, 1, MID, "X", digest=Digest.SHA1), "intermediate X is signed with SHA-1: clients refuse SHA-1 signatures"),
    (P(K.RSA_TOO_SMALL, 0, LEAF, "x", number=1024, key=Key(KeyType.RSA, 1024)), "RSA 1024-bit key: clients require 2048 bits or more"),
    (P(K.RSA_TOO_SMALL, 1, MID, "X", number=1024, key=Key(KeyType.RSA, 1024)), "RSA 1024-bit key (intermediate X): clients require 2048 bits or more"),
    (P(K.KEY_TOO_SMALL, 0, LEAF, "x", number=1024, key=Key(KeyType.DSA, 1024)), "DSA 1024 key is too weak: clients require 2048 bits or more"),
    (P(K.KEY_TOO_SMALL, 0, LEAF, "x", number=192, key=Key(KeyType.ECDSA, 192, Curve.P192)), "ECDSA P-192 key is too weak: clients require P-256 or another curve of 224 bits or more"),
    (P(K.NAME_MISMATCH, 0, LEAF, "x", names=("www.example.test", "example.test"), wanted="mail.example.test"), "name mismatch: certificate is for www.example.test, example.test, not mail.example.test"),
    (P(K.NAME_MISMATCH, 0, LEAF, "x", names=("a", "b", "c", "d", "e", "f"), wanted="g|x"), "name mismatch: certificate is for a, b, c, d and 2 more, not g\\x7cx"),
    (P(K.NO_SAN, 0, LEAF, "mail.example.test", wanted="mail.example.test"), "certificate has no subjectAltName (CN mail.example.test), so clients cannot match mail.example.test"),
]  # fmt: skip


@pytest.mark.parametrize(("problem", "words"), WORDS, ids=[f"{p.kind.name}-{p.detail}" for p, _ in WORDS])
def test_describe_words_the_problem(problem: P, words: str) -> None:
    assert trustwords.describe(problem) == words


def test_every_kind_and_detail_has_words() -> None:
    assert {p.kind for p, _ in WORDS} == set(K)
    details = {p.detail for p, _ in WORDS}
    for detail_type in (M, CaDefect, PurposeDefect, ConstraintDefect):
        assert set(detail_type) <= details, detail_type


def test_words_hold_no_oid_exception_or_repr() -> None:
    for _, words in WORDS:
        assert not re.search(r"\d+\.\d+\.\d+\.\d+\.\d+|Error|Exception|<|>|\bNone\b|Malformation|ProblemKind", words)


SAMPLES = {v.name: v for v in chains.corpus() if v.name.startswith(("good", "malformed", "v1", "ed25519-chain"))}
DERS = [der for v in SAMPLES.values() for der in v.served]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(DERS),
    st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=4),
    st.integers(0, 4000),
)
def test_reading_and_verifying_never_raise(der: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(der)
    for position, value in flips:
        data[position % len(data)] = value
    mutated = bytes(data[: max(cut, 1)] if cut < len(data) else data)
    parsed = certparse.parse(mutated)
    assert isinstance(parsed.defects, tuple)
    verdict = trust.verify([mutated, *DERS[1:3]], "mail.example.test", TrustAnchors(DERS[-1:], "x"), datetime.now(UTC))
    for problem in verdict.problems:
        assert trustwords.describe(problem)


def test_garbage_is_malformed_in_words() -> None:
    verdict = trust.verify([b"\x30\x03\x02\x01\x01"], "mail.example.test", TrustAnchors([], "x"), datetime.now(UTC))
    words = [trustwords.describe(p) for p in verdict.problems]
    assert words[0] == "certificate is malformed: it cannot be read as a certificate"


def test_a_cryptography_object_is_available_for_well_formed_certificates() -> None:
    good = SAMPLES["good"].served[0]
    assert isinstance(certparse.parse(good).crypto, x509.Certificate)
    assert certparse.parse(good).key == Key(KeyType.ECDSA, 256, Curve.P256)


def test_expired_leaf_is_expired_and_not_untrusted() -> None:
    root = chains.make("Old Style Root", ca=True, days=(-400, 3650))
    leaf = chains.make(chains.NAME, root, days=(-90, -3))
    verdict = trust.verify([leaf.der], chains.NAME, TrustAnchors([root.der], "x"), chains.NOW)
    assert [p.kind for p in verdict.problems] == [K.EXPIRED]
    assert verdict.trusted and verdict.path == (verdict.chain[0],) and verdict.anchor is not None


def test_pinned_self_signed_leaf_is_its_own_anchor() -> None:
    me = chains.make(chains.NAME, None, slot="pin")
    verdict = trust.verify([me.der], chains.NAME + ".", TrustAnchors([me.der], "x"), chains.NOW + timedelta(days=1))
    assert verdict.problems == () and verdict.trusted_depth == 0 and len(verdict.path) == 1
