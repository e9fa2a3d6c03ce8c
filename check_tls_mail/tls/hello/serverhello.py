"""One ServerHello message parsed with bounded reads; whatever overruns raises ``MalformedMessage``.

Wire layer below the flight reader (pure): the fields and extensions, the version a TLS 1.3 server chose.
"""

import struct

from ...records import NamedTuple
from ..codepoints import ExtensionType
from .answer import Malformation


class MalformedMessage(Exception):
    """A message that breaks the protocol (the flight reader turns it into a ``Malformed`` answer)."""

    def __init__(self, what: Malformation, detail: int = 0) -> None:
        super().__init__(what.value)
        self.what = what
        self.detail = detail


class Cursor:
    """Bounded reads from one message; any overrun raises ``MalformedMessage(what)``."""

    def __init__(self, data: bytes, what: Malformation) -> None:
        self.data = data
        self.at = 0
        self.what = what

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise MalformedMessage(self.what, len(self.data))
        piece = self.data[self.at : self.at + size]
        self.at += size
        return piece

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        value: int = struct.unpack("!H", self.take(2))[0]
        return value

    def u24(self) -> int:
        return int.from_bytes(self.take(3), "big")

    def vec8(self) -> bytes:
        return self.take(self.u8())

    def vec16(self) -> bytes:
        return self.take(self.u16())

    def vec24(self) -> bytes:
        return self.take(self.u24())

    def done(self) -> bool:
        return self.at == len(self.data)


class ParsedHello(NamedTuple):
    version: int
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression: int
    extensions: dict[int, bytes]
    order: tuple[int, ...]


def parse_server_hello(body: bytes) -> ParsedHello:
    what = Malformation.BAD_SERVER_HELLO
    cur = Cursor(body, what)
    legacy = cur.u16()
    random = cur.take(32)
    session_id = cur.vec8()
    suite = cur.u16()
    compression = cur.u8()
    extensions: dict[int, bytes] = {}
    order: list[int] = []
    if not cur.done():
        block = Cursor(cur.vec16(), what)
        while not block.done():
            ext_type = block.u16()
            if ext_type in extensions:
                raise MalformedMessage(what, ext_type)
            extensions[ext_type] = block.vec16()
            order.append(ext_type)
    if not cur.done():
        raise MalformedMessage(what, len(body))
    version = legacy
    if ExtensionType.SUPPORTED_VERSIONS in extensions:
        chosen = Cursor(extensions[ExtensionType.SUPPORTED_VERSIONS], what)
        version = chosen.u16()
        if not chosen.done():
            raise MalformedMessage(what, ExtensionType.SUPPORTED_VERSIONS)
    return ParsedHello(version, legacy, random, session_id, suite, compression, extensions, tuple(order))


def is_tls13_suite(suite: int) -> bool:
    return 0x1301 <= suite <= 0x13FF
