"""What a public key is: its ``KeyType``, an ECDSA key's ``Curve``, a signature's ``Digest``, and the ``Key`` itself.

X.509 layer, data only: one vocabulary for each fact, used by the certificates, the TLS suites and
signature schemes, the client profiles and the words. cryptography is imported only to read a key, and
then only its key loader: never cryptography.x509, whose import alone costs a default run a quarter of its CPU.
"""

import enum
from typing import TYPE_CHECKING

from ..records import NamedTuple

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes


class KeyType(enum.Enum):
    """A public key's algorithm, as certificates carry it and TLS suites and signature schemes need it."""

    RSA = "RSA"
    ECDSA = "ECDSA"
    ED25519 = "Ed25519"
    ED448 = "Ed448"
    DSA = "DSA"

    @property
    def cipher_string(self) -> str:
        """OpenSSL's cipher string of the TLS <= 1.2 suites this key authenticates ("aECDSA")."""
        return {KeyType.ED25519: "aECDSA", KeyType.ED448: "aECDSA", KeyType.DSA: "aDSS"}.get(self, f"a{self.value}")


class Curve(enum.Enum):
    """An elliptic curve of an ECDSA key, named as operators write it (NIST's P-256 where there is one)."""

    P192 = "P-192"
    P224 = "P-224"
    P256 = "P-256"
    P384 = "P-384"
    P521 = "P-521"
    SECP256K1 = "secp256k1"
    BRAINPOOL_P256 = "brainpoolP256r1"
    BRAINPOOL_P384 = "brainpoolP384r1"
    BRAINPOOL_P512 = "brainpoolP512r1"
    SECT163K1 = "sect163k1"
    SECT163R2 = "sect163r2"
    SECT233K1 = "sect233k1"
    SECT233R1 = "sect233r1"
    SECT283K1 = "sect283k1"
    SECT283R1 = "sect283r1"
    SECT409K1 = "sect409k1"
    SECT409R1 = "sect409r1"
    SECT571K1 = "sect571k1"
    SECT571R1 = "sect571r1"

    @classmethod
    def from_cryptography(cls, name: str) -> "Curve | None":
        """The curve cryptography names 'secp256r1', or None for one this vocabulary lacks."""
        return _SEC_NAMES.get(name) or next((c for c in cls if c.value == name), None)


_SEC_NAMES = {
    "secp192r1": Curve.P192,
    "secp224r1": Curve.P224,
    "secp256r1": Curve.P256,
    "secp384r1": Curve.P384,
    "secp521r1": Curve.P521,
}


class Digest(enum.Enum):
    """A signature's hash algorithm, as the words say it."""

    MD2 = "MD2"
    MD4 = "MD4"
    MD5 = "MD5"
    SHA1 = "SHA-1"
    SHA224 = "SHA-224"
    SHA256 = "SHA-256"
    SHA384 = "SHA-384"
    SHA512 = "SHA-512"

    @property
    def weak(self) -> bool:
        """Below OpenSSL's security level 1 (MD5 39 bits, SHA-1 63 bits in OpenSSL 3), refused by SHA-2 clients."""
        return self in (Digest.MD2, Digest.MD4, Digest.MD5, Digest.SHA1)


class Key(NamedTuple):
    """A public key: RSA 2048, ECDSA on P-256 (256 bits), Ed25519; ``type`` None for one not read here."""

    type: KeyType | None
    bits: int = 0
    curve: Curve | None = None

    @property
    def security_bits(self) -> int:
        """Strength as OpenSSL's security levels count it."""
        if self.type in (KeyType.RSA, KeyType.DSA):
            for size, strength in ((15360, 256), (7680, 192), (3072, 128), (2048, 112), (1024, 80)):
                if self.bits >= size:
                    return strength
            return 0
        if self.type is KeyType.ECDSA:
            return self.bits // 2
        return {KeyType.ED25519: 128, KeyType.ED448: 224}.get(self.type, 0)  # type: ignore[arg-type]

    def __str__(self) -> str:
        """'ECDSA P-256', 'RSA 2048', 'Ed25519', 'unsupported key'."""
        if self.type is None:
            return "unsupported key"
        if self.type is KeyType.ECDSA:
            return f"ECDSA {self.curve.value}" if self.curve is not None else "ECDSA on an unknown curve"
        if self.type in (KeyType.RSA, KeyType.DSA):
            return f"{self.type.value} {self.bits}"
        return str(self.type.value)


UNSUPPORTED = Key(None)


def load_public_key(spki_der: bytes) -> "PublicKeyTypes | None":
    """cryptography's object for a DER SubjectPublicKeyInfo, None when it cannot read it.

    ``serialization.load_der_public_key`` is this very function (cryptography >= 42 binds it from its Rust
    module); importing it from there costs ~25 ms of CPU (the SSH and cipher modules), so the Rust module is
    asked directly, and the public name is the fallback should a release move it.
    """
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        from cryptography.hazmat.bindings._rust import openssl

        load = openssl.keys.load_der_public_key
    except (ImportError, AttributeError):  # pragma: no cover - the layout of cryptography 43 to 50
        from cryptography.hazmat.primitives.serialization import load_der_public_key as load
    try:
        return load(spki_der)
    except (ValueError, UnsupportedAlgorithm, TypeError):
        return None


def key_of(public_key: "PublicKeyTypes") -> Key:
    """The ``Key`` of one of cryptography's public keys."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        return Key(KeyType.RSA, public_key.key_size)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return Key(KeyType.ECDSA, public_key.curve.key_size, Curve.from_cryptography(public_key.curve.name))
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return Key(KeyType.ED25519, 256)
    if isinstance(public_key, ed448.Ed448PublicKey):
        return Key(KeyType.ED448, 456)
    if isinstance(public_key, dsa.DSAPublicKey):
        return Key(KeyType.DSA, public_key.key_size)
    return UNSUPPORTED
