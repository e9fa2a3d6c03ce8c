"""What one simulated client offers to a full OpenSSL handshake: a ``ClientOffer``, and the offers of the probes.

Client layer, data only: the probes turn an offer into an SSLContext (probe/handshake.py); a client profile
also has its own ClientHello (profiles.py).
"""

from ..records import NamedTuple
from ..tls.versions import TlsVersion
from ..x509.keys import KeyType


class ClientOffer(NamedTuple):
    """A version range and a TLS <= 1.2 cipher string (OpenSSL's syntax)."""

    min_version: TlsVersion = TlsVersion.TLS1_0
    max_version: TlsVersion = TlsVersion.TLS1_3
    ciphers: str = "ALL"

    @property
    def versions(self) -> str:
        """'TLS 1.0-1.3', or 'TLS 1.2' for one version, as the words give a range."""
        if self.min_version == self.max_version:
            return self.min_version.label
        return f"{self.min_version.label}-{self.max_version.number}"


#: Widest offer, used to fetch the certificate and the server's preferred version.
PRIMARY = ClientOffer()


def key_type_offer(key_type: KeyType) -> ClientOffer:
    """TLS 1.2 offer with every suite for one certificate key type (ECDSA or RSA)."""
    return ClientOffer(TlsVersion.TLS1_2, TlsVersion.TLS1_2, key_type.cipher_string)


def version_offer(version: TlsVersion) -> ClientOffer:
    """Exactly one TLS version, every suite (security level 0 lets TLS 1.0 and 1.1 be offered)."""
    return ClientOffer(version, version, "ALL")


def cipher_offer(name: str) -> ClientOffer:
    """One TLS 1.2 cipher on its own (--cipher)."""
    return ClientOffer(TlsVersion.TLS1_2, TlsVersion.TLS1_2, name)
