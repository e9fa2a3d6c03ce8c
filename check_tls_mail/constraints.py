"""What certificates one client accepts, and the violations of one server chain against that.

Assessment layer beside certificate.py (which judges dates, names and trust):
``CertificateConstraints`` are a profile's facts; ``judge`` turns a chain into
typed violations, no words. cryptography is imported only when judging.
"""

from __future__ import annotations

import datetime
import enum
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .codepoints import TLS13, ExtensionType
from .hellospec import HelloSpec
from .tls_registry import CIPHER_SUITES

if TYPE_CHECKING:
    from cryptography import x509


class KeyType(enum.Enum):
    RSA = "RSA"
    ECDSA = "ECDSA"
    ED25519 = "Ed25519"
    ED448 = "Ed448"
    DSA = "DSA"


class Verification(enum.Enum):
    """Whether the client checks the certificate on every connection or only when configured to."""

    ALWAYS = "always"
    #: Opportunistic MTAs: only under DANE, MTA-STS or a verify/secure policy.
    WHEN_CONFIGURED = "when-configured"


class EkuRule(enum.Enum):
    #: An extendedKeyUsage with id-kp-serverAuth must be there (Apple).
    REQUIRED = "required"
    #: RFC 5280: an extendedKeyUsage, when there, must allow serverAuth.
    IF_PRESENT = "if-present"


#: Certificate curve names (cryptography's) as operators write them.
CURVES = {
    "secp256r1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
    "secp224r1": "P-224",
    "secp256k1": "secp256k1",
    "brainpoolP256r1": "brainpoolP256r1",
    "brainpoolP384r1": "brainpoolP384r1",
    "brainpoolP512r1": "brainpoolP512r1",
}
#: TLS groups that name an ECDSA certificate curve in TLS <= 1.2 (RFC 8422 section 5.1.1).
_GROUP_CURVES = {
    0x0015: "P-224",
    0x0016: "secp256k1",
    0x0017: "P-256",
    0x0018: "P-384",
    0x0019: "P-521",
    0x001A: "brainpoolP256r1",
    0x001B: "brainpoolP384r1",
    0x001C: "brainpoolP512r1",
}
#: TLS 1.3 signature schemes that bind an ECDSA curve (RFC 8446 section 4.2.3).
_SCHEME_CURVES = {
    0x0403: "P-256",
    0x0503: "P-384",
    0x0603: "P-521",
    0x081A: "brainpoolP256r1",
    0x081B: "brainpoolP384r1",
    0x081C: "brainpoolP512r1",
}


def _scheme_key_type(scheme: int) -> KeyType | None:
    """The server key a signature scheme signs with."""
    if scheme in (0x0807,):
        return KeyType.ED25519
    if scheme in (0x0808,):
        return KeyType.ED448
    if 0x0804 <= scheme <= 0x0806 or 0x0809 <= scheme <= 0x080B or scheme & 0xFF == 0x01:
        return KeyType.RSA
    if scheme & 0xFF == 0x03 or 0x081A <= scheme <= 0x081C:
        return KeyType.ECDSA
    if scheme & 0xFF == 0x02:
        return KeyType.DSA
    return None


_SUITE_AUTH = {"RSA": KeyType.RSA, "ECDSA": KeyType.ECDSA, "DSA": KeyType.DSA}


def hello_key_types(spec: HelloSpec, version: int) -> frozenset[KeyType]:
    """Server key types the client's hello lets a server authenticate with at ``version``.

    TLS 1.3: the signature schemes (RSA needs an rsa_pss_rsae scheme). TLS <= 1.2:
    the suites' authentication, narrowed by signature_algorithms when sent; an
    Ed25519/Ed448 key rides on ECDHE_ECDSA suites (RFC 8422 section 5.1.3).
    """
    schemes = set(spec.signature_algorithms)
    if version >= TLS13:
        types = set()
        for scheme in schemes:
            key = _scheme_key_type(scheme)
            if key is KeyType.RSA and not (0x0804 <= scheme <= 0x0806 or 0x0809 <= scheme <= 0x080B):
                continue  # PKCS#1 v1.5 signs certificates only, not the handshake
            if key is not None and key is not KeyType.DSA:
                types.add(key)
        return frozenset(types)
    by_suites = {
        _SUITE_AUTH[CIPHER_SUITES[s].auth]
        for s in spec.cipher_suites
        if s in CIPHER_SUITES and CIPHER_SUITES[s].auth in _SUITE_AUTH
    }
    if KeyType.ECDSA in by_suites:
        by_suites |= {KeyType.ED25519, KeyType.ED448}
    if not schemes:
        return frozenset(by_suites - {KeyType.ED25519, KeyType.ED448})
    by_schemes = {k for k in (_scheme_key_type(s) for s in schemes) if k is not None}
    return frozenset(by_suites & by_schemes)


def hello_curves(spec: HelloSpec, version: int) -> frozenset[str] | None:
    """ECDSA certificate curves the hello allows at ``version``; None: the hello does not restrict them."""
    if version >= TLS13:
        return frozenset(_SCHEME_CURVES[s] for s in spec.signature_algorithms if s in _SCHEME_CURVES)
    if ExtensionType.SUPPORTED_GROUPS not in spec.extensions:
        return None
    return frozenset(_GROUP_CURVES[g] for g in spec.supported_groups if g in _GROUP_CURVES)


class CertificateConstraints(NamedTuple):
    """The certificate rules one client's verifier enforces (None: not known, not judged)."""

    verifies: Verification
    key_types: frozenset[KeyType]
    #: None: any curve the client's library knows.
    ecdsa_curves: frozenset[str] | None
    min_rsa_bits: int | None
    requires_sha2: bool | None
    server_auth_eku: EkuRule
    max_validity_days: int | None
    #: EKU-required and the validity maximum apply to certificates issued from this day on.
    lifetime_rules_since: datetime.date | None
    requires_san: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CertificateConstraints:
        curves = data.get("ecdsa_curves")
        since = data.get("lifetime_rules_since")
        return cls(
            verifies=Verification(data["verifies"]),
            key_types=frozenset(KeyType(k) for k in data["key_types"]),
            ecdsa_curves=None if curves is None else frozenset(curves),
            min_rsa_bits=data.get("min_rsa_bits"),
            requires_sha2=data.get("requires_sha2"),
            server_auth_eku=EkuRule(data["server_auth_eku"]),
            max_validity_days=data.get("max_validity_days"),
            lifetime_rules_since=None if since is None else datetime.date.fromisoformat(since),
            requires_san=bool(data.get("requires_san", False)),
        )


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
