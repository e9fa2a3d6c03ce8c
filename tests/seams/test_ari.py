"""--ari in process: the lookup against the ACME test server (acme_servers.py), and what the CA said judged into
the whole first line and the long output at a fixed time (seam.py)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
from acme_servers import FUTURE, AcmeServer, cert_id
from cryptography import x509
from loopback import free_port
from runs import IN_PROCESS_SLACK
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
    chain_of,
    dual,
    judged,
    plan,
    single,
)

from check_tls_mail.checks.ari import cache
from check_tls_mail.checks.ari.check import Ari
from check_tls_mail.checks.ari.lookup import AriLookup
from check_tls_mail.checks.ari.status import (
    Answered,
    AriOutcome,
    Failure,
    NotAsked,
    Unasked,
    Unavailable,
    Where,
    Window,
)
from check_tls_mail.net.transport import Deadline
from check_tls_mail.probe.outcome import Accepted
from check_tls_mail.probe.report import AddressReport, HostReport

URL = "https://acme.example.test/renewal-info/x.AQ"
WHY = "https://acme.example.test/docs/incident"
#: Ten days ahead of the seam's fixed NOW, two days long.
AHEAD = Window(NOW + 10 * DAY, NOW + 12 * DAY, "")


@pytest.fixture(scope="module")
def world() -> World:
    return World("Ari")


def state(tmp_path: Path) -> cache.StateDir:
    return cache.open_state_dir(str(tmp_path / "state"), "--state-dir")


def status(
    world: World,
    tmp_path: Path,
    *addresses: AddressReport,
    outcomes: Mapping[bytes, AriOutcome],
    verbosity: int = 0,
) -> tuple[int, str]:
    ari = Ari("https://acme.example.test/directory", state(tmp_path), None)
    result = judged(world, plan(), *addresses, extras=[ari], measured={"ari": dict(outcomes)}, verbosity=verbosity)
    return result.code, result.first_line if not verbosity else result.output


def leaf_of(issued: object) -> bytes:
    return chain_of(issued)[0]  # type: ignore[arg-type]


# --- judged: the whole first line -----------------------------------------------------------------


def test_window_ahead_is_ok_saying_when_it_starts(world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    outcome = AriOutcome(Answered(URL, AHEAD), NOW, NOW + 6 * timedelta(hours=1))
    code, line = status(world, tmp_path, single(world, leaf), outcomes={leaf_of(leaf): outcome})
    assert code == 0
    assert line == (
        f"TLS_MAIL OK - {NAME}:993 imaps implicit TLS, TLS 1.3, {ECDSA_OK}, renewal window (ARI) from 2026-12-09 | "
        f"ari_window_start=864000s;0:;-172800: days_remaining={PERF_60} {HANDSHAKE} {USED_60}"
    )


def test_window_open_is_a_warning_with_the_window_and_the_explanation(world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    window = Window(NOW - timedelta(hours=2), NOW + DAY, WHY)
    outcome = AriOutcome(Answered(URL, window), NOW, NOW + timedelta(hours=6))
    code, line = status(world, tmp_path, single(world, leaf), outcomes={leaf_of(leaf): outcome})
    assert code == 1
    assert line == (
        f"TLS_MAIL WARNING - {NAME}:993 imaps: the CA suggests renewing the certificate now: its renewal window (ARI) "
        f"opened 2026-11-29 10:00 UTC and closes 2026-11-30 12:00 UTC (see {WHY}) / {ECDSA_OK} | "
        f"ari_window_start=-7200s;0:;-93600: days_remaining={PERF_60} {HANDSHAKE} {USED_60}"
    )


def test_window_past_is_critical(world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    window = Window(NOW - 3 * DAY, NOW - DAY, WHY)
    outcome = AriOutcome(Answered(URL, window), NOW, NOW + timedelta(hours=6))
    code, line = status(world, tmp_path, single(world, leaf), outcomes={leaf_of(leaf): outcome})
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: the server still serves the certificate past the renewal window its "
        f"CA suggests (ARI), which closed 2026-11-28 12:00 UTC: renew and reload now (see {WHY}) / {ECDSA_OK} | "
        f"ari_window_start=-259200s;0:;-172800: days_remaining={PERF_60} {HANDSHAKE} {USED_60}"
    )


def default_leaf(report: AddressReport) -> bytes:
    reference = report.reference
    assert isinstance(reference, Accepted)
    return reference.chain[0]


def test_each_of_dual_certificates_is_judged_with_its_own_label(world: World, tmp_path: Path) -> None:
    rsa = world.leaf("RSA")
    report = dual(world, rsa)
    past = Window(NOW - 3 * DAY, NOW - DAY, "")
    outcomes = {
        default_leaf(report): AriOutcome(Answered(URL, AHEAD), NOW, NOW + DAY),
        leaf_of(rsa): AriOutcome(Answered(URL, past), NOW, NOW + DAY),
    }
    code, line = status(world, tmp_path, report, outcomes=outcomes)
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: the server still serves the RSA certificate past the renewal window "
        f"its CA suggests (ARI), which closed 2026-11-28 12:00 UTC: renew and reload now / {ECDSA_OK} and {RSA_OK} | "
        f"ari_window_start=864000s;0:;-172800: ari_window_start_rsa=-259200s;0:;-172800: days_remaining={PERF_60} "
        f"days_remaining_rsa={PERF_60} {HANDSHAKE} {USED_60}"
    )


def test_two_addresses_with_the_same_certificate_are_one_problem(world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    probes = plan()
    failed = Unavailable(Where.RENEWAL_INFO, URL, Failure.HTTP_STATUS, "500 Internal Server Error", 500)
    outcome = AriOutcome(failed, NOW, NOW + timedelta(minutes=1))
    ari = Ari(None, state(tmp_path), None)
    result = judged(
        world,
        probes,
        single(world, leaf, probes),
        single(world, leaf, probes, "127.0.0.2"),
        extras=[ari],
        measured={"ari": {leaf_of(leaf): outcome}},
    )
    assert result.code == 1
    assert result.first_line == (
        f"TLS_MAIL WARNING - {NAME}:993 imaps: 127.0.0.1 and 127.0.0.2: renewal window (ARI) of the certificate not "
        f"checked: the renewalInfo {URL} answered HTTP 500 Internal Server Error / 127.0.0.1 and 127.0.0.2: "
        f"{ECDSA_OK} | 'days_remaining@127.0.0.1'={PERF_60} 'days_remaining@127.0.0.2'={PERF_60} "
        "'handshake_time@127.0.0.1'=0.01s;;;0 'handshake_time@127.0.0.2'=0.01s;;;0 "
        "'lifetime_used@127.0.0.1'=33.33%;80;90;0;100 'lifetime_used@127.0.0.2'=33.33%;80;90;0;100"
    )


def test_an_issuer_with_no_known_directory_is_a_warning_asking_for_one(world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    outcome = AriOutcome(Unasked(NotAsked.NO_DIRECTORY, "Ari Intermediate CA"))
    code, line = status(world, tmp_path, single(world, leaf), outcomes={leaf_of(leaf): outcome})
    assert code == 1
    assert line == (
        f"TLS_MAIL WARNING - {NAME}:993 imaps: renewal window (ARI) of the certificate not checked: no ACME directory "
        f"is known for its issuer Ari Intermediate CA: give --acme-directory / {ECDSA_OK} | "
        f"days_remaining={PERF_60} {HANDSHAKE} {USED_60}"
    )


def test_the_long_output_says_where_the_answer_came_from(world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    outcome = AriOutcome(Answered(URL, AHEAD), NOW - timedelta(hours=2), NOW + timedelta(hours=4), cached=True)
    code, output = status(world, tmp_path, single(world, leaf), outcomes={leaf_of(leaf): outcome}, verbosity=1)
    assert code == 0
    assert (
        "  ARI: the CA suggests renewing the certificate from 2026-12-09 12:00 UTC to 2026-12-11 12:00 UTC (ARI), "
        "in 10.0 days (cached answer of 2026-11-29 10:00 UTC, valid until 2026-11-29 16:00 UTC)"
    ) in output.split("\n")
    assert f"ARI: ACME directory https://acme.example.test/directory, answers kept in {tmp_path}/state" in output


# --- the lookup against the ACME test server ---------------------------------------------------------


def host(*addresses: AddressReport) -> HostReport:
    return HostReport(plan(), None, addresses, len(addresses), 0.05)


def lookup(acme: AcmeServer, scenario: str | None, tmp_path: Path) -> AriLookup:
    directory = acme.directory(scenario) if scenario is not None else None
    return AriLookup(directory, state(tmp_path), acme.ca_file, None, 12)


def test_dual_certificates_each_asked_with_their_cert_id_the_directory_once(
    acme_server: AcmeServer, world: World, tmp_path: Path
) -> None:
    rsa = world.leaf("RSA")
    report = dual(world, rsa)
    ecdsa_der = default_leaf(report)
    before = len(acme_server.asked("future"))
    outcomes = lookup(acme_server, "future", tmp_path).finish(host(report), Deadline(10))
    asked = acme_server.asked("future")[before:]
    expected = {f"/future/renewal-info/{cert_id(c)}" for c in (rsa.cert, x509.load_der_x509_certificate(ecdsa_der))}
    assert asked.count("/future/directory") == 1
    assert set(asked) - {"/future/directory"} == expected and len(asked) == 3
    for der in (ecdsa_der, leaf_of(rsa)):
        outcome = outcomes[der]
        assert outcome.answer == Answered(
            f"{acme_server.url('future')}/renewal-info/{cert_id(x509.load_der_x509_certificate(der))}",
            Window(*FUTURE, ""),
        )
        assert outcome.cached is False and outcome.note == ""
        assert outcome.until is not None and outcome.asked is not None
        assert outcome.until - outcome.asked == timedelta(hours=6)  # Retry-After: 21600


def test_a_second_lookup_is_answered_from_the_cache_without_a_request(
    acme_server: AcmeServer, world: World, tmp_path: Path
) -> None:
    leaf = world.leaf()
    first = lookup(acme_server, "open", tmp_path).finish(host(single(world, leaf)), Deadline(10))[leaf_of(leaf)]
    before = len(acme_server.requests)
    second = lookup(acme_server, "open", tmp_path).finish(host(single(world, leaf)), Deadline(10))[leaf_of(leaf)]
    assert len(acme_server.requests) == before
    assert (first.cached, second.cached) == (False, True)
    assert second.answer == first.answer and isinstance(second.answer, Answered)
    for kept, asked in ((second.asked, first.asked), (second.until, first.until)):
        assert kept is not None and asked is not None
        assert abs(kept - asked) < timedelta(milliseconds=1)  # kept as a float of seconds


@pytest.mark.parametrize(
    ("scenario", "kept"),
    [
        ("short-retry", timedelta(minutes=1)),  # Retry-After: 1, at least a minute
        ("long-retry", timedelta(days=1)),  # 30 days, at most a day
        ("no-retry-after", timedelta(hours=6)),
        ("date-retry", timedelta(hours=2)),  # an HTTP-date two hours ahead
        ("not-found", timedelta(hours=6)),  # a long-term error
        ("server-error", timedelta(minutes=2)),  # 500 with Retry-After: 120
    ],
)
def test_the_answer_is_kept_as_retry_after_says(
    acme_server: AcmeServer, world: World, tmp_path: Path, scenario: str, kept: timedelta
) -> None:
    leaf = world.leaf()
    outcome = lookup(acme_server, scenario, tmp_path).finish(host(single(world, leaf)), Deadline(10))[leaf_of(leaf)]
    assert outcome.asked is not None and outcome.until is not None
    assert abs((outcome.until - outcome.asked) - kept) < timedelta(seconds=5)
    entry = cache.read_entry(state(tmp_path), acme_server.directory(scenario), cert_id(leaf.cert), outcome.asked)
    assert entry is not None and entry.answer == outcome.answer
    assert abs(entry.until - outcome.until) < timedelta(milliseconds=1)


def test_a_temporary_error_counts_its_tries_in_the_cache(acme_server: AcmeServer, world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    ask = lookup(acme_server, "server-error", tmp_path)
    outcome = ask.finish(host(single(world, leaf)), Deadline(10))[leaf_of(leaf)]
    directory, identifier = acme_server.directory("server-error"), cert_id(leaf.cert)
    entry = cache.read_entry(state(tmp_path), directory, identifier, datetime.now(UTC))
    assert entry is not None and entry.failures == 1 and outcome.answer == entry.answer
    # its time is up: asked again, and the second failure in a row is counted
    earlier = entry._replace(asked=entry.asked - timedelta(minutes=1), until=entry.asked - timedelta(seconds=30))
    cache.write_entry(state(tmp_path), directory, identifier, earlier)
    lookup(acme_server, "server-error", tmp_path).finish(host(single(world, leaf)), Deadline(10))
    again = cache.read_entry(state(tmp_path), directory, identifier, datetime.now(UTC))
    assert again is not None and again.failures == 2


def test_an_expired_certificate_and_an_unknown_issuer_are_not_asked(
    acme_server: AcmeServer, world: World, tmp_path: Path
) -> None:
    expired = world.leaf(days_left=-1 - (datetime.now(UTC) - NOW).days)  # expired now, whatever the clock says
    unknown = world.leaf()
    before = len(acme_server.requests)
    outcomes = lookup(acme_server, None, tmp_path).finish(
        host(single(world, expired), single(world, unknown, ip="127.0.0.2")), Deadline(10)
    )
    assert outcomes[leaf_of(expired)].answer == Unasked(NotAsked.EXPIRED)
    assert outcomes[leaf_of(unknown)].answer == Unasked(NotAsked.NO_DIRECTORY, "Ari Intermediate CA")
    assert len(acme_server.requests) == before


def test_a_trickling_answer_is_cut_at_the_deadline(acme_server: AcmeServer, world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    started = time.monotonic()
    outcome = lookup(acme_server, "slow", tmp_path).finish(host(single(world, leaf)), Deadline(1.5))[leaf_of(leaf)]
    assert time.monotonic() - started < 1.5 + IN_PROCESS_SLACK
    url = f"{acme_server.url('slow')}/renewal-info/{cert_id(leaf.cert)}"
    assert outcome.answer == Unavailable(
        Where.RENEWAL_INFO, url, Failure.TIMEOUT, "no complete answer before the deadline"
    )


@pytest.mark.parametrize(
    ("scenario", "where", "why", "detail"),
    [
        ("no-ari", Where.DIRECTORY, Failure.NO_ARI, ""),
        ("directory-error", Where.DIRECTORY, Failure.HTTP_STATUS, "503 Service Unavailable"),
        ("directory-huge", Where.DIRECTORY, Failure.OVERSIZED, "Content-Length LENGTH is over 65536 bytes"),
        ("huge", Where.RENEWAL_INFO, Failure.OVERSIZED, "Content-Length LENGTH is over 65536 bytes"),
        ("streamed", Where.RENEWAL_INFO, Failure.OVERSIZED, "more than 65536 bytes"),
        ("deep", Where.RENEWAL_INFO, Failure.INVALID, "not JSON (nested too deeply)"),
        ("bad-json", Where.RENEWAL_INFO, Failure.INVALID, "not JSON (Expecting value: line 1 column 31 (char 30))"),
        ("redirect", Where.RENEWAL_INFO, Failure.REDIRECT, "redirects to PATH"),
    ],
)
def test_hostile_and_broken_answers_are_no_answer(
    acme_server: AcmeServer, world: World, tmp_path: Path, scenario: str, where: Where, why: Failure, detail: str
) -> None:
    leaf = world.leaf()
    outcome = lookup(acme_server, scenario, tmp_path).finish(host(single(world, leaf)), Deadline(10))[leaf_of(leaf)]
    answer = outcome.answer
    assert isinstance(answer, Unavailable)
    path = f"/{scenario}/renewal-info/{cert_id(leaf.cert)}"
    url = acme_server.directory(scenario) if where is Where.DIRECTORY else f"https://127.0.0.1:{acme_server.port}{path}"
    shown = detail.replace("PATH", path)
    if "LENGTH" in detail:
        shown = detail.replace("LENGTH", answer.detail.split()[1])
        assert int(answer.detail.split()[1]) > 65536
    assert (answer.where, answer.url, answer.why, answer.detail) == (where, url, why, shown)


def test_a_closed_port_and_a_wrong_name_are_no_answer(acme_server: AcmeServer, world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    closed = free_port()
    refused = AriLookup(f"https://127.0.0.1:{closed}/dir", state(tmp_path), acme_server.ca_file, None, 12)
    answer = refused.finish(host(single(world, leaf)), Deadline(10))[leaf_of(leaf)].answer
    assert answer == Unavailable(
        Where.DIRECTORY,
        f"https://127.0.0.1:{closed}/dir",
        Failure.UNREACHABLE,
        f"connection refused (127.0.0.1:{closed})",
    )
    named = AriLookup(acme_server.directory("future", "localhost"), state(tmp_path), acme_server.ca_file, None, 12)
    answer = named.finish(host(single(world, leaf)), Deadline(10))[leaf_of(leaf)].answer
    assert isinstance(answer, Unavailable) and answer.why is Failure.CERTIFICATE
    assert answer.detail.startswith("not valid for the host name (")
    untrusted = AriLookup(acme_server.directory("future"), state(tmp_path), None, None, 12)  # the system store
    answer = untrusted.finish(host(single(world, leaf)), Deadline(10))[leaf_of(leaf)].answer
    assert isinstance(answer, Unavailable) and answer.why is Failure.CERTIFICATE
    assert answer.detail.startswith("not trusted (")


def test_the_measured_outcomes_cannot_be_changed(acme_server: AcmeServer, world: World, tmp_path: Path) -> None:
    leaf = world.leaf()
    outcomes = lookup(acme_server, "future", tmp_path).finish(host(single(world, leaf)), Deadline(10))
    assert isinstance(outcomes, MappingProxyType)


def test_the_state_directory_is_made_0700_when_the_first_answer_is_kept(
    acme_server: AcmeServer, world: World, tmp_path: Path
) -> None:
    leaf = world.leaf()
    path = tmp_path / "state"
    assert not path.exists()
    lookup(acme_server, "future", tmp_path).finish(host(single(world, leaf)), Deadline(10))
    assert path.is_dir() and (path.stat().st_mode & 0o777) == 0o700
    assert [p.name for p in path.iterdir() if p.name.startswith("ari-")] == [
        Path(cache.entry_path(state(tmp_path), acme_server.directory("future"), cert_id(leaf.cert))).name
    ]


def test_an_answer_that_cannot_be_kept_is_judged_and_says_so(
    acme_server: AcmeServer, world: World, tmp_path: Path
) -> None:
    leaf = world.leaf()
    ask = lookup(acme_server, "future", tmp_path)
    (tmp_path / "state").write_text("")  # spoiled after the options were read
    outcome = ask.finish(host(single(world, leaf)), Deadline(10))[leaf_of(leaf)]
    assert outcome.answer == Answered(
        f"{acme_server.url('future')}/renewal-info/{cert_id(leaf.cert)}", Window(*FUTURE, "")
    )
    assert outcome.note == "not cached: the state directory is not a directory"
