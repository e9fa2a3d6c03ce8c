"""--expect-cert against a real Postfix whose certificate file is replaced without a reload.

openssl s_client shows the old certificate until `postfix reload`, and the
CLI warns until then.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lines import USED, assert_line, day, utcnow, validity
from realservers import Credentials, RenewablePostfix
from runs import check, require

from check_tls_mail.checks.renewal.judge import (
    ExpectedCertificate,
    FileNewer,
    Same,
    compare,
    describe,
    load_expected,
)
from check_tls_mail.x509.parse import read


def served_leaf(port: int) -> x509.Certificate:
    """The leaf Postfix serves, as openssl s_client sees it."""
    result = subprocess.run(
        [
            "openssl",
            "s_client",
            "-starttls",
            "smtp",
            "-connect",
            f"127.0.0.1:{port}",
            "-servername",
            "mail.example.test",
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    found = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", result.stdout, re.S)
    assert found, result.stdout + result.stderr
    return x509.load_pem_x509_certificate(found.group().encode())


@pytest.fixture(scope="module")
def renewable(creds: Credentials) -> Iterator[RenewablePostfix]:
    require("postfix", "openssl")
    instance = RenewablePostfix(creds)
    instance.start()
    yield instance
    instance.stop()


def test_postfix_serves_the_old_certificate_until_reloaded(renewable: RenewablePostfix, creds: Credentials) -> None:
    port = renewable.ports[RenewablePostfix.LISTENER]
    before = served_leaf(port)  # starts the one smtpd process, which loads the file now
    expected = [ExpectedCertificate(str(renewable.chain_file), load_expected(str(renewable.chain_file)).facts)]
    assert compare(read(before.public_bytes(Encoding.DER)), expected) == Same(str(renewable.chain_file))

    renewed = creds.pki.leaf(key_type="ECDSA", days_left=150)
    renewable.replace_certificate(renewed.chain_pem(), renewed.key_pem)
    on_disk = load_expected(str(renewable.chain_file))
    still = served_leaf(port)
    assert still == before  # the file changed; the server did not
    verdict = compare(read(still.public_bytes(Encoding.DER)), [on_disk])
    assert verdict == FileNewer(before.not_valid_after_utc, renewed.cert.not_valid_after_utc, str(renewable.chain_file))
    assert describe(verdict).endswith("reload the service")

    renewable.reload()
    deadline = time.monotonic() + 15
    after = served_leaf(port)
    while after == before and time.monotonic() < deadline:  # the old smtpd exits once the master says so
        time.sleep(0.2)
        after = served_leaf(port)
    assert after == renewed.cert, renewable.logs()
    assert compare(read(after.public_bytes(Encoding.DER)), [on_disk]) == Same(str(renewable.chain_file))


def wait_until_served(port: int, wanted: x509.Certificate, seconds: float = 15) -> x509.Certificate:
    """The leaf Postfix serves once it serves ``wanted`` (or when the time is up)."""
    deadline = time.monotonic() + seconds
    now = served_leaf(port)
    while now != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        now = served_leaf(port)
    return now


def test_cli_warns_until_postfix_is_reloaded_after_a_renewal(renewable: RenewablePostfix, creds: Credentials) -> None:
    port = renewable.ports[RenewablePostfix.LISTENER]
    chain_file = str(renewable.chain_file)
    args = ["-H", "127.0.0.1", "--servername", "mail.example.test", "-p", str(port), "-P", "smtp"]
    args += ["--ca-file", creds.ca_file, "--client", "none", "--expect-cert", chain_file]

    def ok(leaf: x509.Certificate) -> Callable[[datetime], str]:
        def line(now: datetime) -> str:
            words, perf = validity(leaf, now)
            return (
                f"TLS_MAIL OK - 127.0.0.1:{port} smtp STARTTLS, TLS 1.3, {words}, serves the certificate of "
                f"--expect-cert | days_remaining={perf} handshake_time=Ts;;;0 {USED}"
            )

        return line

    # A known start, whatever an earlier test left: a current certificate, loaded by a reload.
    first = creds.pki.leaf(key_type="ECDSA", days_left=60)
    renewable.replace_certificate(first.chain_pem(), first.key_pem)
    renewable.reload()
    assert wait_until_served(port, first.cert) == first.cert, renewable.logs()
    started = utcnow()
    assert_line(check(*args), ok(first.cert), started)

    renewed = creds.pki.leaf(key_type="ECDSA", days_left=85)
    renewable.replace_certificate(renewed.chain_pem(), renewed.key_pem)  # the ACME client renewed; nobody reloaded
    assert served_leaf(port) == first.cert  # openssl s_client: still the old one

    def stale(now: datetime) -> str:
        words, perf = validity(first.cert, now)
        return (
            f"TLS_MAIL WARNING - 127.0.0.1:{port} smtp: the server still serves the certificate valid until "
            f"{day(first.cert)}, while {chain_file} holds the renewed one (until {day(renewed.cert)}): reload the "
            f"service / {words} | days_remaining={perf} handshake_time=Ts;;;0 {USED}"
        )

    started = utcnow()
    warned = check(*args)
    assert warned.code == 1
    assert_line(warned, stale, started)

    renewable.reload()
    assert wait_until_served(port, renewed.cert) == renewed.cert, renewable.logs()
    started = utcnow()
    reloaded = check(*args)
    assert reloaded.code == 0
    assert_line(reloaded, ok(renewed.cert), started)
