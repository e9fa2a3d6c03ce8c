"""The words for a revocation status: ``describe`` makes an operator's sentence, naming which certificate.

Words layer (the edge): URLs cleaned; no exception text.
"""

from __future__ import annotations

from ...sanitize import clean
from ...words import day, when
from .status import (
    Good,
    NotCheckable,
    RevocationStatus,
    Revoked,
    Source,
    Unavailability,
    Unavailable,
    Unknown,
)


def _where(source: Source, url: str) -> str:
    return f"{'OCSP responder' if source is Source.OCSP else 'CRL'} {clean(url, 120)}"


def describe(status: RevocationStatus, certificate: str = "the certificate") -> str:
    """The operator's words; ``certificate`` names which one ("the RSA certificate", "intermediate R11")."""
    match status:
        case Good(source=source, url=url, this_update=this_update):
            return f"{certificate} is not revoked ({_where(source, url)}, as of {when(this_update)})"
        case Revoked(source=source, url=url, revoked_at=revoked_at, reason=reason):
            why = f" ({reason.value})" if reason is not None else ""
            return f"{certificate} was revoked on {day(revoked_at)}{why}, says the {_where(source, url)}"
        case Unknown(url=url):
            return (
                f"the OCSP responder {clean(url, 120)} does not know {certificate} (status unknown): "
                "clients that check OCSP may refuse it"
            )
        case Unavailable(source=source, url=url, why=why, detail=detail):
            what = {
                Unavailability.UNREACHABLE: f"is unreachable: {detail}",
                Unavailability.TIMEOUT: f"did not answer in time ({detail})",
                Unavailability.HTTP_STATUS: f"answered HTTP {detail}",
                Unavailability.OVERSIZED: f"sent too much ({detail})",
                Unavailability.INVALID: f"sent something unusable: {detail}",
                Unavailability.RESPONDER_ERROR: f"answered {detail}",
                Unavailability.MISMATCH: f"answered about another certificate ({detail})",
                Unavailability.BAD_SIGNATURE: f"sent an answer whose signature fails with the key of {detail}",
                Unavailability.WRONG_SIGNER: f"sent an answer signed by {detail}, not by the issuer or its responder",
                Unavailability.STALE: f"sent a stale answer: {detail}",
            }[why]
            return f"revocation of {certificate} not checked: the {_where(source, url)} {what}"
        case NotCheckable():
            return f"{certificate} names no OCSP responder and no CRL: revocation cannot be checked"
    raise AssertionError(status)  # pragma: no cover
