"""TLS protocol versions: one vocabulary, the wire codes, with OpenSSL's view and the words' view.

TLS layer, data only: ``ssl`` is imported only when OpenSSL's view is asked for (not to parse a command line).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl


class TlsVersion(enum.IntEnum):
    """A protocol version by its wire code (RFC 8446 section 4.2.1, RFC 5246); ordered, oldest first."""

    SSL3_0 = 0x0300
    TLS1_0 = 0x0301
    TLS1_1 = 0x0302
    TLS1_2 = 0x0303
    TLS1_3 = 0x0304

    @property
    def number(self) -> str:
        """'1.2', as the command line and profiles.json write it ('3.0' for SSL 3.0)."""
        return "3.0" if self is TlsVersion.SSL3_0 else f"1.{self - 0x0301}"

    @property
    def label(self) -> str:
        """'TLS 1.2', as every output says it."""
        return "SSL 3.0" if self is TlsVersion.SSL3_0 else f"TLS {self.number}"

    @property
    def openssl(self) -> ssl.TLSVersion:
        """The version as Python's ssl module sets it on an SSLContext."""
        import ssl

        return {
            TlsVersion.SSL3_0: ssl.TLSVersion.SSLv3,
            TlsVersion.TLS1_0: ssl.TLSVersion.TLSv1,
            TlsVersion.TLS1_1: ssl.TLSVersion.TLSv1_1,
            TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
            TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3,
        }[self]

    @classmethod
    def parse(cls, number: str) -> TlsVersion:
        """The version written '1.2' (ValueError for anything else)."""
        for version in cls:
            if version.number == number:
                return version
        raise ValueError(f"not a TLS version: {number!r}")

    @classmethod
    def of(cls, code: int) -> TlsVersion | None:
        """The version with this wire code, or None (GREASE, a draft, garbage)."""
        return cls(code) if code in cls._value2member_map_ else None

    @classmethod
    def from_openssl(cls, name: str | None) -> TlsVersion | None:
        """The version OpenSSL names 'TLSv1.2' (SSLSocket.version()), or None."""
        return _OPENSSL_NAMES.get(name or "")


_OPENSSL_NAMES = {
    "SSLv3": TlsVersion.SSL3_0,
    "TLSv1": TlsVersion.TLS1_0,
    "TLSv1.1": TlsVersion.TLS1_1,
    "TLSv1.2": TlsVersion.TLS1_2,
    "TLSv1.3": TlsVersion.TLS1_3,
}

#: The versions probed one by one (--min-tls, --require-tls), oldest first.
PROBED = (TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2, TlsVersion.TLS1_3)
#: Their numbers, as the command line takes them.
NUMBERS = tuple(version.number for version in PROBED)
