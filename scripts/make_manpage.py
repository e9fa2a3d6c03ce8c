"""Write the manual page check_tls_mail(1) from the plugin's own argument parser, the one --help prints.

Every option, its metavariable and its help text come from
``check_tls_mail.cli.arguments.parser()``: the option groups become the
sections of OPTIONS, the description DESCRIPTION, and each paragraph of the
epilog (``thresholds:``, ``perfdata, ...:``, ``exit codes:``) a section of its
own; only NAME, EXAMPLES and SEE ALSO are written here. So the page cannot
drift from --help (tests/unit/test_manpage.py compares the two). The parser
imports no third-party module, so any Python 3.11 renders it from a checkout.
argparse offers no public way to walk a parser, so this reads its lists of
actions and groups and lets its own formatter expand the help texts (private
names, unchanged since Python 3.2: should one change, the unit test fails).

Usage: python3 scripts/make_manpage.py [--date YYYY-MM-DD] > check_tls_mail.1
(the date defaults to SOURCE_DATE_EPOCH's, else today's: reproducible builds set it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from check_tls_mail import __version__  # noqa: E402
from check_tls_mail.cli.arguments import parser as plugin_parser  # noqa: E402

SUMMARY = "probe one mail service's TLS the way real mail clients do"

#: What an example does, and its arguments one line each (continued with a backslash, as in a shell).
EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "port 25, opportunistic TLS: expiry and the clients, not trust and name",
        ("-H mx.example.org -P smtp --no-verify-chain",),
    ),
    ("submission, with the default thresholds and client profiles", ("-H mail.example.org -P submission",)),
    (
        "IMAPS, thresholds in days, two client profiles that must connect",
        ("-H mail.example.org -p 993 -w 21 -c 7", "--client apple-mail --client outlook"),
    ),
    (
        "ManageSieve at an address, the certificate judged for a name",
        ("-H 192.0.2.25 --servername mail.example.org -P sieve",),
    ),
    (
        "on the mail host after a renewal (NRPE, an Icinga agent)",
        (
            "-H 127.0.0.1 --servername mail.example.org -P imaps",
            "--expect-cert /etc/letsencrypt/live/mail.example.org/fullchain.pem",
            "--require-name imap.example.org --require-name pop.example.org",
        ),
    ),
    (
        "an MX judged against its domain's MTA-STS policy, and revocation",
        ("-H mx1.example.org -P smtp --mta-sts example.org --revocation",),
    ),
    ("every client profile, its hello and its rules", ("--list-clients -v",)),
)

SEE_ALSO = (
    "\\fBicinga2\\fR(8). On Debian, /usr/share/doc/check\\-tls\\-mail/ (README.Debian; the Icinga 2, Nagios and NRPE "
    "examples); elsewhere the project's README.md and docs/."
)


def escape(text: str) -> str:
    """Text for roff: backslashes and hyphens escaped, no line that starts with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


def flow(text: str) -> str:
    """A paragraph of help text as one roff line (argparse's own line breaks are not meant for a pager)."""
    return escape(" ".join(text.split()))


def option_heading(action: argparse.Action) -> str:
    """``-H HOST, --hostname HOST`` as argparse writes it in --help, with option names in bold, values in italics."""
    metavar = None
    if action.nargs != 0:
        metavar = action.metavar or action.dest.upper()
    parts = []
    for option in action.option_strings:
        part = f"\\fB{escape(option)}\\fR"
        if metavar:
            part += f" \\fI{escape(str(metavar))}\\fR"
        parts.append(part)
    return ", ".join(parts)


def expanded_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The help text as --help prints it (``%%`` and ``%(default)s`` expanded by argparse itself)."""
    return parser._get_formatter()._expand_help(action)


def usage_item(action: argparse.Action) -> str:
    """One option as the usage line shows it (``--dane | --no-dane`` for a pair), unbreakable: roff's ``\\ ``."""
    names = "\\ |\\ ".join(f"\\fB{escape(name)}\\fR" for name in action.format_usage().split(" | "))
    if action.nargs == 0:
        return names
    return f"{names}\\ \\fI{escape(str(action.metavar or action.dest.upper()))}\\fR"


def synopsis(parser: argparse.ArgumentParser) -> list[str]:
    """The usage line's items in its order, each in brackets; mutually exclusive options as ``[-4 | -6]``."""
    exclusive = {id(a): group for group in parser._mutually_exclusive_groups for a in group._group_actions}
    lines = [f".B {escape(parser.prog)}"]
    shown: set[int] = set()
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or not action.option_strings:
            continue
        group = exclusive.get(id(action))
        if group is None:
            lines.append(f"[{usage_item(action)}]")
        elif id(group) not in shown:
            shown.add(id(group))
            lines.append("[" + "\\ |\\ ".join(usage_item(a) for a in group._group_actions) + "]")
    return lines


def epilog_sections(epilog: str) -> list[tuple[str, str]]:
    """The epilog's paragraphs: ``label: text`` starting at the left margin, continued on indented lines.

    A label with a comma (``perfdata, the most important first``) titles its section with
    the part before the comma; the rest leads the text.
    """
    sections: list[tuple[str, list[str]]] = []
    for line in epilog.splitlines():
        if line and not line[0].isspace():
            label, _, text = line.partition(": ")
            title, _, lead = label.partition(", ")
            first = f"{lead[0].upper()}{lead[1:]}: {text}" if lead else text
            sections.append((title, [first]))
        elif sections:
            sections[-1][1].append(line)
    return [(title, " ".join(" ".join(parts).split())) for title, parts in sections]


def section_title(title: str) -> str:
    """A section name as man pages write them: upper case (``exit codes`` -> ``EXIT CODES``)."""
    return escape(title.upper())


def render(parser: argparse.ArgumentParser, date: str, version: str) -> str:
    lines = [
        f'.TH CHECK_TLS_MAIL 1 "{date}" "check_tls_mail {escape(version)}" "Monitoring plugins"',
        ".nh",  # no hyphenation: an option's name stays whole, and searchable in the pager
        ".SH NAME",
        f"{parser.prog} \\- {escape(SUMMARY)}",
        ".SH SYNOPSIS",
        *synopsis(parser),
        ".SH DESCRIPTION",
        flow(parser.description or ""),
    ]
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.help != argparse.SUPPRESS]
        if not actions:
            continue
        if group.title in ("options", "optional arguments"):
            lines.append(".SH OPTIONS")
        else:
            title = group.title or ""
            lines.append(f'.SS "{escape(title[:1].upper() + title[1:])}"')
        if group.description:
            lines += [".PP", flow(group.description)]
        for action in actions:
            lines += [".TP", option_heading(action), flow(expanded_help(parser, action))]
    for title, text in epilog_sections(parser.epilog or ""):
        lines += [f".SH {section_title(title)}", flow(text)]
    lines.append(".SH EXAMPLES")
    for what, arguments in EXAMPLES:
        command = [f"{parser.prog} {arguments[0]}", *(f"    {line}" for line in arguments[1:])]
        lines += [".PP", flow(what[:1].upper() + what[1:] + ":"), ".RS 4", ".nf"]
        lines += [escape(line + " \\" if i < len(command) - 1 else line) for i, line in enumerate(command)]
        lines += [".fi", ".RE"]
    lines += [".SH SEE ALSO", SEE_ALSO]
    return "\n".join(lines) + "\n"


def release_date(given: str | None) -> str:
    if given:
        return given
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC) if epoch else datetime.datetime.now(datetime.UTC)
    return moment.strftime("%Y-%m-%d")


def main(arguments: list[str]) -> int:
    options = argparse.ArgumentParser(description="Write check_tls_mail(1) to stdout.")
    options.add_argument("--date", help="the page's date, YYYY-MM-DD (default: SOURCE_DATE_EPOCH, else today)")
    given = options.parse_args(arguments)
    sys.stdout.write(render(plugin_parser(), release_date(given.date), __version__))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
