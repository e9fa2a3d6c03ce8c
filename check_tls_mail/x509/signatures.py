"""Signatures: what an AlgorithmIdentifier names (``Scheme``), and one helper that verifies a signature with a key.

X.509 layer, used by the chain (a certificate signed by its issuer) and by revocation (an OCSP answer or a CRL
signed by its issuer or responder) alike: RSA (PKCS#1 v1.5 and PSS), ECDSA, DSA, Ed25519 and Ed448.
cryptography is imported only when a signature is verified.
"""

from typing import TYPE_CHECKING

from ..records import NamedTuple
from .der import DerError, items, read_oid, tlv
from .keys import Digest, KeyType

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
    from cryptography.hazmat.primitives.hashes import HashAlgorithm

    from .certificate import Certificate

RSA_PSS = "1.2.840.113549.1.1.10"

#: Signature algorithm OIDs: (the key the signer must have, the digest; None where the parameters say it).
SIGNATURES: dict[str, tuple[KeyType, Digest | None]] = {
    "1.2.840.113549.1.1.2": (KeyType.RSA, Digest.MD2),
    "1.2.840.113549.1.1.3": (KeyType.RSA, Digest.MD4),
    "1.2.840.113549.1.1.4": (KeyType.RSA, Digest.MD5),
    "1.2.840.113549.1.1.5": (KeyType.RSA, Digest.SHA1),
    "1.2.840.113549.1.1.14": (KeyType.RSA, Digest.SHA224),
    "1.2.840.113549.1.1.11": (KeyType.RSA, Digest.SHA256),
    "1.2.840.113549.1.1.12": (KeyType.RSA, Digest.SHA384),
    "1.2.840.113549.1.1.13": (KeyType.RSA, Digest.SHA512),
    RSA_PSS: (KeyType.RSA, None),
    "1.2.840.10045.4.1": (KeyType.ECDSA, Digest.SHA1),
    "1.2.840.10045.4.3.1": (KeyType.ECDSA, Digest.SHA224),
    "1.2.840.10045.4.3.2": (KeyType.ECDSA, Digest.SHA256),
    "1.2.840.10045.4.3.3": (KeyType.ECDSA, Digest.SHA384),
    "1.2.840.10045.4.3.4": (KeyType.ECDSA, Digest.SHA512),
    "1.2.840.10040.4.3": (KeyType.DSA, Digest.SHA1),
    "2.16.840.1.101.3.4.3.1": (KeyType.DSA, Digest.SHA224),
    "2.16.840.1.101.3.4.3.2": (KeyType.DSA, Digest.SHA256),
    "1.3.101.112": (KeyType.ED25519, None),
    "1.3.101.113": (KeyType.ED448, None),
}
#: Hash algorithm OIDs, as RSASSA-PSS parameters name them (RFC 4055).
_HASHES = {
    "1.3.14.3.2.26": Digest.SHA1,
    "2.16.840.1.101.3.4.2.4": Digest.SHA224,
    "2.16.840.1.101.3.4.2.1": Digest.SHA256,
    "2.16.840.1.101.3.4.2.2": Digest.SHA384,
    "2.16.840.1.101.3.4.2.3": Digest.SHA512,
}


class Pss(NamedTuple):
    """RSASSA-PSS parameters (RFC 4055 section 3.1; the defaults are SHA-1, MGF1 with SHA-1, salt 20)."""

    digest: Digest = Digest.SHA1
    mgf_digest: Digest = Digest.SHA1
    salt_length: int = 20


class Scheme(NamedTuple):
    """What a signature is: the signer's key type, the digest, and for RSA-PSS its parameters."""

    key_type: KeyType | None  # None: an algorithm this module does not know
    digest: Digest | None
    pss: Pss | None = None


UNKNOWN = Scheme(None, None)


def scheme(oid: str, parameters: bytes = b"") -> Scheme:
    """The scheme of an AlgorithmIdentifier: its OID and the DER of its parameters (RSASSA-PSS only)."""
    if oid not in SIGNATURES:
        return UNKNOWN
    key_type, digest = SIGNATURES[oid]
    if oid != RSA_PSS:
        return Scheme(key_type, digest)
    try:
        pss = _pss(parameters)
    except (DerError, IndexError, ValueError):
        return UNKNOWN
    return Scheme(key_type, pss.digest, pss) if pss is not None else UNKNOWN


def scheme_of_identifier(der: bytes) -> Scheme:
    """The scheme of a whole AlgorithmIdentifier (SEQUENCE { OID, parameters }) in DER."""
    try:
        _tag, start, end, _ = tlv(der, 0)
        parts = items(der, start, end)
        oid = read_oid(der[parts[0][1] : parts[0][2]])
        parameters = der[parts[1][3] : parts[1][2]] if len(parts) > 1 else b""
    except (DerError, IndexError, ValueError):
        return UNKNOWN
    return scheme(oid, parameters)


def scheme_of_signed(der: bytes) -> Scheme:
    """The scheme of a SIGNED structure in DER (a certificate, a CRL, a BasicOCSPResponse): SEQUENCE { tbs,
    signatureAlgorithm, signature }."""
    try:
        _, start, end, _ = tlv(der, 0)
        algorithm = items(der, start, end)[1]
    except (DerError, IndexError, ValueError):
        return UNKNOWN
    return scheme_of_identifier(der[algorithm[3] : algorithm[2]])


def _pss(parameters: bytes) -> Pss | None:
    """RSASSA-PSS-params: [0] hashAlgorithm, [1] maskGenAlgorithm (MGF1 with a hash), [2] saltLength."""
    if not parameters:
        return Pss()
    tag, start, end, _ = tlv(parameters, 0)
    if tag != 0x30:
        return None
    digest, mgf_digest, salt = Digest.SHA1, Digest.SHA1, 20
    for field_tag, fstart, _fend, _ in items(parameters, start, end):
        _, istart, iend, _ = tlv(parameters, fstart)  # each field is EXPLICIT: its one element
        if field_tag == 0xA0:  # AlgorithmIdentifier of the hash
            oid = items(parameters, istart, iend)[0]
            digest_oid = read_oid(parameters[oid[1] : oid[2]])
            if digest_oid not in _HASHES:
                return None
            digest = _HASHES[digest_oid]
        elif field_tag == 0xA1:  # MGF1 with its own hash AlgorithmIdentifier
            mgf = items(parameters, istart, iend)
            if len(mgf) < 2 or read_oid(parameters[mgf[0][1] : mgf[0][2]]) != "1.2.840.113549.1.1.8":
                return None
            hash_id = items(parameters, mgf[1][1], mgf[1][2])
            mgf_oid = read_oid(parameters[hash_id[0][1] : hash_id[0][2]])
            if mgf_oid not in _HASHES:
                return None
            mgf_digest = _HASHES[mgf_oid]
        elif field_tag == 0xA2:
            salt = int.from_bytes(parameters[istart:iend], "big")
    return Pss(digest, mgf_digest, salt)


def ecdsa(digest: "HashAlgorithm") -> "ECDSA":
    """``ec.ECDSA(digest)`` as a verifier needs it, without what its constructor imports.

    cryptography's ECDSA constructor (43 to 50 at least) imports its OpenSSL backend only to ask whether
    deterministic signing is supported, which verifying never asks: about 5 ms of a default check's CPU (8 ms for
    that import alone). Built here with the two attributes the constructor sets, and checked through the public
    properties the verifier reads; a release whose class is made or stores them otherwise gets the constructor.
    """
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA

    try:
        made = ECDSA.__new__(ECDSA)
        made.__dict__.update(_algorithm=digest, _deterministic_signing=False)
        if type(made) is ECDSA and made.algorithm is digest and made.deterministic_signing is False:
            return made
    except Exception:  # any way the shortcut does not fit this release: the constructor decides
        pass
    return ECDSA(digest)


def verify(key: "PublicKeyTypes", signed: Scheme, signature: bytes, data: bytes) -> bool:
    """Whether ``key`` made ``signature`` over ``data`` with the scheme (False for a key that does not fit it)."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

    algorithms: dict[Digest, type[hashes.HashAlgorithm]] = {
        Digest.MD5: hashes.MD5,
        Digest.SHA1: hashes.SHA1,
        Digest.SHA224: hashes.SHA224,
        Digest.SHA256: hashes.SHA256,
        Digest.SHA384: hashes.SHA384,
        Digest.SHA512: hashes.SHA512,
    }
    try:
        if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            if signed.key_type not in (KeyType.ED25519, KeyType.ED448):
                return False
            key.verify(signature, data)
            return True
        if signed.digest not in algorithms:
            return False
        digest = algorithms[signed.digest]()
        if isinstance(key, rsa.RSAPublicKey) and signed.key_type is KeyType.RSA:
            if signed.pss is not None:
                mgf = padding.MGF1(algorithms[signed.pss.mgf_digest]())
                key.verify(signature, data, padding.PSS(mgf, signed.pss.salt_length), digest)
            else:
                key.verify(signature, data, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey) and signed.key_type is KeyType.ECDSA:
            key.verify(signature, data, ecdsa(digest))
        elif isinstance(key, dsa.DSAPublicKey) and signed.key_type is KeyType.DSA:
            key.verify(signature, data, digest)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def signed_by(cert: "Certificate", issuer: "Certificate") -> bool:
    """The issuer's key verifies the certificate's signature, as OpenSSL's X509_verify decides it.

    The signatureAlgorithm must be the TBSCertificate's own, byte for byte (X509_ALGOR_cmp), and the
    signatureValue whole octets; SHA-1 and MD5 signatures verify here (whether a client accepts them is its
    security level's and its profile's judgement, not the signature's). Issuer names are not compared here:
    path building does that, by value, as OpenSSL compares names.
    """
    from .parse import signed_parts

    key = issuer.public_key
    signed = signed_parts(cert.der)
    if key is None or signed is None or signed.inner_algorithm != signed.outer_algorithm:
        return False
    return verify(key, scheme(cert.signature_oid, cert.signature_parameters), signed.signature, signed.tbs)
