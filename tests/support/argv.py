"""Any argv, as hypothesis makes it, and what every result of one must look like.

The CLI's options with values near their limits and any text: for the
parser (unit), main() in process (seams) and the real entry point (process).
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

from check_tls_mail.cli.arguments import parser
from check_tls_mail.plugin.output import LINE_LIMIT

OPTIONS = sorted({s for action in parser()._actions for s in action.option_strings})


def values(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        text,
        st.sampled_from(
            [
                "imaps",
                "smtp",
                "tls",
                "0",
                "-1",
                "25",
                "993",
                "65536",
                "1.0",
                "1.3",
                "none",
                "apple-mail",
                "20%",
                "120%",
                "36h",
                "0.5",
                "1e3",
                "nan",
                "inf",
                "::1",
                "[::1]",
                "[::1]:53",
                "127.0.0.1:9",
                "a..b",
                ".x",
                "x.",
                "mail.example.test",
                "/dev/zero",
                "/",
                "9" * 400,
                "ECDHE-RSA-AES128-GCM-SHA256",
            ]
        ),
        st.integers(min_value=-(10**6), max_value=10**6).map(str),
    )


#: Any text, as main() may be handed it; a real argv holds no NUL and no lone surrogate but those of undecodable bytes.
ARGV = st.lists(st.one_of(st.sampled_from(OPTIONS), values(st.text(max_size=30))), max_size=12)
EXEC_ARGV = st.lists(
    st.one_of(
        st.sampled_from(OPTIONS),
        values(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)),
    ),
    max_size=12,
)
FIRST_LINE = re.compile(r"^TLS_MAIL (OK|WARNING|CRITICAL|UNKNOWN) - [^|]*( \| [^|]*)?$")


def assert_one_well_formed_result(argv: list[str], code: int, text: str) -> None:
    lines = text.split("\n")
    if code == 0 and not text.startswith("TLS_MAIL "):  # --help, --version, --list-clients
        assert {"-h", "--help", "-V", "--version", "--list-clients"} & set(argv), text
        return
    assert text.endswith("\n"), text
    first = lines[0]
    match = FIRST_LINE.match(first)
    assert match, first
    assert code == ("OK", "WARNING", "CRITICAL", "UNKNOWN").index(match.group(1))
    assert len(first.encode()) <= LINE_LIMIT
    assert "internal error" not in text, text
    assert all(line.isprintable() for line in lines)
