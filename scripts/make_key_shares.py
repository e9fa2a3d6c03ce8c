"""Write check_tls_mail/tls/hello/shares.py: one fixed, valid public key share per group the hellos carry.

A hello probe never completes the key exchange (it reads the server's answer
and closes), so a share need only be a valid public value of its group, not a
fresh one: a fixed share spares every run the key generation and the import of
cryptography's key-exchange modules, and a hybrid share needs no ML-KEM in the
installed cryptography (Debian 13's has none). The private keys made here are
thrown away at once. Needs a cryptography with ML-KEM (46 or newer).

Usage: python scripts/make_key_shares.py > check_tls_mail/tls/hello/shares.py
"""

from __future__ import annotations

import datetime
import textwrap

from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x448, x25519  # type: ignore[attr-defined]


def point(curve: ec.EllipticCurve) -> bytes:
    numbers = ec.generate_private_key(curve).public_key().public_numbers()
    size = (curve.key_size + 7) // 8
    return b"\x04" + numbers.x.to_bytes(size, "big") + numbers.y.to_bytes(size, "big")


def main() -> None:
    x25519_share = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    p256 = point(ec.SECP256R1())
    p384 = point(ec.SECP384R1())
    mlkem768 = mlkem.MLKEM768PrivateKey.generate().public_key().public_bytes_raw()
    mlkem1024 = mlkem.MLKEM1024PrivateKey.generate().public_key().public_bytes_raw()
    shares = {
        "X25519 (0x001d)": (0x001D, x25519_share),
        "X448 (0x001e)": (0x001E, x448.X448PrivateKey.generate().public_key().public_bytes_raw()),
        "P-256 (0x0017), uncompressed point": (0x0017, p256),
        "P-384 (0x0018), uncompressed point": (0x0018, p384),
        "P-521 (0x0019), uncompressed point": (0x0019, point(ec.SECP521R1())),
        # draft-ietf-tls-ecdhe-mlkem: the concatenations, in the draft's order for each group
        "SecP256r1MLKEM768 (0x11eb): P-256 point, ML-KEM-768 key": (0x11EB, p256 + mlkem768),
        "X25519MLKEM768 (0x11ec): ML-KEM-768 key, X25519": (0x11EC, mlkem768 + x25519_share),
        "SecP384r1MLKEM1024 (0x11ed): P-384 point, ML-KEM-1024 key": (0x11ED, p384 + mlkem1024),
    }
    print(f'''"""Fixed key shares for the hellos: one valid public value per group (a generated table).

Made by scripts/make_key_shares.py on {datetime.date.today()} (its docstring says why fixed shares do): a hello
probe reads the server's answer and closes, so no share is ever used to derive a key.
"""

from __future__ import annotations

SHARES: dict[int, bytes] = {{''')
    for comment, (group, data) in shares.items():
        print(f"    # {comment}, {len(data)} bytes")
        print(f"    0x{group:04X}: bytes.fromhex(")
        for line in textwrap.wrap(data.hex(), 100):
            print(f'        "{line}"')
        print("    ),")
    print("}")


if __name__ == "__main__":
    main()
