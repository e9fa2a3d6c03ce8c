"""The client profiles: every one in profiles.json loads with a source for its hello; the default sets."""

from __future__ import annotations

import json

from runs import NAME, ROOT

from check_tls_mail.cli.arguments import parser
from check_tls_mail.cli.options import options_from
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

    assert names("smtp") == ["postfix", "openssl-1.0.2-mta", "exim-gnutls", "sendmail-8.18"]
    assert {"apple-mail", "thunderbird", "outlook", "android"} == set(names("imaps"))
    assert "microsoft-365" not in names("smtp") + names("submission")


def test_the_default_mtas_include_one_that_sends_the_post_quantum_share() -> None:
    """Debian 13's sendmail (OpenSSL 3.5 defaults) sends an X25519MLKEM768 key share, a hello over one TCP
    segment: the MTA of the default set that meets a server or middlebox that drops large hellos."""
    shares = {p.name: p.hello(None).key_share_groups for p in catalogue().default_for(PROTOCOLS["smtp"].audience)}
    assert [name for name, groups in shares.items() if 0x11EC in groups] == ["sendmail-8.18"]


def test_a_former_profile_name_is_still_accepted_as_the_renamed_profile() -> None:
    """openssl-mta-tls12 sent OpenSSL 1.0.2e's hello under a name that said "TLS 1.2 with OpenSSL's DEFAULT": it is
    openssl-1.0.2-mta now, and the old name still selects it."""
    cat = catalogue()
    assert "openssl-mta-tls12" not in cat.profiles
    assert cat.named("openssl-mta-tls12") is cat.profiles["openssl-1.0.2-mta"]
    assert cat.named("no-such-client") is None
    argv = ["-H", "mx.example.test", "-P", "smtp", "--client", "openssl-mta-tls12", "--client", "postfix"]
    assert [p.name for p in options_from(parser().parse_args(argv)).plan.clients] == ["openssl-1.0.2-mta", "postfix"]
