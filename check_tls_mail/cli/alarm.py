"""The global timeout of the console process: read -t before any import, and end the process when it fires.

No imports beyond the standard library's smallest: entry.py arms the timer before the package loads.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

#: The default of -t (arguments.py), which this module does not import.
DEFAULT_TIMEOUT = 10.0
#: The shortest -t taken (options.py refuses shorter ones as a usage error).
MIN_TIMEOUT = 0.5


def timeout_given(argv: list[str]) -> float:
    """-t as the command line gives it (-t 5, -t5, --timeout 5, --timeout=5), or the default; read before any
    import. A value it cannot read here is the default: cli.main sets the timer again from the parsed options."""
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg in ("-t", "--timeout"):
            value = argv[index + 1] if index + 1 < len(argv) else ""
        elif arg.startswith("--timeout="):
            value = arg.partition("=")[2]
        elif arg.startswith("-t") and not arg.startswith("--"):
            value = arg[2:]
        else:
            continue
        try:
            seconds = float(value)
        except ValueError:
            return DEFAULT_TIMEOUT
        return seconds if MIN_TIMEOUT <= seconds <= 3600 else DEFAULT_TIMEOUT
    return DEFAULT_TIMEOUT


def timed_out_line(timeout: float) -> str:
    """The one line of the global timeout (cli.main words it the same for in-process callers)."""
    return f"TLS_MAIL UNKNOWN - timeout: check did not complete within {timeout:g} s\n"


def exit_at_timeout(after: float, timeout: float | None = None) -> None:
    """Arm SIGALRM to write the timeout line of ``timeout`` (-t; default ``after``) and end the process
    ``after`` seconds from now.

    The handler raises nothing: an exception lands wherever the main thread is,
    and inside an import importlib's module-lock callback swallows it with a
    traceback on stderr. Nothing has been written before (the output is written
    whole, after the timer is cancelled); os._exit leaves the probe threads.
    """
    line = timed_out_line(after if timeout is None else timeout).encode()

    def handler(signum: int, frame: FrameType | None) -> None:
        try:  # noqa: SIM105
            os.write(1, line)
        except OSError:  # stdout closed or gone: the exit code still says it
            pass
        os._exit(3)

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, after)
