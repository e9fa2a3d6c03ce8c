"""Trust anchors and path building as OpenSSL does it: anchors first, then what the server sent, in any order.

Trust layer (pure): which certificate issued which, by names, key identifiers and key type; no signature check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .fields import SIGNATURES, ParsedCertificate
from .parse import parse, subject_der, subject_key
from .problems import Role

#: Longest chain a server may send that is read (more is cut, as handshake.MAX_CHAIN does).
MAX_SENT = 10


class Anchors:
    """Trust anchors (DER), indexed by subject; each read only when a chain needs it."""

    def __init__(self, certificates: Sequence[bytes], origin: str) -> None:
        self.origin = origin
        self._der = tuple(certificates)
        self._exact = frozenset(self._der)
        self._by_subject: dict[bytes, list[bytes]] = {}
        for der in self._der:
            self._by_subject.setdefault(subject_der(der), []).append(der)
        self._parsed: dict[bytes, ParsedCertificate] = {}
        self._by_key: dict[tuple[tuple[str, str], ...], list[bytes]] | None = None

    def __len__(self) -> int:
        return len(self._der)

    def _read(self, der: bytes) -> ParsedCertificate:
        if der not in self._parsed:
            self._parsed[der] = parse(der)
        return self._parsed[der]

    def contains(self, cert: ParsedCertificate) -> bool:
        return cert.der in self._exact

    def named(self, name_der: bytes, key: tuple[tuple[str, str], ...]) -> list[ParsedCertificate]:
        """Anchors whose subject is this name (by encoding, else by value as OpenSSL compares names)."""
        found = [self._read(der) for der in self._by_subject.get(name_der, ())]
        if found or not key:
            return found
        if self._by_key is None:
            self._by_key = {}
            for der in self._der:
                self._by_key.setdefault(subject_key(der), []).append(der)
        return [self._read(der) for der in self._by_key.get(key, ())]


def _names_match(issuer: ParsedCertificate, subject: ParsedCertificate) -> bool:
    return issuer.subject_der == subject.issuer_der or (
        bool(issuer.subject_key) and issuer.subject_key == subject.issuer_key
    )


def likely_issued(issuer: ParsedCertificate, subject: ParsedCertificate) -> bool:
    """OpenSSL's test for a candidate issuer: names, key identifiers, key type (no signature check)."""
    if not _names_match(issuer, subject):
        return False
    if None not in (subject.authority_key_id, issuer.subject_key_id) and (
        subject.authority_key_id != issuer.subject_key_id
    ):
        return False
    if subject.authority_issuer_serial is not None:
        name, serial = subject.authority_issuer_serial
        if name != issuer.issuer_der or serial != issuer.serial:
            return False
    expected = SIGNATURES.get(subject.signature_oid, ("", ""))[0]
    return not (expected and issuer.key_algorithm and expected != issuer.key_algorithm)


def self_signed(cert: ParsedCertificate) -> bool:
    """OpenSSL's "self-signed": self-issued, and its key identifiers and key type fit itself."""
    return cert.self_issued and likely_issued(cert, cert)


def _in_time(cert: ParsedCertificate, now: datetime) -> bool:
    return cert.not_before is not None and cert.not_after is not None and cert.not_before <= now <= cert.not_after


def _pick(candidates: list[ParsedCertificate], now: datetime) -> ParsedCertificate | None:
    """As OpenSSL: the first one valid now, else the one that expired last."""
    for cert in candidates:
        if _in_time(cert, now):
            return cert
    if not candidates:
        return None
    return max(candidates, key=lambda c: c.not_after or datetime.min.replace(tzinfo=now.tzinfo))


def build_chain(
    sent: tuple[ParsedCertificate, ...], anchors: Anchors, now: datetime
) -> tuple[list[ParsedCertificate], int | None]:
    """(chain, index of the first trusted certificate): trust anchors first, then what was sent."""
    chain = [sent[0]]
    trusted: int | None = None
    while len(chain) < MAX_SENT + 10:
        current = chain[-1]
        if trusted is None and self_signed(current) and anchors.contains(current):
            trusted = len(chain) - 1
            break
        candidates = [a for a in anchors.named(current.issuer_der, current.issuer_key) if likely_issued(a, current)]
        candidates = [c for c in candidates if c.der != current.der]
        issuer = _pick(candidates, now)
        if issuer is not None and self_signed(current) and len(chain) > 1:
            chain[-1] = issuer  # a self-signed root sent along gives way to the trusted one, as in OpenSSL
            trusted = len(chain) - 1
            break
        if issuer is not None:
            chain.append(issuer)
            if trusted is None:
                trusted = len(chain) - 1
            if self_signed(issuer):
                break
            continue
        if trusted is not None or self_signed(current):
            break
        used = {c.der for c in chain}
        issuer = _pick([c for c in sent[1:] if c.der not in used and likely_issued(c, current)], now)
        if issuer is None:
            break
        chain.append(issuer)
    return chain, trusted


def role(chain: Sequence[ParsedCertificate], position: int) -> Role:
    if position == 0:
        return Role.CERTIFICATE
    if position == len(chain) - 1 and self_signed(chain[position]):
        return Role.ROOT
    return Role.INTERMEDIATE
