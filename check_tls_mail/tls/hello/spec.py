"""The hello one client sends, as data (``HelloSpec``), and the key shares it carries.

Wire layer below the probes: what the encoder writes and the flight reader checks the server's choice against.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ..codepoints import GREASE
from ..versions import TlsVersion


class HelloSpec(NamedTuple):
    """Everything one client puts in its ClientHello, in its order.

    ``extensions`` is the order of extension types on the wire and decides
    which are sent: each type in ``ExtensionType`` is built from the fields
    below; any other type (GREASE, ALPS, an ECH GREASE payload, heartbeat...)
    must have its body in ``raw_extensions``. SERVER_NAME and ALPN are skipped
    while ``server_name`` / ``alpn`` is None; PADDING follows the RFC 7685
    rule of OpenSSL, BoringSSL and NSS (pad a hello of 256-511 bytes to 512).

    Key shares are generated for each group of ``key_share_groups`` that can be
    made here (X25519, X448, P-256, P-384, P-521, the ML-KEM hybrids when
    cryptography has ML-KEM; GREASE gets one zero byte). A group that cannot be
    generated (e.g. an FFDHE group) is left out of key_share but stays in
    supported_groups, so a server that wants it asks with a HelloRetryRequest,
    which counts as accepted: see ``shared_groups``.
    """

    cipher_suites: tuple[int, ...]
    extensions: tuple[int, ...]
    legacy_version: int = TlsVersion.TLS1_2
    record_version: int = TlsVersion.TLS1_0
    #: None: no supported_versions extension (a TLS <= 1.2 client).
    supported_versions: tuple[int, ...] | None = None
    #: The lowest version the client accepts in a ServerHello (not on the wire).
    min_version: int = TlsVersion.TLS1_0
    compression_methods: tuple[int, ...] = (0,)
    session_id_length: int = 32
    server_name: str | None = None
    supported_groups: tuple[int, ...] = ()
    key_share_groups: tuple[int, ...] = ()
    ec_point_formats: tuple[int, ...] = (0,)
    signature_algorithms: tuple[int, ...] = ()
    signature_algorithms_cert: tuple[int, ...] = ()
    alpn: tuple[str, ...] | None = None
    psk_key_exchange_modes: tuple[int, ...] = (1,)
    record_size_limit: int = 0x4001
    compress_certificate: tuple[int, ...] = ()
    delegated_credential: tuple[int, ...] = ()
    heartbeat_mode: int = 1
    raw_extensions: tuple[tuple[int, bytes], ...] = ()

    def sent_versions(self) -> frozenset[int]:
        """The versions the hello offers on the wire (supported_versions, else up to legacy_version)."""
        if self.supported_versions is not None:
            return frozenset(v for v in self.supported_versions if v not in GREASE)
        return frozenset(range(0x0300, self.legacy_version + 1))

    def offered_versions(self) -> frozenset[int]:
        """The versions a ServerHello may carry for this client (those sent, from ``min_version`` on)."""
        return frozenset(v for v in self.sent_versions() if v >= self.min_version)

    def raw(self, ext_type: int) -> bytes | None:
        for code, body in self.raw_extensions:
            if code == ext_type:
                return body
        return None


class KeyShare(NamedTuple):
    group: int
    key_exchange: bytes


# Key shares: X25519 and X448 raw, NIST curves as uncompressed points (RFC 8446
# section 4.2.8.2), hybrids as draft-ietf-tls-ecdhe-mlkem concatenations.
_X25519, _X448, _P256, _P384, _P521 = 0x001D, 0x001E, 0x0017, 0x0018, 0x0019
_SECP256R1MLKEM768, _X25519MLKEM768, _SECP384R1MLKEM1024 = 0x11EB, 0x11EC, 0x11ED


def _ecdh_public(group: int) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519

    if group == _X25519:
        return x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    if group == _X448:
        return x448.X448PrivateKey.generate().public_key().public_bytes_raw()
    curve: ec.EllipticCurve = {_P256: ec.SECP256R1(), _P384: ec.SECP384R1(), _P521: ec.SECP521R1()}[group]
    point = ec.generate_private_key(curve).public_key().public_numbers()
    size = (curve.key_size + 7) // 8  # an uncompressed point, without importing the serialization module
    return b"\x04" + point.x.to_bytes(size, "big") + point.y.to_bytes(size, "big")


def _mlkem_public(size: int) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import mlkem  # type: ignore[attr-defined,unused-ignore]

    key = mlkem.MLKEM768PrivateKey.generate() if size == 768 else mlkem.MLKEM1024PrivateKey.generate()
    public: bytes = key.public_key().public_bytes_raw()
    return public


def _have_mlkem() -> bool:
    try:
        from cryptography.hazmat.primitives.asymmetric import mlkem  # type: ignore[attr-defined,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


_SHARE_MAKERS: dict[int, Callable[[], bytes]] = {
    _X25519: lambda: _ecdh_public(_X25519),
    _X448: lambda: _ecdh_public(_X448),
    _P256: lambda: _ecdh_public(_P256),
    _P384: lambda: _ecdh_public(_P384),
    _P521: lambda: _ecdh_public(_P521),
}
_HYBRID_MAKERS: dict[int, Callable[[], bytes]] = {
    _X25519MLKEM768: lambda: _mlkem_public(768) + _ecdh_public(_X25519),
    _SECP256R1MLKEM768: lambda: _ecdh_public(_P256) + _mlkem_public(768),
    _SECP384R1MLKEM1024: lambda: _ecdh_public(_P384) + _mlkem_public(1024),
}


def can_share(group: int) -> bool:
    """True when a key share for ``group`` can be generated here."""
    if group in GREASE or group in _SHARE_MAKERS:
        return True
    return group in _HYBRID_MAKERS and _have_mlkem()


def shared_groups(spec: HelloSpec) -> tuple[int, ...]:
    """The groups of ``spec.key_share_groups`` that really get a key share (GREASE excluded)."""
    return tuple(g for g in spec.key_share_groups if g not in GREASE and can_share(g))


def make_key_shares(spec: HelloSpec) -> tuple[KeyShare, ...]:
    """Fresh key shares in the client's order (the private keys are thrown away)."""
    shares = []
    for group in spec.key_share_groups:
        if group in GREASE:
            shares.append(KeyShare(group, b"\x00"))  # as BoringSSL sends it
        elif group in _SHARE_MAKERS:
            shares.append(KeyShare(group, _SHARE_MAKERS[group]()))
        elif group in _HYBRID_MAKERS and _have_mlkem():
            shares.append(KeyShare(group, _HYBRID_MAKERS[group]()))
    return tuple(shares)
