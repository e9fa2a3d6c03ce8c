"""STARTTLS dialogues: offered, not offered, refused, for every STARTTLS dialect."""

from __future__ import annotations

import pytest
from fakeserver import Behaviour, TlsConfig
from pki import Certs, Pki
from runs import args_for, check, serving

STARTTLS = {"smtp": "STARTTLS", "submission": "STARTTLS", "imap": "STARTTLS", "pop3": "STLS", "sieve": "STARTTLS"}
WHERE = {
    "smtp": "EHLO reply",
    "submission": "EHLO reply",
    "imap": "IMAP capabilities",
    "pop3": "CAPA reply",
    "sieve": "ManageSieve capabilities",
}


@pytest.mark.parametrize("protocol", sorted(STARTTLS))
def test_starttls_not_offered_is_critical(protocol: str, pki: Pki, certs: Certs) -> None:
    with serving(protocol, TlsConfig([certs.ecdsa]), Behaviour(offer_starttls=False)) as server:
        run = check(*args_for(server, protocol, pki))
    assert run.code == 2, run.stdout
    assert f"{STARTTLS[protocol]} not offered in the {WHERE[protocol]}" in run.summary


@pytest.mark.parametrize("protocol", sorted(STARTTLS))
def test_starttls_refused_is_critical_with_the_servers_words(protocol: str, pki: Pki, certs: Certs) -> None:
    with serving(protocol, TlsConfig([certs.ecdsa]), Behaviour(refuse_starttls=True)) as server:
        run = check(*args_for(server, protocol, pki))
    assert run.code == 2, run.stdout
    assert f"server refused {STARTTLS[protocol]}" in run.summary
    assert "not available" in run.summary


def test_imap_capabilities_in_the_greeting_are_used(pki: Pki, certs: Certs) -> None:
    with serving("imap", TlsConfig([certs.ecdsa]), Behaviour(caps_in_greeting=True)) as server:
        run = check(*args_for(server, "imap", pki, "--client", "none", "-vv"))
    assert run.code == 0, run.stdout
    assert "C: a2 STARTTLS" in run.stdout
    assert "CAPABILITY" not in run.stdout.split("C: a2 STARTTLS")[0].split("dialogue:")[1].replace(
        "S: * OK [CAPABILITY", ""
    )


def test_smtp_dialogue_is_shown_with_vv(pki: Pki, certs: Certs) -> None:
    with serving("submission", TlsConfig([certs.ecdsa])) as server:
        run = check(*args_for(server, "submission", pki, "--client", "none", "-vv"))
    assert run.code == 0
    assert "S: 220 fake.example.test ESMTP ready" in run.stdout
    assert "S: 250-STARTTLS" in run.stdout
    assert "C: STARTTLS" in run.stdout
