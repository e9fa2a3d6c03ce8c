"""Words: typed facts (causes, certificate problems, diagnoses) into an operator's words, at the edge.

Nothing here decides a state; contexts and the summary call these to say what
they decided. Anything a server supplied is cleaned where it was read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import FailureKind
from ..judgement.diagnosis import Diagnosis, Why
from ..probe.outcome import Accepted, Failed, HandshakeCause, HandshakeOutcome, Rejected
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
    if outcome.server_hello and cause in (
        HandshakeCause.ALERT,
        HandshakeCause.CLOSED,
        HandshakeCause.RESET,
        HandshakeCause.STALLED,
    ):
        return _after_hello(outcome)
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


def _after_hello(outcome: Rejected) -> str:
    """The server chose a version and a suite, then ended the handshake itself (an alert, a close, a reset)."""
    from ..tls.hello.answer import CutAfterHello
    from ..tls.registry import suite_name

    answer = outcome.answer
    chose = "server agreed on a version and a suite"
    before = ""
    if isinstance(answer, CutAfterHello):
        version = TlsVersion.of(answer.hello.version)
        chose = f"server chose {version.label if version else 'TLS'} {suite_name(answer.hello.cipher_suite, True)}"
        before = " before its certificate" if not answer.certificate_seen else " before the end of its first flight"
    if outcome.cause is HandshakeCause.ALERT and outcome.alert is not None:
        return f"{chose}, then sent TLS alert {outcome.alert.words}{before}"
    then = {
        HandshakeCause.RESET: "reset the connection",
        HandshakeCause.CLOSED: "closed the connection",
        HandshakeCause.STALLED: f"sent nothing more for {outcome.seconds:.1f} s",
    }
    if outcome.cause in then:
        return f"{chose}, then {then[outcome.cause]}{before}"
    return f"{chose}, then ended the handshake"


def _choice_refused(outcome: Rejected) -> str:
    """The server answered a hello with something the client cannot go on with: the client ends the handshake."""
    from ..tls.hello.answer import Problem
    from ..tls.registry import EXTENSIONS, group_name, name_of, suite_name

    problems = getattr(outcome.answer, "problems", ())
    if not problems:
        return "server chose what the client did not offer: the client ends the handshake"
    first = problems[0]
    chose: dict[Problem, Callable[[int], str]] = {
        Problem.SUITE_NOT_OFFERED: lambda v: f"the suite {suite_name(v, openssl=True)}",
        Problem.SUITE_NOT_FOR_VERSION: lambda v: f"the suite {suite_name(v, openssl=True)} with another TLS version",
        Problem.GROUP_NOT_OFFERED: lambda v: f"the group {group_name(v)}",
        Problem.GROUP_WITHOUT_KEY_SHARE: lambda v: f"the group {group_name(v)} without the client's key share",
        Problem.VERSION_NOT_OFFERED: lambda v: f"TLS version 0x{v:04x}",
        Problem.VERSION_BELOW_MINIMUM: lambda v: f"TLS version 0x{v:04x}, below the client's minimum",
        Problem.EXTENSION_NOT_OFFERED: lambda v: f"the extension {name_of(v, EXTENSIONS)}",
        Problem.COMPRESSION_NOT_OFFERED: lambda v: f"compression method {v}",
        Problem.ALPN_NOT_OFFERED: lambda v: "an application protocol (ALPN)",
    }
    did: dict[Problem, Callable[[int], str]] = {
        Problem.NO_CERTIFICATE: lambda v: f"sent no certificate for the suite {suite_name(v, openssl=True)}",
        Problem.EMPTY_CERTIFICATE_LIST: lambda v: "sent an empty certificate list",
        Problem.UNREADABLE_CERTIFICATE: lambda v: "sent a certificate that does not parse",
        Problem.SESSION_ID_TOO_LONG: lambda v: f"sent a session id of {v} bytes (at most 32)",
        Problem.NO_KEY_SHARE: lambda v: "chose TLS 1.3 without sending its key share",
        Problem.SESSION_ID_MISMATCH: lambda v: "did not echo the client's session id (TLS 1.3)",
        Problem.DOWNGRADE_SENTINEL: lambda v: "marked its TLS 1.2 answer as a downgrade (RFC 8446 sentinel)",
        Problem.HRR_GROUP_ALREADY_SHARED: lambda v: f"asked again for the group {group_name(v)}, already shared",
    }
    if first.kind in chose:
        what = chose[first.kind](first.value)
        return f"server chose {what}, which the client did not offer: the client ends the handshake"
    if first.kind in did:
        return f"server {did[first.kind](first.value)}: the client ends the handshake"
    return f"server answered with {first.kind.value}: the client ends the handshake"


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


def every_offer_refused(first: Rejected, clients: int) -> str:
    """No client can connect: the server refused the first handshake, both key types' suites and every
    client's hello alike. The likely cause, when it is TLS 1.2 suites: none fits the certificate."""
    answer = f"TLS alert {first.alert.words}" if first.alert is not None else rejected(first)
    words = (
        f"no client can connect: the server refuses every offer, all {clients} clients' and a full "
        f"handshake's, with {answer}"
    )
    if first.alert is not None and first.alert.means_no_common_suite:
        words += (
            " (likely no TLS 1.2 suite fits its certificate, and no TLS 1.3: an ECDSA certificate needs "
            "ECDHE-ECDSA suites in the server's TLS 1.2 cipher list, an RSA one ECDHE-RSA suites)"
        )
    return words


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
    if why is Why.NOT_PROBED:
        return (
            f"{outcome(found.outcome)}, also made alone after pauses, while other connections got through "
            "(a connection limit, or a flaky path?)"
        )
    if why is Why.LARGE_HELLO_DROPPED:
        return _large_hello(found, f"its {found.sizes[0] / 1000:.1f} KB ClientHello", "no answer until the timeout")
    if why is Why.CLIENT_ABORTS:
        return outcome(found.outcome)
    if why is Why.AFTER_SERVER_HELLO:
        return outcome(found.outcome)
    if why is Why.OTHER_REFUSAL:
        return f"the server refused the handshake: {outcome(found.outcome)}"
    if why in (Why.GROUPS, Why.TLS13_SUITES, Why.SIGNATURE_ALGORITHMS):
        return _axis(found)
    if why is Why.OWN_CERTIFICATE:
        return f"{found.client or who} gets a certificate no other client gets, and {problems(found.problems)}"
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


def _large_hello(found: Diagnosis, hello: str, silence: str) -> str:
    """LARGE_HELLO_DROPPED: how the connection ended after ``hello`` ("its 1.9 KB ClientHello"), and that smaller
    hellos connect; ``silence`` says how long a stall lasted."""
    through = found.sizes[1]
    ended = found.outcome.cause if isinstance(found.outcome, Rejected) else None
    if ended is HandshakeCause.RESET:
        what = f"the connection is reset after {hello}"
    elif ended is HandshakeCause.CLOSED:
        what = f"the connection is closed after {hello}"
    elif isinstance(found.outcome, Failed) and found.outcome.error.kind is FailureKind.TIMEOUT:
        what = f"the connection stalls after {hello} ({silence})"
    else:
        what = f"the connection is dropped after {hello}"
    return (
        f"{what}, while smaller hellos ({through} bytes and less) connect: a middlebox or the server drops "
        "large ClientHellos (a post-quantum key share makes them span two TCP segments)"
    )


def first_hello(found: Diagnosis, library: str) -> str:
    """The first handshake's large ClientHello (``library``'s default offer) dropped each time, while the same
    offer with a small hello connected: in the words of a client's large hello (LARGE_HELLO_DROPPED), or, when as
    large a hello got through, no verdict on the size (NOT_PROBED)."""
    large = found.outcome
    size = large.hello if isinstance(large, Rejected | Failed) else 0
    if found.why is Why.LARGE_HELLO_DROPPED:
        own = f"the check's own {size / 1000:.1f} KB {library} ClientHello"
        return _large_hello(found, own, f"no answer in {large.seconds:.1f} s")
    return (
        f"the first handshake failed each time with its {size}-byte ClientHello ({outcome(large)}), then "
        "connected with a small one, while as large hellos got through (a connection limit, or a flaky path?)"
    )


#: What to advise adding, in this order, when the client offers it: what every common server (OpenSSL 1.1.1
#: and 3.0, GnuTLS, the Postfix and Dovecot of Debian 12) can be set to, before what only newer ones have
#: (X25519MLKEM768 needs OpenSSL 3.5).
_COMMON = {
    Why.GROUPS: (0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x11EC),  # X25519, P-256, P-384, P-521, X448, hybrid
    Why.TLS13_SUITES: (0x1301, 0x1302, 0x1303),  # TLS_AES_128_GCM_SHA256, _256_GCM_SHA384, CHACHA20_POLY1305
}


def _configurable(offered: list[int], why: Why) -> str:
    """The value to advise: the first the common servers support that the client offers, else its first."""
    from ..tls.registry import group_name, suite_name

    name = group_name if why is Why.GROUPS else suite_name
    best = next((code for code in _COMMON.get(why, ()) if code in offered), offered[0])
    return name(best)


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
    if not theirs:
        return head
    return f"{head}: add {_configurable(offered, found.why)} to {_SETTINGS[found.why]}"


def _a(key_types: str) -> str:
    """'an RSA', 'an ECDSA', 'an Ed25519', 'a DSA': the article as the name is spoken."""
    return f"{'a' if key_types.startswith('DSA') else 'an'} {key_types}"


def violation(item: Violation, who: str) -> str:
    """A client's certificate rule the certificate breaks, in words."""
    from ..judgement.violations import (
        CaAsLeaf,
        CurveNotAccepted,
        Ed25519NotAccepted,
        KeyTypeNotAccepted,
        NoServerAuthEku,
        PartialWildcard,
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
    if isinstance(item, CaAsLeaf):
        return (
            f"the certificate is a CA certificate (basicConstraints CA:TRUE), which {who} refuses as a server's "
            "certificate: issue one without CA:TRUE"
        )
    if isinstance(item, PartialWildcard):
        return (
            f"{item.name} matches only the partial wildcard {item.pattern}, which {who} does not match (a "
            "wildcard must be the whole left-most label): add the name to the certificate"
        )
    return f"the certificate has no DNS name in its subjectAltName, which {who} requires"
