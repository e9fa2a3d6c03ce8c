"""When a full handshake is made again with a small hello, judged on scripted outcomes (no server).

Only after its large hello was dropped: reset or closed each time (also alone, after pauses), or never answered
(at once, in its wave job). Not for a small hello's drop, a client's hello, an answer of the server's, nor where
nothing at the address got through; and never for a probe that connected.
"""

from __future__ import annotations

import socket

import pytest

from check_tls_mail.errors import ConnectError, ServerTimeout
from check_tls_mail.net.dialects import PROTOCOLS
from check_tls_mail.net.transport import Address, Deadline
from check_tls_mail.probe import run as probe
from check_tls_mail.probe.handshake import Target
from check_tls_mail.probe.outcome import (
    LARGE_HELLO,
    Accepted,
    Failed,
    HandshakeCause,
    HandshakeOutcome,
    Rejected,
    large_hello_dropped,
)
from check_tls_mail.probe.plan import DEFAULT_PROBE, ProbeKey, Purpose
from check_tls_mail.probe.report import SmallHello
from check_tls_mail.tls.alerts import Alert
from check_tls_mail.tls.versions import TlsVersion

TARGET = Target("mx.example", 25, PROTOCOLS["smtp"], Address(socket.AF_INET, ("127.0.0.1", 25)), "mx.example")
LARGE, SMALL = 1678, 517
ACCEPTED = Accepted(TlsVersion.TLS1_3, "TLS_AES_256_GCM_SHA384", (b"leaf",), 1, 0.01, hello=SMALL)
RESET = Rejected(HandshakeCause.RESET, None, 0.01, hello=LARGE)
SILENCE = Failed(ServerTimeout("no answer to the ClientHello within 4.5 s"), 4.5, hello=LARGE)
ECDSA = ProbeKey(Purpose.KEY_TYPE, "ECDSA")
BARE = ProbeKey(Purpose.NO_SNI)
CLIENT = ProbeKey(Purpose.CLIENT, "thunderbird")


@pytest.mark.parametrize(
    ("outcome", "large"),
    [
        (RESET, True),
        (RESET._replace(cause=HandshakeCause.CLOSED), True),
        (SILENCE, True),
        (RESET._replace(hello=LARGE_HELLO), False),  # fits one segment: not a large hello
        (RESET._replace(server_hello=True), False),  # the server answered, then failed its flight
        (Rejected(HandshakeCause.ALERT, Alert.handshake_failure, 0.01, hello=LARGE), False),  # an answer
        (Failed(ConnectError("connection refused"), 0.01), False),  # no hello went out
        (ACCEPTED._replace(hello=LARGE), False),
    ],
)
def test_a_large_hellos_drop_is_a_reset_a_close_or_silence_after_a_large_hello(
    outcome: HandshakeOutcome, large: bool
) -> None:
    assert large_hello_dropped(outcome) is large


class Scripted(probe._Prober):
    """A prober whose connections are scripted: ``alone`` and ``small_hello`` record what they were asked for."""

    def __init__(
        self,
        alone: list[HandshakeOutcome] | dict[ProbeKey, HandshakeOutcome],
        small: HandshakeOutcome = ACCEPTED,
        wave: HandshakeOutcome = ACCEPTED,
    ) -> None:
        self.deadline = Deadline(30)
        self.hellos = {CLIENT: object()}  # type: ignore[dict-item]  # only its keys are read
        self.by_key = alone if isinstance(alone, dict) else {}
        self.script = iter(alone if isinstance(alone, list) else [])
        self.small = small
        self.wave = wave
        self.made: list[ProbeKey] = []

    def __call__(self, target: Target, key: ProbeKey) -> HandshakeOutcome:
        return self.wave

    def alone(self, target: Target, key: ProbeKey) -> HandshakeOutcome:
        return self.by_key[key] if key in self.by_key else next(self.script)

    def pause(self, attempt: int) -> None:
        pass

    def small_hello(self, target: Target, key: ProbeKey, large: HandshakeOutcome) -> SmallHello:
        self.made.append(key)
        return SmallHello(large, self.small, "P-256", "OpenSSL 3.5")

    def axes(self, report: probe.AddressReport) -> probe.AddressReport:
        return report


def test_a_large_hello_reset_each_time_is_made_again_small_after_its_retries() -> None:
    prober = Scripted(alone=[RESET])  # the first handshake alone: reset again
    wave = {DEFAULT_PROBE: (RESET, None), ECDSA: (ACCEPTED, None), CLIENT: (ACCEPTED, None)}
    report = prober.after_wave(TARGET, wave)
    assert prober.made == [DEFAULT_PROBE]
    assert report.outcomes[DEFAULT_PROBE] == ACCEPTED and report.large(DEFAULT_PROBE) == RESET
    assert report.dropped == {DEFAULT_PROBE: RESET}


def test_a_large_hello_that_connects_alone_is_not_made_again() -> None:
    """Reset in the wave, connected alone: a connection limit, not the hello's size."""
    prober = Scripted(alone=[ACCEPTED._replace(hello=LARGE)])
    report = prober.after_wave(TARGET, {DEFAULT_PROBE: (RESET, None), ECDSA: (ACCEPTED, None)})
    assert prober.made == [] and not report.small


def test_a_small_hello_failed_too_leaves_the_large_hellos_outcome() -> None:
    prober = Scripted(alone=[RESET], small=RESET._replace(hello=SMALL))
    report = prober.after_wave(TARGET, {DEFAULT_PROBE: (RESET, None), ECDSA: (ACCEPTED, None)})
    assert prober.made == [DEFAULT_PROBE] and report.outcomes[DEFAULT_PROBE] == RESET
    assert report.small[DEFAULT_PROBE].small == RESET._replace(hello=SMALL)


@pytest.mark.parametrize(
    "wave",
    [
        # every connection dropped: nothing at the address got through, no size to blame
        {DEFAULT_PROBE: (RESET, None), ECDSA: (RESET._replace(hello=SMALL), None)},
        # a small hello's drop
        {DEFAULT_PROBE: (RESET._replace(hello=SMALL), None), ECDSA: (ACCEPTED, None)},
        # a client's own hello (its probe is its own hello: no other is made for it)
        {DEFAULT_PROBE: (ACCEPTED, None), CLIENT: (RESET, None)},
        # an answer of the server's (an alert), not a drop
        {DEFAULT_PROBE: (Rejected(HandshakeCause.ALERT, Alert.handshake_failure, 0.01, hello=LARGE), None)},
    ],
)
def test_no_small_hello_where_no_large_one_was_dropped(wave: dict[ProbeKey, tuple[HandshakeOutcome, None]]) -> None:
    prober = Scripted(alone={key: outcome for key, (outcome, _) in wave.items()})  # alone, each ends as it did
    report = prober.after_wave(TARGET, wave)
    assert prober.made == [] and not report.small


@pytest.mark.parametrize("small", [ACCEPTED, RESET._replace(hello=SMALL)])
def test_a_silence_made_again_in_its_wave_job_is_not_tried_again(small: HandshakeOutcome) -> None:
    """A large hello never answered was made again small at once (``first``): no retry alone, no second one,
    whether the small one connected or not."""
    again = SmallHello(SILENCE, small, "P-256", "OpenSSL 3.5")
    final = small if isinstance(small, Accepted) else SILENCE
    prober = Scripted(alone=[])  # any retry alone would raise StopIteration
    report = prober.after_wave(TARGET, {DEFAULT_PROBE: (final, again), ECDSA: (ACCEPTED, None)})
    assert prober.made == [] and report.small == {DEFAULT_PROBE: again} and not report.dropped
    assert report.outcomes[DEFAULT_PROBE] == final and report.large(DEFAULT_PROBE) == SILENCE


def test_the_wave_job_makes_a_silent_large_hello_again_at_once_and_waits_for_a_reset() -> None:
    for outcome, made in ((SILENCE, [DEFAULT_PROBE]), (RESET, []), (SILENCE._replace(hello=SMALL), [])):
        prober = Scripted(alone=[], wave=outcome)
        first, again = prober.first(TARGET, DEFAULT_PROBE)
        assert prober.made == made
        assert (again is not None) is bool(made) and first == (ACCEPTED if made else outcome)


def test_both_widest_offers_are_made_again_one_after_the_other() -> None:
    """With SNI and without: each large hello dropped gets its own small one."""
    prober = Scripted(alone=[RESET, RESET._replace(hello=1652)])
    wave = {DEFAULT_PROBE: (RESET, None), ECDSA: (ACCEPTED, None), BARE: (RESET._replace(hello=1652), None)}
    report = prober.after_wave(TARGET, wave)
    assert prober.made == [DEFAULT_PROBE, BARE] and set(report.small) == {DEFAULT_PROBE, BARE}
