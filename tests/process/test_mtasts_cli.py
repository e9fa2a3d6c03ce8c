"""MTA-STS through the CLI: an MX served on loopback, the records and policies of the world, whole first lines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import mtasts_servers
import pytest
from fakeserver import MailServer, TlsConfig
from lines import assert_line, used, utcnow, validity
from mtasts_servers import MtaStsWorld
from pki import Issued, Pki
from runs import IN_CI, Run, check

from check_tls_mail.plugin.output import SUMMARY_TARGET

MAX_AGE_WEEK = "mta_sts_max_age=604800s;86400:;;0;31557600"
MAX_AGE_DAY = "mta_sts_max_age=86400s;86400:;;0;31557600"


class Mx:
    """One SMTP server whose certificate covers mail.<label>.example.test for every scenario."""

    def __init__(self, server: MailServer, leaf: Issued) -> None:
        self.server, self.leaf = server, leaf

    @property
    def port(self) -> int:
        return self.server.port


@pytest.fixture(scope="module")
def mx(mtasts_world: MtaStsWorld) -> Iterator[Mx]:
    if mtasts_world.https_443 is None:  # the policy host must be reachable as senders reach it: port 443
        message = "cannot bind port 443 on a 127.83.84.x address (needs root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    names = tuple(f"mail.{mtasts_world.domain(label)}" for label in mtasts_servers.SCENARIOS)
    pki = mtasts_world.pki
    leaf = pki.leaf(names=names)
    with MailServer.speaking("smtp", TlsConfig([leaf.write(pki.directory, "mta-sts-mx")])) as server:
        yield Mx(server, leaf)


def sts_check(world: MtaStsWorld, port: int, label: str, *extra: str, clients: tuple[str, ...] = ("none",)) -> Run:
    domain = world.domain(label)
    return check(
        "-H",
        f"mail.{domain}",
        "-P",
        "smtp",
        "-p",
        str(port),
        "--ca-file",
        world.ca_file,
        "--dns-server",
        f"{world.resolver[0]}:{world.resolver[1]}",
        *[flag for client in clients for flag in ("--client", client)],
        "--mta-sts",
        domain,
        *extra,
    )


def expect_sts(world: MtaStsWorld, mx: Mx, label: str, state: str, words: str, perf: str = "") -> Run:
    started = utcnow()
    run = sts_check(world, mx.port, label)
    where = f"mail.{world.domain(label)}:{mx.port} smtp"

    def line(now: datetime) -> str:
        served, days = validity(mx.leaf.cert, now)
        tail = f" | days_remaining={days} handshake_time=Ts;;;0 {used(mx.leaf.cert, now)}" + (
            f" {perf}" if perf else ""
        )
        if state == "OK":
            return f"TLS_MAIL OK - {where} STARTTLS, TLS 1.3, {served}, {words}{tail}"
        return f"TLS_MAIL {state} - {where}: {words} / {served}{tail}"

    assert run.code == ["OK", "WARNING", "CRITICAL"].index(state), run.stdout
    assert_line(run, line, started)
    return run


def policy_url_of(world: MtaStsWorld, label: str) -> str:
    return f"https://mta-sts.{world.domain(label)}/.well-known/mta-sts.txt"


def test_cli_listed_mx_under_enforce_is_ok(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    domain = mtasts_world.domain("enforce")
    expect_sts(mtasts_world, mx, "enforce", "OK", f"MTA-STS enforce: matches mx mail.{domain}", MAX_AGE_WEEK)


def test_cli_listed_mx_under_testing_is_ok(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    domain = mtasts_world.domain("testing")
    expect_sts(mtasts_world, mx, "testing", "OK", f"MTA-STS testing: matches mx mail.{domain}", MAX_AGE_DAY)


def test_cli_policy_in_mode_none_is_a_warning(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    words = f"the MTA-STS policy of {mtasts_world.domain('none')} is in mode none: senders enforce nothing"
    expect_sts(mtasts_world, mx, "none", "WARNING", words, MAX_AGE_DAY)


def test_cli_mx_matching_no_pattern_is_critical(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    domain = mtasts_world.domain("nomatch")
    words = (
        f"mail.{domain} matches no mx of the MTA-STS policy of {domain} (mode enforce: mx mx.other.example): "
        "senders refuse to deliver to it"
    )
    expect_sts(mtasts_world, mx, "nomatch", "CRITICAL", words, MAX_AGE_WEEK)


def test_cli_who_would_refuse_under_an_enforced_policy_comes_from_the_senders_own_policies(
    mtasts_world: MtaStsWorld, mx: Mx
) -> None:
    """Issue #24 part 3: Microsoft 365 and Gmail honour MTA-STS (profiles.json "delivery", with sources); the
    default MTA set of -P smtp (Postfix, Exim, sendmail, a generic OpenSSL relay) does not."""
    domain = mtasts_world.domain("nomatch")
    head = f"mail.{domain} matches no mx of the MTA-STS policy of {domain} (mode enforce: mx mx.other.example): "
    default = sts_check(mtasts_world, mx.port, "nomatch", clients=())
    providers = sts_check(mtasts_world, mx.port, "nomatch", clients=("microsoft-365", "gmail", "postfix"))
    assert default.code == providers.code == 2, default.stdout + providers.stdout
    assert (
        head + "senders that apply MTA-STS refuse (Postfix MTA, MTA on OpenSSL 1.0.2, Exim (GnuTLS) and sendmail 8.18 "
        "would deliver)"
    ) in default.summary, default.stdout
    # (Microsoft 365's own TLS 1.2 suites are RSA-only: against this ECDSA MX it fails first, in the first line.)
    assert (head + "Microsoft 365 and Gmail would refuse to deliver to it (Postfix MTA would deliver)") in (
        providers.stdout.split("\n")
    ), providers.stdout


def test_cli_redirected_policy_is_critical(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    words = (
        f"MTA-STS policy {policy_url_of(mtasts_world, 'redirect')} redirects (HTTP 301 to "
        "https://www.example.test/.well-known/mta-sts.txt): senders do not follow redirects"
    )
    expect_sts(mtasts_world, mx, "redirect", "CRITICAL", words)


def test_cli_oversized_policy_is_critical(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    words = f"MTA-STS policy {policy_url_of(mtasts_world, 'oversized')} is larger than 64 KiB: senders refuse it"
    expect_sts(mtasts_world, mx, "oversized", "CRITICAL", words)


def test_cli_unreachable_policy_host_is_critical(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    nobody = mtasts_world.unreachable  # as the zone says
    words = (
        f"MTA-STS policy {policy_url_of(mtasts_world, 'unreachable')} cannot be fetched: connection refused "
        f"({nobody}:443) (senders keep a cached policy only until its max_age runs out)"
    )
    expect_sts(mtasts_world, mx, "unreachable", "CRITICAL", words)


def test_cli_policy_with_bad_syntax_is_critical(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    words = (
        f"MTA-STS policy {policy_url_of(mtasts_world, 'badsyntax')} is invalid: line 2: mode is not enforce, "
        "testing or none (Enforce): senders refuse it"
    )
    expect_sts(mtasts_world, mx, "badsyntax", "CRITICAL", words)


def test_cli_domain_without_a_record_is_a_warning(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    words = f"no MTA-STS record at _mta-sts.{mtasts_world.domain('absent')}: senders apply no policy"
    expect_sts(mtasts_world, mx, "absent", "WARNING", words)


def test_cli_broken_tls_rpt_record_is_a_warning(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    words = (
        f"TLS-RPT record at _smtp._tls.{mtasts_world.domain('badrpt')} is invalid: report address "
        "ftp://reports.example.test/ is not a mailto: or https: URI: senders send no TLS reports"
    )
    expect_sts(mtasts_world, mx, "badrpt", "WARNING", words, MAX_AGE_WEEK)


def test_cli_tls_rpt_record_is_shown_with_v(mtasts_world: MtaStsWorld, mx: Mx) -> None:
    domain = mtasts_world.domain("enforce")
    run = sts_check(mtasts_world, mx.port, "enforce", "-v")
    assert run.code == 0, run.stdout
    tail = run.stdout.splitlines()[-5:]
    assert tail == [
        f"MTA-STS of {domain} for mail.{domain}:",
        f"  MTA-STS record at _mta-sts.{domain}: id 20260101T000000",
        f"  MTA-STS policy: mode enforce, max_age 604800 s (7 days), mx mail.{domain}, *.mx.{domain}",
        f"  mail.{domain} is listed in the MTA-STS policy of {domain} (mx mail.{domain}, mode enforce)",
        f"  TLS-RPT record at _smtp._tls.{domain}: reports to mailto:tlsrpt@example.test",
    ], run.stdout


def test_cli_untrusted_mx_under_enforce_is_critical_whatever_no_verify_chain_says(
    mtasts_world: MtaStsWorld, mx: Mx, tmp_path: Path
) -> None:
    domain = mtasts_world.domain("enforce")
    stranger = Pki(tmp_path, "Stranger").leaf(names=(f"mail.{domain}",))
    started = utcnow()
    with MailServer.speaking("smtp", TlsConfig([stranger.write(tmp_path, "stranger-mx")])) as server:
        run = sts_check(mtasts_world, server.port, "enforce", "--no-verify-chain")

    def line(now: datetime) -> str:
        served, days = validity(stranger.cert, now)
        summary = (
            f"mail.{domain}:{server.port} smtp: the certificate of mail.{domain} does not verify "
            f"(untrusted chain: issuer Stranger Root CA is not in --ca-file {mtasts_world.ca_file}), and the MTA-STS "
            f"policy of {domain} is in enforce mode: senders refuse to deliver to it / {served}"
        )
        if len(summary.encode()) > SUMMARY_TARGET:  # the --ca-file path is as long as the temporary directory's
            summary = summary.rsplit(" / ", 1)[0]  # the certificate's summary, no problem, is left to -v
        return (
            f"TLS_MAIL CRITICAL - {summary} | days_remaining={days} handshake_time=Ts;;;0 "
            f"{used(stranger.cert, now)} {MAX_AGE_WEEK}"
        )

    assert run.code == 2, run.stdout
    assert_line(run, line, started)


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (
            ["-H", "mail.example.test", "-P", "imaps"],
            "--mta-sts is for -P smtp: the policy is about the MX senders deliver to",
        ),
        (["-H", "127.0.0.1", "-P", "smtp"], "--mta-sts needs the MX's host name: give -H NAME or --servername NAME"),
    ],
)
def test_cli_mta_sts_outside_smtp_or_without_a_name_is_a_usage_error(args: list[str], why: str) -> None:
    run = check(*args, "--mta-sts", "example.test")
    assert (run.code, run.first_line) == (3, f"TLS_MAIL UNKNOWN - usage: {why}")


def test_cli_mta_sts_domain_must_be_a_domain_name() -> None:
    run = check("-H", "mail.example.test", "-P", "smtp", "--mta-sts", "exa mple|test")
    # the | an operator typed cannot start perfdata: clean() escapes it
    assert (run.code, run.first_line) == (3, "TLS_MAIL UNKNOWN - usage: --mta-sts exa mple\\x7ctest: not a domain name")
