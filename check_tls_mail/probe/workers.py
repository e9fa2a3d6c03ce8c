"""Concurrency for probes and lookups: jobs on a bounded number of daemon threads, a job's bug raised in the caller."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from ..net.transport import Deadline

T = TypeVar("T")
#: A job still running this long after the deadline has not finished (its own I/O is bounded by the deadline).
GRACE_SECONDS = 0.05


def _run(jobs: Sequence[Callable[[], T]], parallel: int, deadline: Deadline | None) -> list[T | None]:
    results: list[T | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    queue = iter(enumerate(jobs))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            index, job = item
            try:
                value = job()
            except BaseException as exc:  # a bug, not a server fault: raised in the caller, never printed here
                failures.append(exc)
                return
            with lock:
                results[index] = value

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(parallel, len(jobs)))]
    for thread in threads:
        thread.start()
    for thread in threads:  # one end for all: the grace is not added once per thread
        thread.join(None if deadline is None else max(deadline.remaining() + GRACE_SECONDS, 0.0))
    if failures:
        raise failures[0]
    with lock:
        return list(results)


def run_concurrently(jobs: Sequence[Callable[[], T]], parallel: int) -> list[T]:
    """Run ``jobs`` on at most ``parallel`` daemon threads; results in job order.

    Daemon threads, so that the global timeout can end the process even while a
    handshake is still blocked. Probes report server faults as outcomes; an
    exception from a job is a bug, raised here (the CLI makes it UNKNOWN)
    instead of being printed by the thread.
    """
    return _run(jobs, parallel, None)  # type: ignore[return-value]  # every job ran to its end


def run_until(jobs: Sequence[Callable[[], T]], parallel: int, deadline: Deadline) -> list[T | None]:
    """Like run_concurrently, but waits no longer than the deadline: a job still running then gives None."""
    return _run(jobs, parallel, deadline)
