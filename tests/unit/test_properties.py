"""Property-based tests: output sanitiser, the status line, dialect reply parsers, thresholds."""

from __future__ import annotations

import re
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from check_tls_mail.errors import ServiceError, StartTlsError, UsageError
from check_tls_mail.net.dialects import PROTOCOLS
from check_tls_mail.net.transport import Address, Connection, Deadline
from check_tls_mail.plugin.output import OUTPUT_LIMIT, render
from check_tls_mail.plugin.thresholds import ExpiryThreshold
from check_tls_mail.sanitize import clean, from_wire

STARTTLS_DIALECTS = [name for name, d in PROTOCOLS.items() if d.starttls]


@given(st.text(), st.integers(min_value=3, max_value=500))
def test_clean_is_one_printable_line_without_pipe(text: str, limit: int) -> None:
    out = clean(text, limit)
    assert "|" not in out
    assert out.isprintable()
    assert len(out) <= limit


@given(st.binary(max_size=5000))
def test_from_wire_accepts_any_bytes(data: bytes) -> None:
    out = from_wire(data)
    assert out.isprintable() and "|" not in out and len(out) <= 80


@given(st.text(max_size=3000), st.lists(st.text(max_size=400), max_size=100))
def test_status_line_has_one_separator_and_stays_small(summary: str, long_output: list[str]) -> None:
    text = render(2, summary, ["days_remaining=1.00;18:;9:;;90", "handshake_time=0.01s;;;0"], long_output)
    lines = text.split("\n")
    first = lines[0]
    assert first.startswith("TLS_MAIL CRITICAL - ")
    assert first.count("|") == 1
    assert len(first.encode()) < 1024
    assert all(line.isprintable() for line in lines)
    assert len(lines) <= 62  # the first line, 60 long-output lines, and the final newline


@given(st.lists(st.text(min_size=1, max_size=400), max_size=120), st.integers(min_value=0, max_value=80))
def test_long_output_stays_under_what_nagios_keeps_and_says_what_it_left(long_output: list[str], items: int) -> None:
    """At most OUTPUT_LIMIT bytes in all; a cut says how many lines it left; the perfdata notice is never cut."""
    perfdata = [f"label_{i:02d}_{'x' * 60}=1;;;0" for i in range(items)]
    text = render(2, "s" * 300, perfdata, long_output)
    assert len(text.encode()) <= OUTPUT_LIMIT + 1  # the final newline
    first, *lines = text.split("\n")[:-1]
    shown = len(first.split(" | ", 1)[1].split()) if " | " in first else 0
    if shown < items:
        assert lines[0].startswith(f"perfdata: {items - shown} of {items} items left off"), lines[:1]
        lines = lines[1:]
    cut = re.fullmatch(r"\.\.\. ([0-9]+) more lines?", lines[-1]) if lines else None
    if cut:
        assert len(lines) - 1 + int(cut.group(1)) == len(long_output)
    else:
        assert len(lines) == len(long_output)


def _negotiate(protocol: str, server_bytes: bytes) -> BaseException | None:
    """Run a dialect against a peer that sends ``server_bytes`` and closes."""
    ours, theirs = socket.socketpair()

    def peer() -> None:
        try:
            theirs.sendall(server_bytes)
        except OSError:
            pass
        finally:
            theirs.shutdown(socket.SHUT_WR)

    writer = threading.Thread(target=peer, daemon=True)
    writer.start()
    conn = Connection(ours, Address(socket.AF_INET, ("127.0.0.1", 1)), Deadline(2))
    try:
        PROTOCOLS[protocol].negotiate(conn)
    except ServiceError as exc:
        return exc
    finally:
        writer.join(2)
        ours.close()
        theirs.close()
    return None


replies = st.lists(
    st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [
                b"220 ok",
                b"250-STARTTLS",
                b"250 STARTTLS",
                b"* OK [CAPABILITY STARTTLS]",
                b"+OK",
                b"STLS",
                b".",
                b'"STARTTLS"',
                b"OK",
                b"a1 OK",
                b"a2 OK",
                b"* CAPABILITY STARTTLS",
            ]
        ),
    ),
    max_size=30,
).map(lambda lines: b"\r\n".join(lines) + b"\r\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STARTTLS_DIALECTS), replies)
def test_dialects_turn_any_reply_into_a_service_error_or_success(protocol: str, data: bytes) -> None:
    outcome = _negotiate(protocol, data)
    assert outcome is None or isinstance(outcome, ServiceError)
    if outcome is not None:
        assert str(outcome).isprintable() and "|" not in str(outcome)


@pytest.mark.parametrize(
    ("protocol", "server"),
    [
        ("smtp", b"220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 go\r\n"),
        ("imap", b"* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\na2 OK go\r\n"),
        ("pop3", b"+OK ready\r\n+OK\r\nUSER\r\nSTLS\r\n.\r\n+OK go\r\n"),
        ("sieve", b'"IMPLEMENTATION" "x"\r\n"STARTTLS"\r\nOK "hi"\r\nOK "go"\r\n'),
    ],
)
def test_well_formed_dialogues_reach_the_handshake(protocol: str, server: bytes) -> None:
    assert _negotiate(protocol, server) is None


def test_multiline_ehlo_reply_is_read_whole() -> None:
    # STARTTLS on the last line of a long reply must be found (sslyze's single-recv bug).
    reply = b"220 mx\r\n" + b"".join(b"250-EXT%d\r\n" % i for i in range(60)) + b"250 STARTTLS\r\n220 go\r\n"
    assert _negotiate("smtp", reply) is None


def test_starttls_missing_from_capabilities() -> None:
    outcome = _negotiate("smtp", b"220 mx\r\n250-mx\r\n250 8BITMIME\r\n")
    assert isinstance(outcome, StartTlsError)


@given(st.floats(min_value=0, max_value=10000, allow_nan=False), st.sampled_from(["", "d", "h", "%"]))
def test_threshold_syntax(amount: float, unit: str) -> None:
    text = f"{amount:.3f}{unit}"
    if unit == "%" and amount > 100:
        with pytest.raises(UsageError):
            ExpiryThreshold.parse(text, "-w")
        return
    threshold = ExpiryThreshold.parse(text, "-w")
    days = threshold.days(90)
    expected = {"": amount, "d": amount, "h": amount / 24, "%": 90 * amount / 100}[unit]
    assert days == pytest.approx(round(amount, 3) * expected / amount if amount else 0, rel=1e-3, abs=1e-3)


@pytest.mark.parametrize("bad", ["", "-5", "5x", "1e3", "20 %%", "h", "%"])
def test_threshold_rejects_garbage(bad: str) -> None:
    with pytest.raises(UsageError):
        ExpiryThreshold.parse(bad, "-c")


@pytest.mark.parametrize("usage", [2, 3])
@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("mtype", [0, 1, 2])
def test_tlsa_matching_covers_every_usage_selector_and_matching_type(
    usage: int, selector: int, mtype: int, pki: object
) -> None:
    import hashlib

    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from check_tls_mail.checks.dane.match import matches
    from check_tls_mail.net.resolver import TlsaRecord

    leaf = pki.leaf()  # type: ignore[attr-defined]
    chain = [leaf.cert.public_bytes(Encoding.DER), pki.intermediate.cert.public_bytes(Encoding.DER)]  # type: ignore[attr-defined]
    target = pki.intermediate.cert if usage == 2 else leaf.cert  # type: ignore[attr-defined]
    selected = (
        target.public_bytes(Encoding.DER)
        if selector == 0
        else target.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    data = {0: selected, 1: hashlib.sha256(selected).digest(), 2: hashlib.sha512(selected).digest()}[mtype]
    assert matches(TlsaRecord(usage, selector, mtype, data), chain)
    assert not matches(TlsaRecord(usage, selector, mtype, data[:-1] + bytes([data[-1] ^ 1])), chain)
    assert not matches(TlsaRecord(5 - usage, selector, mtype, data), chain)  # 2<->3: the other end of the chain
    assert not matches(TlsaRecord(1, selector, mtype, data), chain)  # PKIX usages are not used for SMTP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.53", ("192.0.2.53", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("[2001:db8::1]", ("2001:db8::1", 53)),
    ],
)
def test_dns_server_syntax(text: str, expected: tuple[str, int]) -> None:
    from check_tls_mail.net.resolver import parse_server

    assert parse_server(text) == expected


@pytest.mark.parametrize("bad", ["ns.example.org", "127.0.0.1:dns", "[::1]x", "127.0.0.1:0", "[::1]:70000"])
def test_dns_server_syntax_errors(bad: str) -> None:
    from check_tls_mail.net.resolver import parse_server

    with pytest.raises(UsageError):
        parse_server(bad)


def test_a_failing_probe_job_is_raised_in_the_caller_not_printed(capfd: pytest.CaptureFixture[str]) -> None:
    from check_tls_mail.probe.workers import run_concurrently

    def broken() -> int:
        raise ValueError("bug in a probe")

    with pytest.raises(ValueError, match="bug in a probe"):
        run_concurrently([lambda: 1, broken, lambda: 3], 2)
    assert run_concurrently([lambda: 1, lambda: 2, lambda: 3], 2) == [1, 2, 3]
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(("length", "oversized"), [("\xb2", False), ("12abc", False), ("-1", False), ("9" * 40, True)])
def test_a_hostile_content_length_never_raises_out_of_a_fetch(length: str, oversized: bool) -> None:
    """A Content-Length that is no plain number (a Unicode digit, garbage, negative, huge) is a typed answer."""
    from check_tls_mail.net.http import FetchFailure, HttpFailed, HttpResponse, request
    from check_tls_mail.net.transport import Deadline

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.sendall(f"HTTP/1.0 200 OK\r\nContent-Length: {length}\r\n\r\nhello".encode("latin-1"))
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        answer = request(f"http://127.0.0.1:{listener.getsockname()[1]}/policy", Deadline(3), 1000)
    finally:
        listener.close()
    if oversized:  # refused before reading, by what it announces
        assert isinstance(answer, HttpFailed) and answer.failure is FetchFailure.OVERSIZED, answer
    else:  # no number: read to the end, bounded by the limit as any body
        assert isinstance(answer, HttpResponse) and answer.body == b"hello", answer
