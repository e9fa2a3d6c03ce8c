"""The words for a large ClientHello dropped while smaller ones connect, for each way the connection ends.

tests/process/test_large_hello.py runs the reset and the stall through the CLI against a middlebox; here the
diagnosis alone: which drops are a large hello's, and the words of a reset, a close, a stall and the rest, for a
client's hello and for the check's own first handshake.
"""

from __future__ import annotations

import pytest

from check_tls_mail.clients.offer import PRIMARY
from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.errors import FailureKind, ServerTimeout, ServiceError
from check_tls_mail.judgement.diagnosis import LARGE_HELLO, Why, dropped_probe
from check_tls_mail.plugin import wording
from check_tls_mail.probe.outcome import Failed, HandshakeCause, Rejected

OFFER = catalogue().profiles["thunderbird"].offer
WHY = "a middlebox or the server drops large ClientHellos (a post-quantum key share makes them span two TCP segments)"


@pytest.mark.parametrize(
    ("outcome", "ending"),
    [
        (Rejected(HandshakeCause.RESET, None, 0.01), "the connection is reset after its 1.9 KB ClientHello"),
        (Rejected(HandshakeCause.CLOSED, None, 0.01), "the connection is closed after its 1.9 KB ClientHello"),
        (
            Failed(ServerTimeout("no answer to the ClientHello within 9.5 s"), 9.5),
            "the connection stalls after its 1.9 KB ClientHello (no answer until the timeout)",
        ),
        (
            Rejected(HandshakeCause.CONNECTION_FAILED, None, 0.01),
            "the connection is dropped after its 1.9 KB ClientHello",
        ),
    ],
)
def test_each_ending_of_a_dropped_large_hello_has_its_words(outcome: Rejected | Failed, ending: str) -> None:
    found = dropped_probe(OFFER, outcome, 1882, 517, "Thunderbird")
    assert found.why is Why.LARGE_HELLO_DROPPED and found.sizes == (1882, 517)
    assert wording.diagnosis(found) == f"{ending}, while smaller hellos (517 bytes and less) connect: {WHY}"


@pytest.mark.parametrize(
    ("size", "through"),
    [
        (LARGE_HELLO, 300),  # fits one TCP segment: not a large hello's fate
        (1882, 1882),  # a hello as large got through
        (1882, 0),  # no client's hello got through: nothing to compare with
    ],
)
def test_a_drop_is_a_large_hellos_only_when_it_spans_segments_and_smaller_ones_connect(size: int, through: int) -> None:
    found = dropped_probe(OFFER, Rejected(HandshakeCause.RESET, None, 0.01), size, through, "Thunderbird")
    assert found.why is Why.NOT_PROBED


def test_a_failure_before_tls_is_not_called_a_stall() -> None:
    """Only a timeout stalls; a refused connection after other connections got through is a drop."""
    refused = Failed(ServiceError("connection refused", FailureKind.CONNECT), 0.01)
    words = wording.diagnosis(dropped_probe(OFFER, refused, 1882, 517, "Thunderbird"))
    assert words.startswith("the connection is dropped after its 1.9 KB ClientHello, ")


@pytest.mark.parametrize(
    ("outcome", "ending"),
    [
        (Rejected(HandshakeCause.RESET, None, 0.01, hello=1678), "is reset after"),
        (Rejected(HandshakeCause.CLOSED, None, 0.01, hello=1678), "is closed after"),
        (Rejected(HandshakeCause.CONNECTION_FAILED, None, 0.01, hello=1678), "is dropped after"),
    ],
)
def test_the_first_handshakes_large_hello_in_the_same_words_with_the_local_library(
    outcome: Rejected, ending: str
) -> None:
    """The check's own hello: its size as measured and the library that made it, in a client's large-hello words."""
    found = dropped_probe(PRIMARY, outcome, outcome.hello, 517)
    assert wording.first_hello(found, "OpenSSL 3.5") == (
        f"the connection {ending} the check's own 1.7 KB OpenSSL 3.5 ClientHello, while smaller hellos (517 bytes "
        f"and less) connect: {WHY}"
    )


def test_the_first_handshakes_silence_says_how_long_it_waited() -> None:
    silence = Failed(ServerTimeout("no answer to the ClientHello within 2.7 s"), 2.68, hello=1678)
    words = wording.first_hello(dropped_probe(PRIMARY, silence, 1678, 517), "OpenSSL 3.5")
    assert words.startswith(
        "the connection stalls after the check's own 1.7 KB OpenSSL 3.5 ClientHello (no answer in 2.7 s), while "
    )
