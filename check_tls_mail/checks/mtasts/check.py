"""MTA-STS as an optional check (--mta-sts DOMAIN, with -P smtp): the domain's policy for this MX.

Checks layer, the face of the MTA-STS folder: its option, its lookup beside the handshakes (lookup.py), its
judgement (judge.py: the records and policy for the MX name; here: each served chain as senders verify it,
whatever --no-verify-chain says), its findings and context (context.py), and its words (words.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ...errors import UsageError
from ..protocol import OptionalCheck

if TYPE_CHECKING:
    from nagiosplugin import Context, Metric

    from ...judgement.assessment import AddressAssessment, Assessment, Served
    from ...net.transport import Deadline
    from ...probe.plan import ProbePlan
    from ...x509.chain import ChainReport
    from ...x509.store import TrustAnchors
    from .judge import MtaStsJudgement, MtaStsReport, PolicyChain
    from .lookup import MtaStsLookup


def verifies(chain: ChainReport, now: datetime) -> bool:
    """Trusted, for the name, and every certificate of the path valid now: what an MTA-STS sender requires."""
    return chain.trusted is True and not chain.problems and all(c.days_left(now) > 0 for c in chain.path)


class MtaSts(OptionalCheck):
    """The MTA-STS policy of a domain, fetched as senders fetch it, judged for this MX."""

    name = "mta_sts"

    def __init__(self, domain: str, ca_file: str | None, anchors: TrustAnchors | None = None) -> None:
        self.domain = domain
        self.ca_file = ca_file  # the policy host's trust anchors, and the MX chain's when it is not verified
        self._anchors = anchors  # those anchors, read (from ca_file when first needed)

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument_group("MTA-STS").add_argument(
            "--mta-sts",
            metavar="DOMAIN",
            help="with -P smtp: judge HOST against the MTA-STS policy of DOMAIN (RFC 8461), looked up at "
            "--dns-server and fetched over HTTPS with --ca-file; CRITICAL in enforce mode when HOST is not listed "
            "or its certificate does not verify; TLS-RPT with -v",
        )

    @classmethod
    def configure(cls, args: argparse.Namespace, plan: ProbePlan) -> MtaSts | None:
        if args.mta_sts is None:
            return None
        from ...sanitize import clean
        from .policy import host_name

        if not plan.dialect.relay:
            raise UsageError("--mta-sts is for -P smtp: the policy is about the MX senders deliver to")
        if plan.servername is None:
            raise UsageError("--mta-sts needs the MX's host name: give -H NAME or --servername NAME")
        domain = host_name(args.mta_sts)
        if domain is None or "." not in domain:
            raise UsageError(f"--mta-sts {clean(args.mta_sts)}: not a domain name")
        return cls(domain, args.ca_file)

    def start(self, plan: ProbePlan, deadline: Deadline) -> MtaStsLookup:
        from .lookup import MtaStsLookup

        return MtaStsLookup(self.domain, plan.dns_server, self.ca_file, deadline)

    def assess(self, measured: MtaStsReport | None, assessment: Assessment) -> MtaStsJudgement | None:
        if measured is None:
            return None
        from .judge import HostCertificateUnverified, MtaStsJudgement, PolicyChain, assess, policy_of
        from .policy import Mode

        mx = assessment.name
        # The certificate is judged per served chain below, so not here: None.
        findings = assess(measured.domain, measured.record, measured.fetch, mx, None, measured.tlsrpt)
        policy = policy_of(measured.fetch)
        chains: dict[tuple[bytes, ...], PolicyChain] = {}
        if policy is not None:
            for served in (s for address in assessment.addresses for s in address.served):
                chain = self._as_senders_verify(served, mx, assessment.now)
                unverified = policy.mode is not Mode.NONE and not verifies(chain, assessment.now)
                problem = HostCertificateUnverified(mx, measured.domain, policy.mode) if unverified else None
                chains[served.sent] = PolicyChain(chain, problem)
        return MtaStsJudgement(measured, mx, policy, findings, chains)

    def _as_senders_verify(self, served: Served, mx: str, now: datetime) -> ChainReport:
        """The served chain judged with trust anchors: the core's judgement when it verified, else anew."""
        if served.chain.trusted is not None:
            return served.chain
        from ...x509.chain import judge_chain
        from ...x509.store import load_store

        if self._anchors is None:
            self._anchors = load_store(self.ca_file)
        return judge_chain(served.sent, mx, self._anchors, now)

    def served_metrics(
        self, judged: MtaStsJudgement | None, address: AddressAssessment, served: Served
    ) -> Iterable[Metric]:
        verdict = judged.chains.get(served.sent) if judged is not None else None
        if verdict is None or verdict.problem is None:
            return ()
        from ...plugin.findings import metric
        from .context import MtaStsJudged

        return (metric(MtaStsJudged(address, served, verdict.problem, verdict.chain), "mta_sts"),)

    def metrics(self, judged: MtaStsJudgement | None, assessment: Assessment) -> Iterable[Metric]:
        if judged is None:
            return ()
        from ...plugin.findings import metric
        from .context import MtaStsJudged

        return tuple(metric(MtaStsJudged(None, None, finding), "mta_sts") for finding in judged.findings)

    def contexts(self) -> Sequence[Context]:
        from .context import MtaStsContext

        return (MtaStsContext(),)

    def ok_words(self, judged: MtaStsJudgement | None, assessment: Assessment) -> list[str]:
        if judged is None:
            return []
        from .judge import HostListed

        listed = next((f for f in judged.findings if isinstance(f, HostListed)), None)
        return [f"MTA-STS {listed.mode.value}: matches mx {listed.pattern}"] if listed is not None else []

    def served_lines(self, judged: MtaStsJudgement | None, address: AddressAssessment, served: Served) -> list[str]:
        verdict = judged.chains.get(served.sent) if judged is not None else None
        if verdict is None:
            return []
        verified = "does not verify" if verdict.problem is not None else "verifies"
        return [f"  MTA-STS: the chain {verified} with the trust anchors, as senders verify it"]

    def lines(self, judged: MtaStsJudgement | None, assessment: Assessment) -> list[str]:
        if judged is None:
            return []
        from .words import describe

        lines = [f"MTA-STS of {judged.report.domain} for {judged.mx}:"]
        return lines + [f"  {describe(finding)}" for finding in judged.findings]
