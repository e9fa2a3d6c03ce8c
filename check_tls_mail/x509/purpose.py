"""Whether a certificate may issue others and serve TLS: OpenSSL's X509_check_ca and sslserver purpose.

Trust layer (pure): basicConstraints, keyUsage, extendedKeyUsage and the Netscape certificate type.
"""

from __future__ import annotations

from .certificate import Certificate
from .path import self_signed
from .problems import CaDefect, PurposeDefect

SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
#: Server Gated Crypto EKUs (Netscape, Microsoft), which OpenSSL takes as serverAuth.
_SGC = frozenset({"2.16.840.1.113730.4.1", "1.3.6.1.4.1.311.10.3.3"})
_EKU_WORDS = {
    SERVER_AUTH: "TLS server authentication",
    "1.3.6.1.5.5.7.3.2": "TLS client authentication",
    "1.3.6.1.5.5.7.3.3": "code signing",
    "1.3.6.1.5.5.7.3.4": "email protection",
    "1.3.6.1.5.5.7.3.8": "time stamping",
    "1.3.6.1.5.5.7.3.9": "OCSP signing",
    "2.5.29.37.0": "any purpose",
}
# keyUsage bits (bit 0 first)
_DIGITAL_SIGNATURE, _KEY_ENCIPHERMENT, _KEY_AGREEMENT, _KEY_CERT_SIGN = 1 << 0, 1 << 2, 1 << 4, 1 << 5
_KU_WORDS = (
    "digital signature",
    "non-repudiation",
    "key encipherment",
    "data encipherment",
    "key agreement",
    "certificate signing",
    "CRL signing",
    "encipher only",
    "decipher only",
)
# Netscape certificate type bits (bit 0 first): SSL server is bit 1, SSL CA bit 5
_NS_SSL_SERVER, _NS_ANY_CA = 1 << 1, (1 << 5) | (1 << 6) | (1 << 7)


def check_ca(cert: Certificate) -> int:
    """OpenSSL's X509_check_ca: 0 not a CA, 1 by basicConstraints, 3 v1 root, 4 by keyUsage, 5 Netscape."""
    if cert.key_usage is not None and not cert.key_usage & _KEY_CERT_SIGN:
        return 0
    if cert.basic_constraints is not None:
        return 1 if cert.basic_constraints[0] else 0
    if cert.version == 1 and self_signed(cert):
        return 3
    if cert.key_usage is not None:
        return 4
    if cert.netscape_type is not None and cert.netscape_type & _NS_ANY_CA:
        return 5
    return 0


def ca_defect(cert: Certificate) -> CaDefect:
    if cert.key_usage is not None and not cert.key_usage & _KEY_CERT_SIGN:
        return CaDefect.NO_CERT_SIGN
    if cert.basic_constraints is not None:
        return CaDefect.NOT_CA
    if cert.version == 1:
        return CaDefect.VERSION_1
    return CaDefect.NO_BASIC_CONSTRAINTS


def _eku_words(ekus: frozenset[str]) -> tuple[str, ...]:
    known = sorted({_EKU_WORDS[e] for e in ekus if e in _EKU_WORDS})
    return (*known, "other purposes") if any(e not in _EKU_WORDS for e in ekus) else tuple(known)


def purpose_defect(cert: Certificate, as_ca: bool) -> tuple[PurposeDefect, tuple[str, ...]] | None:
    """OpenSSL's sslserver purpose check: what fails, and what the certificate allows instead."""
    ekus = cert.extended_key_usage
    if ekus is not None and not ekus & ({SERVER_AUTH} | _SGC):
        return PurposeDefect.EXTENDED_KEY_USAGE, _eku_words(ekus)
    if as_ca:
        return None
    if cert.netscape_type is not None and not cert.netscape_type & _NS_SSL_SERVER:
        return PurposeDefect.NETSCAPE_TYPE, ()
    usage = cert.key_usage
    if usage is not None and not usage & (_DIGITAL_SIGNATURE | _KEY_ENCIPHERMENT | _KEY_AGREEMENT):
        return PurposeDefect.KEY_USAGE, tuple(w for bit, w in enumerate(_KU_WORDS) if usage & (1 << bit))
    return None
