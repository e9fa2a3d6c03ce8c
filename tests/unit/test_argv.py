"""Any argv through the parser: options or a usage error, never anything else."""

from __future__ import annotations

from argv import ARGV
from hypothesis import given, settings

from check_tls_mail.cli.arguments import parser
from check_tls_mail.cli.options import MIN_TIMEOUT, options_from
from check_tls_mail.errors import UsageError


@settings(max_examples=300, deadline=None)
@given(ARGV)
def test_the_parser_gives_options_or_a_usage_error_for_any_argv(argv: list[str]) -> None:
    try:
        args = parser().parse_args(argv)
    except UsageError:
        return
    except SystemExit as exc:  # --help, --version
        assert exc.code in (0, None)
        return
    try:
        options = options_from(args)
    except UsageError:
        return
    assert 0 < options.plan.port < 65536
    assert MIN_TIMEOUT <= options.timeout <= 3600
