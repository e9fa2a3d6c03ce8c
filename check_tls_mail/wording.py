"""Words: typed facts (causes, certificate problems, diagnoses) into an operator's words, at the edge.

Nothing here decides a state; contexts and the summary call these to say what
they decided. Anything a server supplied is cleaned where it was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .diagnosis import Diagnosis, Why
from .handshake import Accepted, HandshakeCause, HandshakeOutcome, Rejected
from .trust import CertificateProblem, describe

_FIXED = {
    HandshakeCause.CLOSE_NOTIFY: "server closed the TLS connection during the handshake without an alert",
    HandshakeCause.CLOSED: "server closed the connection during the handshake",
    HandshakeCause.RESET: "connection reset by the server during the handshake",
    HandshakeCause.OVERSIZED_RECORD: "server did not answer with TLS (oversized record)",
    HandshakeCause.VERSION_OUT_OF_RANGE: "server chose a TLS version outside the offered range",
    HandshakeCause.OVERSIZED_MESSAGE: "server sent an oversized handshake message (certificate chain too long?)",
    HandshakeCause.RECORD_LAYER: "TLS record layer failure",
}


def when(moment: datetime) -> str:
    """'2027-01-26 23:37 UTC'."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def days(amount: float) -> str:
    """'5.0 days', or '12.0 hours' under two days."""
    return f"{amount * 24:.1f} hours" if amount < 2 else f"{amount:.1f} days"


def join(names: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def certificate(key_type: str | None) -> str:
    """How a judgement names a certificate: 'certificate', or 'RSA certificate' for a second one."""
    return f"{key_type} certificate" if key_type else "certificate"


def rejected(outcome: Rejected) -> str:
    """Why a TLS handshake failed, as the server's answer showed it."""
    cause = outcome.cause
    if outcome.wants_client_certificate and outcome.alert is not None:
        return f"server requires a client certificate (it asked for one, then sent TLS alert {outcome.alert.words})"
    if outcome.closed_in_answer:
        return "server closed the connection in answer to the ClientHello, without an alert"
    if cause is HandshakeCause.ALERT and outcome.alert is not None:
        return f"server sent TLS alert {outcome.alert.words}"
    if cause in _FIXED:
        return _FIXED[cause]
    if cause is HandshakeCause.NOT_TLS:
        return "server did not answer with TLS" + (
            "" if outcome.reason == "HTTP_REQUEST" else " (plaintext or another protocol)"
        )
    if cause is HandshakeCause.LOCAL_LIMIT:
        what = "TLS version" if outcome.reason == "NO_PROTOCOLS_AVAILABLE" else "cipher"
        return f"no {what} can be offered locally"
    if cause is HandshakeCause.CONNECTION_FAILED:
        return f"connection failed during the handshake: {outcome.reason}"
    return f"TLS handshake failed: {outcome.reason.replace('_', ' ').lower()}"


def outcome(result: HandshakeOutcome) -> str:
    """One probe's result in a few words."""
    if isinstance(result, Accepted):
        return f"{result.version}, {result.cipher}"
    if isinstance(result, Rejected):
        return rejected(result)
    return str(result.error)


def service_failure(result: HandshakeOutcome) -> str:
    """The default probe failed: the words of the status line."""
    if isinstance(result, Rejected) and result.cause is not HandshakeCause.OTHER:
        return f"TLS handshake failed: {rejected(result)}"
    return outcome(result)


def problems(items: Sequence[CertificateProblem]) -> str:
    """A chain's problems, each once: 'name mismatch: certificate is for ..., not ...'."""
    return "; ".join(dict.fromkeys(describe(item) for item in items))


def diagnosis(found: Diagnosis, cipher: bool = False) -> str:
    """Why a client (or a required cipher) cannot connect, in words an operator can act on."""
    who = "this cipher" if cipher else "this client"
    offer = found.offer
    why = found.why
    if why is Why.FAILED_BEFORE_HANDSHAKE:
        return f"probe failed before the handshake: {outcome(found.outcome)}"
    if why in (Why.CONNECTION_LOST, Why.CLIENT_CERTIFICATE):
        return outcome(found.outcome)
    if why is Why.AFTER_SERVER_HELLO:
        return f"the server agreed on a version and a suite, then ended the handshake: {outcome(found.outcome)}"
    if why is Why.OTHER_REFUSAL:
        return f"the server refused the handshake: {outcome(found.outcome)}"
    if why is Why.REQUIRES_TLS13:
        return (
            f"the server requires TLS 1.3 and {who} supports at most TLS {offer.max_version}: "
            "enable TLS 1.2 on the server"
        )
    if why is Why.NO_COMMON_VERSION:
        return f"the server accepts none of TLS {offer.min_version}-{offer.max_version}"
    if why is Why.SERVER_TOO_OLD:
        return (
            f"the server supports at most TLS {found.server_version}, {who} requires TLS {offer.min_version} or newer"
        )
    if why is Why.NO_SUITE_FOR_KEY_TYPE:
        key_type = found.key_type
        return (
            f"the certificate is {key_type} and the server accepts no {key_type} suite "
            f"over TLS 1.2: add ECDHE-{key_type} suites to the server's TLS 1.2 cipher list"
        )
    if why is Why.KEY_TYPE_MISMATCH:
        have = " and ".join(found.served)
        need = " or ".join(found.offered) or "no usable"
        return (
            f"the server has only an {have} certificate for TLS 1.2 and {who} offers only "
            f"{need} suites: add an {need} certificate (dual certificates) or serve TLS 1.3"
        )
    if not cipher:
        return f"the server accepts none of the TLS 1.2 suites it offers ({outcome(found.outcome)})"
    return f"not in the server's TLS 1.2 cipher list ({outcome(found.outcome)})"
