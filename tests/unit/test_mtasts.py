"""MTA-STS and TLS-RPT: the RFC rules on their own (policy, mx patterns, records) and the judgement."""

from __future__ import annotations

import pytest

from check_tls_mail.checks.mtasts.judge import (
    HostCertificateUnverified,
    HostListed,
    MaxAgeShort,
    ModeNone,
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
    parse_sts_record,
    parse_tlsrpt_record,
)
from check_tls_mail.checks.mtasts.words import describe
from check_tls_mail.net.http import FetchFailure, HttpsCertificateProblem
from check_tls_mail.severity import Severity

STS = "_mta-sts.example.org"
RPT = "_smtp._tls.example.org"


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
            "MTA-STS record at _mta-sts.example.org is invalid: 2 records begin with v=STSv1, but there must be "
            "exactly one: senders apply no policy",
        ),
        (
            PolicyUnreachable(URL, FetchFailure.UNREACHABLE, "connection refused (127.0.0.1:443)"),
            Severity.CRITICAL,
            f"MTA-STS policy {URL} cannot be fetched: connection refused (127.0.0.1:443) (senders keep a cached "
            "policy only until its max_age runs out)",
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
