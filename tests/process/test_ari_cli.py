"""--ari through the CLI: a mail server on loopback, the ACME test server (acme_servers.py), whole first lines."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from acme_servers import EXPLANATION, FUTURE, OPEN, PAST, AcmeServer, cert_id
from fakeserver import MailServer, TlsConfig
from lines import PERF_ITEM, assert_line, used, utcnow, validity
from loopback import free_port
from pki import Issued, Pki
from runs import CLI_SLACK, Run, args_for, check, imported

#: How the first line's perfdata shows the window (its seconds masked: lines.masked).
WINDOW_PERF = "ari_window_start=Ns;0:;-172800:"


class Mail:
    """An IMAPS server with one certificate of the test PKI."""

    def __init__(self, server: MailServer, leaf: Issued, pki: Pki) -> None:
        self.server, self.leaf, self.pki = server, leaf, pki

    @property
    def port(self) -> int:
        return self.server.port

    def renewal_info(self, acme: AcmeServer, scenario: str) -> str:
        """The renewalInfo URL of this certificate, its CertID computed independently of the plugin."""
        return f"{acme.url(scenario)}/renewal-info/{cert_id(self.leaf.cert)}"


@pytest.fixture(scope="module")
def mail(pki: Pki) -> Iterator[Mail]:
    leaf = pki.leaf()
    with MailServer.speaking("imaps", TlsConfig([leaf.write(pki.directory, "ari-mail")])) as server:
        yield Mail(server, leaf, pki)


def ari_run(mail: Mail, directory: str, state: Path, *extra: str) -> tuple[Run, datetime]:
    started = utcnow()
    args = args_for(mail.server, "imaps", mail.pki, "--client", "none", "--ari", "--acme-directory", directory)
    return check(*args, "--state-dir", str(state), *extra), started


def expect_problem(mail: Mail, run: Run, started: datetime, state: str, words: str, perf: str = "") -> None:
    def line(now: datetime) -> str:
        served, days = validity(mail.leaf.cert, now)
        return (
            f"TLS_MAIL {state} - 127.0.0.1:{mail.port} imaps: {words} / {served} | {perf}"
            f"days_remaining={days} handshake_time=Ts;;;0 {used(mail.leaf.cert, now)}"
        )

    assert run.code == ["OK", "WARNING", "CRITICAL"].index(state), run.stdout
    assert_line(run, line, started)


def window_seconds(run: Run, start: datetime, started: datetime) -> None:
    """ari_window_start is the seconds from the check's moment to the window's start."""
    value = run.value("ari_window_start")
    assert (start - utcnow()).total_seconds() - 1 <= value <= (start - started).total_seconds() + 1
    assert PERF_ITEM.match(next(i for i in run.first_line.split(" | ")[1].split() if i.startswith("ari_")))


def test_cli_window_ahead_is_ok_saying_when_it_starts(mail: Mail, acme_server: AcmeServer, tmp_path: Path) -> None:
    before = len(acme_server.asked("future"))
    run, started = ari_run(mail, acme_server.directory("future"), tmp_path / "state")

    def line(now: datetime) -> str:
        served, days = validity(mail.leaf.cert, now)
        return (
            f"TLS_MAIL OK - 127.0.0.1:{mail.port} imaps implicit TLS, TLS 1.3, {served}, renewal window (ARI) from "
            f"{FUTURE[0]:%Y-%m-%d} | {WINDOW_PERF} days_remaining={days} handshake_time=Ts;;;0 "
            f"{used(mail.leaf.cert, now)}"
        )

    assert run.code == 0, run.stdout
    assert_line(run, line, started)
    window_seconds(run, FUTURE[0], started)
    renewal = mail.renewal_info(acme_server, "future").split(str(acme_server.port), 1)[1]
    assert acme_server.asked("future")[before:] == ["/future/directory", renewal]  # the CertID of RFC 9773


def test_cli_window_open_is_a_warning_with_the_window_and_the_explanation(
    mail: Mail, acme_server: AcmeServer, tmp_path: Path
) -> None:
    run, started = ari_run(mail, acme_server.directory("open"), tmp_path / "state")
    words = (
        f"the CA suggests renewing the certificate now: its renewal window (ARI) opened {OPEN[0]:%Y-%m-%d %H:%M} UTC "
        f"and closes {OPEN[1]:%Y-%m-%d %H:%M} UTC (see {EXPLANATION})"
    )
    expect_problem(mail, run, started, "WARNING", words, "ari_window_start=Ns;0:;-2595600: ")
    window_seconds(run, OPEN[0], started)
    assert run.value("ari_window_start") < 0


def test_cli_window_past_is_critical(mail: Mail, acme_server: AcmeServer, tmp_path: Path) -> None:
    run, started = ari_run(mail, acme_server.directory("past"), tmp_path / "state")
    words = (
        "the server still serves the certificate past the renewal window its CA suggests (ARI), which closed "
        f"{PAST[1]:%Y-%m-%d %H:%M} UTC: renew and reload now (see {EXPLANATION})"
    )
    expect_problem(mail, run, started, "CRITICAL", words, f"{WINDOW_PERF} ")
    window_seconds(run, PAST[0], started)


@pytest.mark.parametrize(
    ("scenario", "what"),
    [
        ("no-ari", "DIRECTORY has no renewalInfo (the CA does not offer ARI)"),
        (
            "directory-not-json",
            "DIRECTORY sent something unusable: not JSON (Expecting value: line 1 column 1 (char 0))",
        ),
        ("not-found", "INFO answered HTTP 404 Not Found"),
        ("server-error", "INFO answered HTTP 500 Internal Server Error"),
        ("bad-json", "INFO sent something unusable: not JSON (Expecting value: line 1 column 31 (char 30))"),
        ("missing", "INFO sent something unusable: no suggestedWindow object"),
        (
            "inverted",
            f"INFO sent something unusable: suggestedWindow end {FUTURE[0]:%Y-%m-%d %H:%M} UTC is not after its "
            f"start {FUTURE[1]:%Y-%m-%d %H:%M} UTC",
        ),
        ("bad-time", "INFO sent something unusable: suggestedWindow start is not an RFC 3339 time: tomorrow"),
        ("streamed", "INFO sent too much (more than 65536 bytes)"),
        ("deep", "INFO sent something unusable: not JSON (nested too deeply)"),
        ("redirect", "INFO redirects to PATH (not followed)"),
    ],
)
def test_cli_no_usable_answer_is_a_warning_naming_the_url(
    mail: Mail, acme_server: AcmeServer, tmp_path: Path, scenario: str, what: str
) -> None:
    run, started = ari_run(mail, acme_server.directory(scenario), tmp_path / "state")
    info = mail.renewal_info(acme_server, scenario)
    shown = (
        what.replace("DIRECTORY", f"ACME directory {acme_server.directory(scenario)}")
        .replace("INFO", f"renewalInfo {info}")
        .replace("PATH", info.split(str(acme_server.port), 1)[1])
    )
    expect_problem(mail, run, started, "WARNING", f"renewal window (ARI) of the certificate not checked: the {shown}")


def test_cli_unreachable_ca_is_a_warning(mail: Mail, tmp_path: Path) -> None:
    port = free_port()
    run, started = ari_run(mail, f"https://127.0.0.1:{port}/directory", tmp_path / "state")
    words = (
        f"renewal window (ARI) of the certificate not checked: the ACME directory https://127.0.0.1:{port}/directory "
        f"is unreachable: connection refused (127.0.0.1:{port})"
    )
    expect_problem(mail, run, started, "WARNING", words)


def test_cli_ca_certificate_for_another_name_is_a_warning(mail: Mail, acme_server: AcmeServer, tmp_path: Path) -> None:
    directory = acme_server.directory("future", "localhost")
    run, started = ari_run(mail, directory, tmp_path / "state")
    words = (
        f"renewal window (ARI) of the certificate not checked: the ACME directory {directory} has an HTTPS "
        "certificate that fails verification: not valid for the host name (Hostname mismatch, certificate is not "
        "valid for 'localhost'.)"
    )
    expect_problem(mail, run, started, "WARNING", words)


def test_cli_trickling_ca_is_cut_at_the_deadline(mail: Mail, acme_server: AcmeServer, tmp_path: Path) -> None:
    run, started = ari_run(mail, acme_server.directory("slow"), tmp_path / "state", "-t", "3")
    info = mail.renewal_info(acme_server, "slow")
    words = (
        f"renewal window (ARI) of the certificate not checked: the renewalInfo {info} did not answer in time (no "
        "complete answer before the deadline)"
    )
    expect_problem(mail, run, started, "WARNING", words)
    assert run.seconds < 3 + CLI_SLACK  # ended by its own deadline: the server trickles for 40 s


def test_cli_second_run_is_answered_from_the_cache(mail: Mail, acme_server: AcmeServer, tmp_path: Path) -> None:
    """Retry-After: 21600: a second check within six hours asks the CA nothing, and -v says so."""
    state = tmp_path / "state"
    first, _ = ari_run(mail, acme_server.directory("open"), state, "-v")
    before = len(acme_server.requests)
    second, _ = ari_run(mail, acme_server.directory("open"), state, "-v")
    assert len(acme_server.requests) == before
    assert (first.code, second.code) == (1, 1)
    assert first.summary == second.summary
    asked = next(line for line in first.stdout.split("\n") if line.startswith("  ARI: "))
    cached = next(line for line in second.stdout.split("\n") if line.startswith("  ARI: "))
    words = asked.split(" (asked now, cached until ", 1)[0]
    until = asked.split(" (asked now, cached until ", 1)[1].rstrip(")")
    assert cached.startswith(f"{words} (cached answer of ") and cached.endswith(f", valid until {until})")
    assert datetime.strptime(until, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC) - utcnow() > timedelta(
        hours=5, minutes=58
    )
    (entry,) = [name for name in os.listdir(state) if name.endswith(".json")]
    info = (state / entry).stat()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700 and stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.geteuid()


def test_cli_unusable_options_are_usage_errors(mail: Mail, tmp_path: Path) -> None:
    base = ["-H", "mail.example.test", "-P", "imaps"]
    run = check(*base, "--ari", "--acme-directory", "http://acme.example.test/directory")
    assert (run.code, run.first_line) == (
        3,
        "TLS_MAIL UNKNOWN - usage: --acme-directory http://acme.example.test/directory: not an https URL (ACME is "
        "HTTPS only)",
    )
    run = check(*base, "--acme-directory", "https://acme.example.test/directory")
    assert (run.code, run.first_line) == (3, "TLS_MAIL UNKNOWN - usage: --acme-directory is for --ari: add --ari")
    afile = tmp_path / "state"
    afile.write_text("")
    run = check(*base, "--ari", "--state-dir", str(afile))
    assert (run.code, run.first_line) == (3, f"TLS_MAIL UNKNOWN - usage: --state-dir {afile} is not a directory")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    run = check(*base, "--ari", "--state-dir", str(shared))
    assert (run.code, run.first_line) == (
        3,
        f"TLS_MAIL UNKNOWN - usage: --state-dir {shared} can be written by other users (mode 1777): make it 0700",
    )


def test_without_ari_nothing_of_it_but_its_options_is_imported(
    mail: Mail, acme_server: AcmeServer, tmp_path: Path
) -> None:
    default = imported("-H", "127.0.0.1", "-p", str(free_port()), "-P", "imaps", "-t", "2")
    assert {m for m in default if m.startswith("check_tls_mail.checks.ari.")} == {"check_tls_mail.checks.ari.check"}
    assert "check_tls_mail.net.http" not in default
    args = args_for(mail.server, "imaps", mail.pki, "--client", "none", "--ari")
    asked = imported(*args, "--acme-directory", acme_server.directory("future"), "--state-dir", str(tmp_path / "s"))
    assert {"check_tls_mail.checks.ari.lookup", "check_tls_mail.checks.ari.cache", "check_tls_mail.net.http"} <= asked
