"""The console entry point: SIGINT and the global timeout, from the first import on, are one UNKNOWN line.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread
is. While it imports (lazily, during the run), that can be inside a finalizer
(importlib's module-lock callback), which swallows the exception with a
traceback on stderr, and the check ran on to its timeout. So the process
entry installs a handler that ends the process itself, before anything else
is imported; ``cli.run`` sets SIGINT to ignored once the state is decided.
In-process callers of ``cli.main`` (the tests) keep the KeyboardInterrupt.

The global timeout counts from here, not from the end of argument parsing: in a
burst of checks on a busy machine the imports alone can take seconds. ``-t`` is
read from argv before anything is imported; ``cli.main`` sets the timer again,
for what is left, once the arguments are parsed.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from types import FrameType
from typing import NoReturn

from .alarm import exit_at_timeout, timeout_given
from .interrupt import INTERRUPTED

_LINE = f"TLS_MAIL UNKNOWN - {INTERRUPTED}\n".encode()


def _interrupted(signum: int, frame: FrameType | None) -> None:
    """Nothing has been written yet (the output is written whole at the end): write the line, exit UNKNOWN."""
    try:  # noqa: SIM105 (contextlib is an import this module avoids: it runs before any)
        os.write(1, _LINE)
    except OSError:  # stdout closed or gone: the exit code still says it
        pass
    os._exit(3)


def one_offer() -> None:
    """Every SSLContext of the run offers what the local OpenSSL offers, made before or after cryptography's import.

    cryptography loads OpenSSL's legacy provider unless this variable says not to; where it shares Python's
    libssl (Debian's python3-cryptography), that adds the four SEED suites to every context made after its import:
    the probes' contexts are made before a key is read, the optional checks' after. Nothing the check does needs
    the legacy provider.
    """
    os.environ["CRYPTOGRAPHY_OPENSSL_NO_LEGACY"] = "1"


def no_collector() -> None:
    """No cyclic garbage collection in the console process: it lives for one check, its memory is bounded by
    the bounded reads and -t, and it ends with os._exit, which frees nothing anyway. The collector's passes
    over the growing heap of the imports cost about 5 ms of CPU per check (4% of a default check, paired
    against the same check with it). In-process callers of ``cli.main`` (the tests) keep theirs."""
    gc.disable()


def run() -> NoReturn:
    started = time.monotonic()
    no_collector()
    one_offer()
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where the caller ignores SIGINT
        signal.signal(signal.SIGINT, _interrupted)
    exit_at_timeout(timeout_given(sys.argv[1:]))
    from .main import run as checked

    checked(started)
