"""check_tls_mail(1) (scripts/make_manpage.py) against --help: the same options, values and words, so they cannot drift.

The page is rendered from the parser; --help is read as a user reads it
(``format_help``), and each side is parsed on its own: the options --help lists
with their help text, and the page's OPTIONS entries and SYNOPSIS.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from check_tls_mail import __version__
from check_tls_mail.cli.arguments import parser

ROOT = Path(__file__).resolve().parent.parent.parent
NAMES = re.compile(r"(?:^|, )(-{1,2}[\w-]+)")


@pytest.fixture(scope="module")
def make_manpage() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_manpage", ROOT / "scripts" / "make_manpage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def page(make_manpage: ModuleType) -> str:
    text: str = make_manpage.render(parser(), "2026-12-02", __version__)
    return text


def plain(roff: str) -> str:
    """Roff text as the reader sees it: fonts and escapes gone."""
    for escape, text in (("\\fB", ""), ("\\fI", ""), ("\\fR", ""), ("\\&", ""), ("\\ ", " "), ("\\-", "-")):
        roff = roff.replace(escape, text)
    return roff.replace("\\e", "\\")


def help_entries(help_text: str) -> dict[tuple[str, ...], str]:
    """--help's option entries: the option names of each, and its help text with the line breaks undone."""
    epilog = parser().epilog or ""
    options_part = help_text.split(epilog.splitlines()[0])[0]  # the epilog follows, verbatim
    entries: dict[tuple[str, ...], list[str]] = {}
    current: list[str] | None = None
    for line in options_part.splitlines():
        entry = re.match(r"^  (-\S.*?)(?:\s{2,}(\S.*))?$", line)
        if entry:
            current = entries.setdefault(tuple(NAMES.findall(entry.group(1))), [])
            current.append(entry.group(2) or "")
        elif current is not None and re.match(r"^\s{4,}\S", line):
            current.append(line.strip())
        else:
            current = None
    return {names: unwrapped(words) for names, words in entries.items()}


def unwrapped(lines: list[str]) -> str:
    """Wrapped lines as one: argparse breaks after a word's hyphen too (``--ca-`` / ``file``)."""
    text = ""
    for line in lines:
        text += ("" if re.search(r"\w-$", text) else " ") + line
    return " ".join(text.split())


def page_entries(page: str) -> dict[tuple[str, ...], str]:
    """The page's option entries: each ``.TP`` tag line's option names, and the paragraph after it."""
    lines = page.splitlines()
    return {
        tuple(NAMES.findall(plain(lines[i + 1]))): " ".join(plain(lines[i + 2]).split())
        for i, line in enumerate(lines)
        if line == ".TP"
    }


@pytest.mark.parametrize("columns", [60, 200])
def test_the_page_has_every_option_of_help_with_the_same_words(
    page: str, columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))  # argparse wraps --help to the terminal's width
    from_help = help_entries(parser().format_help())
    assert len(from_help) >= 30 and ("-H", "--hostname") in from_help and ("--mta-sts",) in from_help
    assert page_entries(page) == from_help


def test_the_synopsis_and_the_headings_name_every_option_with_its_value(page: str) -> None:
    synopsis = plain(page.split(".SH SYNOPSIS\n", 1)[1].split("\n.SH ", 1)[0])
    usage = " ".join(parser().format_usage().split())
    for item in re.findall(r"\[([^\]]*(?:\[[^\]]*\])?[^\]]*)\]", usage.removeprefix("usage: check_tls_mail ")):
        assert f"[{item}]" in synopsis, item  # e.g. [-H HOST], [-4 | -6], [--dns-server IP[:PORT]]
    headings = [plain(line) for line in page.splitlines()]
    for heading in ("-H HOST, --hostname HOST", "--dns-server IP[:PORT]", "-v, --verbose", "--dane"):
        assert heading in headings


def test_the_groups_and_the_epilog_become_sections(page: str) -> None:
    sections = re.findall(r"^\.S([HS]) (.*)$", page, re.M)
    assert [name for kind, name in sections if kind == "H"] == [
        "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "THRESHOLDS", "PERFDATA", "EXIT CODES", "EXAMPLES", "SEE ALSO",
    ]  # fmt: skip
    titles = [group.title for group in parser()._action_groups if group._group_actions][1:]
    assert [plain(name).strip('"') for kind, name in sections if kind == "S"] == [
        (title or "")[:1].upper() + (title or "")[1:] for title in titles
    ]
    text = " ".join(plain(page).split())
    for paragraph in (parser().epilog or "").split("\n"):
        words = paragraph.split(": ", 1)[-1].split()
        assert " ".join(words[-6:]) in text  # each epilog line's words, whatever became the title


def test_the_page_is_plain_man_macros_with_no_stray_requests(page: str) -> None:
    """Only the classic man(7) macros; a text line starting with '.' or "'" would be read as a request."""
    requests = {line.split()[0] for line in page.splitlines() if line.startswith((".", "'"))}
    assert requests <= {".TH", ".nh", ".SH", ".SS", ".TP", ".PP", ".RS", ".RE", ".nf", ".fi", ".B"}, requests
    assert page.startswith('.TH CHECK_TLS_MAIL 1 "2026-12-02" "check_tls_mail ')
    assert "%%" not in page and "%(" not in page  # argparse's help escapes were expanded
