"""``python -m check_tls_mail``: the same entry point as the console script."""

from .cli.entry import run

run()
