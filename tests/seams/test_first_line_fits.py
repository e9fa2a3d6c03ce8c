"""Any assessment fits the first line: synthetic reports (hypothesis) through the CLI's own assembly (seam.judged)."""

from __future__ import annotations

import json
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lines import PERF_ITEM
from runs import NAME, ROOT
from seam import REFUSED, World, at, judged, plan, served

from check_tls_mail.plugin.output import LINE_LIMIT, SUMMARY_LIMIT
from check_tls_mail.tls.versions import TlsVersion

PROFILES = [
    p["name"] for p in json.loads((ROOT / "check_tls_mail" / "clients" / "profiles.json").read_text())["profiles"]
]


def _ipv6(n: int) -> str:
    return f"2001:db8:aaaa:bbbb:cccc:dddd:eeee:{n:04x}"


address_cases = st.tuples(
    st.sampled_from([-3.0, 1.0, 5.0, 15.0, 60.0, 400.0]),  # days left
    st.booleans(),  # a second (RSA) certificate
    st.booleans(),  # the right name
    st.lists(st.sampled_from(PROFILES), unique=True, max_size=len(PROFILES)),  # clients that fail
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
