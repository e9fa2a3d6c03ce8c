"""What one run probes: the ``ProbePlan`` and the ``ProbeKey`` of each probe (what it is for, and for whom).

Probe layer, data only: the plan lists every offer one address gets, in the order they start; an outcome is
found by its key, never by position.
"""

import enum
from typing import TYPE_CHECKING

from ..clients.offer import PRIMARY, ClientOffer, cipher_offer, key_type_offer, version_offer
from ..clients.profiles import ClientProfile
from ..net.dialects import Dialect
from ..records import NamedTuple
from ..tls.versions import PROBED, TlsVersion
from ..x509.keys import KeyType

if TYPE_CHECKING:
    from ..tls.hello.spec import HelloSpec


#: The certificate key types probed separately over TLS 1.2 (dual certificates, diagnosis).
KEY_TYPES = (KeyType.ECDSA, KeyType.RSA)


class Purpose(enum.Enum):
    """What a probe is for."""

    DEFAULT = "the widest offer: certificate and preferred version"
    KEY_TYPE = "TLS 1.2 with the suites of one certificate key type"
    CLIENT = "a client profile"
    CIPHER = "one required cipher over TLS 1.2"
    VERSION = "exactly one TLS version"
    NO_SNI = "the widest offer without SNI, as most MTAs connect"


class ProbeKey(NamedTuple):
    """One probe of one address: its purpose and for whom (key type, profile name, cipher, version)."""

    purpose: Purpose
    subject: KeyType | TlsVersion | str = ""


DEFAULT_PROBE = ProbeKey(Purpose.DEFAULT)


class ProbePlan(NamedTuple):
    host: str
    port: int
    dialect: Dialect
    family: int
    servername: str | None
    clients: tuple[ClientProfile, ...]
    ciphers: tuple[str, ...]
    parallel: int
    seconds: float  # time allowed for all probes
    address: str | None = None  # --address: probe only this one (the host name still names the service)
    versions: bool = False  # probe TLS 1.0, 1.1, 1.2 and 1.3 one by one
    dns_server: tuple[str, int] | None = None  # --dns-server: the addresses from it (and the optional checks' DNS)

    def offers(self) -> dict[ProbeKey, ClientOffer]:
        """Every probe one address gets, in the order they start, with what each offers."""
        offers = {DEFAULT_PROBE: PRIMARY}
        offers.update({ProbeKey(Purpose.KEY_TYPE, kt): key_type_offer(kt) for kt in KEY_TYPES})
        offers.update({ProbeKey(Purpose.CLIENT, p.name): p.offer for p in self.clients})
        offers.update({ProbeKey(Purpose.CIPHER, name): cipher_offer(name) for name in self.ciphers})
        if self.versions:
            offers.update({ProbeKey(Purpose.VERSION, v): version_offer(v) for v in PROBED})
        if self.servername and any(not p.sends_sni for p in self.clients):
            offers[ProbeKey(Purpose.NO_SNI)] = PRIMARY
        return offers

    def hellos(self) -> dict[ProbeKey, "HelloSpec"]:
        """The client profiles probed with their own ClientHello (all that carry hello facts)."""
        return {
            ProbeKey(Purpose.CLIENT, p.name): p.hello(self.servername)
            for p in self.clients
            if p.hello_template is not None
        }
