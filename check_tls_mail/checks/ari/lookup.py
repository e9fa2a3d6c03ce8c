"""ARI's lookup (--ari): each distinct served leaf's renewal window, from the cache or asked of its CA.

Checks layer, after the handshakes within the run's deadline (the leaves are known only then). Per leaf: not
asked when it has expired (RFC 9773 section 4.3: clients MUST NOT check it then), has no CertID, or no CA
directory is known for it; else the cached answer while it holds (cache.py), else the CA's directory and
renewalInfo (fetch.py), each directory fetched once for all its leaves, all leaves at once. The answer and
when to ask again (schedule.py) are written back to the cache. What has not finished by the deadline is said
so, and not cached.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from ...net.transport import Deadline
from .status import AriOutcome, Failure, NotAsked, Unasked, Unavailable, Where

if TYPE_CHECKING:
    from ...probe.report import AddressReport, HostReport
    from ...x509.certificate import Certificate
    from .cache import StateDir
    from .fetch import Fetched


def served_leaves(reports: tuple[AddressReport, ...]) -> list[bytes]:
    """Each distinct leaf the servers sent (DER), in the order first seen: as revocation's served_chains."""
    from ...probe.outcome import Accepted

    leaves: dict[bytes, None] = {}
    for report in reports:
        for outcome in [report.reference, *report.key_types().values(), report.without_sni]:
            if isinstance(outcome, Accepted) and outcome.chain:
                leaves[outcome.chain[0]] = None
    return list(leaves)


class _Ask:
    """One leaf to ask its CA about: where the request is (for a timeout's words), and what came of it."""

    def __init__(self, directory: str, cert_id: str, failures: int) -> None:
        self.directory = directory
        self.cert_id = cert_id
        self.failures = failures  # temporary failures in a row before this run (the cache's)
        self.where = Where.DIRECTORY
        self.url = directory


class AriLookup:
    """--ari after the handshakes: every distinct served leaf, from the cache or asked, by the deadline."""

    def __init__(
        self,
        directory: str | None,
        state: StateDir,
        ca_file: str | None,
        dns_server: tuple[str, int] | None,
        parallel: int,
    ) -> None:
        self.directory = directory  # --acme-directory, else chosen per leaf by its issuer
        self.state = state
        self.ca_file = ca_file
        self.dns_server = dns_server
        self.parallel = parallel
        self._lock = threading.Lock()
        self._directory_locks: dict[str, threading.Lock] = {}
        self._bases: dict[str, str | Fetched] = {}  # directory -> its renewalInfo URL, or why it has none
        self._unkept = ""  # why the state directory cannot take answers on this run ("" when it can)

    def finish(self, report: HostReport, deadline: Deadline) -> Mapping[bytes, AriOutcome]:
        from ...probe.workers import run_until
        from ...x509.chain import utcnow
        from ...x509.parse import read
        from .cache import prepared, prune

        now = utcnow()
        outcomes: dict[bytes, AriOutcome] = {}
        asks: dict[bytes, _Ask] = {}
        for der in served_leaves(report.addresses):
            planned = self._plan(read(der), now)
            if isinstance(planned, _Ask):
                asks[der] = planned
            else:
                outcomes[der] = planned
        self._unkept = prepared(self.state) if asks else ""
        jobs = [(lambda ask=ask: self._ask(ask, deadline)) for ask in asks.values()]
        for der, done in zip(asks, run_until(jobs, self.parallel, deadline), strict=True):
            ask = asks[der]
            late = Unavailable(ask.where, ask.url, Failure.TIMEOUT, "no answer before the deadline")
            outcomes[der] = done or AriOutcome(late, note="not cached: the deadline came first")
        if asks and not self._unkept:
            prune(self.state, now)
        return MappingProxyType(outcomes)

    def _plan(self, leaf: Certificate, now: datetime) -> AriOutcome | _Ask:
        """What to do for one leaf: nothing (and why), the cached answer, or ask (an _Ask)."""
        from .cache import read_entry
        from .certid import cert_id, known_directory

        if leaf.not_after is not None and leaf.not_after <= now:
            return AriOutcome(Unasked(NotAsked.EXPIRED))
        identifier = cert_id(leaf)
        if identifier is None:
            return AriOutcome(Unasked(NotAsked.NO_CERT_ID))
        directory = self.directory or known_directory(leaf)
        if directory is None:
            return AriOutcome(Unasked(NotAsked.NO_DIRECTORY, leaf.issuer))
        entry = read_entry(self.state, directory, identifier, now)
        if entry is not None and now < entry.until:
            return AriOutcome(entry.answer, entry.asked, entry.until, cached=True)
        return _Ask(directory, identifier, entry.failures if entry is not None else 0)

    def _base(self, ask: _Ask, deadline: Deadline) -> str | Fetched:
        """The renewalInfo URL of the leaf's CA: its directory asked once for all the leaves it issued."""
        from .fetch import directory_base

        with self._lock:
            lock = self._directory_locks.setdefault(ask.directory, threading.Lock())
        with lock:
            if ask.directory not in self._bases:
                self._bases[ask.directory] = directory_base(ask.directory, deadline, self.ca_file, self.dns_server)
            return self._bases[ask.directory]

    def _ask(self, ask: _Ask, deadline: Deadline) -> AriOutcome:
        from ...x509.chain import utcnow
        from .cache import Entry, write_entry
        from .fetch import Fetched, renewal_info, renewal_info_url
        from .schedule import next_ask

        base = self._base(ask, deadline)
        if isinstance(base, Fetched):
            fetched = base
        else:
            ask.where, ask.url = Where.RENEWAL_INFO, renewal_info_url(base, ask.cert_id)
            fetched = renewal_info(base, ask.cert_id, deadline, self.ca_file, self.dns_server)
        asked = utcnow()
        following = next_ask(fetched.answer, fetched.retry_after, ask.failures, asked)
        entry = Entry(fetched.answer, asked, following.at, following.failures)
        why = self._unkept or write_entry(self.state, ask.directory, ask.cert_id, entry)
        note = f"not cached: {why}" if why else ""
        return AriOutcome(fetched.answer, asked, following.at, cached=False, note=note)
