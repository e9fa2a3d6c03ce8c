"""After a renewal (--expect-cert, --require-name): is the served certificate the one on disk, with every name?

Facts and judgement over certificates already read (x509.certificate.Certificate);
the only I/O is reading the --expect-cert files, bounded, at option time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ...errors import UsageError
from ...records import NamedTuple
from ...sanitize import clean
from ...severity import Severity
from ...words import day
from ...x509.files import FileProblem

if TYPE_CHECKING:
    from ...x509.certificate import Certificate
    from ...x509.keys import KeyType


class ExpectCertError(UsageError):
    """An --expect-cert file the check cannot use: a usage error (UNKNOWN)."""

    def __init__(self, path: str, problem: FileProblem, detail: str = "") -> None:
        self.path = path
        self.problem = problem
        self.detail = detail
        more = f" ({detail})" if detail else ""
        super().__init__(f"--expect-cert {clean(path, 200)}: {problem.value}{more}")


class ExpectedCertificate(NamedTuple):
    path: str
    facts: Certificate  # the first certificate of the file
    chain: tuple[bytes, ...] = ()  # every certificate of the file, DER (DANE-TA records match its issuers)


def load_expected(path: str) -> ExpectedCertificate:
    """The first certificate of a PEM file (a chain file, or key and chain in one), or DER."""
    from ...x509.files import FileError, read_certificate_file
    from ...x509.parse import read

    try:
        found = read_certificate_file(path)
    except FileError as exc:
        detail = clean(exc.detail, 80) if exc.detail else ""
        raise ExpectCertError(path, exc.problem, detail) from None
    cert = read(found.chain[0])
    if cert.crypto is None:
        raise ExpectCertError(path, FileProblem.INVALID, clean(cert.refusal, 80))
    if cert.not_before is None or cert.not_after is None:
        raise ExpectCertError(path, FileProblem.INVALID, "its validity dates cannot be read")
    return ExpectedCertificate(path, cert, found.chain)


def load_all(paths: Sequence[str]) -> tuple[ExpectedCertificate, ...]:
    """Every --expect-cert file; the first unusable one raises ExpectCertError."""
    return tuple(load_expected(path) for path in paths)


# --- is the served certificate the one on disk? -------------------------------------------------


class Same(NamedTuple):
    path: str


class FileNewer(NamedTuple):
    """The file holds a newer certificate: renewed on disk, not reloaded."""

    served_until: datetime
    file_until: datetime
    path: str


class ServedNewer(NamedTuple):
    """The server serves a newer certificate than the file: a stale copy, or the wrong file."""

    served_until: datetime
    file_until: datetime
    path: str


class Different(NamedTuple):
    """Another certificate with the same validity: neither is newer (a re-issue with another key?)."""

    served_until: datetime
    file_until: datetime
    path: str


class NoFileForKeyType(NamedTuple):
    """Dual certificates, and no --expect-cert file of this certificate's key type (the files are for the others)."""

    key_type: KeyType


Deployment = Same | FileNewer | ServedNewer | Different | NoFileForKeyType


def _counterpart(served: Certificate, expected: Sequence[ExpectedCertificate]) -> ExpectedCertificate:
    """The file the served certificate should be: same key type, then a shared name, then the newest."""
    same_type = [e for e in expected if e.facts.key_type == served.key_type] or list(expected)
    names = {n.lower() for n in served.dns_names + served.ip_addresses}
    sharing = [e for e in same_type if names & {n.lower() for n in e.facts.dns_names + e.facts.ip_addresses}]
    return max(sharing or same_type, key=lambda e: (e.facts.valid_until, e.facts.valid_from))


def compare(
    served: Certificate, expected: Sequence[ExpectedCertificate], beside: Sequence[Certificate] = ()
) -> Deployment:
    """Served leaf against the --expect-cert files: equal to one of them, or which is newer. ``beside``: the
    other certificates served at the same address (dual certificates), which the files may be for."""
    if not expected:
        raise ValueError("compare() needs at least one expected certificate")
    for candidate in expected:
        if candidate.facts.fingerprint == served.fingerprint:
            return Same(candidate.path)
    types = {e.facts.key_type for e in expected}
    key_type = served.key_type
    if key_type is not None and key_type not in types and types & {other.key_type for other in beside}:
        return NoFileForKeyType(key_type)
    other = _counterpart(served, expected)
    served_key = (served.valid_until, served.valid_from)
    file_key = (other.facts.valid_until, other.facts.valid_from)
    if file_key > served_key:
        return FileNewer(served.valid_until, other.facts.valid_until, other.path)
    if served_key > file_key:
        return ServedNewer(served.valid_until, other.facts.valid_until, other.path)
    return Different(served.valid_until, other.facts.valid_until, other.path)


# --- has the certificate kept every required name? ----------------------------------------------


class NamesCovered(NamedTuple):
    names: tuple[str, ...]


class NamesMissing(NamedTuple):
    served_for: str  # the certificate's names, cleaned and bounded (Certificate.names)
    missing: tuple[str, ...]  # cleaned


NameCoverage = NamesCovered | NamesMissing


def check_required_name(text: str) -> str:
    """Validate one --require-name value (a DNS name, *.domain, or an IP address); UsageError if not."""
    import ipaddress

    from ...net.names import HostName, check_host_name

    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    if not isinstance(check_host_name(text.removeprefix("*.")), HostName):
        raise UsageError(f"--require-name {clean(text)}: not a host name or IP address")
    return text


def required_names(served: Certificate, names: Sequence[str]) -> NameCoverage:
    """RFC 6125 matching, the same as for the checked name (certificate.matches_name)."""
    from ...x509.chain import matches_name

    missing = tuple(clean(n) for n in names if not matches_name(served, n))
    return NamesMissing(served.names, missing) if missing else NamesCovered(tuple(clean(n) for n in names))


# --- judgement and words ---------------------------------------------------------------------------


def severity(finding: Deployment | NameCoverage) -> Severity:
    """A mismatch with the file is a WARNING (the expiry check makes it CRITICAL when due); a lost name CRITICAL."""
    match finding:
        case Same() | NamesCovered():
            return Severity.OK
        case FileNewer() | ServedNewer() | Different():
            return Severity.WARNING
        case NoFileForKeyType():  # the arguments do not fit the service: one file per served certificate
            return Severity.UNKNOWN
        case NamesMissing():
            return Severity.CRITICAL
    raise AssertionError(finding)  # pragma: no cover


def describe(finding: Deployment | NameCoverage, certificate: str = "the certificate") -> str:
    """The operator's words; ``certificate`` names which one ("the RSA certificate")."""
    match finding:
        case Same(path=path):
            return f"{certificate} served is the one in {clean(path, 200)}"
        case FileNewer(served_until=served, file_until=on_disk, path=path):
            return (
                f"the server still serves {certificate} valid until {day(served)}, while {clean(path, 200)} "
                f"holds the renewed one (until {day(on_disk)}): reload the service"
            )
        case ServedNewer(served_until=served, file_until=on_disk, path=path):
            return (
                f"the server serves {certificate} valid until {day(served)}, newer than the one in "
                f"{clean(path, 200)} (until {day(on_disk)}): is that the file the service uses?"
            )
        case Different(served_until=served, path=path):
            return (
                f"the server serves {certificate} valid until {day(served)}, not the one in {clean(path, 200)} "
                "(another certificate with the same dates: another key?)"
            )
        case NoFileForKeyType():
            return f"no --expect-cert file was given for {certificate} (give one per served certificate)"
        case NamesCovered(names=names):
            return f"{certificate} covers every required name ({', '.join(names)})"
        case NamesMissing(served_for=served_for, missing=missing):
            return (
                f"{certificate} (for {served_for}) does not cover {', '.join(missing)}: "
                "clients that use those names fail"
            )
    raise AssertionError(finding)  # pragma: no cover
