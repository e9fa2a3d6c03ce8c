"""Paths through certificates: built as OpenSSL builds them (anchors first, then what was sent, in any order),
and followed by issuer name through what a server sent.

X.509 layer (pure): which certificate issued which, by names, key identifiers and key type; no signature check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .certificate import MAX_CHAIN, Certificate
from .problems import Role
from .signatures import SIGNATURES
from .store import TrustAnchors


def _names_match(issuer: Certificate, subject: Certificate) -> bool:
    return issuer.subject_der == subject.issuer_der or (
        bool(issuer.subject_key) and issuer.subject_key == subject.issuer_key
    )


def likely_issued(issuer: Certificate, subject: Certificate) -> bool:
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
    expected = SIGNATURES.get(subject.signature_oid, (None, None))[0]
    return not (expected and issuer.key_algorithm and expected is not issuer.key_algorithm)


def self_signed(cert: Certificate) -> bool:
    """OpenSSL's "self-signed": self-issued, and its key identifiers and key type fit itself."""
    return cert.self_issued and likely_issued(cert, cert)


def _in_time(cert: Certificate, now: datetime) -> bool:
    return cert.not_before is not None and cert.not_after is not None and cert.not_before <= now <= cert.not_after


def _pick(candidates: list[Certificate], now: datetime) -> Certificate | None:
    """As OpenSSL: the first one valid now, else the one that expired last."""
    for cert in candidates:
        if _in_time(cert, now):
            return cert
    if not candidates:
        return None
    return max(candidates, key=lambda c: c.not_after or datetime.min.replace(tzinfo=now.tzinfo))


def build_chain(
    sent: tuple[Certificate, ...], anchors: TrustAnchors, now: datetime
) -> tuple[list[Certificate], int | None]:
    """(chain, index of the first trusted certificate): trust anchors first, then what was sent."""
    chain = [sent[0]]
    trusted: int | None = None
    while len(chain) < MAX_CHAIN + 10:
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


def role(chain: Sequence[Certificate], position: int) -> Role:
    if position == 0:
        return Role.CERTIFICATE
    if position == len(chain) - 1 and self_signed(chain[position]):
        return Role.ROOT
    return Role.INTERMEDIATE


def by_name(sent: Sequence[Certificate]) -> tuple[tuple[Certificate, ...], Certificate | None]:
    """The leaf and the sent certificates that chain from it by issuer name (unverified), leaf first, and a
    self-signed root sent along, which is the trust anchor's business and not on the path (None: none sent)."""
    path = [sent[0]]
    while len(path) <= MAX_CHAIN and not path[-1].self_issued:
        parent = next((c for c in sent[1:] if _names_match(c, path[-1]) and c not in path), None)
        if parent is None:
            break
        if parent.self_issued:
            return tuple(path), parent
        path.append(parent)
    return tuple(path), None
