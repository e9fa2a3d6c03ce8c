"""Certificate files on disk (an ACME client's fullchain.pem, a key-and-chain file, DER): read, bounded.

X.509 layer, the only file I/O on certificates: what a path holds, as DER certificates in file order, or why
not, typed. The checks that read such files (renewal's --expect-cert, DANE's records for the renewed key)
word the reason themselves.
"""

from __future__ import annotations

import enum

from ..records import NamedTuple

#: A certificate chain file is a few KiB; refuse to read more than this.
MAX_CERT_FILE_BYTES = 1024 * 1024


class FileProblem(enum.Enum):
    MISSING = "no such file"
    UNREADABLE = "cannot be read"
    TOO_LARGE = "is larger than 1 MiB, not a certificate file"
    NO_CERTIFICATE = "holds no PEM certificate"
    INVALID = "holds a certificate that cannot be parsed"


class FileError(Exception):
    """A certificate file that cannot be used: its problem, and a detail for the words (the system's reason)."""

    def __init__(self, problem: FileProblem, detail: str = "") -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.detail = detail


class CertificateFile(NamedTuple):
    path: str
    chain: tuple[bytes, ...]  # DER, in file order: the leaf first in a chain file


def read_certificate_file(path: str) -> CertificateFile:
    """The certificates of a PEM file (a chain file, or key and chain in one) or of a DER file; FileError if none."""
    from .store import pem_blocks

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CERT_FILE_BYTES + 1)
    except FileNotFoundError:
        raise FileError(FileProblem.MISSING) from None
    except OSError as exc:
        raise FileError(FileProblem.UNREADABLE, exc.strerror or type(exc).__name__) from None
    if len(data) > MAX_CERT_FILE_BYTES:
        raise FileError(FileProblem.TOO_LARGE)
    if not data.strip() or (b"-----BEGIN" in data and b"-----BEGIN CERTIFICATE-----" not in data):
        raise FileError(FileProblem.NO_CERTIFICATE)
    try:
        chain = tuple(pem_blocks(data)) if b"-----BEGIN" in data else (data,)
    except ValueError as exc:
        raise FileError(FileProblem.INVALID, str(exc)) from None
    return CertificateFile(path, chain)
