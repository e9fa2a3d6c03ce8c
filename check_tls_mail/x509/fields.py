"""A certificate's fields as verification reads them: ``ParsedCertificate``, its ``Key``, ``Malformation``.

Reading layer, data and look-ups: the OIDs operators meet, the signature algorithms, what OpenSSL handles;
cryptography is imported only to read a key or verify a signature.
"""

from __future__ import annotations

import enum
import ipaddress
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from cryptography import x509


#: Extension OIDs and the names an operator may meet in `openssl x509 -text`.
EXTENSION_NAMES = {
    "2.5.29.14": "subjectKeyIdentifier",
    "2.5.29.15": "keyUsage",
    "2.5.29.17": "subjectAltName",
    "2.5.29.18": "issuerAltName",
    "2.5.29.19": "basicConstraints",
    "2.5.29.30": "nameConstraints",
    "2.5.29.31": "cRLDistributionPoints",
    "2.5.29.32": "certificatePolicies",
    "2.5.29.33": "policyMappings",
    "2.5.29.35": "authorityKeyIdentifier",
    "2.5.29.36": "policyConstraints",
    "2.5.29.37": "extendedKeyUsage",
    "2.5.29.54": "inhibitAnyPolicy",
    "1.3.6.1.5.5.7.1.1": "authorityInfoAccess",
    "1.3.6.1.5.5.7.1.7": "ipAddrBlocks",
    "1.3.6.1.5.5.7.1.8": "autonomousSysIds",
    "1.3.6.1.5.5.7.1.14": "proxyCertInfo",
    "1.3.6.1.5.5.7.1.24": "TLS feature (OCSP must-staple)",
    "1.3.6.1.5.5.7.48.1.5": "OCSP no check",
    "1.3.6.1.4.1.11129.2.4.2": "certificate transparency timestamps",
    "1.3.6.1.4.1.11129.2.4.3": "certificate transparency poison",
    "2.16.840.1.113730.1.1": "Netscape certificate type",
}
#: Extensions OpenSSL processes when verifying: a critical one of any other kind fails verification.
OPENSSL_HANDLED = frozenset(
    {
        "2.16.840.1.113730.1.1",
        "2.5.29.15",
        "2.5.29.17",
        "2.5.29.19",
        "2.5.29.32",
        "2.5.29.31",
        "2.5.29.37",
        "1.3.6.1.5.5.7.1.7",
        "1.3.6.1.5.5.7.1.8",
        "1.3.6.1.5.5.7.48.1.5",
        "2.5.29.36",
        "1.3.6.1.5.5.7.1.14",
        "2.5.29.30",
        "2.5.29.33",
        "2.5.29.54",
    }
)


class Malformation(enum.Enum):
    """What is wrong with a certificate that cannot be read as the standards say."""

    UNREADABLE = "unreadable"  # not a DER certificate at all
    DUPLICATE_EXTENSION = "duplicate extension"  # text: the extension's name
    UNREADABLE_EXTENSION = "unreadable extension"  # text: the extension's name
    UNSUPPORTED_NAME_TYPE = "unsupported name type"  # text: "x400Address", "ediPartyName"
    NON_TEXT_NAME = "non-text name"  # text: "common name is a BIT STRING"
    IP_WITH_NETMASK = "IP address with netmask"  # text: "127.0.0.1/255.255.255.255"
    BAD_IP_ADDRESS = "IP address of a wrong length"  # text: the length
    UNREADABLE_NAME = "unreadable name"  # text: "subject" or "issuer"
    UNREADABLE_DATES = "unreadable dates"
    UNSUPPORTED_KEY = "unsupported key"


class Defect(NamedTuple):
    what: Malformation
    text: str = ""  # the datum the words need: an extension's or attribute's name, an address and netmask
    detail: str = ""  # a second datum: the ASN.1 type a name attribute has instead of text


class Key(NamedTuple):
    """The public key: "RSA" 2048, "ECDSA" P-256 (bits 256), "Ed25519", "DSA" 1024."""

    algorithm: str  # "RSA", "ECDSA", "Ed25519", "Ed448", "DSA", "unknown"
    bits: int
    curve: str = ""  # "P-256"

    @property
    def security_bits(self) -> int:
        """Strength as OpenSSL's security levels count it."""
        if self.algorithm in ("RSA", "DSA"):
            for size, strength in ((15360, 256), (7680, 192), (3072, 128), (2048, 112), (1024, 80)):
                if self.bits >= size:
                    return strength
            return 0
        if self.algorithm == "ECDSA":
            return self.bits // 2
        return {"Ed25519": 128, "Ed448": 224}.get(self.algorithm, 0)

    def __str__(self) -> str:
        if self.algorithm == "ECDSA":
            return f"ECDSA {self.curve}"
        if self.algorithm in ("RSA", "DSA"):
            return f"{self.algorithm} {self.bits}"
        return self.algorithm


#: Signature algorithm OIDs: (key algorithm the issuer must have, digest).
SIGNATURES = {
    "1.2.840.113549.1.1.2": ("RSA", "MD2"),
    "1.2.840.113549.1.1.4": ("RSA", "MD5"),
    "1.2.840.113549.1.1.5": ("RSA", "SHA-1"),
    "1.2.840.113549.1.1.14": ("RSA", "SHA-224"),
    "1.2.840.113549.1.1.11": ("RSA", "SHA-256"),
    "1.2.840.113549.1.1.12": ("RSA", "SHA-384"),
    "1.2.840.113549.1.1.13": ("RSA", "SHA-512"),
    "1.2.840.113549.1.1.10": ("RSA", "PSS"),
    "1.2.840.10045.4.1": ("ECDSA", "SHA-1"),
    "1.2.840.10045.4.3.1": ("ECDSA", "SHA-224"),
    "1.2.840.10045.4.3.2": ("ECDSA", "SHA-256"),
    "1.2.840.10045.4.3.3": ("ECDSA", "SHA-384"),
    "1.2.840.10045.4.3.4": ("ECDSA", "SHA-512"),
    "1.2.840.10040.4.3": ("DSA", "SHA-1"),
    "2.16.840.1.101.3.4.3.1": ("DSA", "SHA-224"),
    "2.16.840.1.101.3.4.3.2": ("DSA", "SHA-256"),
    "1.3.101.112": ("Ed25519", ""),
    "1.3.101.113": ("Ed448", ""),
}
#: Digests below OpenSSL's security level 1 (MD5 39 bits, SHA-1 63 bits in OpenSSL 3).
WEAK_DIGESTS = frozenset({"MD2", "MD4", "MD5", "SHA-1"})


class GeneralName(NamedTuple):
    """One GeneralName: kind is the context tag (1 email, 2 DNS, 4 directory, 6 URI, 7 IP...)."""

    kind: int
    value: bytes  # the content: text bytes, IP octets, or a Name's DER (directoryName)


class NameConstraints(NamedTuple):
    permitted: tuple[GeneralName, ...]
    excluded: tuple[GeneralName, ...]
    has_minmax: bool  # minimum/maximum given: OpenSSL refuses those


class ParsedCertificate(NamedTuple):
    """What verification needs from one certificate, read without raising."""

    der: bytes
    version: int  # 1 or 3 (2 for v2)
    subject_der: bytes  # the Name's DER, for matching issuers
    issuer_der: bytes
    subject_key: tuple[tuple[str, str], ...]  # canonical (oid, text) of the subject, for matching by value
    issuer_key: tuple[tuple[str, str], ...]
    subject: str  # short (CN) and cleaned, for words
    issuer: str
    common_names: tuple[str, ...]  # raw text of the CNs (never shown without clean())
    serial: bytes
    not_before: datetime | None
    not_after: datetime | None
    signature_oid: str
    key_algorithm: str  # from the SPKI: "RSA", "ECDSA", "DSA", "Ed25519", "Ed448", "" (unknown)
    spki_der: bytes
    extensions: tuple[tuple[str, bool, bytes], ...]  # (oid, critical, value) in order
    basic_constraints: tuple[bool, int | None] | None  # (CA, pathLen), None when absent
    key_usage: int | None  # bits as a number, bit 0 = digitalSignature; None when absent
    extended_key_usage: frozenset[str] | None  # OIDs
    netscape_type: int | None
    san: tuple[GeneralName, ...] | None  # None when absent
    subject_key_id: bytes | None
    authority_key_id: bytes | None
    authority_issuer_serial: tuple[bytes, bytes] | None  # (issuer Name DER, serial) from the AKI
    name_constraints: NameConstraints | None
    defects: tuple[Defect, ...]

    @property
    def malformed(self) -> bool:
        return bool(self.defects)

    @property
    def dns_names(self) -> tuple[str, ...]:
        return tuple(n.value.decode("latin-1") for n in self.san or () if n.kind == 2)

    @property
    def ip_addresses(self) -> tuple[str, ...]:
        return tuple(
            str(ipaddress.ip_address(n.value)) for n in self.san or () if n.kind == 7 and len(n.value) in (4, 16)
        )

    @property
    def self_issued(self) -> bool:
        return self.subject_der == self.issuer_der or (bool(self.subject_key) and self.subject_key == self.issuer_key)

    @property
    def critical_unknown(self) -> tuple[str, ...]:
        """Critical extensions OpenSSL does not process (OIDs: never shown; see EXTENSION_NAMES)."""
        return tuple(oid for oid, critical, _ in self.extensions if critical and oid not in OPENSSL_HANDLED)

    def key(self) -> Key:
        return read_key(self.der)

    def x509(self) -> x509.Certificate | None:
        """cryptography's object (to verify signatures with), or None when it refuses the DER."""
        try:
            return load(self.der)
        except ValueError:
            return None


def load(der: bytes) -> x509.Certificate:
    """cryptography's certificate object, without the deprecation warnings it prints (negative serials...).

    Raises ValueError for whatever cryptography cannot read (it raises InvalidVersion for a bad version).
    """
    import warnings

    from cryptography import x509

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return x509.load_der_x509_certificate(der)
        except x509.InvalidVersion as exc:
            raise ValueError(f"the certificate's version is invalid: {exc}") from None


def read_key(der: bytes) -> Key:
    """The certificate's public key, by cryptography; Key("unknown", 0) when it cannot say."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    try:
        key = load(der).public_key()
    except (ValueError, UnsupportedAlgorithm, TypeError):
        return Key("unknown", 0)
    if isinstance(key, rsa.RSAPublicKey):
        return Key("RSA", key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(key.curve.name, key.curve.name)
        return Key("ECDSA", key.curve.key_size, curve)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return Key("Ed25519", 256)
    if isinstance(key, ed448.Ed448PublicKey):
        return Key("Ed448", 456)
    if isinstance(key, dsa.DSAPublicKey):
        return Key("DSA", key.key_size)
    return Key("unknown", 0)
