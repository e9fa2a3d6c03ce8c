"""One offer per probe, whether made before or after cryptography's import (``cli.entry.one_offer``).

The probes start while the CLI still imports; cryptography, once imported, loads OpenSSL's legacy provider
unless told not to, and where it shares Python's libssl (Debian's python3-cryptography: the Debian 13
package's, the suite's Debian 13 package chroot) every SSLContext made after that offers the four SEED suites
too. Here a fresh interpreter, as the CLI starts, sends the widest offer's ClientHello before and after importing
cryptography's OpenSSL binding: the suites must be the same. The variable's own effect is shown by the same
script without ``one_offer`` where cryptography is Debian's (elsewhere it links its own OpenSSL and nothing
changes either way).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import NamedTuple

from runs import ROOT

SCRIPT = r"""
import json, os, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
os.environ.pop("CRYPTOGRAPHY_OPENSSL_NO_LEGACY", None)  # as a fresh process starts, whatever the test run set
from check_tls_mail.cli.entry import one_offer
if sys.argv[3] == "one_offer":
    one_offer()
from hellos import NAME, parse_hello, sent_hello
from check_tls_mail.clients.offer import PRIMARY
from check_tls_mail.probe.handshake import context_for
assert "cryptography" not in sys.modules
before = parse_hello(sent_hello(context_for(PRIMARY), NAME)).suites
from cryptography.hazmat.bindings.openssl.binding import Binding
Binding()
import cryptography
after = parse_hello(sent_hello(context_for(PRIMARY), NAME)).suites
debian = cryptography.__file__.startswith("/usr/lib/")  # Debian's python3-cryptography, not a wheel
print(json.dumps([list(before), list(after), debian]))
"""


class Offered(NamedTuple):
    before: set[int]  # the widest offer's suites before cryptography's import
    after: set[int]  # and after it
    debian: bool  # cryptography is Debian's python3-cryptography (it shares Python's libssl)


def offered(mode: str) -> Offered:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT), str(ROOT / "tests" / "support"), mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    before, after, debian = json.loads(result.stdout)
    return Offered(set(before), set(after), debian)


def test_the_widest_offer_is_the_same_before_and_after_cryptographys_import() -> None:
    seen = offered("one_offer")
    assert seen.before == seen.after, seen


def test_without_one_offer_only_debians_cryptography_adds_the_seed_suites() -> None:
    """The variable's effect: Debian's cryptography (shared libssl) adds the SEED suites; a wheel's, nothing."""
    seen = offered("as_is")
    seed = {0x0096, 0x0099, 0x009A, 0x009B}  # TLS_RSA, DHE_DSS, DHE_RSA and DH_anon WITH_SEED_CBC_SHA
    assert seen.after - seen.before == (seed if seen.debian else set()), seen
