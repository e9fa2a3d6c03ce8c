"""One revocation answer fetched and checked: the bounded HTTP request, the signature, the freshness.

Facts layer for --revocation, shared by ocsp.py and crl.py; cryptography is imported only when a check runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ...net.transport import Deadline
from ...sanitize import clean
from ...words import when
from .status import Source, Unavailability, Unavailable

if TYPE_CHECKING:
    from cryptography import x509


#: Clock difference tolerated between us and the responder or CRL signer.
CLOCK_SKEW = timedelta(minutes=5)


def short_name(name: x509.Name) -> str:
    from cryptography.x509.oid import NameOID

    try:
        cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        return clean(str(cns[0].value) if cns else name.rfc4514_string() or "(empty name)", 64)
    except ValueError:
        return "(unreadable name)"


def freshness(this_update: datetime, next_update: datetime | None, now: datetime) -> str | None:
    """None if fresh, else why not (in words)."""
    if this_update > now + CLOCK_SKEW:
        return f"thisUpdate {when(this_update)} is in the future"
    if next_update is not None and next_update < now - CLOCK_SKEW:
        return f"nextUpdate {when(next_update)} has passed"
    return None


def fetch_answer(
    source: Source, url: str, deadline: Deadline, limit: int, body: bytes | None = None
) -> bytes | Unavailable:
    from ...net.http import FetchFailure, HttpFailed, request

    if body is None:
        answer = request(url, deadline, limit)
    else:
        answer = request(
            url,
            deadline,
            limit,
            method="POST",
            body=body,
            content_type="application/ocsp-request",
            accept="application/ocsp-response",
        )
    if isinstance(answer, HttpFailed):
        why = {
            FetchFailure.TIMEOUT: Unavailability.TIMEOUT,
            FetchFailure.OVERSIZED: Unavailability.OVERSIZED,
        }.get(answer.failure, Unavailability.UNREACHABLE)
        return Unavailable(source, url, why, answer.detail)
    if answer.status != 200:
        return Unavailable(source, url, Unavailability.HTTP_STATUS, f"{answer.status} {answer.reason}".strip())
    return answer.body
