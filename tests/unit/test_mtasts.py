"""MTA-STS and TLS-RPT: the RFC rules on their own, then against real DNS (Knot + Unbound) and HTTPS."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import mtasts_servers
import pytest
from fakeserver import MailServer, TlsConfig
from lines import assert_line, utcnow, validity
from mtasts_servers import MtaStsWorld
from pki import Issued, Pki
from runs import IN_CI, Run, check

from check_tls_mail.checks.mtasts.judge import (
    HostCertificateUnverified,
    HostListed,
    MaxAgeShort,
    ModeNone,
    MtaStsReport,
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
    match_mx,
    parse_policy,
)
from check_tls_mail.checks.mtasts.records import (
    LookupFailed,
    LookupFailure,
    LookupNotFinished,
    RecordAbsent,
    RecordDefect,
    RecordInvalid,
    RecordKind,
    StsRecord,
    TlsRptRecord,
    lookup_record,
    lookup_tlsrpt,
    parse_sts_record,
    parse_tlsrpt_record,
)
from check_tls_mail.checks.mtasts.words import describe
from check_tls_mail.net.http import FetchFailure, HttpsCertificateProblem
from check_tls_mail.net.transport import Deadline
from check_tls_mail.plugin.output import SUMMARY_TARGET
from check_tls_mail.severity import Severity

STS = "_mta-sts.example.org"
RPT = "_smtp._tls.example.org"

# --- RFC 8461 §3.2: the policy ----------------------------------------------------------------------


def test_policy_with_crlf_lines_and_unknown_keys_parses() -> None:
    text = (
        "version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmx: *.example.net\r\n"
        "max_age: 604800\r\nfoo: bar\r\n"
    )
    assert parse_policy(text) == Policy(Mode.ENFORCE, ("mail.example.org", "*.example.net"), 604800)


def test_policy_with_lf_lines_and_no_final_newline_parses() -> None:
    assert parse_policy("version: STSv1\nmode: testing\nmx: MX.Example.ORG.\nmax_age:86400") == Policy(
        Mode.TESTING, ("mx.example.org",), 86400
    )


def test_policy_in_mode_none_needs_no_mx() -> None:
    assert parse_policy(b"version: STSv1\nmode: none\nmax_age: 0\n") == Policy(Mode.NONE, (), 0)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", PolicyError(PolicyDefect.MODE, 2, "Enforce")),
        ("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError(PolicyDefect.VERSION, 1, "STSv2")),
        ("version: STSv1\nmode: enforce\nmx: a.example\n", PolicyError(PolicyDefect.MISSING, 0, "max_age")),
        ("mode: enforce\nmx: a.example\nmax_age: 1\n", PolicyError(PolicyDefect.MISSING, 0, "version")),
        ("version: STSv1\nmode: enforce\nmax_age: 1\n", PolicyError(PolicyDefect.NO_MX, 0, "enforce")),
        (
            "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1\n",
            PolicyError(PolicyDefect.DUPLICATE, 3, "mode"),
        ),
        (
            "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n",
            PolicyError(PolicyDefect.MAX_AGE, 4, "31557601"),
        ),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", PolicyError(PolicyDefect.MAX_AGE, 4, "-1")),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1e6\n", PolicyError(PolicyDefect.MAX_AGE, 4, "1e6")),
        (
            "version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1\n",
            PolicyError(PolicyDefect.MX, 3, "*.*.example"),
        ),
        ("version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", PolicyError(PolicyDefect.MX, 3, "a..example")),
        ("version: STSv1\nmode: enforce\nmx:\nmax_age: 1\n", PolicyError(PolicyDefect.MX, 3, "")),
        ("<html>\n<body>policy</body>\n", PolicyError(PolicyDefect.BAD_LINE, 1, "<html>")),
    ],
)
def test_policy_that_breaks_the_rfc_is_an_error(text: str, error: PolicyError) -> None:
    assert parse_policy(text) == error


def test_policy_at_the_largest_max_age_parses() -> None:
    parsed = parse_policy("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557600\n")
    assert isinstance(parsed, Policy) and parsed.max_age == 31557600


def test_policy_in_latin1_is_not_utf8() -> None:
    assert parse_policy("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n# caf\xe9\n".encode("latin-1")) == (
        PolicyError(PolicyDefect.NOT_UTF8, 0, "byte 59")
    )


# --- RFC 8461 §4.1: mx patterns ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "patterns", "expected"),
    [
        ("mail.example.com", ("*.example.com",), "*.example.com"),  # the RFC's own examples
        ("example.com", ("*.example.com",), None),
        ("foo.bar.example.com", ("*.example.com",), None),
        ("MAIL.Example.COM.", ("mail.example.com",), "mail.example.com"),
        ("mail.example.com", ("mail.example.com.",), "mail.example.com."),
        ("mail.example.com", ("mx.example.com", "*.example.net"), None),
        ("mail.example.com", ("mx.example.com", "*.example.com"), "*.example.com"),
        ("mail.example.com", ("*.mail.example.com",), None),
    ],
)
def test_mx_pattern_wildcard_covers_exactly_one_label(
    host: str, patterns: tuple[str, ...], expected: str | None
) -> None:
    assert match_mx(host, patterns) == expected


# --- RFC 8461 §3.1 and RFC 8460 §3: the TXT records -----------------------------------------------


@pytest.mark.parametrize(
    ("texts", "state"),
    [
        (["v=STSv1; id=20160831085700Z"], StsRecord(STS, "20160831085700Z", "v=STSv1; id=20160831085700Z")),
        (["v=STSv1;id=abc;"], StsRecord(STS, "abc", "v=STSv1;id=abc;")),
        (["v=STSv1; id=abc; ext=1", "v=spf1 -all"], StsRecord(STS, "abc", "v=STSv1; id=abc; ext=1")),
        ([], RecordAbsent(RecordKind.MTA_STS, STS)),
        (["v=spf1 -all"], RecordAbsent(RecordKind.MTA_STS, STS)),
        (["v=STSv1; id=a", "v=STSv1; id=b"], RecordInvalid(RecordKind.MTA_STS, STS, RecordDefect.MULTIPLE, "2")),
        (["v=STSv1 id=a"], RecordInvalid(RecordKind.MTA_STS, STS, RecordDefect.NO_SEPARATOR, "v=STSv1 id=a")),
        (["v=STSv1; id=a-b"], RecordInvalid(RecordKind.MTA_STS, STS, RecordDefect.NO_ID, "v=STSv1; id=a-b")),
        (
            ["v=STSv1; id=" + "a" * 33],
            RecordInvalid(RecordKind.MTA_STS, STS, RecordDefect.NO_ID, "v=STSv1; id=" + "a" * 33),
        ),
        (["v=STSv1; id=a; id=b"], RecordInvalid(RecordKind.MTA_STS, STS, RecordDefect.NO_ID, "v=STSv1; id=a; id=b")),
        (["v=STSv1; id=a;; x=1"], RecordInvalid(RecordKind.MTA_STS, STS, RecordDefect.SYNTAX, "v=STSv1; id=a;; x=1")),
        (["v=STSv1; id=a b"], RecordInvalid(RecordKind.MTA_STS, STS, RecordDefect.SYNTAX, "v=STSv1; id=a b")),
    ],
)
def test_sts_record_rules(texts: list[str], state: object) -> None:
    assert parse_sts_record(STS, texts) == state


@pytest.mark.parametrize(
    ("texts", "state"),
    [
        (
            ["v=TLSRPTv1; rua=mailto:reports@example.org"],
            TlsRptRecord(RPT, ("mailto:reports@example.org",), "v=TLSRPTv1; rua=mailto:reports@example.org"),
        ),
        (
            ["v=TLSRPTv1;rua=mailto:a@example.org , https://r.example.org/x;"],
            TlsRptRecord(
                RPT,
                ("mailto:a@example.org", "https://r.example.org/x"),
                "v=TLSRPTv1;rua=mailto:a@example.org , https://r.example.org/x;",
            ),
        ),
        ([], RecordAbsent(RecordKind.TLSRPT, RPT)),
        (
            ["v=TLSRPTv1; rua=http://r.example.org/"],
            RecordInvalid(RecordKind.TLSRPT, RPT, RecordDefect.BAD_RUA, "http://r.example.org/"),
        ),
        (
            ["v=TLSRPTv1; rua=mailto:nobody"],
            RecordInvalid(RecordKind.TLSRPT, RPT, RecordDefect.BAD_RUA, "mailto:nobody"),
        ),
        (["v=TLSRPTv1; x=1"], RecordInvalid(RecordKind.TLSRPT, RPT, RecordDefect.NO_RUA, "v=TLSRPTv1; x=1")),
        (
            ["v=TLSRPTv1; rua=mailto:a@b.c", "v=TLSRPTv1; rua=mailto:d@e.f"],
            RecordInvalid(RecordKind.TLSRPT, RPT, RecordDefect.MULTIPLE, "2"),
        ),
        (
            ["v=TLSRPTv1 rua=mailto:a@b.c"],
            RecordInvalid(RecordKind.TLSRPT, RPT, RecordDefect.NO_SEPARATOR, "v=TLSRPTv1 rua=mailto:a@b.c"),
        ),
        (
            ["v=TLSRPTv1; rua=mailto:a@b.c; ="],
            RecordInvalid(RecordKind.TLSRPT, RPT, RecordDefect.SYNTAX, "v=TLSRPTv1; rua=mailto:a@b.c; ="),
        ),
    ],
)
def test_tlsrpt_record_rules(texts: list[str], state: object) -> None:
    assert parse_tlsrpt_record(RPT, texts) == state


def test_record_text_from_dns_cannot_break_the_status_line() -> None:
    state = parse_sts_record(STS, ["v=STSv1 | id=1\nCRITICAL"])
    assert isinstance(state, RecordInvalid)
    words = describe(state)
    assert "|" not in words and "\n" not in words


# --- judgement: state mapping and words -----------------------------------------------------------

ENFORCE = Policy(Mode.ENFORCE, ("mail.example.org", "*.mx.example.org"), 604800)
URL = "https://mta-sts.example.org/.well-known/mta-sts.txt"
RECORD = StsRecord(STS, "1", "v=STSv1; id=1")


def _worst(findings: tuple[object, ...]) -> Severity:
    return max(severity(f) for f in findings)  # type: ignore[arg-type]


def test_listed_host_with_verified_certificate_is_ok() -> None:
    findings = assess("example.org", RECORD, PolicyFetched(URL, ENFORCE), "a.mx.example.org", True)
    assert _worst(findings) is Severity.OK
    assert HostListed("a.mx.example.org", "example.org", Mode.ENFORCE, "*.mx.example.org") in findings
    assert [describe(f) for f in findings] == [
        "MTA-STS record at _mta-sts.example.org: id 1",
        "MTA-STS policy: mode enforce, max_age 604800 s (7 days), mx mail.example.org, *.mx.example.org",
        "a.mx.example.org is listed in the MTA-STS policy of example.org (mx *.mx.example.org, mode enforce)",
    ]


def test_unlisted_host_is_critical_in_enforce_and_warning_in_testing() -> None:
    enforce = assess("example.org", RECORD, PolicyFetched(URL, ENFORCE), "smtp.example.org", True)
    assert _worst(enforce) is Severity.CRITICAL
    assert describe(enforce[0]) == (
        "smtp.example.org matches no mx of the MTA-STS policy of example.org "
        "(mode enforce: mx mail.example.org, *.mx.example.org): senders refuse to deliver to it"
    )
    testing = assess(
        "example.org", RECORD, PolicyFetched(URL, ENFORCE._replace(mode=Mode.TESTING)), "smtp.example.org", True
    )
    assert _worst(testing) is Severity.WARNING
    assert describe(testing[0]).endswith("in testing mode senders still deliver, and report it")


def test_unverified_certificate_is_judged_by_the_policy_mode() -> None:
    findings = assess("example.org", RECORD, PolicyFetched(URL, ENFORCE), "mail.example.org", False)
    assert findings[0] == HostCertificateUnverified("mail.example.org", "example.org", Mode.ENFORCE)
    assert severity(findings[0]) is Severity.CRITICAL
    assert describe(findings[0]) == (
        "the certificate of mail.example.org does not verify, and the MTA-STS policy of example.org "
        "is in enforce mode: senders refuse to deliver to it"
    )
    testing = HostCertificateUnverified("mail.example.org", "example.org", Mode.TESTING)
    assert severity(testing) is Severity.WARNING


def test_mode_none_and_short_max_age_warn() -> None:
    none = assess("example.org", RECORD, PolicyFetched(URL, Policy(Mode.NONE, (), 86400)), "x.example.org", False)
    assert findings_of(none, ModeNone) == [ModeNone("example.org")]
    assert _worst(none) is Severity.WARNING  # nothing enforced, so not even the certificate is judged
    short = assess("example.org", RECORD, PolicyFetched(URL, ENFORCE._replace(max_age=3600)), "mail.example.org", True)
    assert findings_of(short, MaxAgeShort) == [MaxAgeShort("example.org", 3600)]
    assert _worst(short) is Severity.WARNING
    assert describe(MaxAgeShort("example.org", 3600)) == (
        "the MTA-STS policy of example.org has max_age 3600 s (1 hours), under a day: "
        "senders forget it soon when the policy host is down (RFC 8461 expects weeks)"
    )


def findings_of(findings: tuple[object, ...], kind: type) -> list[object]:
    return [f for f in findings if isinstance(f, kind)]


@pytest.mark.parametrize(
    ("finding", "state", "words"),
    [
        (
            RecordAbsent(RecordKind.MTA_STS, STS),
            Severity.WARNING,
            "no MTA-STS record at _mta-sts.example.org: senders apply no policy",
        ),
        (
            RecordAbsent(RecordKind.TLSRPT, RPT),
            Severity.OK,
            "no TLS-RPT record at _smtp._tls.example.org: senders send no TLS reports",
        ),
        (
            LookupFailed(RecordKind.MTA_STS, STS, LookupFailure.TIMEOUT, "127.0.0.1:53", ""),
            Severity.CRITICAL,
            "MTA-STS lookup of _mta-sts.example.org timed out (127.0.0.1:53)",
        ),
        (
            LookupNotFinished(RecordKind.MTA_STS, STS),
            Severity.CRITICAL,
            "MTA-STS lookup of _mta-sts.example.org did not finish in time",
        ),
        (
            LookupNotFinished(RecordKind.TLSRPT, RPT),
            Severity.OK,
            "TLS-RPT lookup of _smtp._tls.example.org did not finish in time",
        ),
        (
            RecordInvalid(RecordKind.TLSRPT, RPT, RecordDefect.BAD_RUA, "ftp://x"),
            Severity.WARNING,
            "TLS-RPT record at _smtp._tls.example.org is invalid: report address ftp://x is not a mailto: or "
            "https: URI: senders send no TLS reports",
        ),
        (
            RecordInvalid(RecordKind.MTA_STS, STS, RecordDefect.MULTIPLE, "2"),
            Severity.WARNING,
            "MTA-STS record at _mta-sts.example.org is invalid: 2 records begin with v=STSv1; there must be exactly "
            "one: senders apply no policy",
        ),
        (
            PolicyUnreachable(URL, FetchFailure.UNREACHABLE, "connection refused (127.0.0.1:443)"),
            Severity.CRITICAL,
            f"MTA-STS policy {URL} cannot be fetched: connection refused (127.0.0.1:443); senders keep a cached "
            "policy only until its max_age runs out",
        ),
        (
            PolicyCertificateInvalid(
                URL, "mta-sts.example.org", HttpsCertificateProblem.EXPIRED, "certificate has expired"
            ),
            Severity.CRITICAL,
            "the certificate of the MTA-STS policy host mta-sts.example.org is expired (certificate has expired): "
            "senders cannot fetch the policy",
        ),
        (
            PolicyHttpStatus(URL, 404, "Not Found"),
            Severity.CRITICAL,
            f"MTA-STS policy {URL} answered HTTP 404 Not Found, not 200",
        ),
        (
            PolicyRedirect(URL, 301, "https://www.example.org/"),
            Severity.CRITICAL,
            f"MTA-STS policy {URL} redirects (HTTP 301 to https://www.example.org/): senders do not follow redirects",
        ),
        (
            PolicyOversized(URL, 65536),
            Severity.CRITICAL,
            f"MTA-STS policy {URL} is larger than 64 KiB: senders refuse it",
        ),
        (
            PolicyBadContentType(URL, "text/html", ENFORCE),
            Severity.WARNING,
            f"MTA-STS policy {URL} is served as text/html, not text/plain: RFC 8461 senders refuse it",
        ),
        (
            PolicyBadContentType(URL, "", PolicyError(PolicyDefect.BAD_LINE, 1, "<html>")),
            Severity.CRITICAL,
            f"MTA-STS policy {URL} is served as no Content-Type and is invalid: line 1: not a key: value line (<html>)",
        ),
        (
            PolicyInvalid(URL, PolicyError(PolicyDefect.MODE, 2, "Enforce")),
            Severity.CRITICAL,
            f"MTA-STS policy {URL} is invalid: line 2: mode is not enforce, testing or none (Enforce): "
            "senders refuse it",
        ),
        (
            ModeNone("example.org"),
            Severity.WARNING,
            "the MTA-STS policy of example.org is in mode none: senders enforce nothing",
        ),
    ],
)
def test_state_mapping_and_words(finding: object, state: Severity, words: str) -> None:
    assert severity(finding) is state  # type: ignore[arg-type]
    assert describe(finding) == words  # type: ignore[arg-type]


def test_policy_is_not_fetched_without_a_usable_record() -> None:
    absent = RecordAbsent(RecordKind.MTA_STS, STS)
    assert assess("example.org", absent, None, "mail.example.org", True) == (absent,)


# --- against real DNS and HTTPS --------------------------------------------------------------------


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
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield ("127.0.0.1", sock.getsockname()[1])
    sock.close()


def test_lookup_that_times_out_is_a_failed_lookup(silent_dns: tuple[str, int]) -> None:
    started = time.monotonic()
    state = lookup_record("example.test", silent_dns, Deadline(1.5))
    assert time.monotonic() - started < 2.5
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
    assert elapsed < 2.0, elapsed


def test_server_that_accepts_and_never_answers_is_a_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        held: list[socket.socket] = []
        accept = threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True)
        accept.start()
        started = time.monotonic()
        result = fetch_policy("example.test", Deadline(1.0), None, connect_to=listener.getsockname())
        assert time.monotonic() - started < 1.5
        for sock in held:
            sock.close()
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


# --- through the CLI: an MX served on loopback, the records and policies of the world, whole first lines ----------

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


def sts_check(world: MtaStsWorld, port: int, label: str, *extra: str) -> Run:
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
        "--client",
        "none",
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
        tail = f" | days_remaining={days} handshake_time=Ts;;;0" + (f" {perf}" if perf else "")
        if state == "OK":
            return f"TLS_MAIL OK - {where} STARTTLS, TLS 1.3, {served}, {words}{tail}"
        return f"TLS_MAIL {state} - {where}: {words}; {served}{tail}"

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
    nobody = next(a for a in mtasts_servers.LOOPBACK_443 if a != mtasts_world.https_443)  # as the zone says
    words = (
        f"MTA-STS policy {policy_url_of(mtasts_world, 'unreachable')} cannot be fetched: connection refused "
        f"({nobody}:443); senders keep a cached policy only until its max_age runs out"
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
            f"policy of {domain} is in enforce mode: senders refuse to deliver to it; {served}"
        )
        if len(summary.encode()) > SUMMARY_TARGET:  # the --ca-file path is as long as the temporary directory's
            summary = summary.rsplit("; ", 1)[0] + "; and 1 more below"
        return f"TLS_MAIL CRITICAL - {summary} | days_remaining={days} handshake_time=Ts;;;0 {MAX_AGE_WEEK}"

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


def test_an_mta_sts_lookup_still_running_at_the_deadline_is_not_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    """In process: both lookups outlive the probe budget; the report says so, the fetch is not tried."""
    from check_tls_mail.checks.mtasts import records as module
    from check_tls_mail.checks.mtasts.check import MtaSts
    from check_tls_mail.net.dialects import PROTOCOLS
    from check_tls_mail.probe.plan import ProbePlan
    from check_tls_mail.probe.run import run

    release = threading.Event()
    monkeypatch.setattr(module, "lookup_record", lambda *args: release.wait(5))
    monkeypatch.setattr(module, "lookup_tlsrpt", lambda *args: release.wait(5))
    with MailServer(lambda sock: None) as server:
        smtp = PROTOCOLS["smtp"]
        plan = ProbePlan("127.0.0.1", server.port, smtp, socket.AF_INET, "mx.test", (), (), 4, 0.5)
        report = run(plan, (MtaSts("x.test", None),))
    release.set()
    assert report.extras["mta_sts"] == MtaStsReport(
        "x.test",
        LookupNotFinished(RecordKind.MTA_STS, "_mta-sts.x.test"),
        None,
        LookupNotFinished(RecordKind.TLSRPT, "_smtp._tls.x.test"),
    )
