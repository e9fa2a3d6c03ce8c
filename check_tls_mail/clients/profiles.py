"""Client profiles: the package data file profiles.json as typed objects."""

import enum
import ipaddress
import json
import os
import re
import ssl
from collections.abc import Mapping, Sequence
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..net.dialects import Audience
from ..records import NamedTuple
from ..tls.versions import TlsVersion
from .offer import ClientOffer

if TYPE_CHECKING:  # imported when first used: a check that runs no hello probe does not pay for them
    from ..tls.hello.spec import HelloSpec
    from .constraints import CertificateConstraints

PROFILES_FILE = os.path.join(os.path.dirname(__file__), "profiles.json")


class DeliveryPolicy(enum.Enum):
    """A policy a sending MTA applies to the receiving MX, beside TLS itself."""

    DANE = "dane"  # RFC 7672: TLSA records must match
    MTA_STS = "mta-sts"  # RFC 8461: the MX must be listed and its certificate verify


class Adoption(enum.Enum):
    DEFAULT = "default"  # out of the box (Exim's hosts_try_dane = *, Microsoft 365, Gmail for MTA-STS)
    WHEN_CONFIGURED = "when-configured"  # an administrator turns it on (Postfix smtp_tls_security_level = dane)


def who_applies(profiles: Sequence["ClientProfile"], policy: DeliveryPolicy) -> tuple[str, str]:
    """Which of ``profiles`` (the sending MTAs probed: those with a "delivery" object) apply ``policy``, and
    which do not, in words: ("Exim (GnuTLS), and Postfix MTA where DANE is set up", "MTA on OpenSSL 1.0.2");
    ("", "") when no sending MTA was probed."""
    from ..words import join

    named = {DeliveryPolicy.DANE: "DANE", DeliveryPolicy.MTA_STS: "MTA-STS"}[policy]
    senders = [p for p in profiles if p.facts is not None and p.facts.data.get("delivery") is not None]
    if not senders:
        return "", ""
    default = [p.title for p in senders if p.applies(policy) is Adoption.DEFAULT]
    configured = [p.title for p in senders if p.applies(policy) is Adoption.WHEN_CONFIGURED]
    without = [
        p.title for p in profiles if p.applies(policy) is None and p.facts is not None and "delivery" in p.facts.data
    ]
    parts = [join(default)] if default else []
    if configured:
        parts.append(f"{join(configured)} where {named} is set up")
    return ", and ".join(parts), join(without)


class Capture(NamedTuple):
    """Where a profile's hello was captured: the client's version and the capture's date."""

    file: str  # captures/clients.json, or testssl.sh's client simulation data
    id: str  # the capture's key in that file
    client: str  # the Debian package captured, or the product
    version: str  # its exact version (a Debian package version: epoch and revision included)
    date: str  # YYYY-MM-DD: the capture, or (testssl.sh) the commit that added it
    same: tuple[str, ...] = ()  # other captures of the same hello (up to its random bytes)

    @property
    def short_version(self) -> str:
        """The upstream version: '153.8.0esr' of the Debian package version '1:153.8.0esr-1~deb12u1'."""
        if not self.file.startswith("captures/"):
            return self.version
        upstream = re.sub(r"^\d+:", "", self.version).rsplit("-", 1)[0]
        return re.sub(r"[+~]dfsg\d*$", "", upstream)

    @property
    def words(self) -> str:
        """'thunderbird 1:153.8.0esr-1~deb12u1, captured 2026-12-02'."""
        if self.file.startswith("testssl.sh"):  # the date is the commit that added it: captured by then
            return f"{self.client} {self.version}, captured by {self.date} (testssl.sh)"
        return f"{self.client} {self.version}, captured {self.date}"


class Facts:
    """A profile's "hello" and "certificate" JSON objects, turned into typed values once, when first asked."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self._hello: HelloSpec | None = None
        self._certificate: CertificateConstraints | None = None

    def hello(self, min_version: TlsVersion) -> "HelloSpec | None":
        if self._hello is None and "hello" in self.data:
            self._hello = hello_from_json(self.data["hello"], min_version)
        return self._hello

    def certificate(self) -> "CertificateConstraints | None":
        if self._certificate is None and "certificate" in self.data:
            from .constraints import CertificateConstraints

            self._certificate = CertificateConstraints.from_json(self.data["certificate"])
        return self._certificate


class ClientProfile(NamedTuple):
    name: str
    title: str
    description: str
    min_version: TlsVersion
    max_version: TlsVersion
    ciphers: str
    source: str
    #: The "hello" and "certificate" objects of profiles.json, parsed when first used.
    facts: Facts | None = None
    #: Field path ("hello.supported_groups") -> where the fact comes from; a key covers the fields below it.
    sources: tuple[tuple[str, str], ...] = ()
    #: Field path -> why the fact is inferred rather than read off a capture or a document.
    inferred: tuple[tuple[str, str], ...] = ()
    #: The capture the hello comes from; None: built from documentation.
    capture: Capture | None = None

    @property
    def freshness(self) -> str:
        """The client version and capture date the profile stands for, in a few words (for --list-clients, -v)."""
        if self.capture is None:
            return "built from documentation, not captured"
        return self.capture.words

    @property
    def hello_template(self) -> "HelloSpec | None":
        """The client's ClientHello without a server name (see ``hello``); None: no hello facts."""
        return self.facts.hello(self.min_version) if self.facts else None

    @property
    def sends_sni(self) -> bool:
        """Whether the client sends SNI (mail user agents do; most MTAs do not on port 25)."""
        return bool(self.facts.data.get("hello", {}).get("sni", True)) if self.facts else True

    @property
    def certificate(self) -> "CertificateConstraints | None":
        """The certificate rules the client's verifier enforces; None: not known."""
        return self.facts.certificate() if self.facts else None

    def hello(self, servername: str | None) -> "HelloSpec":
        """This client's ClientHello for a server: SNI only when the client sends it and the name is a DNS name."""
        if self.hello_template is None:
            raise ValueError(f"profile {self.name} has no hello facts")
        sni = servername if self.sends_sni and servername and not _is_ip(servername) else None
        return self.hello_template._replace(server_name=sni)

    @property
    def offer(self) -> ClientOffer:
        return ClientOffer(self.min_version, self.max_version, self.ciphers)

    def applies(self, policy: DeliveryPolicy) -> Adoption | None:
        """Whether this sending MTA applies a delivery policy (DANE, MTA-STS): by default, when configured, or
        not at all (None). From profiles.json's "delivery"; mail user agents have none."""
        value = self.facts.data.get("delivery", {}).get(policy.value) if self.facts else None
        return Adoption(value) if value else None

    @property
    def tls12_only(self) -> bool:
        """True when TLS 1.3 cannot rescue this client: its TLS <= 1.2 offer decides."""
        return self.max_version < TlsVersion.TLS1_3


class Catalogue(NamedTuple):
    revision: str
    profiles: dict[str, ClientProfile]
    defaults: dict[str, tuple[str, ...]]
    #: Former profile names, still accepted by --client, and the profile each now is.
    aliases: Mapping[str, str] = MappingProxyType({})

    def named(self, name: str) -> ClientProfile | None:
        """The profile of a name or of a former name; None: no such profile."""
        return self.profiles.get(self.aliases.get(name, name))

    def default_for(self, audience: Audience) -> tuple[ClientProfile, ...]:
        """The default set: MTAs for port-25 relay, plain TLS baselines, else mail user agents."""
        return tuple(self.profiles[name] for name in self.defaults[audience.value])


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _code(text: str) -> int:
    return int(text, 16)


def hello_from_json(data: Mapping[str, Any], min_version: TlsVersion) -> "HelloSpec":
    """The HelloSpec (without a server name) of a profile's "hello" object."""
    from ..tls.hello.spec import HelloSpec
    from ..tls.registry import EXTENSION_CODES, GROUP_CODES, SIGNATURE_ALGORITHM_CODES, code_of

    versions = data.get("supported_versions")
    raw = data.get("raw_extensions", {})
    spec = HelloSpec(
        cipher_suites=tuple(_code(c) for c in data["cipher_suites"]),
        extensions=tuple(code_of(e, EXTENSION_CODES) for e in data["extensions"]),
        legacy_version=_code(data["legacy_version"]),
        record_version=_code(data["record_version"]),
        supported_versions=None if versions is None else tuple(_code(v) for v in versions),
        min_version=min_version,
        compression_methods=tuple(data.get("compression_methods", (0,))),
        session_id_length=data.get("session_id_length", 32),
        supported_groups=tuple(code_of(g, GROUP_CODES) for g in data.get("supported_groups", ())),
        key_share_groups=tuple(code_of(g, GROUP_CODES) for g in data.get("key_share_groups", ())),
        ec_point_formats=tuple(data.get("ec_point_formats", (0,))),
        signature_algorithms=tuple(code_of(a, SIGNATURE_ALGORITHM_CODES) for a in data.get("signature_algorithms", ())),
        signature_algorithms_cert=tuple(
            code_of(a, SIGNATURE_ALGORITHM_CODES) for a in data.get("signature_algorithms_cert", ())
        ),
        alpn=None if data.get("alpn") is None else tuple(data["alpn"]),
        psk_key_exchange_modes=tuple(data.get("psk_key_exchange_modes", (1,))),
        record_size_limit=data.get("record_size_limit", 0x4001),
        compress_certificate=tuple(data.get("compress_certificate", ())),
        delegated_credential=tuple(code_of(a, SIGNATURE_ALGORITHM_CODES) for a in data.get("delegated_credential", ())),
        heartbeat_mode=data.get("heartbeat_mode", 1),
        raw_extensions=tuple((_code(t), bytes.fromhex(b)) for t, b in raw.items()),
    )
    return spec


def profile_from_json(data: Mapping[str, Any]) -> ClientProfile:
    fields = {
        k: v for k, v in data.items() if k not in ("hello", "certificate", "delivery", "sources", "inferred", "capture")
    }
    facts = {k: data[k] for k in ("hello", "certificate", "delivery") if k in data}
    try:
        fields["min_version"] = TlsVersion.parse(data["min_version"])
        fields["max_version"] = TlsVersion.parse(data["max_version"])
    except ValueError:
        raise ValueError(f"profile {data.get('name')}: bad TLS version range") from None
    return ClientProfile(
        **fields,
        facts=Facts(facts) if facts else None,
        sources=tuple(data.get("sources", {}).items()),
        inferred=tuple(data.get("inferred", {}).items()),
        capture=_capture(data.get("capture")),
    )


def _capture(data: Mapping[str, Any] | None) -> Capture | None:
    if data is None:
        return None
    return Capture(data["file"], data["id"], data["client"], data["version"], data["date"], tuple(data.get("same", ())))


@cache
def catalogue() -> Catalogue:
    with open(PROFILES_FILE, encoding="utf-8") as handle:
        data = json.load(handle)
    profiles = {p["name"]: profile_from_json(p) for p in data["profiles"]}
    defaults = {role: tuple(names) for role, names in data["defaults"].items()}
    aliases = dict(data.get("aliases", {}))
    return Catalogue(data["revision"], profiles, defaults, aliases)


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


def describe_all(verbose: bool = False) -> str:
    """The text of --list-clients: one line per profile; ``verbose`` (-v): each profile's hello, rules and sources."""
    cat = catalogue()
    roles: dict[str, list[str]] = {}
    for role, names in cat.defaults.items():
        for name in names:
            roles.setdefault(name, []).append(role)
    if not verbose:
        width = max(len(name) for name in cat.profiles)
        lines = [f"Client profiles (revision {cat.revision}), --client NAME; client version, capture date; -v: detail"]
        for p in cat.profiles.values():
            default = f" (default {', '.join(_ROLE_WORDS.get(r, r) for r in roles[p.name])})" if p.name in roles else ""
            fresh = f"{p.capture.short_version}, {p.capture.date}" if p.capture else "not captured"
            lines.append(f"  {p.name:<{width}}  {p.title}, {p.offer.versions}{default}; {fresh}")
        return "\n".join(lines)
    lines = [
        f"Client profiles (revision {cat.revision}); defaults: "
        + "; ".join(f"{role}: {', '.join(names)}" for role, names in cat.defaults.items())
        + "".join(f"; {old} is now {new}" for old, new in cat.aliases.items())
    ]
    for p in cat.profiles.values():
        lines.append("")
        lines.append(f"{p.name}: {p.title}, {p.offer.versions}")
        lines.append(f"  {p.description}")
        lines.append(f"  source: {p.source}")
        lines.append(f"  {_capture_line(p)}")
        lines.append(f"  TLS <= 1.2 ciphers: {p.ciphers}")
        missing = missing_locally(p)
        if missing:
            lines.append(f"  not offered by the local OpenSSL: {', '.join(missing)}")
        lines.extend(f"  {line}" for line in describe_hello(p))
        if p.certificate is not None:
            lines.append(f"  certificate: {describe_constraints(p.certificate)}")
        lines.extend(f"  source of {field}: {text}" for field, text in p.sources)
        lines.extend(f"  inferred: {field}: {why}" for field, why in p.inferred)
    return "\n".join(lines)


def _capture_line(profile: ClientProfile) -> str:
    """'capture: thunderbird 1:153.8.0esr-1~deb12u1, captured 2026-12-02 (captures/clients.json: thunderbird-...)'."""
    c = profile.capture
    if c is None:
        return "capture: none, built from documentation"
    same = f"; the same hello: {', '.join(c.same)}" if c.same else ""
    return f"capture: {c.words} ({c.file}: {c.id}{same})"


#: The protocols whose default set each role of profiles.json is.
_ROLE_WORDS = {"mua": "for mail clients", "mta": "for -P smtp", "tls": "for -P tls"}


def describe_hello(profile: ClientProfile) -> list[str]:
    """The hello facts of a profile, one line each (for --list-clients)."""
    from ..tls.codepoints import GREASE
    from ..tls.registry import EXTENSIONS, SIGNATURE_ALGORITHMS, group_name, name_of, suite_name

    h = profile.hello_template
    if h is None:
        return []
    tls13 = [suite_name(c) for c in h.cipher_suites if 0x1301 <= c <= 0x13FF]
    real = [g for g in h.supported_groups if g not in GREASE]
    shares = [group_name(g) for g in h.key_share_groups if g not in GREASE]
    return [
        f"TLS 1.3 suites: {', '.join(tls13) or 'none'}",
        f"groups: {', '.join(group_name(g) for g in real) or 'none'}"
        + (f"; key shares: {', '.join(shares)}" if shares else ""),
        "signature algorithms: "
        + ", ".join(name_of(a, SIGNATURE_ALGORITHMS) for a in h.signature_algorithms if a not in GREASE),
        f"SNI: {'sent' if profile.sends_sni else 'not sent'}; ALPN: {', '.join(h.alpn) if h.alpn else 'none'}",
        "extensions in order: " + ", ".join("GREASE" if e in GREASE else name_of(e, EXTENSIONS) for e in h.extensions),
    ]


def describe_constraints(c: "CertificateConstraints") -> str:
    parts = ["keys " + "/".join(sorted(k.value for k in c.key_types))]
    if c.min_rsa_bits is not None:
        builtin = c.min_rsa_bits_builtin
        public = f" ({builtin} to a public root)" if builtin is not None and builtin != c.min_rsa_bits else ""
        parts.append(f"RSA >= {c.min_rsa_bits} bits{public}")
    if c.ecdsa_curves is not None:
        parts.append("ECDSA on " + "/".join(sorted(curve.value for curve in c.ecdsa_curves)))
    if c.requires_sha2:
        parts.append("SHA-2 signatures")
    if c.server_auth_eku.value == "required":
        parts.append("serverAuth EKU required")
    elif c.server_auth_eku.value == "required-for-builtin-roots":
        parts.append("serverAuth EKU required to a public root")
    if c.max_validity_days is not None:
        parts.append(f"validity <= {c.max_validity_days} days")
        if c.lifetime_rules_since is not None:
            parts[-1] += f" (issued from {c.lifetime_rules_since.isoformat()})"
    if c.max_validity_days_builtin is not None:
        since = c.builtin_validity_since
        parts.append(f"<= {c.max_validity_days_builtin} days to a public root" + (f" (from {since})" if since else ""))
    if c.requires_san:
        parts.append("DNS name in subjectAltName (no CN)")
    if not c.partial_wildcards:
        parts.append("whole-label wildcards only")
    if not c.ca_leaf_accepted:
        parts.append("no CA certificate as the server's")
    parts.append("verified " + ("always" if c.verifies.value == "always" else "only when configured (DANE, MTA-STS)"))
    return ", ".join(parts)
