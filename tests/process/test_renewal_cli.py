"""--expect-cert and --require-name through the CLI against loopback servers, whole first lines."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fakeserver import TlsConfig
from lines import assert_line, used, utcnow, validity
from pki import Pki
from runs import Run, args_for, check, serving


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
            f"a.pop.example.test | days_remaining={perf} handshake_time=Ts;;;0 {used(leaf.cert, now)}"
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
            f"cover imap.example.test: clients that use those names fail / {ecdsa_words} and {rsa_words} | "
            f"days_remaining={ecdsa_perf} days_remaining_rsa={rsa_perf} handshake_time=Ts;;;0 "
            f"{used(ecdsa.cert if ecdsa.cert.not_valid_after_utc <= rsa.cert.not_valid_after_utc else rsa.cert, now)}"
        )

    assert run.code == 2
    assert_line(run, line, started)
