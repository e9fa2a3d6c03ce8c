"""Assembly: the nagiosplugin Check from the resource, the contexts that judge it and the summary; its run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import nagiosplugin

from ..probe.report import HostReport
from ..tls.versions import TlsVersion
from ..x509.chain import utcnow
from ..x509.store import TrustAnchors
from .contexts import (
    AllAcceptedContext,
    ChainContext,
    CipherContext,
    ClientContext,
    ExpiryContext,
    FirstHelloContext,
    LifetimeContext,
    ServiceContext,
    TimeContext,
    VersionPolicyContext,
)
from .extras import Judging
from .output import render
from .perfdata import ranked
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
    min_tls: TlsVersion | None,
    require_tls: tuple[TlsVersion, ...],
    verbosity: int,
    clock: Callable[[], datetime] = utcnow,
    extras: Sequence[Judging] = (),
) -> nagiosplugin.Check:
    """One assembly: the resource, the contexts that judge it (the optional checks' too), the summary."""
    resource = MailTlsService(collect, anchors, name_to_check, clock, extras)
    check = nagiosplugin.Check(
        resource,
        ServiceContext(),
        FirstHelloContext(),
        ChainContext(),
        ExpiryContext(warning, critical),
        LifetimeContext(warning, critical),
        ClientContext(),
        CipherContext(),
        AllAcceptedContext(),
        VersionPolicyContext(min_tls, require_tls),
        TimeContext(),
        *(context for extra in extras for context in extra.contexts()),
        TlsMailSummary(resource, warning, verbosity),
    )
    check.name = "TLS_MAIL"
    return check


def run_and_render(check: nagiosplugin.Check) -> tuple[int, str]:
    """Run an assembled check: its exit code and the whole output the plugin writes (first line, long output)."""
    check()
    return check.exitcode, render(check.exitcode, check.summary_str, ranked(check), check.verbose_str or [])
