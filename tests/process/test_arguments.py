"""Arguments at their limits through the real CLI, and any argv through the parser and main().

A usage error is UNKNOWN with one line; nothing a command line holds gives a
traceback, an internal error or perfdata that is not perfdata.
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess

import pytest
from fakeserver import MailServer, TlsConfig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from localdns import Responder
from pki import Certs, Pki
from runs import NAME, args_for, check, serving

from check_tls_mail.cli import main as cli
from check_tls_mail.cli.arguments import parser
from check_tls_mail.cli.options import MIN_TIMEOUT, options_from
from check_tls_mail.errors import UsageError
from check_tls_mail.plugin.output import LINE_LIMIT


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    assert_usage_error(["-H", "127.0.0.1", "-p", str(closed_port()), "-P", "imaps", "-t", timeout], "too short")


def test_the_shortest_timeout_still_probes() -> None:
    run = check("-H", "127.0.0.1", "-p", str(closed_port()), "-P", "imaps", "-t", "0.5")
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


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
def test_a_tls10_only_server_is_said_to_support_at_most_tls_1_0(pki: Pki, certs: Certs) -> None:
    tls = TlsConfig(
        [certs.ecdsa], ciphers="ALL:@SECLEVEL=0", min_version=ssl.TLSVersion.TLSv1, max_version=ssl.TLSVersion.TLSv1
    )
    with serving("imaps", tls) as server:
        # OpenSSL as the oracle: the server completes a TLS 1.0 handshake and nothing newer
        tls10 = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1", "-cipher", "ALL:@SECLEVEL=0"],
            input=b"",
            capture_output=True,
            timeout=10,
        )
        tls12 = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_2"],
            input=b"",
            capture_output=True,
            timeout=10,
        )
        run = check(*args_for(server, "imaps", pki, "--client", "thunderbird"))
    assert b"Protocol  : TLSv1\n" in tls10.stdout or b"TLSv1, Cipher is" in tls10.stdout, tls10.stdout
    assert tls12.returncode != 0
    assert run.code == 2, run.stdout
    assert (
        "Thunderbird cannot connect: the server supports at most TLS 1.0, this client requires TLS 1.2 or newer"
        in run.summary
    )
    assert "TLS 1, " not in run.summary


# --- any argv -------------------------------------------------------------------------------------

OPTIONS = sorted({s for action in parser()._actions for s in action.option_strings})


def values(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        text,
        st.sampled_from(
            [
                "imaps",
                "smtp",
                "tls",
                "0",
                "-1",
                "25",
                "993",
                "65536",
                "1.0",
                "1.3",
                "none",
                "apple-mail",
                "20%",
                "120%",
                "36h",
                "0.5",
                "1e3",
                "nan",
                "inf",
                "::1",
                "[::1]",
                "[::1]:53",
                "127.0.0.1:9",
                "a..b",
                ".x",
                "x.",
                "mail.example.test",
                "/dev/zero",
                "/",
                "9" * 400,
                "ECDHE-RSA-AES128-GCM-SHA256",
            ]
        ),
        st.integers(min_value=-(10**6), max_value=10**6).map(str),
    )


#: Any text, as main() may be handed it; a real argv holds no NUL and no lone surrogate but those of undecodable bytes.
ARGV = st.lists(st.one_of(st.sampled_from(OPTIONS), values(st.text(max_size=30))), max_size=12)
EXEC_ARGV = st.lists(
    st.one_of(
        st.sampled_from(OPTIONS),
        values(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)),
    ),
    max_size=12,
)
FIRST_LINE = re.compile(r"^TLS_MAIL (OK|WARNING|CRITICAL|UNKNOWN) - [^|]*( \| [^|]*)?$")


@settings(max_examples=300, deadline=None)
@given(ARGV)
def test_the_parser_gives_options_or_a_usage_error_for_any_argv(argv: list[str]) -> None:
    try:
        args = parser().parse_args(argv)
    except UsageError:
        return
    except SystemExit as exc:  # --help, --version
        assert exc.code in (0, None)
        return
    try:
        options = options_from(args)
    except UsageError:
        return
    assert 0 < options.plan.port < 65536
    assert MIN_TIMEOUT <= options.timeout <= 3600


def assert_one_well_formed_result(argv: list[str], code: int, text: str) -> None:
    lines = text.split("\n")
    if code == 0 and not text.startswith("TLS_MAIL "):  # --help, --version, --list-clients
        assert {"-h", "--help", "-V", "--version", "--list-clients"} & set(argv), text
        return
    assert text.endswith("\n"), text
    first = lines[0]
    match = FIRST_LINE.match(first)
    assert match, first
    assert code == ("OK", "WARNING", "CRITICAL", "UNKNOWN").index(match.group(1))
    assert len(first.encode()) <= LINE_LIMIT
    assert "internal error" not in text, text
    assert all(line.isprintable() for line in lines)


@pytest.fixture(scope="module")
def refused_port() -> int:
    return closed_port()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=ARGV)
def test_main_gives_a_run_or_one_unknown_line_for_any_argv(argv: list[str], refused_port: int) -> None:
    # Whatever came before, the probes go to a refused loopback port and the run is short.
    where = ["-H", "127.0.0.1", "-p", str(refused_port), "-P", "imaps", "--address", "127.0.0.1", "-t", "1"]
    code, text = cli.main([*argv, *where])
    assert_one_well_formed_result([*argv, *where], code, text)


@settings(max_examples=12, deadline=None)
@given(EXEC_ARGV)
def test_the_real_entry_point_never_prints_a_traceback(argv: list[str]) -> None:
    with MailServer(lambda sock: None) as server:  # accepts and closes
        where = ["-H", "127.0.0.1", "-p", str(server.port), "-P", "imaps", "--address", "127.0.0.1", "-t", "1"]
        run = check(*argv, *where)  # check() asserts that no traceback is printed
    assert run.stderr == ""
    assert_one_well_formed_result([*argv, *where], run.code, run.stdout)
