"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): facts, their judgement and their words.

Facts: the ``_mta-sts`` and ``_smtp._tls`` TXT records (dnspython, as for
TLSA), the policy fetched over HTTPS as senders fetch it, and its parse.
Judgement: ``assess`` picks the findings for one MX host, ``severity`` maps
each to a state, ``describe`` words it. Every value here is typed; words are
made last, from the values.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from .sanitize import clean
from .severity import Severity

if TYPE_CHECKING:
    from .httpfetch import CertificateProblem, FetchFailure
    from .wire import Deadline

#: RFC 8461 §3.3: senders SHOULD bound the policy size ("such as ... 64 KB").
MAX_POLICY_BYTES = 64 * 1024
#: RFC 8461 §3.2: max_age is at most 31557600 seconds (a year).
MAX_AGE_LIMIT = 31557600
#: A max_age under this is worth a warning (the RFC expects weeks or more).
SHORT_MAX_AGE = 86400
WELL_KNOWN = "/.well-known/mta-sts.txt"


# --- DNS records ---------------------------------------------------------------------------------


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


class MtaStsLookup(NamedTuple):
    record: MtaStsState
    tlsrpt: TlsRptState


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

    from .resolver import QUERY_SECONDS, describe_server, make_resolver

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


def lookup(domain: str, server: tuple[str, int] | None, deadline: Deadline) -> MtaStsLookup:
    """Both records of ``domain``, one after the other, within the deadline."""
    return MtaStsLookup(lookup_record(domain, server, deadline), lookup_tlsrpt(domain, server, deadline))


# --- the policy ----------------------------------------------------------------------------------


class Mode(enum.Enum):
    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


class Policy(NamedTuple):
    mode: Mode
    mx: tuple[str, ...]  # patterns, lower case, "*.example.org" for a wildcard
    max_age: int  # seconds


class PolicyDefect(enum.Enum):
    NOT_UTF8 = "not UTF-8"
    BAD_LINE = "not a key: value line"
    MISSING = "a required field is missing"
    DUPLICATE = "a field given twice"
    VERSION = "version is not STSv1"
    MODE = "mode is not enforce, testing or none"
    MAX_AGE = "max_age is not a number of seconds from 0 to 31557600"
    MX = "an mx is not a host name or *.domain"
    NO_MX = "no mx, and mode is not none"


class PolicyError(NamedTuple):
    defect: PolicyDefect
    line: int  # 1-based, 0 when the whole policy is concerned
    detail: str  # cleaned


_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def _hostname(name: str) -> str | None:
    """Lower-case A-label form of a host name, or None if it is not one."""
    try:
        ascii_name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        return None
    ascii_name = ascii_name.lower().rstrip(".")
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return ascii_name


def parse_policy(text: str | bytes) -> Policy | PolicyError:
    """RFC 8461 §3.2: key: value lines (CRLF or LF); version, mode and max_age once, mx repeated.

    Unknown keys are ignored, as the RFC asks; keys and values are case-sensitive.
    Blank lines are tolerated (the ABNF has none; senders differ).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            return PolicyError(PolicyDefect.NOT_UTF8, 0, f"byte {exc.start}")
    seen: dict[str, tuple[int, str]] = {}
    mx: list[str] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r").rstrip(" \t")
        if not line:
            continue
        key, colon, value = line.partition(":")
        if not colon or not _KEY.fullmatch(key):
            return PolicyError(PolicyDefect.BAD_LINE, number, clean(line, 60))
        value = value.lstrip(" \t")
        if key == "mx":
            pattern = _hostname(value.removeprefix("*.")) if value else None
            if pattern is None:
                return PolicyError(PolicyDefect.MX, number, clean(value, 60))
            mx.append(("*." if value.startswith("*.") else "") + pattern)
        elif key in ("version", "mode", "max_age"):
            if key in seen:
                return PolicyError(PolicyDefect.DUPLICATE, number, key)
            seen[key] = (number, value)
    for key in ("version", "mode", "max_age"):
        if key not in seen:
            return PolicyError(PolicyDefect.MISSING, 0, key)
    number, version = seen["version"]
    if version != "STSv1":
        return PolicyError(PolicyDefect.VERSION, number, clean(version, 40))
    number, mode_text = seen["mode"]
    try:
        mode = Mode(mode_text)
    except ValueError:
        return PolicyError(PolicyDefect.MODE, number, clean(mode_text, 40))
    number, age_text = seen["max_age"]
    if not (age_text.isascii() and age_text.isdigit() and len(age_text) <= 10) or int(age_text) > MAX_AGE_LIMIT:
        return PolicyError(PolicyDefect.MAX_AGE, number, clean(age_text, 40))
    if not mx and mode is not Mode.NONE:
        return PolicyError(PolicyDefect.NO_MX, 0, mode.value)
    return Policy(mode, tuple(mx), int(age_text))


def host_name(name: str) -> str | None:
    """``name`` as a lower-case A-label host name, or None if it is not one (--mta-sts DOMAIN)."""
    return _hostname(name)


def match_mx(host: str, patterns: Sequence[str]) -> str | None:
    """The first pattern that ``host`` matches (RFC 8461 §4.1), or None.

    A wildcard ``*.example.org`` covers exactly one label: ``mx1.example.org``,
    not ``example.org`` nor ``a.mx1.example.org``. Case and a final dot do not matter.
    """
    name = _hostname(host)
    if name is None:
        return None
    for pattern in patterns:
        wanted = _hostname(pattern.removeprefix("*."))
        if wanted is None:
            continue
        if pattern.startswith("*."):
            head, dot, rest = name.partition(".")
            if head and dot and rest == wanted:
                return pattern
        elif name == wanted:
            return pattern
    return None


class PolicyFetched(NamedTuple):
    url: str
    policy: Policy


class PolicyUnreachable(NamedTuple):
    url: str
    failure: FetchFailure  # UNREACHABLE, TIMEOUT, TLS, PROTOCOL
    detail: str


class PolicyCertificateInvalid(NamedTuple):
    url: str
    host: str  # mta-sts.example.org
    problem: CertificateProblem
    detail: str  # the TLS library's words, cleaned


class PolicyHttpStatus(NamedTuple):
    url: str
    status: int
    reason: str


class PolicyRedirect(NamedTuple):
    url: str
    status: int
    location: str


class PolicyOversized(NamedTuple):
    url: str
    limit: int


class PolicyBadContentType(NamedTuple):
    """Served, but not as text/plain: RFC-minded senders refuse it, others may use ``parsed``."""

    url: str
    content_type: str
    parsed: Policy | PolicyError


class PolicyInvalid(NamedTuple):
    url: str
    error: PolicyError


PolicyFetch = (
    PolicyFetched
    | PolicyUnreachable
    | PolicyCertificateInvalid
    | PolicyHttpStatus
    | PolicyRedirect
    | PolicyOversized
    | PolicyBadContentType
    | PolicyInvalid
)


def policy_url(domain: str) -> str:
    return f"https://mta-sts.{domain.rstrip('.').lower()}{WELL_KNOWN}"


def fetch_policy(
    domain: str,
    deadline: Deadline,
    ca_file: str | None = None,
    connect_to: tuple[str, int] | None = None,
    dns_server: tuple[str, int] | None = None,
) -> PolicyFetch:
    """GET the policy as RFC 8461 §3.3 says: HTTPS verified for mta-sts.DOMAIN, no redirect, 200 only.

    ``ca_file`` None means the system store. ``connect_to`` (ip, port) connects
    there instead of resolving mta-sts.DOMAIN (tests); the name verified stays
    mta-sts.DOMAIN. ``dns_server`` resolves it through that server.
    """
    from .httpfetch import CertificateProblem, FetchFailure, HttpFailed, request

    url = policy_url(domain)
    answer = request(
        url,
        deadline,
        MAX_POLICY_BYTES,
        accept="text/plain",
        ca_file=ca_file,
        connect_to=connect_to,
        dns_server=dns_server,
    )
    if isinstance(answer, HttpFailed):
        if answer.failure is FetchFailure.CERTIFICATE:
            problem = answer.certificate or CertificateProblem.OTHER
            return PolicyCertificateInvalid(url, f"mta-sts.{domain.rstrip('.').lower()}", problem, answer.detail)
        if answer.failure is FetchFailure.OVERSIZED:
            return PolicyOversized(url, MAX_POLICY_BYTES)
        return PolicyUnreachable(url, answer.failure, answer.detail)
    if 300 <= answer.status < 400:
        return PolicyRedirect(url, answer.status, answer.location)
    if answer.status != 200:
        return PolicyHttpStatus(url, answer.status, answer.reason)
    parsed = parse_policy(answer.body)
    media_type = answer.content_type.partition(";")[0].strip().lower()
    if media_type != "text/plain":
        return PolicyBadContentType(url, answer.content_type, parsed)
    if isinstance(parsed, PolicyError):
        return PolicyInvalid(url, parsed)
    return PolicyFetched(url, parsed)


class MtaStsReport(NamedTuple):
    """What the lookups and the fetch found for one domain (--mta-sts): measured, not judged."""

    domain: str
    record: MtaStsState
    fetch: PolicyFetch | None  # None: not fetched (no usable record, or the lookup did not finish)
    tlsrpt: TlsRptState


# --- judgement -----------------------------------------------------------------------------------


class HostListed(NamedTuple):
    host: str
    domain: str
    mode: Mode
    pattern: str


class HostNotListed(NamedTuple):
    host: str
    domain: str
    mode: Mode  # ENFORCE or TESTING
    patterns: tuple[str, ...]


class HostCertificateUnverified(NamedTuple):
    """The MX's certificate does not verify for the host: the policy requires it whatever --no-verify-chain says."""

    host: str
    domain: str
    mode: Mode  # ENFORCE or TESTING


class ModeNone(NamedTuple):
    domain: str


class MaxAgeShort(NamedTuple):
    domain: str
    max_age: int


MtaStsFinding = (
    MtaStsState
    | TlsRptState
    | PolicyFetch
    | HostListed
    | HostNotListed
    | HostCertificateUnverified
    | ModeNone
    | MaxAgeShort
)


def policy_of(fetch: PolicyFetch | None) -> Policy | None:
    """The policy senders apply: fetched as text/plain, or parsed despite another Content-Type."""
    if fetch is None:
        return None
    if isinstance(fetch, PolicyFetched):
        return fetch.policy
    if isinstance(fetch, PolicyBadContentType) and isinstance(fetch.parsed, Policy):
        return fetch.parsed
    return None


def assess(
    domain: str,
    record: MtaStsState,
    fetch: PolicyFetch | None,
    host: str,
    certificate_verified: bool | None,
    tlsrpt: TlsRptState | None = None,
) -> tuple[MtaStsFinding, ...]:
    """The findings for one MX ``host`` under ``domain``'s policy, most severe first.

    ``fetch`` is None when the policy was not fetched (no usable record).
    ``certificate_verified``: the served chain verifies (trust, validity) for
    ``host``, judged with verification on; None if no handshake gave a chain.
    """
    domain = domain.rstrip(".").lower()
    findings: list[MtaStsFinding] = [record]
    if fetch is not None and isinstance(record, StsRecord):
        findings.append(fetch)
        policy = policy_of(fetch)
        if policy is not None:
            if policy.mode is Mode.NONE:
                findings.append(ModeNone(domain))
            else:
                pattern = match_mx(host, policy.mx)
                if pattern is None:
                    findings.append(HostNotListed(host, domain, policy.mode, policy.mx))
                else:
                    findings.append(HostListed(host, domain, policy.mode, pattern))
                if certificate_verified is False:
                    findings.append(HostCertificateUnverified(host, domain, policy.mode))
            if policy.max_age < SHORT_MAX_AGE:
                findings.append(MaxAgeShort(domain, policy.max_age))
    if tlsrpt is not None:
        findings.append(tlsrpt)
    return tuple(sorted(findings, key=severity, reverse=True))


def severity(finding: MtaStsFinding) -> Severity:
    """The state each finding maps to (issue 16, part 3)."""
    match finding:
        case StsRecord() | TlsRptRecord() | PolicyFetched() | HostListed():
            return Severity.OK
        case RecordAbsent(kind=RecordKind.MTA_STS) | RecordInvalid():
            return Severity.WARNING  # senders apply no policy: protection lost, no mail lost
        case LookupFailed(kind=RecordKind.MTA_STS) | LookupNotFinished(kind=RecordKind.MTA_STS):
            return Severity.CRITICAL  # as for --dane: no answer is not an OK
        case RecordAbsent() | LookupFailed() | LookupNotFinished():
            return Severity.OK  # TLS-RPT: shown with -v, not judged
        case (
            PolicyUnreachable()
            | PolicyCertificateInvalid()
            | PolicyHttpStatus()
            | PolicyRedirect()
            | PolicyOversized()
            | PolicyInvalid()
        ):
            return Severity.CRITICAL  # senders keep a cached policy only until max_age runs out
        case PolicyBadContentType(parsed=PolicyError()):
            return Severity.CRITICAL
        case PolicyBadContentType() | ModeNone() | MaxAgeShort():
            return Severity.WARNING
        case HostNotListed(mode=mode) | HostCertificateUnverified(mode=mode):
            return Severity.CRITICAL if mode is Mode.ENFORCE else Severity.WARNING
    raise AssertionError(finding)  # pragma: no cover


def _seconds(value: int) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if value >= size and value % size == 0:
            return f"{value} s ({value // size} {unit})"
    return f"{value} s"


def _patterns(patterns: Sequence[str]) -> str:
    shown = ", ".join(clean(p, 64) for p in patterns[:4])
    return shown + (f" and {len(patterns) - 4} more" if len(patterns) > 4 else "")


_CONSEQUENCE = {
    Mode.ENFORCE: "senders refuse to deliver to it",
    Mode.TESTING: "in testing mode senders still deliver, and report it",
}


def _policy_error(error: PolicyError) -> str:
    where = f"line {error.line}: " if error.line else ""
    detail = f" ({error.detail})" if error.detail else ""
    return f"{where}{error.defect.value}{detail}"


def describe(finding: MtaStsFinding, why: str = "") -> str:
    """The operator's words for one finding (server text already cleaned).

    ``why``: words for why the MX's certificate does not verify (HostCertificateUnverified).
    """
    match finding:
        case StsRecord(name=name, id=record_id):
            return f"MTA-STS record at {clean(name)}: id {record_id}"
        case TlsRptRecord(name=name, rua=rua):
            return f"TLS-RPT record at {clean(name)}: reports to {_patterns(rua)}"
        case RecordAbsent(kind=RecordKind.MTA_STS, name=name):
            return f"no MTA-STS record at {clean(name)}: senders apply no policy"
        case RecordAbsent(kind=RecordKind.TLSRPT, name=name):
            return f"no TLS-RPT record at {clean(name)}: senders send no TLS reports"
        case RecordInvalid(kind=kind, name=name, defect=defect, detail=detail):
            ignored = "senders apply no policy" if kind is RecordKind.MTA_STS else "senders send no TLS reports"
            version = "v=STSv1" if kind is RecordKind.MTA_STS else "v=TLSRPTv1"
            why = {
                RecordDefect.MULTIPLE: f"{detail} records begin with {version}; there must be exactly one",
                RecordDefect.NO_SEPARATOR: f'"{detail}" does not begin with "{version};"',
                RecordDefect.SYNTAX: f'"{detail}" is not valid {kind.value} syntax',
                RecordDefect.NO_ID: f'"{detail}" has no valid id (1 to 32 letters and digits)',
                RecordDefect.NO_RUA: f'"{detail}" needs exactly one rua=',
                RecordDefect.BAD_RUA: f"report address {detail} is not a mailto: or https: URI",
            }[defect]
            return f"{kind.value} record at {clean(name)} is invalid: {why}: {ignored}"
        case LookupFailed(kind=kind, name=name, failure=failure, server=server, detail=detail):
            more = f": {detail}" if detail else ""
            return f"{kind.value} lookup of {clean(name)} {failure.value} ({server}){more}"
        case LookupNotFinished(kind=kind, name=name):
            return f"{kind.value} lookup of {clean(name)} did not finish in time"
        case PolicyFetched(policy=policy):
            mx = f", mx {_patterns(policy.mx)}" if policy.mx else ""
            return f"MTA-STS policy: mode {policy.mode.value}, max_age {_seconds(policy.max_age)}{mx}"
        case PolicyUnreachable(url=url, detail=detail):
            return (
                f"MTA-STS policy {clean(url)} cannot be fetched: {detail}; "
                "senders keep a cached policy only until its max_age runs out"
            )
        case PolicyCertificateInvalid(host=host, problem=problem, detail=detail):
            return (
                f"the certificate of the MTA-STS policy host {clean(host)} is {problem.value} ({detail}): "
                "senders cannot fetch the policy"
            )
        case PolicyHttpStatus(url=url, status=status, reason=reason):
            return f"MTA-STS policy {clean(url)} answered HTTP {status} {reason}, not 200"
        case PolicyRedirect(url=url, status=status, location=location):
            to = f" to {location}" if location else ""
            return f"MTA-STS policy {clean(url)} redirects (HTTP {status}{to}): senders do not follow redirects"
        case PolicyOversized(url=url, limit=limit):
            return f"MTA-STS policy {clean(url)} is larger than {limit // 1024} KiB: senders refuse it"
        case PolicyBadContentType(url=url, content_type=content_type, parsed=parsed):
            served = content_type or "no Content-Type"
            if isinstance(parsed, PolicyError):
                return f"MTA-STS policy {clean(url)} is served as {served} and is invalid: {_policy_error(parsed)}"
            return f"MTA-STS policy {clean(url)} is served as {served}, not text/plain: RFC 8461 senders refuse it"
        case PolicyInvalid(url=url, error=error):
            return f"MTA-STS policy {clean(url)} is invalid: {_policy_error(error)}: senders refuse it"
        case HostListed(host=host, domain=domain, mode=mode, pattern=pattern):
            return f"{clean(host)} is listed in the MTA-STS policy of {domain} (mx {clean(pattern)}, mode {mode.value})"
        case HostNotListed(host=host, domain=domain, mode=mode, patterns=patterns):
            return (
                f"{clean(host)} matches no mx of the MTA-STS policy of {domain} "
                f"(mode {mode.value}: mx {_patterns(patterns)}): {_CONSEQUENCE[mode]}"
            )
        case HostCertificateUnverified(host=host, domain=domain, mode=mode):
            because = f" ({why})" if why else ""
            return (
                f"the certificate of {clean(host)} does not verify{because}, and the MTA-STS policy of {domain} "
                f"is in {mode.value} mode: {_CONSEQUENCE[mode]}"
            )
        case ModeNone(domain=domain):
            return f"the MTA-STS policy of {domain} is in mode none: senders enforce nothing"
        case MaxAgeShort(domain=domain, max_age=max_age):
            return (
                f"the MTA-STS policy of {domain} has max_age {_seconds(max_age)}, under a day: "
                "senders forget it soon when the policy host is down (RFC 8461 expects weeks)"
            )
    raise AssertionError(finding)  # pragma: no cover
