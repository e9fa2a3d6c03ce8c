"""The process edge: the run from argv to exit code, the global timeout, SIGINT, and the output written.

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments, internal
errors, the global timeout, SIGINT). --help, --version and --list-clients exit
0. Whatever happens to stdout (closed, full, a closed pipe), the exit code is
the state's and no traceback is printed.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import time
import warnings
from types import FrameType
from typing import NoReturn

from ..errors import UsageError
from ..plugin.output import emit, quiet_failure, unknown
from .alarm import exit_at_timeout, timed_out_line
from .arguments import parser
from .interrupt import INTERRUPTED
from .options import Options, options_from


class GlobalTimeout(BaseException):
    """The whole check ran out of time (BaseException: nothing may swallow it)."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise GlobalTimeout


def check(options: Options, started: float) -> tuple[int, str]:
    """Run the check; (exit code, output text). ``started``: when -t began to count (time.monotonic())."""
    # The imports first, then the probes: overlapping them saved a few ms of wall time per check, and cost
    # more CPU than that (GIL hand-offs between the importing thread and the probe threads: about 590
    # context switches per run instead of 230), and CPU is what thousands of checks an hour add up.
    from ..plugin.check import build, run_and_render
    from ..probe.run import start
    from ..x509.store import load_store

    # The probes' budget is their share of -t (options.probe_budget), counted from ``started``: what the
    # start, the argument parsing and these imports took (seconds in a burst) comes off it, so that the probes
    # still end, with their own words, before the global timeout.
    seconds = options.plan.seconds - (time.monotonic() - started)
    if seconds <= 0:
        raise GlobalTimeout
    running = start(options.plan._replace(seconds=seconds), options.extras)
    anchors = load_store(options.ca_file) if options.verify_chain else None
    return run_and_render(
        build(collect=running.wait, anchors=anchors, extras=options.extras, **options.judgement._asdict())
    )


def main(argv: list[str] | None = None, started: float | None = None) -> tuple[int, str]:
    """(exit code, output); never raises, not even on SIGINT.

    ``started``: the console process's start (entry.py), from which the global
    timeout counts; its timer ends the process itself (entry.exit_at_timeout).
    In-process callers (None) get the timeout as a result: GlobalTimeout raised.
    """
    begun = time.monotonic() if started is None else started
    warnings.simplefilter("ignore")  # TLS 1.0 deprecation and the like go nowhere near stdout
    argv = sys.argv[1:] if argv is None else argv
    timeout = 10.0
    printed = io.StringIO()  # --help and --version: argparse prints, the caller writes
    try:
        with contextlib.redirect_stdout(printed):
            args = parser().parse_args(argv)
        if args.list_clients:
            from ..clients.profiles import describe_all

            return 0, describe_all(verbose=args.verbose > 0) + "\n"
        options = options_from(args)
        timeout = options.timeout
        if started is None:
            signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        else:  # what is left of -t since the process started
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                return 3, _timeout_words(timeout)
            exit_at_timeout(left, timeout)
        try:
            return check(options, begun)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except UsageError as exc:
        return 3, unknown(f"usage: {exc}")
    except GlobalTimeout:
        return 3, _timeout_words(timeout)
    except KeyboardInterrupt:  # in-process callers; the console entry (entry.py) exits in its handler
        return 3, unknown(INTERRUPTED)
    except SystemExit as exc:  # argparse's --help and --version
        return (exc.code if isinstance(exc.code, int) else 0), printed.getvalue()
    except Exception as exc:
        return 3, unknown(f"internal error: {exc.__class__.__name__}: {exc}")


def _reserve_standard_descriptors() -> None:
    """Open /dev/null on stdin, stdout or stderr where the caller closed them.

    Otherwise the first socket a probe opens could get descriptor 1, and the
    output would go to the mail server.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _timeout_words(timeout: float) -> str:
    return timed_out_line(timeout)


def run(started: float) -> NoReturn:
    """The run behind the console entry (entry.py): print, exit with the state without waiting for probe threads.

    A stdout that cannot take the output (closed pipe, full disk) does not
    change the exit code; a full disk or a bad descriptor is said in one line
    on stderr, a reader that went away is not.
    """
    _reserve_standard_descriptors()
    code, text = main(started=started)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the state is decided: a late ^C must not cut the output
    error = emit(text)
    if error is not None and not quiet_failure(error):
        emit(f"check_tls_mail: cannot write the output: {error.strerror or error}\n", 2)
    os._exit(code)
