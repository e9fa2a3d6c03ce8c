"""Any argv through main() in process: a run or one UNKNOWN line, whatever came before.

The probes go to a refused loopback port, so each run is short.
"""

from __future__ import annotations

import pytest
from argv import ARGV, assert_one_well_formed_result
from hypothesis import HealthCheck, given, settings
from loopback import free_port

from check_tls_mail.cli import main as cli


@pytest.fixture(scope="module")
def refused_port() -> int:
    return free_port()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=ARGV)
def test_main_gives_a_run_or_one_unknown_line_for_any_argv(argv: list[str], refused_port: int) -> None:
    # Whatever came before, the probes go to a refused loopback port and the run is short.
    where = ["-H", "127.0.0.1", "-p", str(refused_port), "-P", "imaps", "--address", "127.0.0.1", "-t", "1"]
    code, text = cli.main([*argv, *where])
    assert_one_well_formed_result([*argv, *where], code, text)
