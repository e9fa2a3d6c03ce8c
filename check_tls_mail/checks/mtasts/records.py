"""MTA-STS and TLS-RPT DNS records (RFC 8461 §3.1, RFC 8460 §3): looked up and parsed into typed states.

Facts layer for --mta-sts: the ``_mta-sts`` and ``_smtp._tls`` TXT records (dnspython, as for TLSA,
imported only when a lookup runs); measured, not judged.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ...records import NamedTuple
from ...sanitize import clean

if TYPE_CHECKING:
    from ...net.transport import Deadline


class RecordKind(enum.Enum):
    MTA_STS = "MTA-STS"
    TLSRPT = "TLS-RPT"


class RecordDefect(enum.Enum):
    MULTIPLE = "multiple"  # more than one record starts with the version: senders use none
    NO_SEPARATOR = "no separator"  # starts with the version but not "v=...;": senders discard it
    SYNTAX = "syntax"  # the one record does not follow the ABNF
    NO_ID = "no id"  # MTA-STS without exactly one id=
    NO_RUA = "no rua"  # TLS-RPT without exactly one rua=
    BAD_RUA = "bad rua"  # a report URI that is not mailto: or https:


class LookupFailure(enum.Enum):
    TIMEOUT = "timed out"
    ERROR = "failed"  # SERVFAIL, refused, unreadable answer...


class RecordAbsent(NamedTuple):
    kind: RecordKind
    name: str  # _mta-sts.example.org


class RecordInvalid(NamedTuple):
    kind: RecordKind
    name: str
    defect: RecordDefect
    detail: str  # cleaned: the offending part


class LookupFailed(NamedTuple):
    kind: RecordKind
    name: str
    failure: LookupFailure
    server: str
    detail: str  # cleaned


class LookupNotFinished(NamedTuple):
    """The lookup was still running when the check's time ran out (made by the caller)."""

    kind: RecordKind
    name: str


class StsRecord(NamedTuple):
    name: str
    id: str
    text: str  # cleaned


class TlsRptRecord(NamedTuple):
    name: str
    rua: tuple[str, ...]  # cleaned URIs
    text: str  # cleaned


MtaStsState = StsRecord | RecordAbsent | RecordInvalid | LookupFailed | LookupNotFinished
TlsRptState = TlsRptRecord | RecordAbsent | RecordInvalid | LookupFailed | LookupNotFinished


_WSP = r"[ \t]*"
_SEP = re.compile(_WSP + ";" + _WSP)
_EXTENSION = re.compile(r"([A-Za-z0-9][A-Za-z0-9_.-]{0,31})=([\x21-\x3a\x3c\x3e-\x7e]+)")
_STS_ID = re.compile(r"[A-Za-z0-9]{1,32}")


def _fields(text: str, version: str) -> list[str] | None:
    """The fields after the version, or None if the record is not "version 1*(sep field) [sep]"."""
    parts = _SEP.split(text)
    if parts[0] != version or len(parts) < 2:
        return None
    if parts[-1] == "":
        parts.pop()  # the optional trailing separator
    fields = parts[1:]
    if not fields or any(not _EXTENSION.fullmatch(f) for f in fields):
        return None
    return fields


def _select(kind: RecordKind, name: str, texts: Sequence[str], version: str) -> str | RecordAbsent | RecordInvalid:
    """RFC 8461 §3.1 / RFC 8460 §3: keep the records beginning with "version;"; exactly one must remain."""
    candidates = [t for t in texts if re.match(re.escape(version) + _WSP + ";", t)]
    if len(candidates) > 1:
        return RecordInvalid(kind, name, RecordDefect.MULTIPLE, str(len(candidates)))
    if candidates:
        return candidates[0]
    near = [t for t in texts if t.startswith(version)]
    if near:
        return RecordInvalid(kind, name, RecordDefect.NO_SEPARATOR, clean(near[0]))
    return RecordAbsent(kind, name)


def parse_sts_record(name: str, texts: Sequence[str]) -> MtaStsState:
    """The ``_mta-sts`` TXT strings (each record's strings already joined) -> the record's state."""
    chosen = _select(RecordKind.MTA_STS, name, texts, "v=STSv1")
    if not isinstance(chosen, str):
        return chosen
    fields = _fields(chosen, "v=STSv1")
    if fields is None:
        return RecordInvalid(RecordKind.MTA_STS, name, RecordDefect.SYNTAX, clean(chosen))
    ids = [f[3:] for f in fields if f.startswith("id=")]
    if len(ids) != 1 or not _STS_ID.fullmatch(ids[0]):
        return RecordInvalid(RecordKind.MTA_STS, name, RecordDefect.NO_ID, clean(chosen))
    return StsRecord(name, ids[0], clean(chosen))


def _report_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    if parts.scheme.lower() == "mailto":
        local, at, domain = parts.path.rpartition("@")
        return bool(local and at and domain and not re.search(r"\s", uri))
    if parts.scheme.lower() == "https":
        return bool(parts.hostname) and not re.search(r"\s", uri)
    return False


def parse_tlsrpt_record(name: str, texts: Sequence[str]) -> TlsRptState:
    """The ``_smtp._tls`` TXT strings -> the TLS-RPT record's state (RFC 8460 §3)."""
    chosen = _select(RecordKind.TLSRPT, name, texts, "v=TLSRPTv1")
    if not isinstance(chosen, str):
        return chosen
    fields = _fields(chosen, "v=TLSRPTv1")
    if fields is None:
        # rua values may hold "," with spaces around it, which the generic field rule refuses
        fields = [f for f in _SEP.split(chosen)[1:] if f]
        if not all(f.startswith("rua=") or _EXTENSION.fullmatch(f) for f in fields):
            return RecordInvalid(RecordKind.TLSRPT, name, RecordDefect.SYNTAX, clean(chosen))
    ruas = [f[4:] for f in fields if f.startswith("rua=")]
    if len(ruas) != 1:
        return RecordInvalid(RecordKind.TLSRPT, name, RecordDefect.NO_RUA, clean(chosen))
    uris = tuple(u.strip(" \t") for u in ruas[0].split(","))
    bad = [u for u in uris if not _report_uri(u)]
    if bad:
        return RecordInvalid(RecordKind.TLSRPT, name, RecordDefect.BAD_RUA, clean(bad[0]))
    return TlsRptRecord(name, tuple(clean(u) for u in uris), clean(chosen))


def _txt(
    kind: RecordKind, name: str, server: tuple[str, int] | None, deadline: Deadline
) -> list[str] | RecordAbsent | LookupFailed:
    import dns.exception
    import dns.rdatatype
    import dns.resolver

    from ...net.resolver import QUERY_SECONDS, describe_server, make_resolver

    remaining = deadline.remaining()
    if remaining <= 0:
        return LookupFailed(kind, name, LookupFailure.TIMEOUT, describe_server(server), "no time left")
    try:
        answer = make_resolver(server).resolve(name, "TXT", lifetime=min(remaining, QUERY_SECONDS))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return RecordAbsent(kind, name)
    except dns.exception.Timeout:
        return LookupFailed(kind, name, LookupFailure.TIMEOUT, describe_server(server), "")
    except dns.exception.DNSException as exc:
        return LookupFailed(kind, name, LookupFailure.ERROR, describe_server(server), clean(str(exc), 120))
    texts = []
    for rr in answer:
        if rr.rdtype == dns.rdatatype.TXT:
            texts.append(b"".join(rr.strings).decode("utf-8", "backslashreplace"))
    return texts


def lookup_record(domain: str, server: tuple[str, int] | None, deadline: Deadline) -> MtaStsState:
    name = f"_mta-sts.{domain.rstrip('.')}"
    found = _txt(RecordKind.MTA_STS, name, server, deadline)
    return found if not isinstance(found, list) else parse_sts_record(name, found)


def lookup_tlsrpt(domain: str, server: tuple[str, int] | None, deadline: Deadline) -> TlsRptState:
    name = f"_smtp._tls.{domain.rstrip('.')}"
    found = _txt(RecordKind.TLSRPT, name, server, deadline)
    return found if not isinstance(found, list) else parse_tlsrpt_record(name, found)
