"""The real servers' scenario certificates (realservers.Credentials) are what their tests say."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from realservers import OTHER_NAME, Credentials


def test_the_scenario_certificates_are_what_the_tests_say(creds: Credentials) -> None:
    assert creds.leaf("other").subject.rfc4514_string() == f"CN={OTHER_NAME}"
    assert Path(creds.files["ed25519"][0]).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    usage = creds.leaf("rsa").extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_encipherment and usage.digital_signature and not usage.content_commitment
