"""Every address of a name, --address, and the TLS version policy (--min-tls, --require-tls)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from fakeserver import MailServer, TlsConfig
from pki import Certs, Pki
from runs import NAME, args_for, check, record, serving

from check_tls_mail.cli.main import main


@contextmanager
def two_addresses(first: TlsConfig, second: TlsConfig | None) -> Iterator[int]:
    """Servers on 127.0.0.1 and 127.0.0.2 at one port (none on .2 when ``second`` is None)."""
    for _ in range(20):
        with ExitStack() as stack:
            one = stack.enter_context(MailServer.speaking("imaps", first))
            if second is not None:
                try:
                    stack.enter_context(MailServer.speaking("imaps", second, host="127.0.0.2", port=one.port))
                except OSError:
                    continue  # that port is taken on 127.0.0.2: try another
            yield one.port
            return
    raise RuntimeError("no common free port on 127.0.0.1 and 127.0.0.2")


@pytest.fixture
def name_with_two_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    """mail.example.test resolves to 127.0.0.1 and 127.0.0.2 (as a name with two A records would)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # type: ignore[no-untyped-def]
        if host != NAME:
            return real(host, port, family, type, proto, flags)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("127.0.0.1", "127.0.0.2")]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def run_in_process(port: int, pki: Pki, *extra: str) -> tuple[int, str]:
    args = ["-H", NAME, "-p", str(port), "-P", "imaps", "--ca-file", pki.root_file, "--client", "none", *extra]
    code, text = main(args)
    record(args, code, text)
    return code, text


def test_every_address_is_probed_and_labelled(name_with_two_addresses: None, pki: Pki, certs: Certs) -> None:
    tls = TlsConfig([certs.ecdsa])
    with two_addresses(tls, tls) as port:
        code, text = run_in_process(port, pki)
    first = text.split("\n")[0]
    assert code == 0, text
    assert f"{NAME}:{port} imaps implicit TLS at 2 addresses (127.0.0.1, 127.0.0.2)" in first
    assert "'days_remaining@127.0.0.1'=60.00;18:;9:;;90" in first
    assert "'days_remaining@127.0.0.2'=60.00;18:;9:;;90" in first


def test_a_stale_certificate_on_one_address_is_named(name_with_two_addresses: None, pki: Pki, certs: Certs) -> None:
    stale = certs.get("stale-5", days_left=5)
    with two_addresses(TlsConfig([certs.ecdsa]), TlsConfig([stale])) as port:
        code, text = run_in_process(port, pki)
    first = text.split("\n")[0]
    assert code == 2, text
    assert f"{NAME}:{port} imaps: 127.0.0.2: certificate expires in 5.0 days" in first
    assert first.split(" | ")[0].endswith("; 127.0.0.1: OK")


def test_an_unreachable_address_is_named(name_with_two_addresses: None, pki: Pki, certs: Certs) -> None:
    with two_addresses(TlsConfig([certs.ecdsa]), None) as port:
        code, text = run_in_process(port, pki)
    assert code == 2, text
    assert f"127.0.0.2: connection refused (127.0.0.2:{port})" in text
    assert "; 127.0.0.1: OK" in text.split(" | ")[0]


def test_address_option_probes_one_address_with_the_host_name(pki: Pki, certs: Certs) -> None:
    with MailServer.speaking("imaps", TlsConfig([certs.ecdsa]), host="127.0.0.2") as server:
        run = check(
            "-H",
            NAME,
            "--address",
            "127.0.0.2",
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
    assert run.code == 0, run.stdout
    assert run.summary.startswith(f"TLS_MAIL OK - {NAME}:{server.port} imaps implicit TLS, TLS 1.3")
    assert f"({'127.0.0.2'}) imaps" in run.stdout and f"SNI {NAME}" in run.stdout
    assert "days_remaining" in run.perfdata  # one address: plain labels


def test_address_must_be_an_ip() -> None:
    run = check("-H", NAME, "--address", "mx.example.org", "-P", "imaps")
    assert run.code == 3 and "--address mx.example.org: not an IP address" in run.stdout


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
def test_min_tls_flags_old_versions(pki: Pki, certs: Certs) -> None:
    tls = TlsConfig([certs.ecdsa], ciphers="ALL:@SECLEVEL=0", min_version=ssl.TLSVersion.TLSv1)
    with serving("imaps", tls) as server:
        run = check(*args_for(server, "imaps", pki, "--client", "none", "--min-tls", "1.2"))
    assert run.code == 2, run.stdout
    assert "server accepts TLS 1.0, 1.1, older than --min-tls 1.2" in run.summary


def test_require_tls_flags_a_missing_version(pki: Pki, certs: Certs) -> None:
    tls = TlsConfig([certs.ecdsa], min_version=ssl.TLSVersion.TLSv1_3)
    with serving("submission", tls) as server:
        run = check(
            *args_for(server, "submission", pki, "--client", "none", "--require-tls", "1.2", "--require-tls", "1.3")
        )
    assert run.code == 2, run.stdout
    assert "server does not accept TLS 1.2 (--require-tls)" in run.summary


def test_version_policy_met_is_ok_and_reported(pki: Pki, certs: Certs) -> None:
    with serving("pop3", TlsConfig([certs.ecdsa])) as server:
        run = check(
            *args_for(
                server,
                "pop3",
                pki,
                "--client",
                "none",
                "--min-tls",
                "1.2",
                "--require-tls",
                "1.2",
                "--require-tls",
                "1.3",
                "-v",
            )
        )
    assert run.code == 0, run.stdout
    assert "accepts TLS 1.2, 1.3" in run.summary
    assert "TLS 1.0 only: rejected" in run.stdout and "TLS 1.3 only: accepted, TLS 1.3" in run.stdout
