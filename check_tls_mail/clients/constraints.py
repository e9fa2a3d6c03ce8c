"""What certificates one client accepts: a profile's ``CertificateConstraints``, and what its hello allows.

Assessment layer, facts only: the key types, curves, key sizes, signatures and lifetimes a client's verifier
takes, read from profiles.json; the key types and curves a client's hello lets a server use.
"""

import datetime
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from ..records import NamedTuple
from ..tls.codepoints import ExtensionType
from ..tls.hello.spec import HelloSpec
from ..tls.suites import CIPHER_SUITES
from ..tls.versions import TlsVersion
from ..x509.keys import Curve, KeyType


class Verification(enum.Enum):
    """Whether the client checks the certificate on every connection or only when configured to."""

    ALWAYS = "always"
    #: Opportunistic MTAs: only under DANE, MTA-STS or a verify/secure policy.
    WHEN_CONFIGURED = "when-configured"


class EkuRule(enum.Enum):
    #: An extendedKeyUsage with id-kp-serverAuth must be there.
    REQUIRED = "required"
    #: Required for chains to built-in (public) roots, as IF_PRESENT for others (Apple: SecPolicyCheckServerAuthEKU).
    REQUIRED_BUILTIN = "required-for-builtin-roots"
    #: RFC 5280: an extendedKeyUsage, when there, must allow serverAuth.
    IF_PRESENT = "if-present"


#: TLS groups that name an ECDSA certificate curve in TLS <= 1.2 (RFC 8422 section 5.1.1).
_GROUP_CURVES = {
    0x0015: Curve.P224,
    0x0016: Curve.SECP256K1,
    0x0017: Curve.P256,
    0x0018: Curve.P384,
    0x0019: Curve.P521,
    0x001A: Curve.BRAINPOOL_P256,
    0x001B: Curve.BRAINPOOL_P384,
    0x001C: Curve.BRAINPOOL_P512,
}
#: TLS 1.3 signature schemes that bind an ECDSA curve (RFC 8446 section 4.2.3).
_SCHEME_CURVES = {
    0x0403: Curve.P256,
    0x0503: Curve.P384,
    0x0603: Curve.P521,
    0x081A: Curve.BRAINPOOL_P256,
    0x081B: Curve.BRAINPOOL_P384,
    0x081C: Curve.BRAINPOOL_P512,
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


def scheme_key_types(schemes: Iterable[int]) -> frozenset[KeyType]:
    """The server key types the signature schemes sign with (RSA from PKCS#1 and PSS alike)."""
    return frozenset(k for k in map(_scheme_key_type, schemes) if k is not None)


def hello_key_types(spec: HelloSpec, version: int) -> frozenset[KeyType]:
    """Server key types the client's hello lets a server authenticate with at ``version``.

    TLS 1.3: the signature schemes (RSA needs an rsa_pss_rsae scheme). TLS <= 1.2:
    the suites' authentication, narrowed by signature_algorithms when sent; an
    Ed25519/Ed448 key rides on ECDHE_ECDSA suites (RFC 8422 section 5.1.3).
    """
    schemes = set(spec.signature_algorithms)
    if version >= TlsVersion.TLS1_3:
        types = set()
        for scheme in schemes:
            key = _scheme_key_type(scheme)
            if key is KeyType.RSA and not (0x0804 <= scheme <= 0x0806 or 0x0809 <= scheme <= 0x080B):
                continue  # PKCS#1 v1.5 signs certificates only, not the handshake
            if key is not None and key is not KeyType.DSA:
                types.add(key)
        return frozenset(types)
    by_suites = {auth for s in spec.cipher_suites if s in CIPHER_SUITES and (auth := CIPHER_SUITES[s].auth) is not None}
    if KeyType.ECDSA in by_suites:
        by_suites |= {KeyType.ED25519, KeyType.ED448}
    if not schemes:
        return frozenset(by_suites - {KeyType.ED25519, KeyType.ED448})
    by_schemes = {k for k in (_scheme_key_type(s) for s in schemes) if k is not None}
    return frozenset(by_suites & by_schemes)


def hello_curves(spec: HelloSpec, version: int) -> frozenset[Curve] | None:
    """ECDSA certificate curves the hello allows at ``version``; None: the hello does not restrict them."""
    if version >= TlsVersion.TLS1_3:
        return frozenset(_SCHEME_CURVES[s] for s in spec.signature_algorithms if s in _SCHEME_CURVES)
    if ExtensionType.SUPPORTED_GROUPS not in spec.extensions:
        return None
    return frozenset(_GROUP_CURVES[g] for g in spec.supported_groups if g in _GROUP_CURVES)


def _day(text: str | None) -> datetime.date | None:
    return None if text is None else datetime.date.fromisoformat(text)


class CertificateConstraints(NamedTuple):
    """The certificate rules one client's verifier enforces (None: not known, not judged)."""

    verifies: Verification
    key_types: frozenset[KeyType]
    #: None: any curve the client's library knows.
    ecdsa_curves: frozenset[Curve] | None
    min_rsa_bits: int | None
    requires_sha2: bool | None
    server_auth_eku: EkuRule
    max_validity_days: int | None
    #: EKU-required and the validity maximum apply to certificates issued from this day on.
    lifetime_rules_since: datetime.date | None
    requires_san: bool
    #: For chains to built-in (public) roots only, where they are stricter: the RSA minimum (Thunderbird: 2048,
    #: 1024 for private roots), the validity maximum and the day it applies from (Apple: 398 from 2020-09-01).
    min_rsa_bits_builtin: int | None = None
    max_validity_days_builtin: int | None = None
    builtin_validity_since: datetime.date | None = None
    #: False: a leaf with basicConstraints CA:TRUE is refused (mozilla::pkix CA_CERT_USED_AS_END_ENTITY).
    ca_leaf_accepted: bool = True
    #: False: a wildcard matches only as the whole left-most label ("m*.example.org" never matches).
    partial_wildcards: bool = True

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "CertificateConstraints":
        curves = data.get("ecdsa_curves")
        since = data.get("lifetime_rules_since")
        return cls(
            verifies=Verification(data["verifies"]),
            key_types=frozenset(KeyType(k) for k in data["key_types"]),
            ecdsa_curves=None if curves is None else frozenset(Curve(c) for c in curves),
            min_rsa_bits=data.get("min_rsa_bits"),
            requires_sha2=data.get("requires_sha2"),
            server_auth_eku=EkuRule(data["server_auth_eku"]),
            max_validity_days=data.get("max_validity_days"),
            lifetime_rules_since=None if since is None else datetime.date.fromisoformat(since),
            requires_san=bool(data.get("requires_san", False)),
            min_rsa_bits_builtin=data.get("min_rsa_bits_builtin", data.get("min_rsa_bits")),
            max_validity_days_builtin=data.get("max_validity_days_builtin"),
            builtin_validity_since=_day(data.get("builtin_validity_since")),
            ca_leaf_accepted=bool(data.get("ca_leaf_accepted", True)),
            partial_wildcards=bool(data.get("partial_wildcards", True)),
        )
