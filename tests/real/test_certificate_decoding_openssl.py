"""What OpenSSL cannot decode as a certificate, the DER walk cannot read either (x509/parse.py).

A chain the judgement gets from a client's own hello never went through OpenSSL: the walk is all that reads
it, so it must refuse what `openssl x509` refuses, and read what it reads. And a certificate whose validity
dates cannot be read ends the check CRITICAL in those words (OpenSSL's verifier: errors 13/14).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from chains import pem, replace_once, resign, split, tlv
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtensionOID, NameOID
from fakeserver import TlsConfig
from oracle import openssl_verify
from pki import DAY, NOW, Pki, issue
from runs import args_for, check, serving

from check_tls_mail.x509.fields import Malformation
from check_tls_mail.x509.parse import parse


def openssl_decodes(der: bytes, tmp_path: Path) -> bool:
    (tmp_path / "cert.der").write_bytes(der)
    run = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-in", str(tmp_path / "cert.der"), "-noout"], capture_output=True
    )
    return run.returncode == 0


def as_issued(pki: Pki) -> bytes:
    return pki.leaf(("decode.example.test",)).cert.public_bytes(serialization.Encoding.DER)


def signed_again(pki: Pki, patch: Callable[[bytes], bytes], der: bytes | None = None) -> bytes:
    """The leaf with its TBSCertificate edited by ``patch``, signed again by the intermediate's key."""
    return resign(der or as_issued(pki), patch, pki.intermediate.key, hashes.SHA256())


def extra_after_signature(pki: Pki) -> bytes:
    return tlv(0x30, b"".join(split(as_issued(pki))) + tlv(0x02, b"\x01"))


def extra_tbs_field(pki: Pki) -> bytes:
    return signed_again(pki, lambda tbs: tlv(0x30, b"".join(split(tbs)) + tlv(0x02, b"\x01")))


def invalid_utf8_common_name(pki: Pki) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "utf8-ABCD.example.test")])
    issued = issue(name, pki._keys["ECDSA"], pki.intermediate, NOW - DAY, NOW + 30 * DAY, ca=False)
    der = issued.cert.public_bytes(serialization.Encoding.DER)
    return signed_again(pki, replace_once(b"ABCD", b"\xff\xfe\xc0\x80"), der)  # not UTF-8: 0xff, an overlong NUL


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
    broken = signed_again(pki, replace_once(until, until[:2] + b"13" + until[4:]), der)  # month 13
    assert openssl_decodes(broken, tmp_path), "OpenSSL decodes it"
    verified = openssl_verify(tmp_path, pem(broken), pki.root.pem, pki.intermediate.pem)
    assert verified.returncode != 0 and "error 14 " in verified.stdout + verified.stderr, verified  # notAfter
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    chain.write_bytes(pem(broken) + pki.intermediate.pem)
    key.write_bytes(leaf.key_pem)
    with serving("imaps", TlsConfig([(str(chain), str(key))])) as server:
        run = check(*args_for(server, "imaps", pki))
    assert run.code == 2, run
    assert "certificate that cannot be read: its validity dates cannot be read" in run.summary, run


def test_what_only_cryptographys_parser_refuses_is_not_a_problem_where_openssl_verifies_it(
    pki: Pki, tmp_path: Path
) -> None:
    """An authorityInfoAccess that is no AccessDescription list: cryptography's parser refuses the certificate
    (before this check read certificates without it, that made it 'malformed'); OpenSSL, which clients use,
    verifies it. The check says what OpenSSL says."""
    aia = x509.UnrecognizedExtension(ExtensionOID.AUTHORITY_INFORMATION_ACCESS, tlv(0x30, tlv(0x02, b"\x01")))
    leaf = issue(
        "mail.example.test",
        pki._keys["ECDSA"],
        pki.intermediate,
        NOW - DAY,
        NOW + 60 * DAY,
        ca=False,
        names=("mail.example.test",),
        extra=[(aia, False)],
    )
    der = leaf.cert.public_bytes(serialization.Encoding.DER)
    with pytest.raises(ValueError):
        x509.load_der_x509_certificate(der).extensions  # noqa: B018
    verified = openssl_verify(tmp_path, pem(der), pki.root.pem, pki.intermediate.pem)
    assert verified.returncode == 0, verified
    (tmp_path / "chain.pem").write_bytes(pem(der) + pki.intermediate.pem)
    (tmp_path / "key.pem").write_bytes(leaf.key_pem)
    with serving("imaps", TlsConfig([(str(tmp_path / "chain.pem"), str(tmp_path / "key.pem"))])) as server:
        run = check(*args_for(server, "imaps", pki, "--client", "none"))
    assert run.code == 0, run
