"""Reading layer: a certificate's DER read into typed facts, never raising.

A small DER walk reads what path building and the purpose checks need (names,
extensions, key identifiers) the way OpenSSL does, and records what is
malformed (two subjectAltName extensions, an x400Address, a BIT STRING common
name, an IP address with a netmask) where cryptography would raise.
"""

from __future__ import annotations

import enum
import ipaddress
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from .sanitize import clean

if TYPE_CHECKING:
    from cryptography import x509


class DerError(ValueError):
    """Not DER (internal: turned into a Malformation at this layer's edge)."""


def _tlv(data: bytes, offset: int) -> tuple[int, int, int, int]:
    """(tag, start of the content, end of the content, start of the TLV) at ``offset``."""
    if offset + 2 > len(data):
        raise DerError("truncated")
    tag, size = data[offset], data[offset + 1]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag number")
    start = offset + 2
    if size & 0x80:
        count = size & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise DerError("bad length")
        size = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + size
    if end > len(data):
        raise DerError("truncated")
    return tag, start, end, offset


def _items(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The TLVs between ``start`` and ``end``."""
    out = []
    while start < end:
        item = _tlv(data, start)
        if item[2] > end:
            raise DerError("overrun")
        out.append(item)
        start = item[2]
    return out


def _oid(body: bytes) -> str:
    if not body:
        raise DerError("empty OID")
    first = body[0]
    arcs = [min(first // 40, 2), first - 40 * min(first // 40, 2)] if first < 0x80 else []
    value, rest = 0, body[1:] if first < 0x80 else body
    for byte in rest:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            if not arcs:
                top = min(value // 40, 2)
                arcs = [top, value - 40 * top]
            else:
                arcs.append(value)
            value = 0
    return ".".join(map(str, arcs))


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
_CN = "2.5.4.3"
_TEXT_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x12: "ascii", 0x1A: "ascii", 0x14: "latin-1"}
_WIDE_TAGS = {0x1E: "utf-16-be", 0x1C: "utf-32-be"}
_SHORT_NAMES = {
    _CN: "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
}
_ATTRIBUTE_NAMES = {_CN: "common name", "2.5.4.10": "organization", "2.5.4.11": "organizational unit"}
_ASN1_TYPES = {
    0x01: "BOOLEAN",
    0x02: "INTEGER",
    0x03: "BIT STRING",
    0x04: "OCTET STRING",
    0x05: "NULL",
    0x30: "SEQUENCE",
}
#: X.500 attributes whose value is not text by definition (x500UniqueIdentifier).
_BINARY_ATTRIBUTES = frozenset({"2.5.4.45"})


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
    """cryptography's certificate object, without the deprecation warnings it prints (negative serials...)."""
    import warnings

    from cryptography import x509

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return x509.load_der_x509_certificate(der)


def _text(tag: int, body: bytes) -> str | None:
    if tag in _TEXT_TAGS:
        return body.decode(_TEXT_TAGS[tag], "replace")
    if tag in _WIDE_TAGS:
        return body.decode(_WIDE_TAGS[tag], "replace")
    return None


def _name(
    data: bytes, start: int, end: int, defects: list[Defect]
) -> tuple[tuple[tuple[str, str], ...], list[str], list[str]]:
    """(canonical attributes, CNs, attributes for display) of a Name; non-text attributes are defects."""
    key: list[tuple[str, str]] = []
    cns: list[str] = []
    shown: list[str] = []
    for _, rdn_start, rdn_end, _ in _items(data, start, end):
        for _, atv_start, atv_end, _ in _items(data, rdn_start, rdn_end):
            parts = _items(data, atv_start, atv_end)
            if len(parts) != 2 or parts[0][0] != 0x06:
                raise DerError("bad attribute")
            oid = _oid(data[parts[0][1] : parts[0][2]])
            tag, vstart, vend, _ = parts[1]
            text = _text(tag, data[vstart:vend])
            if text is None:
                if oid not in _BINARY_ATTRIBUTES:
                    what = _ATTRIBUTE_NAMES.get(oid, "a name attribute")
                    defects.append(Defect(Malformation.NON_TEXT_NAME, what, _ASN1_TYPES.get(tag, "binary value")))
                key.append((oid, data[vstart:vend].hex()))
                shown.append(f"{_SHORT_NAMES.get(oid, 'attribute')}=({_ASN1_TYPES.get(tag, 'binary value')})")
                continue
            key.append((oid, " ".join(text.split()).casefold()))
            if oid == _CN:
                cns.append(text)
            shown.append(f"{_SHORT_NAMES.get(oid, 'attribute')}={text}")
    return tuple(sorted(key)), cns, shown


def _short(cns: list[str], shown: list[str]) -> str:
    """The CN if there is one, else the whole name, cleaned for output."""
    if cns:
        return clean(cns[0] or "(empty name)", 64)
    return clean(", ".join(shown) or "(empty name)", 64)


def _general_names(data: bytes, start: int, end: int, defects: list[Defect], in_san: bool) -> tuple[GeneralName, ...]:
    out = []
    for tag, gstart, gend, _ in _items(data, start, end):
        kind = tag & 0x1F
        value = data[gstart:gend]
        if kind == 4:  # directoryName: EXPLICIT Name
            inner = _tlv(data, gstart)
            value = data[inner[3] : inner[2]]
        elif kind in (3, 5) and in_san:
            defects.append(Defect(Malformation.UNSUPPORTED_NAME_TYPE, "x400Address" if kind == 3 else "ediPartyName"))
        elif kind == 7 and in_san and len(value) not in (4, 16):
            if len(value) in (8, 32):
                half = len(value) // 2
                address, mask = ipaddress.ip_address(value[:half]), ipaddress.ip_address(value[half:])
                defects.append(Defect(Malformation.IP_WITH_NETMASK, f"{address}/{mask}"))
            else:
                defects.append(Defect(Malformation.BAD_IP_ADDRESS, str(len(value))))
        out.append(GeneralName(kind, value))
    return tuple(out)


def _bits(data: bytes, start: int, end: int) -> int:
    """A BIT STRING as a number whose bit 0 is the first named bit."""
    body = data[start:end]
    if not body:
        raise DerError("empty BIT STRING")
    value = 0
    for index, byte in enumerate(body[1:]):
        for bit in range(8):
            if byte & (0x80 >> bit):
                value |= 1 << (index * 8 + bit)
    return value


def _time(data: bytes, tag: int, start: int, end: int) -> datetime:
    from datetime import UTC

    text = data[start:end].decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif tag != 0x18:
        raise DerError("bad time")
    if not text.endswith("Z") or len(text) != 15:
        raise DerError("bad time")
    return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


class _Extensions(NamedTuple):
    basic: tuple[bool, int | None] | None = None
    usage: int | None = None
    eku: frozenset[str] | None = None
    netscape: int | None = None
    san: tuple[GeneralName, ...] | None = None
    ski: bytes | None = None
    aki: bytes | None = None
    aki_issuer: tuple[bytes, bytes] | None = None
    constraints: NameConstraints | None = None


def _extension(oid: str, data: bytes, start: int, end: int, found: _Extensions, defects: list[Defect]) -> _Extensions:
    """One extension's value (DER between start and end) read into ``found``."""
    tag, vstart, vend, _ = _tlv(data, start)
    if oid == "2.5.29.19":
        ca, pathlen = False, None
        for item_tag, istart, iend, _ in _items(data, vstart, vend):
            if item_tag == 0x01:
                ca = data[istart:iend] != b"\x00"
            elif item_tag == 0x02:
                pathlen = int.from_bytes(data[istart:iend], "big", signed=True)
        return found._replace(basic=(ca, pathlen))
    if oid == "2.5.29.15":
        return found._replace(usage=_bits(data, vstart, vend))
    if oid == "2.16.840.1.113730.1.1":
        return found._replace(netscape=_bits(data, vstart, vend))
    if oid == "2.5.29.37":
        return found._replace(eku=frozenset(_oid(data[s:e]) for _, s, e, _ in _items(data, vstart, vend)))
    if oid == "2.5.29.17":
        return found._replace(san=_general_names(data, vstart, vend, defects, True))
    if oid == "2.5.29.14":
        return found._replace(ski=data[vstart:vend])
    if oid == "2.5.29.35":
        keyid, issuer, serial = None, None, None
        for item_tag, istart, iend, _ in _items(data, vstart, vend):
            if item_tag == 0x80:
                keyid = data[istart:iend]
            elif item_tag == 0xA1:
                names = _general_names(data, istart, iend, defects, False)
                issuer = next((n.value for n in names if n.kind == 4), None)
            elif item_tag == 0x82:
                serial = data[istart:iend]
        return found._replace(aki=keyid, aki_issuer=(issuer, serial) if issuer and serial else None)
    if oid == "2.5.29.30":
        permitted: tuple[GeneralName, ...] = ()
        excluded: tuple[GeneralName, ...] = ()
        minmax = False
        for item_tag, istart, iend, _ in _items(data, vstart, vend):
            subtrees: list[GeneralName] = []
            for _, sstart, send, _ in _items(data, istart, iend):
                parts = _items(data, sstart, send)
                minmax = minmax or len(parts) > 1
                base = _general_names(data, parts[0][3], parts[0][2], defects, False)
                subtrees.extend(base)
            if item_tag == 0xA0:
                permitted = tuple(subtrees)
            elif item_tag == 0xA1:
                excluded = tuple(subtrees)
        return found._replace(constraints=NameConstraints(permitted, excluded, minmax))
    del tag
    return found


_KEY_ALGORITHMS = {
    "1.2.840.113549.1.1.1": "RSA",
    "1.2.840.113549.1.1.10": "RSA",
    "1.2.840.10045.2.1": "ECDSA",
    "1.2.840.10040.4.1": "DSA",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}


def _key_algorithm(der: bytes, spki: tuple[int, int, int, int]) -> str:
    algorithm = _items(der, spki[1], spki[2])[0]
    oid = _items(der, algorithm[1], algorithm[2])[0]
    return _KEY_ALGORITHMS.get(_oid(der[oid[1] : oid[2]]), "")


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


def _subject_field(der: bytes) -> tuple[int, int, int, int]:
    _, start, _, _ = _tlv(der, 0)
    _, tstart, tend, _ = _tlv(der, start)
    fields = _items(der, tstart, tend)
    if fields and fields[0][0] == 0xA0:
        fields = fields[1:]
    return fields[4]


def subject_der(der: bytes) -> bytes:
    """Only the subject Name's DER (cheap: for indexing a trust store), b"" when unreadable."""
    try:
        field = _subject_field(der)
    except (DerError, IndexError):
        return b""
    return der[field[3] : field[2]]


def subject_key(der: bytes) -> tuple[tuple[str, str], ...]:
    """Only the subject Name as OpenSSL compares names (by value), () when unreadable."""
    try:
        field = _subject_field(der)
        return _name(der, field[1], field[2], [])[0]
    except (DerError, IndexError, ValueError, UnicodeDecodeError):
        return ()


def parse(der: bytes) -> ParsedCertificate:
    """Read a certificate; whatever is malformed becomes a Defect, nothing raises."""
    defects: list[Defect] = []
    try:
        return _parse(der, defects)
    except (DerError, IndexError, ValueError, UnicodeDecodeError):
        return _unreadable(der)


def _unreadable(der: bytes) -> ParsedCertificate:
    return ParsedCertificate(
        der=der,
        version=0,
        subject_der=b"",
        issuer_der=b"",
        subject_key=(),
        issuer_key=(),
        subject="(unreadable certificate)",
        issuer="(unreadable certificate)",
        common_names=(),
        serial=b"",
        not_before=None,
        not_after=None,
        signature_oid="",
        key_algorithm="",
        spki_der=b"",
        extensions=(),
        basic_constraints=None,
        key_usage=None,
        extended_key_usage=None,
        netscape_type=None,
        san=None,
        subject_key_id=None,
        authority_key_id=None,
        authority_issuer_serial=None,
        name_constraints=None,
        defects=(Defect(Malformation.UNREADABLE),),
    )


def _parse(der: bytes, defects: list[Defect]) -> ParsedCertificate:
    tag, start, end, _ = _tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise DerError("not a certificate")
    tbs_tag, tstart, tend, _ = _tlv(der, start)
    if tbs_tag != 0x30:
        raise DerError("no TBSCertificate")
    fields = _items(der, tstart, tend)
    version = 1
    if fields[0][0] == 0xA0:
        inner = _tlv(der, fields[0][1])
        version = int.from_bytes(der[inner[1] : inner[2]], "big") + 1
        fields = fields[1:]
    serial_f, sig_f, issuer_f, validity_f, subject_f, spki_f = fields[:6]
    sig_items = _items(der, sig_f[1], sig_f[2])
    signature_oid = _oid(der[sig_items[0][1] : sig_items[0][2]])

    issuer_key, issuer_cns, issuer_shown = _name(der, issuer_f[1], issuer_f[2], defects)
    subject_key, subject_cns, subject_shown = _name(der, subject_f[1], subject_f[2], defects)

    not_before = not_after = None
    try:
        (b_tag, b_start, b_end, _), (a_tag, a_start, a_end, _) = _items(der, validity_f[1], validity_f[2])
        not_before, not_after = _time(der, b_tag, b_start, b_end), _time(der, a_tag, a_start, a_end)
    except (DerError, ValueError):
        defects.append(Defect(Malformation.UNREADABLE_DATES))

    extensions: list[tuple[str, bool, bytes]] = []
    found = _Extensions()
    for field in fields[6:]:
        if field[0] != 0xA3:
            continue
        seq = _tlv(der, field[1])
        seen: set[str] = set()
        for _, estart, eend, _ in _items(der, seq[1], seq[2]):
            parts = _items(der, estart, eend)
            oid = _oid(der[parts[0][1] : parts[0][2]])
            critical = len(parts) == 3 and der[parts[1][1] : parts[1][2]] != b"\x00"
            value_f = parts[-1]
            name = EXTENSION_NAMES.get(oid, "")
            if oid in seen:
                defects.append(Defect(Malformation.DUPLICATE_EXTENSION, name))
                continue
            seen.add(oid)
            extensions.append((oid, critical, der[value_f[1] : value_f[2]]))
            try:
                found = _extension(oid, der, value_f[1], value_f[2], found, defects)
            except (DerError, IndexError, ValueError):
                defects.append(Defect(Malformation.UNREADABLE_EXTENSION, name))
    if version < 3 and extensions:
        version = 3  # OpenSSL reads extensions whatever the version says
    parsed = ParsedCertificate(
        der=der,
        version=version,
        subject_der=der[subject_f[3] : subject_f[2]],
        issuer_der=der[issuer_f[3] : issuer_f[2]],
        subject_key=subject_key,
        issuer_key=issuer_key,
        subject=_short(subject_cns, subject_shown),
        issuer=_short(issuer_cns, issuer_shown),
        common_names=tuple(subject_cns),
        serial=der[serial_f[1] : serial_f[2]],
        not_before=not_before,
        not_after=not_after,
        signature_oid=signature_oid,
        key_algorithm=_key_algorithm(der, spki_f),
        spki_der=der[spki_f[3] : spki_f[2]],
        extensions=tuple(extensions),
        basic_constraints=found.basic,
        key_usage=found.usage,
        extended_key_usage=found.eku,
        netscape_type=found.netscape,
        san=found.san,
        subject_key_id=found.ski,
        authority_key_id=found.aki,
        authority_issuer_serial=found.aki_issuer,
        name_constraints=found.constraints,
        defects=tuple(dict.fromkeys(defects)),
    )
    if not parsed.defects:
        parsed = parsed._replace(defects=_cryptography_refuses(der))
    return parsed


def _cryptography_refuses(der: bytes) -> tuple[Defect, ...]:
    """What cryptography cannot read that the walk above did not name (so later reads never raise)."""
    try:
        cert = load(der)
    except ValueError:
        return (Defect(Malformation.UNREADABLE),)
    for part in ("subject", "issuer"):
        try:
            getattr(cert, part)
        except (ValueError, TypeError):
            return (Defect(Malformation.UNREADABLE_NAME, part),)
    try:
        cert.extensions  # noqa: B018
    except (ValueError, TypeError):
        return (Defect(Malformation.UNREADABLE_EXTENSION),)
    try:
        cert.not_valid_after_utc  # noqa: B018
    except ValueError:
        return (Defect(Malformation.UNREADABLE_DATES),)
    return ()
