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
from check_tls_mail.x509 import certificate, parse
from check_tls_mail.x509.certificate import Certificate


def test_each_served_certificate_is_read_once(
    pki: Pki, certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dual-certificate server, the default mail clients (each judges the certificate it gets by its own
    rules), --expect-cert of both files and -v: every part of the run reads the same certificates. The DER walk
    reads each once, cryptography each key once, and cryptography's certificate parser (only --expect-cert
    needs it) each certificate at most once."""
    walks: Counter[bytes] = Counter()
    keys: Counter[bytes] = Counter()
    loads: Counter[bytes] = Counter()
    walk, load_key, load_cert = parse.parse, certificate.load_public_key, x509.load_der_x509_certificate

    def walked(der: bytes) -> Certificate:
        walks[der] += 1
        return walk(der)

    def key_loaded(spki: bytes) -> object:
        keys[spki] += 1
        return load_key(spki)

    def loaded(der: bytes) -> x509.Certificate:
        loads[der] += 1
        return load_cert(der)

    monkeypatch.setattr(parse, "parse", walked)
    monkeypatch.setattr(certificate, "load_public_key", key_loaded)
    monkeypatch.setattr(x509, "load_der_x509_certificate", loaded)
    monkeypatch.setattr(parse, "_READ", {})  # a fresh run: nothing read before
    (ecdsa_chain, _), (rsa_chain, _) = certs.ecdsa, certs.rsa
    with serving("imaps", TlsConfig([certs.ecdsa, certs.rsa])) as server:
        args = args_for(server, "imaps", pki, "--expect-cert", ecdsa_chain, "--expect-cert", rsa_chain, "-v")
        code, text = cli.main(args)
    assert code == 0, text
    assert "RSA 2048 certificate" in text and "ECDSA P-256 certificate" in text, text
    assert len(walks) >= 3 and len(keys) >= 3, (walks, keys)  # the two leaves and the intermediate at least
    assert len(loads) == 2, loads  # the leaves of the two files --expect-cert names, and nothing else
    for counted in (walks, keys, loads):
        assert max(counted.values()) == 1, {der[:16].hex(): count for der, count in counted.items() if count > 1}
