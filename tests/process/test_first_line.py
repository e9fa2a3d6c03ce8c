"""The first line stays within output.LINE_LIMIT bytes in every case, perfdata valid and ranked, through the real CLI.

A name with 8 addresses from a local DNS server, each address a loopback
server with two certificates, every client profile, OK and failing.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Sequence
from pathlib import Path

import pytest
from fakeserver import TlsConfig, loopback, servers_at
from lines import PERF_ITEM
from localdns import Responder
from pki import DAY, NOW, Pki
from runs import NAME, ROOT, RSA_ONLY, Run, check

from check_tls_mail.plugin.output import LINE_LIMIT, SUMMARY_TARGET

PROFILES = [
    p["name"] for p in json.loads((ROOT / "check_tls_mail" / "clients" / "profiles.json").read_text())["profiles"]
]


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
    assert "at 8 addresses" in run.summary and f"{len(PROFILES)}/{len(PROFILES)} clients connect" in run.summary
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
    match = re.search(r" \((\d+) more problems? below\)$", run.summary)
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
    # Every profile: the five that stop at TLS 1.2 fail alike, said once for all addresses (below: too long here).
    assert run.summary.endswith(" (1 more problem below)")
    clause = (
        "all 8 addresses: Apple Mail, MTA on OpenSSL 1.0.2, OpenSSL 3 capped at TLS 1.2, Microsoft 365 and RFC 9325 "
        "TLS 1.2 cannot connect over TLS 1.2: "
    )
    assert run.stdout.count(clause) == 1 and run.stdout.split("\n")[3].startswith(clause), run.stdout
    assert run.summary.count("certificate expires") == 1
    assert days_remaining(run) == [f"days_remaining@{ip}" for ip in loopback(8)]
