"""Status lines from probe reports: reports built here go through the assessment and the check, whole line asserted.

In the style of check_patroni's tests: the exact first line, perfdata included,
for every judgement (trust, name, expiry, an intermediate's expiry, not yet
valid, DANE) on the *second* certificate of a dual RSA+ECDSA server and on the
*second* address of a name, where naming the wrong subject goes unnoticed
otherwise. Time is fixed, so dates are exact.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pki import Issued
from seam import ECDSA_OK, NAME, PERF_60, REFUSED, RSA_OK, USED_60, World, at, dual, judged, plan, served

from check_tls_mail.checks.dane.check import Dane
from check_tls_mail.checks.dane.lookup import TlsaState, TlsaStatus
from check_tls_mail.errors import ResolveError
from check_tls_mail.net.resolver import TlsaAnswer, TlsaRecord
from check_tls_mail.probe.outcome import Accepted
from check_tls_mail.probe.plan import ProbePlan
from check_tls_mail.probe.report import AddressReport
from check_tls_mail.tls.versions import TlsVersion


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def status(
    world: World,
    probes: ProbePlan,
    *addresses: AddressReport,
    tlsa: TlsaState | None = None,
    dane: bool = False,
    verify: bool = True,
) -> tuple[int, str]:
    """The first line; with ``tlsa``, DANE's lookup answered so (required with ``dane``)."""
    extras = (Dane(f"_25._tcp.{NAME}", dane),) if tlsa is not None else ()
    result = judged(world, probes, *addresses, extras=extras, measured={"dane": tlsa}, verify=verify)
    return result.code, result.first_line


def test_both_certificates_fine(world: World) -> None:
    code, line = status(world, plan(), dual(world, world.leaf("RSA")))
    assert code == 0
    assert line == (
        f"TLS_MAIL OK - {NAME}:993 imaps implicit TLS, TLS 1.3, {ECDSA_OK} and {RSA_OK} | "
        f"days_remaining={PERF_60} days_remaining_rsa={PERF_60} handshake_time=0.01s;;;0 {USED_60}"
    )


def test_name_mismatch_on_the_second_certificate_names_it(world: World) -> None:
    code, line = status(world, plan(), dual(world, world.leaf("RSA", names=("other.example",))))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: RSA certificate: name mismatch: certificate is for other.example, "
        f"not {NAME} | days_remaining={PERF_60} days_remaining_rsa={PERF_60} handshake_time=0.01s;;;0 {USED_60}"
    )


def test_untrusted_second_certificate_names_it(world: World) -> None:
    stranger = World("Stranger")
    code, line = status(world, plan(), dual(world, stranger.leaf("RSA")))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: RSA certificate: untrusted chain: issuer Stranger Root CA is not "
        f"in --ca-file root.pem | days_remaining={PERF_60} days_remaining_rsa={PERF_60} handshake_time=0.01s;;;0 "
        f"{USED_60}"
    )


def test_second_certificate_expiring_is_a_warning_naming_it(world: World) -> None:
    code, line = status(world, plan(), dual(world, world.leaf("RSA", days_left=15)))
    assert code == 1
    assert line == (
        f"TLS_MAIL WARNING - {NAME}:993 imaps: RSA certificate expires in 15.0 days (2026-12-14 12:00 UTC), "
        "below 18 days (20% of its 90-day lifetime) | "
        f"days_remaining={PERF_60} days_remaining_rsa=15.00;18:;9:;;90 handshake_time=0.01s;;;0 "
        "lifetime_used=83.33%;80;90;0;100"
    )


def test_intermediate_of_the_second_certificate_expiring_first(world: World) -> None:
    short = world.sub_ca("Short Intermediate", 4)
    code, line = status(world, plan(), dual(world, world.leaf("RSA", days_left=80, issuer=short)))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: intermediate Short Intermediate (before the RSA certificate) "
        "expires in 4.0 days (2026-12-03 12:00 UTC), below 9 days (10% of its 90-day lifetime) | "
        f"days_chain_rsa=4.00;18:;9:;;90 days_remaining={PERF_60} days_remaining_rsa=80.00;18:;9:;;90 "
        f"handshake_time=0.01s;;;0 {USED_60}"
    )


def test_second_certificate_not_yet_valid(world: World) -> None:
    code, line = status(world, plan(), dual(world, world.leaf("RSA", days_left=120)))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: RSA certificate: certificate not valid before 2026-12-29 12:00 UTC "
        f"(in 30.0 days) | days_remaining={PERF_60} days_remaining_rsa=120.00;18:;9:;;90 "
        f"handshake_time=0.01s;;;0 {USED_60}"
    )


def _spki_sha256(leaf: Issued) -> str:
    return hashlib.sha256(
        leaf.cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    ).hexdigest()


def _tlsa_for(leaf: Issued, validated: bool = True) -> TlsaState:
    spki = leaf.cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    name = f"_25._tcp.{NAME}"
    answer = TlsaAnswer(name, (TlsaRecord(3, 1, 1, hashlib.sha256(spki).digest()),), validated, "127.0.0.1:53")
    return TlsaState(TlsaStatus.ANSWERED, name, answer=answer)


def test_dane_mismatch_on_the_second_certificate_names_it(world: World) -> None:
    probes = plan("smtp")
    rsa = world.leaf("RSA")
    code, line = status(world, probes, dual(world, rsa, probes=probes), tlsa=_tlsa_for(world.leaf()))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:25 smtp: RSA certificate: no TLSA record at _25._tcp.{NAME} covers it (they "
        "match the other certificate): DANE senders would refuse to deliver when they get it: publish "
        f"_25._tcp.{NAME}. IN TLSA 3 1 1 {_spki_sha256(rsa)} or stop serving it | "
        f"days_remaining={PERF_60} days_remaining_rsa={PERF_60} handshake_time=0.01s;;;0 {USED_60}"
    )


def two(world: World, second: AddressReport, probes: ProbePlan | None = None) -> tuple[AddressReport, AddressReport]:
    probes = probes or plan()
    good = world.leaf()
    return at(probes, "127.0.0.1", served(good), ecdsa=served(good, TlsVersion.TLS1_2)), second


def perf2(second: str = PERF_60, used: str = "33.33") -> str:
    return (
        f"'days_remaining@127.0.0.1'={PERF_60} 'days_remaining@127.0.0.2'={second} "
        "'handshake_time@127.0.0.1'=0.01s;;;0 'handshake_time@127.0.0.2'=0.01s;;;0 "
        f"'lifetime_used@127.0.0.1'=33.33%;80;90;0;100 'lifetime_used@127.0.0.2'={used}%;80;90;0;100"
    )


def test_name_mismatch_on_the_second_address_names_it(world: World) -> None:
    other = world.leaf(names=("other.example",))
    code, line = status(world, plan(), *two(world, at(plan(), "127.0.0.2", served(other))))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: 127.0.0.2: name mismatch: certificate is for other.example, "
        f"not {NAME} / 127.0.0.1: OK | {perf2()}"
    )


def test_untrusted_chain_on_the_second_address_names_it(world: World) -> None:
    stranger = World("Stranger").leaf()
    code, line = status(world, plan(), *two(world, at(plan(), "127.0.0.2", served(stranger))))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: 127.0.0.2: untrusted chain: issuer Stranger Root CA is not in "
        f"--ca-file root.pem / 127.0.0.1: OK | {perf2()}"
    )


def test_expiry_on_the_second_address_names_it(world: World) -> None:
    stale = world.leaf(days_left=5)
    code, line = status(world, plan(), *two(world, at(plan(), "127.0.0.2", served(stale))))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: 127.0.0.2: certificate expires in 5.0 days (2026-12-04 12:00 UTC), "
        f"below 9 days (10% of its 90-day lifetime) / 127.0.0.1: OK | {perf2('5.00;18:;9:;;90', '94.44')}"
    )


def test_intermediate_expiry_on_the_second_address_names_it(world: World) -> None:
    short = world.sub_ca("Short Intermediate", 4)
    leaf = world.leaf(days_left=80, issuer=short)
    code, line = status(world, plan(), *two(world, at(plan(), "127.0.0.2", served(leaf))))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: 127.0.0.2: intermediate Short Intermediate (before the certificate) "
        "expires in 4.0 days (2026-12-03 12:00 UTC), below 9 days (10% of its 90-day lifetime) / 127.0.0.1: OK | "
        f"'days_chain@127.0.0.2'=4.00;18:;9:;;90 {perf2('80.00;18:;9:;;90', '11.11')}"
    )


def test_second_certificate_on_the_second_address_names_both(world: World) -> None:
    second = dual(world, world.leaf("RSA", names=("other.example",)), ip="127.0.0.2")
    code, line = status(world, plan(), *two(world, second))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: 127.0.0.2: RSA certificate: name mismatch: certificate is for "
        f"other.example, not {NAME} / 127.0.0.1: OK | 'days_remaining@127.0.0.1'={PERF_60} "
        f"'days_remaining@127.0.0.2'={PERF_60} 'days_remaining_rsa@127.0.0.2'={PERF_60} "
        "'handshake_time@127.0.0.1'=0.01s;;;0 'handshake_time@127.0.0.2'=0.01s;;;0 "
        "'lifetime_used@127.0.0.1'=33.33%;80;90;0;100 'lifetime_used@127.0.0.2'=33.33%;80;90;0;100"
    )


def test_dane_mismatch_on_the_second_address_names_it(world: World) -> None:
    probes = plan("smtp")
    good = world.leaf()
    stale_key = world.leaf("RSA")  # another key: the TLSA record pins the ECDSA one
    first = at(probes, "127.0.0.1", served(good), ecdsa=served(good, TlsVersion.TLS1_2))
    second = at(probes, "127.0.0.2", served(stale_key))
    code, line = status(world, probes, first, second, tlsa=_tlsa_for(good))
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:25 smtp: 127.0.0.2: TLSA records at _25._tcp.{NAME} do not match the served "
        f"certificate: DANE senders would refuse to deliver: publish _25._tcp.{NAME}. IN TLSA 3 1 1 "
        f"{_spki_sha256(stale_key)} or serve the certificate the records name | {perf2()}"
    )


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (TlsaState(TlsaStatus.NOT_FINISHED, f"_25._tcp.{NAME}"), f"the TLSA lookup of _25._tcp.{NAME} did not finish"),
        (
            TlsaState(TlsaStatus.FAILED, f"_25._tcp.{NAME}", error=ResolveError("TLSA lookup of x timed out")),
            "TLSA lookup of x timed out",
        ),
    ],
)
def test_dane_without_an_answer_is_critical_only_when_required(world: World, state: TlsaState, words: str) -> None:
    probes = plan("smtp")
    leaf = world.leaf()
    address = at(probes, "127.0.0.1", served(leaf), ecdsa=served(leaf, TlsVersion.TLS1_2))
    required, required_line = status(world, probes, address, tlsa=state, dane=True)
    optional, _ = status(world, probes, address, tlsa=state)
    assert required == 2 and optional == 0
    assert required_line.startswith(f"TLS_MAIL CRITICAL - {NAME}:25 smtp: DANE: {words}")


def test_incident_clients_are_grouped_with_the_diagnosis(world: World) -> None:
    probes = plan(clients=("apple-mail", "thunderbird"))
    leaf = world.leaf()
    address = at(probes, "127.0.0.1", served(leaf), clients={"apple-mail": REFUSED, "thunderbird": served(leaf)})
    code, line = status(world, probes, address)
    assert code == 2
    assert line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: Apple Mail cannot connect over TLS 1.2: the certificate is ECDSA "
        "and the server accepts no ECDSA suite over TLS 1.2: add ECDHE-ECDSA suites to the server's TLS 1.2 cipher "
        f"list / {ECDSA_OK} | clients_ok=1;;2:;0;2 days_remaining={PERF_60} handshake_time=0.01s;;;0 "
        f"{USED_60} probes_time=0.05s;;;0"
    )


def test_unreadable_certificate_on_the_second_address_is_named(world: World) -> None:
    broken = Accepted(TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384", (b"\x30\x03\x02\x01\x00",), 1, 0.01)
    code, line = status(world, plan(), *two(world, at(plan(), "127.0.0.2", broken)))
    assert code == 2
    assert line.startswith(f"TLS_MAIL CRITICAL - {NAME}:993 imaps: 127.0.0.2: server sent a certificate that cannot")
    assert line.split(" | ")[0].endswith(" / 127.0.0.1: OK")
