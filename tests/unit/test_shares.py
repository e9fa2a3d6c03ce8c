"""The fixed key shares of the hellos (tls/hello/shares.py) are valid public values of their groups."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519

from check_tls_mail.tls.hello.shares import SHARES
from check_tls_mail.tls.hello.spec import HelloSpec, make_key_shares

CURVES = {0x0017: ec.SECP256R1(), 0x0018: ec.SECP384R1(), 0x0019: ec.SECP521R1()}


def _mlkem() -> object:
    return pytest.importorskip("cryptography.hazmat.primitives.asymmetric.mlkem")


@pytest.mark.parametrize("group", [0x001D, 0x001E, 0x0017, 0x0018, 0x0019])
def test_each_ecdh_share_loads_as_a_public_key_of_its_group(group: int) -> None:
    share = SHARES[group]
    if group == 0x001D:
        assert x25519.X25519PublicKey.from_public_bytes(share).public_bytes_raw() == share
    elif group == 0x001E:
        assert x448.X448PublicKey.from_public_bytes(share).public_bytes_raw() == share
    else:
        key = ec.EllipticCurvePublicKey.from_encoded_point(CURVES[group], share)  # checks the point is on the curve
        assert key.curve.name == CURVES[group].name


@pytest.mark.parametrize(
    ("group", "parts"),
    [
        (0x11EC, ("mlkem768", 0x001D)),  # X25519MLKEM768: the ML-KEM key first
        (0x11EB, (0x0017, "mlkem768")),  # SecP256r1MLKEM768: the point first
        (0x11ED, (0x0018, "mlkem1024")),
    ],
)
def test_each_hybrid_share_is_its_parts_in_the_drafts_order(group: int, parts: tuple[object, object]) -> None:
    mlkem = _mlkem()
    share, offset = SHARES[group], 0
    for part in parts:
        if isinstance(part, int):
            assert share[offset : offset + len(SHARES[part])] == SHARES[part]
            offset += len(SHARES[part])
        else:
            size = 1184 if part == "mlkem768" else 1568
            key = (mlkem.MLKEM768PublicKey if part == "mlkem768" else mlkem.MLKEM1024PublicKey).from_public_bytes(  # type: ignore[attr-defined]
                share[offset : offset + size]
            )
            assert key.public_bytes_raw() == share[offset : offset + size]
            offset += size
    assert offset == len(share)


def test_a_hello_carries_the_shares_of_its_first_groups_and_one_byte_for_grease() -> None:
    spec = HelloSpec(
        (0x1301,), (), key_share_groups=(0x0A0A, 0x11EC, 0x001D, 0x0100)
    )  # GREASE, hybrid, X25519, ffdhe2048
    shares = make_key_shares(spec)
    assert [(s.group, len(s.key_exchange)) for s in shares] == [(0x0A0A, 1), (0x11EC, 1216), (0x001D, 32)]
