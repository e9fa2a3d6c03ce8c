"""The shipped Icinga 2 CheckCommand maps every plugin option to its variable, described in --help's words.

icinga2/command-tls_mail.conf is read as Icinga reads its arguments: one block
per option, the variable it reads (``$tls_mail_<name>$``, in a string or in a
lambda's ``macro()``), and its description. The options, their help and which
ones repeat come from the plugin's own parser, so a new or changed option
fails here until the CheckCommand follows. That Icinga runs these arguments
as intended is tests/real/test_monitoring_engines.py's part.
"""

from __future__ import annotations

import argparse
import re

from runs import ROOT

from check_tls_mail.cli.arguments import parser

TEXT = (ROOT / "icinga2" / "command-tls_mail.conf").read_text()

#: Where a variable's name differs from the option's dest: -H is the host to check, not "hostname".
RENAMED = {"hostname": "host"}
#: The variables that are gone (docs/engines.md says what replaced them).
GONE = ("tls_mail_address_only",)


def _blocks() -> dict[str, str]:
    """option -> the text of its argument block, up to the next argument."""
    arguments = TEXT.split("arguments = {", 1)[1]
    keys = list(re.finditer(r'^\t\t"(-[-\w]+)" = \{', arguments, re.M))
    ends = [k.start() for k in keys[1:]] + [arguments.index("\n\t}\n")]
    return {k.group(1): arguments[k.end() : end] for k, end in zip(keys, ends, strict=True)}


def _options() -> list[argparse.Action]:
    return [a for a in parser()._actions if a.dest not in ("help", "version", "list_clients")]


def _key(action: argparse.Action) -> str:
    return min(action.option_strings, key=len)  # the short form where there is one


def test_checkcommand_maps_every_option_to_its_variable() -> None:
    """Each plugin option is an argument reading $tls_mail_<dest>$, and only that variable."""
    blocks = _blocks()
    assert set(blocks) == {_key(a) for a in _options()}
    for action in _options():
        variables = set(re.findall(r"\$(\w+)\$", blocks[_key(action)])) - {"check_timeout", "command.timeout"}
        assert variables == {"tls_mail_" + RENAMED.get(action.dest, action.dest)}, (_key(action), variables)


def test_repeatable_options_take_arrays() -> None:
    for action in _options():
        repeats = isinstance(action, argparse._AppendAction)
        assert ("repeat_key = true" in _blocks()[_key(action)]) == repeats, _key(action)


def test_descriptions_are_the_help_of_their_option() -> None:
    """An argument's description is its option's --help text; '(repeatable' becomes '(repeatable: an array'."""
    formatter = parser()._get_formatter()
    for action in _options():
        described = re.findall(r'description = "([^"]*)"', _blocks()[_key(action)])
        expected = formatter._expand_help(action).replace("(repeatable", "(repeatable: an array")
        assert described == [expected], _key(action)


def test_host_defaults_to_the_host_objects_name_and_the_address_is_optional() -> None:
    assert 'vars.tls_mail_host = "$host.name$"' in TEXT
    assert "required = true" in _blocks()["-H"] and "required" not in _blocks()["--address"]
    assert not re.search(r"^\s*vars\.tls_mail_address\s*=", TEXT, re.M)  # no default: every address is probed
    assert 'PluginContribDir + "/check_tls_mail"' in TEXT and 'import "ipv4-or-ipv6"' in TEXT
    for gone in GONE:
        assert f"${gone}$" not in TEXT
