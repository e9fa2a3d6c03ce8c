"""The shipped Icinga 2 CheckCommand maps every plugin option to its variable (icinga2/command-tls_mail.conf)."""

from __future__ import annotations

import re

from runs import ROOT

from check_tls_mail.cli.arguments import parser


def test_checkcommand_maps_every_option_to_its_variable() -> None:
    """Each plugin option is an argument with $tls_mail_<name>$; nothing is mapped to the wrong option."""
    text = (ROOT / "icinga2" / "command-tls_mail.conf").read_text()
    arguments = dict(re.findall(r'"(-[-\w]+)" = \{\s*(?:value|set_if) = "\$(\w+)\$"', text))
    expected = {}
    for action in parser()._actions:
        if action.dest in ("help", "version", "list_clients"):
            continue
        key = min(action.option_strings, key=len)  # the short form where there is one
        renamed = {"hostname": "address", "address": "address_only"}  # ITL: tls_mail_address is -H
        expected[key] = "tls_mail_" + renamed.get(action.dest, action.dest)
    assert arguments == expected
    assert 'PluginContribDir + "/check_tls_mail"' in text and 'import "ipv4-or-ipv6"' in text
    assert 'vars.tls_mail_address = "$check_address$"' in text
    for repeatable in ("--cipher", "--client", "--require-tls", "--expect-cert", "--require-name"):
        block = text.split(f'"{repeatable}" = {{', 1)[1].split("}", 1)[0]
        assert "repeat_key = true" in block
    descriptions = re.findall(r'description = "([^"]+)"', text)
    help_text = " ".join(parser().format_help().split())
    assert "name sent as SNI and verified against the certificate" in help_text
    assert len(descriptions) == len(expected)
