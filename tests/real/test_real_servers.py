"""The check against real Postfix and Dovecot from Debian's packages, on loopback.

For each server: the incident (ECDSA certificate, RSA-only TLS 1.2 list, TLS
1.3 on) is CRITICAL with the ECDSA diagnosis; the fix is OK; dual RSA+ECDSA
certificates are both reported; a certificate near expiry is CRITICAL with the
right days_remaining; STARTTLS switched off is CRITICAL. Server logs are shown
when an assertion fails.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import (
    NAME,
    ChrootStack,
    CourierInstance,
    Credentials,
    DovecotInstance,
    Instance,
    PostfixInstance,
    SendmailInstance,
)
from runs import Run, check, require


def probe(server: Instance, listener: str, protocol: str, creds: Credentials, *extra: str) -> Run:
    return check(
        "-H",
        "127.0.0.1",
        "--servername",
        NAME,
        "-p",
        str(server.ports[listener]),
        "-P",
        protocol,
        "--ca-file",
        creds.ca_file,
        "-v",
        *extra,
    )


def explain(run: Run, server: Instance) -> str:
    return f"\n{run.stdout}\n{server.logs()}"


POSTFIX_SERVICES = [("smtp", "smtp"), ("submission", "submission"), ("smtps", "smtps")]


@pytest.mark.parametrize(("service", "protocol"), POSTFIX_SERVICES)
def test_postfix_incident_is_critical_with_the_ecdsa_diagnosis(
    postfix: PostfixInstance, creds: Credentials, service: str, protocol: str
) -> None:
    run = probe(postfix, f"incident-{service}", protocol, creds)
    assert run.code == 2, explain(run, postfix)
    who = "MTA on OpenSSL 1.0.2" if protocol == "smtp" else "Apple Mail"
    assert (
        f"{who} cannot connect over TLS 1.2: the certificate is ECDSA and the server accepts no ECDSA suite"
        in run.summary
    ), explain(run, postfix)
    assert "accepted, TLS 1.3 " in run.stdout  # the default client got through: TLS 1.3 hid it


@pytest.mark.parametrize(("service", "protocol"), POSTFIX_SERVICES)
def test_postfix_fixed_is_ok(postfix: PostfixInstance, creds: Credentials, service: str, protocol: str) -> None:
    run = probe(postfix, f"fixed-{service}", protocol, creds)
    assert run.code == 0, explain(run, postfix)
    assert "ECDSA P-256 certificate valid 60.0 days" in run.summary


def test_postfix_dual_certificates_are_both_reported(postfix: PostfixInstance, creds: Credentials) -> None:
    run = probe(postfix, "dual-smtp", "smtp", creds)
    assert run.code == 0, explain(run, postfix)
    assert "ECDSA P-256 certificate" in run.summary and "RSA 2048 certificate" in run.summary
    assert run.value("days_remaining_rsa") == pytest.approx(60, abs=0.05)


def test_postfix_near_expiry_is_critical(postfix: PostfixInstance, creds: Credentials) -> None:
    run = probe(postfix, "expiring-smtp", "smtp", creds)
    assert run.code == 2, explain(run, postfix)
    assert run.value("days_remaining") == pytest.approx(5, abs=0.05)
    assert "certificate expires in 5.0 days" in run.summary


def test_postfix_connection_count_limit_is_retried_not_blamed_on_ciphers(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    """smtpd_client_connection_count_limit = 1 turns the concurrent probes away with a 421; retried, they connect."""
    run = probe(postfix, "limited-smtp", "smtp", creds)
    assert run.code == 0, explain(run, postfix)
    assert run.summary.endswith("4/4 clients connect"), explain(run, postfix)
    assert "connections made at once were dropped (server refused the session: 421 4.7.0 " in run.stdout
    assert "Error: too many connections from 127.0.0.1" in run.stdout, explain(run, postfix)
    assert "got through: the server limits concurrent connections" in run.stdout, explain(run, postfix)


def test_postfix_without_tls_is_critical(postfix: PostfixInstance, creds: Credentials) -> None:
    run = probe(postfix, "notls-smtp", "smtp", creds)
    assert run.code == 2, explain(run, postfix)
    assert "STARTTLS not offered in the EHLO reply" in run.summary


DOVECOT_SERVICES = ["imap", "imaps", "pop3", "pop3s", "sieve"]


@pytest.mark.parametrize("protocol", DOVECOT_SERVICES)
def test_dovecot_incident_is_critical_with_the_ecdsa_diagnosis(
    dovecot: dict[str, DovecotInstance], creds: Credentials, protocol: str
) -> None:
    server = dovecot["incident"]
    run = probe(server, protocol, protocol, creds)
    assert run.code == 2, explain(run, server)
    assert "Apple Mail cannot connect over TLS 1.2: the certificate is ECDSA" in run.summary, explain(run, server)


@pytest.mark.parametrize("protocol", DOVECOT_SERVICES)
def test_dovecot_fixed_is_ok(dovecot: dict[str, DovecotInstance], creds: Credentials, protocol: str) -> None:
    server = dovecot["fixed"]
    run = probe(server, protocol, protocol, creds)
    assert run.code == 0, explain(run, server)
    assert "4/4 clients connect" in run.summary


def test_dovecot_dual_certificates_are_both_reported(dovecot: dict[str, DovecotInstance], creds: Credentials) -> None:
    server = dovecot["dual"]
    run = probe(server, "imaps", "imaps", creds)
    assert run.code == 0, explain(run, server)
    assert "ECDSA P-256 certificate" in run.summary and "RSA 2048 certificate" in run.summary
    assert "days_remaining_rsa" in run.perfdata


def test_dovecot_near_expiry_is_critical(dovecot: dict[str, DovecotInstance], creds: Credentials) -> None:
    server = dovecot["expiring"]
    run = probe(server, "imap", "imap", creds)
    assert run.code == 2, explain(run, server)
    assert run.value("days_remaining") == pytest.approx(5, abs=0.05)


@pytest.mark.parametrize(
    ("protocol", "words"),
    [
        ("imap", "STARTTLS not offered in the IMAP capabilities"),
        ("pop3", "STLS not offered in the CAPA reply"),
        ("sieve", "STARTTLS not offered in the ManageSieve capabilities"),
    ],
)
def test_dovecot_ssl_no_is_critical(
    dovecot: dict[str, DovecotInstance], creds: Credentials, protocol: str, words: str
) -> None:
    server = dovecot["notls"]
    run = probe(server, protocol, protocol, creds)
    assert run.code == 2, explain(run, server)
    assert words in run.summary


# sendmail and courier-imap: the two servers of the incident, in a bookworm chroot.


@pytest.fixture(scope="session")
def chroot_creds() -> Iterator[tuple[ChrootStack, Credentials]]:
    require("debootstrap", "chroot", "mount")
    stack = ChrootStack()
    stack.ensure()
    stack.prepare_run()
    srv = stack.root / "srv"
    directory = Path(tempfile.mkdtemp(prefix="check_tls_mail-", dir=srv))
    directory.chmod(0o755)
    # sendmail sends the leaf only (no chain file support), so these leaves come from the root.
    creds = Credentials.make(directory, from_root=True)
    yield stack, creds
    shutil.rmtree(directory, ignore_errors=True)
    stack.unmount_proc()


def _daemons(
    kind: type[SendmailInstance] | type[CourierInstance], stack: ChrootStack, creds: Credentials
) -> Iterator[dict[str, Instance]]:
    started: dict[str, Instance] = {}
    try:
        for scenario in ("incident", "fixed", "expiring"):
            daemon = kind(stack, creds, scenario)
            started[scenario] = daemon
            daemon.start()
        yield started
    finally:
        for daemon in started.values():
            daemon.stop()


@pytest.fixture(scope="session")
def sendmail(chroot_creds: tuple[ChrootStack, Credentials]) -> Iterator[dict[str, Instance]]:
    yield from _daemons(SendmailInstance, *chroot_creds)


@pytest.fixture(scope="session")
def courier(chroot_creds: tuple[ChrootStack, Credentials]) -> Iterator[dict[str, Instance]]:
    yield from _daemons(CourierInstance, *chroot_creds)


def test_sendmail_incident_fails_the_relaying_mta_with_the_ecdsa_diagnosis(
    sendmail: dict[str, Instance], chroot_creds: tuple[ChrootStack, Credentials]
) -> None:
    server = sendmail["incident"]
    run = probe(server, "smtp", "smtp", chroot_creds[1])
    assert run.code == 2, explain(run, server)
    assert (
        "MTA on OpenSSL 1.0.2 cannot connect over TLS 1.2: the certificate is ECDSA and the server accepts "
        "no ECDSA suite over TLS 1.2" in run.summary
    ), explain(run, server)
    assert "ESMTP Sendmail" not in run.summary  # the banner is not our business on the first line


def test_sendmail_fixed_is_ok(sendmail: dict[str, Instance], chroot_creds: tuple[ChrootStack, Credentials]) -> None:
    server = sendmail["fixed"]
    run = probe(server, "smtp", "smtp", chroot_creds[1])
    assert run.code == 0, explain(run, server)
    assert "4/4 clients connect" in run.summary


def test_sendmail_near_expiry_is_critical(
    sendmail: dict[str, Instance], chroot_creds: tuple[ChrootStack, Credentials]
) -> None:
    server = sendmail["expiring"]
    run = probe(server, "smtp", "smtp", chroot_creds[1])
    assert run.code == 2, explain(run, server)
    assert run.value("days_remaining") == pytest.approx(5, abs=0.05)


@pytest.mark.parametrize("protocol", ["imap", "imaps"])
def test_courier_incident_fails_apple_mail_with_the_ecdsa_diagnosis(
    courier: dict[str, Instance], chroot_creds: tuple[ChrootStack, Credentials], protocol: str
) -> None:
    server = courier["incident"]
    run = probe(server, protocol, protocol, chroot_creds[1])
    assert run.code == 2, explain(run, server)
    assert (
        "Apple Mail cannot connect over TLS 1.2: the certificate is ECDSA and the server accepts no ECDSA "
        "suite over TLS 1.2" in run.summary
    ), explain(run, server)


@pytest.mark.parametrize("protocol", ["imap", "imaps"])
def test_courier_fixed_is_ok(
    courier: dict[str, Instance], chroot_creds: tuple[ChrootStack, Credentials], protocol: str
) -> None:
    server = courier["fixed"]
    run = probe(server, protocol, protocol, chroot_creds[1])
    assert run.code == 0, explain(run, server)
    assert "4/4 clients connect" in run.summary


def test_courier_near_expiry_is_critical(
    courier: dict[str, Instance], chroot_creds: tuple[ChrootStack, Credentials]
) -> None:
    server = courier["expiring"]
    run = probe(server, "imaps", "imaps", chroot_creds[1])
    assert run.code == 2, explain(run, server)
    assert run.value("days_remaining") == pytest.approx(5, abs=0.05)


def test_dovecot_version_policy(dovecot: dict[str, DovecotInstance], creds: Credentials) -> None:
    server = dovecot["fixed"]  # ssl_min_protocol = TLSv1.2
    run = probe(server, "imaps", "imaps", creds, "--min-tls", "1.2", "--require-tls", "1.2", "--require-tls", "1.3")
    assert run.code == 0, explain(run, server)
    assert "accepts TLS 1.2, 1.3" in run.summary
    strict = probe(server, "imaps", "imaps", creds, "--min-tls", "1.3")
    assert strict.code == 2 and "server accepts TLS 1.2, older than --min-tls 1.3" in strict.summary


def test_postfix_incident_fails_require_tls12(postfix: PostfixInstance, creds: Credentials) -> None:
    run = probe(postfix, "incident-submission", "submission", creds, "--client", "none", "--require-tls", "1.2")
    assert run.code == 2, explain(run, postfix)
    assert "server does not accept TLS 1.2 (--require-tls)" in run.summary
