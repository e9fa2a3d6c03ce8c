"""Revocation (--revocation): the typed status of one certificate, and the state each status maps to.

Facts layer, data only: the OCSP and CRL checks make these; the assessment, the contexts and revocationwords read them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from ...records import NamedTuple
from ...severity import Severity

if TYPE_CHECKING:
    from cryptography import x509


class Source(enum.Enum):
    OCSP = "OCSP"
    CRL = "CRL"


class Unavailability(enum.Enum):
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    HTTP_STATUS = "http status"
    OVERSIZED = "oversized"
    INVALID = "invalid"  # not an OCSP response or CRL, or an unsupported one
    RESPONDER_ERROR = "responder error"  # OCSP responseStatus other than successful
    MISMATCH = "mismatch"  # the OCSP answer is about another certificate
    BAD_SIGNATURE = "bad signature"
    WRONG_SIGNER = "wrong signer"  # signed by someone the issuer did not authorise
    STALE = "stale"  # nextUpdate passed, or thisUpdate in the future


class Good(NamedTuple):
    source: Source
    url: str
    this_update: datetime
    next_update: datetime | None


class Revoked(NamedTuple):
    source: Source
    url: str
    revoked_at: datetime
    reason: x509.ReasonFlags | None


class Unknown(NamedTuple):
    """The OCSP responder signed an answer saying it does not know the certificate."""

    url: str


class Unavailable(NamedTuple):
    source: Source
    url: str
    why: Unavailability
    detail: str  # cleaned


class NotCheckable(NamedTuple):
    """The certificate names no OCSP responder and no http CRL distribution point."""


RevocationStatus = Good | Revoked | Unknown | Unavailable | NotCheckable


class CertificateRevocation(NamedTuple):
    """The status of one certificate of a served path (position 0 is the leaf)."""

    position: int
    subject: str  # cleaned, short
    status: RevocationStatus


def severity(status: RevocationStatus) -> Severity:
    """Revoked and unknown: CRITICAL; no usable answer: WARNING (soft fail, as clients do)."""
    match status:
        case Revoked() | Unknown():
            return Severity.CRITICAL
        case Unavailable():
            return Severity.WARNING
        case Good() | NotCheckable():
            return Severity.OK
    raise AssertionError(status)  # pragma: no cover
