"""Revocation lookups in process against OpenSSL's OCSP responder and served CRLs (revocation_servers.py).

Each certificate of the world is looked up as the check looks it up beside
its handshakes; the whole path, and RSASSA-PSS-signed answers and CRLs.
"""

from __future__ import annotations

import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import SignatureAlgorithmOID
from revocation_servers import REVOKED_AT, RevocationWorld, der
from runs import IN_PROCESS_SLACK

from check_tls_mail.checks.revocation.crl import MAX_CRL_BYTES
from check_tls_mail.checks.revocation.lookup import check, steps
from check_tls_mail.checks.revocation.status import (
    CertificateRevocation,
    Good,
    NotCheckable,
    Revoked,
    Source,
    Unavailability,
    Unavailable,
    Unknown,
    severity,
)
from check_tls_mail.checks.revocation.words import describe
from check_tls_mail.net.transport import Deadline
from check_tls_mail.severity import Severity


@pytest.mark.parametrize("name", ["ocsp-good", "ocsp-direct", "ocsp-and-crl"])
def test_good_certificate_is_good_by_delegated_or_direct_responder(
    revocation_world: RevocationWorld, name: str
) -> None:
    status = revocation_world.status(name)
    assert isinstance(status, Good), status
    assert (status.source, status.url) == (Source.OCSP, revocation_world.ocsp_url(name))
    assert status.next_update is not None and status.next_update > status.this_update  # openssl ocsp -ndays 1
    assert severity(status) is Severity.OK


@pytest.mark.parametrize("name", ["ocsp-revoked", "ocsp-direct-revoked"])
def test_revoked_certificate_is_critical_with_date_and_reason(revocation_world: RevocationWorld, name: str) -> None:
    status = revocation_world.status(name)
    url = revocation_world.ocsp_url(name)
    assert status == Revoked(Source.OCSP, url, REVOKED_AT, x509.ReasonFlags.key_compromise)
    assert severity(status) is Severity.CRITICAL
    assert describe(status) == (
        f"the certificate was revoked on {REVOKED_AT:%Y-%m-%d} (keyCompromise), says the OCSP responder {url}"
    )


def test_certificate_unknown_to_the_responder_is_critical(revocation_world: RevocationWorld) -> None:
    status = revocation_world.status("ocsp-unknown")
    url = revocation_world.ocsp_url("ocsp-unknown")
    assert status == Unknown(url)
    assert severity(status) is Severity.CRITICAL
    assert describe(status, "the RSA certificate") == (
        f"the OCSP responder {url} does not know the RSA certificate (status unknown): "
        "clients that check OCSP may refuse it"
    )


@pytest.mark.parametrize(
    ("name", "why", "detail"),
    [
        ("ocsp-expired", Unavailability.STALE, "nextUpdate {} has passed"),
        (
            "ocsp-wrong-signer",
            Unavailability.WRONG_SIGNER,
            "Stranger OCSP Responder (not issued by Revocation Test CA for OCSP signing)",
        ),
        ("ocsp-no-eku", Unavailability.WRONG_SIGNER, "Not An OCSP Responder (no OCSPSigning usage)"),
        ("ocsp-bad-signature", Unavailability.BAD_SIGNATURE, "Revocation Test CA"),
        ("ocsp-trylater", Unavailability.RESPONDER_ERROR, "tryLater"),
        ("ocsp-status500", Unavailability.HTTP_STATUS, "500 Internal Server Error"),
        ("ocsp-oversized", Unavailability.OVERSIZED, "Content-Length 71680 is over 65536 bytes"),
    ],
)
def test_unusable_ocsp_answer_is_a_warning_naming_the_url(
    revocation_world: RevocationWorld, name: str, why: Unavailability, detail: str
) -> None:
    status = revocation_world.status(name)
    if why is Unavailability.STALE:
        assert isinstance(status, Unavailable)
        detail = detail.format(status.detail.split()[1] + " " + status.detail.split()[2] + " UTC")
    assert status == Unavailable(Source.OCSP, revocation_world.ocsp_url(name), why, detail)
    assert severity(status) is Severity.WARNING
    assert describe(status).startswith(
        f"revocation of the certificate not checked: the OCSP responder {revocation_world.ocsp_url(name)} "
    )


def test_answer_about_another_certificate_is_a_mismatch(revocation_world: RevocationWorld) -> None:
    status = revocation_world.status("ocsp-mismatch")
    other = revocation_world.leaves["ocsp-good"].cert.serial_number
    mine = revocation_world.leaves["ocsp-mismatch"].cert.serial_number
    assert status == Unavailable(
        Source.OCSP,
        revocation_world.ocsp_url("ocsp-mismatch"),
        Unavailability.MISMATCH,
        f"serial {other:x}, not {mine:x}",
    )


def test_garbage_instead_of_ocsp_is_invalid(revocation_world: RevocationWorld) -> None:
    status = revocation_world.status("ocsp-garbage")
    assert isinstance(status, Unavailable) and status.why is Unavailability.INVALID, status
    assert status.detail.startswith("not an OCSP response")


def test_stale_answer_words(revocation_world: RevocationWorld) -> None:
    status = revocation_world.status("ocsp-expired")
    assert isinstance(status, Unavailable)
    url = revocation_world.ocsp_url("ocsp-expired")
    assert describe(status, "intermediate R11") == (
        f"revocation of intermediate R11 not checked: the OCSP responder {url} sent a stale answer: {status.detail}"
    )


def test_unreachable_responder_is_a_warning(revocation_world: RevocationWorld) -> None:
    status = revocation_world.status("ocsp-unreachable")
    url = f"http://127.0.0.1:{revocation_world.closed_port}/"
    assert status == Unavailable(
        Source.OCSP, url, Unavailability.UNREACHABLE, f"connection refused (127.0.0.1:{revocation_world.closed_port})"
    )
    assert describe(status) == (
        f"revocation of the certificate not checked: the OCSP responder {url} is unreachable: "
        f"connection refused (127.0.0.1:{revocation_world.closed_port})"
    )


def test_silent_responder_is_cut_at_the_deadline(revocation_world: RevocationWorld) -> None:
    started = time.monotonic()
    status = revocation_world.status("ocsp-slow", seconds=1.5)
    assert time.monotonic() - started < 1.5 + IN_PROCESS_SLACK  # the responder answers after 8 s
    assert status == Unavailable(
        Source.OCSP,
        revocation_world.ocsp_url("ocsp-slow"),
        Unavailability.TIMEOUT,
        "no complete answer before the deadline",
    )


@pytest.mark.parametrize("name", ["crl-good", "crl-pem"])
def test_certificate_not_on_the_crl_is_good(revocation_world: RevocationWorld, name: str) -> None:
    status = revocation_world.status(name)
    assert isinstance(status, Good) and (status.source, status.url) == (Source.CRL, revocation_world.crl_url(name))


def test_certificate_on_the_crl_is_revoked(revocation_world: RevocationWorld) -> None:
    status = revocation_world.status("crl-revoked")
    url = revocation_world.crl_url("crl-revoked")
    assert status == Revoked(Source.CRL, url, REVOKED_AT, x509.ReasonFlags.key_compromise)
    assert (
        describe(status) == f"the certificate was revoked on {REVOKED_AT:%Y-%m-%d} (keyCompromise), says the CRL {url}"
    )


@pytest.mark.parametrize(
    ("name", "why", "detail"),
    [
        ("crl-wrong-signer", Unavailability.WRONG_SIGNER, "Unrelated Test Root"),
        ("crl-bad-signature", Unavailability.BAD_SIGNATURE, "Revocation Test CA"),
        ("crl-missing", Unavailability.HTTP_STATUS, "404 Not Found"),
        ("crl-oversized", Unavailability.OVERSIZED, f"more than {MAX_CRL_BYTES} bytes"),
    ],
)
def test_unusable_crl_is_a_warning(
    revocation_world: RevocationWorld, name: str, why: Unavailability, detail: str
) -> None:
    status = revocation_world.status(name)
    assert status == Unavailable(Source.CRL, revocation_world.crl_url(name), why, detail)
    assert severity(status) is Severity.WARNING


def test_stale_crl_is_a_warning(revocation_world: RevocationWorld) -> None:
    status = revocation_world.status("crl-stale")
    assert isinstance(status, Unavailable) and status.why is Unavailability.STALE, status
    assert status.detail.startswith("nextUpdate ") and status.detail.endswith(" has passed")


def test_garbage_crl_is_invalid(revocation_world: RevocationWorld) -> None:
    status = revocation_world.status("crl-garbage")
    assert isinstance(status, Unavailable) and status.why is Unavailability.INVALID, status


def test_pss_signed_answers_really_are_pss(revocation_world: RevocationWorld) -> None:
    """The two tests below mean something only if the responder and the CRL really sign with PSS."""
    world = revocation_world
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(world.leaves["ocsp-pss"].cert, world.rsa_ca.cert, hashes.SHA1())
        .build()
        .public_bytes(Encoding.DER)
    )
    answer = ocsp.load_der_ocsp_response(world.server.responders["openssl/pss"].answer(request))
    crl = x509.load_der_x509_crl(world.server.crls["/pss.crl"])
    assert answer.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS
    assert crl.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS


@pytest.mark.parametrize("name", ["ocsp-pss", "crl-pss"])
def test_pss_signed_ocsp_answer_and_crl_say_good(revocation_world: RevocationWorld, name: str) -> None:
    status = revocation_world.status(name)
    assert isinstance(status, Good), status


@pytest.mark.parametrize("name", ["ocsp-pss-revoked", "crl-pss-revoked"])
def test_pss_signed_ocsp_answer_and_crl_say_revoked(revocation_world: RevocationWorld, name: str) -> None:
    status = revocation_world.status(name)
    assert isinstance(status, Revoked) and status.revoked_at == REVOKED_AT, status


def test_certificate_without_ocsp_or_crl_is_not_checkable(revocation_world: RevocationWorld) -> None:
    status = revocation_world.status("none")
    assert status == NotCheckable()
    assert severity(status) is Severity.OK
    assert describe(status) == "the certificate names no OCSP responder and no CRL: revocation cannot be checked"


def check_path(path: list[bytes], anchor: bytes | None, deadline: Deadline) -> tuple[CertificateRevocation, ...]:
    """Each certificate of a path against its issuer, as the lookups after the handshakes ask them."""
    return tuple(
        CertificateRevocation(step.position, step.subject, check(step.certificate, step.issuer, deadline))
        for step in steps(path, anchor)
    )


def test_path_checks_the_intermediate_on_the_roots_crl(revocation_world: RevocationWorld) -> None:
    world = revocation_world
    results = check_path([world.leaf("ocsp-good"), world.issuer], der(world.root), Deadline(10))
    assert [(r.position, r.subject, type(r.status)) for r in results] == [
        (0, "ocsp-good.example.test", Good),
        (1, "Revocation Test CA", Good),
    ]
    assert results[1].status.source is Source.CRL  # type: ignore[union-attr]


def test_revoked_intermediate_is_found(revocation_world: RevocationWorld) -> None:
    world = revocation_world
    assert world.under_revoked_ca is not None
    results = check_path([der(world.under_revoked_ca), der(world.revoked_ca)], der(world.root), Deadline(10))
    assert results == (
        CertificateRevocation(0, "behind-revoked-ca.example.test", NotCheckable()),
        CertificateRevocation(
            1,
            "Revoked Test CA",
            Revoked(Source.CRL, world.server.url("root.crl"), REVOKED_AT, x509.ReasonFlags.ca_compromise),
        ),
    )


def test_path_without_the_anchor_skips_the_last_issuer(revocation_world: RevocationWorld) -> None:
    world = revocation_world
    results = check_path([world.leaf("crl-revoked"), world.issuer], None, Deadline(10))
    assert [r.position for r in results] == [0]
    assert isinstance(results[0].status, Revoked)
