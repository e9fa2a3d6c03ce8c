"""Revocation against OpenSSL's OCSP responder and served CRLs; OpenSSL's client as a second opinion."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime

import pytest
import revocation_servers
import runs
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import SignatureAlgorithmOID
from fakeserver import TlsConfig
from lines import assert_line, utcnow, validity
from pki import DAY, NOW, Issued
from revocation_servers import REVOKED_AT, RevocationWorld, der
from runs import Run, serving

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


def status_of(world: RevocationWorld, name: str, seconds: float = 10) -> object:
    return check(world.leaf(name), world.issuer_of(name), Deadline(seconds))


def pointers(name: str) -> tuple[str | None, str | None]:
    return (revocation_servers.LEAVES | revocation_servers.PSS_LEAVES)[name]


def ocsp_url(world: RevocationWorld, name: str) -> str:
    return world.server.url(pointers(name)[0] or "")


def crl_url(world: RevocationWorld, name: str) -> str:
    return world.server.url(pointers(name)[1] or "")


# --- OCSP, answered by OpenSSL's responder --------------------------------------------------------------


@pytest.mark.parametrize("name", ["ocsp-good", "ocsp-direct", "ocsp-and-crl"])
def test_good_certificate_is_good_by_delegated_or_direct_responder(
    revocation_world: RevocationWorld, name: str
) -> None:
    status = status_of(revocation_world, name)
    assert isinstance(status, Good), status
    assert (status.source, status.url) == (Source.OCSP, ocsp_url(revocation_world, name))
    assert status.next_update is not None and status.next_update > status.this_update  # openssl ocsp -ndays 1
    assert severity(status) is Severity.OK


@pytest.mark.parametrize("name", ["ocsp-revoked", "ocsp-direct-revoked"])
def test_revoked_certificate_is_critical_with_date_and_reason(revocation_world: RevocationWorld, name: str) -> None:
    status = status_of(revocation_world, name)
    url = ocsp_url(revocation_world, name)
    assert status == Revoked(Source.OCSP, url, REVOKED_AT, x509.ReasonFlags.key_compromise)
    assert severity(status) is Severity.CRITICAL
    assert describe(status) == (
        f"the certificate was revoked on {REVOKED_AT:%Y-%m-%d} (keyCompromise), says the OCSP responder {url}"
    )


def test_certificate_unknown_to_the_responder_is_critical(revocation_world: RevocationWorld) -> None:
    status = status_of(revocation_world, "ocsp-unknown")
    url = ocsp_url(revocation_world, "ocsp-unknown")
    assert status == Unknown(url)
    assert severity(status) is Severity.CRITICAL
    assert describe(status, "the RSA certificate") == (
        f"the OCSP responder {url} does not know the RSA certificate (status unknown): "
        "clients that check OCSP may refuse it"
    )


# --- OCSP answers OpenSSL's responder cannot make -----------------------------------------------------


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
    status = status_of(revocation_world, name)
    if why is Unavailability.STALE:
        assert isinstance(status, Unavailable)
        detail = detail.format(status.detail.split()[1] + " " + status.detail.split()[2] + " UTC")
    assert status == Unavailable(Source.OCSP, ocsp_url(revocation_world, name), why, detail)
    assert severity(status) is Severity.WARNING
    assert describe(status).startswith(
        f"revocation of the certificate not checked: the OCSP responder {ocsp_url(revocation_world, name)} "
    )


def test_answer_about_another_certificate_is_a_mismatch(revocation_world: RevocationWorld) -> None:
    status = status_of(revocation_world, "ocsp-mismatch")
    other = revocation_world.leaves["ocsp-good"].cert.serial_number
    mine = revocation_world.leaves["ocsp-mismatch"].cert.serial_number
    assert status == Unavailable(
        Source.OCSP,
        ocsp_url(revocation_world, "ocsp-mismatch"),
        Unavailability.MISMATCH,
        f"serial {other:x}, not {mine:x}",
    )


def test_garbage_instead_of_ocsp_is_invalid(revocation_world: RevocationWorld) -> None:
    status = status_of(revocation_world, "ocsp-garbage")
    assert isinstance(status, Unavailable) and status.why is Unavailability.INVALID, status
    assert status.detail.startswith("not an OCSP response")


def test_stale_answer_words(revocation_world: RevocationWorld) -> None:
    status = status_of(revocation_world, "ocsp-expired")
    assert isinstance(status, Unavailable)
    url = ocsp_url(revocation_world, "ocsp-expired")
    assert describe(status, "intermediate R11") == (
        f"revocation of intermediate R11 not checked: the OCSP responder {url} sent a stale answer: {status.detail}"
    )


def test_unreachable_responder_is_a_warning(revocation_world: RevocationWorld) -> None:
    status = status_of(revocation_world, "ocsp-unreachable")
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
    status = status_of(revocation_world, "ocsp-slow", seconds=1.5)
    assert time.monotonic() - started < 2.0
    assert status == Unavailable(
        Source.OCSP,
        ocsp_url(revocation_world, "ocsp-slow"),
        Unavailability.TIMEOUT,
        "no complete answer before the deadline",
    )


# --- CRLs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["crl-good", "crl-pem"])
def test_certificate_not_on_the_crl_is_good(revocation_world: RevocationWorld, name: str) -> None:
    status = status_of(revocation_world, name)
    assert isinstance(status, Good) and (status.source, status.url) == (Source.CRL, crl_url(revocation_world, name))


def test_certificate_on_the_crl_is_revoked(revocation_world: RevocationWorld) -> None:
    status = status_of(revocation_world, "crl-revoked")
    url = crl_url(revocation_world, "crl-revoked")
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
    status = status_of(revocation_world, name)
    assert status == Unavailable(Source.CRL, crl_url(revocation_world, name), why, detail)
    assert severity(status) is Severity.WARNING


def test_stale_crl_is_a_warning(revocation_world: RevocationWorld) -> None:
    status = status_of(revocation_world, "crl-stale")
    assert isinstance(status, Unavailable) and status.why is Unavailability.STALE, status
    assert status.detail.startswith("nextUpdate ") and status.detail.endswith(" has passed")


def test_garbage_crl_is_invalid(revocation_world: RevocationWorld) -> None:
    status = status_of(revocation_world, "crl-garbage")
    assert isinstance(status, Unavailable) and status.why is Unavailability.INVALID, status


# --- RSASSA-PSS signatures (OpenSSL's responder with -rsigopt rsa_padding_mode:pss; a PSS-signed CRL) ---------


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
    status = status_of(revocation_world, name)
    assert isinstance(status, Good), status


@pytest.mark.parametrize("name", ["ocsp-pss-revoked", "crl-pss-revoked"])
def test_pss_signed_ocsp_answer_and_crl_say_revoked(revocation_world: RevocationWorld, name: str) -> None:
    status = status_of(revocation_world, name)
    assert isinstance(status, Revoked) and status.revoked_at == REVOKED_AT, status


def test_certificate_without_ocsp_or_crl_is_not_checkable(revocation_world: RevocationWorld) -> None:
    status = status_of(revocation_world, "none")
    assert status == NotCheckable()
    assert severity(status) is Severity.OK
    assert describe(status) == "the certificate names no OCSP responder and no CRL: revocation cannot be checked"


# --- a whole path -------------------------------------------------------------------------------------


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


# --- OpenSSL as a second opinion ---------------------------------------------------------------------------


def openssl_ocsp(world: RevocationWorld, name: str) -> str:
    """What `openssl ocsp` as a client says about the same certificate and responder."""
    result = subprocess.run(
        [
            "openssl",
            "ocsp",
            "-issuer",
            str(world.issuer_file(name)),
            "-cert",
            str(world.files[name]),
            "-url",
            ocsp_url(world, name),
            "-CAfile",
            str(world.files["root"]),
            "-verify_other",
            str(world.issuer_file(name)),
            "-no_nonce",
            "-timeout",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "openssl_says", "ours"),
    [
        ("ocsp-good", ": good", Good),
        ("ocsp-direct", ": good", Good),
        ("ocsp-revoked", ": revoked", Revoked),
        ("ocsp-unknown", ": unknown", Unknown),
        ("ocsp-expired", "Status times invalid", Unavailability.STALE),
        ("ocsp-wrong-signer", "Response Verify Failure", Unavailability.WRONG_SIGNER),
        ("ocsp-no-eku", "Response Verify Failure", Unavailability.WRONG_SIGNER),
        ("ocsp-bad-signature", "Response Verify Failure", Unavailability.BAD_SIGNATURE),
        ("ocsp-mismatch", "No Status found", Unavailability.MISMATCH),
        ("ocsp-trylater", "Responder Error: trylater", Unavailability.RESPONDER_ERROR),
        ("ocsp-pss", ": good", Good),
        ("ocsp-pss-revoked", ": revoked", Revoked),
    ],
)
def test_openssl_client_agrees_about_ocsp(
    revocation_world: RevocationWorld, name: str, openssl_says: str, ours: object
) -> None:
    said = openssl_ocsp(revocation_world, name)
    assert openssl_says in said, said
    if openssl_says.startswith(": ") and "Response verify OK" not in said:
        pytest.fail(f"openssl did not verify the {name} response: {said}")
    status = status_of(revocation_world, name)
    if isinstance(ours, Unavailability):
        assert isinstance(status, Unavailable) and status.why is ours, status
    else:
        assert isinstance(status, ours), status  # type: ignore[arg-type]


def openssl_verify_with_crl(world: RevocationWorld, name: str, crl: bytes) -> str:
    crl_file = world.directory / f"{name}.oracle.crl.pem"
    if not crl.startswith(b"-----"):
        crl = x509.load_der_x509_crl(crl).public_bytes(Encoding.PEM)
    crl_file.write_bytes(crl)
    result = subprocess.run(
        [
            "openssl",
            "verify",
            "-crl_check",
            "-CAfile",
            str(world.files["root"]),
            "-untrusted",
            str(world.issuer_file(name)),
            "-CRLfile",
            str(crl_file),
            str(world.files[name]),
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "path", "openssl_says", "ours"),
    [
        ("crl-good", "/ca.crl", ": OK", Good),
        ("crl-revoked", "/ca.crl", "certificate revoked", Revoked),
        ("crl-stale", "/stale.crl", "CRL has expired", Unavailability.STALE),
        ("crl-bad-signature", "/bad-signature.crl", "CRL signature failure", Unavailability.BAD_SIGNATURE),
        ("crl-wrong-signer", "/wrong-signer.crl", "unable to get certificate CRL", Unavailability.WRONG_SIGNER),
        ("crl-pss", "/pss.crl", ": OK", Good),
        ("crl-pss-revoked", "/pss.crl", "certificate revoked", Revoked),
    ],
)
def test_openssl_verify_agrees_about_crls(
    revocation_world: RevocationWorld, name: str, path: str, openssl_says: str, ours: object
) -> None:
    said = openssl_verify_with_crl(revocation_world, name, revocation_world.server.crls[path])
    assert openssl_says in said, said
    status = status_of(revocation_world, name)
    if isinstance(ours, Unavailability):
        assert isinstance(status, Unavailable) and status.why is ours, status
    else:
        assert isinstance(status, ours), status  # type: ignore[arg-type]


def test_dates_are_whole_days_in_words() -> None:
    revoked = Revoked(
        Source.CRL, "http://crl.example/x.crl", datetime(2026, 11, 2, 13, 5), x509.ReasonFlags.key_compromise
    )
    assert (
        describe(revoked)
        == "the certificate was revoked on 2026-11-02 (keyCompromise), says the CRL http://crl.example/x.crl"
    )
    no_reason = revoked._replace(reason=None)
    assert describe(no_reason) == "the certificate was revoked on 2026-11-02, says the CRL http://crl.example/x.crl"


def test_server_text_in_urls_cannot_break_the_status_line() -> None:
    status = Unavailable(Source.OCSP, "http://x.example/|\nOK", Unavailability.INVALID, "junk")
    words = describe(status)
    assert "|" not in words and "\n" not in words


# --- through the CLI: a server serving each certificate, whole first lines ------------------------------------------


def cli_run(world: RevocationWorld, issued: Issued, *extra: str) -> tuple[Run, datetime, int]:
    name = issued.cert.subject.rfc4514_string().removeprefix("CN=")
    chain = issued.write(world.directory, name)
    started = utcnow()
    with serving("imaps", TlsConfig([chain])) as server:
        args = ["-H", "127.0.0.1", "--servername", name, "-p", str(server.port), "-P", "imaps"]
        run = runs.check(*args, "--ca-file", str(world.files["root"]), "--client", "none", "--revocation", *extra)
    return run, started, server.port


def expect(world: RevocationWorld, name: str, state: str, words: str | None) -> None:
    issued = world.leaves.get(name, world.under_revoked_ca)
    assert issued is not None
    run, started, port = cli_run(world, issued)

    def line(now: datetime) -> str:
        served, perf = validity(issued.cert, now)
        tail = f"| days_remaining={perf} handshake_time=Ts;;;0"
        if words is None or state == "OK":
            return f"TLS_MAIL OK - 127.0.0.1:{port} imaps implicit TLS, TLS 1.3, {served}, {words} {tail}"
        return f"TLS_MAIL {state} - 127.0.0.1:{port} imaps: {words}; {served} {tail}"

    assert run.code == ["OK", "WARNING", "CRITICAL"].index(state), run.stdout
    assert_line(run, line, started)


@pytest.mark.parametrize(
    ("name", "words"), [("ocsp-good", "not revoked (OCSP, CRL)"), ("crl-good", "not revoked (CRL)")]
)
def test_cli_good_leaf_and_intermediate_are_ok(revocation_world: RevocationWorld, name: str, words: str) -> None:
    expect(revocation_world, name, "OK", words)


def test_cli_revoked_by_ocsp_is_critical_with_date_and_reason(revocation_world: RevocationWorld) -> None:
    url = ocsp_url(revocation_world, "ocsp-revoked")
    words = f"the certificate was revoked on {REVOKED_AT:%Y-%m-%d} (keyCompromise), says the OCSP responder {url}"
    expect(revocation_world, "ocsp-revoked", "CRITICAL", words)


def test_cli_revoked_on_the_crl_is_critical(revocation_world: RevocationWorld) -> None:
    url = crl_url(revocation_world, "crl-revoked")
    words = f"the certificate was revoked on {REVOKED_AT:%Y-%m-%d} (keyCompromise), says the CRL {url}"
    expect(revocation_world, "crl-revoked", "CRITICAL", words)


def test_cli_unknown_to_the_responder_is_critical(revocation_world: RevocationWorld) -> None:
    url = ocsp_url(revocation_world, "ocsp-unknown")
    words = (
        f"the OCSP responder {url} does not know the certificate (status unknown): clients that check OCSP may "
        "refuse it"
    )
    expect(revocation_world, "ocsp-unknown", "CRITICAL", words)


def test_cli_revoked_intermediate_is_critical_naming_it(revocation_world: RevocationWorld) -> None:
    url = revocation_world.server.url("root.crl")
    words = f"intermediate Revoked Test CA was revoked on {REVOKED_AT:%Y-%m-%d} (cACompromise), says the CRL {url}"
    expect(revocation_world, "behind-revoked-ca", "CRITICAL", words)


def test_cli_expired_response_is_a_warning(revocation_world: RevocationWorld) -> None:
    url = ocsp_url(revocation_world, "ocsp-expired")
    stale = (NOW - 3 * DAY).strftime("%Y-%m-%d %H:%M UTC")  # the answer's nextUpdate (revocation_servers)
    words = (
        f"revocation of the certificate not checked: the OCSP responder {url} sent a stale answer: nextUpdate "
        f"{stale} has passed"
    )
    expect(revocation_world, "ocsp-expired", "WARNING", words)


def test_cli_response_by_the_wrong_signer_is_a_warning(revocation_world: RevocationWorld) -> None:
    url = ocsp_url(revocation_world, "ocsp-wrong-signer")
    words = (
        f"revocation of the certificate not checked: the OCSP responder {url} sent an answer signed by Stranger OCSP "
        "Responder (not issued by Revocation Test CA for OCSP signing), not by the issuer or its responder"
    )
    expect(revocation_world, "ocsp-wrong-signer", "WARNING", words)


def test_cli_unreachable_responder_is_a_warning_naming_the_url(revocation_world: RevocationWorld) -> None:
    port = revocation_world.closed_port
    words = (
        f"revocation of the certificate not checked: the OCSP responder http://127.0.0.1:{port}/ is unreachable: "
        f"connection refused (127.0.0.1:{port})"
    )
    expect(revocation_world, "ocsp-unreachable", "WARNING", words)


def test_cli_checks_nothing_without_the_option(revocation_world: RevocationWorld) -> None:
    before = len(revocation_world.server.requests)
    issued = revocation_world.leaves["ocsp-revoked"]
    name = "ocsp-revoked.example.test"
    with serving("imaps", TlsConfig([issued.write(revocation_world.directory, name)])) as server:
        args = ["-H", "127.0.0.1", "--servername", name, "-p", str(server.port), "-P", "imaps"]
        run = runs.check(*args, "--ca-file", str(revocation_world.files["root"]), "--client", "none")
    assert run.code == 0, run.stdout
    assert len(revocation_world.server.requests) == before  # off by default: no request to the CA


def test_cli_checks_the_certificate_served_without_sni_too(revocation_world: RevocationWorld) -> None:
    """A server with another certificate for clients without SNI (most MTAs): that one is asked about as well."""
    world = revocation_world
    good, revoked = world.leaves["ocsp-good"], world.leaves["ocsp-revoked"]
    name = "ocsp-good.example.test"
    bare = revoked.write(world.directory, "ocsp-revoked.example.test")
    with serving("smtp", TlsConfig([good.write(world.directory, name)], without_sni=bare)) as server:
        args = ["-H", "127.0.0.1", "--servername", name, "-p", str(server.port), "-P", "smtp"]
        run = runs.check(*args, "--ca-file", str(world.files["root"]), "--client", "postfix", "--revocation", "-v")
    assert run.code == 2, run.stdout
    url = ocsp_url(world, "ocsp-revoked")
    assert f"was revoked on {REVOKED_AT:%Y-%m-%d} (keyCompromise), says the OCSP responder {url}" in run.stdout
    assert "certificate without SNI" in run.first_line, run.first_line


def test_a_check_still_running_at_the_deadline_is_not_finished(
    revocation_world: RevocationWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: the OCSP request outlives the probe budget; the report names the URL and the timeout."""
    import socket
    import threading

    from check_tls_mail.checks.revocation import lookup as revocation
    from check_tls_mail.checks.revocation.check import Revocation
    from check_tls_mail.net.dialects import PROTOCOLS
    from check_tls_mail.probe.plan import ProbePlan
    from check_tls_mail.probe.run import run

    release = threading.Event()
    monkeypatch.setattr(revocation, "check", lambda *args, **kwargs: release.wait(5))
    issued = revocation_world.leaves["ocsp-good"]
    with serving("imaps", TlsConfig([issued.write(revocation_world.directory, "ocsp-good-deadline")])) as server:
        plan = ProbePlan(
            "127.0.0.1",
            server.port,
            PROTOCOLS["imaps"],
            socket.AF_INET,
            "ocsp-good.example.test",
            (),
            (),
            4,
            1.0,
        )
        report = run(plan, (Revocation(str(revocation_world.files["root"])),))
    release.set()
    (answers,) = report.extras["revocation"].values()  # type: ignore[attr-defined]
    url = ocsp_url(revocation_world, "ocsp-good")
    assert answers == (
        CertificateRevocation(
            0,
            "ocsp-good.example.test",
            Unavailable(Source.OCSP, url, Unavailability.TIMEOUT, "no answer before the deadline"),
        ),
        CertificateRevocation(
            1,
            "Revocation Test CA",
            Unavailable(
                Source.CRL,
                revocation_world.server.url("root.crl"),
                Unavailability.TIMEOUT,
                "no answer before the deadline",
            ),
        ),
    )
