"""Why a client cannot connect, in words an operator can act on.

Works from facts the probes measured: the leaf's key type, which key types the
server completes TLS 1.2 handshakes for (the ECDSA-only and RSA-only probes),
which TLS alerts it sent, and what the failing client offered.
"""

from __future__ import annotations

from .handshake import Accepted, ClientOffer, Failed, HandshakeOutcome, Rejected
from .probe import KEY_TYPES, ServiceReport

_AUTH = {"auth-rsa": "RSA", "auth-ecdsa": "ECDSA"}


def offered_key_types(offer: ClientOffer) -> set[str]:
    """Certificate key types the offer has TLS <= 1.2 suites for."""
    ctx = offer.context()
    return {_AUTH[c["auth"]] for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3" and c.get("auth") in _AUTH}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def server_refuses_tls12(report: ServiceReport) -> bool:
    """Every TLS 1.2 probe was refused with a protocol_version alert."""
    outcomes = list(report.key_probes.values())
    return bool(outcomes) and all(isinstance(o, Rejected) and o.alert == "protocol_version" for o in outcomes)


def negotiated(report: ServiceReport) -> str | None:
    """The version the widest offer negotiated ("1.3"), if it got through."""
    if isinstance(report.primary, Accepted) and report.primary.version.startswith("TLSv"):
        return report.primary.version[4:]
    return None


def explain(
    offer: ClientOffer,
    outcome: HandshakeOutcome,
    report: ServiceReport,
    leaf_key_type: str | None,
    who: str = "this client",
) -> str:
    """Why ``offer`` failed against this server (``outcome`` is not Accepted)."""
    if isinstance(outcome, Failed):
        return f"probe failed before the handshake: {outcome.error}"
    assert isinstance(outcome, Rejected)
    best = negotiated(report)
    if _version_key(offer.max_version) < (1, 3) and (
        outcome.alert == "protocol_version" or server_refuses_tls12(report)
    ):
        if best == "1.3":
            return (
                f"the server requires TLS 1.3 and {who} supports at most TLS {offer.max_version}: "
                "enable TLS 1.2 on the server"
            )
        return f"the server accepts none of TLS {offer.min_version}-{offer.max_version}"
    if best and _version_key(best) < _version_key(offer.min_version):
        return f"the server supports at most TLS {best}, {who} requires TLS {offer.min_version} or newer"
    served = report.accepted_key_types
    if not served and leaf_key_type in KEY_TYPES:
        return (
            f"the certificate is {leaf_key_type} and the server accepts no {leaf_key_type} suite "
            f"over TLS 1.2: add ECDHE-{leaf_key_type} suites to the server's TLS 1.2 cipher list"
        )
    wanted = offered_key_types(offer)
    if served and not served & wanted:
        have = " and ".join(sorted(served))
        need = " or ".join(sorted(wanted)) or "no usable"
        return (
            f"the server has only an {have} certificate for TLS 1.2 and {who} offers only "
            f"{need} suites: add an {need} certificate (dual certificates) or serve TLS 1.3"
        )
    if who == "this client":
        return f"the server accepts none of the TLS 1.2 suites it offers ({outcome.reason})"
    return f"not in the server's TLS 1.2 cipher list ({outcome.reason})"
