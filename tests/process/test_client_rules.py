"""Each client judges the certificate it gets by its own verifier's rules (the profiles' sources cite the code).

Thunderbird's mozilla::pkix refuses a CA certificate as a server's (pkixcheck.cpp CheckBasicConstraints:
MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY), which is what `openssl req -x509` makes for a home-made server,
and matches only whole-label wildcards (pkixnames.cpp). Without profiles the verdict stays OpenSSL's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from fakeserver import TlsConfig
from pki import Pki
from runs import NAME, args_for, check, require, serving


def req_x509(directory: Path) -> tuple[str, str]:
    """A home-made server certificate, as `openssl req -x509` makes it (its v3_ca: basicConstraints CA:TRUE)."""
    require("openssl")
    cert, key = directory / "selfmade.pem", directory / "selfmade.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "90",
         "-subj", f"/CN={NAME}", "-addext", f"subjectAltName=DNS:{NAME}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    text = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"], capture_output=True, text=True)
    assert "CA:TRUE" in text.stdout, text.stdout
    return str(cert), str(key)


def run_with(chain: tuple[str, str], ca_file: str, *clients: str, pki: Pki) -> tuple[int, str]:
    with serving("imaps", TlsConfig([chain])) as server:
        args = args_for(server, "imaps", pki, *[f for c in clients for f in ("--client", c)])
        args[args.index("--ca-file") + 1] = ca_file
        run = check(*args)
    return run.code, run.summary


def test_thunderbird_refuses_what_openssl_req_x509_makes_and_openssl_and_apple_mail_take(
    tmp_path: Path, pki: Pki
) -> None:
    chain = req_x509(tmp_path)
    none = run_with(chain, chain[0], "none", pki=pki)
    thunderbird = run_with(chain, chain[0], "thunderbird", pki=pki)
    apple = run_with(chain, chain[0], "apple-mail", pki=pki)
    assert none[0] == 0, none
    assert apple[0] == 0, apple  # Apple's SSL policy has no NotCA check; a private root needs no EKU
    assert thunderbird[0] == 2, thunderbird
    assert (
        thunderbird[1]
        .split(": ", 1)[1]
        .startswith(
            "Thunderbird cannot connect: the certificate is a CA certificate (basicConstraints CA:TRUE), which "
            "Thunderbird refuses as a server's certificate: issue one without CA:TRUE / ECDSA P-256 certificate valid"
        )
    ), thunderbird


def test_thunderbird_matches_no_partial_wildcard_where_openssl_does(pki: Pki) -> None:
    chain = pki.leaf(names=("m*.example.test",)).write(pki.directory, "partial-wildcard")
    none = run_with(chain, pki.root_file, "none", pki=pki)
    thunderbird = run_with(chain, pki.root_file, "thunderbird", pki=pki)
    assert none[0] == 0, none
    assert thunderbird[0] == 2, thunderbird
    assert (
        thunderbird[1]
        .split(": ", 1)[1]
        .startswith(
            f"Thunderbird cannot connect: {NAME} matches only the partial wildcard m*.example.test, which Thunderbird "
            "does not match (a wildcard must be the whole left-most label): add the name to the certificate / "
        )
    ), thunderbird
