"""The command line's parser: every option with its help, usage errors raised as UsageError (UNKNOWN), never exit 2.

Options layer, argparse only: what the options mean together is checked in options.py.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from .. import __version__
from ..errors import UsageError
from ..net.dialects import PROTOCOLS
from ..tls.versions import NUMBERS

DESCRIPTION = """\
Probe one mail service the way real clients do: STARTTLS (or implicit TLS),
the certificate chain (expiry of leaf and intermediates, trust, name), and
whether the clients that matter can still connect over TLS 1.2, where a TLS
1.3 success would hide their failure. Says why a client fails.
"""

EPILOG = """\
thresholds: a number is days (fractions allowed), NNh is hours, NN% is percent
  of the certificate's total lifetime left (default -w 20% -c 10%).
perfdata, the most important first: days_remaining (the certificate served
  by default, to a client that offers every suite: on a dual-certificate
  server usually the ECDSA one; max = its lifetime in days),
  days_remaining_rsa/_ecdsa (another certificate), days_remaining_nosni (the
  one served without SNI, port 25), days_chain (an intermediate expiring
  before the leaf), clients_ok, ciphers_ok, lifetime_used (percent of the
  lifetime gone of the certificate nearest its end, -w/-c as plain upper
  bounds for engines that drop ranges, such as Icinga 2), probes_time, handshake_time, mta_sts_max_age (--mta-sts:
  the policy's max_age in seconds), ari_window_start (--ari: seconds until
  the CA's renewal window, negative inside it). With several addresses each label ends
  in @ADDRESS. The first line is at most 1000 bytes: items that do not fit
  are left off whole, from the end of this list.
exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also SIGINT); --help,
  --version and --list-clients exit 0. Output is UTF-8 in any locale.
"""


class UsageParser(argparse.ArgumentParser):
    """argparse that reports usage errors as UsageError (UNKNOWN), never exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parser() -> UsageParser:
    p = UsageParser(
        prog="check_tls_mail",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-H", "--hostname", metavar="HOST", help="name or address of the mail server (required)")
    p.add_argument("-p", "--port", type=int, metavar="PORT", help="TCP port (default: the protocol's)")
    p.add_argument(
        "-P",
        "--protocol",
        choices=sorted(PROTOCOLS),
        metavar="PROTOCOL",
        help="one of "
        + ", ".join(f"{d.name} ({d.default_port})" for d in PROTOCOLS.values())
        + "; follows from -p for well-known ports",
    )
    p.add_argument(
        "--servername",
        metavar="NAME",
        help="name sent as SNI and verified against the certificate (default: HOST when it is a name)",
    )
    p.add_argument(
        "-w",
        "--warning",
        default="20%",
        metavar="THRESHOLD",
        help="WARNING when the certificate has less left (default 20%%)",
    )
    p.add_argument(
        "-c",
        "--critical",
        default="10%",
        metavar="THRESHOLD",
        help="CRITICAL when the certificate has less left (default 10%%)",
    )
    p.add_argument("--ca-file", metavar="PEM", help="trust anchors instead of the system store")
    p.add_argument(
        "--no-verify-chain",
        action="store_true",
        help="do not judge trust and name (opportunistic TLS on port 25); expiry is still judged",
    )
    p.add_argument(
        "--address", metavar="IP", help="probe this address only (default: every address HOST resolves to, at most 8)"
    )
    family = p.add_mutually_exclusive_group()
    family.add_argument("-4", "--ipv4", action="store_true", help="connect over IPv4 only")
    family.add_argument("-6", "--ipv6", action="store_true", help="connect over IPv6 only")
    p.add_argument(
        "--cipher",
        action="append",
        default=[],
        metavar="NAME",
        help="OpenSSL cipher that must be accepted on its own over TLS 1.2 (repeatable)",
    )
    p.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="PROFILE",
        help="client profile that must connect (repeatable); 'none' disables the default set",
    )
    p.add_argument(
        "--min-tls",
        choices=NUMBERS,
        metavar="VERSION",
        help="CRITICAL when the server accepts an older TLS version (1.0, 1.1, 1.2, 1.3)",
    )
    p.add_argument(
        "--require-tls",
        action="append",
        default=[],
        choices=NUMBERS,
        metavar="VERSION",
        help="CRITICAL when the server does not accept this TLS version (repeatable)",
    )
    p.add_argument(
        "--ehlo",
        metavar="NAME",
        help="name to give in SMTP's EHLO, for servers that refuse the default (this host's full name, else "
        "localhost); like check_smtp -F",
    )
    p.add_argument(
        "--versions",
        action="store_true",
        help="try TLS 1.0, 1.1, 1.2 and 1.3 one by one (4 more connections) and say which the server accepts; "
        "implied by --min-tls and --require-tls",
    )
    p.add_argument(
        "--dns-server",
        metavar="IP[:PORT]",
        help="resolver for TLSA and MTA-STS records and the host's addresses (default: the system's)",
    )
    p.add_argument("--list-clients", action="store_true", help="list the client profiles and exit")
    p.add_argument(
        "--max-parallel", type=int, default=12, metavar="N", help="handshakes in flight at once (default 12)"
    )
    p.add_argument(
        "-t",
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="whole-check timeout; UNKNOWN when it fires (default 10)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="-v what was checked, -vv with the protocol dialogue, -vvv every probe's dialogue",
    )
    p.add_argument("-V", "--version", action="version", version=f"check_tls_mail {__version__}")
    from ..checks.registry import CHECKS

    for check in CHECKS:  # each optional check's options, in its own group
        check.add_arguments(p)
    return p
