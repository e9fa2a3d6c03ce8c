"""Fixtures shared by every tier: a test PKI, and real servers started once per session.

Test modules import their helpers from tests/support/ (on sys.path from here),
never from this file: ``runs`` runs the CLI, ``pki`` makes certificates,
``fakeserver`` serves them; see tests/README.md.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

# As the CLI does from its first line on (cli.entry.one_offer): the tests' own SSLContexts offer what the CLI's do.
os.environ["CRYPTOGRAPHY_OPENSSL_NO_LEGACY"] = "1"

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

import acme_servers
import mtasts_servers
import revocation_servers
from mtasts_servers import MtaStsWorld
from pki import Certs, Pki
from realservers import Credentials, DovecotInstance, PostfixInstance, base_directory
from revocation_servers import RevocationWorld
from runs import require

TESTS = Path(__file__).resolve().parent
#: The folders tests live in, each its own marker (pyproject.toml registers them): ``pytest -m unit``.
TIERS = ("unit", "seams", "process", "real")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test is marked with its folder's tier; a test outside the tier folders is an error."""
    for item in items:
        parts = Path(item.path).resolve().relative_to(TESTS).parts
        if len(parts) < 2 or parts[0] not in TIERS:
            raise pytest.UsageError(f"{item.nodeid}: a test module belongs in tests/{{{','.join(TIERS)}}}/")
        item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def certs(pki: Pki) -> Certs:
    return Certs(pki)


# Worlds of servers for the optional checks, shared by the tiers that look up, run the CLI, or ask OpenSSL.


@pytest.fixture(scope="session")
def revocation_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RevocationWorld]:
    """A CA whose certificates name OCSP responders and CRLs served on loopback (revocation_servers.py)."""
    require("openssl")
    world = revocation_servers.build(tmp_path_factory.mktemp("revocation"))
    yield world
    world.server.close()


@pytest.fixture(scope="session")
def mtasts_world(pki: Pki) -> Iterator[MtaStsWorld]:
    """Knot + Unbound publishing MTA-STS and TLS-RPT records, and HTTPS policy servers (mtasts_servers.py)."""
    require("knotd", "keymgr", "unbound")
    with mtasts_servers.running(pki) as world:
        yield world


# Real servers, shared by the real-server and the monitoring-engine tests.


@pytest.fixture(scope="session")
def acme_server(pki: Pki) -> Iterator[acme_servers.AcmeServer]:
    """ACME directories and renewalInfo answers over HTTPS on loopback, one per scenario (acme_servers.py)."""
    with acme_servers.AcmeServer(pki) as server:
        yield server


@pytest.fixture(scope="session")
def creds() -> Iterator[Credentials]:
    creds = Credentials.make(base_directory("certs"))
    yield creds
    shutil.rmtree(creds.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postfix(creds: Credentials) -> Iterator[PostfixInstance]:
    require("postfix")
    instance = PostfixInstance(creds)
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def dovecot(creds: Credentials) -> Iterator[dict[str, DovecotInstance]]:
    require("dovecot")
    instances: dict[str, DovecotInstance] = {}
    try:
        for scenario in ("incident", "fixed", "dual", "expiring", "notls"):
            instances[scenario] = DovecotInstance(creds, scenario)
            instances[scenario].start()
        yield instances
    finally:
        for instance in instances.values():
            instance.stop()
