"""The nagiosplugin Summary: words the first line from the assessment and the contexts' results.

OK: what was checked (service, version, certificates, DANE, clients). Not OK:
every problem, worst first; clients and ciphers failing for the same reason
are grouped, and so are addresses with the same problem; with several
addresses the good ones are listed as OK. Wording longer than
``output.SUMMARY_TARGET`` bytes is made compact (counts for address lists,
the last problems as "and N more below") and given whole in the long output.
"""

import nagiosplugin
from nagiosplugin import Result, Results
from nagiosplugin.state import Ok

from ..judgement.assessment import AddressAssessment, Assessment
from ..net.names import endpoint
from ..probe.outcome import Accepted
from ..records import NamedTuple
from ..words import CLAUSES, days, join, when
from .findings import ChainJudged, CipherTried, ClientTried, Expiry
from .output import SUMMARY_TARGET, size
from .resource import MailTlsService
from .thresholds import ExpiryThreshold, Unit, fmt_days


class _Group(NamedTuple):
    """Clients or ciphers at one address that fail for the same reason."""

    address: str  # shown_as
    ciphers: bool
    over: str
    why: str
    probed: bool = True  # False: their probes were dropped each time, no verdict ("could not be probed")


class _Entry(NamedTuple):
    """Words said of one or more addresses ("" for the service as a whole, or its only address)."""

    addresses: tuple[str, ...]
    words: str
    problem: bool = True  # False: what is fine (a certificate's summary, "OK"), said beside the problems

    def said(self, total: int, compact: bool) -> str:
        """'127.0.0.2: words', '127.0.0.1 and 127.0.0.2: words', 'all 8 addresses: words'; compact: '3 of 8 ...'."""
        named = [a for a in self.addresses if a]
        if not named:
            return self.words
        if len(named) > 2 and len(named) == total:
            return f"all {total} addresses: {self.words}"
        if compact and len(named) > 2:
            return f"{len(named)} of {total} addresses: {self.words}"
        return f"{join(named)}: {self.words}"


def _precedence(result: Result) -> tuple[int, int]:
    """Worst state first; within a state, a finding that must be read before the others (``precedence``, e.g.
    DANE's record to publish before the reload that the renewal check advises) comes first."""
    finding = result.metric.value if result.metric is not None else None
    return -int(result.state), -int(getattr(finding, "precedence", 0))


def _merged(items: list[tuple[str, str, bool]]) -> list[_Entry]:
    """(address, words, problem) into entries, one per distinct wording, in order of first appearance."""
    merged: dict[tuple[str, bool], list[str]] = {}
    for address, words, problem in items:
        merged.setdefault((words, problem), []).append(address)
    return [_Entry(tuple(addresses), words, problem) for (words, problem), addresses in merged.items()]


def certificates(assessment: Assessment, address: AddressAssessment, warning: ExpiryThreshold | None) -> str:
    """'ECDSA P-256 certificate valid 60.0 days (until ..., warning at 18 days)' for each served certificate."""
    parts = []
    for served in address.served:
        leaf = served.chain.leaf
        warn = ""
        if warning is not None and warning.unit is Unit.PERCENT:
            warn = f", warning at {fmt_days(warning.days(leaf.lifetime_days))} days"
        until = when(leaf.valid_until)
        bare = " without SNI" if served.without_sni else ""
        parts.append(f"{leaf.key} certificate{bare} valid {days(leaf.days_left(assessment.now))} (until {until}{warn})")
    return " and ".join(parts)


class TlsMailSummary(nagiosplugin.Summary):
    """Words the first line: what was checked, and every problem, worst first."""

    def __init__(self, resource: MailTlsService, warning: ExpiryThreshold | None = None, verbosity: int = 0) -> None:
        self.resource = resource
        self.warning = warning
        self.verbosity = verbosity

    @property
    def assessment(self) -> Assessment:
        assert self.resource.assessment is not None
        return self.resource.assessment

    def _where(self) -> str:
        plan = self.assessment.plan
        return f"{endpoint(plan.host, plan.port)} {plan.dialect.name}"

    def _certificates(self, address: AddressAssessment) -> str:
        return certificates(self.assessment, address, self.warning)

    def ok(self, results: Results) -> str:
        return self._ok()[0]

    def problem(self, results: Results) -> str:
        return self._problem(results)[0]

    def verbose(self, results: Results) -> list[str]:
        """The whole wording where the first line had to be compact, then what -v asks for."""
        whole = self._ok()[1] if results.most_significant_state == Ok else self._problem(results)[1]
        if self.verbosity < 1:
            return whole
        from .longoutput import long_output  # -v only

        extras = [(extra, self.resource.judged[extra.name]) for extra in self.resource.extras]
        return whole + long_output(self.assessment, self.verbosity, extras)

    def _ok(self) -> tuple[str, list[str]]:
        """The first line's words, and the whole wording for the long output when they had to be compact."""
        assessment = self.assessment
        plan = assessment.plan
        addresses = assessment.addresses
        first = addresses[0]
        primary = first.reference
        assert primary is not None
        where = f"{self._where()} {plan.dialect.upgrade_word}"
        listed = ", ".join(a.shown_as for a in addresses)
        several = f" at {len(addresses)} addresses" if len(addresses) > 1 else ""
        same = len({address.fingerprints for address in addresses}) == 1
        each = _merged([(a.shown_as, self._certificates(a), False) for a in addresses])
        tail = []
        if any(served.chain.trusted is None for address in addresses for served in address.served):
            tail.append("chain and name not verified")  # --no-verify-chain: say so, or it reads as verified
        accepted = [v for v, o in first.versions.items() if isinstance(o, Accepted)]
        if accepted:
            tail.append(f"accepts TLS {', '.join(v.number for v in accepted)}")
        for extra in self.resource.extras:  # what the optional checks found, in a few words (-v has the detail)
            tail += extra.ok_words(self.resource.judged[extra.name], assessment)
        clients, ciphers = len(plan.clients), len(plan.ciphers)
        if clients:
            tail.append(f"{clients}/{clients} clients connect")
        if ciphers:
            tail.append(f"{ciphers}/{ciphers} ciphers accepted")

        def sentence(lead: str, certificates: list[str]) -> str:
            return ", ".join([lead, primary.version.label, *certificates, *tail])

        certificates = [self._certificates(first)] if same else [e.said(len(addresses), False) for e in each]
        text = sentence(where + several + (f" ({listed})" if several else ""), certificates)
        if size(text) <= SUMMARY_TARGET:
            return text, []
        whole = [f"addresses: {listed}"] if several else []
        whole += [] if same else [e.said(len(addresses), False) for e in each]
        text = sentence(where + several, certificates)
        if size(text) <= SUMMARY_TARGET or same:
            return text, whole
        soonest = min(addresses, key=lambda a: min(s.chain.leaf.valid_until for s in a.served))
        first_to_expire = f"certificates differ by address, the first to expire: {soonest.shown_as}: "
        return sentence(where + several, [first_to_expire + self._certificates(soonest)]), whole

    def _problem(self, results: Results) -> tuple[str, list[str]]:
        """The first line's words, and the whole wording for the long output when they had to be compact."""
        items: list[tuple[str, str | _Group]] = []
        groups: dict[_Group, list[str]] = {}
        troubled: set[str] = set()
        judged: set[str] = set()
        for result in sorted(results, key=_precedence):
            if result.state == Ok or result.metric is None:
                continue
            finding = result.metric.value
            address = finding.address
            where = address.shown_as if address is not None else ""
            if isinstance(finding, Expiry | ChainJudged):
                judged.add(where)
            if not result.hint:
                continue
            troubled.add(where)
            if isinstance(finding, ClientTried | CipherTried):
                group = self._group_of(finding, result.hint)
                if group not in groups:
                    groups[group] = []
                    items.append((where, group))
                groups[group].append(
                    finding.result.cipher if isinstance(finding, CipherTried) else finding.result.profile.title
                )
            else:
                items.append((where, result.hint))
        said = [
            (where, item if isinstance(item, str) else self._grouped(item, groups[item]), True) for where, item in items
        ]
        addresses = self.assessment.addresses
        for address in addresses:
            if (
                address.served
                and address.shown_as not in judged
                and (len(addresses) == 1 or address.shown_as in troubled)
            ):
                said.append((address.shown_as, self._certificates(address), False))
        said += [(a.shown_as, "OK", False) for a in addresses if a.shown_as and a.shown_as not in troubled]
        return _fitted(f"{self._where()}: ", _merged(said), len(addresses))

    @staticmethod
    def _group_of(finding: ClientTried | CipherTried, why: str) -> _Group:
        where = finding.address.shown_as
        if isinstance(finding, CipherTried):
            return _Group(where, True, " over TLS 1.2", why)
        from ..judgement.diagnosis import Why

        profile = finding.result.profile
        diagnosis = finding.result.diagnosis
        probed = diagnosis is None or diagnosis.why is not Why.NOT_PROBED
        return _Group(where, False, f" over {profile.max_version.label}" if profile.tls12_only else "", why, probed)

    @staticmethod
    def _grouped(group: _Group, names: list[str]) -> str:
        if group.ciphers:
            plural = "s" if len(names) > 1 else ""
            return f"cipher{plural} {join(names)} rejected{group.over}: {group.why}"
        if not group.probed:
            return f"{join(names)} could not be probed: {group.why}"
        return f"{join(names)} cannot connect{group.over}: {group.why}"


def _fitted(head: str, entries: list[_Entry], total: int) -> tuple[str, list[str]]:
    """``head`` and the entries, joined by CLAUSES, within SUMMARY_TARGET bytes: the whole, or compact.

    Compact: address lists of more than two become counts, then the last
    entries are left to the long output, and the problems among them counted
    as "N more problems below". The whole wording goes to the long output.
    """
    whole = [entry.said(total, False) for entry in entries]
    text = head + CLAUSES.join(whole)
    if size(text) <= SUMMARY_TARGET:
        return text, []

    def more(kept: int) -> str:
        left = sum(entry.problem for entry in entries[kept:])
        return f" ({left} more problem{'s' if left > 1 else ''} below)" if left else ""

    compact = [entry.said(total, True) for entry in entries]
    kept: list[str] = []
    for part in compact:
        if kept and size(head + CLAUSES.join([*kept, part]) + more(len(kept) + 1)) > SUMMARY_TARGET:
            break
        kept.append(part)
    return head + CLAUSES.join(kept) + more(len(kept)), whole
