"""The client profiles: every one in profiles.json loads with a source for its hello; the default sets."""

from __future__ import annotations

import json

from runs import NAME, ROOT

from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.net.dialects import PROTOCOLS


def test_every_profile_in_the_file_loads_with_a_source_for_its_hello() -> None:
    """Nothing in profiles.json is dropped or renamed on the way into the catalogue, and each says where its
    hello comes from (a capture, or the documentation it is built from)."""
    entries = json.loads((ROOT / "check_tls_mail" / "clients" / "profiles.json").read_text())["profiles"]
    names = [entry["name"] for entry in entries]
    assert names and len(set(names)) == len(names)
    assert list(catalogue().profiles) == names
    for profile in catalogue().profiles.values():
        assert profile.hello(NAME).cipher_suites, profile.name
        assert any(key == "hello" and text.strip() for key, text in profile.sources), profile.name


def test_default_sets_follow_the_protocol() -> None:
    def names(protocol: str) -> list[str]:
        return [p.name for p in catalogue().default_for(PROTOCOLS[protocol].audience)]

    assert names("smtp") == ["postfix", "openssl-mta-tls12", "exim-gnutls"]
    assert {"apple-mail", "thunderbird", "outlook", "android"} == set(names("imaps"))
    assert "microsoft-365" not in names("smtp") + names("submission")
