"""The long output (-v, -vv, -vvv): what was checked at each address, read from the assessment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..judgement.assessment import AddressAssessment, Assessment, ClientResult, Served
from ..judgement.diagnosis import Why
from ..net.names import endpoint
from ..probe.axes import Axis
from ..probe.outcome import Accepted, HandshakeOutcome, Rejected
from ..probe.plan import DEFAULT_PROBE, ProbeKey, Purpose
from ..probe.report import AddressReport, SmallHello, dropped
from ..words import certificate, day, days, join, limited, when
from . import wording

if TYPE_CHECKING:
    from ..tls.hello.spec import HelloSpec
    from .extras import Judging

#: The optional checks, each with what it judged: their lines go under each certificate and after every address.
Extras = Sequence[tuple["Judging", Any]]


#: The handshake every check makes first, with every version and suite the local OpenSSL has: it fetches the
#: certificates and tells what the server can do.
FIRST = "first handshake"


def _outcome(outcome: HandshakeOutcome) -> str:
    if isinstance(outcome, Accepted):
        group = f", group {outcome.group}" if outcome.group else ""
        return f"accepted, {outcome.version.label} {outcome.cipher}{group} ({outcome.seconds:.3f} s)"
    verb = "rejected" if isinstance(outcome, Rejected) else "failed"
    return f"{verb}: {wording.outcome(outcome)} ({outcome.seconds:.3f} s)"


def _small_hello(again: SmallHello) -> str:
    """A full handshake's large hello dropped, then made again with a small one: the sizes and how it went."""
    large, small = again.large.hello, again.small.hello
    return (
        f"  its {f'{large}-byte ' if large else ''}ClientHello ({again.library}) dropped, made again with a "
        f"{f'{small}-byte ' if small else ''}hello with one key share ({again.group}): {_outcome(again.small)}"
    )


def _made(title: str, key: ProbeKey, report: AddressReport, outcome: HandshakeOutcome) -> list[str]:
    """A full handshake's line; with the small hello it was made again with, when its large one was dropped."""
    again = report.small.get(key)
    if again is None:
        return [f"{title}: {_outcome(outcome)}"]
    return [f"{title}: {_outcome(again.large)}", _small_hello(again)]


def _transcript(title: str, outcome: HandshakeOutcome) -> list[str]:
    if not outcome.transcript:
        return []
    return [f"{title} dialogue:"] + [f"  {who}: {text}" for who, text in outcome.transcript]


def long_output(assessment: Assessment, verbosity: int, extras: Extras = ()) -> list[str]:
    """What was checked, for -v (1), the dialogue too (2), every probe's dialogue (3)."""
    if verbosity < 1:
        return []
    plan = assessment.plan
    host = assessment.host
    lines = []
    if host.addresses_found > len(host.addresses):
        lines.append(f"{plan.host} has {host.addresses_found} addresses; the first {len(host.addresses)} were probed")
    for address in assessment.addresses:
        lines += _address_lines(assessment, address, verbosity, extras)
    for extra, judged in extras:
        lines += extra.lines(judged, assessment)
    if plan.clients or plan.ciphers:
        probes = sum(len(report.outcomes) for report in host.addresses)
        lines.append(f"{probes} connections, at most {plan.parallel} at once, took {host.seconds:.3f} s")
    return lines


def _address_lines(assessment: Assessment, address: AddressAssessment, verbosity: int, extras: Extras) -> list[str]:
    report = address.report
    plan = assessment.plan
    lines = [
        f"service: {endpoint(plan.host, plan.port)} ({report.target.address.ip}) {plan.dialect.name}, "
        f"{plan.dialect.description}; SNI {plan.servername or 'none'}"
    ]
    lines += _made(f"{FIRST} (TLS 1.0-1.3, any suite)", DEFAULT_PROBE, report, report.primary)
    bare = ProbeKey(Purpose.NO_SNI)
    if bare in report.small:  # else the certificate without SNI says how it went
        lines += _made(f"{FIRST} without SNI", bare, report, report.outcomes[bare])
    lines += [f"  note: {remark}" for remark in report.primary.remarks]
    if report.dropped:
        # Closes shown to be the server's answer (closed_in_answer) came again too: no sign of a limit.
        again = sum(
            dropped(o) or (isinstance(o, Rejected) and o.closed_in_answer)
            for o in (report.large(key) for key in report.dropped)
        )
        causes = sorted({wording.outcome(outcome) for outcome in report.dropped.values()})
        dropped_now = f"{len(report.dropped)} of {len(report.outcomes)} connections made at once were dropped"
        if again == len(report.dropped):  # the same answer alone: how the server refuses them, not a limit
            lines.append(f"{dropped_now} ({', '.join(causes)}), and again when made one at a time")
        else:
            through = len(report.dropped) - again
            tail = f" and {again} ended the same way" if again else ": the server limits concurrent connections"
            lines.append(f"{dropped_now} ({', '.join(causes)}); made again one at a time, {through} got through{tail}")
    if report.control is not None:
        closes = sum(isinstance(o, Rejected) and o.closed_in_answer for o in report.outcomes.values())
        verdict = (
            f"so the server closes the connection in answer to {closes} of those hellos"
            if closes
            else "so the closes are connection problems"
        )
        lines.append(
            f"the first handshake, made once more after closes that came again: {_outcome(report.control)}, {verdict}"
        )
    if verbosity >= 3 and report.primary.transcript:
        lines += _transcript(f"{FIRST} (and every connection whose dialogue is not shown)", report.primary)
    elif verbosity >= 2:
        lines += _transcript(FIRST, report.primary)
    for served in address.served:
        lines += _certificate_lines(assessment, address, served, extras)
    probes: list[tuple[str, HandshakeOutcome]] = [
        (f"{key_type.value} suites over TLS 1.2", outcome) for key_type, outcome in report.key_types().items()
    ]
    ciphers = [(f"cipher {c.cipher} (TLS 1.2)", c.outcome) for c in address.ciphers]
    for title, outcome in probes:
        lines += _probe_lines(title, outcome, verbosity, report.primary)
    for version, outcome in address.versions.items():
        title = f"{version.label} only"
        lines += _made(title, ProbeKey(Purpose.VERSION, version), report, outcome)
        lines += _own_transcript(title, outcome, report.primary) if verbosity >= 3 else []
    for client in address.clients:
        lines += _client_lines(assessment, client, verbosity, report.primary)
    for title, outcome in ciphers:
        lines += _probe_lines(title, outcome, verbosity, report.primary)
    return lines


def _probe_lines(title: str, outcome: HandshakeOutcome, verbosity: int, default: HandshakeOutcome) -> list[str]:
    return [f"{title}: {_outcome(outcome)}"] + (_own_transcript(title, outcome, default) if verbosity >= 3 else [])


def _own_transcript(title: str, outcome: HandshakeOutcome, default: HandshakeOutcome) -> list[str]:
    """-vvv: a connection's dialogue, unless it is the first handshake's again (shown once, with it)."""
    return [] if outcome.transcript == default.transcript else _transcript(title, outcome)


def _client_lines(assessment: Assessment, client: ClientResult, verbosity: int, default: HandshakeOutcome) -> list[str]:
    """A client's probe: its result, the certificate it gets, why it fails; with -vvv its hello and the answer."""
    profile = client.profile
    sni = "" if profile.sends_sni else ", no SNI"
    title = f"client {profile.title} ({profile.offer.versions}{sni})"
    lines = [f"{title}: {_outcome(client.outcome)}"]
    if client.diagnosis is not None:  # a failure is only as true as the profile is fresh: which client, when
        lines.append(f"  profile: {profile.freshness}")
    if client.given is not None and not client.given.default:
        lines.append(f"  gets the {certificate(client.given.named)}")
    for result in client.axes:
        verdict = "accepted" if result.accepted else "refused as well"
        takes = _axis_values(result.axis, result.server_accepts)
        lines.append(f"  the same hello with more {result.axis.value}: {verdict}{takes}")
    if client.diagnosis is not None and isinstance(client.outcome, Accepted):
        refuses = "refuses the certificate" if client.diagnosis.why is Why.CERTIFICATE else "cannot connect"
        lines.append(f"  {refuses}: {wording.diagnosis(client.diagnosis)}")
    if verbosity >= 3:
        template = profile.hello_template
        if template is not None:
            lines.append(f"  hello offered: {hello_summary(profile.hello(assessment.plan.servername))}")
        lines += _own_transcript(title, client.outcome, default)
    return lines


def _axis_values(axis: Axis, codes: tuple[int, ...]) -> str:
    """'; the server takes X25519' from the scan of one axis, or ''."""
    if not codes:
        return ""
    from ..tls.registry import group_name, suite_name

    name = group_name if axis is Axis.GROUPS else suite_name
    return f"; the server takes {join([name(code) for code in codes])}"


def _which(served: Served) -> str:
    """'', ' (RSA)', ' (without SNI)': which certificate a line is about."""
    if served.default:
        return ""
    if served.without_sni:
        return " (without SNI)"
    return f" ({served.key_type.value if served.key_type else 'unsupported'})"


def hello_summary(spec: HelloSpec) -> str:
    """A ClientHello in one line: versions, suites, groups, signature algorithms, SNI, ALPN."""
    from ..tls.codepoints import FALLBACK_SCSV, GREASE, RENEGOTIATION_SCSV
    from ..tls.registry import SIGNATURE_ALGORITHMS, group_name, name_of, suite_name

    skipped = GREASE | {FALLBACK_SCSV, RENEGOTIATION_SCSV}
    versions = ", ".join(f"1.{(v & 0xFF) - 1}" if v > 0x0300 else "SSL 3.0" for v in sorted(spec.offered_versions()))
    suites = [suite_name(s, openssl=True) for s in spec.cipher_suites if s not in skipped]
    groups = [group_name(g) for g in spec.supported_groups if g not in skipped]
    schemes = [name_of(s, SIGNATURE_ALGORITHMS) for s in spec.signature_algorithms if s not in skipped]
    alpn = f"; ALPN {', '.join(spec.alpn)}" if spec.alpn else ""
    return (
        f"TLS {versions}; {len(suites)} suites ({', '.join(suites[:3])}...); "
        f"groups {limited(groups, 6) if groups else 'none'}; "
        f"{len(schemes)} signature algorithms; SNI {spec.server_name or 'none'}{alpn}"
    )


def _certificate_lines(assessment: Assessment, address: AddressAssessment, served: Served, extras: Extras) -> list[str]:
    now = assessment.now
    chain = served.chain
    leaf = chain.leaf
    trust = {True: "trusted", False: "NOT trusted", None: "trust not checked"}[chain.trusted]
    lines = [
        f"certificate{_which(served)}: {leaf.subject}, {leaf.key}, "
        f"{day(leaf.valid_from)} to {when(leaf.valid_until)} "
        f"({days(leaf.days_left(now))} left of {leaf.lifetime_days:.0f} days); "
        f"names: {leaf.names}; {trust}; server sent {chain.sent} certificate(s)"
    ]
    for position, cert in enumerate(chain.path[1:], 1):
        lines.append(
            f"  chain {position}: {cert.subject}, {cert.key}, until "
            f"{when(cert.valid_until)} ({days(cert.days_left(now))} left), issuer {cert.issuer}"
        )
    for extra, judged in extras:
        lines += extra.served_lines(judged, address, served)
    return lines
