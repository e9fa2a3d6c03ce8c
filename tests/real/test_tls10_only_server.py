"""A TLS 1.0-only server, with openssl s_client as the oracle that it is one: the clients requiring TLS 1.2 are told."""

from __future__ import annotations

import ssl
import subprocess

import pytest
from fakeserver import TlsConfig
from pki import Certs, Pki
from runs import args_for, check, serving


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
def test_a_tls10_only_server_is_said_to_support_at_most_tls_1_0(pki: Pki, certs: Certs) -> None:
    tls = TlsConfig(
        [certs.ecdsa], ciphers="ALL:@SECLEVEL=0", min_version=ssl.TLSVersion.TLSv1, max_version=ssl.TLSVersion.TLSv1
    )
    with serving("imaps", tls) as server:
        # OpenSSL as the oracle: the server completes a TLS 1.0 handshake and nothing newer
        tls10 = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1", "-cipher", "ALL:@SECLEVEL=0"],
            input=b"",
            capture_output=True,
            timeout=10,
        )
        tls12 = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_2"],
            input=b"",
            capture_output=True,
            timeout=10,
        )
        run = check(*args_for(server, "imaps", pki, "--client", "thunderbird"))
    assert b"Protocol  : TLSv1\n" in tls10.stdout or b"TLSv1, Cipher is" in tls10.stdout, tls10.stdout
    assert tls12.returncode != 0
    assert run.code == 2, run.stdout
    assert (
        "Thunderbird cannot connect: the server supports at most TLS 1.0, this client requires TLS 1.2 or newer"
        in run.summary
    )
    assert "TLS 1, " not in run.summary
