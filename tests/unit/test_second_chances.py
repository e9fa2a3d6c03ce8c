"""Closes that come again: the second chances of the probes, judged on scripted outcomes (no server)."""

from __future__ import annotations

import socket

from check_tls_mail.net.dialects import PROTOCOLS
from check_tls_mail.net.transport import Address, Deadline
from check_tls_mail.probe import run as probe
from check_tls_mail.probe.handshake import Target
from check_tls_mail.probe.outcome import Accepted, HandshakeCause, HandshakeOutcome, Rejected
from check_tls_mail.probe.plan import DEFAULT_PROBE, ProbeKey, Purpose
from check_tls_mail.tls.versions import TlsVersion


def test_closes_are_no_answer_when_the_widest_offer_itself_closed_before_it_connected() -> None:
    """The widest offer closed twice, then connected: the server was dropping connections, refusing no offer."""
    target = Target("mx.example", 25, PROTOCOLS["smtp"], Address(socket.AF_INET, ("127.0.0.1", 25)), "mx.example")
    closed = Rejected(HandshakeCause.CLOSED, None, 0.01)
    accepted = Accepted(TlsVersion.TLS1_3, "TLS_AES_128_GCM_SHA256", (b"leaf",), 1, 0.01)
    apple = ProbeKey(Purpose.CLIENT, "apple-mail")
    wave: dict[ProbeKey, HandshakeOutcome] = {DEFAULT_PROBE: closed, apple: closed, ProbeKey(Purpose.NO_SNI): accepted}
    # Alone, both close again; the control (the widest offer once more) then connects.
    script = iter([closed, closed, accepted])
    prober = object.__new__(probe._Prober)
    prober.deadline = Deadline(30)
    prober.alone = lambda target, key: next(script)  # type: ignore[method-assign]
    report = prober.second_chances(target, wave)
    assert report.control == accepted
    assert report.outcomes[DEFAULT_PROBE] == accepted
    answer = report.outcomes[apple]
    assert isinstance(answer, Rejected) and not answer.closed_in_answer and answer.dropped


def test_closes_that_come_again_while_the_widest_offer_connects_are_answers() -> None:
    """Dovecot 2.3 closes on a hello it cannot serve: alone again it closes, and the widest offer connects."""
    target = Target("mx.example", 25, PROTOCOLS["smtp"], Address(socket.AF_INET, ("127.0.0.1", 25)), "mx.example")
    closed = Rejected(HandshakeCause.CLOSED, None, 0.01)
    accepted = Accepted(TlsVersion.TLS1_3, "TLS_AES_128_GCM_SHA256", (b"leaf",), 1, 0.01)
    apple = ProbeKey(Purpose.CLIENT, "apple-mail")
    wave: dict[ProbeKey, HandshakeOutcome] = {DEFAULT_PROBE: accepted, apple: closed}
    script = iter([closed, accepted])  # apple alone, then the control
    prober = object.__new__(probe._Prober)
    prober.deadline = Deadline(30)
    prober.alone = lambda target, key: next(script)  # type: ignore[method-assign]
    report = prober.second_chances(target, wave)
    assert report.control == accepted and report.outcomes[DEFAULT_PROBE] == accepted
    answer = report.outcomes[apple]
    assert isinstance(answer, Rejected) and answer.closed_in_answer and not answer.dropped
