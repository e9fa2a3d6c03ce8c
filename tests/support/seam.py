"""The seam from probe reports to the output: reports built here, judged by the very assembly the CLI runs.

``World`` makes a test PKI at fixed dates; ``served``, ``at``, ``dual`` and ``plan``
make what the probes would have measured; ``judged`` runs it through
``plugin.check.build`` and ``run_and_render`` (as ``cli.main.check`` does) and
gives the exit code and the whole output. Time is fixed, so dates are exact.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import NamedTuple

from cryptography.hazmat.primitives.serialization import Encoding
from pki import Issued, issue, new_key

from check_tls_mail.checks.protocol import OptionalCheck
from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.net.dialects import PROTOCOLS
from check_tls_mail.net.transport import Address
from check_tls_mail.plugin.check import build, run_and_render
from check_tls_mail.plugin.thresholds import ExpiryThreshold
from check_tls_mail.probe.handshake import Target
from check_tls_mail.probe.outcome import Accepted, HandshakeCause, HandshakeOutcome, Rejected
from check_tls_mail.probe.plan import DEFAULT_PROBE, ProbeKey, ProbePlan, Purpose
from check_tls_mail.probe.report import AddressReport, HostReport
from check_tls_mail.tls.alerts import Alert
from check_tls_mail.tls.versions import TlsVersion
from check_tls_mail.x509.certificate import Certificate
from check_tls_mail.x509.keys import KeyType
from check_tls_mail.x509.parse import read
from check_tls_mail.x509.store import TrustAnchors

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
NAME = "mail.example.test"
REFUSED = Rejected(HandshakeCause.ALERT, Alert.handshake_failure, 0.01)
ECDSA_OK = "ECDSA P-256 certificate valid 60.0 days (until 2027-01-28 12:00 UTC, warning at 18 days)"
RSA_OK = "RSA 2048 certificate valid 60.0 days (until 2027-01-28 12:00 UTC, warning at 18 days)"
PERF_60 = "60.00;18:;9:;;90"
#: lifetime_used of a 90-day certificate with 60 days left, -w 20% -c 10%: one per address, the nearest its end.
USED_60 = "lifetime_used=33.33%;80;90;0;100"
HANDSHAKE = "handshake_time=0.01s;;;0"


class World:
    """A root and intermediate at fixed dates, and leaves on demand; the root is the only trust anchor."""

    def __init__(self, name: str = "Status") -> None:
        self.keys = {"ECDSA": new_key("ECDSA"), "RSA": new_key("RSA")}
        self.root = issue(f"{name} Root CA", new_key("ECDSA"), None, NOW - 400 * DAY, NOW + 3650 * DAY, ca=True)
        self.intermediate = self.sub_ca(f"{name} Intermediate CA", 1000)
        self.anchors = TrustAnchors([self.root.cert.public_bytes(Encoding.DER)], "--ca-file root.pem")

    def sub_ca(self, name: str, days_left: float, issuer: Issued | None = None) -> Issued:
        return issue(name, new_key("ECDSA"), issuer or self.root, NOW - 300 * DAY, NOW + days_left * DAY, ca=True)

    def leaf(
        self,
        key_type: str = "ECDSA",
        names: tuple[str, ...] = (NAME,),
        days_left: float = 60,
        issuer: Issued | None = None,
        lifetime: float = 90,
    ) -> Issued:
        not_after = NOW + days_left * DAY
        return issue(
            names[0],
            self.keys[key_type],
            issuer or self.intermediate,
            not_after - lifetime * DAY,
            not_after,
            ca=False,
            names=names,
        )


def certificate(issued: Issued) -> Certificate:
    """The certificate as the check reads it."""
    return read(issued.cert.public_bytes(Encoding.DER))


def chain_of(leaf: Issued) -> tuple[bytes, ...]:
    """``leaf`` and its intermediates (DER), as a server sends them."""
    chain = [leaf.cert]
    node = leaf.issuer
    while node is not None and node.issuer is not None:
        chain.append(node.cert)
        node = node.issuer
    return tuple(c.public_bytes(Encoding.DER) for c in chain)


def served(leaf: Issued, version: TlsVersion = TlsVersion.TLS1_3, cipher: str = "TLS_AES_256_GCM_SHA384") -> Accepted:
    """The server completed a handshake and sent ``leaf`` with its intermediates."""
    der = chain_of(leaf)
    return Accepted(version, cipher, der, len(der), 0.01)


def plan(protocol: str = "imaps", clients: tuple[str, ...] = ()) -> ProbePlan:
    dialect = PROTOCOLS[protocol]
    profiles = catalogue().profiles
    return ProbePlan(
        host=NAME,
        port=dialect.default_port,
        dialect=dialect,
        family=socket.AF_UNSPEC,
        servername=NAME,
        clients=tuple(profiles[name] for name in clients),
        ciphers=(),
        parallel=12,
        seconds=9,
    )


def at(
    probes: ProbePlan,
    ip: str,
    default: HandshakeOutcome,
    ecdsa: HandshakeOutcome = REFUSED,
    rsa: HandshakeOutcome = REFUSED,
    clients: Mapping[str, HandshakeOutcome] | None = None,
) -> AddressReport:
    """What the probes of ``probes`` measured at ``ip``."""
    target = Target(probes.host, probes.port, probes.dialect, Address(socket.AF_INET, (ip, probes.port)), NAME)
    outcomes: dict[ProbeKey, HandshakeOutcome] = {
        DEFAULT_PROBE: default,
        ProbeKey(Purpose.KEY_TYPE, KeyType.ECDSA): ecdsa,
        ProbeKey(Purpose.KEY_TYPE, KeyType.RSA): rsa,
    }
    outcomes.update({ProbeKey(Purpose.CLIENT, name): outcome for name, outcome in (clients or {}).items()})
    return AddressReport(target, MappingProxyType(outcomes))


def single(world: World, leaf: Issued, probes: ProbePlan | None = None, ip: str = "127.0.0.1") -> AddressReport:
    """A server with one certificate, ``leaf``."""
    return at(probes or plan(), ip, served(leaf), ecdsa=served(leaf, TlsVersion.TLS1_2))


def dual(world: World, rsa: Issued, ip: str = "127.0.0.1", probes: ProbePlan | None = None) -> AddressReport:
    """A dual-certificate server: ECDSA by default, ``rsa`` to RSA-only TLS 1.2 offers."""
    ecdsa = world.leaf()
    probes = probes or plan()
    return at(probes, ip, served(ecdsa), ecdsa=served(ecdsa, TlsVersion.TLS1_2), rsa=served(rsa, TlsVersion.TLS1_2))


class Judged(NamedTuple):
    code: int
    output: str

    @property
    def first_line(self) -> str:
        return self.output.split("\n", 1)[0]

    @property
    def lines(self) -> list[str]:
        return self.output.rstrip("\n").split("\n")


def judged(
    world: World,
    probes: ProbePlan,
    *addresses: AddressReport,
    extras: Sequence[OptionalCheck] = (),
    measured: Mapping[str, object] | None = None,
    verify: bool = True,
    verbosity: int = 0,
    warning: str = "20%",
    critical: str = "10%",
    now: datetime = NOW,
) -> Judged:
    """The output for these reports: the optional checks ``extras`` with what their lookups ``measured``."""
    report = HostReport(probes, None, addresses, len(addresses), 0.05, MappingProxyType(dict(measured or {})))
    check = build(
        collect=lambda: report,
        anchors=world.anchors if verify else None,
        name_to_check=NAME,
        warning=ExpiryThreshold.parse(warning, "-w"),
        critical=ExpiryThreshold.parse(critical, "-c"),
        min_tls=None,
        require_tls=(),
        verbosity=verbosity,
        clock=lambda: now,
        extras=extras,
    )
    result = Judged(*run_and_render(check))
    # Our own words never put a ";" in the first line: Nagios 4 turns it into ":" (status.dat, alerts).
    assert ";" not in result.first_line.split(" | ")[0], result.first_line
    return result
