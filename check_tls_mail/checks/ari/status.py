"""ACME renewal information (--ari, RFC 9773): the typed outcome for one served certificate, and its state.

Facts layer, data only: the lookup (lookup.py) and the cache (cache.py) make these; the context, the words and
the face read them. The state of a window depends on the moment it is judged at, so the severity takes ``now``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime

from ...records import NamedTuple
from ...severity import Severity


class Window(NamedTuple):
    """A RenewalInfo object (RFC 9773 section 4.2): the suggested window, and the CA's page explaining it."""

    start: datetime
    end: datetime  # after start: an answer where it is not is invalid (Unavailable)
    explanation: str  # the explanationURL, cleaned; "" when the CA gave none


class Answered(NamedTuple):
    """The CA's renewalInfo answered with a valid window."""

    url: str  # the renewalInfo URL asked (renewalInfo/CertID)
    window: Window


class Failure(enum.Enum):
    NO_ARI = "no renewalInfo"  # the directory names no renewalInfo: the CA does not offer ARI
    UNREACHABLE = "unreachable"  # no address, refused, reset
    TIMEOUT = "timeout"
    CERTIFICATE = "certificate"  # the CA's HTTPS certificate does not verify
    TLS = "tls"
    PROTOCOL = "protocol"  # not HTTP, or cut short
    HTTP_STATUS = "http status"  # neither 200 nor a redirect
    REDIRECT = "redirect"  # not followed
    OVERSIZED = "oversized"
    INVALID = "invalid"  # not JSON, a field missing or of the wrong type, a bad date, end not after start


class Where(enum.Enum):
    """Which of the two requests failed."""

    DIRECTORY = "ACME directory"
    RENEWAL_INFO = "renewalInfo"


class Unavailable(NamedTuple):
    """No usable answer: the request that failed, and why."""

    where: Where
    url: str
    why: Failure
    detail: str  # cleaned, for an operator
    status: int = 0  # the HTTP status, when there was one


class NotAsked(enum.Enum):
    """Nothing was asked, and why."""

    EXPIRED = "expired"  # RFC 9773 section 4.3: clients MUST NOT check a certificate that has expired
    NO_DIRECTORY = "no directory"  # no --acme-directory, and its issuer is no CA known to publish ARI
    NO_CERT_ID = "no CertID"  # no authority key identifier: ARI cannot name the certificate


class Unasked(NamedTuple):
    why: NotAsked
    issuer: str = ""  # the issuer's name, cleaned (NO_DIRECTORY)


class AriOutcome(NamedTuple):
    """What --ari found for one served leaf: the answer, and whether and until when it is cached."""

    answer: Answered | Unavailable | Unasked
    asked: datetime | None = None  # when the CA answered (or failed to): None when nothing was asked
    until: datetime | None = None  # when the CA is asked again (the cache holds the answer until then)
    cached: bool = False  # read from the state directory, not asked on this run
    note: str = ""  # why the answer was not cached (cleaned), "" when it was or nothing was asked


class AriJudgement(NamedTuple):
    """Each served leaf (DER) -> what --ari found for it, and the moment the run judges at."""

    outcomes: Mapping[bytes, AriOutcome]
    now: datetime


def severity(answer: Answered | Unavailable | Unasked, now: datetime) -> Severity:
    """Inside the window WARNING, past its end CRITICAL, before it OK; no usable answer a WARNING (soft fail)."""
    match answer:
        case Answered(window=window):
            if now >= window.end:
                return Severity.CRITICAL
            if now >= window.start:
                return Severity.WARNING
            return Severity.OK
        case Unavailable():
            return Severity.WARNING
        case Unasked(why=why):
            return Severity.OK if why is NotAsked.EXPIRED else Severity.WARNING
    raise AssertionError(answer)  # pragma: no cover
