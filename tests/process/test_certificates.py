"""Certificate judgement through the real CLI: expiry, thresholds, chain, trust, name."""

from __future__ import annotations

import pytest
from fakeserver import TlsConfig
from pki import DAY, NOW, Certs, Pki
from runs import NAME, args_for, check, serving


def run_with(pki: Pki, chain: tuple[str, str], *extra: str, protocol: str = "imaps"):
    with serving(protocol, TlsConfig([chain])) as server:
        return check(*args_for(server, protocol, pki, "--client", "none", *extra))


def test_days_remaining_perfdata_uses_range_syntax_and_lifetime(pki: Pki, certs: Certs) -> None:
    run = run_with(pki, certs.ecdsa)
    assert run.code == 0, run.stdout
    assert run.perfdata["days_remaining"] == ["60.00", "18:", "9:", "", "90"]
    assert "warning at 18 days" in run.summary
    handshake = run.perfdata["handshake_time"]
    assert handshake[0].endswith("s") and float(handshake[0][:-1]) > 0


@pytest.mark.parametrize(
    ("days_left", "code", "words"),
    [(15, 1, "WARNING"), (5, 2, "CRITICAL"), (30, 0, "OK")],
)
def test_percent_thresholds_follow_the_lifetime(
    days_left: float, code: int, words: str, pki: Pki, certs: Certs
) -> None:
    chain = certs.get(f"left-{days_left}", days_left=days_left)
    run = run_with(pki, chain)
    assert run.code == code, run.stdout
    assert run.summary.startswith(f"TLS_MAIL {words} - ")
    if code:
        assert f"certificate expires in {days_left:.1f} days" in run.summary
        assert "(20% of its 90-day lifetime)" in run.summary or "(10% of its 90-day lifetime)" in run.summary


def test_day_thresholds_with_fractions(pki: Pki, certs: Certs) -> None:
    run = run_with(pki, certs.ecdsa, "-w", "61.5", "-c", "30")
    assert run.code == 1, run.stdout
    assert run.perfdata["days_remaining"][1:3] == ["61.5:", "30:"]
    assert "below 61.5 days" in run.summary


def test_short_lived_certificate_in_hours(pki: Pki, certs: Certs) -> None:
    chain = certs.get("six-day", days_left=0.5, lifetime=6)
    run = run_with(pki, chain, "-w", "36h", "-c", "13h")
    assert run.code == 2, run.stdout
    assert "certificate expires in 12.0 hours" in run.summary
    assert run.perfdata["days_remaining"][1:3] == ["1.5:", "0.54:"]


def test_default_percent_thresholds_for_a_six_day_certificate(pki: Pki, certs: Certs) -> None:
    chain = certs.get("six-day-ok", days_left=1.1, lifetime=6)  # 26.4 h left: below 28.8 h, above 14.4 h
    run = run_with(pki, chain)
    assert run.code == 1, run.stdout
    assert run.perfdata["days_remaining"][1:3] == ["1.2:", "0.6:"]


def test_expired_certificate_is_critical(pki: Pki, certs: Certs) -> None:
    run = run_with(pki, certs.get("expired", days_left=-3))
    assert run.code == 2, run.stdout
    assert "certificate expired 3.0 days ago" in run.summary
    assert run.value("days_remaining") == pytest.approx(-3, abs=0.02)


def test_not_yet_valid_certificate_is_critical(pki: Pki, certs: Certs) -> None:
    run = run_with(pki, certs.get("future", days_left=120, lifetime=90))
    assert run.code == 2, run.stdout
    assert "certificate not valid before" in run.summary
    assert "(in 30.0 days)" in run.summary


def test_name_mismatch_is_critical_and_names_both(pki: Pki, certs: Certs) -> None:
    run = run_with(pki, certs.get("other-name", names=("www.example.test", "example.test")))
    assert run.code == 2, run.stdout
    assert f"name mismatch: certificate is for www.example.test, example.test, not {NAME}" in run.summary


def test_wildcard_matches_one_label(pki: Pki, certs: Certs) -> None:
    run = run_with(pki, certs.get("wildcard", names=("*.example.test",)))
    assert run.code == 0, run.stdout


def test_untrusted_issuer_is_critical(pki: Pki, certs: Certs) -> None:
    with serving("imaps", TlsConfig([certs.ecdsa])) as server:
        run = check("-H", "127.0.0.1", "--servername", NAME, "-p", str(server.port), "-P", "imaps", "--client", "none")
    assert run.code == 2, run.stdout
    assert "untrusted chain: issuer Test Root CA is not in the system trust store" in run.summary


def test_self_signed_certificate_is_untrusted_but_accepted_without_chain_verification(tmp_path, pki: Pki) -> None:
    from pki import issue, new_key

    me = issue(NAME, new_key("ECDSA"), None, NOW - DAY, NOW + 30 * DAY, ca=False, names=(NAME,))
    chain = me.write(tmp_path, "self")
    strict = run_with(pki, chain)
    relaxed = run_with(pki, chain, "--no-verify-chain")
    assert strict.code == 2 and "self-signed certificate, not trusted by --ca-file" in strict.summary
    assert relaxed.code == 0, relaxed.stdout
    assert relaxed.value("days_remaining") == pytest.approx(30, abs=0.02)


def test_no_verify_chain_still_judges_expiry(pki: Pki, certs: Certs) -> None:
    run = run_with(pki, certs.get("expired", days_left=-3), "--no-verify-chain")
    assert run.code == 2 and "expired" in run.summary


def test_intermediate_expiring_before_the_leaf_is_what_counts(pki: Pki, certs: Certs) -> None:
    short_ca = pki.sub_ca("Short Intermediate", NOW - 300 * DAY, NOW + 4 * DAY)
    chain = pki.leaf(days_left=80, issuer=short_ca).write(pki.directory, "short-ca")
    run = run_with(pki, chain)
    assert run.code == 2, run.stdout
    assert "intermediate Short Intermediate (before the certificate) expires in 4.0 days" in run.summary
    assert run.value("days_chain") == pytest.approx(4, abs=0.02)
    assert run.value("days_remaining") == pytest.approx(80, abs=0.02)


def test_expired_intermediate_is_reported_as_expired_not_untrusted(pki: Pki, certs: Certs) -> None:
    old_ca = pki.sub_ca("Old Intermediate", NOW - 300 * DAY, NOW - 2 * DAY)
    chain = pki.leaf(days_left=50, issuer=old_ca).write(pki.directory, "old-ca")
    run = run_with(pki, chain)
    assert run.code == 2, run.stdout
    assert "intermediate Old Intermediate (before the certificate) expired 2.0 days ago" in run.summary
    assert "untrusted" not in run.summary


def test_ip_address_host_must_match_an_ip_san(pki: Pki, certs: Certs) -> None:
    with serving("imaps", TlsConfig([certs.get("ip", names=("127.0.0.1",))])) as server:
        good = check(
            "-H", "127.0.0.1", "-p", str(server.port), "-P", "imaps", "--ca-file", pki.root_file, "--client", "none"
        )
    with serving("imaps", TlsConfig([certs.ecdsa])) as server:
        bad = check(
            "-H", "127.0.0.1", "-p", str(server.port), "-P", "imaps", "--ca-file", pki.root_file, "--client", "none"
        )
    assert good.code == 0, good.stdout
    assert bad.code == 2 and "not 127.0.0.1" in bad.summary


def test_certificate_without_san_is_a_name_problem(pki: Pki, certs: Certs) -> None:
    run = run_with(pki, certs.get("no-san", names=(), subject=NAME))
    assert run.code == 2, run.stdout
    assert "certificate has no subjectAltName" in run.summary


def test_rsa_key_is_described(pki: Pki, certs: Certs) -> None:
    run = run_with(pki, certs.rsa)
    assert "RSA 2048 certificate valid 60.0 days" in run.summary
