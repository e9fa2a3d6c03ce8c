"""The words for --ari: ``describe`` makes an operator's sentence about one certificate's renewal window.

Words layer (the edge): URLs cleaned; no exception text. One clause each, no ';' (see words.CLAUSES).
"""

from __future__ import annotations

from datetime import datetime

from ...sanitize import clean
from ...words import days, when
from .status import Answered, AriOutcome, Failure, NotAsked, Unasked, Unavailable, Where


def _see(explanation: str) -> str:
    return f" (see {explanation})" if explanation else ""


def describe(answer: Answered | Unavailable | Unasked, certificate: str, now: datetime) -> str:
    """The operator's words; ``certificate`` names which one ("the certificate", "the RSA certificate")."""
    match answer:
        case Answered(window=window):
            start, end, see = when(window.start), when(window.end), _see(window.explanation)
            if now >= window.end:
                return (
                    f"the server still serves {certificate} past the renewal window its CA suggests (ARI), "
                    f"which closed {end}: renew and reload now{see}"
                )
            if now >= window.start:
                return (
                    f"the CA suggests renewing {certificate} now: its renewal window (ARI) opened {start} and "
                    f"closes {end}{see}"
                )
            left = (window.start - now).total_seconds() / 86400
            return f"the CA suggests renewing {certificate} from {start} to {end} (ARI), in {days(left)}{see}"
        case Unavailable(where=where, url=url, why=why, detail=detail):
            return f"renewal window (ARI) of {certificate} not checked: {_unavailable(where, url, why, detail)}"
        case Unasked(why=NotAsked.EXPIRED):
            return f"renewal window (ARI) of {certificate} not asked: it has expired"
        case Unasked(why=NotAsked.NO_CERT_ID):
            return (
                f"renewal window (ARI) of {certificate} not checked: it has no authority key identifier, "
                "by which ARI names a certificate"
            )
        case Unasked(why=NotAsked.NO_DIRECTORY, issuer=issuer):
            return (
                f"renewal window (ARI) of {certificate} not checked: no ACME directory is known for its issuer "
                f"{issuer}: give --acme-directory"
            )
    raise AssertionError(answer)  # pragma: no cover


def _unavailable(where: Where, url: str, why: Failure, detail: str) -> str:
    what = {
        Failure.NO_ARI: "has no renewalInfo (the CA does not offer ARI)",
        Failure.UNREACHABLE: f"is unreachable: {detail}",
        Failure.TIMEOUT: f"did not answer in time ({detail})",
        Failure.CERTIFICATE: f"has an HTTPS certificate that fails verification: {detail}",
        Failure.TLS: f"failed in TLS ({detail})",
        Failure.PROTOCOL: f"sent no usable HTTP answer ({detail})",
        Failure.HTTP_STATUS: f"answered HTTP {detail}",
        Failure.REDIRECT: f"{detail} (not followed)",
        Failure.OVERSIZED: f"sent too much ({detail})",
        Failure.INVALID: f"sent something unusable: {detail}",
    }[why]
    return f"the {where.value} {clean(url, 160)} {what}"


def served_line(outcome: AriOutcome, certificate: str, now: datetime) -> str:
    """The -v line under one served certificate: the words, and whether the cache answered and until when."""
    words = describe(outcome.answer, certificate, now)
    if outcome.asked is None or outcome.until is None:
        return f"{words} ({outcome.note})" if outcome.note else words
    if outcome.cached:
        return f"{words} (cached answer of {when(outcome.asked)}, valid until {when(outcome.until)})"
    kept = outcome.note or f"cached until {when(outcome.until)}"
    return f"{words} (asked now, {kept})"
