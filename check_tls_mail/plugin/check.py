"""Assembly: the nagiosplugin Check from the resource, the contexts that judge it and the summary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import nagiosplugin

from ..judgement.assessment import Expectations
from ..probe.report import HostReport
from ..tls.versions import TlsVersion
from ..x509.chain import utcnow
from ..x509.store import TrustAnchors
from .contexts import (
    AllAcceptedContext,
    ChainContext,
    CipherContext,
    ClientContext,
    DaneContext,
    ExpiryContext,
    MtaStsContext,
    RenewalContext,
    RevocationContext,
    ServiceContext,
    TimeContext,
    VersionPolicyContext,
)
from .resource import MailTlsService
from .summary import TlsMailSummary
from .thresholds import ExpiryThreshold

if TYPE_CHECKING:
    from ..checks.renewal.judge import ExpectedCertificate


def build(
    *,
    collect: Callable[[], HostReport],
    anchors: TrustAnchors | None,
    name_to_check: str,
    warning: ExpiryThreshold,
    critical: ExpiryThreshold,
    min_tls: TlsVersion | None,
    require_tls: tuple[TlsVersion, ...],
    dane_required: bool,
    verbosity: int,
    clock: Callable[[], datetime] = utcnow,
    expected_certificates: tuple[ExpectedCertificate, ...] = (),
    required_names: tuple[str, ...] = (),
    policy_anchors: TrustAnchors | None = None,
) -> nagiosplugin.Check:
    """One assembly: the resource, the contexts that judge it, the summary that words it.

    ``policy_anchors``: the trust anchors MTA-STS verifies the chain with when ``anchors`` is None (--no-verify-chain).
    """
    expectations = Expectations(expected_certificates, required_names, policy_anchors)
    resource = MailTlsService(collect, anchors, name_to_check, clock, expectations)
    check = nagiosplugin.Check(
        resource,
        ServiceContext(),
        ChainContext(),
        ExpiryContext(warning, critical),
        ClientContext(),
        CipherContext(),
        AllAcceptedContext(),
        VersionPolicyContext(min_tls, require_tls),
        DaneContext(dane_required),
        TimeContext(),
        RenewalContext(),
        RevocationContext(),
        MtaStsContext(),
        TlsMailSummary(resource, warning, verbosity),
    )
    check.name = "TLS_MAIL"
    return check
