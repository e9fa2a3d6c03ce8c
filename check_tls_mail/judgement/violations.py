"""One server chain judged against one client's constraints: ``judge`` into typed violations, no words.

Judgement layer beside x509/chain.py (which judges dates, names and trust), on certificates already read.
"""

import datetime
import enum
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..clients.constraints import CertificateConstraints, EkuRule, hello_curves, hello_key_types
from ..records import NamedTuple
from ..tls.versions import TlsVersion
from ..x509.certificate import Certificate
from ..x509.keys import Curve, Digest, KeyType
from ..x509.purpose import SERVER_AUTH
from ..x509.signatures import scheme

if TYPE_CHECKING:
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
    CA_AS_LEAF = "a CA certificate as the server's certificate"
    PARTIAL_WILDCARD = "the name matches only a partial wildcard"


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
    curve: Curve | None  # None: a curve this vocabulary lacks
    accepted: frozenset[Curve]
    position: int = 0

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.CURVE_NOT_ACCEPTED


class Sha1Signature(NamedTuple):
    """The certificate at ``position`` is signed with a weak ``digest`` (SHA-1, MD5)."""

    digest: Digest
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


class CaAsLeaf(NamedTuple):
    """The leaf has basicConstraints CA:TRUE (what `openssl req -x509` makes)."""

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.CA_AS_LEAF


class PartialWildcard(NamedTuple):
    """The checked name matches only a wildcard that is not the whole left-most label ("m*.example.org")."""

    pattern: str  # cleaned
    name: str

    @property
    def kind(self) -> ViolationKind:
        return ViolationKind.PARTIAL_WILDCARD


Violation = (
    KeyTypeNotAccepted
    | Ed25519NotAccepted
    | RsaTooSmall
    | CurveNotAccepted
    | Sha1Signature
    | NoServerAuthEku
    | ValidityTooLong
    | NoSubjectAltName
    | CaAsLeaf
    | PartialWildcard
)


def _key_violations(
    cert: Certificate,
    position: int,
    accepted: frozenset[KeyType],
    curves: frozenset[Curve] | None,
    min_rsa_bits: int | None,
) -> list[Violation]:
    key = cert.key
    if key.type not in accepted:
        if key.type is KeyType.ED25519:
            return [Ed25519NotAccepted(position)]
        return [KeyTypeNotAccepted(key.type, accepted, position)]
    if key.type is KeyType.RSA and min_rsa_bits is not None and key.bits < min_rsa_bits:
        return [RsaTooSmall(key.bits, min_rsa_bits, position)]
    if key.type is KeyType.ECDSA and curves is not None and key.curve not in curves:
        return [CurveNotAccepted(key.curve, curves, position)]
    return []


def judge(
    chain: Sequence[Certificate],
    constraints: CertificateConstraints,
    hello: "HelloSpec | None" = None,
    version: TlsVersion | None = None,
    name: str | None = None,
    builtin: bool = False,
) -> tuple[Violation, ...]:
    """The violations of ``chain`` (leaf first, as sent) against one client's constraints.

    With ``hello`` and the negotiated ``version``, the leaf's key type and curve
    must also be ones that client's hello lets a server use. Self-issued
    certificates (trust anchors sent along) are not judged by their signature.
    ``name``: the name the client connects to (wildcard rules); ``builtin``: the
    chain ends at a public root, where some clients are stricter.
    """
    if not chain:
        return ()
    violations: list[Violation] = []
    leaf = chain[0]
    accepted = constraints.key_types
    curves = constraints.ecdsa_curves
    min_rsa = constraints.min_rsa_bits_builtin if builtin else constraints.min_rsa_bits
    if hello is not None and version is not None:
        accepted = accepted & hello_key_types(hello, version)
        offered = hello_curves(hello, version)
        if offered is not None:
            curves = offered if curves is None else curves & offered
    violations += _key_violations(leaf, 0, accepted, curves, min_rsa)
    for position, cert in enumerate(chain[1:], start=1):
        if cert.self_issued:
            continue  # a root sent along: a trust anchor, not judged by the verifier
        violations += _key_violations(cert, position, constraints.key_types, constraints.ecdsa_curves, min_rsa)
    if constraints.requires_sha2:
        for position, cert in enumerate(chain):
            digest = scheme(cert.signature_oid, cert.signature_parameters).digest
            if digest is not None and digest.weak and not cert.self_issued:
                violations.append(Sha1Signature(digest, position))
    strict = constraints.lifetime_rules_since is None or (leaf.valid_from.date() >= constraints.lifetime_rules_since)
    required = constraints.server_auth_eku is EkuRule.REQUIRED or (
        constraints.server_auth_eku is EkuRule.REQUIRED_BUILTIN and builtin
    )
    if leaf.extended_key_usage is None:
        if required and strict:
            violations.append(NoServerAuthEku(False))
    elif SERVER_AUTH not in leaf.extended_key_usage:
        violations.append(NoServerAuthEku(True))
    period = leaf.valid_until - leaf.valid_from
    maximum = constraints.max_validity_days if strict else None
    since = constraints.builtin_validity_since
    if (
        builtin
        and constraints.max_validity_days_builtin is not None
        and (since is None or leaf.valid_from.date() >= since)
    ):
        maximum = min(maximum or constraints.max_validity_days_builtin, constraints.max_validity_days_builtin)
    if maximum is not None and period > datetime.timedelta(days=maximum):
        violations.append(ValidityTooLong(math.ceil(period.total_seconds() / 86400), maximum))
    if constraints.requires_san and not (leaf.dns_names or leaf.ip_addresses):
        violations.append(NoSubjectAltName())
    if not constraints.ca_leaf_accepted and leaf.basic_constraints is not None and leaf.basic_constraints[0]:
        violations.append(CaAsLeaf())
    if not constraints.partial_wildcards and name is not None:
        partial = _only_partial_wildcard(leaf, name)
        if partial is not None:
            violations.append(PartialWildcard(partial, name))
    return tuple(violations)


def _only_partial_wildcard(leaf: Certificate, name: str) -> str | None:
    """The partial wildcard ("m*.example.org") through which alone ``name`` matches the leaf, else None."""
    from ..sanitize import clean
    from ..x509.names import host_matches

    host = name.lower().rstrip(".")
    matching = [pattern for pattern in leaf.dns_names if host_matches(pattern, host)]
    whole = [p for p in matching if "*" not in p or p.startswith("*.")]
    return clean(matching[0]) if matching and not whole else None
