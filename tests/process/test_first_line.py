"""The first line stays within output.LINE_LIMIT bytes in every case, perfdata valid and ranked.

Through the real CLI: a name with 8 addresses from a local DNS server, each
address a loopback server with two certificates, every client profile, OK and
failing. Over synthetic perfdata and synthetic assessments: hypothesis.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest
from fakeserver import TlsConfig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from localdns import Responder, loopback, servers_at
from pki import DAY, NOW, Pki
from runs import NAME, ROOT, RSA_ONLY, Run, check
from seam import REFUSED, World, at, judged, plan, served

from check_tls_mail.plugin.output import LINE_LIMIT, SUMMARY_LIMIT, SUMMARY_TARGET, PerfItem, render
from check_tls_mail.tls.versions import TlsVersion

PROFILES = [
    p["name"] for p in json.loads((ROOT / "check_tls_mail" / "clients" / "profiles.json").read_text())["profiles"]
]
#: 'label'=value[UOM];[warn];[crit];[min];[max], as the plugin API defines it.
PERF_ITEM = re.compile(r"^('[^'=]+'|[^' =]+)=-?[\d.]+(s|%|B|c)?(;[^; ]*){0,4}$")


def test_every_profile_is_taken() -> None:
    assert len(PROFILES) == 13


def assert_well_formed(run: Run) -> None:
    first = run.first_line
    assert len(first.encode()) <= LINE_LIMIT, (len(first.encode()), first)
    assert first.count("|") == 1
    assert len(run.summary.encode()) - len("TLS_MAIL CRITICAL - ") <= SUMMARY_TARGET
    for item in first.split(" | ", 1)[1].split(" "):
        assert PERF_ITEM.match(item), item


@pytest.fixture(scope="module")
def pki8(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki8"))


def dual(pki: Pki, stem: str, days: float, names: tuple[str, ...] = (NAME,), short_ca: bool = False) -> TlsConfig:
    issuer = pki.sub_ca(f"Short CA {stem}", NOW - 30 * DAY, NOW + 20 * DAY) if short_ca else None
    ecdsa = pki.leaf(names=names, key_type="ECDSA", days_left=days, issuer=issuer).write(pki.directory, f"{stem}e")
    rsa = pki.leaf(names=names, key_type="RSA", days_left=days + 0.5, issuer=issuer).write(pki.directory, f"{stem}r")
    return TlsConfig([ecdsa, rsa])


def eight(pki: Pki, configs: Sequence[TlsConfig], *extra: str) -> Run:
    """The real CLI against NAME with 8 A records, every profile, and ``extra``."""
    with Responder({NAME: loopback(len(configs))}) as dns, servers_at("imaps", configs) as port:
        clients = [arg for name in PROFILES for arg in ("--client", name)]
        args = ["-H", NAME, "-p", str(port), "-P", "imaps", "--dns-server", dns.server, "--ca-file", pki.root_file]
        return check(*args, *clients, "-t", "30", *extra, timeout=60)


def days_remaining(run: Run) -> list[str]:
    return sorted(label for label in run.perfdata if label.startswith("days_remaining@"))


def test_eight_addresses_all_ok_fit(pki8: Pki) -> None:
    run = eight(pki8, [dual(pki8, "same", 60)] * 8)
    assert run.code == 0, run.stdout
    assert_well_formed(run)
    assert run.summary.startswith(f"TLS_MAIL OK - {NAME}:")
    assert "at 8 addresses" in run.summary and "13/13 clients connect" in run.summary
    assert days_remaining(run) == [f"days_remaining@{ip}" for ip in loopback(8)]


def test_eight_addresses_with_different_certificates_fit_and_are_listed_below(pki8: Pki) -> None:
    configs = [dual(pki8, f"chain{i}", 40 + i, short_ca=True) for i in range(8)]
    ciphers = ["--cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "--cipher", "ECDHE-RSA-AES128-GCM-SHA256"]
    run = eight(pki8, configs, "-w", "10", "-c", "5", *ciphers)
    assert run.code == 0, run.stdout
    assert_well_formed(run)
    assert "certificates differ by address, the first to expire: 127.0.0.1: ECDSA P-256" in run.summary
    below = run.stdout.split("\n")[1:]
    assert "addresses: " + ", ".join(loopback(8)) in below
    assert any(line.startswith("127.0.0.8: ECDSA P-256 certificate valid 47.0 days") for line in below)
    assert days_remaining(run) == [f"days_remaining@{ip}" for ip in loopback(8)]
    # 57 items do not fit: whole items are left off, handshake times and counts before any certificate's days
    assert not any(label.startswith("handshake_time") for label in run.perfdata)
    assert any(line.startswith("perfdata: ") and " items left off " in line for line in below)


def test_eight_addresses_failing_differently_fit_with_the_rest_below(pki8: Pki) -> None:
    configs = [
        TlsConfig(
            dual(pki8, f"bad{i}", 1 + i, names=(f"other{i}.example",), short_ca=True).chains,
            ciphers=RSA_ONLY,
            max_version=ssl.TLSVersion.TLSv1_2,
        )
        for i in range(8)
    ]
    ciphers = ["--cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "--cipher", "ECDHE-RSA-AES128-GCM-SHA256"]
    run = eight(pki8, configs, *ciphers)
    assert run.code == 2, run.stdout
    assert_well_formed(run)
    match = re.search(r"; and (\d+) more below$", run.summary)
    assert match, run.summary
    below = run.stdout.split("\n")[1:]
    for i, ip in enumerate(loopback(8)):
        assert any(line.startswith(f"{ip}: name mismatch: certificate is for other{i}.example") for line in below)
    assert days_remaining(run) == [f"days_remaining@{ip}" for ip in loopback(8)]


def test_eight_addresses_failing_alike_are_said_once(pki8: Pki, tmp_path: Path) -> None:
    chain = pki8.leaf(key_type="ECDSA", days_left=5).write(tmp_path, "stale")
    run = eight(pki8, [TlsConfig([chain], ciphers=RSA_ONLY)] * 8)
    assert run.code == 2, run.stdout
    assert_well_formed(run)
    assert f"TLS_MAIL CRITICAL - {NAME}:" in run.summary
    assert ": all 8 addresses: certificate expires in 5.0 days" in run.summary
    assert (
        "; all 8 addresses: Apple Mail, MTA capped at TLS 1.2, Microsoft 365 and RFC 9325 TLS 1.2 cannot connect"
        in (run.summary)
    )
    assert run.summary.count("certificate expires") == 1
    assert days_remaining(run) == [f"days_remaining@{ip}" for ip in loopback(8)]


# --- synthetic: render --------------------------------------------------------------------------

labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_@.:0123456789", min_size=1, max_size=60)
items = st.builds(
    lambda label, value, rank: PerfItem(f"'{label}'={value:.2f};18:;9:;;90", (rank,)),
    labels,
    st.floats(min_value=-1000, max_value=100000, allow_nan=False),
    st.integers(min_value=0, max_value=6),
)


@given(st.text(max_size=1200), st.lists(items, max_size=80), st.sampled_from([0, 1, 2, 3]))
def test_perfdata_is_left_off_whole_and_least_important_first(summary: str, perf: list[PerfItem], state: int) -> None:
    first = render(state, summary, perf, []).split("\n")[0]
    assert len(first.encode()) <= LINE_LIMIT
    shown = first.split(" | ", 1)[1].split(" ") if " | " in first else []
    texts = [item.text for item in perf]
    assert all(text in texts for text in shown)  # never cut
    assert shown == [text for text in texts if text in shown]  # in their given order
    kept = {(item.rank, i) for i, item in enumerate(perf) if item.text in shown}
    left_off = {(item.rank, i) for i, item in enumerate(perf) if item.text not in shown}
    assert not kept or not left_off or max(kept) < min(left_off)


@given(st.text(max_size=3000))
def test_a_summary_of_any_length_and_script_stays_within_the_limit(summary: str) -> None:
    first = render(2, summary, ["days_remaining=1.00;18:;9:;;90"], []).split("\n")[0]
    assert len(first.encode()) <= LINE_LIMIT
    assert first.endswith(" | days_remaining=1.00;18:;9:;;90")


# --- synthetic: assessments through the summary and the contexts -------------------------------------


def _ipv6(n: int) -> str:
    return f"2001:db8:aaaa:bbbb:cccc:dddd:eeee:{n:04x}"


address_cases = st.tuples(
    st.sampled_from([-3.0, 1.0, 5.0, 15.0, 60.0, 400.0]),  # days left
    st.booleans(),  # a second (RSA) certificate
    st.booleans(),  # the right name
    st.lists(st.sampled_from(PROFILES), unique=True, max_size=13),  # clients that fail
)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(address_cases, min_size=1, max_size=8), st.booleans())
def test_any_assessment_fits_the_first_line(cases: list[tuple[float, bool, bool, list[str]]], v6: bool) -> None:
    world = _world()
    probes = plan("imaps", clients=tuple(PROFILES))
    reports = []
    for n, (days, second, right, failing) in enumerate(cases, 1):
        names = (NAME,) if right else (f"other{n}.example",)
        leaf = world.leaf(names=names, days_left=days)
        rsa = served(world.leaf("RSA", names=names, days_left=days + 1), TlsVersion.TLS1_2) if second else REFUSED
        clients = {name: REFUSED if name in failing else served(leaf) for name in PROFILES}
        ip = _ipv6(n) if v6 else f"192.0.2.{n}"
        reports.append(at(probes, ip, served(leaf), ecdsa=served(leaf, TlsVersion.TLS1_2), rsa=rsa, clients=clients))
    text = judged(world, probes, *reports).output
    first = text.split("\n")[0]
    assert len(first.encode()) <= LINE_LIMIT, first
    assert first.count("|") == 1
    summary, perfdata = first.split(" | ")
    assert len(summary.encode()) <= len("TLS_MAIL CRITICAL - ") + SUMMARY_LIMIT
    for item in perfdata.split(" "):
        assert PERF_ITEM.match(item), item
    shown = {item.split("=")[0].strip("'") for item in perfdata.split(" ")}
    if len(cases) > 1:
        ips = [_ipv6(n) if v6 else f"192.0.2.{n}" for n in range(1, len(cases) + 1)]
        # every address's days_remaining comes before any other item
        missing = [ip for ip in ips if f"days_remaining@{ip}" not in shown]
        if missing:
            assert all(label.startswith("days_remaining@") for label in shown), shown
    assert all(line.isprintable() for line in text.split("\n"))


@cache
def _world() -> World:
    """One World for all examples (a PKI per example would be slow)."""
    return World()
