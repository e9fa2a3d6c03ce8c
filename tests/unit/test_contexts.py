"""The contexts alone: each judges the finding it is given, without the resource or the rest of the check."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from seam import NAME, NOW, World, dual, plan

from check_tls_mail.plugin.thresholds import ExpiryThreshold
from check_tls_mail.probe.outcome import Accepted, HandshakeCause, HandshakeOutcome, Rejected
from check_tls_mail.probe.report import HostReport
from check_tls_mail.tls.alerts import Alert
from check_tls_mail.tls.versions import TlsVersion


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def test_contexts_judge_a_finding_alone_without_the_resource(world: World) -> None:
    """Each context reads the finding it is given; the resource is not needed (None here)."""
    from nagiosplugin import Metric
    from nagiosplugin.state import Critical, Warn

    from check_tls_mail.judgement.assessment import assess
    from check_tls_mail.plugin.contexts import ChainContext, ExpiryContext
    from check_tls_mail.plugin.findings import ChainJudged, Expiry, label

    probes = plan()
    report = dual(world, world.leaf("RSA", names=("other.example",), days_left=15))
    assessment = assess(HostReport(probes, None, (report,), 1, 0.1), world.anchors, NAME, NOW)
    address = assessment.addresses[0]
    rsa = address.served[1]
    expiry = Expiry(address, rsa, rsa.chain.leaf, False, rsa.chain.leaf.days_left(NOW), 90)
    chain = ChainJudged(address, rsa)
    warning, critical = ExpiryThreshold.parse("20%", "-w"), ExpiryThreshold.parse("10%", "-c")
    judged = ExpiryContext(warning, critical).evaluate(Metric(label(expiry), expiry, context="expiry"), None)  # type: ignore[arg-type]
    assert judged.state == Warn and judged.hint.startswith("RSA certificate expires in 15.0 days")
    assert (
        str(ExpiryContext(warning, critical).performance(judged.metric, None)) == "days_remaining_rsa=15.00;18:;9:;;90"
    )  # type: ignore[arg-type]
    named = ChainContext().evaluate(Metric(label(chain), chain, context="chain"), None)  # type: ignore[arg-type]
    assert (
        named.state == Critical
        and named.hint == f"RSA certificate: name mismatch: certificate is for other.example, not {NAME}"
    )


def test_min_tls_is_not_unknown_for_an_old_version_this_host_cannot_offer() -> None:
    """An UNKNOWN outranks every CRITICAL: a host whose OpenSSL cannot offer TLS 1.0 must not hide outages."""
    from nagiosplugin import Metric
    from nagiosplugin.state import Critical, Ok, Unknown

    from check_tls_mail.plugin.contexts import VersionPolicyContext
    from check_tls_mail.plugin.findings import Versions

    local = Rejected(HandshakeCause.LOCAL_VERSION_LIMIT, None, 0.0)
    refused = Rejected(HandshakeCause.ALERT, Alert.protocol_version, 0.01)
    taken = Accepted(TlsVersion.TLS1_2, "ECDHE-ECDSA-AES128-GCM-SHA256", (), 0, 0.01)

    def judged(outcomes: dict[TlsVersion, HandshakeOutcome], min_tls: str | None, *required: str) -> object:
        finding = Versions(None, MappingProxyType(outcomes))  # type: ignore[arg-type]
        context = VersionPolicyContext(
            TlsVersion.parse(min_tls) if min_tls else None, tuple(TlsVersion.parse(v) for v in required)
        )
        return context.evaluate(Metric("versions", finding), None).state  # type: ignore[arg-type]

    v10, v11, v12, v13 = TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2, TlsVersion.TLS1_3
    versions: dict[TlsVersion, HandshakeOutcome] = {v10: local, v11: refused, v12: taken, v13: taken}
    assert judged(versions, "1.2") == Ok
    assert judged({**versions, v11: taken}, "1.2") == Critical  # what was tested still counts
    assert judged(versions, None, "1.0") == Unknown  # asked for outright: this host cannot say
