"""DANE (RFC 6698, RFC 7672): do the TLSA records match the chain the server presented?

Facts only: which records are usable for SMTP (usages 2 and 3) and which of
them match the chain; the DANE context judges.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...records import NamedTuple
from ...x509.parse import read

if TYPE_CHECKING:  # resolver.py imports dnspython, which only DANE and --dns-server need
    from ...net.resolver import TlsaAnswer, TlsaRecord
    from .lookup import TlsaState


class DaneReport(NamedTuple):
    answer: TlsaAnswer
    usable: tuple[TlsaRecord, ...]  # DANE-TA and DANE-EE: what an SMTP client uses
    matching: tuple[TlsaRecord, ...]  # usable records that match the presented chain


class RenewedFile(NamedTuple):
    """An --expect-cert file whose certificate is not the one served yet: its chain against the records."""

    path: str
    chain: tuple[bytes, ...]
    report: DaneReport | None


class DaneJudgement(NamedTuple):
    """The lookup, and each served chain (as sent) matched against its answer (None: no answer to match)."""

    tlsa: TlsaState
    reports: dict[tuple[bytes, ...], DaneReport | None]
    renewed: tuple[RenewedFile, ...] = ()


def _selected(der: bytes, selector: int) -> bytes:
    """The certificate (0) or its SubjectPublicKeyInfo (1) as DER; empty for a certificate that cannot be read."""
    if selector == 0:
        return der
    return read(der).spki_der


def _digest(data: bytes, mtype: int) -> bytes | None:
    if mtype == 0:
        return data
    if mtype == 1:
        return hashlib.sha256(data).digest()
    if mtype == 2:
        return hashlib.sha512(data).digest()
    return None


def matches(record: TlsaRecord, chain: Sequence[bytes]) -> bool:
    """DANE-EE matches the leaf; DANE-TA any other certificate the server sent."""
    if record.selector not in (0, 1):
        return False
    candidates = chain[:1] if record.usage == 3 else chain[1:] if record.usage == 2 else []
    for der in candidates:
        selected = _selected(der, record.selector)
        if selected and _digest(selected, record.mtype) == record.data:  # an unreadable certificate matches nothing
            return True
    return False


def judge(answer: TlsaAnswer, chain: Sequence[bytes]) -> DaneReport:
    usable = tuple(r for r in answer.records if r.usage in (2, 3))
    return DaneReport(answer, usable, tuple(r for r in usable if matches(r, chain)))


def record_for(name: str, leaf: bytes) -> str:
    """The DANE-EE record for this leaf's key in zone-file form: '_25._tcp.mx.example.org. IN TLSA 3 1 1 <hex>'."""
    return f"{name.rstrip('.')}. IN TLSA 3 1 1 {hashlib.sha256(_selected(leaf, 1)).hexdigest()}"
