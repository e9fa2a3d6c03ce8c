"""MTA-STS lookups and policy fetches in process, against real DNS (Knot + Unbound) and HTTPS policy servers.

The world (mtasts_servers.py) publishes one domain per scenario; a silent DNS
port and a listener that never answers stand for servers that hang.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from fakeserver import MailServer, hold
from loopback import silent_udp
from mtasts_servers import MtaStsWorld
from runs import IN_CI, IN_PROCESS_SLACK

from check_tls_mail.checks.mtasts.judge import (
    assess,
    severity,
)
from check_tls_mail.checks.mtasts.policy import (
    Mode,
    Policy,
    PolicyBadContentType,
    PolicyCertificateInvalid,
    PolicyDefect,
    PolicyError,
    PolicyFetched,
    PolicyHttpStatus,
    PolicyInvalid,
    PolicyOversized,
    PolicyRedirect,
    PolicyUnreachable,
    fetch_policy,
)
from check_tls_mail.checks.mtasts.records import (
    LookupFailed,
    LookupFailure,
    RecordInvalid,
    RecordKind,
    StsRecord,
    TlsRptRecord,
    lookup_record,
    lookup_tlsrpt,
)
from check_tls_mail.checks.mtasts.words import describe
from check_tls_mail.net.http import FetchFailure, HttpsCertificateProblem
from check_tls_mail.net.transport import Deadline
from check_tls_mail.severity import Severity


def deadline(seconds: float = 10) -> Deadline:
    return Deadline(seconds)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("enforce", "StsRecord:20260101T000000|TlsRptRecord:mailto:tlsrpt@example.test"),
        ("testing", "StsRecord:testing1|TlsRptRecord:mailto:a@example.test,https://reports.example.test/tlsrpt"),
        ("split", "StsRecord:split1|TlsRptRecord:mailto:x@example.test"),
        ("multiple", "RecordInvalid:multiple|RecordAbsent"),
        ("nosep", "RecordInvalid:no separator|RecordInvalid:bad rua"),
        ("noid", "RecordInvalid:no id|RecordInvalid:no rua"),
        ("other", "RecordAbsent|RecordAbsent"),
        ("absent", "RecordAbsent|RecordAbsent"),
    ],
)
def test_records_looked_up_through_the_validating_resolver(
    mtasts_world: MtaStsWorld, label: str, expected: str
) -> None:
    found = lookup(mtasts_world.domain(label), mtasts_world.resolver, deadline())

    def short(state: object) -> str:
        name = type(state).__name__
        if isinstance(state, StsRecord):
            return f"{name}:{state.id}"
        if isinstance(state, TlsRptRecord):
            return f"{name}:{','.join(state.rua)}"
        if isinstance(state, RecordInvalid):
            return f"{name}:{state.defect.value}"
        return name

    assert f"{short(found.record)}|{short(found.tlsrpt)}" == expected
    assert found.record.name == f"_mta-sts.{mtasts_world.domain(label)}"


class Found(NamedTuple):
    record: object
    tlsrpt: object


def lookup(domain: str, server: tuple[str, int] | None, deadline: Deadline) -> Found:
    """Both records of ``domain``, as the lookup beside the handshakes asks them (one thread each there)."""
    return Found(lookup_record(domain, server, deadline), lookup_tlsrpt(domain, server, deadline))


@pytest.fixture
def silent_dns() -> Iterator[tuple[str, int]]:
    """A UDP port that receives queries and never answers."""
    with silent_udp() as where:
        yield where


def test_lookup_that_times_out_is_a_failed_lookup(silent_dns: tuple[str, int]) -> None:
    started = time.monotonic()
    state = lookup_record("example.test", silent_dns, Deadline(1.5))
    assert time.monotonic() - started < 1.5 + IN_PROCESS_SLACK  # the server never answers: the deadline ended it
    assert state == LookupFailed(
        RecordKind.MTA_STS, "_mta-sts.example.test", LookupFailure.TIMEOUT, f"127.0.0.1:{silent_dns[1]}", ""
    )
    assert severity(state) is Severity.CRITICAL


def test_lookup_refused_by_the_server_is_a_failed_lookup(mtasts_world: MtaStsWorld) -> None:
    knot = ("127.0.0.1", mtasts_world.knot.ports["dns"])  # authoritative for example.test only: refuses others
    state = lookup_record("example.org", knot, deadline())
    assert isinstance(state, LookupFailed) and state.failure is LookupFailure.ERROR, state
    assert describe(state).startswith(f"MTA-STS lookup of _mta-sts.example.org failed (127.0.0.1:{knot[1]}): ")


def fetch(world: MtaStsWorld, label: str, seconds: float = 10) -> object:
    return fetch_policy(world.domain(label), Deadline(seconds), world.ca_file, connect_to=world.connect_to(label))


def url(world: MtaStsWorld, label: str) -> str:
    return f"https://mta-sts.{world.domain(label)}/.well-known/mta-sts.txt"


def test_enforce_policy_is_fetched_and_parsed(mtasts_world: MtaStsWorld) -> None:
    domain = mtasts_world.domain("enforce")
    assert fetch(mtasts_world, "enforce") == PolicyFetched(
        url(mtasts_world, "enforce"), Policy(Mode.ENFORCE, (f"mail.{domain}", f"*.mx.{domain}"), 604800)
    )
    assert (f"mta-sts.{domain}", "/.well-known/mta-sts.txt") in mtasts_world.good.requests


@pytest.mark.parametrize(
    ("label", "policy"),
    [
        ("testing", Policy(Mode.TESTING, ("mail.testing.example.test",), 86400)),
        ("none", Policy(Mode.NONE, (), 86400)),
        ("nomatch", Policy(Mode.ENFORCE, ("mx.other.example",), 604800)),
        ("shortage", Policy(Mode.ENFORCE, ("mail.shortage.example.test",), 3600)),
    ],
)
def test_policies_in_each_mode_are_fetched(mtasts_world: MtaStsWorld, label: str, policy: Policy) -> None:
    assert fetch(mtasts_world, label) == PolicyFetched(url(mtasts_world, label), policy)


def test_redirect_is_not_followed(mtasts_world: MtaStsWorld) -> None:
    before = len(mtasts_world.good.requests)
    assert fetch(mtasts_world, "redirect") == PolicyRedirect(
        url(mtasts_world, "redirect"), 301, "https://www.example.test/.well-known/mta-sts.txt"
    )
    assert len(mtasts_world.good.requests) == before + 1


@pytest.mark.parametrize("label", ["oversized", "streamed"])
def test_policy_over_64_kib_is_refused(mtasts_world: MtaStsWorld, label: str) -> None:
    assert fetch(mtasts_world, label) == PolicyOversized(url(mtasts_world, label), 65536)


def test_policy_with_bad_syntax_is_invalid(mtasts_world: MtaStsWorld) -> None:
    assert fetch(mtasts_world, "badsyntax") == PolicyInvalid(
        url(mtasts_world, "badsyntax"), PolicyError(PolicyDefect.MODE, 2, "Enforce")
    )


def test_policy_served_as_html_is_a_content_type_problem(mtasts_world: MtaStsWorld) -> None:
    result = fetch(mtasts_world, "html")
    assert result == PolicyBadContentType(
        url(mtasts_world, "html"), "text/html; charset=utf-8", Policy(Mode.ENFORCE, ("mail.html.example.test",), 604800)
    )


def test_missing_policy_is_an_http_status(mtasts_world: MtaStsWorld) -> None:
    assert fetch(mtasts_world, "missing") == PolicyHttpStatus(url(mtasts_world, "missing"), 404, "Not Found")


def test_policy_host_that_refuses_connections_is_unreachable(mtasts_world: MtaStsWorld) -> None:
    result = fetch(mtasts_world, "unreachable")
    assert result == PolicyUnreachable(
        url(mtasts_world, "unreachable"),
        FetchFailure.UNREACHABLE,
        f"connection refused (127.0.0.1:{mtasts_world.closed_port})",
    )


def test_certificate_for_another_name_is_refused(mtasts_world: MtaStsWorld) -> None:
    result = fetch(mtasts_world, "wrongname")
    assert isinstance(result, PolicyCertificateInvalid), result
    assert (result.host, result.problem) == ("mta-sts.wrongname.example.test", HttpsCertificateProblem.NAME_MISMATCH)
    assert "Hostname mismatch" in result.detail
    assert len(mtasts_world.wrong_name.requests) == 0  # nothing was asked over the unverified connection


def test_expired_certificate_of_the_policy_host_is_refused(mtasts_world: MtaStsWorld) -> None:
    result = fetch(mtasts_world, "expired")
    assert isinstance(result, PolicyCertificateInvalid), result
    assert result.problem is HttpsCertificateProblem.EXPIRED
    assert describe(result) == (
        "the certificate of the MTA-STS policy host mta-sts.expired.example.test is expired "
        "(certificate has expired): senders cannot fetch the policy"
    )


def test_untrusted_certificate_without_the_test_ca_is_refused(mtasts_world: MtaStsWorld) -> None:
    result = fetch_policy(
        mtasts_world.domain("enforce"), deadline(), None, connect_to=mtasts_world.connect_to("enforce")
    )  # the system store does not hold the test root
    assert isinstance(result, PolicyCertificateInvalid) and result.problem is HttpsCertificateProblem.UNTRUSTED, result


def test_trickling_policy_server_is_cut_at_the_deadline(mtasts_world: MtaStsWorld) -> None:
    started = time.monotonic()
    result = fetch(mtasts_world, "slow", seconds=1.5)
    elapsed = time.monotonic() - started
    assert result == PolicyUnreachable(
        url(mtasts_world, "slow"), FetchFailure.TIMEOUT, "no complete answer before the deadline"
    )
    assert elapsed < 1.5 + IN_PROCESS_SLACK, elapsed  # the whole policy would take half a minute


def test_server_that_accepts_and_never_answers_is_a_timeout() -> None:
    with MailServer(hold) as server:
        started = time.monotonic()
        result = fetch_policy("example.test", Deadline(1.0), None, connect_to=("127.0.0.1", server.port))
        assert time.monotonic() - started < 1.0 + IN_PROCESS_SLACK  # the server holds on: the deadline ended it
    assert isinstance(result, PolicyUnreachable) and result.failure is FetchFailure.TIMEOUT, result


def test_policy_fetched_through_the_resolver_on_port_443(mtasts_world: MtaStsWorld) -> None:
    """No hook: mta-sts.DOMAIN resolved at --dns-server, HTTPS on port 443 of a loopback address."""
    if mtasts_world.https_443 is None:
        message = "cannot bind port 443 on a 127.83.84.x address (needs root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    domain = mtasts_world.domain("enforce")
    result = fetch_policy(domain, deadline(), mtasts_world.ca_file, dns_server=mtasts_world.resolver)
    assert result == PolicyFetched(
        url(mtasts_world, "enforce"), Policy(Mode.ENFORCE, (f"mail.{domain}", f"*.mx.{domain}"), 604800)
    )
    down = fetch_policy(
        mtasts_world.domain("unreachable"), deadline(), mtasts_world.ca_file, dns_server=mtasts_world.resolver
    )
    assert isinstance(down, PolicyUnreachable) and down.detail.startswith("connection refused (127.83.84."), down


def test_whole_assessment_for_an_unlisted_mx(mtasts_world: MtaStsWorld) -> None:
    domain = mtasts_world.domain("nomatch")
    found = lookup(domain, mtasts_world.resolver, deadline())
    findings = assess(domain, found.record, fetch(mtasts_world, "nomatch"), f"mail.{domain}", True, found.tlsrpt)  # type: ignore[arg-type]
    assert severity(findings[0]) is Severity.CRITICAL
    assert describe(findings[0]) == (
        "mail.nomatch.example.test matches no mx of the MTA-STS policy of nomatch.example.test "
        "(mode enforce: mx mx.other.example): senders refuse to deliver to it"
    )
