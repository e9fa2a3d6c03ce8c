"""The MTA-STS policy (RFC 8461 §3.2, §3.3, §4.1): fetched over HTTPS as senders fetch it, parsed, matched.

Facts layer for --mta-sts: every outcome of the fetch is a typed value; the MX patterns are matched here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...net.names import HostName, check_host_name
from ...records import NamedTuple
from ...sanitize import clean

if TYPE_CHECKING:
    from ...net.http import FetchFailure, HttpsCertificateProblem
    from ...net.transport import Deadline


#: RFC 8461 §3.3: senders SHOULD bound the policy size ("such as ... 64 KB").
MAX_POLICY_BYTES = 64 * 1024
#: RFC 8461 §3.2: max_age is at most 31557600 seconds (a year).
MAX_AGE_LIMIT = 31557600


WELL_KNOWN = "/.well-known/mta-sts.txt"


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


def _hostname(name: str) -> str | None:
    """Lower-case A-label form of a host name (letters, digits, hyphens), or None if it is not one."""
    checked = check_host_name(name, underscore=False)
    return checked.ascii if isinstance(checked, HostName) else None


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
    problem: HttpsCertificateProblem
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
    from ...net.http import FetchFailure, HttpFailed, HttpsCertificateProblem, request

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
            problem = answer.certificate or HttpsCertificateProblem.OTHER
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
