"""A small DER reader: TLVs, OIDs, BIT STRINGs, times and string types, bounded by the data given.

Reading layer below certparse (pure): anything that is not DER raises ``DerError``, which the callers turn
into a typed ``Malformation``.
"""

from __future__ import annotations

from datetime import datetime


class DerError(ValueError):
    """Not DER (internal: turned into a Malformation at this layer's edge)."""


def tlv(data: bytes, offset: int) -> tuple[int, int, int, int]:
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


def items(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The TLVs between ``start`` and ``end``."""
    out = []
    while start < end:
        item = tlv(data, start)
        if item[2] > end:
            raise DerError("overrun")
        out.append(item)
        start = item[2]
    return out


def read_oid(body: bytes) -> str:
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


_TEXT_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x12: "ascii", 0x1A: "ascii", 0x14: "latin-1"}
_WIDE_TAGS = {0x1E: "utf-16-be", 0x1C: "utf-32-be"}


def string_value(tag: int, body: bytes) -> str | None:
    if tag in _TEXT_TAGS:
        return body.decode(_TEXT_TAGS[tag], "replace")
    if tag in _WIDE_TAGS:
        return body.decode(_WIDE_TAGS[tag], "replace")
    return None


def bit_string(data: bytes, start: int, end: int) -> int:
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


def der_time(data: bytes, tag: int, start: int, end: int) -> datetime:
    from datetime import UTC

    text = data[start:end].decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif tag != 0x18:
        raise DerError("bad time")
    if not text.endswith("Z") or len(text) != 15 or not text[:14].isdigit():
        raise DerError("bad time")
    try:  # by hand: datetime.strptime imports _strptime and calendar on every run
        return datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]), int(text[12:14]), 0, UTC
        )
    except ValueError:  # month 13, second 61...
        raise DerError("bad time") from None
