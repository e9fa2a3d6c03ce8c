"""The README's sample lines come from real runs, and still match them.

Every block of README.md after a `<!-- sample: postfix LISTENER -->` (or `dovecot SCENARIO PROTOCOL`) marker
holds a `$ check_tls_mail ...` command and the first line it printed. Here the command runs again against the
suite's own Postfix listener (or Dovecot instance) of that name, with this run's port and CA file, and its
first line must equal the README's, the measured times, the ports, the dates and the days left masked.
"""

from __future__ import annotations

import re
import shlex

import pytest
from realservers import Credentials, DovecotInstance, PostfixInstance
from runs import ROOT, check

MARKER = re.compile(r"^<!-- sample: (postfix|dovecot) ([\w-]+)(?: (\w+))? -->$")


def samples() -> list[tuple[str, str, str, list[str], str]]:
    """(server, listener or scenario, protocol, argv, first line) for each marked README sample."""
    lines = (ROOT / "README.md").read_text().split("\n")
    found = []
    for index, line in enumerate(lines):
        marked = MARKER.match(line)
        if not marked:
            continue
        block = [text.strip() for text in lines[index + 1 : index + 6] if text.startswith("    ")]
        command, output = block[0], block[1]
        assert command.startswith("$ check_tls_mail "), command
        found.append((marked.group(1), marked.group(2), marked.group(3) or "", shlex.split(command)[2:], output))
    return found


SAMPLES = samples()


def masked(line: str) -> str:
    line = re.sub(r"(127\.0\.0\.1):\d+", r"\1:PORT", line)
    line = re.sub(r"(_time(?:@[^=']+)?'?=)[0-9.]+s", r"\1Ts", line)
    line = re.sub(r"(lifetime_used(?:@[^=']+)?'?=)[0-9.]+%", r"\1U%", line)
    line = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "DATE", line)
    line = re.sub(r"valid \d+\.\d days", "valid N days", line)
    return re.sub(r"(days_remaining(?:_\w+)?=)[0-9.]+;", r"\1N;", line)


def test_the_readme_has_samples_to_check() -> None:
    assert len(SAMPLES) >= 3, SAMPLES


@pytest.mark.parametrize(("server", "name", "protocol", "argv", "printed"), SAMPLES)
def test_a_readme_sample_is_what_the_plugin_prints(
    server: str,
    name: str,
    protocol: str,
    argv: list[str],
    printed: str,
    postfix: PostfixInstance,
    dovecot: dict[str, DovecotInstance],
    creds: Credentials,
) -> None:
    port = postfix.ports[name] if server == "postfix" else dovecot[name].ports[protocol]
    argv = list(argv)
    argv[argv.index("-p") + 1] = str(port)
    argv[argv.index("--ca-file") + 1] = creds.ca_file
    run = check(*argv)
    assert masked(run.first_line) == masked(printed), f"\nREADME: {printed}\n   now: {run.first_line}"
