"""--expect-cert and --require-name: the served certificate against the file on disk, and the names it keeps.

The last tests run a real Postfix whose certificate file is replaced without
a reload: openssl s_client shows the old certificate until `postfix reload`.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fakeserver import TlsConfig
from lines import assert_line, day, utcnow, validity
from pki import Pki
from realservers import Credentials, RenewablePostfix
from runs import Run, args_for, check, require, serving

from check_tls_mail.checks.renewal.judge import (
    CertFileProblem,
    Different,
    ExpectCertError,
    ExpectedCertificate,
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
from check_tls_mail.x509.parse import read


def facts(issued: object) -> Certificate:
    return read(issued.cert.public_bytes(Encoding.DER))  # type: ignore[attr-defined]


def written(pki: Pki, stem: str, **leaf: object) -> tuple[str, object]:
    issued = pki.leaf(**leaf)  # type: ignore[arg-type]
    chain, _key = issued.write(pki.directory, stem)
    return chain, issued


# --- reading the files --------------------------------------------------------------------------


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
        (None, CertFileProblem.MISSING),
        ("directory", CertFileProblem.UNREADABLE),
        (b"", CertFileProblem.NO_CERTIFICATE),
        (b"key", CertFileProblem.NO_CERTIFICATE),
        (b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", CertFileProblem.INVALID),
        (b"\x00" * 100, CertFileProblem.INVALID),
        (b"#" * (1024 * 1024 + 1), CertFileProblem.TOO_LARGE),
    ],
)
def test_unusable_file_is_a_usage_error(pki: Pki, tmp_path: Path, content: object, problem: CertFileProblem) -> None:
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


# --- served against the file ------------------------------------------------------------------------


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
        f"the server still serves the certificate valid until {facts(served).not_after:%Y-%m-%d}; {path} holds the "
        f"renewed one (until {facts(renewed).not_after:%Y-%m-%d}): reload the service"
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


# --- required names -----------------------------------------------------------------------------------


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


# --- a real Postfix, renewed on disk and not reloaded -------------------------------------------------------


def served_leaf(port: int) -> x509.Certificate:
    """The leaf Postfix serves, as openssl s_client sees it."""
    result = subprocess.run(
        [
            "openssl",
            "s_client",
            "-starttls",
            "smtp",
            "-connect",
            f"127.0.0.1:{port}",
            "-servername",
            "mail.example.test",
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    found = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", result.stdout, re.S)
    assert found, result.stdout + result.stderr
    return x509.load_pem_x509_certificate(found.group().encode())


@pytest.fixture(scope="module")
def renewable(creds: Credentials) -> Iterator[RenewablePostfix]:
    require("postfix", "openssl")
    instance = RenewablePostfix(creds)
    instance.start()
    yield instance
    instance.stop()


def test_postfix_serves_the_old_certificate_until_reloaded(renewable: RenewablePostfix, creds: Credentials) -> None:
    port = renewable.ports[RenewablePostfix.LISTENER]
    before = served_leaf(port)  # starts the one smtpd process, which loads the file now
    expected = [ExpectedCertificate(str(renewable.chain_file), load_expected(str(renewable.chain_file)).facts)]
    assert compare(read(before.public_bytes(Encoding.DER)), expected) == Same(str(renewable.chain_file))

    renewed = creds.pki.leaf(key_type="ECDSA", days_left=150)
    renewable.replace_certificate(renewed.chain_pem(), renewed.key_pem)
    on_disk = load_expected(str(renewable.chain_file))
    still = served_leaf(port)
    assert still == before  # the file changed; the server did not
    verdict = compare(read(still.public_bytes(Encoding.DER)), [on_disk])
    assert verdict == FileNewer(before.not_valid_after_utc, renewed.cert.not_valid_after_utc, str(renewable.chain_file))
    assert describe(verdict).endswith("reload the service")

    renewable.reload()
    deadline = time.monotonic() + 15
    after = served_leaf(port)
    while after == before and time.monotonic() < deadline:  # the old smtpd exits once the master says so
        time.sleep(0.2)
        after = served_leaf(port)
    assert after == renewed.cert, renewable.logs()
    assert compare(read(after.public_bytes(Encoding.DER)), [on_disk]) == Same(str(renewable.chain_file))


def test_dates_in_words_are_days() -> None:
    result = FileNewer(datetime(2026, 12, 1, 8), datetime(2027, 2, 28, 23), "/etc/letsencrypt/live/mail/fullchain.pem")
    assert describe(result) == (
        "the server still serves the certificate valid until 2026-12-01; /etc/letsencrypt/live/mail/fullchain.pem "
        "holds the renewed one (until 2027-02-28): reload the service"
    )


# --- through the CLI: whole first lines -----------------------------------------------------------------


def wait_until_served(port: int, wanted: x509.Certificate, seconds: float = 15) -> x509.Certificate:
    """The leaf Postfix serves once it serves ``wanted`` (or when the time is up)."""
    deadline = time.monotonic() + seconds
    now = served_leaf(port)
    while now != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        now = served_leaf(port)
    return now


def test_cli_warns_until_postfix_is_reloaded_after_a_renewal(renewable: RenewablePostfix, creds: Credentials) -> None:
    port = renewable.ports[RenewablePostfix.LISTENER]
    chain_file = str(renewable.chain_file)
    args = ["-H", "127.0.0.1", "--servername", "mail.example.test", "-p", str(port), "-P", "smtp"]
    args += ["--ca-file", creds.ca_file, "--client", "none", "--expect-cert", chain_file]

    def ok(leaf: x509.Certificate) -> Callable[[datetime], str]:
        def line(now: datetime) -> str:
            words, perf = validity(leaf, now)
            return (
                f"TLS_MAIL OK - 127.0.0.1:{port} smtp STARTTLS, TLS 1.3, {words}, serves the certificate of "
                f"--expect-cert | days_remaining={perf} handshake_time=Ts;;;0"
            )

        return line

    # A known start, whatever an earlier test left: a current certificate, loaded by a reload.
    first = creds.pki.leaf(key_type="ECDSA", days_left=60)
    renewable.replace_certificate(first.chain_pem(), first.key_pem)
    renewable.reload()
    assert wait_until_served(port, first.cert) == first.cert, renewable.logs()
    started = utcnow()
    assert_line(check(*args), ok(first.cert), started)

    renewed = creds.pki.leaf(key_type="ECDSA", days_left=85)
    renewable.replace_certificate(renewed.chain_pem(), renewed.key_pem)  # the ACME client renewed; nobody reloaded
    assert served_leaf(port) == first.cert  # openssl s_client: still the old one

    def stale(now: datetime) -> str:
        words, perf = validity(first.cert, now)
        return (
            f"TLS_MAIL WARNING - 127.0.0.1:{port} smtp: the server still serves the certificate valid until "
            f"{day(first.cert)}; {chain_file} holds the renewed one (until {day(renewed.cert)}): reload the service; "
            f"{words} | days_remaining={perf} handshake_time=Ts;;;0"
        )

    started = utcnow()
    warned = check(*args)
    assert warned.code == 1
    assert_line(warned, stale, started)

    renewable.reload()
    assert wait_until_served(port, renewed.cert) == renewed.cert, renewable.logs()
    started = utcnow()
    reloaded = check(*args)
    assert reloaded.code == 0
    assert_line(reloaded, ok(renewed.cert), started)


def test_cli_unusable_expect_cert_file_is_a_usage_error(pki: Pki, tmp_path: Path) -> None:
    key_only = tmp_path / "privkey.pem"
    key_only.write_bytes(pki.leaf().key_pem)
    run = check("-H", "mail.example.test", "-P", "imaps", "--expect-cert", str(key_only))
    assert run.code == 3
    assert run.first_line == f"TLS_MAIL UNKNOWN - usage: --expect-cert {key_only}: holds no PEM certificate"


def names_run(pki: Pki, chains: list[tuple[str, str]], *names: str) -> tuple[Run, datetime]:
    args: list[str] = []
    for name in names:
        args += ["--require-name", name]
    started = utcnow()
    with serving("imaps", TlsConfig(chains)) as server:
        return check(*args_for(server, "imaps", pki, "--client", "none", *args)), started


def test_cli_certificate_with_every_required_name_is_ok(pki: Pki) -> None:
    leaf = pki.leaf(names=("mail.example.test", "imap.example.test", "*.pop.example.test"))
    run, started = names_run(pki, [leaf.write(pki.directory, "names-all")], "imap.example.test", "a.pop.example.test")
    port = run.first_line.split(":", 1)[1].split(" ", 1)[0]

    def line(now: datetime) -> str:
        words, perf = validity(leaf.cert, now)
        return (
            f"TLS_MAIL OK - 127.0.0.1:{port} imaps implicit TLS, TLS 1.3, {words}, covers imap.example.test and "
            f"a.pop.example.test | days_remaining={perf} handshake_time=Ts;;;0"
        )

    assert run.code == 0
    assert_line(run, line, started)


def test_cli_renewal_that_dropped_a_name_from_the_rsa_certificate_is_critical(pki: Pki) -> None:
    ecdsa = pki.leaf(names=("mail.example.test", "imap.example.test"))
    rsa = pki.leaf(names=("mail.example.test",), key_type="RSA")
    chains = [ecdsa.write(pki.directory, "names-ecdsa"), rsa.write(pki.directory, "names-rsa")]
    run, started = names_run(pki, chains, "imap.example.test", "mail.example.test")
    port = run.first_line.split(":", 1)[1].split(" ", 1)[0]

    def line(now: datetime) -> str:
        ecdsa_words, ecdsa_perf = validity(ecdsa.cert, now)
        rsa_words, rsa_perf = validity(rsa.cert, now, "RSA 2048")
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} imaps: the RSA certificate (for mail.example.test) does not "
            f"cover imap.example.test: clients that use those names fail; {ecdsa_words} and {rsa_words} | "
            f"days_remaining={ecdsa_perf} days_remaining_rsa={rsa_perf} handshake_time=Ts;;;0"
        )

    assert run.code == 2
    assert_line(run, line, started)
