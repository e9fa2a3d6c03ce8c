"""Print the CIPHER_SUITES table of check_tls_mail/tls/suites.py (used when the table is regenerated).

Names come from the local OpenSSL (``openssl ciphers -V -stdname``: IANA and
OpenSSL names); code points the local OpenSSL does not know (old suites that
profiles still offer) are looked up in testssl.sh's etc/cipher-mapping.txt,
which lists the IANA registry's names beside OpenSSL's.

Usage: python scripts/make_tls_registry.py CIPHER-MAPPING.TXT CODE... (codes as 0xc02c)
"""

from __future__ import annotations

import re
import subprocess
import sys

TLS13_SUITES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
)
TLS13 = ":".join(TLS13_SUITES)


def auth_of(iana: str, code: int) -> str:
    """The key of the certificate a suite needs, as the table writes it: KeyType.ECDSA, .RSA, .DSA, or None
    (TLS 1.3 suites take any key; anonymous, PSK and SRP suites need no certificate)."""
    if 0x1301 <= code <= 0x13FF:
        return "None"
    body = iana.split("_WITH_")[0]
    if "anon" in body:
        return "None"
    if body.endswith("ECDSA"):
        return "KeyType.ECDSA"
    if body.endswith("DSS") or body.endswith("DSA"):
        return "KeyType.DSA"
    if "SRP" in body:
        return "None"
    if body.endswith("RSA_PSK") or body.endswith("RSA"):
        return "KeyType.RSA"
    if "PSK" in body:
        return "None"
    return "KeyType.RSA" if body in ("TLS_RSA", "SSL_RSA") else "None"


def main() -> None:
    mapping_file, *wanted = sys.argv[1:]
    table: dict[int, tuple[str, str | None]] = {}
    out = subprocess.run(
        ["openssl", "ciphers", "-V", "-stdname", "-ciphersuites", TLS13, "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in out.splitlines():
        parts = line.split()
        code = int(parts[0][2:4] + parts[0][7:9], 16)
        table[code] = (parts[2], parts[4])
    with open(mapping_file, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        m = re.match(r"\s*0x([0-9A-Fa-f]{2}),0x([0-9A-Fa-f]{2}) - (\S+)\s+(\S+)", line)
        if not m:
            continue
        code = int(m.group(1) + m.group(2), 16)
        if code in table or f"0x{code:04x}" not in wanted:
            continue
        table[code] = (m.group(4), m.group(3))
    missing = [w for w in wanted if int(w, 16) not in table and int(w, 16) & 0x0F0F != 0x0A0A and w != "0x00ff"]
    if missing:
        sys.exit(f"unknown: {missing}")
    print("CIPHER_SUITES: dict[int, Suite] = {")
    for code in sorted(table):
        iana, ossl = table[code]
        print(f'    0x{code:04X}: Suite("{iana}", "{ossl}", {auth_of(iana, code)}),')
    print("}")


if __name__ == "__main__":
    main()
