"""The hello one client sends, as data (``HelloSpec``), and the key shares it carries.

Wire layer below the probes: what the encoder writes and the flight reader checks the server's choice against.
"""

from ...records import NamedTuple
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

    Key shares come for each group of ``key_share_groups`` that shares.py has
    (X25519, X448, P-256, P-384, P-521, the ML-KEM hybrids; GREASE gets one
    zero byte). A group it has not (e.g. an FFDHE group) is left out of key_share but stays in
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


def can_share(group: int) -> bool:
    """True when the hellos carry a key share for ``group`` (shares.py: the ECDH groups and the ML-KEM hybrids)."""
    from .shares import SHARES

    return group in GREASE or group in SHARES


def shared_groups(spec: HelloSpec) -> tuple[int, ...]:
    """The groups of ``spec.key_share_groups`` that really get a key share (GREASE excluded)."""
    return tuple(g for g in spec.key_share_groups if g not in GREASE and can_share(g))


def make_key_shares(spec: HelloSpec) -> tuple[KeyShare, ...]:
    """The key shares in the client's order: fixed valid public values (shares.py), GREASE one zero byte."""
    from .shares import SHARES

    shares = []
    for group in spec.key_share_groups:
        if group in GREASE:
            shares.append(KeyShare(group, b"\x00"))  # as BoringSSL sends it
        elif group in SHARES:
            shares.append(KeyShare(group, SHARES[group]))
    return tuple(shares)
