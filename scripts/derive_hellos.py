"""Derive profile hello facts from captured ClientHello bytes (used once; the output goes into profiles.json).

A small independent ClientHello parser: it reads the raw bytes of a capture
(testssl.sh's etc/client-simulation.txt "handshakebytes", or the hex that
scripts/capture_hello.py prints) and prints the "hello" object of
profiles.json: versions, suites, groups, key-share groups, signature
algorithms, ALPN, SNI presence and the extension order, with everything we do
not model kept as raw bytes.

Usage:
  python scripts/derive_hellos.py testssl FILE "Apple Mail (16.0)" ...
  python scripts/derive_hellos.py hex FILE.hex ...
  python scripts/derive_hellos.py profiles [--check]

``profiles`` rewrites check_tls_mail/clients/profiles.json from
captures/clients.json (scripts/capture_clients): each profile whose
"capture" names an entry of that file gets the hello read here from the
entry's bytes, and the entry's package version and capture date. With
--check it writes nothing and exits 1 when the file is not what it would
write.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from check_tls_mail.tls.codepoints import ExtensionType
from check_tls_mail.tls.registry import EXTENSIONS, GROUPS, SIGNATURE_ALGORITHMS

MODELLED = {int(e) for e in ExtensionType}
ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "check_tls_mail" / "clients" / "profiles.json"
CLIENTS = "captures/clients.json"
#: The order of a profile's "hello" keys in profiles.json (what parse() does not find is left out).
HELLO_KEYS = (
    "record_version",
    "legacy_version",
    "supported_versions",
    "cipher_suites",
    "compression_methods",
    "session_id_length",
    "sni",
    "extensions",
    "supported_groups",
    "key_share_groups",
    "ec_point_formats",
    "signature_algorithms",
    "signature_algorithms_cert",
    "alpn",
    "psk_key_exchange_modes",
    "record_size_limit",
    "compress_certificate",
    "delegated_credential",
    "heartbeat_mode",
    "raw_extensions",
)


def code_name(code: int, names: dict[int, str]) -> str:
    return names.get(code, f"0x{code:04x}")


def parse(record_bytes: bytes) -> dict[str, object]:
    body = b""
    rest = record_bytes
    record_version = int.from_bytes(rest[1:3], "big")
    while rest:
        size = int.from_bytes(rest[3:5], "big")
        body += rest[5 : 5 + size]
        rest = rest[5 + size :]
    assert body[0] == 1, "not a ClientHello"
    hello = body[4 : 4 + int.from_bytes(body[1:4], "big")]
    at = 0

    def take(n: int) -> bytes:
        nonlocal at
        piece = hello[at : at + n]
        at += n
        return piece

    legacy = int.from_bytes(take(2), "big")
    take(32)
    session_id_length = take(1)[0]
    take(session_id_length)
    suites_len = int.from_bytes(take(2), "big")
    suites = take(suites_len)
    compression = list(take(take(1)[0]))
    ext_block = take(int.from_bytes(take(2), "big"))
    out: dict[str, object] = {
        "record_version": f"0x{record_version:04x}",
        "legacy_version": f"0x{legacy:04x}",
        "supported_versions": None,
        "cipher_suites": [f"0x{int.from_bytes(suites[i : i + 2], 'big'):04x}" for i in range(0, len(suites), 2)],
        "compression_methods": compression,
        "session_id_length": session_id_length,
    }
    order: list[str] = []
    raw: dict[str, str] = {}
    i = 0
    while i < len(ext_block):
        ext_type = int.from_bytes(ext_block[i : i + 2], "big")
        size = int.from_bytes(ext_block[i + 2 : i + 4], "big")
        data = ext_block[i + 4 : i + 4 + size]
        i += 4 + size
        name = EXTENSIONS.get(ext_type) if ext_type in MODELLED else None
        order.append(name or f"0x{ext_type:04x}")

        def u16s(blob: bytes) -> list[int]:
            return [int.from_bytes(blob[j : j + 2], "big") for j in range(0, len(blob), 2)]

        if ext_type == 0:
            out["sni"] = True
        elif ext_type == 10:
            out["supported_groups"] = [code_name(c, GROUPS) for c in u16s(data[2:])]
        elif ext_type == 11:
            out["ec_point_formats"] = list(data[1:])
        elif ext_type == 13:
            out["signature_algorithms"] = [code_name(c, SIGNATURE_ALGORITHMS) for c in u16s(data[2:])]
        elif ext_type == 50:
            out["signature_algorithms_cert"] = [code_name(c, SIGNATURE_ALGORITHMS) for c in u16s(data[2:])]
        elif ext_type == 16:
            protocols, j, block = [], 2, data
            while j < len(block):
                protocols.append(block[j + 1 : j + 1 + block[j]].decode())
                j += 1 + block[j]
            out["alpn"] = protocols
        elif ext_type == 43:
            out["supported_versions"] = [f"0x{c:04x}" for c in u16s(data[1:])]
        elif ext_type == 45:
            out["psk_key_exchange_modes"] = list(data[1:])
        elif ext_type == 51:
            groups, j, block = [], 2, data
            while j < len(block):
                groups.append(code_name(int.from_bytes(block[j : j + 2], "big"), GROUPS))
                j += 4 + int.from_bytes(block[j + 2 : j + 4], "big")
            out["key_share_groups"] = groups
        elif ext_type == 28:
            out["record_size_limit"] = int.from_bytes(data, "big")
        elif ext_type == 27:
            out["compress_certificate"] = u16s(data[1:])
        elif ext_type == 34:
            out["delegated_credential"] = [code_name(c, SIGNATURE_ALGORITHMS) for c in u16s(data[2:])]
        elif ext_type == 15:
            out["heartbeat_mode"] = data[0]
        elif ext_type == 5:
            assert data == b"\x01\x00\x00\x00\x00", data.hex()
        elif ext_type == 0xFF01:
            assert data == b"\x00", data.hex()
        elif ext_type not in MODELLED:
            raw[f"0x{ext_type:04x}"] = data.hex()
    out["extensions"] = order
    if raw:
        out["raw_extensions"] = raw
    out.setdefault("sni", False)
    return out


def testssl_entries(path: str) -> dict[str, dict[str, str]]:
    text = Path(path).read_text()
    entries = {}
    for block in re.split(r"\n\s*names\+=\(", text)[1:]:
        name = block.split('"')[1]
        fields = dict(re.findall(r'(\w+)\+=\("?([^")]*)"?\)', block))
        entries[name] = fields
    return entries


def dump(value: object, indent: int = 0) -> str:
    """JSON as profiles.json is written: objects one member a line, lists of plain values on one line."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}  {json.dumps(k, ensure_ascii=False)}: {dump(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        items = [f"{pad}  {dump(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def profile_hello(record_bytes: bytes) -> dict[str, object]:
    """A profile's "hello" object from a capture's bytes, its keys in profiles.json's order."""
    parsed = parse(record_bytes)
    return {key: parsed[key] for key in HELLO_KEYS if key in parsed}


def profiles(check: bool) -> int:
    """Rewrite (or, with ``check``, compare) profiles.json's captured hellos from captures/clients.json."""
    text = PROFILES.read_text()
    data = json.loads(text)
    captures = json.loads((ROOT / CLIENTS).read_text())["captures"]
    for profile in data["profiles"]:
        capture = profile.get("capture")
        if not capture or capture.get("file") != CLIENTS:
            continue
        entry = captures[capture["id"]]
        hello = profile_hello(bytes.fromhex(entry["hex"]))
        if profile.get("hello") != hello:
            profile["hello"] = hello
        capture["version"] = entry["version"]
        capture["date"] = entry["date"][:10]
    out = dump(data) + "\n"
    if out == text:
        return 0
    if check:
        print(f"{PROFILES.relative_to(ROOT)} differs from what {CLIENTS} gives: run derive_hellos.py profiles")
        return 1
    PROFILES.write_text(out)
    return 0


def main() -> None:
    if sys.argv[1:2] == ["profiles"]:
        sys.exit(profiles("--check" in sys.argv[2:]))
    mode, path, *names = sys.argv[1:]
    result: dict[str, object] = {}
    if mode == "testssl":
        entries = testssl_entries(path)
        for name in names:
            fields = entries[name]
            result[name] = {
                "hello": parse(bytes.fromhex(fields["handshakebytes"])),
                "testssl": {k: fields.get(k) for k in ("curves", "minRsaBits", "minEcdsaBits", "requiresSha2", "alpn")},
            }
    else:
        for name in [path, *names]:
            result[name] = {"hello": parse(bytes.fromhex(Path(name).read_text().strip()))}
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
