"""Each certificate is read once per run: cryptography parses each DER at most once (issue 20)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from cryptography import x509
from fakeserver import TlsConfig
from pki import Certs, Pki
from runs import args_for, serving

from check_tls_mail.cli import main as cli
from check_tls_mail.x509 import parse


def test_cryptography_parses_each_served_certificate_once(
    pki: Pki, certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dual-certificate server, the default mail clients (each judges the certificate it gets by its own
    rules), --expect-cert of both files and -v: every part of the run reads the same certificates."""
    loads: Counter[bytes] = Counter()
    real = x509.load_der_x509_certificate

    def counted(der: bytes) -> x509.Certificate:
        loads[der] += 1
        return real(der)

    monkeypatch.setattr(x509, "load_der_x509_certificate", counted)
    monkeypatch.setattr(parse, "_READ", {})  # a fresh run: nothing read before
    (ecdsa_chain, _), (rsa_chain, _) = certs.ecdsa, certs.rsa
    with serving("imaps", TlsConfig([certs.ecdsa, certs.rsa])) as server:
        args = args_for(server, "imaps", pki, "--expect-cert", ecdsa_chain, "--expect-cert", rsa_chain, "-v")
        code, text = cli.main(args)
    assert code == 0, text
    assert "RSA 2048 certificate" in text and "ECDSA P-256 certificate" in text, text
    assert len(loads) >= 3, loads  # the two leaves and the intermediate at least
    assert max(loads.values()) == 1, {der[:16].hex(): count for der, count in loads.items() if count > 1}
