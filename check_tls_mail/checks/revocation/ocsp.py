"""OCSP (RFC 6960): one certificate's status asked of its responder, the answer verified.

Facts layer for --revocation: signed by the issuer or a responder it authorised, about this certificate,
fresh; cryptography is imported only when a check runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ...net.transport import Deadline
from ...sanitize import clean
from ...x509.der import DerError, items, tlv
from ...x509.signatures import UNKNOWN, Scheme, scheme_of_signed, verify
from .fetch import CLOCK_SKEW, fetch_answer, freshness, short_name
from .status import Good, RevocationStatus, Revoked, Source, Unavailability, Unavailable, Unknown

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.x509 import ocsp


#: An OCSP response is a few KiB; refuse anything much larger.
MAX_OCSP_BYTES = 64 * 1024


def _ocsp_signer(
    response: ocsp.OCSPResponse, issuer: x509.Certificate, now: datetime
) -> tuple[x509.Certificate | None, str]:
    """(the certificate whose key signed the response, if the issuer authorised it; who the response names)."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.x509.oid import ExtendedKeyUsageOID

    def is_responder(cert: x509.Certificate) -> bool:
        if response.responder_name is not None:
            return response.responder_name == cert.subject
        key_id = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
        return response.responder_key_hash == key_id

    if is_responder(issuer):
        return issuer, short_name(issuer.subject)
    named = response.responder_name
    claimed = short_name(named) if named is not None else "a responder key the issuer did not certify"
    for cert in response.certificates:
        if not is_responder(cert):
            continue
        claimed = short_name(cert.subject)
        try:
            cert.verify_directly_issued_by(issuer)
            usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm, x509.ExtensionNotFound):
            return None, f"{claimed} (not issued by {short_name(issuer.subject)} for OCSP signing)"
        if ExtendedKeyUsageOID.OCSP_SIGNING not in usages:
            return None, f"{claimed} (no OCSPSigning usage)"
        if not cert.not_valid_before_utc - CLOCK_SKEW <= now <= cert.not_valid_after_utc + CLOCK_SKEW:
            return None, f"{claimed} (outside its validity)"
        return cert, claimed
    return None, claimed


def _scheme(response: bytes) -> Scheme:
    """How the BasicOCSPResponse inside an OCSPResponse (DER) is signed (RFC 6960 section 4.2.1)."""
    try:
        _, start, end, _ = tlv(response, 0)
        response_bytes = items(response, start, end)[1]  # [0] EXPLICIT ResponseBytes
        _, rstart, rend, _ = tlv(response, response_bytes[1])
        octets = items(response, rstart, rend)[1]  # response OCTET STRING: the BasicOCSPResponse
    except (DerError, IndexError, ValueError):
        return UNKNOWN
    return scheme_of_signed(response[octets[1] : octets[2]])


#: OCSPResponseStatus names -> RFC 6960's
_RESPONDER_ERRORS = {
    "MALFORMED_REQUEST": "malformedRequest",
    "INTERNAL_ERROR": "internalError",
    "TRY_LATER": "tryLater",
    "SIG_REQUIRED": "sigRequired",
    "UNAUTHORIZED": "unauthorized",
}


def check_ocsp(
    url: str, cert: x509.Certificate, issuer: x509.Certificate, deadline: Deadline, now: datetime
) -> RevocationStatus:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import ocsp

    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    data = fetch_answer(Source.OCSP, url, deadline, MAX_OCSP_BYTES, request.public_bytes(Encoding.DER))
    if isinstance(data, Unavailable):
        return data
    try:
        response = ocsp.load_der_ocsp_response(data)
    except ValueError as exc:
        return Unavailable(Source.OCSP, url, Unavailability.INVALID, f"not an OCSP response ({clean(str(exc), 80)})")
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        status = _RESPONDER_ERRORS.get(response.response_status.name, response.response_status.name)
        return Unavailable(Source.OCSP, url, Unavailability.RESPONDER_ERROR, status)
    try:
        singles = list(response.responses)
        signer, claimed = _ocsp_signer(response, issuer, now)
        signature, tbs = response.signature, response.tbs_response_bytes
    except (ValueError, UnsupportedAlgorithm) as exc:
        return Unavailable(Source.OCSP, url, Unavailability.INVALID, clean(str(exc) or exc.__class__.__name__, 80))
    if signer is None:
        return Unavailable(Source.OCSP, url, Unavailability.WRONG_SIGNER, claimed)
    if not verify(signer.public_key(), _scheme(data), signature, tbs):
        return Unavailable(Source.OCSP, url, Unavailability.BAD_SIGNATURE, short_name(signer.subject))
    single = None
    for candidate in singles:
        if candidate.serial_number != cert.serial_number:
            continue
        try:
            ours = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, candidate.hash_algorithm).build()
        except (ValueError, TypeError):
            continue
        if (candidate.issuer_name_hash, candidate.issuer_key_hash) == (ours.issuer_name_hash, ours.issuer_key_hash):
            single = candidate
            break
    if single is None:
        serials = ", ".join(f"{s.serial_number:x}" for s in singles[:3]) or "none"
        return Unavailable(Source.OCSP, url, Unavailability.MISMATCH, f"serial {serials}, not {cert.serial_number:x}")
    stale = freshness(single.this_update_utc, single.next_update_utc, now)
    if stale:
        return Unavailable(Source.OCSP, url, Unavailability.STALE, stale)
    if single.certificate_status is ocsp.OCSPCertStatus.REVOKED:
        revoked_at = single.revocation_time_utc
        assert revoked_at is not None
        return Revoked(Source.OCSP, url, revoked_at, single.revocation_reason)
    if single.certificate_status is ocsp.OCSPCertStatus.UNKNOWN:
        return Unknown(url)
    return Good(Source.OCSP, url, single.this_update_utc, single.next_update_utc)
