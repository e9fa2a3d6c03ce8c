"""Revocation (--revocation): has the CA revoked a served certificate? Facts, state mapping and words.

OCSP where the certificate names a responder (AIA), else the CRL from its
distribution point, over plain HTTP with http.client and cryptography's OCSP
and CRL support. Every answer is verified: signed by the issuer (or, for
OCSP, by a responder the issuer authorised with id-kp-OCSPSigning), about
this certificate, and fresh. Unreachable or unusable answers are a soft
failure, as clients treat them. Bounded in time (the deadline) and size.
cryptography is imported only when a check runs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from .sanitize import clean
from .severity import Severity
from .wire import Deadline

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
    from cryptography.hazmat.primitives.hashes import HashAlgorithm
    from cryptography.x509 import ocsp

    from .certificate import TrustAnchors

#: An OCSP response is a few KiB; refuse anything much larger.
MAX_OCSP_BYTES = 64 * 1024
#: CRLs can be large (a big CA's full CRL runs to megabytes); past this, refused as oversized.
MAX_CRL_BYTES = 10 * 1024 * 1024
#: Clock difference tolerated between us and the responder or CRL signer.
CLOCK_SKEW = timedelta(minutes=5)


class Source(enum.Enum):
    OCSP = "OCSP"
    CRL = "CRL"


class Unavailability(enum.Enum):
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    HTTP_STATUS = "http status"
    OVERSIZED = "oversized"
    INVALID = "invalid"  # not an OCSP response or CRL, or an unsupported one
    RESPONDER_ERROR = "responder error"  # OCSP responseStatus other than successful
    MISMATCH = "mismatch"  # the OCSP answer is about another certificate
    BAD_SIGNATURE = "bad signature"
    WRONG_SIGNER = "wrong signer"  # signed by someone the issuer did not authorise
    STALE = "stale"  # nextUpdate passed, or thisUpdate in the future


class Good(NamedTuple):
    source: Source
    url: str
    this_update: datetime
    next_update: datetime | None


class Revoked(NamedTuple):
    source: Source
    url: str
    revoked_at: datetime
    reason: x509.ReasonFlags | None


class Unknown(NamedTuple):
    """The OCSP responder signed an answer saying it does not know the certificate."""

    url: str


class Unavailable(NamedTuple):
    source: Source
    url: str
    why: Unavailability
    detail: str  # cleaned


class NotCheckable(NamedTuple):
    """The certificate names no OCSP responder and no http CRL distribution point."""


RevocationStatus = Good | Revoked | Unknown | Unavailable | NotCheckable


class CertificateRevocation(NamedTuple):
    """The status of one certificate of a served path (position 0 is the leaf)."""

    position: int
    subject: str  # cleaned, short
    status: RevocationStatus


def _urls(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """(OCSP responder URLs, CRL URLs), http(s) only."""
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID

    def web(name: x509.GeneralName) -> str | None:
        if isinstance(name, x509.UniformResourceIdentifier) and name.value.lower().startswith(("http://", "https://")):
            return str(name.value)
        return None

    ocsp_urls: list[str] = []
    crl_urls: list[str] = []
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        for access in aia:
            url = web(access.access_location)
            if access.access_method == AuthorityInformationAccessOID.OCSP and url:
                ocsp_urls.append(url)
    except (x509.ExtensionNotFound, ValueError):
        pass
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        for point in points:
            if point.crl_issuer:  # indirect CRLs: not supported
                continue
            crl_urls += [url for url in (web(n) for n in point.full_name or ()) if url]
    except (x509.ExtensionNotFound, ValueError):
        pass
    return ocsp_urls, crl_urls


def _signature_ok(
    key: CertificatePublicKeyTypes, signature: bytes, data: bytes, algorithm: HashAlgorithm | None
) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        elif isinstance(key, dsa.DSAPublicKey) and algorithm is not None:
            key.verify(signature, data, algorithm)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _short(name: x509.Name) -> str:
    from cryptography.x509.oid import NameOID

    try:
        cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        return clean(str(cns[0].value) if cns else name.rfc4514_string() or "(empty name)", 64)
    except ValueError:
        return "(unreadable name)"


def _freshness(this_update: datetime, next_update: datetime | None, now: datetime) -> str | None:
    """None if fresh, else why not (in words)."""
    if this_update > now + CLOCK_SKEW:
        return f"thisUpdate {_when(this_update)} is in the future"
    if next_update is not None and next_update < now - CLOCK_SKEW:
        return f"nextUpdate {_when(next_update)} has passed"
    return None


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _fetch(source: Source, url: str, deadline: Deadline, limit: int, body: bytes | None = None) -> bytes | Unavailable:
    from .httpfetch import FetchFailure, HttpFailed, request

    if body is None:
        answer = request(url, deadline, limit)
    else:
        answer = request(
            url,
            deadline,
            limit,
            method="POST",
            body=body,
            content_type="application/ocsp-request",
            accept="application/ocsp-response",
        )
    if isinstance(answer, HttpFailed):
        why = {
            FetchFailure.TIMEOUT: Unavailability.TIMEOUT,
            FetchFailure.OVERSIZED: Unavailability.OVERSIZED,
        }.get(answer.failure, Unavailability.UNREACHABLE)
        return Unavailable(source, url, why, answer.detail)
    if answer.status != 200:
        return Unavailable(source, url, Unavailability.HTTP_STATUS, f"{answer.status} {answer.reason}".strip())
    return answer.body


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
        return issuer, _short(issuer.subject)
    named = response.responder_name
    claimed = _short(named) if named is not None else "a responder key the issuer did not certify"
    for cert in response.certificates:
        if not is_responder(cert):
            continue
        claimed = _short(cert.subject)
        try:
            cert.verify_directly_issued_by(issuer)
            usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm, x509.ExtensionNotFound):
            return None, f"{claimed} (not issued by {_short(issuer.subject)} for OCSP signing)"
        if ExtendedKeyUsageOID.OCSP_SIGNING not in usages:
            return None, f"{claimed} (no OCSPSigning usage)"
        if not cert.not_valid_before_utc - CLOCK_SKEW <= now <= cert.not_valid_after_utc + CLOCK_SKEW:
            return None, f"{claimed} (outside its validity)"
        return cert, claimed
    return None, claimed


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
    data = _fetch(Source.OCSP, url, deadline, MAX_OCSP_BYTES, request.public_bytes(Encoding.DER))
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
        algorithm = response.signature_hash_algorithm
        signature, tbs = response.signature, response.tbs_response_bytes
    except (ValueError, UnsupportedAlgorithm) as exc:
        return Unavailable(Source.OCSP, url, Unavailability.INVALID, clean(str(exc) or exc.__class__.__name__, 80))
    if signer is None:
        return Unavailable(Source.OCSP, url, Unavailability.WRONG_SIGNER, claimed)
    if not _signature_ok(signer.public_key(), signature, tbs, algorithm):
        return Unavailable(Source.OCSP, url, Unavailability.BAD_SIGNATURE, _short(signer.subject))
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
    stale = _freshness(single.this_update_utc, single.next_update_utc, now)
    if stale:
        return Unavailable(Source.OCSP, url, Unavailability.STALE, stale)
    if single.certificate_status is ocsp.OCSPCertStatus.REVOKED:
        revoked_at = single.revocation_time_utc
        assert revoked_at is not None
        return Revoked(Source.OCSP, url, revoked_at, single.revocation_reason)
    if single.certificate_status is ocsp.OCSPCertStatus.UNKNOWN:
        return Unknown(url)
    return Good(Source.OCSP, url, single.this_update_utc, single.next_update_utc)


def check_crl(
    url: str, cert: x509.Certificate, issuer: x509.Certificate, deadline: Deadline, now: datetime
) -> RevocationStatus:
    from cryptography import x509

    data = _fetch(Source.CRL, url, deadline, MAX_CRL_BYTES)
    if isinstance(data, Unavailable):
        return data
    try:
        crl = x509.load_der_x509_crl(data) if not data.lstrip().startswith(b"-----") else x509.load_pem_x509_crl(data)
    except ValueError as exc:
        return Unavailable(Source.CRL, url, Unavailability.INVALID, f"not a CRL ({clean(str(exc), 80)})")
    if crl.issuer != issuer.subject:
        return Unavailable(Source.CRL, url, Unavailability.WRONG_SIGNER, _short(crl.issuer))
    try:
        signed = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (ValueError, TypeError):
        signed = False
    if not signed:
        return Unavailable(Source.CRL, url, Unavailability.BAD_SIGNATURE, _short(issuer.subject))
    stale = _freshness(crl.last_update_utc, crl.next_update_utc, now)
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


def check(leaf_der: bytes, issuer_der: bytes, deadline: Deadline, now: datetime | None = None) -> RevocationStatus:
    """The revocation status of one certificate, given the certificate that issued it (DER)."""
    from cryptography import x509

    from .certificate import utcnow

    moment = now or utcnow()
    try:
        cert = x509.load_der_x509_certificate(leaf_der)
        issuer = x509.load_der_x509_certificate(issuer_der)
        ocsp_urls, crl_urls = _urls(cert)
    except ValueError:
        return NotCheckable()
    if ocsp_urls:
        return check_ocsp(ocsp_urls[0], cert, issuer, deadline, moment)
    if crl_urls:
        return check_crl(crl_urls[0], cert, issuer, deadline, moment)
    return NotCheckable()


class Step(NamedTuple):
    """One certificate of a path to check, with the certificate that issued it (DER)."""

    position: int
    subject: str  # cleaned, short
    certificate: bytes
    issuer: bytes


def steps(path: Sequence[bytes], anchor: bytes | None) -> tuple[Step, ...]:
    """The checks a path needs (DER, leaf first, anchor excluded); the last one's issuer is ``anchor``.

    Without ``anchor`` the last certificate is not checked.
    """
    from cryptography import x509

    found = []
    issuers = [*path[1:], anchor]
    for position, (der, issuer) in enumerate(zip(path, issuers, strict=True)):
        if issuer is None:
            break
        try:
            subject = _short(x509.load_der_x509_certificate(der).subject)
        except ValueError:
            subject = "(unreadable certificate)"
        found.append(Step(position, subject, der, issuer))
    return tuple(found)


def check_path(
    path: Sequence[bytes], anchor: bytes | None, deadline: Deadline, now: datetime | None = None
) -> tuple[CertificateRevocation, ...]:
    """Each certificate of a verified path (DER, leaf first, anchor excluded), checked against its issuer, in turn.

    The last certificate's issuer is ``anchor``; without it, that one is not checked.
    """
    return tuple(
        CertificateRevocation(step.position, step.subject, check(step.certificate, step.issuer, deadline, now))
        for step in steps(path, anchor)
    )


def served_path(chain: Sequence[bytes], anchors: TrustAnchors | None) -> tuple[tuple[bytes, ...], bytes | None]:
    """The path to check in a chain as sent, and the DER of the certificate that issued its last one.

    The path follows issuer names through the sent certificates from the leaf
    (extra certificates are left out, and so is a root the server sent); the
    last issuer is the trust anchor that signed it, else a root the server
    sent, else unknown (None).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        certs = [x509.load_der_x509_certificate(der) for der in chain]
    except ValueError:
        return (), None
    if not certs:
        return (), None
    path = [0]
    while certs[path[-1]].issuer != certs[path[-1]].subject:
        issuer = certs[path[-1]].issuer
        following = next((i for i, c in enumerate(certs) if i not in path and c.subject == issuer), None)
        if following is None:
            break
        path.append(following)
    sent_root = None
    if len(path) > 1 and certs[path[-1]].issuer == certs[path[-1]].subject:
        sent_root = certs[path.pop()]
    last = certs[path[-1]]
    anchor = anchors.issuer_of(last) if anchors is not None else None
    issuer_cert = anchor or sent_root
    return tuple(chain[i] for i in path), issuer_cert.public_bytes(Encoding.DER) if issuer_cert is not None else None


def not_finished(certificate: bytes) -> RevocationStatus:
    """The status of a check that was still waiting for its answer when the time was up."""
    from cryptography import x509

    try:
        ocsp_urls, crl_urls = _urls(x509.load_der_x509_certificate(certificate))
    except ValueError:
        return NotCheckable()
    if ocsp_urls:
        return Unavailable(Source.OCSP, ocsp_urls[0], Unavailability.TIMEOUT, "no answer before the deadline")
    if crl_urls:
        return Unavailable(Source.CRL, crl_urls[0], Unavailability.TIMEOUT, "no answer before the deadline")
    return NotCheckable()


# --- judgement and words ---------------------------------------------------------------------------


def severity(status: RevocationStatus) -> Severity:
    """Revoked and unknown: CRITICAL; no usable answer: WARNING (soft fail, as clients do)."""
    match status:
        case Revoked() | Unknown():
            return Severity.CRITICAL
        case Unavailable():
            return Severity.WARNING
        case Good() | NotCheckable():
            return Severity.OK
    raise AssertionError(status)  # pragma: no cover


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _where(source: Source, url: str) -> str:
    return f"{'OCSP responder' if source is Source.OCSP else 'CRL'} {clean(url, 120)}"


def describe(status: RevocationStatus, certificate: str = "the certificate") -> str:
    """The operator's words; ``certificate`` names which one ("the RSA certificate", "intermediate R11")."""
    match status:
        case Good(source=source, url=url, this_update=this_update):
            return f"{certificate} is not revoked ({_where(source, url)}, as of {_when(this_update)})"
        case Revoked(source=source, url=url, revoked_at=revoked_at, reason=reason):
            why = f" ({reason.value})" if reason is not None else ""
            return f"{certificate} was revoked on {_date(revoked_at)}{why}, says the {_where(source, url)}"
        case Unknown(url=url):
            return (
                f"the OCSP responder {clean(url, 120)} does not know {certificate} (status unknown): "
                "clients that check OCSP may refuse it"
            )
        case Unavailable(source=source, url=url, why=why, detail=detail):
            what = {
                Unavailability.UNREACHABLE: f"is unreachable: {detail}",
                Unavailability.TIMEOUT: f"did not answer in time ({detail})",
                Unavailability.HTTP_STATUS: f"answered HTTP {detail}",
                Unavailability.OVERSIZED: f"sent too much ({detail})",
                Unavailability.INVALID: f"sent something unusable: {detail}",
                Unavailability.RESPONDER_ERROR: f"answered {detail}",
                Unavailability.MISMATCH: f"answered about another certificate ({detail})",
                Unavailability.BAD_SIGNATURE: f"sent an answer whose signature fails with the key of {detail}",
                Unavailability.WRONG_SIGNER: f"sent an answer signed by {detail}, not by the issuer or its responder",
                Unavailability.STALE: f"sent a stale answer: {detail}",
            }[why]
            return f"revocation of {certificate} not checked: the {_where(source, url)} {what}"
        case NotCheckable():
            return f"{certificate} names no OCSP responder and no CRL: revocation cannot be checked"
    raise AssertionError(status)  # pragma: no cover
