"""The first handshake's large ClientHello dropped by a middlebox, and the small hello made after it, in process.

On OpenSSL 3.5 the widest offer's hello is about 1.7 KB (an X25519MLKEM768 hybrid key share), and a middlebox
that drops hellos spanning two TCP segments drops it; the check then makes the same offer with one key exchange
group (P-256), fetches the certificates with that, and says that large hellos are dropped. Here on any OpenSSL:
the small hello's bytes, the hello size each full handshake measures against what a ``fakeserver.HelloGate``
sees, the wait for a large hello that gets no answer, ``main()`` against a gated server with the widest offer's
hello made large by ALPN names (a stand-in for the hybrid share: OpenSSL 3.0 sends none), and the words of
reports built here. tests/process/test_large_hello.py runs the CLI with OpenSSL 3.5's own hello.
"""

from __future__ import annotations

import socket
import ssl
import time
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import pytest
from cryptography import x509
from fakeserver import HelloGate, MailServer, TlsConfig, gated
from hellos import NAME, key_shares_of, parse_hello, sent_hello
from lines import assert_line, utcnow, validity
from pki import Certs, Issued, Pki
from runs import Run
from seam import ECDSA_OK, PERF_60, USED_60, World, at, judged, plan, served

from check_tls_mail.clients.offer import PRIMARY, ClientOffer
from check_tls_mail.errors import ServerTimeout
from check_tls_mail.net.dialects import PROTOCOLS
from check_tls_mail.net.transport import Address, Deadline
from check_tls_mail.probe import run as probe_run
from check_tls_mail.probe.handshake import LIBRARY, Target, context_for, probe, small_context_for
from check_tls_mail.probe.outcome import (
    LARGE_HELLO,
    Accepted,
    Failed,
    HandshakeCause,
    HandshakeOutcome,
    Rejected,
    large_hello_dropped,
)
from check_tls_mail.probe.plan import DEFAULT_PROBE, ProbePlan
from check_tls_mail.probe.report import AddressReport, SmallHello
from check_tls_mail.tls.versions import TlsVersion

WHY = "a middlebox or the server drops large ClientHellos (a post-quantum key share makes them span two TCP segments)"
SUPPORTED_GROUPS, SUPPORTED_VERSIONS = 10, 43
P256 = 0x0017


def large_context(offer: ClientOffer) -> ssl.SSLContext:
    """``context_for``, with a TLS 1.3 offer's hello made large on any OpenSSL, as OpenSSL 3.5's hybrid key share
    makes it: ALPN names (1.2 KB) that no server here reads. A TLS 1.2 offer's hello stays as it was."""
    ctx = context_for(offer)
    if offer.max_version >= TlsVersion.TLS1_3:
        ctx.set_alpn_protocols([f"pad{n}-" + "x" * 240 for n in range(5)])
    return ctx


def target_of(server: MailServer, protocol: str = "imaps") -> Target:
    address = Address(socket.AF_INET, ("127.0.0.1", server.port))
    return Target("127.0.0.1", server.port, PROTOCOLS[protocol], address, NAME)


# --- the small hello and the sizes measured ---


def test_the_small_hello_offers_p256_alone_and_fits_one_segment_with_the_widest_offers_versions_and_suites() -> None:
    records = sent_hello(small_context_for(PRIMARY))
    wide, small = parse_hello(sent_hello(context_for(PRIMARY))), parse_hello(records)
    assert small.ext(SUPPORTED_GROUPS)[2:] == P256.to_bytes(2, "big")
    assert [share.group for share in key_shares_of(small)] == [P256]
    assert small.suites == wide.suites and small.ext(SUPPORTED_VERSIONS) == wide.ext(SUPPORTED_VERSIONS)
    assert len(records) <= LARGE_HELLO


def test_each_full_handshake_measures_its_hello_as_the_middlebox_sees_it(certs: Certs) -> None:
    handler, gate = gated("imaps", TlsConfig([certs.ecdsa]), 2**14, "reset")  # stops nothing, sees every hello
    contexts = [context_for(PRIMARY), small_context_for(PRIMARY), large_context(PRIMARY)]
    with MailServer(handler) as server:
        outcomes = [probe(target_of(server), PRIMARY, ctx, Deadline(10)) for ctx in contexts]
    assert all(isinstance(o, Accepted) for o in outcomes), outcomes
    assert [o.hello for o in outcomes] == gate.sizes
    assert gate.sizes[1] <= LARGE_HELLO < gate.sizes[2]


# --- a large hello dropped: how the full handshake ends ---


def test_a_large_hello_reset_is_a_large_hellos_drop_and_a_small_one_goes_through(certs: Certs) -> None:
    handler, gate = gated("imaps", TlsConfig([certs.ecdsa]), LARGE_HELLO, "reset")
    with MailServer(handler) as server:
        large = probe(target_of(server), PRIMARY, large_context(PRIMARY), Deadline(10))
        small = probe(target_of(server), PRIMARY, small_context_for(PRIMARY), Deadline(10))
    assert isinstance(large, Rejected) and large.cause is HandshakeCause.RESET and large.hello == gate.stopped[0]
    assert large_hello_dropped(large)
    assert isinstance(small, Accepted) and not large_hello_dropped(small)


def test_a_large_hello_that_gets_no_answer_is_given_up_at_half_the_time_left(certs: Certs) -> None:
    """A middlebox holds it: the full handshake stops waiting with half the time left, for the small hello."""
    handler, gate = gated("imaps", TlsConfig([certs.ecdsa]), LARGE_HELLO, "stall")
    deadline = Deadline(4)
    with MailServer(handler) as server:
        outcome = probe(target_of(server), PRIMARY, large_context(PRIMARY), deadline)
        left = deadline.remaining()
    assert isinstance(outcome, Failed) and isinstance(outcome.error, ServerTimeout), outcome
    assert str(outcome.error).startswith("no answer to the ClientHello within ")
    assert outcome.hello == gate.stopped[0] and large_hello_dropped(outcome)
    assert left > 0  # given up before the deadline: time for the small hello


def test_a_small_hello_answered_late_is_waited_for_to_the_deadline(certs: Certs) -> None:
    """Only a large hello is given up: a small one's answer after half the time still completes the handshake."""
    ctx = TlsConfig([certs.ecdsa]).context()

    def late(sock: socket.socket) -> None:
        time.sleep(2.4)  # past half of the 4 s: the hello went unanswered at the first wait
        with ctx.wrap_socket(sock, server_side=True) as tls:
            tls.recv(1)

    with MailServer(late) as server:
        outcome = probe(target_of(server), PRIMARY, small_context_for(PRIMARY), Deadline(4))
    assert isinstance(outcome, Accepted), outcome


# --- main() in process behind the gate: the whole run, on any OpenSSL ---


def run_gated(
    monkeypatch: pytest.MonkeyPatch, pki: Pki, certs: Certs, answer: str, *extra: str
) -> tuple[int, str, MailServer, HelloGate]:
    """main() against a smtp server behind a gate that stops large hellos, with the widest offer's hello large."""
    from check_tls_mail.cli.main import main

    monkeypatch.setattr(probe_run, "context_for", large_context)
    handler, gate = gated("smtp", TlsConfig([certs.ecdsa]), LARGE_HELLO, answer)
    with MailServer(handler) as server:
        args = ["-H", "127.0.0.1", "--servername", NAME, "-p", str(server.port), "-P", "smtp"]
        code, text = main([*args, "--ca-file", pki.root_file, "--client", "none", "-t", "6", *extra])
    return code, text, server, gate


@pytest.mark.parametrize(
    ("answer", "ending", "connections"),
    [
        # the wave's first handshake, three times alone after pauses, then the small hello; and the key types
        ("reset", "the connection is reset after", 7),
        # no answer within half the time: the small hello at once, without a retry
        ("stall", "the connection stalls after", 4),
    ],
)
def test_the_first_handshakes_large_hello_dropped_still_judges_the_certificate_and_says_why(
    monkeypatch: pytest.MonkeyPatch, pki: Pki, certs: Certs, answer: str, ending: str, connections: int
) -> None:
    before = utcnow()
    code, text, server, gate = run_gated(monkeypatch, pki, certs, answer, "-v")
    size, small = gate.stopped[0], gate.sizes[-1]
    through = max(seen for seen in gate.sizes if seen <= LARGE_HELLO)
    leaf = x509.load_pem_x509_certificates(Path(certs.ecdsa[0]).read_bytes())[0]
    stall = " (no answer in S s)" if answer == "stall" else ""

    def line(moment: datetime) -> str:
        served_words, days = validity(leaf, moment)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{server.port} smtp: {ending} the check's own {size / 1000:.1f} KB "
            f"{LIBRARY} ClientHello{stall}, while smaller hellos ({through} bytes and less) connect: {WHY} / "
            f"{served_words} | days_remaining={days} handshake_time=Ts;;;0 lifetime_used=U%;80;90;0;100"
        )

    assert code == 2, text
    assert_line(Run(code, text, "", 0.0), line, before)
    assert server.connections == connections and len(gate.sizes) == connections
    assert set(gate.stopped) == {size} and small <= LARGE_HELLO  # the last hello: the small one
    assert (
        f"\n  its {size}-byte ClientHello ({LIBRARY}) dropped, made again with a {small}-byte hello with one key "
        "share (P-256): accepted, TLS 1.3 "
    ) in text


def test_the_tls13_probes_large_hello_dropped_is_made_again_small_so_tls13_counts_as_accepted(
    monkeypatch: pytest.MonkeyPatch, pki: Pki, certs: Certs
) -> None:
    """--require-tls 1.3: the TLS 1.3-only probe's hello is large too; the server takes TLS 1.3 all the same."""
    code, text, _, gate = run_gated(monkeypatch, pki, certs, "reset", "--require-tls", "1.3", "-v")
    lines = text.splitlines()
    assert code == 2 and "check's own" in lines[0] and "TLS 1.3 (--require-tls)" not in text, text
    at = next(i for i, line in enumerate(lines) if line.startswith("TLS 1.3 only: "))
    assert lines[at].startswith("TLS 1.3 only: rejected: connection reset "), text
    assert lines[at + 1].startswith("  its ") and ": accepted, TLS 1.3 " in lines[at + 1], text
    assert len(gate.stopped) == 8  # the first handshake's and the TLS 1.3 probe's, each alone three times more


def test_a_server_that_answers_the_large_hello_sees_no_connection_more(
    monkeypatch: pytest.MonkeyPatch, pki: Pki, certs: Certs
) -> None:
    from check_tls_mail.cli.main import main

    monkeypatch.setattr(probe_run, "context_for", large_context)
    handler, gate = gated("smtp", TlsConfig([certs.ecdsa]), 2**14, "reset")
    with MailServer(handler) as server:
        args = ["-H", "127.0.0.1", "--servername", NAME, "-p", str(server.port), "-P", "smtp"]
        code, text = main([*args, "--ca-file", pki.root_file, "--client", "none", "-v"])
    assert code == 0, text
    assert server.connections == 3 and max(gate.sizes) > LARGE_HELLO  # the first handshake and the key types
    assert "made again" not in text


# --- the words, from reports built here ---


class Scene(NamedTuple):
    """A test PKI and the one certificate the server sends, whichever hello gets it."""

    world: World
    leaf: Issued


@pytest.fixture(scope="module")
def scene() -> Scene:
    world = World()
    return Scene(world, world.leaf())


RESET = Rejected(HandshakeCause.RESET, None, 0.01, hello=1678)
STALL = Failed(ServerTimeout("no answer to the ClientHello within 4.5 s"), 4.52, hello=1678)
OWN_RESET = (
    "the connection is reset after the check's own 1.7 KB OpenSSL 3.5 ClientHello, while smaller hellos (517 bytes "
    f"and less) connect: {WHY}"
)


def behind(
    scene: Scene,
    large: HandshakeOutcome,
    small: HandshakeOutcome | None = None,
    clients: dict[str, HandshakeOutcome] | None = None,
) -> tuple[ProbePlan, AddressReport]:
    """A server behind a middlebox: the first handshake's large hello ``large``, then the small one ``small`` (by
    default the certificate over TLS 1.3, 517 bytes), the key types' TLS 1.2 probes, the clients' hellos."""
    again = small if small is not None else served(scene.leaf)._replace(hello=517)
    probes = plan("imaps", tuple(clients or {}))
    first = again if isinstance(again, Accepted) else large
    report = at(probes, "127.0.0.1", first, ecdsa=served(scene.leaf, TlsVersion.TLS1_2), clients=clients)
    small_hello = SmallHello(large, again, "P-256", "OpenSSL 3.5")
    return probes, report._replace(small=MappingProxyType({DEFAULT_PROBE: small_hello}))


@pytest.mark.parametrize(
    ("large", "words"),
    [
        (RESET, OWN_RESET),
        (
            STALL,
            "the connection stalls after the check's own 1.7 KB OpenSSL 3.5 ClientHello (no answer in 4.5 s), while "
            f"smaller hellos (517 bytes and less) connect: {WHY}",
        ),
    ],
)
def test_the_words_of_the_first_handshakes_large_hello_and_the_certificate_of_the_small_one(
    scene: Scene, large: HandshakeOutcome, words: str
) -> None:
    result = judged(scene.world, *behind(scene, large))
    assert result.code == 2
    assert result.first_line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: {words} / {ECDSA_OK} | days_remaining={PERF_60} "
        f"handshake_time=0.01s;;;0 {USED_60}"
    )


def test_a_clients_own_large_hello_dropped_says_it_with_its_name_and_the_first_handshake_stays_quiet(
    scene: Scene,
) -> None:
    """Thunderbird's 1.9 KB hello is reset too: its words name it, and the first handshake's would repeat them."""
    thunderbird = Rejected(HandshakeCause.RESET, None, 0.01)
    clients = {"thunderbird": thunderbird, "outlook": served(scene.leaf)}
    result = judged(scene.world, *behind(scene, RESET, clients=clients))
    assert result.code == 2
    assert result.first_line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: Thunderbird cannot connect: the connection is reset after its 1.9 KB "
        f"ClientHello, while smaller hellos (275 bytes and less) connect: {WHY} / {ECDSA_OK} | clients_ok=1;;2:;0;2 "
        f"days_remaining={PERF_60} handshake_time=0.01s;;;0 {USED_60} probes_time=0.05s;;;0"
    )
    assert "check's own" not in result.output


def test_as_large_a_hello_through_leaves_the_size_unjudged_a_warning(scene: Scene) -> None:
    """Android's 1.7 KB hello got an answer: the first handshake's failures are not its size's."""
    result = judged(scene.world, *behind(scene, RESET, clients={"android": served(scene.leaf)}))
    assert result.code == 1
    assert result.first_line == (
        f"TLS_MAIL WARNING - {NAME}:993 imaps: the first handshake failed each time with its 1678-byte ClientHello "
        "(connection reset by the server during the handshake), then connected with a small one, while as large "
        f"hellos got through (a connection limit, or a flaky path?) / {ECDSA_OK} | clients_ok=1;;1:;0;1 "
        f"days_remaining={PERF_60} handshake_time=0.01s;;;0 {USED_60} probes_time=0.05s;;;0"
    )


def test_a_small_hello_that_fails_too_leaves_the_first_handshakes_failure_as_it_was(scene: Scene) -> None:
    refused = Rejected(HandshakeCause.RESET, None, 0.01, hello=517)
    result = judged(scene.world, *behind(scene, RESET, refused), verbosity=1)
    assert result.code == 2
    assert result.first_line == (
        f"TLS_MAIL CRITICAL - {NAME}:993 imaps: TLS handshake failed: connection reset by the server during the "
        "handshake"
    )
    assert result.lines[2:4] == [
        "first handshake (TLS 1.0-1.3, any suite): rejected: connection reset by the server during the handshake "
        "(0.010 s)",
        "  its 1678-byte ClientHello (OpenSSL 3.5) dropped, made again with a 517-byte hello with one key share "
        "(P-256): rejected: connection reset by the server during the handshake (0.010 s)",
    ], result.output
