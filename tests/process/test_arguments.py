"""Arguments at their limits through the real CLI, and any argv through the real entry point.

A usage error is UNKNOWN with one line; nothing a command line holds gives a
traceback, an internal error or perfdata that is not perfdata.
"""

from __future__ import annotations

import pytest
from argv import EXEC_ARGV, assert_one_well_formed_result
from fakeserver import MailServer, TlsConfig
from hypothesis import given, settings
from localdns import Responder
from loopback import free_port
from pki import Certs, Pki
from runs import NAME, args_for, check, serving

from check_tls_mail.plugin.output import LINE_LIMIT


def assert_usage_error(args: list[str], words: str) -> None:
    run = check(*args)
    assert run.code == 3, run.stdout
    assert run.stdout.startswith("TLS_MAIL UNKNOWN - usage: "), run.stdout
    assert words in run.stdout, run.stdout
    assert run.stdout.count("\n") == 1 and run.stderr == ""
    assert len(run.first_line.encode()) <= LINE_LIMIT


@pytest.mark.parametrize("extra", [[], ["-P", "imaps"], ["-P", "smtp"]])
def test_port_0_is_a_usage_error(extra: list[str]) -> None:
    assert_usage_error(["-H", "127.0.0.1", "-p", "0", *extra], "-p 0: not a TCP port")


@pytest.mark.parametrize("digits", [110, 400])
@pytest.mark.parametrize("option", ["-w", "-c"])
def test_a_threshold_of_hundreds_of_digits_is_a_usage_error(option: str, digits: int) -> None:
    huge = "9" * digits
    args = ["-H", "127.0.0.1", "-P", "imaps", "-w", "20%", "-c", "10%", option, huge]
    assert_usage_error(args, f"{option} '99999999999999999999...': at most 36500 days (100 years)")


def test_a_threshold_of_100_years_is_still_taken(pki: Pki, certs: Certs) -> None:
    with serving("imaps", TlsConfig([certs.ecdsa])) as server:
        run = check(*args_for(server, "imaps", pki, "--client", "none", "-w", "36500", "-c", "876000h"))
    assert run.code == 2, run.stdout  # 60 days left is below both
    assert run.perfdata["days_remaining"][:3] == ["60.00", "36500:", "36500:"]


@pytest.mark.parametrize("timeout", ["0.4", "0.1", "0.001", "1e-300"])
def test_a_timeout_too_short_to_probe_is_unknown_not_the_servers_fault(timeout: str) -> None:
    assert_usage_error(["-H", "127.0.0.1", "-p", str(free_port()), "-P", "imaps", "-t", timeout], "too short")


def test_the_shortest_timeout_still_probes() -> None:
    run = check("-H", "127.0.0.1", "-p", str(free_port()), "-P", "imaps", "-t", "0.5")
    assert "usage" not in run.stdout
    if run.code == 2:  # the probes get 0.4 s: the refusal is found
        assert "connection refused" in run.summary
    else:  # on a loaded machine, judging may not finish within -t
        assert run.code == 3 and run.summary.startswith("TLS_MAIL UNKNOWN - timeout: "), run.stdout


@pytest.mark.parametrize(
    ("host", "words"),
    [
        (".mail.example.org", "-H .mail.example.org: not a host name (empty label"),
        ("a..b", "-H a..b: not a host name (empty label"),
        ("mail.example.org..", "not a host name (empty label"),
        ("mail.example.org:25", "-H mail.example.org:25: not a host name or address (give the port with -p)"),
        ("mail/example.org", "not a host name or address"),
        ("x" * 64 + ".example.org", "a label of a host name has at most 63 characters"),
        (".".join(["abcdefghi"] * 26), "a host name has at most 253 characters"),
    ],
)
def test_a_host_that_cannot_be_a_name_is_a_usage_error(host: str, words: str) -> None:
    assert_usage_error(["-H", host, "-P", "imaps"], words)


def test_servername_that_cannot_be_a_name_is_a_usage_error() -> None:
    assert_usage_error(["-H", "127.0.0.1", "--servername", "a..b", "-P", "imaps"], "--servername a..b: not a host")


def test_a_name_with_a_final_dot_is_a_name(pki: Pki, certs: Certs) -> None:
    with Responder({NAME: ["127.0.0.1"]}) as dns, serving("imaps", TlsConfig([certs.ecdsa])) as server:
        run = check(
            "-H", f"{NAME}.", "--servername", NAME, "-p", str(server.port), "-P", "imaps",
            "--dns-server", dns.server, "--ca-file", pki.root_file, "--client", "none",
        )  # fmt: skip
    assert run.code == 0, run.stdout


def test_an_address_in_h_is_not_sent_to_the_dns_server(pki: Pki, certs: Certs) -> None:
    with Responder({NAME: ["127.0.0.1"]}) as dns, serving("imaps", TlsConfig([certs.ecdsa])) as server:
        by_address = check(
            "-H", "127.0.0.1", "--servername", NAME, "-p", str(server.port), "-P", "imaps",
            "--dns-server", dns.server, "--ca-file", pki.root_file, "--client", "none",
        )  # fmt: skip
        asked_for_the_address = list(dns.asked)
        by_name = check(
            "-H", NAME, "-p", str(server.port), "-P", "imaps",
            "--dns-server", dns.server, "--ca-file", pki.root_file, "--client", "none",
        )  # fmt: skip
    assert by_address.code == 0, by_address.stdout
    assert asked_for_the_address == []
    assert by_name.code == 0, by_name.stdout
    assert (f"{NAME}.", "A") in dns.asked  # the responder does see the questions it gets


@settings(max_examples=12, deadline=None)
@given(EXEC_ARGV)
def test_the_real_entry_point_never_prints_a_traceback(argv: list[str]) -> None:
    with MailServer(lambda sock: None) as server:  # accepts and closes
        where = ["-H", "127.0.0.1", "-p", str(server.port), "-P", "imaps", "--address", "127.0.0.1", "-t", "1"]
        run = check(*argv, *where)  # check() asserts that no traceback is printed
    assert run.stderr == ""
    assert_one_well_formed_result([*argv, *where], run.code, run.stdout)
