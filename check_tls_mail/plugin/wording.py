"""Words: typed facts (causes, certificate problems, diagnoses) into an operator's words, at the edge.

Nothing here decides a state; contexts and the summary call these to say what
they decided. Anything a server supplied is cleaned where it was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..judgement.diagnosis import Diagnosis, Why
from ..probe.handshake import Accepted, HandshakeCause, HandshakeOutcome, Rejected
from ..tls.versions import TlsVersion
from ..words import CLAUSES, join, limited
from ..x509.keys import KeyType
from ..x509.problems import CertificateProblem
from ..x509.words import describe

if TYPE_CHECKING:
    from ..judgement.violations import Violation

_FIXED = {
    HandshakeCause.CLOSE_NOTIFY: "server closed the TLS connection during the handshake without an alert",
    HandshakeCause.CLOSED: "server closed the connection during the handshake",
    HandshakeCause.RESET: "connection reset by the server during the handshake",
    HandshakeCause.OVERSIZED_RECORD: "server did not answer with TLS (oversized record)",
    HandshakeCause.VERSION_OUT_OF_RANGE: "server chose a TLS version outside the offered range",
    HandshakeCause.OVERSIZED_MESSAGE: "server sent an oversized handshake message (certificate chain too long?)",
    HandshakeCause.RECORD_LAYER: "TLS record layer failure",
}


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
        return "server did not answer with TLS (plaintext or another protocol)"
    if cause is HandshakeCause.LOCAL_VERSION_LIMIT:
        return "no TLS version can be offered locally"
    if cause is HandshakeCause.LOCAL_CIPHER_LIMIT:
        return "no cipher can be offered locally"
    if cause is HandshakeCause.CONNECTION_FAILED:
        return f"connection failed during the handshake: {outcome.detail}"
    if cause is HandshakeCause.CHOICE_REFUSED:
        return _choice_refused(outcome)
    if cause is HandshakeCause.MALFORMED:
        return f"server sent malformed TLS: {outcome.detail}"
    return f"TLS handshake failed: {outcome.detail.replace('_', ' ').lower()}"


def _choice_refused(outcome: Rejected) -> str:
    """The server answered a hello with a choice the client did not offer: the client would abort."""
    from ..tls.hello.answer import Problem
    from ..tls.registry import group_name, suite_name

    problems = getattr(outcome.answer, "problems", ())
    if not problems:
        return "server chose what the client did not offer"
    first = problems[0]
    named = {
        Problem.SUITE_NOT_OFFERED: lambda v: f"the suite {suite_name(v, openssl=True)}",
        Problem.SUITE_NOT_FOR_VERSION: lambda v: f"the suite {suite_name(v, openssl=True)} with another TLS version",
        Problem.GROUP_NOT_OFFERED: lambda v: f"the group {group_name(v)}",
        Problem.GROUP_WITHOUT_KEY_SHARE: lambda v: f"the group {group_name(v)} without the client's key share",
        Problem.VERSION_NOT_OFFERED: lambda v: f"TLS version 0x{v:04x}",
        Problem.VERSION_BELOW_MINIMUM: lambda v: f"TLS version 0x{v:04x}, below the client's minimum",
    }
    what = named[first.kind](first.value) if first.kind in named else first.kind.value
    return f"server chose {what}, which the client did not offer: it would abort the handshake"


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
    return CLAUSES.join(dict.fromkeys(describe(item) for item in items))


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
    if why in (Why.GROUPS, Why.TLS13_SUITES, Why.SIGNATURE_ALGORITHMS):
        return _axis(found)
    if why is Why.CERTIFICATE:
        return CLAUSES.join(violation(v, found.client or "this client") for v in found.violations)
    if why is Why.REQUIRES_TLS13:
        return (
            f"the server requires TLS 1.3 and {who} supports at most {offer.max_version.label}: "
            "enable TLS 1.2 on the server"
        )
    if why is Why.NO_COMMON_VERSION:
        return f"the server accepts none of {offer.versions}"
    if why is Why.SERVER_TOO_OLD:
        newest = found.server_version.label if found.server_version is not None else "an unknown version"
        return f"the server supports at most {newest}, {who} requires {offer.min_version.label} or newer"
    if why is Why.NO_SUITE_FOR_KEY_TYPE:
        key_type = found.key_type.value if found.key_type is not None else "of an unsupported type"
        words = (
            f"the certificate is {key_type} and the server accepts no {key_type} suite "
            f"over TLS 1.2: add ECDHE-{key_type} suites to the server's TLS 1.2 cipher list"
        )
        if found.silent:
            words += " (or enable TLS 1.2 if it is off: the server closes without an alert, so the two look the same)"
        return words
    if why is Why.SUITES_OF_OTHERS:
        kind = found.key_type
        add = f"ECDHE-{kind.value} suites" if kind in (KeyType.RSA, KeyType.ECDSA) else f"suites {who} offers"
        return (
            f"the server takes none of the offered TLS 1.2 suites (it gives other clients "
            f"{limited(list(found.suites))}): add {add} to the server's TLS 1.2 cipher list"
        )
    if why is Why.KEY_TYPE_MISMATCH:
        have = " and ".join(k.value for k in found.served)
        if not found.offered:
            return f"the server has only {_a(have)} certificate for TLS 1.2 and {who} has no suite for any key type"
        need = " or ".join(k.value for k in found.offered)
        if cipher:
            return (
                f"the server has only {_a(have)} certificate for TLS 1.2 and this cipher needs {_a(need)} "
                f"certificate: add {_a(need)} certificate beside it (dual certificates)"
            )
        # TLS 1.3 helps only a client that speaks it, at a server that does not yet.
        newer = offer.max_version >= TlsVersion.TLS1_3 and (found.server_version or 0) < TlsVersion.TLS1_3
        return (
            f"the server has only {_a(have)} certificate for TLS 1.2 and {who} offers only {need} suites: "
            f"add {_a(need)} certificate (dual certificates){' or serve TLS 1.3' if newer else ''}"
        )
    if not cipher:
        return f"the server accepts none of the TLS 1.2 suites it offers ({outcome(found.outcome)})"
    return f"not in the server's TLS 1.2 cipher list ({outcome(found.outcome)})"


#: Where operators set what the server accepts, per axis.
_SETTINGS = {
    Why.GROUPS: "the server's groups (Postfix tls_eecdh_auto_curves, Dovecot ssl_curve_list, OpenSSL Groups)",
    Why.TLS13_SUITES: "the server's TLS 1.3 suites (Dovecot ssl_cipher_suites, OpenSSL Ciphersuites)",
}


def _axis(found: Diagnosis) -> str:
    """GROUPS, TLS13_SUITES, SIGNATURE_ALGORITHMS: what the server takes against what the client offers."""
    from ..tls.codepoints import GREASE
    from ..tls.registry import SIGNATURE_ALGORITHMS, group_name, name_of, suite_name

    axis = found.axis
    assert axis is not None
    who = found.client or "this client"
    offered = [code for code in axis.offered if code not in GREASE]
    if found.why is Why.SIGNATURE_ALGORITHMS:
        from ..clients.constraints import scheme_key_types

        signs = sorted(k.value for k in scheme_key_types(offered) if k is not KeyType.DSA)
        key = found.key_type
        if key is not None and signs and key.value not in signs:
            return (
                f"the certificate's key is {key.value} and {who} offers no signature algorithm for "
                f"{key.value} keys: add an {' or '.join(signs)} certificate beside it (dual certificates)"
            )
        return (
            f"the server's certificate needs a signature algorithm {who} does not offer "
            f"({who} offers {limited([name_of(s, SIGNATURE_ALGORITHMS) for s in offered])})"
        )
    name = group_name if found.why is Why.GROUPS else suite_name
    what = "group" if found.why is Why.GROUPS else "TLS 1.3 suite"
    theirs = [name(code) for code in offered]
    ours = [name(code) for code in axis.server_accepts if code not in GREASE]
    mine = limited(theirs) if theirs else "none"
    if ours:
        only = f"only the {limited(ours)} {what}{'s' if len(ours) > 1 else ''}"
        head = f"the server accepts {only} and {who} offers {mine}"
    else:
        head = f"the server accepts none of the {what}s {who} offers ({mine})"
    return f"{head}: add {theirs[0]} to {_SETTINGS[found.why]}" if theirs else head


def _a(key_types: str) -> str:
    """'an RSA', 'an ECDSA', 'an Ed25519', 'a DSA': the article as the name is spoken."""
    return f"{'a' if key_types.startswith('DSA') else 'an'} {key_types}"


def violation(item: Violation, who: str) -> str:
    """A client's certificate rule the certificate breaks, in words."""
    from ..judgement.violations import (
        CurveNotAccepted,
        Ed25519NotAccepted,
        KeyTypeNotAccepted,
        NoServerAuthEku,
        RsaTooSmall,
        Sha1Signature,
        ValidityTooLong,
    )

    if isinstance(item, KeyTypeNotAccepted):
        key = item.key_type.value if item.key_type else "of a type"
        accepted = join(sorted(k.value for k in item.accepted)) or "none"
        return f"the certificate's key is {key} and {who} accepts only {accepted} keys"
    if isinstance(item, Ed25519NotAccepted):
        return f"the certificate's key is Ed25519, which {who} does not accept"
    if isinstance(item, RsaTooSmall):
        whose = "the certificate's" if item.position == 0 else "a chain certificate's"
        return f"{whose} RSA key has {item.bits} bits and {who} requires {item.minimum} or more"
    if isinstance(item, CurveNotAccepted):
        accepted = join(sorted(curve.value for curve in item.accepted)) or "none"
        curve = item.curve.value if item.curve is not None else "a curve it does not know"
        return f"the certificate's ECDSA key is on {curve} and {who} accepts only {accepted}"
    if isinstance(item, Sha1Signature):
        what = "the certificate" if item.position == 0 else "a certificate of its chain"
        return f"{what} is signed with {item.digest.value} and {who} requires SHA-2"
    if isinstance(item, NoServerAuthEku):
        has = "an extendedKeyUsage without serverAuth" if item.eku_present else "no extendedKeyUsage"
        return f"the certificate has {has} and {who} requires serverAuth"
    if isinstance(item, ValidityTooLong):
        return f"the certificate is valid for {item.days} days and {who} accepts at most {item.maximum}"
    return f"the certificate has no DNS name in its subjectAltName, which {who} requires"
