"""The parsed command line into one frozen ``Options``: a ``ProbePlan``, a ``Judgement``, the run's settings.

Options layer: every check of the options together (ranges, names, addresses, combinations) is a UsageError;
the profiles and the resolver are imported only when their option is given, the optional checks configure
themselves from theirs (checks/registry.py).
"""

import argparse
import ipaddress
import os
import socket
from typing import TYPE_CHECKING

from ..checks.protocol import OptionalCheck
from ..errors import UsageError
from ..net.dialects import BY_PORT, PROTOCOLS, Dialect, Smtp
from ..net.names import NameDefect, check_host_name
from ..plugin.thresholds import ExpiryThreshold, check_order
from ..records import NamedTuple
from ..sanitize import clean
from ..tls.versions import TlsVersion
from .alarm import MIN_TIMEOUT
from .arguments import parser

if TYPE_CHECKING:
    from ..clients.profiles import ClientProfile
    from ..probe.plan import ProbePlan


#: Shortest -t: it leaves the probes 0.4 s after the margin for judging and output (see probe_budget).


class Judgement(NamedTuple):
    """How the findings are judged and worded: the keyword arguments of ``check.build``."""

    name_to_check: str
    warning: ExpiryThreshold
    critical: ExpiryThreshold
    min_tls: TlsVersion | None
    require_tls: tuple[TlsVersion, ...]
    verbosity: int


class Options(NamedTuple):
    """The parsed command line: what to probe, how to judge it, the optional checks asked for, the run's settings."""

    plan: "ProbePlan"  # imported when options are made (options_from); carries the client profile objects
    judgement: Judgement
    ca_file: str | None
    verify_chain: bool
    timeout: float
    extras: tuple[OptionalCheck, ...] = ()  # configured from their options (checks/registry.py)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _readable(path: str, option: str) -> None:
    """A file the check must read: refused now, with the reason and the account, if it cannot be."""
    try:  # non-blocking: a FIFO must not hang the check here (the trust store refuses what is not a file)
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    except IsADirectoryError:
        return
    except OSError as exc:
        import pwd

        try:
            user = pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            user = f"uid {os.geteuid()}"
        reason = (exc.strerror or type(exc).__name__).lower()
        raise UsageError(f"cannot read {option} {clean(path, 200)}: {reason} (running as {user})") from None


def _host_name(name: str, option: str) -> None:
    """Refuse what cannot be a DNS name (net/names.py), in words that say what is wrong with it."""
    checked = check_host_name(name)
    if checked is NameDefect.EMPTY_LABEL:
        raise UsageError(f"{option} {name}: not a host name (empty label: a dot at the start or two in a row)")
    if checked is NameDefect.BAD_CHARACTER:
        port = " (give the port with -p)" if ":" in name else ""
        raise UsageError(f"{option} {name}: not a host name or address{port}")
    if checked is NameDefect.NOT_IDNA:
        raise UsageError(f"{option} {name}: not a valid internationalised host name")
    if checked is NameDefect.LABEL_TOO_LONG:
        raise UsageError(f"{option} {name}: a label of a host name has at most 63 characters")
    if checked is NameDefect.NAME_TOO_LONG:
        raise UsageError(f"{option}: a host name has at most 253 characters")


def _ehlo_name(name: str) -> None:
    """RFC 5321 4.1.1.1: a domain, or an address literal in brackets ([192.0.2.1], [IPv6:2001:db8::1])."""
    if name.startswith("[") and name.endswith("]") and _is_ip(name[1:-1].removeprefix("IPv6:")):
        return
    if any(c.isspace() or not c.isprintable() for c in name) or not name:
        raise UsageError("--ehlo: not a host name")
    _host_name(name, "--ehlo")


def _protocol(args: argparse.Namespace) -> tuple[Dialect, int]:
    if args.protocol:
        dialect = PROTOCOLS[args.protocol]
        return dialect, args.port if args.port is not None else dialect.default_port
    if args.port is not None:
        if args.port not in BY_PORT:
            raise UsageError(f"port {args.port} is not a well-known mail port: give -P PROTOCOL")
        return PROTOCOLS[BY_PORT[args.port]], args.port
    raise UsageError("give -P PROTOCOL or a well-known -p PORT")


def _clients(requested: list[str], dialect: Dialect) -> tuple["ClientProfile", ...]:
    from ..clients.profiles import catalogue

    cat = catalogue()
    if not requested:
        return cat.default_for(dialect.audience)
    if "none" in requested:
        if len(requested) > 1:
            raise UsageError("--client none cannot be combined with other profiles")
        return ()
    unknown_names = [name for name in requested if cat.named(name) is None]
    if unknown_names:
        raise UsageError(f"unknown client profile {', '.join(unknown_names)}; known: {', '.join(cat.profiles)}")
    named = (cat.named(name) for name in requested)  # a former name (an alias) is its profile now
    return tuple(dict.fromkeys(profile for profile in named if profile is not None))


def _ciphers(requested: list[str]) -> tuple[str, ...]:
    from ..clients.profiles import local_ciphers

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
    if args.ehlo is not None:
        if not isinstance(dialect, Smtp):  # smtps too: implicit TLS, no EHLO before the handshake
            raise UsageError(f"--ehlo is for -P smtp and submission (EHLO before STARTTLS), not -P {dialect.name}")
        _ehlo_name(args.ehlo)
        dialect = dialect._replace(client_name=args.ehlo)
    warning = ExpiryThreshold.parse(args.warning, "-w")
    critical = ExpiryThreshold.parse(args.critical, "-c")
    check_order(warning, critical)
    if args.ca_file:
        _readable(args.ca_file, "--ca-file")
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
    dns_server = None
    if args.dns_server:
        from ..net.resolver import parse_server

        dns_server = parse_server(args.dns_server)
    family = socket.AF_INET if args.ipv4 else socket.AF_INET6 if args.ipv6 else socket.AF_UNSPEC
    for option, literal in (("-H", host), ("--address", args.address)):
        if literal is not None and _is_ip(literal):
            version = ipaddress.ip_address(literal).version
            if (version, family) in ((4, socket.AF_INET6), (6, socket.AF_INET)):
                only = "-6 (IPv6 only)" if family == socket.AF_INET6 else "-4 (IPv4 only)"
                raise UsageError(f"{only} conflicts with {option} {literal}, an IPv{version} address")
    verbosity = min(args.verbose, 3)
    require_tls = tuple(dict.fromkeys(TlsVersion.parse(number) for number in args.require_tls))
    min_tls = TlsVersion.parse(args.min_tls) if args.min_tls else None
    from ..probe.plan import ProbePlan

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
        versions=bool(min_tls or require_tls or args.versions),
        dns_server=dns_server,
    )
    judgement = Judgement(
        name_to_check=servername or host,
        warning=warning,
        critical=critical,
        min_tls=min_tls,
        require_tls=require_tls,
        verbosity=verbosity,
    )
    extras = _optional_checks(args, plan)
    return Options(plan, judgement, args.ca_file, not args.no_verify_chain, args.timeout, extras)


def _optional_checks(args: argparse.Namespace, plan: "ProbePlan") -> tuple[OptionalCheck, ...]:
    """The optional checks whose options were given (or that are on by default), in the registry's order."""
    from ..checks.registry import CHECKS

    return tuple(check for kind in CHECKS if (check := kind.configure(args, plan)) is not None)


def probe_budget(timeout: float) -> float:
    """Time the probes get: the global timeout less a margin for judging and output."""
    return timeout - min(1.0, max(0.1, timeout * 0.1))
