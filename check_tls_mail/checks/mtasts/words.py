"""The words for an MTA-STS or TLS-RPT finding: ``describe`` makes an operator's sentence from a typed value.

Words layer (the edge): server-supplied text is cleaned here or was cleaned when read.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...sanitize import clean
from .judge import HostCertificateUnverified, HostListed, HostNotListed, MaxAgeShort, ModeNone, MtaStsFinding
from .policy import (
    Mode,
    PolicyBadContentType,
    PolicyCertificateInvalid,
    PolicyError,
    PolicyFetched,
    PolicyHttpStatus,
    PolicyInvalid,
    PolicyOversized,
    PolicyRedirect,
    PolicyUnreachable,
)
from .records import (
    LookupFailed,
    LookupNotFinished,
    RecordAbsent,
    RecordDefect,
    RecordInvalid,
    RecordKind,
    StsRecord,
    TlsRptRecord,
)


def _seconds(value: int) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if value >= size and value % size == 0:
            return f"{value} s ({value // size} {unit})"
    return f"{value} s"


def _patterns(patterns: Sequence[str]) -> str:
    shown = ", ".join(clean(p, 64) for p in patterns[:4])
    return shown + (f" and {len(patterns) - 4} more" if len(patterns) > 4 else "")


_CONSEQUENCE = {
    Mode.ENFORCE: "senders refuse to deliver to it",
    Mode.TESTING: "in testing mode senders still deliver, and report it",
}


def _consequence(mode: Mode, senders: str) -> str:
    return senders if senders and mode is Mode.ENFORCE else _CONSEQUENCE[mode]


def _policy_error(error: PolicyError) -> str:
    where = f"line {error.line}: " if error.line else ""
    detail = f" ({error.detail})" if error.detail else ""
    return f"{where}{error.defect.value}{detail}"


def describe(finding: MtaStsFinding, why: str = "", senders: str = "") -> str:
    """The operator's words for one finding (server text already cleaned).

    ``why``: words for why the MX's certificate does not verify (HostCertificateUnverified). ``senders``: who
    of the sending MTAs probed would refuse under an enforced policy, and who would not (the context's words).
    """
    match finding:
        case StsRecord(name=name, id=record_id):
            return f"MTA-STS record at {clean(name)}: id {record_id}"
        case TlsRptRecord(name=name, rua=rua):
            return f"TLS-RPT record at {clean(name)}: reports to {_patterns(rua)}"
        case RecordAbsent(kind=RecordKind.MTA_STS, name=name):
            return f"no MTA-STS record at {clean(name)}: senders apply no policy"
        case RecordAbsent(kind=RecordKind.TLSRPT, name=name):
            return f"no TLS-RPT record at {clean(name)}: senders send no TLS reports"
        case RecordInvalid(kind=kind, name=name, defect=defect, detail=detail):
            ignored = "senders apply no policy" if kind is RecordKind.MTA_STS else "senders send no TLS reports"
            version = "v=STSv1" if kind is RecordKind.MTA_STS else "v=TLSRPTv1"
            why = {
                RecordDefect.MULTIPLE: f"{detail} records begin with {version}, but there must be exactly one",
                RecordDefect.NO_SEPARATOR: f'"{detail}" does not begin with "{version};"',
                RecordDefect.SYNTAX: f'"{detail}" is not valid {kind.value} syntax',
                RecordDefect.NO_ID: f'"{detail}" has no valid id (1 to 32 letters and digits)',
                RecordDefect.NO_RUA: f'"{detail}" needs exactly one rua=',
                RecordDefect.BAD_RUA: f"report address {detail} is not a mailto: or https: URI",
            }[defect]
            return f"{kind.value} record at {clean(name)} is invalid: {why}: {ignored}"
        case LookupFailed(kind=kind, name=name, failure=failure, server=server, detail=detail):
            more = f": {detail}" if detail else ""
            return f"{kind.value} lookup of {clean(name)} {failure.value} ({server}){more}"
        case LookupNotFinished(kind=kind, name=name):
            return f"{kind.value} lookup of {clean(name)} did not finish in time"
        case PolicyFetched(policy=policy):
            mx = f", mx {_patterns(policy.mx)}" if policy.mx else ""
            return f"MTA-STS policy: mode {policy.mode.value}, max_age {_seconds(policy.max_age)}{mx}"
        case PolicyUnreachable(url=url, detail=detail):
            return (
                f"MTA-STS policy {clean(url)} cannot be fetched: {detail} ("
                "senders keep a cached policy only until its max_age runs out)"
            )
        case PolicyCertificateInvalid(host=host, problem=problem, detail=detail):
            return (
                f"the certificate of the MTA-STS policy host {clean(host)} is {problem.value} ({detail}): "
                "senders cannot fetch the policy"
            )
        case PolicyHttpStatus(url=url, status=status, reason=reason):
            return f"MTA-STS policy {clean(url)} answered HTTP {status} {reason}, not 200"
        case PolicyRedirect(url=url, status=status, location=location):
            to = f" to {location}" if location else ""
            return f"MTA-STS policy {clean(url)} redirects (HTTP {status}{to}): senders do not follow redirects"
        case PolicyOversized(url=url, limit=limit):
            return f"MTA-STS policy {clean(url)} is larger than {limit // 1024} KiB: senders refuse it"
        case PolicyBadContentType(url=url, content_type=content_type, parsed=parsed):
            served = content_type or "no Content-Type"
            if isinstance(parsed, PolicyError):
                return f"MTA-STS policy {clean(url)} is served as {served} and is invalid: {_policy_error(parsed)}"
            return f"MTA-STS policy {clean(url)} is served as {served}, not text/plain: RFC 8461 senders refuse it"
        case PolicyInvalid(url=url, error=error):
            return f"MTA-STS policy {clean(url)} is invalid: {_policy_error(error)}: senders refuse it"
        case HostListed(host=host, domain=domain, mode=mode, pattern=pattern):
            return f"{clean(host)} is listed in the MTA-STS policy of {domain} (mx {clean(pattern)}, mode {mode.value})"
        case HostNotListed(host=host, domain=domain, mode=mode, patterns=patterns):
            return (
                f"{clean(host)} matches no mx of the MTA-STS policy of {domain} "
                f"(mode {mode.value}: mx {_patterns(patterns)}): {_consequence(mode, senders)}"
            )
        case HostCertificateUnverified(host=host, domain=domain, mode=mode):
            because = f" ({why})" if why else ""
            return (
                f"the certificate of {clean(host)} does not verify{because}, and the MTA-STS policy of {domain} "
                f"is in {mode.value} mode: {_consequence(mode, senders)}"
            )
        case ModeNone(domain=domain):
            return f"the MTA-STS policy of {domain} is in mode none: senders enforce nothing"
        case MaxAgeShort(domain=domain, max_age=max_age):
            return (
                f"the MTA-STS policy of {domain} has max_age {_seconds(max_age)}, under a day: "
                "senders forget it soon when the policy host is down (RFC 8461 expects weeks)"
            )
    raise AssertionError(finding)  # pragma: no cover
