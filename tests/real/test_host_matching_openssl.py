"""Host names against OpenSSL's own matching (`openssl x509 -checkhost`) as the oracle of names.host_matches."""

from __future__ import annotations

import subprocess
from pathlib import Path

import chains
import pytest
from runs import require

from check_tls_mail.x509 import names as certnames


@pytest.mark.parametrize(
    ("pattern", "host"),
    [
        ("mail.example.test", "mail.example.test"),
        ("MAIL.Example.TEST", "mail.example.test"),
        ("*.example.test", "mail.example.test"),
        ("*.example.test", "a.mail.example.test"),
        ("*.example.test", "example.test"),
        ("*.test", "example.test"),
        ("mail*.example.test", "mail2.example.test"),
        ("mail*.example.test", "mail.example.test"),
        ("*mail.example.test", "webmail.example.test"),
        ("m*l.example.test", "mail.example.test"),
        ("*.*.example.test", "a.b.example.test"),
        ("a.*.example.test", "a.b.example.test"),
        ("*.xn--bcher-kva.test", "mail.xn--bcher-kva.test"),
        ("xn--*.example.test", "xn--bcher-kva.example.test"),
        ("*.example.test", "xn--bcher-kva.example.test"),
        ("mail.example.test.", "mail.example.test"),
        ("*-mail.example.test", "imap-mail.example.test"),
        ("-*.example.test", "x.example.test"),
    ],
)
def test_host_matching_agrees_with_openssl(pattern: str, host: str, tmp_path: Path) -> None:
    require("openssl")
    cert = chains.make(chains.NAME, None, names=(pattern,), slot="checkhost")
    (tmp_path / "cert.pem").write_bytes(chains.pem(cert.der))
    out = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "cert.pem"), "-noout", "-checkhost", host],
        capture_output=True,
        text=True,
        check=False,  # OpenSSL 3.5 exits 1 when the name does not match; 3.0 exits 0 either way
    ).stdout
    assert "match" in out, out
    assert ("does match" in out) == certnames.host_matches(pattern, host), out
