"""Which certificate ARI asks about, and of which CA: the CertID (RFC 9773 section 4.1) and the default directory.

Facts layer for --ari, pure: read from the DER walk's fields (x509.certificate.Certificate), no cryptography.

The CertID is "the base64url encoding of the keyIdentifier field of the
certificate's Authority Key Identifier (AKI) extension, the period character
'.', and the base64url encoding of the DER-encoded Serial Number field (without
the tag and length bytes)", trailing '=' stripped from both parts (RFC 9773
section 4.1, https://www.rfc-editor.org/rfc/rfc9773#section-4.1).

Without --acme-directory the CA is chosen by the organisation in the leaf's
issuer name, among CAs known to serve renewalInfo. Chosen by name, not by the
intermediates' key identifiers, because Let's Encrypt rotates its
intermediates (R10, R11, E5, E6, then newer ones), each under the same
organisation, so a list of keys would go stale; and not by trying every known
directory in turn, which would ask CAs about certificates they never issued.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...x509.certificate import Certificate

#: Let's Encrypt's ACME directories; both serve renewalInfo since March 2023
#: (https://letsencrypt.org/2023/03/23/improving-resliiency-and-reliability-with-ari/, and the integration guide
#: https://letsencrypt.org/2024/04/25/guide-to-integrating-ari-into-existing-acme-clients/).
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"

#: The issuer's organizationName (as OpenSSL compares names: case and spaces folded) -> the CA's ACME directory.
#: Let's Encrypt's intermediates are O=Let's Encrypt; its staging ones O=(STAGING) Let's Encrypt
#: (https://letsencrypt.org/docs/staging-environment/).
KNOWN_DIRECTORIES: dict[str, str] = {
    "let's encrypt": LETS_ENCRYPT,
    "(staging) let's encrypt": LETS_ENCRYPT_STAGING,
}

_ORGANIZATION = "2.5.4.10"


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def cert_id(certificate: Certificate) -> str | None:
    """The certificate's CertID, or None when it has no AKI keyIdentifier (or no readable serial)."""
    key_id, serial = certificate.authority_key_id, certificate.serial
    if not key_id or not serial:
        return None
    return f"{_base64url(key_id)}.{_base64url(serial)}"


def known_directory(certificate: Certificate) -> str | None:
    """The ACME directory of the CA that issued ``certificate``, when its issuer is a CA known to publish ARI."""
    for oid, value in certificate.issuer_key:
        if oid == _ORGANIZATION and value in KNOWN_DIRECTORIES:
            return KNOWN_DIRECTORIES[value]
    return None
