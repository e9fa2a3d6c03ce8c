"""CRLs (RFC 5280): one certificate looked up in its issuer's CRL, the CRL verified (signer, signature, freshness).

Facts layer for --revocation; cryptography is imported only when a check runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ...net.transport import Deadline
from ...sanitize import clean
from ...x509.signatures import scheme_of_signed, verify
from .fetch import fetch_answer, freshness, short_name
from .status import Good, RevocationStatus, Revoked, Source, Unavailability, Unavailable

if TYPE_CHECKING:
    from cryptography import x509


#: CRLs can be large (a big CA's full CRL runs to megabytes); past this, refused as oversized.
MAX_CRL_BYTES = 10 * 1024 * 1024


def check_crl(
    url: str, cert: x509.Certificate, issuer: x509.Certificate, deadline: Deadline, now: datetime
) -> RevocationStatus:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import Encoding

    data = fetch_answer(Source.CRL, url, deadline, MAX_CRL_BYTES)
    if isinstance(data, Unavailable):
        return data
    try:
        crl = x509.load_der_x509_crl(data) if not data.lstrip().startswith(b"-----") else x509.load_pem_x509_crl(data)
    except ValueError as exc:
        return Unavailable(Source.CRL, url, Unavailability.INVALID, f"not a CRL ({clean(str(exc), 80)})")
    if crl.issuer != issuer.subject:
        return Unavailable(Source.CRL, url, Unavailability.WRONG_SIGNER, short_name(crl.issuer))
    try:
        key = issuer.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return Unavailable(Source.CRL, url, Unavailability.BAD_SIGNATURE, short_name(issuer.subject))
    if not verify(key, scheme_of_signed(crl.public_bytes(Encoding.DER)), crl.signature, crl.tbs_certlist_bytes):
        return Unavailable(Source.CRL, url, Unavailability.BAD_SIGNATURE, short_name(issuer.subject))
    stale = freshness(crl.last_update_utc, crl.next_update_utc, now)
    if stale:
        return Unavailable(Source.CRL, url, Unavailability.STALE, stale)
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is None:
        return Good(Source.CRL, url, crl.last_update_utc, crl.next_update_utc)
    try:
        reason: x509.ReasonFlags | None = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except (x509.ExtensionNotFound, ValueError):
        reason = None
    return Revoked(Source.CRL, url, entry.revocation_date_utc, reason)
