"""Assembly: the nagiosplugin Check from the resource, the contexts that judge it and the summary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import nagiosplugin

from .certificate import TrustAnchors, utcnow
from .contexts import (
    AllAcceptedContext,
    ChainContext,
    CipherContext,
    ClientContext,
    DaneContext,
    ExpiryContext,
    ServiceContext,
    TimeContext,
    VersionPolicyContext,
)
from .probe import HostReport
from .resource import MailTlsService
from .summary import TlsMailSummary
from .thresholds import ExpiryThreshold


def build(
    *,
    collect: Callable[[], HostReport],
    anchors: TrustAnchors | None,
    name_to_check: str,
    warning: ExpiryThreshold,
    critical: ExpiryThreshold,
    min_tls: str | None,
    require_tls: tuple[str, ...],
    dane_required: bool,
    verbosity: int,
    clock: Callable[[], datetime] = utcnow,
) -> nagiosplugin.Check:
    """One assembly: the resource, the contexts that judge it, the summary that words it."""
    resource = MailTlsService(collect, anchors, name_to_check, clock)
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
        TlsMailSummary(resource, warning, verbosity),
    )
    check.name = "TLS_MAIL"
    return check
