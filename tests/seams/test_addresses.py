"""Every address of a name, judged in process: main() against loopback servers on 127.0.0.1 and 127.0.0.2."""

from __future__ import annotations

import socket
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from cryptography import x509
from fakeserver import TlsConfig, servers_at
from lines import utcnow, validity
from pki import Certs, Pki
from runs import NAME, record

from check_tls_mail.cli.main import main


def two_addresses(first: TlsConfig, second: TlsConfig | None) -> AbstractContextManager[int]:
    """Servers on 127.0.0.1 and 127.0.0.2 at one port (none on .2 when ``second`` is None)."""
    return servers_at("imaps", [first, second])


@pytest.fixture
def name_with_two_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    """mail.example.test resolves to 127.0.0.1 and 127.0.0.2 (as a name with two A records would)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # type: ignore[no-untyped-def]
        if host not in (NAME, NAME.encode()):  # the check sends an ASCII name as bytes (net/names.as_sent)
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
    leaf = x509.load_pem_x509_certificates(Path(certs.ecdsa[0]).read_bytes())[0]
    before = utcnow()
    with two_addresses(tls, tls) as port:
        code, text = run_in_process(port, pki)
    after = utcnow()
    first = text.split("\n")[0]
    assert code == 0, text
    assert f"{NAME}:{port} imaps implicit TLS at 2 addresses (127.0.0.1, 127.0.0.2)" in first
    # The days left as the run saw them: the session's certificates were made when it began, maybe minutes ago.
    for ip in ("127.0.0.1", "127.0.0.2"):
        wanted = {f"'days_remaining@{ip}'={validity(leaf, moment)[1]}" for moment in (before, after)}
        assert any(item in first for item in wanted), (wanted, first)


def test_a_stale_certificate_on_one_address_is_named(name_with_two_addresses: None, pki: Pki, certs: Certs) -> None:
    stale = certs.get("stale-5", days_left=5)
    with two_addresses(TlsConfig([certs.ecdsa]), TlsConfig([stale])) as port:
        code, text = run_in_process(port, pki)
    first = text.split("\n")[0]
    assert code == 2, text
    assert f"{NAME}:{port} imaps: 127.0.0.2: certificate expires in 5.0 days" in first
    assert first.split(" | ")[0].endswith(" / 127.0.0.1: OK")


def test_an_unreachable_address_is_named(name_with_two_addresses: None, pki: Pki, certs: Certs) -> None:
    with two_addresses(TlsConfig([certs.ecdsa]), None) as port:
        code, text = run_in_process(port, pki)
    assert code == 2, text
    assert f"127.0.0.2: connection refused (127.0.0.2:{port})" in text
    assert " / 127.0.0.1: OK" in text.split(" | ")[0]
