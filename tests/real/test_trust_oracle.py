"""Differential test: every corpus chain, served by `openssl s_server`, judged by `openssl s_client` and by the check.

The oracle is OpenSSL's own client (`-verify_hostname -verify_return_error
-CAfile`), the verdict Postfix's SMTP client reaches with
smtp_tls_security_level = verify. The check must reach the same verdict, or
the one this file documents as deliberately different (DIFFERENT, with why).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import chains
import oracle
import pytest
from runs import Run, require
from runs import check as cli

from check_tls_mail.x509 import parse as certparse
from check_tls_mail.x509 import verify as trust
from check_tls_mail.x509 import words as trustwords
from check_tls_mail.x509.problems import ProblemKind as K
from check_tls_mail.x509.store import TrustAnchors

CORPUS = {variant.name: variant for variant in chains.corpus()}

#: What each OpenSSL verify code means in the check's terms (-1: the handshake failed otherwise).
OPENSSL_KINDS: dict[int, frozenset[K]] = {
    2: frozenset({K.UNTRUSTED}),  # unable to get issuer certificate (a trust anchor that is not self-signed)
    7: frozenset({K.BAD_SIGNATURE}),
    9: frozenset({K.NOT_YET_VALID}),
    10: frozenset({K.EXPIRED}),
    18: frozenset({K.SELF_SIGNED}),
    19: frozenset({K.UNTRUSTED}),  # self-signed certificate in chain
    20: frozenset({K.UNTRUSTED, K.INCOMPLETE_CHAIN}),  # unable to get local issuer certificate
    21: frozenset({K.UNTRUSTED, K.INCOMPLETE_CHAIN}),
    # newer OpenSSL may keep the reason a candidate issuer was passed over (subject/issuer or key id mismatch)
    29: frozenset({K.UNTRUSTED, K.INCOMPLETE_CHAIN}),
    30: frozenset({K.UNTRUSTED, K.INCOMPLETE_CHAIN}),
    31: frozenset({K.UNTRUSTED, K.INCOMPLETE_CHAIN}),
    41: frozenset({K.MALFORMED}),  # invalid or inconsistent certificate extension
    24: frozenset({K.INVALID_CA}),  # OpenSSL 1.1's invalid CA
    25: frozenset({K.INVALID_CA}),  # path length constraint exceeded
    26: frozenset({K.PURPOSE}),
    34: frozenset({K.UNKNOWN_CRITICAL_EXTENSION}),
    47: frozenset({K.NAME_CONSTRAINTS}),
    48: frozenset({K.NAME_CONSTRAINTS}),
    51: frozenset({K.NAME_CONSTRAINTS}),
    62: frozenset({K.NAME_MISMATCH, K.NO_SAN}),
    64: frozenset({K.NAME_MISMATCH, K.NO_SAN}),
    66: frozenset({K.RSA_TOO_SMALL, K.KEY_TOO_SMALL}),  # EE key too weak (security level 2)
    67: frozenset({K.RSA_TOO_SMALL, K.KEY_TOO_SMALL}),  # CA key too weak
    68: frozenset({K.WEAK_SIGNATURE}),  # CA signature digest too weak
    79: frozenset({K.INVALID_CA}),  # OpenSSL 3's invalid CA
}


class Different(NamedTuple):
    openssl: int | None  # the verify code s_client gives (asserted, so this table cannot go stale); None: any refusal
    ours: frozenset[K]  # the check's kinds; empty: OK
    why: str


#: Where the check deliberately differs from OpenSSL, and why.
DIFFERENT = {
    "trailing-dot": Different(
        62,
        frozenset(),
        "more lenient: `mail.example.org.` is the same name made absolute; Postfix strips the dot of the names it "
        "matches, and issue 12 asks for it; OpenSSL 3.0's X509_check_host compares it byte for byte",
    ),
    "cn-only": Different(
        0,
        frozenset({K.NO_SAN}),
        "stricter: OpenSSL and Postfix fall back to the CN without a subjectAltName; Chrome, Apple (iOS 13, macOS "
        "10.15) and Thunderbird/NSS do not (RFC 6125 6.4.4 deprecates it), so mail clients refuse it",
    ),
    "malformed-x400-address": Different(
        0,
        frozenset({K.MALFORMED}),
        "stricter: OpenSSL reads the x400Address and ignores it; the certificate is broken (cryptography, Go and "
        "rustls-webpki refuse it), issue 12 wants it CRITICAL with words",
    ),
    "malformed-bitstring-cn": Different(
        0,
        frozenset({K.MALFORMED}),
        "stricter: OpenSSL keeps a BIT STRING common name; the certificate is broken (the CN must be text)",
    ),
    "malformed-ip-network-san": Different(
        0,
        frozenset({K.MALFORMED}),
        "stricter: OpenSSL ignores an 8-byte iPAddress in the subjectAltName; only name constraints may carry a "
        "netmask (RFC 5280 4.2.1.6), so the certificate is broken",
    ),
    "malformed-two-san": Different(
        None,
        frozenset({K.MALFORMED}),
        "same refusal, truer words: OpenSSL cannot use a certificate with a duplicated extension and says it "
        "finds no issuer (20 with OpenSSL 3.0.19; the code may differ between versions)",
    ),
}


class CheckVerdict(NamedTuple):
    ok: bool  # the CLI said OK
    line: str  # the CLI's first line
    problems: tuple[tuple[K, str], ...]  # trust.verify's problems on the same chain, with their words

    @property
    def kinds(self) -> frozenset[K]:
        return frozenset(kind for kind, _ in self.problems)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(words for _, words in self.problems)


#: The CLI is run as operators run it, with expiry thresholds out of the way (the corpus's lifetimes vary).
CLI = ("-P", "tls", "--client", "none", "-w", "0", "-c", "0", "-t", "8")


def check(variant: chains.Variant, port: int, directory: Path) -> CheckVerdict:
    """The check's side: its CLI's state and first line on the served chain, and trust.verify's typed problems."""
    served = oracle.served_chain(port, variant.host)
    assert served[0] == variant.served[0], "the server sends the variant's certificate"
    ca_file = directory / "anchors.pem"
    ca_file.write_bytes(b"".join(chains.pem(der) for der in variant.anchors))
    where = ["-H", variant.host] if _is_ip(variant.host) else ["-H", "127.0.0.1", "--servername", variant.host]
    run = cli(*where, "-p", str(port), "--ca-file", str(ca_file), *CLI)
    anchors = TrustAnchors(variant.anchors, f"--ca-file {ca_file}")
    verdict = trust.verify(served, variant.host, anchors, datetime.now(UTC))
    return CheckVerdict(
        run.code == 0, run.first_line, tuple((p.kind, trustwords.describe(p)) for p in verdict.problems)
    )


def both(variant: chains.Variant, directory: Path) -> tuple[oracle.OpenSslVerdict, CheckVerdict]:
    require("openssl")
    with oracle.served(variant, directory, accepts=12) as port:
        ours = check(variant, port, directory)
        theirs = oracle.s_client(port, variant, directory)
    return theirs, ours


def test_the_corpus_is_large_enough_and_documents_every_difference() -> None:
    assert len(CORPUS) >= 25
    assert set(DIFFERENT) <= set(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_check_reaches_the_openssl_verdict(name: str, tmp_path: Path) -> None:
    variant = CORPUS[name]
    theirs, ours = both(variant, tmp_path)
    seen = f"openssl: {theirs.code} {theirs.words} (depth {theirs.depth}); check: {ours.words}"
    seen += f"\nCLI: {ours.line}"
    for kind, words in ours.problems:
        if kind is not K.EXPIRED:  # the expiry context words those, from the days left
            assert words in ours.line, seen
    if name in DIFFERENT:
        different = DIFFERENT[name]
        if different.openssl is None:
            assert theirs.code not in (0, -1), seen
        else:
            assert theirs.code == different.openssl, seen
        assert ours.kinds == different.ours, seen
        assert ours.ok == (not different.ours), seen
        return
    assert theirs.code != -1, f"the handshake failed without a verify result:\n{theirs.output}"
    if theirs.code == 0:
        assert ours.ok and not ours.kinds, seen
    else:
        assert theirs.code in OPENSSL_KINDS, seen
        assert ours.kinds & OPENSSL_KINDS[theirs.code], seen
        assert not ours.ok and ours.line.startswith("TLS_MAIL CRITICAL - "), seen


# The cases issue 12 names, with the whole wording.


def test_private_ca_without_key_identifiers_verifies(tmp_path: Path) -> None:
    theirs, ours = both(CORPUS["no-keyid-anywhere"], tmp_path)
    assert theirs.code == 0 and ours.ok, ours.words


def test_self_signed_certificate_pinned_by_ca_file_verifies(tmp_path: Path) -> None:
    theirs, ours = both(CORPUS["self-signed-pinned"], tmp_path)
    assert theirs.code == 0 and ours.ok, ours.words


def test_self_signed_certificate_not_pinned_is_named(tmp_path: Path) -> None:
    _, ours = both(CORPUS["self-signed-unpinned"], tmp_path)
    assert ours.words == (f"self-signed certificate, not trusted by --ca-file {tmp_path / 'anchors.pem'}",)


def test_name_with_trailing_dot_verifies(tmp_path: Path) -> None:
    _, ours = both(CORPUS["trailing-dot"], tmp_path)
    assert ours.ok, ours.words


def test_rsa_1024_is_refused_in_words(tmp_path: Path) -> None:
    theirs, ours = both(CORPUS["rsa-1024-leaf"], tmp_path)
    assert theirs.code == 66
    assert ours.words == ("RSA 1024-bit key: clients require 2048 bits or more",)


def test_expired_intermediate_is_named_with_its_date(tmp_path: Path) -> None:
    variant = CORPUS["expired-intermediate"]
    _, ours = both(variant, tmp_path)
    not_after = certparse.parse(variant.served[1]).not_after
    assert not_after is not None
    assert ours.words == (
        f"intermediate Expired Intermediate CA expired 2.0 days ago ({not_after:%Y-%m-%d %H:%M} UTC)",
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("malformed-two-san", "certificate is malformed: two subjectAltName extensions"),
        ("malformed-x400-address", "certificate is malformed: its subjectAltName holds an x400Address"),
        ("malformed-bitstring-cn", "certificate is malformed: its common name is a BIT STRING, not text"),
        (
            "malformed-ip-network-san",
            "certificate is malformed: its subjectAltName holds an IP address with a netmask "
            "(127.0.0.1/255.255.255.255)",
        ),
    ],
)
def test_malformed_certificate_is_named(name: str, words: str, tmp_path: Path) -> None:
    _, ours = both(CORPUS[name], tmp_path)
    assert ours.words == (words,)


def test_ip_variants_ask_for_addresses() -> None:
    """The IP variants are judged with -verify_ip, the others with -verify_hostname."""
    assert {n for n, v in CORPUS.items() if _is_ip(v.host)} >= {"ip-san", "ip-san-mismatch", "ip-host-dns-san"}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def served_run(variant: chains.Variant, directory: Path, *options: str, accepts: int = 12) -> tuple[int, Run]:
    """The variant served by `openssl s_server` (checked to be what it sends), the CLI run against it: (port, run)."""
    require("openssl")
    with oracle.served(variant, directory, accepts=accepts) as port:
        check(variant, port, directory)
        run = cli("-H", "127.0.0.1", "--servername", variant.host, "-p", str(port),
                  "--ca-file", str(directory / "anchors.pem"), *options)  # fmt: skip
    return port, run


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("malformed-two-san", "two subjectAltName extensions"),
        ("malformed-x400-address", "its subjectAltName holds an x400Address"),
        ("malformed-bitstring-cn", "its common name is a BIT STRING, not text"),
        (
            "malformed-ip-network-san",
            "its subjectAltName holds an IP address with a netmask (127.0.0.1/255.255.255.255)",
        ),
    ],
)
def test_malformed_certificate_is_critical_through_the_cli_with_the_whole_line(
    name: str, words: str, tmp_path: Path
) -> None:
    """Once an internal error (UNKNOWN), now CRITICAL in words: the whole first line, times masked."""
    variant = CORPUS[name]
    port, run = served_run(variant, tmp_path, *CLI)
    leaf = certparse.parse(variant.served[0])
    assert leaf.not_after is not None and leaf.not_before is not None
    days = (leaf.not_after - leaf.not_before).days
    line = re.sub(r"_time=[0-9.]+s", "_time=Ts", run.first_line)
    line = re.sub(r"lifetime_used=[0-9.]+%", "lifetime_used=U%", line)
    left = re.search(r"days_remaining=([0-9.]+);", line)
    assert left, line
    assert line == (
        f"TLS_MAIL CRITICAL - 127.0.0.1:{port} tls: certificate is malformed: {words} | "
        f"days_remaining={left.group(1)};;;;{days} handshake_time=Ts;;;0 lifetime_used=U%;100;100;0;100"
    )
    assert run.code == 2


@pytest.mark.parametrize("name", ["malformed-two-san", "malformed-x400-address", "malformed-ip-network-san"])
def test_malformed_certificate_with_the_default_clients_is_critical_not_an_internal_error(
    name: str, tmp_path: Path
) -> None:
    """The simulated clients judge the certificate they get too: what cryptography cannot read is the chain's to say."""
    _, run = served_run(CORPUS[name], tmp_path, "-P", "tls", "-w", "0", "-c", "0", "-t", "20", accepts=200)
    assert run.code == 2, run.first_line
    assert "certificate is malformed" in run.first_line
    assert "internal error" not in (run.stdout + run.stderr).lower()


@pytest.mark.parametrize(
    ("name", "words", "apple"),
    [
        (
            "sha1-leaf",
            "certificate is signed with SHA-1",
            "the certificate is signed with SHA-1 and Apple Mail requires",
        ),
        ("rsa-1024-leaf", "RSA 1024-bit key", "the certificate's RSA key has 1024 bits and Apple Mail requires 2048"),
        ("rsa-1024-intermediate", "RSA 1024-bit key", "a chain certificate's RSA key has 1024 bits and Apple Mail"),
        ("cn-only", "no subjectAltName", "no DNS name in its subjectAltName, which Apple Mail requires"),
    ],
)
def test_a_certificate_the_clients_refuse_for_what_its_chain_says_is_said_once(
    name: str, words: str, apple: str, tmp_path: Path
) -> None:
    """The clients that refuse it fail (clients_ok), and the first line says why once, not once per client."""
    clients = ("--client", "apple-mail", "--client", "thunderbird")
    _, run = served_run(
        CORPUS[name], tmp_path, "-P", "tls", *clients, "-w", "0", "-c", "0", "-t", "20", "-v", accepts=200
    )
    assert run.code == 2, run.first_line
    assert words in run.summary, run.summary
    assert "cannot connect" not in run.summary, run.summary
    accepted, *_, total = run.perfdata["clients_ok"]
    assert int(accepted) < int(total), run.first_line
    assert apple in run.stdout.split("\n", 1)[1]  # -v says which clients refuse it, and why
