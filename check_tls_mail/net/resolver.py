"""DNS with dnspython: a service's addresses and its TLSA records, with the AD flag.

Used only for DANE and --dns-server; imported only then (dnspython is not
needed for anything else). Every query is bounded by the probe deadline.
"""

from __future__ import annotations

import ipaddress
import socket

import dns.exception
import dns.flags
import dns.rdatatype
import dns.resolver

from ..errors import ResolveError, UsageError
from ..records import NamedTuple
from ..sanitize import clean
from .transport import Address, Deadline

#: Longest a single DNS query may take, within the probe deadline.
QUERY_SECONDS = 3.0


class TlsaRecord(NamedTuple):
    usage: int
    selector: int
    mtype: int
    data: bytes

    def __str__(self) -> str:
        return f"{self.usage} {self.selector} {self.mtype} {self.data.hex()[:16]}..."


class TlsaAnswer(NamedTuple):
    name: str  # _25._tcp.mx.example.org
    records: tuple[TlsaRecord, ...]
    validated: bool  # the resolver set the AD flag
    server: str  # which resolver answered


def parse_server(text: str) -> tuple[str, int]:
    """'192.0.2.53', '192.0.2.53:5353', '::1', '[::1]:5353' -> (ip, port)."""
    host, number = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        number = rest.removeprefix(":") if rest else ""
        if rest and not rest.startswith(":"):
            number = "bad"
    elif text.count(":") == 1:
        host, _, number = text.partition(":")
    port = 53 if not number else int(number) if number.isdigit() else -1
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(f"--dns-server {text}: expected IP[:PORT] or [IPv6]:PORT") from None
    if not 0 < port < 65536:
        raise UsageError(f"--dns-server {text}: not a port")
    return host, port


def make_resolver(server: tuple[str, int] | None) -> dns.resolver.Resolver:
    """A resolver asking ``server`` (or the system's), with the DO bit so a validating resolver sets AD."""
    if server is None:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [server[0]]
        resolver.port = server[1]
    resolver.use_edns(0, dns.flags.DO, 1232)  # ask for DNSSEC, so a validating resolver sets AD
    resolver.flags = dns.flags.RD | dns.flags.AD
    return resolver


def describe_server(server: tuple[str, int] | None) -> str:
    """How words name the resolver: "192.0.2.53:53" or "the system resolver"."""
    return "the system resolver" if server is None else f"{server[0]}:{server[1]}"


def _query(name: str, rdtype: str, server: tuple[str, int] | None, deadline: Deadline) -> dns.resolver.Answer | None:
    """The answer, or None when the name or the type does not exist."""
    remaining = deadline.remaining()
    if remaining <= 0:
        raise ResolveError(f"no time left to look up {rdtype} {clean(name)}")
    try:
        return make_resolver(server).resolve(name, rdtype, lifetime=min(remaining, QUERY_SECONDS))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except dns.exception.Timeout:
        raise ResolveError(f"{rdtype} lookup of {clean(name)} timed out ({describe_server(server)})") from None
    except dns.exception.DNSException as exc:
        raise ResolveError(
            f"{rdtype} lookup of {clean(name)} failed ({describe_server(server)}): {clean(str(exc))}"
        ) from None


def lookup_tlsa(name: str, server: tuple[str, int] | None, deadline: Deadline) -> TlsaAnswer:
    """The TLSA records at ``name`` (_25._tcp.mx.example.org) and whether the resolver validated them."""
    answer = _query(name, "TLSA", server, deadline)
    if answer is None:
        return TlsaAnswer(name, (), False, describe_server(server))
    records = tuple(
        TlsaRecord(rr.usage, rr.selector, rr.mtype, bytes(rr.cert)) for rr in answer if rr.rdtype == dns.rdatatype.TLSA
    )
    validated = bool(answer.response.flags & dns.flags.AD)
    return TlsaAnswer(name, records, validated, describe_server(server))


def lookup_addresses(host: str, port: int, family: int, server: tuple[str, int], deadline: Deadline) -> list[Address]:
    """A and AAAA records from the given server, as wire.resolve would give them."""
    found: list[Address] = []
    kinds = [("A", socket.AF_INET), ("AAAA", socket.AF_INET6)]
    for rdtype, fam in kinds:
        if family not in (socket.AF_UNSPEC, fam):
            continue
        answer = _query(host, rdtype, server, deadline)
        for rr in answer or ():
            sockaddr = (rr.address, port) if fam == socket.AF_INET else (rr.address, port, 0, 0)
            found.append(Address(fam, sockaddr))
    if not found:
        raise ResolveError(f"cannot resolve {clean(host)}: no address ({describe_server(server)})")
    return found
