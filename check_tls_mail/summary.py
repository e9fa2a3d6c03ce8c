"""The nagiosplugin Summary: words the first line from the assessment and the contexts' results.

OK: what was checked (service, version, certificates, DANE, clients). Not OK:
every problem, worst first; clients and ciphers failing for the same reason
are grouped; with several addresses the good ones are listed as OK.
"""

from __future__ import annotations

from typing import NamedTuple

import nagiosplugin
from nagiosplugin import Results
from nagiosplugin.state import Ok

from . import wording
from .assessment import AddressAssessment, Assessment
from .findings import ChainJudged, CipherTried, ClientTried, Expiry
from .handshake import Accepted
from .longoutput import long_output
from .probe import TlsaStatus
from .resource import MailTlsService
from .thresholds import ExpiryThreshold, fmt_days


class _Group(NamedTuple):
    """Clients or ciphers at one address that fail for the same reason."""

    prefix: str
    ciphers: bool
    over: str
    why: str


def certificates(assessment: Assessment, address: AddressAssessment, warning: ExpiryThreshold | None) -> str:
    """'ECDSA P-256 certificate valid 60.0 days (until ..., warning at 18 days)' for each served certificate."""
    parts = []
    for served in address.served:
        leaf = served.chain.leaf
        warn = ""
        if warning is not None and warning.unit == "percent":
            warn = f", warning at {fmt_days(warning.days(leaf.lifetime_days))} days"
        until = wording.when(leaf.not_after)
        parts.append(
            f"{leaf.key} certificate valid {wording.days(leaf.days_left(assessment.now))} (until {until}{warn})"
        )
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
        return f"{plan.host}:{plan.port} {plan.dialect.name}"

    def _certificates(self, address: AddressAssessment) -> str:
        return certificates(self.assessment, address, self.warning)

    def ok(self, results: Results) -> str:
        assessment = self.assessment
        plan = assessment.plan
        addresses = assessment.addresses
        first = addresses[0]
        primary = first.report.primary
        assert isinstance(primary, Accepted)
        words = [f"{self._where()} {plan.dialect.upgrade_word}"]
        if len(addresses) > 1:
            words[0] += f" at {len(addresses)} addresses ({', '.join(a.shown_as for a in addresses)})"
        words.append(primary.version)
        if len({address.fingerprints for address in addresses}) == 1:
            words.append(self._certificates(first))
        else:
            words += [f"{address.shown_as}: {self._certificates(address)}" for address in addresses]
        accepted = [v for v, o in first.versions.items() if isinstance(o, Accepted)]
        if accepted:
            words.append(f"accepts TLS {', '.join(accepted)}")
        tlsa = assessment.tlsa
        if tlsa.status is TlsaStatus.ANSWERED and tlsa.answer is not None and tlsa.answer.records:
            words.append(f"DANE: TLSA at {tlsa.answer.name} matches")
        words += self._beyond_ok()
        clients, ciphers = len(plan.clients), len(plan.ciphers)
        if clients:
            words.append(f"{clients}/{clients} clients connect")
        if ciphers:
            words.append(f"{ciphers}/{ciphers} ciphers accepted")
        return ", ".join(words)

    def problem(self, results: Results) -> str:
        entries: list[str | _Group] = []
        groups: dict[_Group, list[str]] = {}
        troubled: set[str] = set()
        judged: set[str] = set()
        for result in sorted(results, key=lambda r: -int(r.state)):
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
                    entries.append(group)
                groups[group].append(
                    finding.result.cipher if isinstance(finding, CipherTried) else finding.result.profile.title
                )
            else:
                entries.append(result.hint)
        words = [entry if isinstance(entry, str) else self._grouped(entry, groups[entry]) for entry in entries]
        addresses = self.assessment.addresses
        for address in addresses:
            if (
                address.served
                and address.shown_as not in judged
                and (len(addresses) == 1 or address.shown_as in troubled)
            ):
                words.append(address.prefix + self._certificates(address))
        words += [f"{a.shown_as}: OK" for a in addresses if a.shown_as and a.shown_as not in troubled]
        return f"{self._where()}: " + "; ".join(words)

    @staticmethod
    def _group_of(finding: ClientTried | CipherTried, why: str) -> _Group:
        prefix = finding.address.prefix
        if isinstance(finding, CipherTried):
            return _Group(prefix, True, " over TLS 1.2", why)
        profile = finding.result.profile
        return _Group(prefix, False, f" over TLS {profile.max_version}" if profile.tls12_only else "", why)

    @staticmethod
    def _grouped(group: _Group, names: list[str]) -> str:
        if group.ciphers:
            plural = "s" if len(names) > 1 else ""
            return f"{group.prefix}cipher{plural} {wording.join(names)} rejected{group.over}: {group.why}"
        return f"{group.prefix}{wording.join(names)} cannot connect{group.over}: {group.why}"

    def _beyond_ok(self) -> list[str]:
        """What the optional checks found when all is well, in a few words (-v has the detail)."""
        assessment = self.assessment
        served = [s for address in assessment.addresses for s in address.served]
        words = []
        deployed = {s.chain.leaf.fingerprint for s in served if s.deployment is not None}
        if deployed:
            words.append(f"serves the certificate{'s' if len(deployed) > 1 else ''} of --expect-cert")
        coverage = [s.coverage for s in served if s.coverage is not None]
        names: tuple[str, ...] = ()
        if coverage:
            from .renewal import NamesCovered

            names = next((c.names for c in coverage if isinstance(c, NamesCovered)), ())
        if names:
            shown = wording.join(list(names))
            words.append(f"covers {shown}" if len(shown) <= 60 else f"covers the {len(names)} required names")
        words += self._mta_sts_ok()
        checked = [c.status for s in served for c in s.revocation or ()]
        if checked:
            from .revocation import Good

            sources = list(dict.fromkeys(status.source.value for status in checked if isinstance(status, Good)))
            unchecked = len(checked) - sum(isinstance(status, Good) for status in checked)
            if sources:
                words.append(f"not revoked ({', '.join(sources)})")
            if unchecked:
                words.append(f"{unchecked} certificate{'s' if unchecked > 1 else ''} without OCSP or CRL")
        return words

    def _mta_sts_ok(self) -> list[str]:
        mta_sts = self.assessment.mta_sts
        if mta_sts is None:
            return []
        from .mtasts import HostListed

        listed = next((f for f in mta_sts.findings if isinstance(f, HostListed)), None)
        return [f"MTA-STS {listed.mode.value}: matches mx {listed.pattern}"] if listed is not None else []

    def verbose(self, results: Results) -> list[str]:
        return long_output(self.assessment, self.verbosity)
