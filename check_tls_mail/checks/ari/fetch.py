"""The two requests of ARI (RFC 9773): the CA's ACME directory for its renewalInfo URL, then the renewalInfo.

Facts layer for --ari: both over HTTPS with net/http.py (certificate verified against --ca-file or the system
store, redirects never followed, bounded by the deadline and in size), each answer parsed strictly; every
outcome is a typed value (status.py), never an exception. The Retry-After header is handed on as sent, for the
schedule (schedule.py).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ...records import NamedTuple
from ...sanitize import clean
from ...words import when
from .status import Answered, Failure, Unavailable, Where, Window

if TYPE_CHECKING:
    from ...net.http import HttpFailed
    from ...net.transport import Deadline

#: An ACME directory is a few hundred bytes, a RenewalInfo object less; refuse anything much larger.
MAX_DIRECTORY_BYTES = 64 * 1024
MAX_RENEWAL_INFO_BYTES = 64 * 1024
#: Longest renewalInfo URL taken from a directory.
MAX_URL = 2000

#: RFC 3339 date-time (section 5.6): full-date "T" full-time, with a time zone; fractions of any length.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,30}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


class Fetched(NamedTuple):
    """The outcome of one run of the two requests, with the Retry-After header the last answer carried."""

    answer: Answered | Unavailable
    retry_after: str = ""  # as sent, cleaned; "" when absent or when no answer came


def https_url(text: str) -> bool:
    """An absolute https URL with a host (ACME is HTTPS only: RFC 8555 section 6.1)."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  # raises ValueError for a bad port
    except ValueError:
        return False
    printable = all(c.isprintable() and not c.isspace() for c in text)
    return parts.scheme.lower() == "https" and bool(parts.hostname) and printable and len(text) <= MAX_URL


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (fractions past microseconds dropped), else None."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    year, month, day_, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zulu, sign, offset_hours, offset_minutes = match.groups()[6:]
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        zone = UTC
        if not zulu:
            offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
            zone = timezone(-offset if sign == "-" else offset)
        # a leap second (60) is read as the second before it
        return datetime(year, month, day_, hour, minute, min(second, 59), micro, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_renewal_info(url: str, body: bytes) -> Answered | Unavailable:
    """A RenewalInfo object (RFC 9773 section 4.2): suggestedWindow with start and end, explanationURL optional.

    An end that is not after the start makes the object invalid ("clients MUST treat one as though they failed
    to receive any response"). An explanationURL that is not an http(s) URL is left out, not fatal.
    """

    def invalid(detail: str) -> Unavailable:
        return Unavailable(Where.RENEWAL_INFO, url, Failure.INVALID, detail)

    document = _json(body)
    if isinstance(document, str):
        return invalid(document)
    if not isinstance(document, dict):
        return invalid("not a JSON object")
    window = document.get("suggestedWindow")
    if not isinstance(window, dict):
        return invalid("no suggestedWindow object")
    start, end = parse_time(window.get("start")), parse_time(window.get("end"))
    for name, moment in (("start", start), ("end", end)):
        if moment is None:
            given = window.get(name)
            what = "missing" if given is None else f"not an RFC 3339 time: {clean(str(given), 40)}"
            return invalid(f"suggestedWindow {name} is {what}")
    assert start is not None and end is not None
    if end <= start:
        return invalid(f"suggestedWindow end {when(end)} is not after its start {when(start)}")
    explanation = document.get("explanationURL")
    shown = ""
    if isinstance(explanation, str) and explanation.lower().startswith(("https://", "http://")):
        shown = clean(explanation, 200)
    return Answered(url, Window(start, end, shown))


def renewal_info_base(directory: str, body: bytes) -> str | Unavailable:
    """The directory's renewalInfo URL (RFC 9773 section 3), or why there is none usable."""
    document = _json(body)
    if isinstance(document, str):
        return Unavailable(Where.DIRECTORY, directory, Failure.INVALID, document)
    if not isinstance(document, dict):
        return Unavailable(Where.DIRECTORY, directory, Failure.INVALID, "not a JSON object")
    if "renewalInfo" not in document:
        return Unavailable(Where.DIRECTORY, directory, Failure.NO_ARI, "")
    base = document["renewalInfo"]
    if not isinstance(base, str) or not https_url(base):
        shown = clean(base, 80) if isinstance(base, str) else type(base).__name__
        return Unavailable(Where.DIRECTORY, directory, Failure.INVALID, f"renewalInfo is not an https URL: {shown}")
    return base


def renewal_info_url(base: str, cert_id: str) -> str:
    """renewalInfo || '/' || CertID (RFC 9773 section 4.1); a renewalInfo that ends in '/' gets no second one."""
    return f"{base.rstrip('/')}/{cert_id}"


def get(
    where: Where,
    url: str,
    limit: int,
    deadline: Deadline,
    ca_file: str | None,
    dns_server: tuple[str, int] | None,
) -> tuple[bytes, str] | Fetched:
    """(body, Retry-After) of a 200 answer, else the failure (a Fetched, with the answer's Retry-After)."""
    from ...net.http import HttpFailed, request

    answer = request(url, deadline, limit, accept="application/json", ca_file=ca_file, dns_server=dns_server)
    if isinstance(answer, HttpFailed):
        return Fetched(_failed(where, answer))
    if 300 <= answer.status < 400:
        target = f"redirects to {answer.location}" if answer.location else "redirects nowhere"
        return Fetched(Unavailable(where, url, Failure.REDIRECT, target, answer.status), answer.retry_after)
    if answer.status != 200:
        detail = f"{answer.status} {answer.reason}".strip()
        return Fetched(Unavailable(where, url, Failure.HTTP_STATUS, detail, answer.status), answer.retry_after)
    return answer.body, answer.retry_after


def _failed(where: Where, failed: HttpFailed) -> Unavailable:
    from ...net.http import FetchFailure

    why = {
        FetchFailure.UNREACHABLE: Failure.UNREACHABLE,
        FetchFailure.TIMEOUT: Failure.TIMEOUT,
        FetchFailure.TLS: Failure.TLS,
        FetchFailure.CERTIFICATE: Failure.CERTIFICATE,
        FetchFailure.PROTOCOL: Failure.PROTOCOL,
        FetchFailure.OVERSIZED: Failure.OVERSIZED,
    }[failed.failure]
    detail = failed.detail
    if failed.certificate is not None and failed.failure is FetchFailure.CERTIFICATE:
        detail = f"{failed.certificate.value} ({failed.detail})"
    return Unavailable(where, failed.url, why, detail)


def directory_base(
    directory: str, deadline: Deadline, ca_file: str | None = None, dns_server: tuple[str, int] | None = None
) -> str | Fetched:
    """The CA's renewalInfo URL from its ACME directory, or why there is none (the request's failure)."""
    got = get(Where.DIRECTORY, directory, MAX_DIRECTORY_BYTES, deadline, ca_file, dns_server)
    if isinstance(got, Fetched):
        return got
    found = renewal_info_base(directory, got[0])
    return Fetched(found) if isinstance(found, Unavailable) else found


def renewal_info(
    base: str,
    cert_id: str,
    deadline: Deadline,
    ca_file: str | None = None,
    dns_server: tuple[str, int] | None = None,
) -> Fetched:
    """GET renewalInfo/CertID: the window, or why there is none, with the answer's Retry-After."""
    url = renewal_info_url(base, cert_id)
    got = get(Where.RENEWAL_INFO, url, MAX_RENEWAL_INFO_BYTES, deadline, ca_file, dns_server)
    if isinstance(got, Fetched):
        return got
    body, retry_after = got
    return Fetched(parse_renewal_info(url, body), retry_after)


def _json(body: bytes) -> object | str:
    """The JSON document, or why it is not one (a str)."""
    try:
        document: object = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return f"not UTF-8 JSON (byte {exc.start})"
    except RecursionError:
        return "not JSON (nested too deeply)"
    except ValueError as exc:  # json.JSONDecodeError, and an integer too long to read
        return f"not JSON ({clean(str(exc), 60)})"
    return document
