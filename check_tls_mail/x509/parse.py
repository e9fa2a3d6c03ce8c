"""Reading a certificate: ``read`` (each DER once per run) and the DER walk behind it, never raising.

A walk over the DER (with der.py and extensions.py) reads what path building
and the purpose checks need (names as encoded, extensions, key identifiers) the
way OpenSSL does, and records what is malformed (two subjectAltName
extensions, an x400Address, a BIT STRING common name, an IP address with a
netmask) where cryptography would raise.
"""

import re

from ..records import NamedTuple
from ..sanitize import clean
from .certificate import Certificate
from .der import DerError, der_time, items, read_oid, string_value, tlv
from .extensions import Extensions, read_extension
from .fields import EXTENSION_NAMES, Defect, Malformation
from .keys import KeyType

_CN = "2.5.4.3"
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
#: After the subjectPublicKeyInfo: issuerUniqueID [1], subjectUniqueID [2], extensions [3], each optional, in order.
_OPTIONAL_FIELDS = re.compile(b"\\A\x81?\x82?\xa3?\\Z")
#: Name strings OpenSSL converts to UTF-8 when it decodes a Name (x509_name_canon): one it cannot convert
#: makes the whole certificate undecodable; their codecs here, strict.
_CANONICAL_STRINGS = {0x0C: "utf-8", 0x1E: "utf-16-be", 0x1C: "utf-32-be"}
#: X.500 attributes whose value is not text by definition (x500UniqueIdentifier).
_BINARY_ATTRIBUTES = frozenset({"2.5.4.45"})


def _name(
    data: bytes, start: int, end: int, defects: list[Defect]
) -> tuple[tuple[tuple[str, str], ...], list[str], list[str]]:
    """(canonical attributes, CNs, attributes for display) of a Name; non-text attributes are defects."""
    key: list[tuple[str, str]] = []
    cns: list[str] = []
    shown: list[str] = []
    for _, rdn_start, rdn_end, _ in items(data, start, end):
        for _, atv_start, atv_end, _ in items(data, rdn_start, rdn_end):
            parts = items(data, atv_start, atv_end)
            if len(parts) != 2 or parts[0][0] != 0x06:
                raise DerError("bad attribute")
            oid = read_oid(data[parts[0][1] : parts[0][2]])
            tag, vstart, vend, _ = parts[1]
            if tag in _CANONICAL_STRINGS:
                data[vstart:vend].decode(_CANONICAL_STRINGS[tag])  # UnicodeDecodeError: not a certificate
            text = string_value(tag, data[vstart:vend])
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


_KEY_ALGORITHMS = {
    "1.2.840.113549.1.1.1": KeyType.RSA,
    "1.2.840.113549.1.1.10": KeyType.RSA,
    "1.2.840.10045.2.1": KeyType.ECDSA,
    "1.2.840.10040.4.1": KeyType.DSA,
    "1.3.101.112": KeyType.ED25519,
    "1.3.101.113": KeyType.ED448,
}


def _key_algorithm(der: bytes, spki: tuple[int, int, int, int]) -> KeyType | None:
    algorithm = items(der, spki[1], spki[2])[0]
    oid = items(der, algorithm[1], algorithm[2])[0]
    return _KEY_ALGORITHMS.get(read_oid(der[oid[1] : oid[2]]))


def _subject_field(der: bytes) -> tuple[int, int, int, int]:
    _, start, _, _ = tlv(der, 0)
    _, tstart, tend, _ = tlv(der, start)
    fields = items(der, tstart, tend)
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


#: What this run has read, by DER: every part of the check gets the same object for the same certificate.
_READ: dict[bytes, Certificate] = {}
#: A run reads a few dozen; a process that runs many checks (the tests) starts afresh past this.
_READ_LIMIT = 4096


def read(der: bytes) -> Certificate:
    """The certificate with this DER, read once (never raises: what is malformed is in its ``defects``)."""
    known = _READ.get(der)
    if known is None:
        if len(_READ) >= _READ_LIMIT:
            _READ.clear()
        known = _READ[der] = parse(der)
    return known


def parse(der: bytes) -> Certificate:
    """Read a certificate; whatever is malformed becomes a Defect, nothing raises."""
    defects: list[Defect] = []
    try:
        return _parse(der, defects)
    except (DerError, IndexError, ValueError, UnicodeDecodeError):
        return _unreadable(der)


def _unreadable(der: bytes) -> Certificate:
    return Certificate(
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
        signature_parameters=b"",
        key_algorithm=None,
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


def _parse(der: bytes, defects: list[Defect]) -> Certificate:
    tag, start, end, _ = tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise DerError("not a certificate")
    if [part[0] for part in items(der, start, end)] != [0x30, 0x30, 0x03]:
        raise DerError("not TBSCertificate, signatureAlgorithm, signatureValue")  # OpenSSL's d2i refuses it
    _, tstart, tend, _ = tlv(der, start)
    fields = items(der, tstart, tend)
    version = 1
    if fields[0][0] == 0xA0:
        inner = tlv(der, fields[0][1])
        version = int.from_bytes(der[inner[1] : inner[2]], "big") + 1
        fields = fields[1:]
    serial_f, sig_f, issuer_f, validity_f, subject_f, spki_f = fields[:6]
    if not _OPTIONAL_FIELDS.match(bytes(field[0] for field in fields[6:])):
        raise DerError("unexpected TBSCertificate fields")  # as OpenSSL's d2i: [1], [2], [3], in order, once
    sig_items = items(der, sig_f[1], sig_f[2])
    signature_oid = read_oid(der[sig_items[0][1] : sig_items[0][2]])
    signature_parameters = der[sig_items[1][3] : sig_items[1][2]] if len(sig_items) > 1 else b""

    issuer_key, issuer_cns, issuer_shown = _name(der, issuer_f[1], issuer_f[2], defects)
    subject_key, subject_cns, subject_shown = _name(der, subject_f[1], subject_f[2], defects)

    not_before = not_after = None
    try:
        (b_tag, b_start, b_end, _), (a_tag, a_start, a_end, _) = items(der, validity_f[1], validity_f[2])
        not_before, not_after = der_time(der, b_tag, b_start, b_end), der_time(der, a_tag, a_start, a_end)
    except (DerError, ValueError):
        defects.append(Defect(Malformation.UNREADABLE_DATES))

    extensions: list[tuple[str, bool, bytes]] = []
    found = Extensions()
    for field in fields[6:]:
        if field[0] != 0xA3:
            continue
        seq = tlv(der, field[1])
        seen: set[str] = set()
        for _, estart, eend, _ in items(der, seq[1], seq[2]):
            parts = items(der, estart, eend)
            oid = read_oid(der[parts[0][1] : parts[0][2]])
            critical = len(parts) == 3 and der[parts[1][1] : parts[1][2]] != b"\x00"
            value_f = parts[-1]
            name = EXTENSION_NAMES.get(oid, "")
            if oid in seen:
                defects.append(Defect(Malformation.DUPLICATE_EXTENSION, name))
                continue
            seen.add(oid)
            extensions.append((oid, critical, der[value_f[1] : value_f[2]]))
            try:
                found = read_extension(oid, der, value_f[1], value_f[2], found, defects)
            except (DerError, IndexError, ValueError):
                defects.append(Defect(Malformation.UNREADABLE_EXTENSION, name))
    if version < 3 and extensions:
        version = 3  # OpenSSL reads extensions whatever the version says
    parsed = Certificate(
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
        signature_parameters=signature_parameters,
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
    return parsed


class Signed(NamedTuple):
    """What a certificate's signature covers and is, as X509_verify reads them."""

    tbs: bytes  # the TBSCertificate, whole (its DER)
    inner_algorithm: bytes  # the TBSCertificate's signature AlgorithmIdentifier (DER)
    outer_algorithm: bytes  # the certificate's signatureAlgorithm (DER)
    signature: bytes  # the signatureValue's bits (whole octets only)


def signed_parts(der: bytes) -> Signed | None:
    """The parts of a certificate its signature check reads; None when they cannot be read, or when the
    signatureValue has bits left over (OpenSSL refuses those: ASN1_R_INVALID_BIT_STRING_BITS_LEFT)."""
    try:
        _, start, end, _ = tlv(der, 0)
        parts = items(der, start, end)
        if len(parts) != 3 or parts[2][0] != 0x03:
            return None
        (_, tstart, tend, thead), (_, _, aend, ahead), (_, sstart, send, _) = parts
        fields = items(der, tstart, tend)
        if fields and fields[0][0] == 0xA0:
            fields = fields[1:]
        inner = fields[1]
    except (DerError, IndexError):
        return None
    if send == sstart or der[sstart] != 0:
        return None
    return Signed(der[thead:tend], der[inner[3] : inner[2]], der[ahead:aend], der[sstart + 1 : send])
