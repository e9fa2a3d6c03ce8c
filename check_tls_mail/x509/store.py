"""Trust anchors: the system store or --ca-file, read within limits, indexed by subject, each read when needed.

X.509 layer: the one file the check reads for trust (``load_store``), and the anchors' look-ups.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from functools import cache

from ..errors import UsageError
from .certificate import Certificate
from .parse import read, subject_der, subject_key


class TrustAnchors:
    """Trust anchors (DER), indexed by subject; each read only when a chain needs it."""

    def __init__(self, certificates: Sequence[bytes], origin: str, builtin: bool = False) -> None:
        self.origin = origin  # "--ca-file /etc/x.pem", "the system trust store", for words
        #: The system store: public CAs, as clients' built-in roots (stricter rules apply to chains to those).
        self.builtin = builtin
        self._der = tuple(certificates)
        self._exact = frozenset(self._der)
        self._by_subject: dict[bytes, list[bytes]] = {}
        for der in self._der:
            self._by_subject.setdefault(subject_der(der), []).append(der)
        self._by_key: dict[tuple[tuple[str, str], ...], list[bytes]] | None = None

    def __len__(self) -> int:
        return len(self._der)

    def contains(self, cert: Certificate) -> bool:
        return cert.der in self._exact

    def named(self, name_der: bytes, key: tuple[tuple[str, str], ...]) -> list[Certificate]:
        """Anchors whose subject is this name (by encoding, else by value as OpenSSL compares names)."""
        found = [read(der) for der in self._by_subject.get(name_der, ())]
        if found or not key:
            return found
        if self._by_key is None:
            self._by_key = {}
            for der in self._der:
                self._by_key.setdefault(subject_key(der), []).append(der)
        return [read(der) for der in self._by_key.get(key, ())]

    def issuer_of(self, cert: Certificate) -> Certificate | None:
        """The anchor that signed ``cert`` (name and signature), or None."""
        from .signatures import signed_by

        return next((a for a in self.named(cert.issuer_der, cert.issuer_key) if signed_by(cert, a)), None)


_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"


def pem_blocks(data: bytes) -> list[bytes]:
    """The DER of each PEM certificate in ``data`` (ValueError for a block that is not base64).

    Each block runs from a BEGIN line to the first END after it, as the regular expression
    ``BEGIN(.*?)END`` finds them; found with bytes.find, which over the system bundle (0.2 MiB, 144
    certificates) takes a tenth of that expression's 2.3 ms in every check that reads it.
    """
    import base64

    blocks = []
    at = 0
    while (start := data.find(_BEGIN, at)) >= 0:
        stop = data.find(_END, start + len(_BEGIN))
        if stop < 0:
            break
        blocks.append(data[start + len(_BEGIN) : stop])
        at = stop + len(_END)
    try:
        return [base64.b64decode(b"".join(block.split()), validate=True) for block in blocks]
    except ValueError as exc:
        raise ValueError(f"a certificate block is not base64: {exc}") from None


@cache
def load_store(ca_file: str | None, limit: int = 4 * 2**20) -> TrustAnchors:
    """Trust anchors: --ca-file, or the system store OpenSSL uses.

    Only a regular file of at most ``limit`` bytes is read (Debian's whole
    bundle is about 0.2 MiB); a FIFO, a device such as /dev/zero or a
    directory is refused before any byte is read.
    """
    import os
    import stat

    path = ca_file
    if path is None:
        paths = ssl.get_default_verify_paths()
        path = paths.cafile or paths.openssl_cafile
    what = f"--ca-file {ca_file}" if ca_file else f"system trust store {path}"
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it changes nothing for a regular file).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise UsageError(f"{what}: not a regular file")
            if info.st_size > limit:
                raise UsageError(f"{what}: larger than {limit // 2**20} MiB, not a trust store")
            with open(fd, "rb", closefd=False) as handle:
                data = handle.read(limit + 1)
        finally:
            os.close(fd)
        if len(data) > limit:
            raise UsageError(f"{what}: larger than {limit // 2**20} MiB, not a trust store")
        certs = pem_blocks(data)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {what}: {exc}") from None
    if not certs:
        raise UsageError(f"no certificates in {path}")
    origin = f"--ca-file {ca_file}" if ca_file else "the system trust store"
    return TrustAnchors(certs, origin, builtin=ca_file is None)
