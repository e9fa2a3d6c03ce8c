"""The extensions verification needs, read from their DER: basic constraints, key usages, names, key identifiers.

Reading layer below certparse (pure): what is malformed inside an extension becomes a ``Defect``.
"""

import ipaddress

from ..records import NamedTuple
from .der import bit_string, items, read_oid, tlv
from .fields import Defect, GeneralName, Malformation, NameConstraints


def general_names(data: bytes, start: int, end: int, defects: list[Defect], in_san: bool) -> tuple[GeneralName, ...]:
    out = []
    for tag, gstart, gend, _ in items(data, start, end):
        kind = tag & 0x1F
        value = data[gstart:gend]
        if kind == 4:  # directoryName: EXPLICIT Name
            inner = tlv(data, gstart)
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


class Extensions(NamedTuple):
    basic: tuple[bool, int | None] | None = None
    usage: int | None = None
    eku: frozenset[str] | None = None
    netscape: int | None = None
    san: tuple[GeneralName, ...] | None = None
    ski: bytes | None = None
    aki: bytes | None = None
    aki_issuer: tuple[bytes, bytes] | None = None
    constraints: NameConstraints | None = None


def read_extension(oid: str, data: bytes, start: int, end: int, found: Extensions, defects: list[Defect]) -> Extensions:
    """One extension's value (DER between start and end) read into ``found``."""
    tag, vstart, vend, _ = tlv(data, start)
    if oid == "2.5.29.19":
        ca, pathlen = False, None
        for item_tag, istart, iend, _ in items(data, vstart, vend):
            if item_tag == 0x01:
                ca = data[istart:iend] != b"\x00"
            elif item_tag == 0x02:
                pathlen = int.from_bytes(data[istart:iend], "big", signed=True)
        return found._replace(basic=(ca, pathlen))
    if oid == "2.5.29.15":
        return found._replace(usage=bit_string(data, vstart, vend))
    if oid == "2.16.840.1.113730.1.1":
        return found._replace(netscape=bit_string(data, vstart, vend))
    if oid == "2.5.29.37":
        return found._replace(eku=frozenset(read_oid(data[s:e]) for _, s, e, _ in items(data, vstart, vend)))
    if oid == "2.5.29.17":
        return found._replace(san=general_names(data, vstart, vend, defects, True))
    if oid == "2.5.29.14":
        return found._replace(ski=data[vstart:vend])
    if oid == "2.5.29.35":
        keyid, issuer, serial = None, None, None
        for item_tag, istart, iend, _ in items(data, vstart, vend):
            if item_tag == 0x80:
                keyid = data[istart:iend]
            elif item_tag == 0xA1:
                names = general_names(data, istart, iend, defects, False)
                issuer = next((n.value for n in names if n.kind == 4), None)
            elif item_tag == 0x82:
                serial = data[istart:iend]
        return found._replace(aki=keyid, aki_issuer=(issuer, serial) if issuer and serial else None)
    if oid == "2.5.29.30":
        permitted: tuple[GeneralName, ...] = ()
        excluded: tuple[GeneralName, ...] = ()
        minmax = False
        for item_tag, istart, iend, _ in items(data, vstart, vend):
            subtrees: list[GeneralName] = []
            for _, sstart, send, _ in items(data, istart, iend):
                parts = items(data, sstart, send)
                minmax = minmax or len(parts) > 1
                base = general_names(data, parts[0][3], parts[0][2], defects, False)
                subtrees.extend(base)
            if item_tag == 0xA0:
                permitted = tuple(subtrees)
            elif item_tag == 0xA1:
                excluded = tuple(subtrees)
        return found._replace(constraints=NameConstraints(permitted, excluded, minmax))
    del tag
    return found
