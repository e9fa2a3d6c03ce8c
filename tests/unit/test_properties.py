"""Property-based tests: output sanitiser, the status line, thresholds, TLSA matching, DNS server syntax, probe jobs."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from check_tls_mail.errors import UsageError
from check_tls_mail.net.names import HostName, as_sent, check_host_name
from check_tls_mail.plugin.output import OUTPUT_LIMIT, render
from check_tls_mail.plugin.thresholds import ExpiryThreshold
from check_tls_mail.sanitize import clean, from_wire
from check_tls_mail.x509.store import pem_blocks


@given(st.text(), st.integers(min_value=3, max_value=500))
def test_clean_is_one_printable_line_without_pipe(text: str, limit: int) -> None:
    out = clean(text, limit)
    assert "|" not in out
    assert out.isprintable()
    assert len(out) <= limit


@given(
    st.text() | st.text(alphabet="ab |\n\x00\u2028é") | st.text(alphabet="abc .:-", max_size=400), st.integers(0, 500)
)
def test_clean_escapes_each_character_that_needs_it_and_keeps_the_rest(text: str, limit: int) -> None:
    """The whole-line fast path (a printable line without a pipe is kept as it is) gives what escaping character
    by character gives."""
    head = text[: limit * 4 + 4]

    def escape(c: str) -> str:
        code = ord(c)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    escaped = "".join(c if c.isprintable() and c != "|" else escape(c) for c in head)
    expected = escaped if len(escaped) <= limit and len(head) == len(text) else escaped[: max(limit - 3, 0)] + "..."
    assert clean(text, limit) == expected


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


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.äöüßéлд", max_size=80))
def test_a_checked_name_goes_out_as_the_idna_codec_would_send_it(text: str) -> None:
    """net/names.as_sent spares the idna codec's import: whatever check_host_name accepts, and any address, reaches
    getaddrinfo and SNI as the bytes the codec would have made of it, and a name not in ASCII as text."""
    if isinstance(check_host_name(text), HostName):  # -H and --servername reach the sockets as given
        assert as_sent(text) == text.encode("idna") if text.isascii() else as_sent(text) == text


@given(st.text(alphabet="ab.-_:%1", max_size=140))
def test_any_ascii_name_goes_out_as_the_codec_sends_it_or_to_the_codec(text: str) -> None:
    """A host from a URL in a certificate is not checked first: where the codec takes an ASCII name as_sent gives
    its bytes; where it refuses one (an empty or long label) the name goes as text, for the codec's own error."""
    try:
        by_codec: bytes | None = text.encode("idna")
    except UnicodeError:
        by_codec = None
    assert as_sent(text) == (text if by_codec is None else by_codec)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "2001:db8::25", "fe80::1%lo", "::ffff:192.0.2.1"])
def test_an_address_goes_out_as_the_codec_sends_it(address: str) -> None:
    assert as_sent(address) == address.encode("idna")


def test_a_name_not_in_ascii_is_left_to_the_codec() -> None:
    assert as_sent("bücher.example") == "bücher.example"


PEM_PIECES = [
    b"-----BEGIN CERTIFICATE-----",
    b"-----END CERTIFICATE-----",
    b"\n",
    b"MIIB",
    b"QUJD\r\n",
    b"==",
    b"*",
    b"-----BEGIN PRIVATE KEY-----",
    b"junk ",
]


@given(st.lists(st.sampled_from(PEM_PIECES), max_size=30))
def test_pem_blocks_are_found_as_the_regular_expression_finds_them(pieces: list[bytes]) -> None:
    """x509/store.pem_blocks finds blocks with bytes.find; the expression it replaces decides each case: the
    same blocks, the same DER, the same refusal of a block that is not base64."""
    data = b"".join(pieces)
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", data, re.S)
    try:
        expected: list[bytes] | str = [base64.b64decode(b"".join(b.split()), validate=True) for b in blocks]
    except ValueError:
        expected = "refused"
    try:
        found: list[bytes] | str = pem_blocks(data)
    except ValueError:
        found = "refused"
    assert found == expected
