"""What OpenSSL cannot decode as a certificate, the DER walk cannot read either (x509/parse.py).

A chain the judgement gets from a client's own hello never went through OpenSSL: the walk is all that reads
it, so it must refuse what `openssl x509` refuses, and read what it reads. And a certificate whose validity
dates cannot be read ends the check CRITICAL in those words (OpenSSL's verifier: errors 13/14).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from fakeserver import TlsConfig
from pki import DAY, NOW, Pki, issue
from runs import args_for, check, serving

from check_tls_mail.x509.der import items, tlv
from check_tls_mail.x509.fields import Malformation
from check_tls_mail.x509.parse import parse


def encode(tag: int, content: bytes) -> bytes:
    size = len(content)
    length = (
        bytes([size])
        if size < 0x80
        else bytes([0x80 | ((size.bit_length() + 7) // 8)]) + size.to_bytes((size.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + content


def parts(der: bytes) -> list[bytes]:
    _, start, end, _ = tlv(der, 0)
    return [der[head:stop] for _, _, stop, head in items(der, start, end)]


def openssl_decodes(der: bytes, tmp_path: Path) -> bool:
    (tmp_path / "cert.der").write_bytes(der)
    run = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-in", str(tmp_path / "cert.der"), "-noout"], capture_output=True
    )
    return run.returncode == 0


def as_issued(pki: Pki) -> bytes:
    return pki.leaf(("decode.example.test",)).cert.public_bytes(serialization.Encoding.DER)


def extra_after_signature(pki: Pki) -> bytes:
    return encode(0x30, b"".join(parts(as_issued(pki))) + encode(0x02, b"\x01"))


def extra_tbs_field(pki: Pki) -> bytes:
    tbs, algorithm, signature = parts(as_issued(pki))
    return encode(0x30, encode(0x30, b"".join(parts(tbs)) + encode(0x02, b"\x01")) + algorithm + signature)


def invalid_utf8_common_name(pki: Pki) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "utf8-ABCD.example.test")])
    issued = issue(name, pki._keys["ECDSA"], pki.intermediate, NOW - DAY, NOW + 30 * DAY, ca=False)
    der = issued.cert.public_bytes(serialization.Encoding.DER)
    assert der.count(b"ABCD") == 1
    return der.replace(b"ABCD", b"\xff\xfe\xc0\x80")  # not UTF-8 (0xff; an overlong NUL)


@pytest.mark.parametrize(
    ("mutate", "decodes"),
    [
        (as_issued, True),
        (extra_after_signature, False),
        (extra_tbs_field, False),
        (invalid_utf8_common_name, False),
    ],
)
def test_the_walk_reads_what_openssl_decodes_and_refuses_what_it_refuses(
    pki: Pki, tmp_path: Path, mutate: object, decodes: bool
) -> None:
    der = mutate(pki)  # type: ignore[operator]
    assert openssl_decodes(der, tmp_path) is decodes, "OpenSSL"
    unreadable = any(defect.what is Malformation.UNREADABLE for defect in parse(der).defects)
    assert unreadable is not decodes


def test_a_certificate_whose_dates_cannot_be_read_is_critical_in_those_words(pki: Pki, tmp_path: Path) -> None:
    leaf = pki.leaf(("mail.example.test",))
    der = leaf.cert.public_bytes(serialization.Encoding.DER)
    until = leaf.cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ").encode()
    assert der.count(until) == 1
    broken = der.replace(until, until[:2] + b"13" + until[4:])  # month 13
    pem = subprocess.run(
        ["openssl", "x509", "-inform", "DER"], input=broken, capture_output=True, check=True
    ).stdout  # OpenSSL decodes it; its verifier refuses it (error 14: format error in notAfter)
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    chain.write_bytes(pem + pki.intermediate.pem)
    key.write_bytes(leaf.key_pem)
    with serving("imaps", TlsConfig([(str(chain), str(key))])) as server:
        run = check(*args_for(server, "imaps", pki))
    assert run.code == 2, run
    assert "certificate that cannot be read: its validity dates cannot be read" in run.summary, run
