"""Revocation through the CLI: a loopback server serving each certificate of the revocation world, whole first lines."""

from __future__ import annotations

from datetime import datetime

import pytest
from fakeserver import TlsConfig
from lines import assert_line, used, utcnow, validity
from pki import DAY, NOW, Issued
from revocation_servers import REVOKED_AT, RevocationWorld
from runs import Run, check, serving


def cli_run(world: RevocationWorld, issued: Issued, *extra: str) -> tuple[Run, datetime, int]:
    name = issued.cert.subject.rfc4514_string().removeprefix("CN=")
    chain = issued.write(world.directory, name)
    started = utcnow()
    with serving("imaps", TlsConfig([chain])) as server:
        args = ["-H", "127.0.0.1", "--servername", name, "-p", str(server.port), "-P", "imaps"]
        run = check(*args, "--ca-file", str(world.files["root"]), "--client", "none", "--revocation", *extra)
    return run, started, server.port


def expect(world: RevocationWorld, name: str, state: str, words: str | None) -> None:
    issued = world.leaves.get(name, world.under_revoked_ca)
    assert issued is not None
    run, started, port = cli_run(world, issued)

    def line(now: datetime) -> str:
        served, perf = validity(issued.cert, now)
        tail = f"| days_remaining={perf} handshake_time=Ts;;;0 {used(issued.cert, now)}"
        if words is None or state == "OK":
            return f"TLS_MAIL OK - 127.0.0.1:{port} imaps implicit TLS, TLS 1.3, {served}, {words} {tail}"
        return f"TLS_MAIL {state} - 127.0.0.1:{port} imaps: {words} / {served} {tail}"

    assert run.code == ["OK", "WARNING", "CRITICAL"].index(state), run.stdout
    assert_line(run, line, started)


@pytest.mark.parametrize(
    ("name", "words"), [("ocsp-good", "not revoked (OCSP, CRL)"), ("crl-good", "not revoked (CRL)")]
)
def test_cli_good_leaf_and_intermediate_are_ok(revocation_world: RevocationWorld, name: str, words: str) -> None:
    expect(revocation_world, name, "OK", words)


def test_cli_revoked_by_ocsp_is_critical_with_date_and_reason(revocation_world: RevocationWorld) -> None:
    url = revocation_world.ocsp_url("ocsp-revoked")
    words = f"the certificate was revoked on {REVOKED_AT:%Y-%m-%d} (keyCompromise), says the OCSP responder {url}"
    expect(revocation_world, "ocsp-revoked", "CRITICAL", words)


def test_cli_revoked_on_the_crl_is_critical(revocation_world: RevocationWorld) -> None:
    url = revocation_world.crl_url("crl-revoked")
    words = f"the certificate was revoked on {REVOKED_AT:%Y-%m-%d} (keyCompromise), says the CRL {url}"
    expect(revocation_world, "crl-revoked", "CRITICAL", words)


def test_cli_unknown_to_the_responder_is_critical(revocation_world: RevocationWorld) -> None:
    url = revocation_world.ocsp_url("ocsp-unknown")
    words = (
        f"the OCSP responder {url} does not know the certificate (status unknown): clients that check OCSP may "
        "refuse it"
    )
    expect(revocation_world, "ocsp-unknown", "CRITICAL", words)


def test_cli_revoked_intermediate_is_critical_naming_it(revocation_world: RevocationWorld) -> None:
    url = revocation_world.server.url("root.crl")
    words = f"intermediate Revoked Test CA was revoked on {REVOKED_AT:%Y-%m-%d} (cACompromise), says the CRL {url}"
    expect(revocation_world, "behind-revoked-ca", "CRITICAL", words)


def test_cli_expired_response_is_a_warning(revocation_world: RevocationWorld) -> None:
    url = revocation_world.ocsp_url("ocsp-expired")
    stale = (NOW - 3 * DAY).strftime("%Y-%m-%d %H:%M UTC")  # the answer's nextUpdate (revocation_servers)
    words = (
        f"revocation of the certificate not checked: the OCSP responder {url} sent a stale answer: nextUpdate "
        f"{stale} has passed"
    )
    expect(revocation_world, "ocsp-expired", "WARNING", words)


def test_cli_response_by_the_wrong_signer_is_a_warning(revocation_world: RevocationWorld) -> None:
    url = revocation_world.ocsp_url("ocsp-wrong-signer")
    words = (
        f"revocation of the certificate not checked: the OCSP responder {url} sent an answer signed by Stranger OCSP "
        "Responder (not issued by Revocation Test CA for OCSP signing), not by the issuer or its responder"
    )
    expect(revocation_world, "ocsp-wrong-signer", "WARNING", words)


def test_cli_unreachable_responder_is_a_warning_naming_the_url(revocation_world: RevocationWorld) -> None:
    port = revocation_world.closed_port
    words = (
        f"revocation of the certificate not checked: the OCSP responder http://127.0.0.1:{port}/ is unreachable: "
        f"connection refused (127.0.0.1:{port})"
    )
    expect(revocation_world, "ocsp-unreachable", "WARNING", words)


def test_cli_checks_nothing_without_the_option(revocation_world: RevocationWorld) -> None:
    before = len(revocation_world.server.requests)
    issued = revocation_world.leaves["ocsp-revoked"]
    name = "ocsp-revoked.example.test"
    with serving("imaps", TlsConfig([issued.write(revocation_world.directory, name)])) as server:
        args = ["-H", "127.0.0.1", "--servername", name, "-p", str(server.port), "-P", "imaps"]
        run = check(*args, "--ca-file", str(revocation_world.files["root"]), "--client", "none")
    assert run.code == 0, run.stdout
    assert len(revocation_world.server.requests) == before  # off by default: no request to the CA


def test_cli_checks_the_certificate_served_without_sni_too(revocation_world: RevocationWorld) -> None:
    """A server with another certificate for clients without SNI (most MTAs): that one is asked about as well."""
    world = revocation_world
    good, revoked = world.leaves["ocsp-good"], world.leaves["ocsp-revoked"]
    name = "ocsp-good.example.test"
    bare = revoked.write(world.directory, "ocsp-revoked.example.test")
    with serving("smtp", TlsConfig([good.write(world.directory, name)], without_sni=bare)) as server:
        args = ["-H", "127.0.0.1", "--servername", name, "-p", str(server.port), "-P", "smtp"]
        run = check(*args, "--ca-file", str(world.files["root"]), "--client", "postfix", "--revocation", "-v")
    assert run.code == 2, run.stdout
    url = world.ocsp_url("ocsp-revoked")
    assert f"was revoked on {REVOKED_AT:%Y-%m-%d} (keyCompromise), says the OCSP responder {url}" in run.stdout
    assert "certificate without SNI" in run.first_line, run.first_line
