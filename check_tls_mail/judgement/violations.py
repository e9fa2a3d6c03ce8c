"""One server chain judged against one client's constraints: ``judge`` into typed violations, no words.

Assessment layer beside certificate.py (which judges dates, names and trust); cryptography is imported only
when judging.
"""

from __future__ import annotations

import datetime
import enum
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from ..clients.constraints import CURVES, CertificateConstraints, EkuRule, KeyType, hello_curves, hello_key_types

if TYPE_CHECKING:
    from cryptography import x509

    from ..tls.hello.spec import HelloSpec


class ViolationKind(enum.Enum):
    KEY_TYPE_NOT_ACCEPTED = "key type not accepted"
    ED25519_NOT_ACCEPTED = "Ed25519 key not accepted"
    RSA_TOO_SMALL = "RSA key too small"
    CURVE_NOT_ACCEPTED = "ECDSA curve not accepted"
    SHA1_SIGNATURE = "SHA-1 (or MD5) signature"
    NO_SERVER_AUTH_EKU = "no serverAuth extended key usage"
    VALIDITY_TOO_LONG = "validity period too long"
    NO_SUBJECT_ALT_NAME = "no DNS name in subjectAltName"


class KeyTypeNotAccepted(NamedTuple):
    #: None: a key type this module does not know (e.g. ML-DSA).
    key_type: KeyType | None
    accepted: frozenset[KeyType]
    position: int = 0

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.KEY_TYPE_NOT_ACCEPTED


class Ed25519NotAccepted(NamedTuple):
    position: int = 0

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.ED25519_NOT_ACCEPTED


class RsaTooSmall(NamedTuple):
    bits: int
    minimum: int
    position: int = 0

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.RSA_TOO_SMALL


class CurveNotAccepted(NamedTuple):
    curve: str
    accepted: frozenset[str]
    position: int = 0

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.CURVE_NOT_ACCEPTED


class Sha1Signature(NamedTuple):
    """The certificate at ``position`` is signed with ``digest`` ("sha1" or "md5")."""

    digest: str
    position: int = 0

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.SHA1_SIGNATURE


class NoServerAuthEku(NamedTuple):
    #: False: no extendedKeyUsage at all (a violation only where EKU is required).
    eku_present: bool

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.NO_SERVER_AUTH_EKU


class ValidityTooLong(NamedTuple):
    days: int
    maximum: int

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.VALIDITY_TOO_LONG


class NoSubjectAltName(NamedTuple):
    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.NO_SUBJECT_ALT_NAME


Violation = (
    KeyTypeNotAccepted
    | Ed25519NotAccepted
    | RsaTooSmall
    | CurveNotAccepted
    | Sha1Signature
    | NoServerAuthEku
    | ValidityTooLong
    | NoSubjectAltName
)


def key_of(cert: x509.Certificate) -> tuple[KeyType | None, int | None, str | None]:
    """(key type, RSA bits, ECDSA curve as P-256...) of a certificate's public key."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return KeyType.RSA, key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return KeyType.ECDSA, None, CURVES.get(key.curve.name, key.curve.name)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeyType.ED25519, None, None
    if isinstance(key, ed448.Ed448PublicKey):
        return KeyType.ED448, None, None
    if isinstance(key, dsa.DSAPublicKey):
        return KeyType.DSA, None, None
    return None, None, None


def _weak_digest(cert: x509.Certificate) -> str | None:
    from cryptography import exceptions
    from cryptography.hazmat.primitives import hashes

    try:
        algorithm = cert.signature_hash_algorithm
    except exceptions.UnsupportedAlgorithm:
        return None
    if isinstance(algorithm, hashes.SHA1):
        return "sha1"
    if isinstance(algorithm, hashes.MD5):
        return "md5"
    return None


def _key_violations(
    cert: x509.Certificate,
    position: int,
    accepted: frozenset[KeyType],
    curves: frozenset[str] | None,
    min_rsa_bits: int | None,
) -> list[Violation]:
    key_type, bits, curve = key_of(cert)
    if key_type not in accepted:
        if key_type is KeyType.ED25519:
            return [Ed25519NotAccepted(position)]
        return [KeyTypeNotAccepted(key_type, accepted, position)]
    if key_type is KeyType.RSA and min_rsa_bits is not None and bits is not None and bits < min_rsa_bits:
        return [RsaTooSmall(bits, min_rsa_bits, position)]
    if key_type is KeyType.ECDSA and curves is not None and curve not in curves:
        return [CurveNotAccepted(curve or "?", curves, position)]
    return []


def judge(
    chain: Sequence[x509.Certificate],
    constraints: CertificateConstraints,
    hello: HelloSpec | None = None,
    version: int | None = None,
) -> tuple[Violation, ...]:
    """The violations of ``chain`` (leaf first, as sent) against one client's constraints.

    With ``hello`` and the negotiated ``version``, the leaf's key type and curve
    must also be ones that client's hello lets a server use. Self-issued
    certificates (trust anchors sent along) are not judged by their signature.
    """
    from cryptography import x509 as x509_module
    from cryptography.x509.oid import ExtendedKeyUsageOID

    if not chain:
        return ()
    violations: list[Violation] = []
    leaf = chain[0]
    accepted = constraints.key_types
    curves = constraints.ecdsa_curves
    if hello is not None and version is not None:
        accepted = accepted & hello_key_types(hello, version)
        offered = hello_curves(hello, version)
        if offered is not None:
            curves = offered if curves is None else curves & offered
    violations += _key_violations(leaf, 0, accepted, curves, constraints.min_rsa_bits)
    for position, cert in enumerate(chain[1:], start=1):
        if cert.subject == cert.issuer:
            continue  # a root sent along: a trust anchor, not judged by the verifier
        violations += _key_violations(
            cert, position, constraints.key_types, constraints.ecdsa_curves, constraints.min_rsa_bits
        )
    if constraints.requires_sha2:
        for position, cert in enumerate(chain):
            digest = _weak_digest(cert)
            if digest is not None and cert.subject != cert.issuer:
                violations.append(Sha1Signature(digest, position))
    strict = constraints.lifetime_rules_since is None or (
        leaf.not_valid_before_utc.date() >= constraints.lifetime_rules_since
    )
    try:
        usages = leaf.extensions.get_extension_for_class(x509_module.ExtendedKeyUsage).value
    except x509_module.ExtensionNotFound:
        if constraints.server_auth_eku is EkuRule.REQUIRED and strict:
            violations.append(NoServerAuthEku(False))
    else:
        if ExtendedKeyUsageOID.SERVER_AUTH not in usages:
            violations.append(NoServerAuthEku(True))
    if constraints.max_validity_days is not None and strict:
        period = leaf.not_valid_after_utc - leaf.not_valid_before_utc
        if period > datetime.timedelta(days=constraints.max_validity_days):
            violations.append(ValidityTooLong(math.ceil(period.total_seconds() / 86400), constraints.max_validity_days))
    if constraints.requires_san:
        try:
            names = leaf.extensions.get_extension_for_class(x509_module.SubjectAlternativeName).value
        except x509_module.ExtensionNotFound:
            violations.append(NoSubjectAltName())
        else:
            if not names.get_values_for_type(x509_module.DNSName) and not names.get_values_for_type(
                x509_module.IPAddress
            ):
                violations.append(NoSubjectAltName())
    return tuple(violations)
