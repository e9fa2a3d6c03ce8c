"""The client profiles: the default sets."""

from __future__ import annotations

import json

from runs import ROOT

from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.net.dialects import PROTOCOLS

PROFILES = [
    p["name"] for p in json.loads((ROOT / "check_tls_mail" / "clients" / "profiles.json").read_text())["profiles"]
]


def test_every_profile_is_taken() -> None:
    assert len(PROFILES) == 13


def test_default_sets_follow_the_protocol() -> None:
    def names(protocol: str) -> list[str]:
        return [p.name for p in catalogue().default_for(PROTOCOLS[protocol].audience)]

    assert names("smtp") == ["postfix", "openssl-mta-tls12", "exim-gnutls"]
    assert {"apple-mail", "thunderbird", "outlook", "android"} == set(names("imaps"))
    assert "microsoft-365" not in names("smtp") + names("submission")
