"""Command line: argparse into one frozen Options, usage errors as UNKNOWN, the run and the process edge.

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments, internal
errors, the global timeout, SIGINT). --help, --version and --list-clients exit
0. Whatever happens to stdout (closed, full, a closed pipe), the exit code is
the state's and no traceback is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import ipaddress
import os
import signal
import socket
import sys
import warnings
from types import FrameType
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from . import __version__
from .dialects import BY_PORT, PROTOCOLS, Dialect
from .errors import UsageError
from .output import emit, quiet_failure, render, unknown
from .thresholds import ExpiryThreshold, check_order

if TYPE_CHECKING:
    from .probeplan import ProbePlan
    from .profiles import ClientProfile
    from .renewal import ExpectedCertificate

#: The keys of handshake.VERSIONS, here so that parsing the command line imports no ssl.
VERSION_NAMES = ("1.0", "1.1", "1.2", "1.3")
#: Shortest -t: it leaves the probes 0.4 s after the margin for judging and output (see probe_budget).
MIN_TIMEOUT = 0.5

DESCRIPTION = """\
Probe one mail service the way real clients do: STARTTLS (or implicit TLS),
the certificate chain (expiry of leaf and intermediates, trust, name), and
whether the clients that matter can still connect over TLS 1.2, where a TLS
1.3 success would hide their failure. Says why a client fails.
"""

EPILOG = """\
thresholds: a number is days (fractions allowed), NNh is hours, NN% is percent
  of the certificate's total lifetime left (default -w 20% -c 10%).
perfdata, the most important first: days_remaining (leaf; max = its lifetime
  in days), days_remaining_rsa/_ecdsa (a second certificate), days_chain (an
  intermediate expiring before the leaf), clients_ok, ciphers_ok, probes_time,
  handshake_time, mta_sts_max_age (--mta-sts: the policy's max_age in seconds).
  The first line is at most 1000 bytes: items that do not fit are left off
  whole, from the end of this list.
exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also SIGINT); --help,
  --version and --list-clients exit 0. Output is UTF-8 in any locale.
"""


class UsageParser(argparse.ArgumentParser):
    """argparse that reports usage errors as UsageError (UNKNOWN), never exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class Judgement(NamedTuple):
    """How the findings are judged and worded: the keyword arguments of ``check.build``."""

    name_to_check: str
    warning: ExpiryThreshold
    critical: ExpiryThreshold
    min_tls: str | None
    require_tls: tuple[str, ...]
    dane_required: bool  # --dane: a missing or failed TLSA lookup is CRITICAL
    verbosity: int
    expected_certificates: tuple[ExpectedCertificate, ...] = ()  # --expect-cert, read while parsing
    required_names: tuple[str, ...] = ()  # --require-name


class Options(NamedTuple):
    """The parsed command line: what to probe, how to judge it, and the run's own settings."""

    plan: ProbePlan  # carries the client profile objects
    judgement: Judgement
    ca_file: str | None
    verify_chain: bool
    timeout: float


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
        choices=VERSION_NAMES,
        metavar="VERSION",
        help="CRITICAL when the server accepts an older TLS version (1.0, 1.1, 1.2, 1.3)",
    )
    p.add_argument(
        "--require-tls",
        action="append",
        default=[],
        choices=VERSION_NAMES,
        metavar="VERSION",
        help="CRITICAL when the server does not accept this TLS version (repeatable)",
    )
    dane = p.add_mutually_exclusive_group()
    dane.add_argument(
        "--dane",
        action="store_true",
        help="require TLSA records for _PORT._tcp.NAME that match the served chain "
        "(default: checked for -P smtp with a host name when records exist)",
    )
    dane.add_argument("--no-dane", action="store_true", help="do not look up TLSA records")
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
    _beyond_options(p)
    return p


def _beyond_options(p: argparse.ArgumentParser) -> None:
    """The checks beyond the handshake (issue 16): after a renewal, MTA-STS, revocation."""
    group = p.add_argument_group("renewal, MTA-STS and revocation")
    group.add_argument(
        "--expect-cert",
        action="append",
        default=[],
        metavar="PEM",
        help="the served certificate must be the first one in this file, e.g. the ACME client's fullchain.pem "
        "(repeatable, one per certificate); WARNING when the file holds a newer one (reload the service) "
        "or an older one",
    )
    group.add_argument(
        "--require-name",
        action="append",
        default=[],
        metavar="NAME",
        help="every served certificate must cover this name, as for the checked name (repeatable); "
        "CRITICAL naming the missing names",
    )
    group.add_argument(
        "--mta-sts",
        metavar="DOMAIN",
        help="with -P smtp: judge HOST against the MTA-STS policy of DOMAIN (RFC 8461), looked up at --dns-server "
        "and fetched over HTTPS with --ca-file; CRITICAL in enforce mode when HOST is not listed or its "
        "certificate does not verify; TLS-RPT with -v",
    )
    group.add_argument(
        "--revocation",
        action="store_true",
        help="ask the OCSP responder, else the CRL, of each served certificate and intermediate over HTTP "
        "(requests to the CA on every run); revoked is CRITICAL, no usable answer a WARNING",
    )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _host_name(name: str, option: str) -> None:
    """Refuse what cannot be a DNS name: an empty label (".a", "a..b"), a label over 63 or a name over 253 bytes.

    ASCII labels hold letters, digits, "-" and "_"; other labels must have an
    IDNA form (Python's socket and ssl modules encode them so).
    """
    bare = name[:-1] if name.endswith(".") else name
    total = 0
    for label in bare.split("."):
        if not label:
            raise UsageError(f"{option} {name}: not a host name (empty label: a dot at the start or two in a row)")
        if label.isascii():
            if not all(c.isalnum() or c in "-_" for c in label):
                port = " (give the port with -p)" if ":" in name else ""
                raise UsageError(f"{option} {name}: not a host name or address{port}")
            encoded = label
        else:
            try:
                encoded = label.encode("idna").decode("ascii")
            except UnicodeError:
                raise UsageError(f"{option} {name}: not a valid internationalised host name") from None
        if len(encoded) > 63:
            raise UsageError(f"{option} {name}: a label of a host name has at most 63 characters")
        total += len(encoded) + 1
    if total - 1 > 253:
        raise UsageError(f"{option}: a host name has at most 253 characters")


def _protocol(args: argparse.Namespace) -> tuple[Dialect, int]:
    if args.protocol:
        dialect = PROTOCOLS[args.protocol]
        return dialect, args.port if args.port is not None else dialect.default_port
    if args.port is not None:
        if args.port not in BY_PORT:
            raise UsageError(f"port {args.port} is not a well-known mail port: give -P PROTOCOL")
        return PROTOCOLS[BY_PORT[args.port]], args.port
    raise UsageError("give -P PROTOCOL or a well-known -p PORT")


def _clients(requested: list[str], dialect: Dialect) -> tuple[ClientProfile, ...]:
    from .profiles import catalogue

    cat = catalogue()
    if not requested:
        return cat.default_for(dialect.name)
    if "none" in requested:
        if len(requested) > 1:
            raise UsageError("--client none cannot be combined with other profiles")
        return ()
    unknown_names = [name for name in requested if name not in cat.profiles]
    if unknown_names:
        raise UsageError(f"unknown client profile {', '.join(unknown_names)}; known: {', '.join(cat.profiles)}")
    return tuple(cat.profiles[name] for name in dict.fromkeys(requested))


def _ciphers(requested: list[str]) -> tuple[str, ...]:
    from .profiles import local_ciphers

    for name in requested:
        if name.startswith("TLS_"):
            raise UsageError(f"--cipher {name}: TLS 1.3 suites cannot be probed one by one from Python")
        if local_ciphers(name) != [name]:
            raise UsageError(
                f"--cipher {name}: the local OpenSSL cannot offer this cipher on its own over TLS 1.2 "
                "(unknown name or not built in): a limit of this host, not of the server"
            )
    return tuple(dict.fromkeys(requested))


def parse(argv: list[str]) -> Options:
    return options_from(parser().parse_args(argv))


def options_from(args: argparse.Namespace) -> Options:
    if not args.hostname:
        raise UsageError("-H HOST is required")
    if not 0 < args.timeout <= 3600:
        raise UsageError(f"-t {args.timeout:g}: give a timeout between 0 and 3600 seconds")
    if args.timeout < MIN_TIMEOUT:
        raise UsageError(
            f"-t {args.timeout:g}: too short to probe anything (the probes get -t less a margin for judging "
            f"and output): give at least {MIN_TIMEOUT:g} seconds"
        )
    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"-p {args.port}: not a TCP port")
    if not 1 <= args.max_parallel <= 64:
        raise UsageError("--max-parallel must be between 1 and 64")
    dialect, port = _protocol(args)
    warning = ExpiryThreshold.parse(args.warning, "-w")
    critical = ExpiryThreshold.parse(args.critical, "-c")
    check_order(warning, critical)
    if args.ca_file and not os.access(args.ca_file, os.R_OK):
        raise UsageError(f"cannot read --ca-file {args.ca_file}")
    host = args.hostname.strip().strip("[]")
    if not host or any(c.isspace() or not c.isprintable() for c in host):
        raise UsageError("-H: not a host name or address")
    if not _is_ip(host):
        _host_name(host, "-H")
    if args.address is not None and not _is_ip(args.address):
        raise UsageError(f"--address {args.address}: not an IP address")
    servername = args.servername or (None if _is_ip(host) else host)
    if servername is not None and _is_ip(servername):
        raise UsageError("--servername must be a DNS name (SNI cannot carry an address)")
    if args.servername:
        if any(c.isspace() or not c.isprintable() for c in args.servername):
            raise UsageError("--servername: not a host name")
        _host_name(args.servername, "--servername")
    tlsa_host = None
    if args.dane:
        if servername is None:
            raise UsageError("--dane needs a host name: give -H NAME or --servername NAME")
        tlsa_host = servername
    elif not args.no_dane and dialect.name == "smtp" and not _is_ip(host):
        tlsa_host = host
    dns_server = None
    if args.dns_server:
        from .resolver import parse_server

        dns_server = parse_server(args.dns_server)
    family = socket.AF_INET if args.ipv4 else socket.AF_INET6 if args.ipv6 else socket.AF_UNSPEC
    verbosity = min(args.verbose, 3)
    require_tls = tuple(dict.fromkeys(args.require_tls))
    from .probeplan import ProbePlan

    plan = ProbePlan(
        host=host,
        port=port,
        dialect=dialect,
        family=family,
        servername=servername,
        clients=_clients(args.client, dialect),
        ciphers=_ciphers(args.cipher),
        parallel=args.max_parallel,
        seconds=probe_budget(args.timeout),
        address=args.address,
        versions=bool(args.min_tls or require_tls or verbosity),
        dns_server=dns_server,
        tlsa_host=tlsa_host,
    )
    judgement = Judgement(
        name_to_check=servername or host,
        warning=warning,
        critical=critical,
        min_tls=args.min_tls,
        require_tls=require_tls,
        dane_required=bool(args.dane),
        verbosity=verbosity,
    )
    plan, judgement = _with_beyond(args, plan, judgement)
    return Options(plan, judgement, args.ca_file, not args.no_verify_chain, args.timeout)


def _with_beyond(args: argparse.Namespace, plan: ProbePlan, judgement: Judgement) -> tuple[ProbePlan, Judgement]:
    """--expect-cert, --require-name, --mta-sts and --revocation: network work into the plan, the rest judgement."""
    expected: tuple[ExpectedCertificate, ...] = ()
    if args.expect_cert:
        from .renewal import load_all

        expected = load_all(args.expect_cert)  # an unusable file is an ExpectCertError, a UsageError
    names: tuple[str, ...] = ()
    if args.require_name:
        from .renewal import check_required_name

        names = tuple(dict.fromkeys(check_required_name(name) for name in args.require_name))
    domain = None
    if args.mta_sts is not None:
        from .mtastspolicy import host_name
        from .sanitize import clean

        if plan.dialect.name != "smtp":
            raise UsageError("--mta-sts is for -P smtp: the policy is about the MX senders deliver to")
        if plan.servername is None:
            raise UsageError("--mta-sts needs the MX's host name: give -H NAME or --servername NAME")
        domain = host_name(args.mta_sts)
        if domain is None or "." not in domain:
            raise UsageError(f"--mta-sts {clean(args.mta_sts)}: not a domain name")
    if not (expected or names or domain or args.revocation):
        return plan, judgement
    plan = plan._replace(ca_file=args.ca_file, mta_sts=domain, revocation=args.revocation)
    return plan, judgement._replace(expected_certificates=expected, required_names=names)


class GlobalTimeout(BaseException):
    """The whole check ran out of time (BaseException: nothing may swallow it)."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise GlobalTimeout


def probe_budget(timeout: float) -> float:
    """Time the probes get: the global timeout less a margin for judging and output."""
    return timeout - min(1.0, max(0.1, timeout * 0.1))


def check(options: Options) -> tuple[int, str]:
    """Run the check; (exit code, output text)."""
    from .probe import start

    running = start(options.plan)
    # Importing cryptography and nagiosplugin takes longer than a loopback
    # handshake: do it while the probes are on the network.
    from .certificate import load_store
    from .check import build
    from .perfdata import ranked

    anchors = load_store(options.ca_file) if options.verify_chain else None
    # MTA-STS senders verify the chain whatever --no-verify-chain says.
    policy_anchors = load_store(options.ca_file) if options.plan.mta_sts and anchors is None else None
    nagios_check = build(
        collect=running.wait, anchors=anchors, policy_anchors=policy_anchors, **options.judgement._asdict()
    )
    nagios_check()
    return nagios_check.exitcode, render(
        nagios_check.exitcode, nagios_check.summary_str, ranked(nagios_check), nagios_check.verbose_str or []
    )


def main(argv: list[str] | None = None) -> tuple[int, str]:
    """(exit code, output); never raises, not even on SIGINT."""
    warnings.simplefilter("ignore")  # TLS 1.0 deprecation and the like go nowhere near stdout
    argv = sys.argv[1:] if argv is None else argv
    timeout = 10.0
    printed = io.StringIO()  # --help and --version: argparse prints, the caller writes
    try:
        with contextlib.redirect_stdout(printed):
            args = parser().parse_args(argv)
        if args.list_clients:
            from .profiles import describe_all

            return 0, describe_all() + "\n"
        options = options_from(args)
        timeout = options.timeout
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return check(options)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except UsageError as exc:
        return 3, unknown(f"usage: {exc}")
    except GlobalTimeout:
        return 3, unknown(f"timeout: check did not complete within {timeout:g} s")
    except KeyboardInterrupt:
        return 3, unknown("interrupted (SIGINT): the check did not complete")
    except SystemExit as exc:  # argparse's --help and --version
        return (exc.code if isinstance(exc.code, int) else 0), printed.getvalue()
    except Exception as exc:
        return 3, unknown(f"internal error: {exc.__class__.__name__}: {exc}")


def _reserve_standard_descriptors() -> None:
    """Open /dev/null on stdin, stdout or stderr where the caller closed them.

    Otherwise the first socket a probe opens could get descriptor 1, and the
    output would go to the mail server.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def run() -> NoReturn:
    """Console entry point: print, exit with the state without waiting for probe threads.

    A stdout that cannot take the output (closed pipe, full disk) does not
    change the exit code; a full disk or a bad descriptor is said in one line
    on stderr, a reader that went away is not.
    """
    _reserve_standard_descriptors()
    code, text = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the state is decided: a late ^C must not cut the output
    error = emit(text)
    if error is not None and not quiet_failure(error):
        emit(f"check_tls_mail: cannot write the output: {error.strerror or error}\n", 2)
    os._exit(code)
