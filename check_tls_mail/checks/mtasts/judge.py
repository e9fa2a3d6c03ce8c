"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) for one MX: the report of --mta-sts and its judgement.

``MtaStsReport`` holds what the lookups and the fetch found (mtastsrecords.py,
mtastspolicy.py); ``assess`` picks the findings for one MX host, ``severity``
maps each to a state; mtastswords.py words them. Every value is typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...records import NamedTuple
from ...severity import Severity
from .policy import (
    Mode,
    Policy,
    PolicyBadContentType,
    PolicyCertificateInvalid,
    PolicyError,
    PolicyFetch,
    PolicyFetched,
    PolicyHttpStatus,
    PolicyInvalid,
    PolicyOversized,
    PolicyRedirect,
    PolicyUnreachable,
    match_mx,
)
from .records import (
    LookupFailed,
    LookupNotFinished,
    MtaStsState,
    RecordAbsent,
    RecordInvalid,
    RecordKind,
    StsRecord,
    TlsRptRecord,
    TlsRptState,
)

if TYPE_CHECKING:
    from ...x509.chain import ChainReport

#: A max_age under this is worth a warning (the RFC expects weeks or more).
SHORT_MAX_AGE = 86400


class MtaStsReport(NamedTuple):
    """What the lookups and the fetch found for one domain (--mta-sts): measured, not judged."""

    domain: str
    record: MtaStsState
    fetch: PolicyFetch | None  # None: not fetched (no usable record, or the lookup did not finish)
    tlsrpt: TlsRptState


class HostListed(NamedTuple):
    host: str
    domain: str
    mode: Mode
    pattern: str


class HostNotListed(NamedTuple):
    host: str
    domain: str
    mode: Mode  # ENFORCE or TESTING
    patterns: tuple[str, ...]


class HostCertificateUnverified(NamedTuple):
    """The MX's certificate does not verify for the host: the policy requires it whatever --no-verify-chain says."""

    host: str
    domain: str
    mode: Mode  # ENFORCE or TESTING


class ModeNone(NamedTuple):
    domain: str


class MaxAgeShort(NamedTuple):
    domain: str
    max_age: int


MtaStsFinding = (
    MtaStsState
    | TlsRptState
    | PolicyFetch
    | HostListed
    | HostNotListed
    | HostCertificateUnverified
    | ModeNone
    | MaxAgeShort
)


class PolicyChain(NamedTuple):
    """A served chain as an MTA-STS sender verifies it, and the policy's verdict (None: it verifies)."""

    chain: ChainReport
    problem: HostCertificateUnverified | None


class MtaStsJudgement(NamedTuple):
    """The domain's records and policy judged for the MX name, and each served chain against the policy."""

    report: MtaStsReport
    mx: str  # the name matched against the policy's mx patterns
    policy: Policy | None  # the policy senders apply, when one was fetched
    findings: tuple[MtaStsFinding, ...]  # record, policy, mx, mode, max_age, TLS-RPT; most severe first
    chains: dict[tuple[bytes, ...], PolicyChain]  # served chain (as sent) -> as the policy verifies it


def policy_of(fetch: PolicyFetch | None) -> Policy | None:
    """The policy senders apply: fetched as text/plain, or parsed despite another Content-Type."""
    if fetch is None:
        return None
    if isinstance(fetch, PolicyFetched):
        return fetch.policy
    if isinstance(fetch, PolicyBadContentType) and isinstance(fetch.parsed, Policy):
        return fetch.parsed
    return None


def assess(
    domain: str,
    record: MtaStsState,
    fetch: PolicyFetch | None,
    host: str,
    certificate_verified: bool | None,
    tlsrpt: TlsRptState | None = None,
) -> tuple[MtaStsFinding, ...]:
    """The findings for one MX ``host`` under ``domain``'s policy, most severe first.

    ``fetch`` is None when the policy was not fetched (no usable record).
    ``certificate_verified``: the served chain verifies (trust, validity) for
    ``host``, judged with verification on; None if no handshake gave a chain.
    """
    domain = domain.rstrip(".").lower()
    findings: list[MtaStsFinding] = [record]
    if fetch is not None and isinstance(record, StsRecord):
        findings.append(fetch)
        policy = policy_of(fetch)
        if policy is not None:
            if policy.mode is Mode.NONE:
                findings.append(ModeNone(domain))
            else:
                pattern = match_mx(host, policy.mx)
                if pattern is None:
                    findings.append(HostNotListed(host, domain, policy.mode, policy.mx))
                else:
                    findings.append(HostListed(host, domain, policy.mode, pattern))
                if certificate_verified is False:
                    findings.append(HostCertificateUnverified(host, domain, policy.mode))
            if policy.max_age < SHORT_MAX_AGE:
                findings.append(MaxAgeShort(domain, policy.max_age))
    if tlsrpt is not None:
        findings.append(tlsrpt)
    return tuple(sorted(findings, key=severity, reverse=True))


def severity(finding: MtaStsFinding) -> Severity:
    """The state each finding maps to (issue 16, part 3)."""
    match finding:
        case StsRecord() | TlsRptRecord() | PolicyFetched() | HostListed():
            return Severity.OK
        case RecordAbsent(kind=RecordKind.MTA_STS) | RecordInvalid():
            return Severity.WARNING  # senders apply no policy: protection lost, no mail lost
        case LookupFailed(kind=RecordKind.MTA_STS) | LookupNotFinished(kind=RecordKind.MTA_STS):
            return Severity.CRITICAL  # as for --dane: no answer is not an OK
        case RecordAbsent() | LookupFailed() | LookupNotFinished():
            return Severity.OK  # TLS-RPT: shown with -v, not judged
        case (
            PolicyUnreachable()
            | PolicyCertificateInvalid()
            | PolicyHttpStatus()
            | PolicyRedirect()
            | PolicyOversized()
            | PolicyInvalid()
        ):
            return Severity.CRITICAL  # senders keep a cached policy only until max_age runs out
        case PolicyBadContentType(parsed=PolicyError()):
            return Severity.CRITICAL
        case PolicyBadContentType() | ModeNone() | MaxAgeShort():
            return Severity.WARNING
        case HostNotListed(mode=mode) | HostCertificateUnverified(mode=mode):
            return Severity.CRITICAL if mode is Mode.ENFORCE else Severity.WARNING
    raise AssertionError(finding)  # pragma: no cover
