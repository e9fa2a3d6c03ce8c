"""The optional checks' lookups beside the probes, in process: one still running at the deadline is not finished.

DANE, MTA-STS and revocation each outlive the probe budget here (their lookup
is replaced by one that waits); the report says so instead of "not looked up",
and names what was asked.
"""

from __future__ import annotations

import socket
import threading

import pytest
from fakeserver import MailServer, TlsConfig
from revocation_servers import RevocationWorld
from runs import serving

from check_tls_mail.checks.mtasts.judge import MtaStsReport
from check_tls_mail.checks.mtasts.records import LookupNotFinished, RecordKind
from check_tls_mail.checks.revocation.status import CertificateRevocation, Source, Unavailability, Unavailable


def test_a_tlsa_lookup_still_running_at_the_deadline_is_not_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    """In process: the lookup outlives the probe budget; the report says so instead of 'not looked up'."""
    from check_tls_mail.checks.dane.check import Dane
    from check_tls_mail.checks.dane.lookup import TlsaStatus
    from check_tls_mail.net import resolver
    from check_tls_mail.net.dialects import PROTOCOLS
    from check_tls_mail.probe.plan import ProbePlan
    from check_tls_mail.probe.run import run

    release = threading.Event()
    monkeypatch.setattr(resolver, "lookup_tlsa", lambda name, server, deadline: release.wait(5))
    with MailServer(lambda sock: None) as server:
        plan = ProbePlan("127.0.0.1", server.port, PROTOCOLS["smtp"], socket.AF_INET, None, (), (), 4, 0.5)
        report = run(plan, (Dane(f"_{server.port}._tcp.mx.test", required=False),))
    release.set()
    tlsa = report.extras["dane"]
    assert tlsa.status is TlsaStatus.NOT_FINISHED  # type: ignore[attr-defined]
    assert tlsa.name == f"_{server.port}._tcp.mx.test"  # type: ignore[attr-defined]


def test_an_mta_sts_lookup_still_running_at_the_deadline_is_not_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    """In process: both lookups outlive the probe budget; the report says so, the fetch is not tried."""
    from check_tls_mail.checks.mtasts import records as module
    from check_tls_mail.checks.mtasts.check import MtaSts
    from check_tls_mail.net.dialects import PROTOCOLS
    from check_tls_mail.probe.plan import ProbePlan
    from check_tls_mail.probe.run import run

    release = threading.Event()
    monkeypatch.setattr(module, "lookup_record", lambda *args: release.wait(5))
    monkeypatch.setattr(module, "lookup_tlsrpt", lambda *args: release.wait(5))
    with MailServer(lambda sock: None) as server:
        smtp = PROTOCOLS["smtp"]
        plan = ProbePlan("127.0.0.1", server.port, smtp, socket.AF_INET, "mx.test", (), (), 4, 0.5)
        report = run(plan, (MtaSts("x.test", None),))
    release.set()
    assert report.extras["mta_sts"] == MtaStsReport(
        "x.test",
        LookupNotFinished(RecordKind.MTA_STS, "_mta-sts.x.test"),
        None,
        LookupNotFinished(RecordKind.TLSRPT, "_smtp._tls.x.test"),
    )


def test_a_check_still_running_at_the_deadline_is_not_finished(
    revocation_world: RevocationWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: the OCSP request outlives the probe budget; the report names the URL and the timeout."""
    from check_tls_mail.checks.revocation import lookup as revocation
    from check_tls_mail.checks.revocation.check import Revocation
    from check_tls_mail.net.dialects import PROTOCOLS
    from check_tls_mail.probe.plan import ProbePlan
    from check_tls_mail.probe.run import run

    release = threading.Event()
    monkeypatch.setattr(revocation, "check", lambda *args, **kwargs: release.wait(5))
    issued = revocation_world.leaves["ocsp-good"]
    with serving("imaps", TlsConfig([issued.write(revocation_world.directory, "ocsp-good-deadline")])) as server:
        plan = ProbePlan(
            "127.0.0.1",
            server.port,
            PROTOCOLS["imaps"],
            socket.AF_INET,
            "ocsp-good.example.test",
            (),
            (),
            4,
            1.0,
        )
        report = run(plan, (Revocation(str(revocation_world.files["root"])),))
    release.set()
    (answers,) = report.extras["revocation"].values()  # type: ignore[attr-defined]
    url = revocation_world.ocsp_url("ocsp-good")
    assert answers == (
        CertificateRevocation(
            0,
            "ocsp-good.example.test",
            Unavailable(Source.OCSP, url, Unavailability.TIMEOUT, "no answer before the deadline"),
        ),
        CertificateRevocation(
            1,
            "Revocation Test CA",
            Unavailable(
                Source.CRL,
                revocation_world.server.url("root.crl"),
                Unavailability.TIMEOUT,
                "no answer before the deadline",
            ),
        ),
    )
