"""Client profiles: the package data file profiles.json as typed objects."""

from __future__ import annotations

import json
import os
import ssl
from functools import cache
from typing import NamedTuple

from .handshake import VERSIONS, ClientOffer

PROFILES_FILE = os.path.join(os.path.dirname(__file__), "profiles.json")


class ClientProfile(NamedTuple):
    name: str
    title: str
    description: str
    min_version: str
    max_version: str
    ciphers: str
    source: str

    @property
    def offer(self) -> ClientOffer:
        return ClientOffer(self.min_version, self.max_version, self.ciphers)

    @property
    def tls12_only(self) -> bool:
        """True when TLS 1.3 cannot rescue this client: its TLS <= 1.2 offer decides."""
        return self.max_version != "1.3"


class Catalogue(NamedTuple):
    revision: str
    profiles: dict[str, ClientProfile]
    defaults: dict[str, tuple[str, ...]]

    def default_for(self, protocol: str) -> tuple[ClientProfile, ...]:
        """The default set: MTAs for port-25 relay, plain TLS baselines, else mail user agents."""
        role = {"smtp": "mta", "tls": "tls"}.get(protocol, "mua")
        return tuple(self.profiles[name] for name in self.defaults[role])


@cache
def catalogue() -> Catalogue:
    with open(PROFILES_FILE, encoding="utf-8") as handle:
        data = json.load(handle)
    profiles = {p["name"]: ClientProfile(**p) for p in data["profiles"]}
    for profile in profiles.values():
        if profile.min_version not in VERSIONS or profile.max_version not in VERSIONS:
            raise ValueError(f"profile {profile.name}: bad TLS version range")
    defaults = {role: tuple(names) for role, names in data["defaults"].items()}
    return Catalogue(data["revision"], profiles, defaults)


def local_ciphers(cipher_string: str) -> list[str]:
    """The TLS <= 1.2 suites the local OpenSSL really offers for a cipher string."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.set_ciphers(f"{cipher_string}:@SECLEVEL=0")
    except ssl.SSLError:
        return []
    return [c["name"] for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3"]


def missing_locally(profile: ClientProfile) -> list[str]:
    """Names in the profile's explicit list that the local OpenSSL cannot offer."""
    if any(op in profile.ciphers for op in ("!", "@", "+", "-")) or ":" not in profile.ciphers:
        return []  # a cipher expression, not a list of names
    available = set(local_ciphers(profile.ciphers))
    return [name for name in profile.ciphers.split(":") if name not in available]


def describe_all() -> str:
    """The text of --list-clients."""
    cat = catalogue()
    lines = [
        f"Client profiles (revision {cat.revision}); defaults: "
        + "; ".join(f"{role}: {', '.join(names)}" for role, names in cat.defaults.items())
    ]
    for p in cat.profiles.values():
        lines.append("")
        lines.append(f"{p.name}: {p.title}, TLS {p.min_version}-{p.max_version}")
        lines.append(f"  {p.description}")
        lines.append(f"  source: {p.source}")
        lines.append(f"  TLS <= 1.2 ciphers: {p.ciphers}")
        missing = missing_locally(p)
        if missing:
            lines.append(f"  not offered by the local OpenSSL: {', '.join(missing)}")
    return "\n".join(lines)
