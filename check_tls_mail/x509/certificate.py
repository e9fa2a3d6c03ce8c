"""One certificate, read once per run: ``Certificate`` (parse.read makes it, the only way one is read).

X.509 layer. Each DER is read once (parse.read keeps what it read) by a DER walk (parse.py), as OpenSSL
reads it: the names' exact encodings (path building, DANE), the dates, OpenSSL's lenient reading of the
extensions, and each malformation by its kind. cryptography loads the key once (``public_key``: its facts
and the signatures it verifies), and its whole certificate object only for the optional checks that need it
(``crypto``): a default check never imports cryptography.x509.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from ..sanitize import clean
from .fields import OPENSSL_HANDLED, CertificateFields
from .keys import UNSUPPORTED, Key, KeyType, load_public_key

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

DAY = 86400.0
#: Certificates kept from what a server sends, and read from one chain; a longer chain is cut.
MAX_CHAIN = 10


class Certificate(CertificateFields):
    """A certificate: the fields of the DER walk, its key, and cryptography's object, each read at most once."""

    @cached_property
    def crypto(self) -> x509.Certificate | None:
        """cryptography's object, or None when cryptography refuses any part of it (``refusal`` says why).

        Only the optional checks read it (revocation, --expect-cert): the default run reads the key alone
        (``public_key``) and never imports cryptography.x509. What they read of it then never raises.
        """
        try:
            return load(self.der)
        except ValueError as exc:
            self.__dict__["refusal"] = str(exc)
            return None

    @property
    def refusal(self) -> str:
        """What cryptography said when it refused the DER ('' when it read it)."""
        self.crypto  # noqa: B018  # loads it, once
        return str(self.__dict__.get("refusal", ""))

    @cached_property
    def public_key(self) -> PublicKeyTypes | None:
        """cryptography's object for the subjectPublicKeyInfo the walk found (None when it cannot read it)."""
        return load_public_key(self.spki_der) if self.spki_der else None

    @cached_property
    def key(self) -> Key:
        """The public key as cryptography reads it (UNSUPPORTED when it cannot)."""
        from cryptography.exceptions import UnsupportedAlgorithm

        from .keys import key_of

        if self.public_key is None:
            return UNSUPPORTED
        try:
            return key_of(self.public_key)
        except (ValueError, UnsupportedAlgorithm, TypeError):
            return UNSUPPORTED

    @property
    def key_type(self) -> KeyType | None:
        return self.key.type

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the DER, in hex."""
        return hashlib.sha256(self.der).hexdigest()

    @property
    def valid_from(self) -> datetime:
        """notBefore; only for certificates that can be judged (chain.readable refuses one without dates)."""
        assert self.not_before is not None, "a certificate without readable dates is refused before it is judged"
        return self.not_before

    @property
    def valid_until(self) -> datetime:
        """notAfter; only for certificates that can be judged (chain.readable refuses one without dates)."""
        assert self.not_after is not None, "a certificate without readable dates is refused before it is judged"
        return self.not_after

    def days_left(self, now: datetime) -> float:
        return (self.valid_until - now).total_seconds() / DAY

    def days_until_valid(self, now: datetime) -> float:
        return (self.valid_from - now).total_seconds() / DAY

    @property
    def lifetime_days(self) -> float:
        return (self.valid_until - self.valid_from).total_seconds() / DAY

    @property
    def dns_names(self) -> tuple[str, ...]:
        """The subjectAltName's DNS names, raw (for matching only: clean() before output)."""
        return tuple(n.value.decode("latin-1") for n in self.san or () if n.kind == 2)

    @property
    def ip_addresses(self) -> tuple[str, ...]:
        return tuple(
            str(ipaddress.ip_address(n.value)) for n in self.san or () if n.kind == 7 and len(n.value) in (4, 16)
        )

    @property
    def names(self) -> str:
        """The names the certificate is for, cleaned and bounded, for output."""
        names = self.dns_names + self.ip_addresses
        shown = ", ".join(clean(n, 64) for n in names[:4])
        more = f" and {len(names) - 4} more" if len(names) > 4 else ""
        return (shown + more) or "no subjectAltName"

    @property
    def self_issued(self) -> bool:
        """Subject and issuer are the same name (by encoding, or by value as OpenSSL compares names)."""
        return self.subject_der == self.issuer_der or (bool(self.subject_key) and self.subject_key == self.issuer_key)

    @property
    def critical_unknown(self) -> tuple[str, ...]:
        """Critical extensions OpenSSL does not process (OIDs: never shown; see EXTENSION_NAMES)."""
        return tuple(oid for oid, critical, _ in self.extensions if critical and oid not in OPENSSL_HANDLED)


def load(der: bytes) -> x509.Certificate:
    """cryptography's certificate object, without the deprecation warnings it prints (negative serials...).

    The one place that asks cryptography to parse a certificate (``Certificate.crypto`` calls it once per
    DER). Raises ValueError for whatever cryptography cannot read (InvalidVersion for a bad version), reading
    each part the optional checks use, so that none of their reads raises later.
    """
    import warnings

    from cryptography import x509

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cert = x509.load_der_x509_certificate(der)
        except x509.InvalidVersion as exc:
            raise ValueError(f"the certificate's version is invalid: {exc}") from None
        for part, what in _PARTS:
            try:
                getattr(cert, part)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"its {what} cannot be read: {exc}") from None
    return cert


#: What the optional checks read of cryptography's object, and the words for each.
_PARTS = (
    ("subject", "subject name"),
    ("issuer", "issuer name"),
    ("extensions", "extensions"),
    ("not_valid_before_utc", "notBefore date"),
    ("not_valid_after_utc", "notAfter date"),
)
