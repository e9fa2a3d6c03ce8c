"""--expect-cert and --require-name without a server: the certificate on disk against the served one, the names kept."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from pki import Pki

from check_tls_mail.checks.renewal.judge import (
    Different,
    ExpectCertError,
    FileNewer,
    NamesCovered,
    NamesMissing,
    Same,
    ServedNewer,
    check_required_name,
    compare,
    describe,
    load_all,
    load_expected,
    required_names,
    severity,
)
from check_tls_mail.errors import UsageError
from check_tls_mail.severity import Severity
from check_tls_mail.x509.certificate import Certificate
from check_tls_mail.x509.files import FileProblem
from check_tls_mail.x509.parse import read


def facts(issued: object) -> Certificate:
    return read(issued.cert.public_bytes(Encoding.DER))  # type: ignore[attr-defined]


def written(pki: Pki, stem: str, **leaf: object) -> tuple[str, object]:
    issued = pki.leaf(**leaf)  # type: ignore[arg-type]
    chain, _key = issued.write(pki.directory, stem)
    return chain, issued


def test_first_certificate_of_a_chain_file_is_expected(pki: Pki) -> None:
    path, issued = written(pki, "expect-chain")
    expected = load_expected(path)
    assert expected.facts.fingerprint == facts(issued).fingerprint
    assert expected.facts.fingerprint != facts(pki.intermediate).fingerprint


def test_key_and_chain_in_one_file_and_der_files_are_read(pki: Pki, tmp_path: Path) -> None:
    issued = pki.leaf()
    combined = tmp_path / "courier.pem"
    combined.write_bytes(issued.key_pem + issued.chain_pem())
    der_file = tmp_path / "leaf.der"
    der_file.write_bytes(issued.cert.public_bytes(Encoding.DER))
    found = load_all([str(combined), str(der_file)])
    assert {e.facts.fingerprint for e in found} == {facts(issued).fingerprint}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, FileProblem.MISSING),
        ("directory", FileProblem.UNREADABLE),
        (b"", FileProblem.NO_CERTIFICATE),
        (b"key", FileProblem.NO_CERTIFICATE),
        (b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", FileProblem.INVALID),
        (b"\x00" * 100, FileProblem.INVALID),
        (b"#" * (1024 * 1024 + 1), FileProblem.TOO_LARGE),
    ],
)
def test_unusable_file_is_a_usage_error(pki: Pki, tmp_path: Path, content: object, problem: FileProblem) -> None:
    path = tmp_path / "cert.pem"
    if content == "directory":
        path.mkdir()
    elif content == b"key":
        path.write_bytes(pki.leaf().key_pem)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(ExpectCertError) as caught:
        load_expected(str(path))
    assert caught.value.problem is problem
    assert isinstance(caught.value, UsageError)  # the CLI exits UNKNOWN for these
    assert str(caught.value).startswith(f"--expect-cert {path}: {problem.value}")


def test_served_certificate_in_the_file_is_the_same(pki: Pki) -> None:
    path, issued = written(pki, "same")
    result = compare(facts(issued), load_all([path]))
    assert result == Same(path)
    assert severity(result) is Severity.OK


def test_renewed_file_not_served_says_reload(pki: Pki) -> None:
    served = pki.leaf(days_left=10)
    path, renewed = written(pki, "renewed", days_left=90)
    result = compare(facts(served), load_all([path]))
    assert result == FileNewer(facts(served).not_after, facts(renewed).not_after, path)
    assert severity(result) is Severity.WARNING
    assert describe(result) == (
        f"the server still serves the certificate valid until {facts(served).not_after:%Y-%m-%d}, while {path} "
        f"holds the renewed one (until {facts(renewed).not_after:%Y-%m-%d}): reload the service"
    )


def test_file_older_than_the_served_certificate_names_both(pki: Pki) -> None:
    served = pki.leaf(days_left=90)
    path, old = written(pki, "stale-copy", days_left=10)
    result = compare(facts(served), load_all([path]))
    assert result == ServedNewer(facts(served).not_after, facts(old).not_after, path)
    assert severity(result) is Severity.WARNING
    assert describe(result, "the RSA certificate") == (
        f"the server serves the RSA certificate valid until {facts(served).not_after:%Y-%m-%d}, newer than the one in "
        f"{path} (until {facts(old).not_after:%Y-%m-%d}): is that the file the service uses?"
    )


def test_another_certificate_with_the_same_dates_is_different(pki: Pki) -> None:
    served = pki.leaf(days_left=50)
    path, _other = written(pki, "same-dates", days_left=50)  # same dates, another serial
    result = compare(facts(served), load_all([path]))
    assert isinstance(result, Different) and result.path == path
    assert severity(result) is Severity.WARNING


def test_dual_certificates_are_paired_by_key_type(pki: Pki) -> None:
    ecdsa_path, ecdsa = written(pki, "dual-ecdsa", key_type="ECDSA", days_left=80)
    rsa_path, rsa_new = written(pki, "dual-rsa", key_type="RSA", days_left=85)
    old_rsa = pki.leaf(key_type="RSA", days_left=5)
    expected = load_all([ecdsa_path, rsa_path])
    assert compare(facts(ecdsa), expected) == Same(ecdsa_path)
    assert compare(facts(old_rsa), expected) == FileNewer(facts(old_rsa).not_after, facts(rsa_new).not_after, rsa_path)


def test_compare_needs_a_file() -> None:
    with pytest.raises(ValueError):
        compare(None, [])  # type: ignore[arg-type]


def test_every_required_name_covered_is_ok(pki: Pki) -> None:
    leaf = facts(pki.leaf(names=("mail.example.test", "*.example.test", "192.0.2.7")))
    result = required_names(leaf, ["imap.example.test", "MAIL.example.test.", "192.0.2.7"])
    assert result == NamesCovered(("imap.example.test", "MAIL.example.test.", "192.0.2.7"))
    assert severity(result) is Severity.OK


def test_renewal_that_dropped_a_name_is_critical(pki: Pki) -> None:
    leaf = facts(pki.leaf(names=("mail.example.test", "*.mx.example.test")))
    result = required_names(leaf, ["mail.example.test", "imap.example.test", "a.b.mx.example.test", "mx.example.test"])
    assert result == NamesMissing(
        "mail.example.test, *.mx.example.test", ("imap.example.test", "a.b.mx.example.test", "mx.example.test")
    )
    assert severity(result) is Severity.CRITICAL
    assert describe(result, "the ECDSA certificate") == (
        "the ECDSA certificate (for mail.example.test, *.mx.example.test) does not cover imap.example.test, "
        "a.b.mx.example.test, mx.example.test: clients that use those names fail"
    )


@pytest.mark.parametrize("good", ["imap.example.org", "*.example.org", "192.0.2.1", "2001:db8::1", "bücher.example"])
def test_required_name_values_are_host_names_or_addresses(good: str) -> None:
    assert check_required_name(good) == good


@pytest.mark.parametrize("bad", ["", "a..b", "imap example.org", "-x.example.org", "x|y", "*.*.example.org"])
def test_other_required_name_values_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError):
        check_required_name(bad)


def test_dates_in_words_are_days() -> None:
    result = FileNewer(datetime(2026, 12, 1, 8), datetime(2027, 2, 28, 23), "/etc/letsencrypt/live/mail/fullchain.pem")
    assert describe(result) == (
        "the server still serves the certificate valid until 2026-12-01, while "
        "/etc/letsencrypt/live/mail/fullchain.pem holds the renewed one (until 2027-02-28): reload the service"
    )
