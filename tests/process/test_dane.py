"""DANE TLSA and every address, against real DNS: Knot signs the zone, Unbound validates it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from dnsservers import ZONE, KnotInstance, UnboundInstance
from fakeserver import MailServer, TlsConfig, servers_at
from loopback import silent_udp
from pki import DAY, NOW, Certs, Key, Pki, issue, new_key
from runs import Run, check, require


def spki_sha256(public_key: object) -> str:
    return hashlib.sha256(public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).hexdigest()  # type: ignore[attr-defined]


class Dns:
    def __init__(
        self, port: int, knot: KnotInstance, unbound: UnboundInstance, pki: Pki, served: str = "", next_key: Key = None
    ) -> None:
        self.port, self.knot, self.unbound, self.pki = port, knot, unbound, pki
        self.served = served  # the SHA-256 of the served leaf's SubjectPublicKeyInfo, in hex
        self.next_key = next_key  # the key of the rollover zone's second record (published, not served)

    def check(self, name: str, *extra: str, validating: bool = True, clients: tuple[str, ...] = ("none",)) -> Run:
        server = self.unbound if validating else self.knot
        return check(
            "-H",
            f"{name}.{ZONE}",
            "-P",
            "smtp",
            "-p",
            str(self.port),
            "--ca-file",
            self.pki.root_file,
            "--dns-server",
            f"127.0.0.1:{server.ports['dns']}",
            *[flag for client in clients for flag in ("--client", client)],
            *extra,
        )


@pytest.fixture(scope="module")
def dns(pki: Pki, certs: Certs) -> Iterator[Dns]:
    require("knotd", "keymgr", "unbound")
    leaf = pki.leaf(names=(f"*.{ZONE}",), key_type="ECDSA")
    chain = leaf.write(pki.directory, "dane-leaf")
    served = spki_sha256(leaf.cert.public_key())
    next_private = new_key("ECDSA")
    next_key = spki_sha256(next_private.public_key())
    intermediate = hashlib.sha256(pki.intermediate.cert.public_bytes(Encoding.DER)).hexdigest()
    stale = pki.leaf(names=(f"*.{ZONE}",), key_type="ECDSA", days_left=5).write(pki.directory, "dane-stale")
    with ExitStack() as stack:
        # one port on 127.0.0.1, 127.0.0.2 and ::1, which serves a stale certificate
        configs = [TlsConfig([chain]), TlsConfig([chain]), TlsConfig([stale])]
        port = stack.enter_context(servers_at("smtp", configs, hosts=["127.0.0.1", "127.0.0.2", "::1"]))
        tlsa = f"_{port}._tcp"
        knot = KnotInstance(
            [
                "match A 127.0.0.1",
                f"{tlsa}.match TLSA 3 1 1 {served}",
                "mismatch A 127.0.0.1",
                f"{tlsa}.mismatch TLSA 3 1 1 {next_key}",
                "rollover A 127.0.0.1",
                f"{tlsa}.rollover TLSA 3 1 1 {served}",
                f"{tlsa}.rollover TLSA 3 1 1 {next_key}",
                "ta A 127.0.0.1",
                f"{tlsa}.ta TLSA 2 0 1 {intermediate}",
                "pkix A 127.0.0.1",
                f"{tlsa}.pkix TLSA 1 1 1 {served}",
                "plain A 127.0.0.1",
                "multi A 127.0.0.1",
                "multi A 127.0.0.2",
                "dual-stack A 127.0.0.1",
                "dual-stack AAAA ::1",
            ]
        )
        knot.start()
        stack.callback(knot.stop)
        unbound = UnboundInstance(knot)
        unbound.start()
        stack.callback(unbound.stop)
        yield Dns(port, knot, unbound, pki, served, next_private)


def test_matching_tlsa_is_ok_and_said(dns: Dns) -> None:
    run = dns.check("match")
    assert run.code == 0, run.stdout
    assert f"DANE: TLSA at _{dns.port}._tcp.match.{ZONE} matches" in run.summary


def test_tlsa_for_another_key_is_critical(dns: Dns) -> None:
    run = dns.check("mismatch")
    assert run.code == 2, run.stdout
    assert (
        f"TLSA records at _{dns.port}._tcp.mismatch.{ZONE} do not match the served certificate: DANE senders "
        f"would refuse to deliver: publish _{dns.port}._tcp.mismatch.{ZONE}. IN TLSA 3 1 1 {dns.served} or serve "
        "the certificate the records name"
    ) in run.summary


def test_rollover_record_beside_the_served_key_is_fine(dns: Dns) -> None:
    run = dns.check("rollover", "-v")
    assert run.code == 0, run.stdout
    assert "2 TLSA record(s)" in run.stdout and "DNSSEC-validated by 127.0.0.1" in run.stdout
    assert "matches the served chain" in run.stdout
    assert "not served now (a rollover record for the next key?)" in run.stdout


def test_dane_ta_record_matches_the_intermediate(dns: Dns) -> None:
    run = dns.check("ta")
    assert run.code == 0, run.stdout


def test_unvalidated_records_are_a_warning(dns: Dns) -> None:
    run = dns.check("match", validating=False)
    assert run.code == 1, run.stdout
    assert "are not DNSSEC-validated" in run.summary and "DANE senders ignore them" in run.summary


def test_only_pkix_usages_are_not_usable_for_smtp(dns: Dns) -> None:
    run = dns.check("pkix")
    assert run.code == 1, run.stdout
    assert "no usable TLSA records" in run.summary


def test_no_records_is_fine_by_default_and_critical_with_dane(dns: Dns) -> None:
    default = dns.check("plain")
    required = dns.check("plain", "--dane")
    assert default.code == 0 and "DANE" not in default.summary, default.stdout
    assert required.code == 2 and f"DANE: no TLSA records at _{dns.port}._tcp.plain.{ZONE}" in required.summary


def test_no_dane_skips_the_lookup(dns: Dns) -> None:
    run = dns.check("mismatch", "--no-dane")
    assert run.code == 0, run.stdout


def test_every_address_from_dns_is_probed(dns: Dns) -> None:
    run = dns.check("multi")
    assert run.code == 0, run.stdout
    assert "at 2 addresses (127.0.0.1, 127.0.0.2)" in run.summary
    assert "days_remaining@127.0.0.2" in run.perfdata


def test_a_stale_certificate_on_the_ipv6_address_is_named(dns: Dns) -> None:
    run = dns.check("dual-stack")
    assert run.code == 2, run.stdout
    assert f"dual-stack.{ZONE}:{dns.port} smtp: ::1: certificate expires in 5.0 days" in run.summary
    assert run.summary.endswith(" / 127.0.0.1: OK")
    assert run.value("days_remaining@::1") == pytest.approx(5, abs=0.02)


def test_address_family_options_restrict_the_addresses(dns: Dns) -> None:
    v4 = dns.check("dual-stack", "-4")
    v6 = dns.check("dual-stack", "-6")
    assert v4.code == 0 and "days_remaining" in v4.perfdata, v4.stdout
    assert v6.code == 2 and "certificate expires in 5.0 days" in v6.summary, v6.stdout
    assert "::1:" not in v6.summary  # one address left: no address prefix


def test_unreachable_resolver_with_dane_is_critical(dns: Dns) -> None:
    run = check(
        "-H",
        f"match.{ZONE}",
        "--address",
        "127.0.0.1",
        "-P",
        "smtp",
        "-p",
        str(dns.port),
        "--ca-file",
        dns.pki.root_file,
        "--client",
        "none",
        "--dane",
        "--dns-server",
        "127.0.0.1:9",
        "-t",
        "4",
    )
    assert run.code == 2, run.stdout
    assert "DANE: TLSA lookup of" in run.summary


@pytest.fixture
def silent_resolver() -> Iterator[str]:
    """A DNS server address that receives queries and never answers."""
    with silent_udp() as (address, port):
        yield f"{address}:{port}"


def test_dane_with_a_resolver_that_never_answers_is_critical(silent_resolver: str, pki: Pki, certs: Certs) -> None:
    with MailServer.speaking("smtp", TlsConfig([certs.ecdsa])) as server:
        run = check(
            "-H",
            "mail.example.test",
            "--address",
            "127.0.0.1",
            "-P",
            "smtp",
            "-p",
            str(server.port),
            "--ca-file",
            pki.root_file,
            "--client",
            "none",
            "--dane",
            "--dns-server",
            silent_resolver,
            "-t",
            "3",
        )
    assert run.code == 2, run.stdout
    tlsa = f"_{server.port}._tcp.mail.example.test"
    assert run.summary.startswith(f"TLS_MAIL CRITICAL - mail.example.test:{server.port} smtp: DANE: "), run.stdout
    assert f"the TLSA lookup of {tlsa} did not finish in time" in run.summary or (
        f"TLSA lookup of {tlsa} timed out ({silent_resolver})" in run.summary
    ), run.stdout


# --- DANE before the reload: the renewed certificate on disk (--expect-cert) against the published records ------


def renewed(dns: Dns, key: Key, stem: str) -> str:
    """A renewed certificate for the zone's names with ``key``, written as an ACME client's fullchain.pem."""
    leaf = issue(f"*.{ZONE}", key, dns.pki.intermediate, NOW - DAY, NOW + 89 * DAY, False, names=(f"*.{ZONE}",))
    return leaf.write(dns.pki.directory, stem)[0]


def test_a_renewed_key_without_a_tlsa_record_warns_before_the_reload_with_the_record_to_publish(dns: Dns) -> None:
    key = new_key("ECDSA")
    path = renewed(dns, key, "renewed-new-key")
    run = dns.check("match", "--expect-cert", path)
    assert run.code == 1, run.stdout
    record = f"_{dns.port}._tcp.match.{ZONE}. IN TLSA 3 1 1 {spki_sha256(key.public_key())}"
    assert (
        f"the renewed certificate in {path} has no TLSA record yet: publish {record} before reloading, or DANE "
        "senders will refuse mail"
    ) in run.summary, run.stdout
    assert run.summary.split(": ", 1)[1].startswith("the renewed certificate in ")  # before "reload the service"
    assert "holds the renewed one" in run.stdout  # the renewal check's own words stay


def test_a_renewed_key_published_as_the_next_key_is_fine_and_said_with_v(dns: Dns) -> None:
    path = renewed(dns, dns.next_key, "renewed-next-key")
    run = dns.check("rollover", "--expect-cert", path, "-v")
    assert run.code == 1, run.stdout  # WARNING: the server still serves the old certificate (reload)
    assert "no TLSA record yet" not in run.stdout, run.stdout
    assert f"DANE: the renewed certificate in {path} is published already (TLSA 3 1 1 " in run.stdout


def test_a_renewal_that_reuses_the_key_needs_no_new_record(dns: Dns) -> None:
    same = dns.pki.leaf(names=(f"*.{ZONE}",), key_type="ECDSA", days_left=89).write(dns.pki.directory, "reused")[0]
    run = dns.check("match", "--expect-cert", same)
    assert run.code == 1 and "no TLSA record yet" not in run.stdout, run.stdout


def test_who_would_refuse_to_deliver_comes_from_the_sending_mtas_own_policies(dns: Dns) -> None:
    """Issue #24 part 3: the default MTA set of -P smtp with their delivery policies (profiles.json "delivery",
    with sources): Exim checks DANE by default (hosts_try_dane = *), Postfix where smtp_tls_security_level =
    dane, sendmail with its DANE option, a generic OpenSSL relay not at all; Microsoft 365 validates DANE, Gmail
    does not."""
    default = dns.check("mismatch", clients=())
    assert default.code == 2, default.stdout
    assert (
        "do not match the served certificate: Exim (GnuTLS), and Postfix MTA and sendmail 8.18 where DANE is set up, "
        "would refuse to deliver (MTA on OpenSSL 1.0.2 would deliver): publish "
    ) in default.summary, default.stdout
    providers = dns.check("mismatch", clients=("microsoft-365", "gmail"))
    assert (
        "do not match the served certificate: Microsoft 365 would refuse to deliver (Gmail would deliver): publish "
    ) in providers.summary, providers.stdout
