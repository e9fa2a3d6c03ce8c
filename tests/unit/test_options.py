"""Options from argv in process: the protocol follows from a well-known port, the port from the protocol."""

from __future__ import annotations

from check_tls_mail.cli.options import parse


def test_protocol_follows_from_a_well_known_port() -> None:
    assert parse(["-H", "mx.example.org", "-p", "993"]).plan.dialect.name == "imaps"
    assert parse(["-H", "mx.example.org", "-p", "4190"]).plan.dialect.name == "sieve"
    assert parse(["-H", "mx.example.org", "-P", "submission"]).plan.port == 587
    assert parse(["-H", "mx.example.org", "-P", "imap", "-p", "10143"]).plan.port == 10143
