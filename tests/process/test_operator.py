"""What an operator meets through the CLI: thresholds that cannot contradict, -v that only adds detail, true words."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import runs
from fakeserver import Lines, MailServer, TlsConfig, finish_tls
from pki import Certs, Pki
from runs import args_for, serving

# --- thresholds that cannot fire ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (("-w", "10", "-c", "20"), "-w 10 is below -c 20"),
        (("-w", "10%", "-c", "20%"), "-w 10 is below -c 20"),
        (("-w", "1d", "-c", "36h"), "the warning threshold must leave more time than the critical one"),
    ],
)
def test_thresholds_crossed_in_one_unit_are_refused_before_any_connection(options: tuple[str, ...], why: str) -> None:
    run = runs.check("-H", "127.0.0.1", "-p", "993", *options)
    assert run.code == 3 and run.first_line == f"TLS_MAIL UNKNOWN - usage: {why}" + (
        ": the warning must come before the critical threshold (more time left)" if " is below " in why else ""
    )


@pytest.mark.parametrize(
    ("options", "line"),
    [
        # -c 21 alone: the default -w 20% is 18 days of a 90-day certificate
        (
            ("-c", "21"),
            "certificate: -w 20% (18 days of its 90-day lifetime) leaves less time than -c 21 days: "
            "WARNING could never fire",
        ),
        (
            ("-w", "10%", "-c", "2"),
            "certificate: -w 10% (0.6 days of its 6-day lifetime) leaves less time than -c 2 days: "
            "WARNING could never fire",
        ),
        (
            ("-w", "30", "-c", "50%"),
            "certificate: -w 30 days leaves less time than -c 50% (45 days of its 90-day lifetime): "
            "WARNING could never fire",
        ),
    ],
)
def test_thresholds_that_cross_for_the_served_certificate_are_unknown_naming_both_in_days(
    pki: Pki, certs: Certs, options: tuple[str, ...], line: str
) -> None:
    lifetime = 6 if "2" in options else 90
    chain = certs.get(f"lifetime-{lifetime}", key_type="ECDSA", days_left=lifetime * 0.6, lifetime=lifetime)
    with serving("imaps", TlsConfig([chain])) as server:
        run = runs.check(*args_for(server, "imaps", pki, "--client", "none", *options))
    assert run.code == 3, run
    assert run.summary == f"TLS_MAIL UNKNOWN - 127.0.0.1:{server.port} imaps: {line}", run


def test_a_percentage_that_leaves_more_time_than_days_is_fine(pki: Pki, certs: Certs) -> None:
    with serving("imaps", TlsConfig([certs.ecdsa])) as server:
        run = runs.check(*args_for(server, "imaps", pki, "--client", "none", "-c", "17"))
    assert run.code == 0 and "warning at 18 days" in run.summary, run


# --- -v only adds detail ------------------------------------------------------------------------------------------


def test_verbose_makes_the_same_connections_and_the_same_first_line(pki: Pki, certs: Certs) -> None:
    seen = {}
    with serving("imaps", TlsConfig([certs.ecdsa])) as server:
        for verbose in ((), ("-v",), ("-vv",), ("-vvv",)):
            made, lines = [], set()
            for _ in range(2):  # the fewest of two runs: on a loaded machine a probe may time out and be made again
                before = server.connections
                run = runs.check(*args_for(server, "imaps", pki, *verbose))
                made.append(server.connections - before)
                lines.add((run.code, mask_times(run.first_line)))
            assert len(lines) == 1, (verbose, lines)
            seen[verbose] = (min(made), *lines.pop())
    assert len(set(seen.values())) == 1, "\n".join(f"{level}: {value}" for level, value in seen.items())
    assert "accepts TLS" not in seen[()][2]


def test_versions_option_probes_each_version_and_says_which_are_accepted(pki: Pki, certs: Certs) -> None:
    with serving("imaps", TlsConfig([certs.ecdsa])) as server:
        plain = runs.check(*args_for(server, "imaps", pki, "--client", "none"))
        before = server.connections
        run = runs.check(*args_for(server, "imaps", pki, "--client", "none", "--versions", "-v"))
        probed = server.connections - before
    assert run.code == 0 and ", accepts TLS 1.2, 1.3" in run.summary, run
    assert probed == before + 4, (before, probed)  # TLS 1.0, 1.1, 1.2, 1.3 one by one
    assert "TLS 1.0 only: rejected" in run.stdout and "accepts TLS" not in plain.summary


def mask_times(line: str) -> str:
    """The first line without what the clock changes between two runs: the times, and the days left and lifetime
    used, whose last digit turns every 14 minutes after the test certificate was made (a run may cross it)."""
    line = re.sub(r"(handshake_time|probes_time)=[\d.]+s", r"\1=Ts", line)
    return re.sub(r"(days_remaining|lifetime_used)=[\d.]+", r"\1=N", line)


# --- true words -----------------------------------------------------------------------------------------------


def test_no_verify_chain_says_so_on_the_ok_line(pki: Pki, certs: Certs) -> None:
    wrong_name = certs.get("other-name", names=("other.example.test",))
    with serving("imaps", TlsConfig([wrong_name])) as server:
        verified = runs.check(*args_for(server, "imaps", pki, "--client", "none"))
        unverified = runs.check(*args_for(server, "imaps", pki, "--client", "none", "--no-verify-chain"))
    assert verified.code == 2 and "not mail.example.test" in verified.summary, verified
    assert unverified.code == 0, unverified
    assert unverified.summary == (
        f"TLS_MAIL OK - 127.0.0.1:{server.port} imaps implicit TLS, TLS 1.3, ECDSA P-256 certificate valid 60.0 days "
        f"(until {unverified.summary.split('(until ')[1].split(',')[0]}, warning at 18 days), "
        "chain and name not verified"
    )


def test_first_line_clauses_survive_nagios_which_turns_semicolons_into_colons(pki: Pki, certs: Certs) -> None:
    """The incident (ECDSA certificate, RSA-only TLS 1.2 list) with a certificate about to expire: many clauses."""
    soon = certs.get("soon", key_type="ECDSA", days_left=5)
    tls = TlsConfig([soon], ciphers=runs.RSA_ONLY)
    with serving("imaps", tls) as server:
        run = runs.check(*args_for(server, "imaps", pki))
    assert run.code == 2, run
    assert ";" not in run.summary, run.summary
    assert run.summary.count(" / ") >= 1, run.summary


def test_one_expect_cert_file_on_a_dual_server_says_the_other_certificate_has_none(pki: Pki, certs: Certs) -> None:
    ecdsa_chain, _ = certs.ecdsa
    with serving("imaps", TlsConfig([certs.ecdsa, certs.rsa])) as server:
        run = runs.check(*args_for(server, "imaps", pki, "--client", "none", "--expect-cert", ecdsa_chain))
        both = runs.check(
            *args_for(
                server, "imaps", pki, "--client", "none", "--expect-cert", ecdsa_chain, "--expect-cert", certs.rsa[0]
            )
        )
    assert run.code == 3, run
    assert run.summary.startswith(
        f"TLS_MAIL UNKNOWN - 127.0.0.1:{server.port} imaps: no --expect-cert file was given for the RSA certificate "
        "(give one per served certificate) / ECDSA P-256 certificate valid"
    ), run
    assert both.code == 0 and "serves the certificates of --expect-cert" in both.summary, both


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (("-H", "127.0.0.1", "-6"), "-6 (IPv6 only) conflicts with -H 127.0.0.1, an IPv4 address"),
        (("-H", "::1", "-4"), "-4 (IPv4 only) conflicts with -H ::1, an IPv6 address"),
        (
            ("-H", "mail.example.test", "--address", "127.0.0.1", "-6"),
            "-6 (IPv6 only) conflicts with --address 127.0.0.1, an IPv4 address",
        ),
    ],
)
def test_an_address_of_the_other_family_is_a_usage_error(options: tuple[str, ...], why: str) -> None:
    run = runs.check(*options, "-p", "993")
    assert (run.code, run.stdout) == (3, f"TLS_MAIL UNKNOWN - usage: {why}\n")


def test_an_ipv6_service_is_named_with_brackets(pki: Pki, certs: Certs) -> None:
    with MailServer.speaking("imaps", TlsConfig([certs.ecdsa]), host="::1") as server:
        run = runs.check(
            "-H",
            "::1",
            "--servername",
            "mail.example.test",
            "-p",
            str(server.port),
            "-P",
            "imaps",
            "--ca-file",
            pki.root_file,
            "--client",
            "none",
            "-v",
        )
    assert run.code == 0 and run.summary.startswith(f"TLS_MAIL OK - [::1]:{server.port} imaps implicit TLS, "), run
    assert f"service: [::1]:{server.port} (::1) imaps" in run.stdout


def test_an_unreadable_ca_file_says_why_and_as_whom() -> None:
    import importlib.util
    import pwd
    import shutil
    import tempfile

    runs.require("su")
    try:
        pwd.getpwnam("nagios")
    except KeyError:
        if runs.IN_CI:
            pytest.fail("no nagios user with CI=true: .ci/setup installs the engines, which make it")
        pytest.skip("no nagios user on this host")
    # The check runs as nagios from copies it can read: the checkout and its .venv may be where only root
    # can (a clone under /root). Debian's python3 with PYTHONPATH, as the plugin runs from scripts/install.
    with tempfile.TemporaryDirectory(prefix="check_tls_mail-nagios-") as folder:  # not tmp_path: below a 0700 one
        base = Path(folder)
        readable = base / "readable"
        for name in ("check_tls_mail", "cryptography", "nagiosplugin", "_cffi_backend"):
            spec = importlib.util.find_spec(name)
            assert spec is not None and spec.origin is not None, name
            origin = Path(spec.origin)
            if origin.name == "__init__.py":
                shutil.copytree(origin.parent, readable / name)
            else:
                readable.mkdir(exist_ok=True)
                shutil.copy2(origin, readable / origin.name)
        for path in [base, readable, *readable.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        secret = base / "root.pem"  # in a folder nagios can enter: the file's own mode refuses
        secret.write_text("-----BEGIN CERTIFICATE-----\n")
        secret.chmod(0o600)
        command = (
            f"cd / && PYTHONPATH={readable} /usr/bin/python3 -m check_tls_mail -H 127.0.0.1 -p 993 --ca-file {secret}"
        )
        result = subprocess.run(
            ["su", "-s", "/bin/sh", "nagios", "-c", command], capture_output=True, text=True, timeout=30, check=False
        )
    assert (result.returncode, result.stdout) == (
        3,
        f"TLS_MAIL UNKNOWN - usage: cannot read --ca-file {secret}: permission denied (running as nagios)\n",
    ), result


def test_list_clients_is_one_line_per_profile_and_the_detail_comes_with_v() -> None:
    from check_tls_mail.clients.profiles import catalogue

    profiles = catalogue().profiles
    short = runs.check("--list-clients")
    detail = runs.check("--list-clients", "-v")
    lines = short.stdout.splitlines()
    assert short.code == 0 and len(lines) == 1 + len(profiles)
    assert all(line.split()[0] in profiles for line in lines[1:])
    assert max(len(line) for line in lines) <= 100
    assert "  apple-mail" in short.stdout and "Apple Mail, TLS 1.0-1.2 (default for mail clients)" in short.stdout
    # each with the client version its hello was captured from, and the date: how fresh the verdict is
    thunderbird = (
        r"^  thunderbird +Thunderbird, TLS 1\.2-1\.3 \(default for mail clients\); 153\.[\d.]+esr, \d{4}-\d\d-\d\d$"
    )
    assert re.search(thunderbird, short.stdout, re.M), short.stdout
    for line, profile in zip(lines[1:], profiles.values(), strict=True):
        capture = profile.capture
        assert line.endswith(f"; {capture.short_version}, {capture.date}" if capture else "; not captured"), line
    assert detail.code == 0 and len(detail.stdout.splitlines()) > 5 * len(profiles)
    assert all(f"\n{name}: " in detail.stdout for name in profiles)
    assert re.search(
        r"^  capture: thunderbird 1:153\.[\d.]+esr-\S+, captured \d{4}-\d\d-\d\d \(captures/clients\.json: "
        r"thunderbird-bookworm; the same hello: thunderbird-trixie, thunderbird-starttls-bookworm, "
        r"thunderbird-starttls-trixie\)$",
        detail.stdout,
        re.M,
    ), detail.stdout
    assert "\n  capture: none, built from documentation\n" in detail.stdout.split("\noutlook: ")[1]


# --- EHLO name -----------------------------------------------------------------------------------------------------


def _picky_smtp(tls: TlsConfig) -> Callable[[socket.socket], None]:
    """An MTA that refuses any EHLO name but relay.example.test (as reject_non_fqdn_helo_hostname would localhost)."""
    ctx = tls.context()

    def handler(sock: socket.socket) -> None:
        io = Lines(sock)
        io.send("220 picky.example.test ESMTP")
        while (line := io.readline()) is not None:
            verb, _, name = line.decode().partition(" ")
            if verb.upper() == "EHLO" and name == "relay.example.test":
                io.send("250-picky.example.test", "250 STARTTLS")
            elif verb.upper() == "EHLO":
                io.send(f"504 5.5.2 <{name}>: Helo command rejected: need fully-qualified hostname")
            elif verb.upper() == "STARTTLS":
                io.send("220 2.0.0 Ready to start TLS")
                return finish_tls(sock, ctx)
            else:
                io.send("221 2.0.0 Bye")
                return

    return handler


def test_ehlo_option_names_the_client_to_servers_that_refuse_the_default(pki: Pki, certs: Certs) -> None:
    with MailServer(_picky_smtp(TlsConfig([certs.ecdsa]))) as server:
        refused = runs.check(*args_for(server, "submission", pki, "--client", "none", "--ehlo", "bad.example.test"))
        run = runs.check(*args_for(server, "submission", pki, "--client", "none", "--ehlo", "relay.example.test"))
    assert refused.code == 2 and "server rejected EHLO: 504 5.5.2 <bad.example.test>" in refused.summary, refused
    assert run.code == 0 and run.summary.startswith(f"TLS_MAIL OK - 127.0.0.1:{server.port} submission STARTTLS"), run


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (
            ("-P", "imaps", "--ehlo", "relay.example.test"),
            "--ehlo is for -P smtp and submission (EHLO before STARTTLS), not -P imaps",
        ),
        (
            ("-P", "smtps", "--ehlo", "relay.example.test"),
            "--ehlo is for -P smtp and submission (EHLO before STARTTLS), not -P smtps",
        ),
        (("-P", "smtp", "--ehlo", "bad name"), "--ehlo: not a host name"),
    ],
)
def test_ehlo_option_misuse_is_a_usage_error(options: tuple[str, ...], why: str) -> None:
    run = runs.check("-H", "127.0.0.1", *options)
    assert (run.code, run.stdout) == (3, f"TLS_MAIL UNKNOWN - usage: {why}\n")


def test_ehlo_option_takes_an_address_literal() -> None:
    run = runs.check("-H", "127.0.0.1", "-p", "1", "-P", "smtp", "--ehlo", "[192.0.2.1]", "-t", "5")
    assert run.code == 2 and "connection refused" in run.summary, run


# --- perfdata that every engine reads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "item"),
    [
        ((), "80;90;0;100"),  # -w 20% -c 10%
        (("-w", "30", "-c", "9"), "66.67;90;0;100"),  # of a 90-day lifetime
        (("-w", "36h", "-c", "1"), "98.33;98.89;0;100"),
    ],
)
def test_lifetime_used_carries_the_thresholds_as_plain_upper_bounds(
    pki: Pki, certs: Certs, options: tuple[str, ...], item: str
) -> None:
    with serving("imaps", TlsConfig([certs.ecdsa])) as server:
        run = runs.check(*args_for(server, "imaps", pki, "--client", "none", *options))
    assert run.code == 0, run
    value, bounds = run.perfdata["lifetime_used"][0], ";".join(run.perfdata["lifetime_used"][1:])
    assert bounds == item and value.endswith("%"), run.first_line
    assert 33.3 <= float(value[:-1]) <= 34, run.first_line  # 60 of 90 days left, give or take the test's minutes
