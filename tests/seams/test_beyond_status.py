"""Renewal, required names, revocation and MTA-STS judged from probe reports: the whole first line, at a fixed time.

The reports are built here (tests/support/seam.py), so every state and its
words are exact: the second certificate of a dual server and the second
address of a name are named, dates are the fixed clock's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pytest
from cryptography import x509
from pki import Issued
from seam import (
    DAY,
    ECDSA_OK,
    HANDSHAKE,
    NAME,
    NOW,
    PERF_60,
    RSA_OK,
    USED_60,
    World,
    at,
    certificate,
    chain_of,
    dual,
    judged,
    plan,
    served,
    single,
)

from check_tls_mail.checks.mtasts.check import MtaSts
from check_tls_mail.checks.mtasts.judge import MtaStsReport
from check_tls_mail.checks.mtasts.policy import Mode, Policy, PolicyFetched, PolicyUnreachable
from check_tls_mail.checks.mtasts.records import (
    LookupNotFinished,
    RecordAbsent,
    RecordDefect,
    RecordInvalid,
    RecordKind,
    StsRecord,
    TlsRptRecord,
)
from check_tls_mail.checks.protocol import OptionalCheck
from check_tls_mail.checks.renewal.check import Renewal
from check_tls_mail.checks.renewal.judge import ExpectedCertificate
from check_tls_mail.checks.revocation.check import Revocation
from check_tls_mail.checks.revocation.status import (
    CertificateRevocation,
    Good,
    NotCheckable,
    Revoked,
    Source,
    Unavailability,
    Unavailable,
)
from check_tls_mail.checks.revocation.status import Unknown as OcspUnknown
from check_tls_mail.net.http import FetchFailure
from check_tls_mail.probe.plan import ProbePlan
from check_tls_mail.probe.report import AddressReport
from check_tls_mail.tls.versions import TlsVersion

FILE = "/etc/letsencrypt/live/mail/fullchain.pem"
OCSP_URL = "http://ocsp.example.test/"
CRL_URL = "http://crl.example.test/int.crl"
REVOKED_AT = datetime(2026, 11, 26, 9, 30, tzinfo=NOW.tzinfo)


@pytest.fixture(scope="module")
def world() -> World:
    return World("Beyond")


def facts(issued: Issued) -> object:
    return certificate(issued)


def status(
    world: World,
    probes: ProbePlan,
    *addresses: AddressReport,
    verify: bool = True,
    expected: tuple[ExpectedCertificate, ...] = (),
    names: tuple[str, ...] = (),
    mta_sts: MtaStsReport | None = None,
    revocation: Mapping[tuple[bytes, ...], tuple[CertificateRevocation, ...]] | None = None,
    verbosity: int = 0,
) -> tuple[int, str]:
    """The output for these reports with the optional checks the arguments ask for (first line, or all with -v)."""
    extras: list[OptionalCheck] = []
    measured: dict[str, object] = {}
    if expected or names:
        extras.append(Renewal(expected, names))
    if revocation is not None:
        extras.append(Revocation(None))
        measured["revocation"] = dict(revocation)
    if mta_sts is not None:
        extras.append(MtaSts(DOMAIN, None, world.anchors))
        measured["mta_sts"] = mta_sts
    result = judged(world, probes, *addresses, extras=extras, measured=measured, verify=verify, verbosity=verbosity)
    return result.code, result.first_line if not verbosity else result.output


# --- --expect-cert ---------------------------------------------------------------------------------


def test_served_certificate_equal_to_the_file_is_ok(world: World) -> None:
    leaf = world.leaf()
    code, line = status(world, plan(), single(world, leaf), expected=(ExpectedCertificate(FILE, facts(leaf)),))
    assert code == 0
    assert line == (
        f"TLS_MAIL OK - {NAME}:993 imaps implicit TLS, TLS 1.3, {ECDSA_OK}, serves the certificate of --expect-cert | "
        f"days_remaining={PERF_60} {HANDSHAKE} {USED_60}"
    )


def test_renewed_file_not_served_is_a_warning_naming_both_dates_and_the_file(world: World) -> None:
    renewed = world.leaf(days_left=89)
    code, line = status(
        world, plan(), single(world, world.leaf()), expected=(ExpectedCertificate(FILE, facts(renewed)),)
    )
    assert code == 1
    assert line == (
        f"TLS_MAIL WARNING - {NAME}:993 imaps: the server still serves the certificate valid until 2027-01-28, while "
        f"{FILE} holds the renewed one (until 2027-02-26): reload the service / {ECDSA_OK} | "
        f"days_remaining={PERF_60} {HANDSHAKE} {USED_60}"
    )


def test_renewal_not_served_and_the_served_one_due_is_critical_by_expiry(world: World) -> None:
    renewed = world.leaf(days_left=89)
    code, line = status(
        world, plan(), single(world, world.leaf(days_left=5)), expected=(ExpectedCertificate(FILE, facts(renewed)),)
    )
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: certificate expires in 5.0 days (2026-12-04 12:00 UTC), below 9 days "
        "(10% of its 90-day lifetime) / the server still serves the certificate valid until 2026-12-04, while "
        f"{FILE} holds the renewed one (until 2027-02-26): reload the service | days_remaining=5.00;18:;9:;;90 "
        f"{HANDSHAKE} lifetime_used=94.44%;80;90;0;100"
    )


def test_dual_certificates_are_held_against_their_own_files(world: World) -> None:
    rsa_old = world.leaf("RSA", days_left=30)
    rsa_new, ecdsa = world.leaf("RSA", days_left=88), world.leaf()
    expected = (
        ExpectedCertificate("/etc/ssl/ecdsa.pem", facts(ecdsa)),
        ExpectedCertificate("/etc/ssl/rsa.pem", facts(rsa_new)),
    )
    probes = plan()
    address = at(
        probes,
        "127.0.0.1",
        served(ecdsa),
        ecdsa=served(ecdsa, TlsVersion.TLS1_2),
        rsa=served(rsa_old, TlsVersion.TLS1_2),
    )
    code, line = status(world, probes, address, expected=expected)
    assert code == 1
    rsa_30 = "RSA 2048 certificate valid 30.0 days (until 2026-12-29 12:00 UTC, warning at 18 days)"
    assert line == (
        f"TLS_MAIL WARNING - {NAME}:993 imaps: the server still serves the RSA certificate valid until 2026-12-29, "
        "while /etc/ssl/rsa.pem holds the renewed one (until 2027-02-25): reload the service / "
        f"{ECDSA_OK} and {rsa_30} | "
        f"days_remaining={PERF_60} days_remaining_rsa=30.00;18:;9:;;90 {HANDSHAKE} lifetime_used=66.67%;80;90;0;100"
    )


def test_file_older_than_the_served_certificate_names_both(world: World) -> None:
    old = world.leaf(days_left=20)
    code, line = status(world, plan(), single(world, world.leaf()), expected=(ExpectedCertificate(FILE, facts(old)),))
    assert code == 1
    assert line == (
        f"TLS_MAIL WARNING - {NAME}:993 imaps: the server serves the certificate valid until 2027-01-28, newer than "
        f"the one in {FILE} (until 2026-12-19): is that the file the service uses? / {ECDSA_OK} | "
        f"days_remaining={PERF_60} {HANDSHAKE} {USED_60}"
    )


# --- --require-name ------------------------------------------------------------------------------------


def test_every_required_name_covered_is_ok(world: World) -> None:
    leaf = world.leaf(names=(NAME, "imap.example.test", "smtp.example.test"))
    code, line = status(world, plan(), single(world, leaf), names=("imap.example.test", "smtp.example.test"))
    assert code == 0
    assert line == (
        f"TLS_MAIL OK - {NAME}:993 imaps implicit TLS, TLS 1.3, {ECDSA_OK}, covers imap.example.test and "
        f"smtp.example.test | days_remaining={PERF_60} {HANDSHAKE} {USED_60}"
    )


def test_name_dropped_on_the_second_address_names_it(world: World) -> None:
    full = world.leaf(names=(NAME, "imap.example.test"))
    dropped = world.leaf(names=(NAME,))
    probes = plan()
    code, line = status(
        world,
        probes,
        single(world, full, probes),
        single(world, dropped, probes, "127.0.0.2"),
        names=("imap.example.test",),
    )
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: 127.0.0.2: the certificate (for {NAME}) does not cover "
        "imap.example.test: clients that use those names fail / 127.0.0.2: "
        f"{ECDSA_OK} / 127.0.0.1: OK | 'days_remaining@127.0.0.1'={PERF_60} 'days_remaining@127.0.0.2'={PERF_60} "
        "'handshake_time@127.0.0.1'=0.01s;;;0 'handshake_time@127.0.0.2'=0.01s;;;0 "
        "'lifetime_used@127.0.0.1'=33.33%;80;90;0;100 'lifetime_used@127.0.0.2'=33.33%;80;90;0;100"
    )


# --- --revocation --------------------------------------------------------------------------------------


def test_every_certificate_good_is_ok_with_the_sources(world: World) -> None:
    leaf = world.leaf()
    answers = (
        CertificateRevocation(0, NAME, Good(Source.OCSP, OCSP_URL, NOW - DAY, NOW + DAY)),
        CertificateRevocation(1, "Beyond Intermediate CA", Good(Source.CRL, CRL_URL, NOW - DAY, NOW + 6 * DAY)),
    )
    code, line = status(world, plan(), single(world, leaf), revocation={chain_of(leaf): answers})
    assert code == 0
    assert line == (
        f"TLS_MAIL OK - {NAME}:993 imaps implicit TLS, TLS 1.3, {ECDSA_OK}, not revoked (OCSP, CRL) | "
        f"days_remaining={PERF_60} {HANDSHAKE} {USED_60}"
    )


def test_revoked_intermediate_of_the_second_certificate_is_critical_with_date_and_reason(world: World) -> None:
    rsa_ca = world.sub_ca("Beyond RSA Intermediate", 1000)
    rsa, ecdsa = world.leaf("RSA", issuer=rsa_ca), world.leaf()
    good = CertificateRevocation(0, NAME, Good(Source.OCSP, OCSP_URL, NOW - DAY, NOW + DAY))
    revocation = {
        chain_of(ecdsa): (good, CertificateRevocation(1, "Beyond Intermediate CA", NotCheckable())),
        chain_of(rsa): (
            good,
            CertificateRevocation(
                1,
                "Beyond RSA Intermediate",
                Revoked(Source.CRL, CRL_URL, REVOKED_AT, x509.ReasonFlags.ca_compromise),
            ),
        ),
    }
    code, line = status(world, plan(), dual(world, rsa), revocation=revocation)
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: intermediate Beyond RSA Intermediate was revoked on 2026-11-26 "
        f"(cACompromise), says the CRL {CRL_URL} / {ECDSA_OK} and {RSA_OK} | "
        f"days_remaining={PERF_60} days_remaining_rsa={PERF_60} {HANDSHAKE} {USED_60}"
    )


@pytest.mark.parametrize(
    ("answer", "code", "words"),
    [
        (
            OcspUnknown(OCSP_URL),
            2,
            f"the OCSP responder {OCSP_URL} does not know the certificate (status unknown): clients that check OCSP "
            "may refuse it",
        ),
        (
            Unavailable(Source.OCSP, OCSP_URL, Unavailability.TIMEOUT, "no answer before the deadline"),
            1,
            f"revocation of the certificate not checked: the OCSP responder {OCSP_URL} did not answer in time "
            "(no answer before the deadline)",
        ),
    ],
)
def test_leaf_revocation_states(world: World, answer: object, code: int, words: str) -> None:
    leaf = world.leaf()
    checked = (CertificateRevocation(0, NAME, answer),)  # type: ignore[arg-type]
    got, line = status(world, plan(), single(world, leaf), revocation={chain_of(leaf): checked})
    state = {1: "WARNING", 2: "CRITICAL"}[code]
    assert (got, line) == (
        code,
        f"TLS_MAIL {state} - {NAME}:993 imaps: {words} / {ECDSA_OK} | days_remaining={PERF_60} {HANDSHAKE} {USED_60}",
    )


def test_no_ocsp_or_crl_named_is_ok_and_said(world: World) -> None:
    leaf = world.leaf()
    checked = (CertificateRevocation(0, NAME, NotCheckable()),)
    code, line = status(world, plan(), single(world, leaf), revocation={chain_of(leaf): checked})
    assert (code, line) == (
        0,
        f"TLS_MAIL OK - {NAME}:993 imaps implicit TLS, TLS 1.3, {ECDSA_OK}, 1 certificate without OCSP or CRL | "
        f"days_remaining={PERF_60} {HANDSHAKE} {USED_60}",
    )


# --- --mta-sts -------------------------------------------------------------------------------------------

DOMAIN = "example.test"
STS = StsRecord(f"_mta-sts.{DOMAIN}", "20261129", "v=STSv1; id=20261129")
RPT = TlsRptRecord(
    f"_smtp._tls.{DOMAIN}", ("mailto:tlsrpt@example.test",), "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"
)
URL = f"https://mta-sts.{DOMAIN}/.well-known/mta-sts.txt"
MAX_AGE = "mta_sts_max_age=604800s;86400:;;0;31557600"
SMTP_OK = f"{NAME}:25 smtp STARTTLS, TLS 1.3, {ECDSA_OK}"


def policy(mode: Mode, *mx: str, max_age: int = 604800) -> MtaStsReport:
    return MtaStsReport(DOMAIN, STS, PolicyFetched(URL, Policy(mode, mx, max_age)), RPT)


def smtp(
    world: World, leaf: Issued | None = None, verify: bool = True, mta_sts: MtaStsReport | None = None
) -> tuple[int, str]:
    probes = plan("smtp")
    return status(world, probes, single(world, leaf or world.leaf(), probes), verify=verify, mta_sts=mta_sts)


def test_listed_mx_under_enforce_is_ok_with_max_age_perfdata(world: World) -> None:
    code, line = smtp(world, mta_sts=policy(Mode.ENFORCE, "*.example.test"))
    assert (code, line) == (
        0,
        f"TLS_MAIL OK - {SMTP_OK}, MTA-STS enforce: matches mx *.example.test | days_remaining={PERF_60} "
        f"{HANDSHAKE} {USED_60} {MAX_AGE}",
    )


@pytest.mark.parametrize(
    ("mode", "code", "consequence"),
    [
        (Mode.ENFORCE, 2, "senders refuse to deliver to it"),
        (Mode.TESTING, 1, "in testing mode senders still deliver, and report it"),
    ],
)
def test_unlisted_mx_is_critical_in_enforce_and_warning_in_testing(
    world: World, mode: Mode, code: int, consequence: str
) -> None:
    got, line = smtp(world, mta_sts=policy(mode, "mx1.example.test", "mx2.example.test"))
    state = {1: "WARNING", 2: "CRITICAL"}[code]
    assert (got, line) == (
        code,
        f"TLS_MAIL {state} - {NAME}:25 smtp: {NAME} matches no mx of the MTA-STS policy of {DOMAIN} (mode "
        f"{mode.value}: mx mx1.example.test, mx2.example.test): {consequence} / {ECDSA_OK} | "
        f"days_remaining={PERF_60} {HANDSHAKE} {USED_60} {MAX_AGE}",
    )


def test_untrusted_mx_under_enforce_is_critical_even_with_no_verify_chain(world: World) -> None:
    stranger = World("Stranger").leaf()
    code, line = smtp(world, stranger, verify=False, mta_sts=policy(Mode.ENFORCE, NAME))
    assert (code, line) == (
        2,
        f"TLS_MAIL CRITICAL - {NAME}:25 smtp: the certificate of {NAME} does not verify (untrusted chain: issuer "
        f"Stranger Root CA is not in --ca-file root.pem), and the MTA-STS policy of {DOMAIN} is in enforce mode: "
        f"senders refuse to deliver to it / {ECDSA_OK} | days_remaining={PERF_60} {HANDSHAKE} {USED_60} {MAX_AGE}",
    )


def test_expired_mx_certificate_under_testing_is_a_warning_beside_the_expiry(world: World) -> None:
    code, line = smtp(world, world.leaf(days_left=-2), verify=False, mta_sts=policy(Mode.TESTING, NAME))
    assert (code, line) == (
        2,
        f"TLS_MAIL CRITICAL - {NAME}:25 smtp: certificate expired 2.0 days ago (2026-11-27 12:00 UTC) / the "
        f"certificate of {NAME} does not verify, and the MTA-STS policy of {DOMAIN} is in testing mode: in testing "
        "mode senders still deliver, and report it | "
        f"days_remaining=-2.00;18:;9:;;90 {HANDSHAKE} lifetime_used=100.00%;80;90;0;100 {MAX_AGE}",
    )


def test_mode_none_and_a_short_max_age_warn(world: World) -> None:
    code, line = smtp(world, mta_sts=policy(Mode.NONE, max_age=3600))
    assert (code, line) == (
        1,
        f"TLS_MAIL WARNING - {NAME}:25 smtp: the MTA-STS policy of {DOMAIN} is in mode none: senders enforce "
        f"nothing / the MTA-STS policy of {DOMAIN} has max_age 3600 s (1 hours), under a day: senders forget it soon "
        f"when the policy host is down (RFC 8461 expects weeks) / {ECDSA_OK} | days_remaining={PERF_60} "
        f"{HANDSHAKE} {USED_60} mta_sts_max_age=3600s;86400:;;0;31557600",
    )


@pytest.mark.parametrize(
    ("report", "code", "words"),
    [
        (
            MtaStsReport(DOMAIN, RecordAbsent(RecordKind.MTA_STS, STS.name), None, RPT),
            1,
            f"no MTA-STS record at _mta-sts.{DOMAIN}: senders apply no policy",
        ),
        (
            MtaStsReport(DOMAIN, LookupNotFinished(RecordKind.MTA_STS, STS.name), None, RPT),
            2,
            f"MTA-STS lookup of _mta-sts.{DOMAIN} did not finish in time",
        ),
        (
            MtaStsReport(
                DOMAIN, STS, PolicyUnreachable(URL, FetchFailure.TIMEOUT, "the fetch did not finish in time"), RPT
            ),
            2,
            f"MTA-STS policy {URL} cannot be fetched: the fetch did not finish in time (senders keep a cached policy "
            "only until its max_age runs out)",
        ),
        (
            policy(Mode.ENFORCE, NAME)._replace(
                tlsrpt=RecordInvalid(RecordKind.TLSRPT, RPT.name, RecordDefect.BAD_RUA, "ftp://reports.example.test/")
            ),
            1,
            f"TLS-RPT record at _smtp._tls.{DOMAIN} is invalid: report address ftp://reports.example.test/ is not a "
            "mailto: or https: URI: senders send no TLS reports",
        ),
    ],
)
def test_records_and_fetch_states(world: World, report: MtaStsReport, code: int, words: str) -> None:
    got, line = smtp(world, mta_sts=report)
    state = {1: "WARNING", 2: "CRITICAL"}[code]
    perf = f" {MAX_AGE}" if isinstance(report.fetch, PolicyFetched) else ""
    assert (got, line) == (
        code,
        f"TLS_MAIL {state} - {NAME}:25 smtp: {words} / {ECDSA_OK} | days_remaining={PERF_60} {HANDSHAKE} "
        f"{USED_60}{perf}",
    )


def test_words_of_every_check_with_v(world: World) -> None:
    """-v names the file, the required names, each revocation answer, the policy and the TLS-RPT record."""
    leaf = world.leaf(names=(NAME, "imap.example.test"))
    probes = plan("smtp")
    revocation = {chain_of(leaf): (CertificateRevocation(0, NAME, Good(Source.OCSP, OCSP_URL, NOW - DAY, None)),)}
    _, output = status(
        world,
        probes,
        single(world, leaf, probes),
        expected=(ExpectedCertificate(FILE, facts(leaf)),),  # type: ignore[arg-type]
        names=("imap.example.test",),
        mta_sts=policy(Mode.ENFORCE, NAME),
        revocation=revocation,
        verbosity=1,
    )
    lines = output.splitlines()
    assert lines[0] == (
        f"TLS_MAIL OK - {SMTP_OK}, serves the certificate of --expect-cert, covers imap.example.test, "
        f"not revoked (OCSP), MTA-STS enforce: matches mx {NAME} | days_remaining={PERF_60} {HANDSHAKE} {USED_60} "
        f"{MAX_AGE}"
    )
    assert lines[5:] == [
        f"  --expect-cert: the certificate served is the one in {FILE}",
        "  --require-name: the certificate covers every required name (imap.example.test)",
        f"  revocation: the certificate is not revoked (OCSP responder {OCSP_URL}, as of 2026-11-28 12:00 UTC)",
        "  MTA-STS: the chain verifies with the trust anchors, as senders verify it",
        "ECDSA suites over TLS 1.2: accepted, TLS 1.2 TLS_AES_256_GCM_SHA384 (0.010 s)",
        "RSA suites over TLS 1.2: rejected: server sent TLS alert handshake failure (0.010 s)",
        f"MTA-STS of {DOMAIN} for {NAME}:",
        f"  MTA-STS record at _mta-sts.{DOMAIN}: id 20261129",
        f"  MTA-STS policy: mode enforce, max_age 604800 s (7 days), mx {NAME}",
        f"  {NAME} is listed in the MTA-STS policy of {DOMAIN} (mx {NAME}, mode enforce)",
        f"  TLS-RPT record at _smtp._tls.{DOMAIN}: reports to mailto:tlsrpt@example.test",
    ]


def test_untrusted_mx_with_the_chain_judged_says_why_once(world: World) -> None:
    """Without --no-verify-chain the chain context already says why: the MTA-STS words do not repeat it."""
    stranger = World("Stranger").leaf()
    code, line = smtp(world, stranger, mta_sts=policy(Mode.ENFORCE, NAME))
    assert (code, line) == (
        2,
        f"TLS_MAIL CRITICAL - {NAME}:25 smtp: untrusted chain: issuer Stranger Root CA is not in --ca-file root.pem / "
        f"the certificate of {NAME} does not verify, and the MTA-STS policy of {DOMAIN} is in enforce mode: senders "
        f"refuse to deliver to it | days_remaining={PERF_60} {HANDSHAKE} {USED_60} {MAX_AGE}",
    )
