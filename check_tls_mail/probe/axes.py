"""Why a client's hello is refused, axis by axis: hellos that widen one axis, and scans of what the server takes.

Probe layer, pure (no I/O): for a refused ClientHello, ``widened`` makes the
same hello with one axis opened up (supported groups, TLS 1.3 suites,
signature algorithms). When the server accepts that one, the axis is why the
client fails; ``scans`` then make one hello per candidate value, so the words
can say what the server accepts. probe.py sends them.
"""

import enum
from typing import TYPE_CHECKING

from ..records import NamedTuple
from ..tls.versions import TlsVersion

if TYPE_CHECKING:  # the hello modules are imported by the probes that use them, not by every reader of these results
    from ..tls.hello.spec import HelloSpec

#: Extension types (RFC 8446 section 4.2) the axes depend on.
SUPPORTED_GROUPS, SIGNATURE_ALGORITHMS, KEY_SHARE = 10, 13, 51

#: Groups servers are configured with, most common first (X25519, P-256, P-384, P-521, X448, FFDHE).
WIDE_GROUPS = (0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x0100, 0x0101)
#: Every TLS 1.3 suite (RFC 8446 B.4).
TLS13_SUITES = (0x1301, 0x1302, 0x1303, 0x1304, 0x1305)
#: Signature schemes of RSA, RSA-PSS, ECDSA and EdDSA certificates, SHA-2 and SHA-1.
WIDE_SIGNATURES = (
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
    0x0807, 0x0808, 0x0809, 0x080A, 0x080B, 0x0201, 0x0203,
)  # fmt: skip


class Axis(enum.Enum):
    """One dimension of a ClientHello a server can refuse on its own."""

    GROUPS = "supported groups"
    TLS13_SUITES = "TLS 1.3 cipher suites"
    SIGNATURE_ALGORITHMS = "signature algorithms"


class AxisResult(NamedTuple):
    """What widening one axis of a refused hello showed."""

    axis: Axis
    accepted: bool  # the widened hello was accepted: this axis is why the client fails
    offered: tuple[int, ...]  # what the client offers on this axis
    server_accepts: tuple[int, ...] = ()  # of the candidates tried one by one, what the server took


def _offers_tls13(spec: "HelloSpec") -> bool:
    return TlsVersion.TLS1_3 in spec.offered_versions()


def offered(spec: "HelloSpec", axis: Axis) -> tuple[int, ...]:
    if axis is Axis.GROUPS:
        return spec.supported_groups
    if axis is Axis.TLS13_SUITES:
        return tuple(s for s in spec.cipher_suites if s in TLS13_SUITES)
    return spec.signature_algorithms


def widened(spec: "HelloSpec", axis: Axis) -> "HelloSpec | None":
    """The hello with ``axis`` opened up; None when the axis does not apply or nothing can be added."""
    if axis is Axis.GROUPS:
        if SUPPORTED_GROUPS not in spec.extensions:
            return None
        extra = tuple(g for g in WIDE_GROUPS if g not in spec.supported_groups)
        if not extra:
            return None
        shares = spec.key_share_groups
        if KEY_SHARE in spec.extensions:
            shares += tuple(g for g in WIDE_GROUPS[:2] if g not in shares)
        return spec._replace(supported_groups=spec.supported_groups + extra, key_share_groups=shares)
    if axis is Axis.TLS13_SUITES:
        if not _offers_tls13(spec):
            return None
        extra = tuple(s for s in TLS13_SUITES if s not in spec.cipher_suites)
        return spec._replace(cipher_suites=extra + spec.cipher_suites) if extra else None
    if SIGNATURE_ALGORITHMS not in spec.extensions:
        return None
    extra = tuple(s for s in WIDE_SIGNATURES if s not in spec.signature_algorithms)
    return spec._replace(signature_algorithms=spec.signature_algorithms + extra) if extra else None


def scans(spec: "HelloSpec", axis: Axis) -> dict[int, "HelloSpec"]:
    """One hello per candidate value of ``axis``, to find what the server accepts (signature algorithms: none).

    A group is tried first, ahead of the client's own ones: in TLS 1.2 those
    also name the curves the client takes for the server's ECDSA certificate
    (RFC 8422 section 5.1.1), and the server refuses none of them for its key
    exchange alone, since the client's own hello failed on its groups.
    """
    from ..tls.hello.spec import can_share

    if axis is Axis.GROUPS:
        candidates = tuple(dict.fromkeys(WIDE_GROUPS + spec.supported_groups))
        with_shares = KEY_SHARE in spec.extensions
        return {
            group: spec._replace(
                supported_groups=(group, *(g for g in spec.supported_groups if g != group)),
                key_share_groups=(group,) if with_shares and can_share(group) else (),
            )
            for group in candidates
            if group not in spec.supported_groups
        }
    if axis is Axis.TLS13_SUITES:
        only = (TlsVersion.TLS1_3,)
        return {suite: spec._replace(cipher_suites=(suite,), supported_versions=only) for suite in TLS13_SUITES}
    return {}
