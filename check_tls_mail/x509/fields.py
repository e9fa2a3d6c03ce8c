"""A certificate's fields as the DER walk reads them (``CertificateFields``), and what can be malformed in them.

X.509 layer, data and look-ups: the extension OIDs operators meet, what OpenSSL handles, the malformations.
"""

import enum
from datetime import datetime

from ..records import NamedTuple
from .keys import KeyType

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
    UNREADABLE_DATES = "unreadable dates"
    UNSUPPORTED_KEY = "unsupported key"


class Defect(NamedTuple):
    what: Malformation
    text: str = ""  # the datum the words need: an extension's or attribute's name, an address and netmask
    detail: str = ""  # a second datum: the ASN.1 type a name attribute has instead of text


class GeneralName(NamedTuple):
    """One GeneralName: kind is the context tag (1 email, 2 DNS, 4 directory, 6 URI, 7 IP...)."""

    kind: int
    value: bytes  # the content: text bytes, IP octets, or a Name's DER (directoryName)


class NameConstraints(NamedTuple):
    permitted: tuple[GeneralName, ...]
    excluded: tuple[GeneralName, ...]
    has_minmax: bool  # minimum/maximum given: OpenSSL refuses those


class CertificateFields(NamedTuple):
    """What the DER walk reads of one certificate, without raising (see certificate.Certificate)."""

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
    signature_parameters: bytes  # the DER of the signature AlgorithmIdentifier's parameters (RSASSA-PSS)
    key_algorithm: KeyType | None  # from the SPKI's algorithm; None when unknown
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
