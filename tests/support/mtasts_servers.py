"""MTA-STS test world: Knot + Unbound publishing _mta-sts and _smtp._tls, and HTTPS policy servers.

One domain per scenario under ``example.test`` (``enforce.example.test``,
``redirect.example.test``...). The policy servers are Python's http.server
with TLS, answering by the Host header; their certificates come from the test
PKI. Each policy server listens on an ephemeral 127.0.0.1 port (tests reach it
with ``connect_to``) and, where the port can be bound (root), also on port 443
of a spare loopback address that the zone's ``mta-sts.DOMAIN`` A records
name, so the real resolution path (``--dns-server``) works without any hook.

Tests get it as the ``mtasts_world`` fixture (tests/conftest.py), one per session.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from dnsservers import ZONE, KnotInstance, UnboundInstance
from loopback import Answer, HttpServer, free_port, send
from pki import Pki

WELL_KNOWN = "/.well-known/mta-sts.txt"
#: Addresses tried for the port-443 listeners (a spare corner of 127/8).
LOOPBACK_443 = [f"127.83.84.{n}" for n in range(10, 40)]


def unreachable_443(ours: str) -> str:
    """An address of LOOPBACK_443 where nothing listens on 443 now: from the end of the list, as the servers
    take theirs from its start (another test session on this host may hold one too)."""
    import socket

    for address in reversed(LOOPBACK_443):
        if address == ours:
            continue
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex((address, 443)) != 0:
                return address
    raise RuntimeError("every 127.83.84.x address has a listener on 443")


def policy(mode: str, *mx: str, max_age: int = 604800, newline: str = "\r\n") -> bytes:
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}"]
    return (newline.join(lines) + newline).encode()


def _domain(label: str) -> str:
    return f"{label}.{ZONE}"


#: label -> (policy answer or None (nothing served), TXT records at _mta-sts, TXT records at _smtp._tls)
SCENARIOS: dict[str, tuple[Answer | None, tuple[str, ...], tuple[str, ...]]] = {
    "enforce": (
        Answer(body=policy("enforce", f"mail.{_domain('enforce')}", f"*.mx.{_domain('enforce')}")),
        ('"v=STSv1; id=20260101T000000"',),
        ('"v=TLSRPTv1; rua=mailto:tlsrpt@example.test"',),
    ),
    "testing": (
        Answer(body=policy("testing", f"mail.{_domain('testing')}", max_age=86400, newline="\n")),
        ('"v=STSv1; id=testing1;"',),
        ('"v=TLSRPTv1;rua=mailto:a@example.test, https://reports.example.test/tlsrpt"',),
    ),
    "none": (Answer(body=policy("none", max_age=86400)), ('"v=STSv1; id=none1"',), ()),
    "nomatch": (Answer(body=policy("enforce", "mx.other.example")), ('"v=STSv1; id=nomatch1"',), ()),
    "shortage": (
        Answer(body=policy("enforce", f"mail.{_domain('shortage')}", max_age=3600)),
        ('"v=STSv1; id=short1"',),
        (),
    ),
    "redirect": (
        Answer(status=301, headers=(("Location", f"https://www.{ZONE}{WELL_KNOWN}"),), content_type="text/html"),
        ('"v=STSv1; id=redirect1"',),
        (),
    ),
    "oversized": (
        Answer(body=policy("enforce", f"mail.{_domain('oversized')}") + b"x-padding: " + b"a" * 70000 + b"\n"),
        ('"v=STSv1; id=big1"',),
        (),
    ),
    "streamed": (  # oversized without Content-Length: the cap must hold while reading
        Answer(body=policy("enforce", f"mail.{_domain('streamed')}") + b"x: " + b"b" * 70000, length=False),
        ('"v=STSv1; id=big2"',),
        (),
    ),
    "badsyntax": (
        Answer(body=b"version: STSv1\nmode: Enforce\nmx: mail.badsyntax.example.test\nmax_age: 604800\n"),
        ('"v=STSv1; id=bad1"',),
        (),
    ),
    "html": (
        Answer(body=policy("enforce", f"mail.{_domain('html')}"), content_type="text/html; charset=utf-8"),
        ('"v=STSv1; id=html1"',),
        (),
    ),
    "missing": (Answer(status=404, body=b"not found\n"), ('"v=STSv1; id=missing1"',), ()),
    "slow": (Answer(body=policy("enforce", f"mail.{_domain('slow')}"), trickle=True), ('"v=STSv1; id=slow1"',), ()),
    "unreachable": (None, ('"v=STSv1; id=unreach1"',), ()),
    # served by the servers with another name's certificate, and with an expired one
    "wrongname": (Answer(body=policy("enforce", f"mail.{_domain('wrongname')}")), ('"v=STSv1; id=wrongname1"',), ()),
    "expired": (Answer(body=policy("enforce", f"mail.{_domain('expired')}")), ('"v=STSv1; id=expired1"',), ()),
    "split": (  # one TXT record in two strings: joined before parsing
        Answer(body=policy("enforce", f"mail.{_domain('split')}")),
        ('"v=STSv1; " "id=split1"',),
        ('"v=TLSRPTv1; " "rua=mailto:x@example.test"',),
    ),
    "badrpt": (  # a good policy, and a TLS-RPT record senders cannot use
        Answer(body=policy("enforce", f"mail.{_domain('badrpt')}")),
        ('"v=STSv1; id=badrpt1"',),
        ('"v=TLSRPTv1; rua=ftp://reports.example.test/"',),
    ),
    "multiple": (None, ('"v=STSv1; id=one"', '"v=STSv1; id=two"', '"google-site-verification=xyz"'), ()),
    "nosep": (None, ('"v=STSv1 id=nosep1"',), ('"v=TLSRPTv1; rua=ftp://reports.example.test/"',)),
    "noid": (None, ('"v=STSv1; x=1"',), ('"v=TLSRPTv1; rua=mailto:a@example.test; rua=mailto:b@example.test"',)),
    "other": (None, ('"v=spf1 -all"',), ()),  # a TXT record, but not MTA-STS: absent
    "absent": (None, (), ()),
}


class _Handler(BaseHTTPRequestHandler):
    server: PolicyServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        label = host.removeprefix("mta-sts.").removesuffix(f".{ZONE}")
        self.server.requests.append((host, self.path))
        scenario = SCENARIOS.get(label)
        answer = scenario[0] if scenario else None
        if answer is None or self.path != WELL_KNOWN:
            answer = Answer(status=404, body=b"no such policy\n")
        send(self, answer)


class PolicyServer(HttpServer):
    """HTTPS with one certificate; the TLS handshake runs in the request's thread."""

    def __init__(self, address: tuple[str, int], chain: str, key: str) -> None:
        super().__init__(address, _Handler)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(chain, key)

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate: that is the test's point
        super().finish_request(tls, client_address)  # type: ignore[arg-type]


@dataclass
class MtaStsWorld:
    pki: Pki
    knot: KnotInstance
    unbound: UnboundInstance
    good: PolicyServer  # certificate for every mta-sts.<scenario> name
    wrong_name: PolicyServer
    expired: PolicyServer
    closed_port: int  # nothing listens there
    https_443: str | None  # the loopback address whose port 443 the good server also answers on
    extra: dict[str, PolicyServer] = field(default_factory=dict)
    unreachable: str = ""  # the address mta-sts.unreachable resolves to, where nothing listens on 443

    @staticmethod
    def domain(label: str) -> str:
        return _domain(label)

    @property
    def ca_file(self) -> str:
        return self.pki.root_file

    @property
    def resolver(self) -> tuple[str, int]:
        return ("127.0.0.1", self.unbound.ports["dns"])

    def connect_to(self, label: str) -> tuple[str, int]:
        """Where mta-sts.<label>.example.test is served (for fetch_policy's connect_to)."""
        if label == "unreachable":
            return ("127.0.0.1", self.closed_port)
        if label == "wrongname":
            return ("127.0.0.1", self.wrong_name.port)
        if label == "expired":
            return ("127.0.0.1", self.expired.port)
        return ("127.0.0.1", self.good.port)


def _bind_443(chain: str, key: str) -> PolicyServer | None:
    for address in LOOPBACK_443:
        try:
            return PolicyServer((address, 443), chain, key)
        except OSError:
            continue
    return None


@contextmanager
def running(pki: Pki) -> Iterator[MtaStsWorld]:
    """The policy servers, Knot and Unbound, running until the block ends."""
    names = tuple(f"mta-sts.{_domain(label)}" for label in SCENARIOS if label not in ("wrongname", "expired"))
    good_chain, good_key = pki.leaf(names=names).write(pki.directory, "mta-sts-good")
    wrong_chain, wrong_key = pki.leaf(names=(f"www.{ZONE}",)).write(pki.directory, "mta-sts-wrongname")
    old_chain, old_key = pki.leaf(names=(f"mta-sts.{_domain('expired')}",), days_left=-2).write(
        pki.directory, "mta-sts-expired"
    )
    with ExitStack() as stack:
        good = stack.enter_context(PolicyServer(("127.0.0.1", 0), good_chain, good_key))
        wrong = stack.enter_context(PolicyServer(("127.0.0.1", 0), wrong_chain, wrong_key))
        expired = stack.enter_context(PolicyServer(("127.0.0.1", 0), old_chain, old_key))
        on_443 = _bind_443(good_chain, good_key)
        if on_443 is not None:
            stack.enter_context(on_443)
        records = []
        for label, (_answer, sts, tlsrpt) in SCENARIOS.items():
            records += [f"_mta-sts.{label} TXT {text}" for text in sts]
            records += [f"_smtp._tls.{label} TXT {text}" for text in tlsrpt]
            records.append(f"mail.{label} A 127.0.0.1")
            if on_443 is not None and label != "unreachable":
                records.append(f"mta-sts.{label} A {on_443.server_address[0]}")
        nobody = unreachable_443(on_443.server_address[0]) if on_443 is not None else ""
        if nobody:  # an address where nothing listens on 443
            records.append(f"mta-sts.unreachable A {nobody}")
        knot = KnotInstance(records)
        knot.start()
        stack.callback(knot.stop)
        unbound = UnboundInstance(knot)
        unbound.start()
        stack.callback(unbound.stop)
        yield MtaStsWorld(
            pki,
            knot,
            unbound,
            good,
            wrong,
            expired,
            free_port(),
            str(on_443.server_address[0]) if on_443 is not None else None,
            unreachable=nobody,
        )
