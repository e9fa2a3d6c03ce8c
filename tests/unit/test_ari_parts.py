"""--ari without a server: the CertID, the CA's directory, the RenewalInfo object, the judgement, its words, the
schedule of the next request, and the state directory's cache."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from acme_servers import cert_id as independent_cert_id
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from pki import DAY, NOW, Issued, Pki, issue, new_key
from runs import IN_CI

from check_tls_mail.checks.ari import cache
from check_tls_mail.checks.ari.certid import LETS_ENCRYPT, LETS_ENCRYPT_STAGING, cert_id, known_directory
from check_tls_mail.checks.ari.fetch import (
    https_url,
    parse_renewal_info,
    parse_time,
    renewal_info_base,
    renewal_info_url,
)
from check_tls_mail.checks.ari.schedule import LONG_TERM, next_ask, retry_after
from check_tls_mail.checks.ari.status import (
    Answered,
    AriOutcome,
    Failure,
    NotAsked,
    Unasked,
    Unavailable,
    Where,
    Window,
    severity,
)
from check_tls_mail.checks.ari.words import describe, served_line
from check_tls_mail.cli.options import parse
from check_tls_mail.errors import UsageError
from check_tls_mail.severity import Severity
from check_tls_mail.x509.parse import read
from check_tls_mail.x509.store import pem_blocks

#: RFC 9773 Appendix A, the example end-entity certificate of section 4.1.
RFC_9773_EXAMPLE = b"""-----BEGIN CERTIFICATE-----
MIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt
cGxlIENBMCIYDzAwMDEwMTAxMDAwMDAwWhgPMDAwMTAxMDEwMDAwMDBaMBYxFDAS
BgNVBAMTC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeBZu
7cbpAYNXZLbbh8rNIzuOoqOOtmxA1v7cRm//AwyMwWxyHz4zfwmBhcSrf47NUAFf
qzLQ2PPQxdTXREYEnKMjMCEwHwYDVR0jBBgwFoAUaYhba4dGQEHhs3uEe6CuLN4B
yNQwCgYIKoZIzj0EAwIDRwAwRAIge09+S5TZAlw5tgtiVvuERV6cT4mfutXIlwTb
+FYN/8oCIClDsqBklhB9KAelFiYt9+6FDj3z4KGVelYM5MdsO3pK
-----END CERTIFICATE-----
"""
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
WINDOW = Window(T0 + timedelta(days=10), T0 + timedelta(days=12), "https://ca.example/why")
INFO_URL = "https://ca.example/renewal-info/abc.AQ"


def der(issued: Issued) -> bytes:
    return issued.cert.public_bytes(Encoding.DER)


# --- the CertID (RFC 9773 section 4.1) ------------------------------------------------------------


def test_cert_id_of_the_rfc_example_certificate_is_the_rfc_s() -> None:
    """Section 4.1: AKI 69:88:5B:...:D4 and serial 00:87:65:43:21 give aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE."""
    certificate = read(pem_blocks(RFC_9773_EXAMPLE)[0])
    assert certificate.authority_key_id == bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
    assert certificate.serial == bytes.fromhex("0087654321")
    assert cert_id(certificate) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


def _with_serial(serial: int, pki: Pki) -> Issued:
    """A leaf of the test PKI with a chosen serial number (pki.issue picks a random one)."""
    key = new_key("ECDSA")
    issuer = pki.intermediate
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "serial.example.test")]))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 60 * DAY)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return Issued(cert, key, issuer)


@pytest.mark.parametrize("serial", [1, 0x7F, 0x80, 0xFF, 0x87654321, 2**159 - 1, 2**152 + 5])
def test_cert_id_agrees_with_an_independent_computation(pki: Pki, serial: int) -> None:
    """A top bit set in the serial gets its leading zero (the DER content), as the RFC's example shows."""
    issued = _with_serial(serial, pki)
    assert cert_id(read(der(issued))) == independent_cert_id(issued.cert)


def test_cert_id_of_test_pki_leaves_agrees_with_an_independent_computation(pki: Pki) -> None:
    for key_type in ("ECDSA", "RSA"):
        issued = pki.leaf(key_type=key_type)
        identifier = cert_id(read(der(issued)))
        assert identifier == independent_cert_id(issued.cert)
        assert identifier is not None and "=" not in identifier and "+" not in identifier and "/" not in identifier


def test_a_certificate_without_authority_key_identifier_has_no_cert_id(pki: Pki) -> None:
    issued = issue(
        "nokeyid.example.test", new_key("ECDSA"), pki.intermediate, NOW - DAY, NOW + DAY, False, keyids=False
    )
    assert cert_id(read(der(issued))) is None


# --- the CA's directory, by the issuer ----------------------------------------------------------------


def _issued_by(organization: str) -> Issued:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, "R11"),
        ]
    )
    ca = issue(name, new_key("ECDSA"), None, NOW - DAY, NOW + 90 * DAY, ca=True)
    return issue("mail.example.test", new_key("ECDSA"), ca, NOW - DAY, NOW + 60 * DAY, False, ("mail.example.test",))


@pytest.mark.parametrize(
    ("organization", "directory"),
    [
        ("Let's Encrypt", LETS_ENCRYPT),
        ("(STAGING) Let's Encrypt", LETS_ENCRYPT_STAGING),
        ("LET'S  ENCRYPT", LETS_ENCRYPT),  # names compare as OpenSSL compares them: case and spaces folded
        ("Let's Encrypt Fan Club", None),
        ("DigiCert Inc", None),
    ],
)
def test_the_default_directory_follows_the_issuer_s_organization(organization: str, directory: str | None) -> None:
    assert known_directory(read(der(_issued_by(organization)))) == directory


def test_the_default_directories_are_let_s_encrypt_s_acme_directories() -> None:
    assert LETS_ENCRYPT == "https://acme-v02.api.letsencrypt.org/directory"
    assert LETS_ENCRYPT_STAGING == "https://acme-staging-v02.api.letsencrypt.org/directory"


# --- the directory and the RenewalInfo object -----------------------------------------------------------


def test_the_renewal_info_url_is_the_directory_s_renewal_info_and_the_cert_id() -> None:
    body = json.dumps({"newNonce": "https://ca.example/nonce", "renewalInfo": "https://ca.example/renewal-info"})
    base = renewal_info_base("https://ca.example/dir", body.encode())
    assert base == "https://ca.example/renewal-info"
    assert renewal_info_url(base, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE") == (
        "https://ca.example/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
    )
    assert renewal_info_url("https://ca.example/ri/", "a.b") == "https://ca.example/ri/a.b"


@pytest.mark.parametrize(
    ("body", "why", "detail"),
    [
        (b'{"newNonce": "https://ca.example/nonce"}', Failure.NO_ARI, ""),
        (
            b'{"renewalInfo": "http://ca.example/ri"}',
            Failure.INVALID,
            "renewalInfo is not an https URL: http://ca.example/ri",
        ),
        (b'{"renewalInfo": 7}', Failure.INVALID, "renewalInfo is not an https URL: int"),
        (b"[1, 2]", Failure.INVALID, "not a JSON object"),
        (b"<html>", Failure.INVALID, "not JSON (Expecting value: line 1 column 1 (char 0))"),
        (b"\xff{}", Failure.INVALID, "not UTF-8 JSON (byte 0)"),
    ],
)
def test_a_directory_without_a_usable_renewal_info_says_why(body: bytes, why: Failure, detail: str) -> None:
    assert renewal_info_base("https://ca.example/dir", body) == Unavailable(
        Where.DIRECTORY, "https://ca.example/dir", why, detail
    )


def info(start: str, end: str, **more: object) -> bytes:
    return json.dumps({"suggestedWindow": {"start": start, "end": end}, **more}).encode()


def test_the_rfc_example_renewal_info_is_read() -> None:
    body = info("2025-01-02T04:00:00Z", "2025-01-03T04:00:00Z", explanationURL="https://acme.example.com/docs/ari")
    window = Window(
        datetime(2025, 1, 2, 4, tzinfo=UTC), datetime(2025, 1, 3, 4, tzinfo=UTC), "https://acme.example.com/docs/ari"
    )
    assert parse_renewal_info(INFO_URL, body) == Answered(INFO_URL, window)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            info("2025-01-03T04:00:00Z", "2025-01-02T04:00:00Z"),
            "suggestedWindow end 2025-01-02 04:00 UTC is not after its start 2025-01-03 04:00 UTC",
        ),
        (
            info("2025-01-02T04:00:00Z", "2025-01-02T04:00:00Z"),
            "suggestedWindow end 2025-01-02 04:00 UTC is not after its start 2025-01-02 04:00 UTC",
        ),
        (info("2025-01-02", "2025-01-03T04:00:00Z"), "suggestedWindow start is not an RFC 3339 time: 2025-01-02"),
        (
            info("2025-01-02T04:00:00", "2025-01-03T04:00:00Z"),
            "suggestedWindow start is not an RFC 3339 time: 2025-01-02T04:00:00",
        ),
        (json.dumps({"suggestedWindow": {"start": "2025-01-02T04:00:00Z"}}).encode(), "suggestedWindow end is missing"),
        (json.dumps({"suggestedWindow": ["2025"]}).encode(), "no suggestedWindow object"),
        (json.dumps({"explanationURL": "https://x"}).encode(), "no suggestedWindow object"),
        (b"null", "not a JSON object"),
        (b"[" * 50000 + b"]" * 50000, "not JSON (nested too deeply)"),
        (b'{"suggestedWindow": {"start": 1e999999}}', "suggestedWindow start is not an RFC 3339 time: inf"),
    ],
)
def test_an_invalid_renewal_info_is_no_answer(body: bytes, detail: str) -> None:
    """RFC 9773 section 4.2: an end that does not follow the start makes the object invalid, as no answer."""
    assert parse_renewal_info(INFO_URL, body) == Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.INVALID, detail)


def test_an_explanation_that_is_not_a_web_url_is_left_out() -> None:
    for explanation in ("javascript:alert(1)", 42, None):
        answer = parse_renewal_info(
            INFO_URL, info("2025-01-02T04:00:00Z", "2025-01-03T04:00:00Z", explanationURL=explanation)
        )
        assert isinstance(answer, Answered) and answer.window.explanation == ""
    hostile = "https://x.example/|\nCRITICAL"
    answer = parse_renewal_info(INFO_URL, info("2025-01-02T04:00:00Z", "2025-01-03T04:00:00Z", explanationURL=hostile))
    assert isinstance(answer, Answered) and answer.window.explanation == "https://x.example/\\x7c\\x0aCRITICAL"


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2025-01-02T04:00:00Z", datetime(2025, 1, 2, 4, tzinfo=UTC)),
        ("2025-01-02t04:00:00z", datetime(2025, 1, 2, 4, tzinfo=UTC)),
        ("2025-01-02T04:00:00.870834839Z", datetime(2025, 1, 2, 4, 0, 0, 870834, tzinfo=UTC)),
        ("2025-01-02T05:30:00+01:30", datetime(2025, 1, 2, 4, tzinfo=UTC)),
        ("2025-01-02T02:00:00-02:00", datetime(2025, 1, 2, 4, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("2025-02-30T04:00:00Z", None),
        ("2025-01-02T04:00Z", None),
        ("2025-01-02T04:00:00", None),
        ("2025-01-02T04:00:00+0100", None),
        ("٢٠٢٥-01-02T04:00:00Z", None),
        ("", None),
        (20250102, None),
    ],
)
def test_times_are_rfc_3339_with_a_zone(text: object, moment: datetime | None) -> None:
    assert parse_time(text) == moment


@pytest.mark.parametrize(
    ("url", "usable"),
    [
        ("https://acme-v02.api.letsencrypt.org/directory", True),
        ("https://127.0.0.1:14000/dir", True),
        ("http://acme.example/directory", False),
        ("https:///directory", False),
        ("https://acme.example:99999/directory", False),
        ("https://acme.example/a b", False),
        ("acme.example/directory", False),
    ],
)
def test_only_an_https_url_names_a_directory(url: str, usable: bool) -> None:
    assert https_url(url) is usable


# --- the judgement and its words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (WINDOW.start - timedelta(seconds=1), Severity.OK),
        (WINDOW.start, Severity.WARNING),
        (WINDOW.end - timedelta(seconds=1), Severity.WARNING),
        (WINDOW.end, Severity.CRITICAL),
        (WINDOW.end + timedelta(days=30), Severity.CRITICAL),
    ],
)
def test_before_the_window_ok_inside_warning_after_critical(now: datetime, state: Severity) -> None:
    assert severity(Answered(INFO_URL, WINDOW), now) is state


def test_no_usable_answer_is_a_warning_and_an_expired_certificate_is_not_asked() -> None:
    assert severity(Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.TIMEOUT, "slow"), T0) is Severity.WARNING
    assert severity(Unasked(NotAsked.NO_DIRECTORY, "Example CA"), T0) is Severity.WARNING
    assert severity(Unasked(NotAsked.NO_CERT_ID), T0) is Severity.WARNING
    assert severity(Unasked(NotAsked.EXPIRED), T0) is Severity.OK  # the expiry check says it


def test_the_words_of_each_state() -> None:
    answer = Answered(INFO_URL, WINDOW)
    assert describe(answer, "the certificate", T0) == (
        "the CA suggests renewing the certificate from 2026-12-09 12:00 UTC to 2026-12-11 12:00 UTC (ARI), in "
        "10.0 days (see https://ca.example/why)"
    )
    assert describe(answer, "the RSA certificate", WINDOW.start + timedelta(hours=1)) == (
        "the CA suggests renewing the RSA certificate now: its renewal window (ARI) opened 2026-12-09 12:00 UTC "
        "and closes 2026-12-11 12:00 UTC (see https://ca.example/why)"
    )
    assert describe(answer._replace(window=WINDOW._replace(explanation="")), "the certificate", WINDOW.end) == (
        "the server still serves the certificate past the renewal window its CA suggests (ARI), which closed "
        "2026-12-11 12:00 UTC: renew and reload now"
    )


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            Unavailable(Where.DIRECTORY, "https://ca.example/dir", Failure.NO_ARI, ""),
            "the ACME directory https://ca.example/dir has no renewalInfo (the CA does not offer ARI)",
        ),
        (
            Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.HTTP_STATUS, "404 Not Found", 404),
            f"the renewalInfo {INFO_URL} answered HTTP 404 Not Found",
        ),
        (
            Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.REDIRECT, "redirects to https://x/", 301),
            f"the renewalInfo {INFO_URL} redirects to https://x/ (not followed)",
        ),
        (
            Unavailable(
                Where.DIRECTORY, "https://ca.example/dir", Failure.UNREACHABLE, "connection refused (192.0.2.1:443)"
            ),
            "the ACME directory https://ca.example/dir is unreachable: connection refused (192.0.2.1:443)",
        ),
        (
            Unavailable(
                Where.DIRECTORY, "https://ca.example/dir", Failure.CERTIFICATE, "expired (certificate has expired)"
            ),
            "the ACME directory https://ca.example/dir has an HTTPS certificate that fails verification: expired "
            "(certificate has expired)",
        ),
    ],
)
def test_no_usable_answer_names_the_url_and_why(answer: Unavailable, words: str) -> None:
    assert describe(answer, "the certificate", T0) == f"renewal window (ARI) of the certificate not checked: {words}"


def test_the_words_when_nothing_was_asked() -> None:
    assert describe(Unasked(NotAsked.NO_DIRECTORY, "R11"), "the certificate", T0) == (
        "renewal window (ARI) of the certificate not checked: no ACME directory is known for its issuer R11: give "
        "--acme-directory"
    )
    assert describe(Unasked(NotAsked.NO_CERT_ID), "the certificate", T0) == (
        "renewal window (ARI) of the certificate not checked: it has no authority key identifier, by which ARI "
        "names a certificate"
    )
    assert describe(Unasked(NotAsked.EXPIRED), "the certificate", T0) == (
        "renewal window (ARI) of the certificate not asked: it has expired"
    )


def test_the_long_output_says_whether_the_cache_answered_and_until_when() -> None:
    answer = Answered(INFO_URL, WINDOW)
    asked, until = T0 - timedelta(hours=1), T0 + timedelta(hours=5)
    cached = served_line(AriOutcome(answer, asked, until, cached=True), "the certificate", T0)
    assert cached.endswith("(cached answer of 2026-11-29 11:00 UTC, valid until 2026-11-29 17:00 UTC)")
    fresh = served_line(AriOutcome(answer, T0, until), "the certificate", T0)
    assert fresh.endswith("(asked now, cached until 2026-11-29 17:00 UTC)")
    unwritten = served_line(
        AriOutcome(answer, T0, until, note="not cached: No space left on device"), "the certificate", T0
    )
    assert unwritten.endswith("(asked now, not cached: No space left on device)")


# --- when to ask again (RFC 9773 section 4.3) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "delay"),
    [
        ("21600", timedelta(hours=6)),
        (" 60 ", timedelta(minutes=1)),
        ("0", timedelta(0)),
        ("Sun, 29 Nov 2026 14:00:00 GMT", timedelta(hours=2)),
        ("Sun, 29 Nov 2026 10:00:00 GMT", timedelta(0)),
        ("99999999999999999999", timedelta(days=1)),
        ("", None),
        ("-5", None),
        ("soon", None),
        ("6h", None),
        ("١٢", None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(header: str, delay: timedelta | None) -> None:
    assert retry_after(header, T0) == delay


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("21600", timedelta(hours=6)),
        ("1", timedelta(minutes=1)),  # under a minute: a minute
        (str(30 * 86400), timedelta(days=1)),  # over a day: a day
        ("", LONG_TERM),  # none: as after a long-term error, six hours
        ("garbage", LONG_TERM),
    ],
)
def test_an_answer_is_kept_as_long_as_retry_after_says_within_a_minute_and_a_day(header: str, wait: timedelta) -> None:
    assert next_ask(Answered(INFO_URL, WINDOW), header, 3, T0) == (T0 + wait, 0)


def test_temporary_errors_back_off_then_count_as_long_term() -> None:
    """Section 4.3.3: 5xx and timeouts back off exponentially for a few tries; then six hours."""
    error = Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.HTTP_STATUS, "500", 500)
    waits = []
    failures = 0
    for _ in range(8):
        at, failures = next_ask(error, "", failures, T0)
        waits.append(int((at - T0).total_seconds() / 60))
    assert waits == [1, 2, 4, 8, 16, 32, 360, 1]
    timeout = Unavailable(Where.DIRECTORY, "https://ca.example/dir", Failure.TIMEOUT, "slow")
    assert next_ask(timeout, "", 0, T0) == (T0 + timedelta(minutes=1), 1)
    busy = Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.HTTP_STATUS, "429", 429)
    assert next_ask(busy, "120", 0, T0) == (T0 + timedelta(minutes=2), 1)


@pytest.mark.parametrize(
    "error",
    [
        Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.HTTP_STATUS, "404 Not Found", 404),
        Unavailable(Where.DIRECTORY, "https://ca.example/dir", Failure.NO_ARI, ""),
        Unavailable(Where.DIRECTORY, "https://ca.example/dir", Failure.UNREACHABLE, "connection refused"),
        Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.INVALID, "not JSON"),
        Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.REDIRECT, "redirects to x", 302),
    ],
)
def test_long_term_errors_wait_six_hours(error: Unavailable) -> None:
    assert next_ask(error, "", 2, T0) == (T0 + LONG_TERM, 0)
    assert next_ask(error, "60", 0, T0) == (T0 + LONG_TERM, 0)  # no sooner than six hours
    assert next_ask(error, str(12 * 3600), 0, T0) == (T0 + timedelta(hours=12), 0)


# --- the state directory ------------------------------------------------------------------------------


def entry(until: timedelta = timedelta(hours=6), answer: Answered | Unavailable | None = None) -> cache.Entry:
    return cache.Entry(answer or Answered(INFO_URL, WINDOW), T0, T0 + until, 0)


def opened(tmp_path: Path) -> cache.StateDir:
    state = cache.open_state_dir(str(tmp_path / "s"), "s")
    assert cache.prepared(state) == ""
    return state


def test_the_state_directory_is_created_0700_whatever_the_umask_when_first_needed(tmp_path: Path) -> None:
    path = tmp_path / "state"
    state = cache.open_state_dir(str(path), "--state-dir x")
    assert not path.exists()  # reading the options creates nothing
    old = os.umask(0o277)  # would leave the owner without write
    try:
        assert cache.prepared(state) == ""
    finally:
        os.umask(old)
    info = path.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.geteuid() == state.uid
    assert cache.open_state_dir(str(path), "--state-dir x") == state  # an existing one is taken as it is
    assert cache.prepared(state) == ""


def test_a_state_directory_spoiled_after_the_options_were_read_keeps_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state"
    state = cache.open_state_dir(str(path), "--state-dir x")
    path.write_text("")
    assert cache.prepared(state) == "the state directory is not a directory"
    path.unlink()
    path.mkdir(mode=0o777)
    path.chmod(0o777)
    assert cache.prepared(state) == "the state directory can be written by other users (mode 0777): make it 0700"


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("file", "--state-dir S is not a directory"),
        ("link", "--state-dir S is a symbolic link: give the directory it points to"),
        ("world", "--state-dir S can be written by other users (mode 0777): make it 0700"),
        ("group", "--state-dir S can be written by other users (mode 0770): make it 0700"),
        ("missing parent", "--state-dir S cannot be created: TMP/absent is not a directory"),
        ("empty", "--state-dir S: not a directory name"),
        ("nul", "--state-dir S: not a directory name"),
    ],
)
def test_an_unusable_state_directory_is_refused_saying_why(tmp_path: Path, setup: str, words: str) -> None:
    path = tmp_path / "state"
    if setup == "file":
        path.write_text("x")
    elif setup == "link":
        (tmp_path / "real").mkdir(mode=0o700)
        path.symlink_to(tmp_path / "real")
    elif setup in ("world", "group"):
        path.mkdir()
        path.chmod(0o777 if setup == "world" else 0o770)
    elif setup == "missing parent":
        path = tmp_path / "absent" / "state"
    with pytest.raises(UsageError) as raised:
        cache.open_state_dir({"empty": "", "nul": "state\0x"}.get(setup, str(path)), "--state-dir S")
    assert str(raised.value) == words.replace("TMP", str(tmp_path))


def _as_root() -> None:
    """Changing a file's owner needs root: skipped elsewhere, but CI runs as root and must run it."""
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI=true runs the suite as root: this test changes a file's owner")
        pytest.skip("changing a file's owner needs root")


def test_a_state_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    _as_root()
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    os.chown(path, 65534, 65534)
    with pytest.raises(UsageError) as raised:
        cache.open_state_dir(str(path), "--state-dir S")
    assert str(raised.value).startswith("--state-dir S belongs to ")
    assert str(raised.value).endswith(", not to root who runs the check: give each user its own --state-dir")


def test_entries_round_trip_and_are_written_atomically_0600(tmp_path: Path) -> None:
    state = opened(tmp_path)
    failure = Unavailable(Where.RENEWAL_INFO, INFO_URL, Failure.HTTP_STATUS, "503 Busy", 503)
    for directory, identifier, kept in (
        ("https://ca.example/dir", "abc.AQ", entry()),
        ("https://ca.example/dir", "abc.Ag", cache.Entry(failure, T0, T0 + timedelta(minutes=4), 3)),
    ):
        assert cache.write_entry(state, directory, identifier, kept) == ""
        assert cache.read_entry(state, directory, identifier, T0) == kept
    names = sorted(os.listdir(state.path))
    assert len(names) == 2 and all(n.startswith("ari-") and n.endswith(".json") for n in names)  # no temporary left
    assert all(stat.S_IMODE(os.stat(os.path.join(state.path, n)).st_mode) == 0o600 for n in names)
    assert cache.read_entry(state, "https://other.example/dir", "abc.AQ", T0) is None  # another CA's
    assert cache.read_entry(state, "https://ca.example/dir", "abc.Aw", T0) is None  # another certificate's


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{",
        b"\xff\xfe",
        b"[]",
        b'{"version": 2}',
        b"x" * (cache.MAX_ENTRY_BYTES + 10),
        b"[" * 20000,
        "wrong certificate",
        "times out of bounds",
        "inverted window",
        "unknown failure",
    ],
)
def test_a_corrupt_entry_is_ignored_and_replaced(tmp_path: Path, damage: bytes | str) -> None:
    state = opened(tmp_path)
    path = Path(cache.entry_path(state, "https://ca.example/dir", "abc.AQ"))
    good = json.loads(cache._encode(entry(), "https://ca.example/dir", "abc.AQ"))
    if damage == "wrong certificate":
        good["cert_id"] = "abc.Ag"
    elif damage == "times out of bounds":
        good["until"] = good["asked"] + 30 * 86400
    elif damage == "inverted window":
        good["answer"]["start"], good["answer"]["end"] = good["answer"]["end"], good["answer"]["start"]
    elif damage == "unknown failure":
        good["answer"] = {
            "kind": "unavailable",
            "where": "DIRECTORY",
            "url": "u",
            "why": "BOGUS",
            "detail": "",
            "status": 0,
        }
    data = damage if isinstance(damage, bytes) else json.dumps(good).encode()
    path.write_bytes(data)
    assert cache.read_entry(state, "https://ca.example/dir", "abc.AQ", T0) is None
    assert cache.write_entry(state, "https://ca.example/dir", "abc.AQ", entry()) == ""
    assert cache.read_entry(state, "https://ca.example/dir", "abc.AQ", T0) == entry()


def test_an_entry_that_is_not_a_regular_file_is_ignored_without_hanging(tmp_path: Path) -> None:
    state = opened(tmp_path)
    path = cache.entry_path(state, "https://ca.example/dir", "abc.AQ")
    os.mkfifo(path)  # a reader would block on a FIFO opened without O_NONBLOCK
    assert cache.read_entry(state, "https://ca.example/dir", "abc.AQ", T0) is None
    os.unlink(path)
    target = tmp_path / "elsewhere.json"
    target.write_bytes(cache._encode(entry(), "https://ca.example/dir", "abc.AQ"))
    os.symlink(target, path)  # a link to a valid entry is not followed
    assert cache.read_entry(state, "https://ca.example/dir", "abc.AQ", T0) is None
    assert cache.write_entry(state, "https://ca.example/dir", "abc.AQ", entry()) == ""
    assert not os.path.islink(path) and cache.read_entry(state, "https://ca.example/dir", "abc.AQ", T0) == entry()


def test_an_entry_of_another_user_is_ignored_and_replaced(tmp_path: Path) -> None:
    _as_root()
    state = opened(tmp_path)
    assert cache.write_entry(state, "https://ca.example/dir", "abc.AQ", entry()) == ""
    path = cache.entry_path(state, "https://ca.example/dir", "abc.AQ")
    os.chown(path, 65534, 65534)
    assert cache.read_entry(state, "https://ca.example/dir", "abc.AQ", T0) is None
    assert cache.write_entry(state, "https://ca.example/dir", "abc.AQ", entry()) == ""
    assert os.stat(path).st_uid == os.geteuid()
    assert cache.read_entry(state, "https://ca.example/dir", "abc.AQ", T0) == entry()


def test_an_entry_from_a_clock_far_ahead_is_ignored(tmp_path: Path) -> None:
    state = opened(tmp_path)
    ahead = cache.Entry(Answered(INFO_URL, WINDOW), T0 + timedelta(hours=1), T0 + timedelta(hours=7))
    assert cache.write_entry(state, "https://ca.example/dir", "abc.AQ", ahead) == ""
    assert cache.read_entry(state, "https://ca.example/dir", "abc.AQ", T0) is None
    assert cache.read_entry(state, "https://ca.example/dir", "abc.AQ", T0 + timedelta(hours=1)) == ahead


def test_a_failed_write_says_why(tmp_path: Path) -> None:
    state = cache.StateDir(str(tmp_path / "gone"), os.geteuid())  # removed after it was opened
    assert cache.write_entry(state, "https://ca.example/dir", "abc.AQ", entry()) == "No such file or directory"


def test_old_entries_and_leftovers_are_pruned_at_most_once_a_day(tmp_path: Path) -> None:
    state = opened(tmp_path)
    for identifier in ("old.AQ", "fresh.AQ"):
        assert cache.write_entry(state, "https://ca.example/dir", identifier, entry()) == ""
    old = cache.entry_path(state, "https://ca.example/dir", "old.AQ")
    leftover = os.path.join(state.path, ".ari-x1y2.tmp")
    stranger = os.path.join(state.path, "notes.txt")
    now = datetime.now(UTC)
    week_ago = (now - timedelta(days=8)).timestamp()
    for path in (leftover, stranger):
        Path(path).write_text("x")
    for path in (old, leftover, stranger):
        os.utime(path, (week_ago, week_ago))
    cache.prune(state, now)
    assert not os.path.exists(old) and not os.path.exists(leftover)
    assert os.path.exists(stranger)  # not ours to remove
    assert os.path.exists(cache.entry_path(state, "https://ca.example/dir", "fresh.AQ"))
    Path(leftover).write_text("x")
    os.utime(leftover, (week_ago, week_ago))
    cache.prune(state, now + timedelta(hours=23))  # pruned less than a day ago: not again
    assert os.path.exists(leftover)
    cache.prune(state, now + timedelta(hours=25))
    assert not os.path.exists(leftover)


# --- the options --------------------------------------------------------------------------------------


def test_ari_configures_from_its_options(tmp_path: Path) -> None:
    state = tmp_path / "state"
    options = parse(["-H", "mx.example.org", "-P", "smtp", "--ari", "--state-dir", str(state)])
    (ari,) = [extra for extra in options.extras if extra.name == "ari"]
    assert ari.directory is None and ari.state.path == str(state)  # type: ignore[attr-defined]
    assert not state.exists()  # made when the first answer is kept
    url = "https://acme-staging-v02.api.letsencrypt.org/directory"
    options = parse(["-H", "mx.example.org", "-P", "smtp", "--ari", "--acme-directory", url, "--state-dir", str(state)])
    assert [extra.directory for extra in options.extras if extra.name == "ari"] == [url]  # type: ignore[attr-defined]
    assert not [extra for extra in parse(["-H", "mx.example.org", "-P", "smtp"]).extras if extra.name == "ari"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--acme-directory", "https://acme.example/dir"], "--acme-directory is for --ari: add --ari"),
        (
            ["--ari", "--acme-directory", "http://acme.example/dir"],
            "--acme-directory http://acme.example/dir: not an https URL (ACME is HTTPS only)",
        ),
        (
            ["--ari", "--acme-directory", "acme.example"],
            "--acme-directory acme.example: not an https URL (ACME is HTTPS only)",
        ),
    ],
)
def test_bad_ari_options_are_usage_errors(tmp_path: Path, argv: list[str], words: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(["-H", "mx.example.org", "-P", "smtp", "--state-dir", str(tmp_path), *argv])
    assert str(raised.value) == words


def test_base64url_of_the_rfc_example_parts() -> None:
    """The two steps of section 4.1, by hand: padding '=' stripped from each part."""
    aki = bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
    assert base64.urlsafe_b64encode(aki).decode() == "aYhba4dGQEHhs3uEe6CuLN4ByNQ="
    assert base64.urlsafe_b64encode(bytes.fromhex("0087654321")).decode() == "AIdlQyE="
