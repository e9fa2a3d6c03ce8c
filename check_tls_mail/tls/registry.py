"""Names of TLS code points: cipher suites, groups, signature algorithms, extensions.

Data layer (no logic beyond look-ups): the IANA TLS registries' names and
OpenSSL's names for groups (what operators type into Postfix, Dovecot and
OpenSSL settings). The cipher suites are in suites.py, a generated table.
"""

from __future__ import annotations

from .suites import CIPHER_SUITES

#: IANA TLS Supported Groups registry (RFC 8446, RFC 8422, RFC 7919, draft-ietf-tls-ecdhe-mlkem).
GROUPS: dict[int, str] = {
    0x0001: "sect163k1",
    0x0002: "sect163r1",
    0x0003: "sect163r2",
    0x0004: "sect193r1",
    0x0005: "sect193r2",
    0x0006: "sect233k1",
    0x0007: "sect233r1",
    0x0008: "sect239k1",
    0x0009: "sect283k1",
    0x000A: "sect283r1",
    0x000B: "sect409k1",
    0x000C: "sect409r1",
    0x000D: "sect571k1",
    0x000E: "sect571r1",
    0x000F: "secp160k1",
    0x0010: "secp160r1",
    0x0011: "secp160r2",
    0x0012: "secp192k1",
    0x0013: "secp192r1",
    0x0014: "secp224k1",
    0x0015: "secp224r1",
    0x0016: "secp256k1",
    0x0017: "secp256r1",
    0x0018: "secp384r1",
    0x0019: "secp521r1",
    0x001A: "brainpoolP256r1",
    0x001B: "brainpoolP384r1",
    0x001C: "brainpoolP512r1",
    0x001D: "x25519",
    0x001E: "x448",
    0x001F: "brainpoolP256r1tls13",
    0x0020: "brainpoolP384r1tls13",
    0x0021: "brainpoolP512r1tls13",
    0x0029: "curveSM2",
    0x0100: "ffdhe2048",
    0x0101: "ffdhe3072",
    0x0102: "ffdhe4096",
    0x0103: "ffdhe6144",
    0x0104: "ffdhe8192",
    0x0200: "MLKEM512",
    0x0201: "MLKEM768",
    0x0202: "MLKEM1024",
    0x11EB: "SecP256r1MLKEM768",
    0x11EC: "X25519MLKEM768",
    0x11ED: "SecP384r1MLKEM1024",
    0x11EE: "curveSM2MLKEM768",
    0x6399: "X25519Kyber768Draft00",
    0x639A: "SecP256r1Kyber768Draft00",
    0xFF01: "arbitrary_explicit_prime_curves",
    0xFF02: "arbitrary_explicit_char2_curves",
}

#: The names operators know and OpenSSL's -groups / Postfix tls_eecdh_auto_curves take.
GROUP_SHORT: dict[int, str] = {
    0x0015: "P-224",
    0x0017: "P-256",
    0x0018: "P-384",
    0x0019: "P-521",
    0x001D: "X25519",
    0x001E: "X448",
    0x001A: "brainpoolP256r1",
    0x001B: "brainpoolP384r1",
    0x001C: "brainpoolP512r1",
    0x0100: "ffdhe2048",
    0x0101: "ffdhe3072",
    0x0102: "ffdhe4096",
    0x0103: "ffdhe6144",
    0x0104: "ffdhe8192",
    0x11EB: "SecP256r1MLKEM768",
    0x11EC: "X25519MLKEM768",
    0x11ED: "SecP384r1MLKEM1024",
}

#: IANA TLS SignatureScheme registry (RFC 8446; TLS 1.2 hash/signature pairs of RFC 5246 for the legacy values).
SIGNATURE_ALGORITHMS: dict[int, str] = {
    0x0201: "rsa_pkcs1_sha1",
    0x0202: "dsa_sha1",
    0x0203: "ecdsa_sha1",
    0x0301: "rsa_sha224",
    0x0302: "dsa_sha224",
    0x0303: "ecdsa_sha224",
    0x0401: "rsa_pkcs1_sha256",
    0x0402: "dsa_sha256",
    0x0403: "ecdsa_secp256r1_sha256",
    0x0501: "rsa_pkcs1_sha384",
    0x0502: "dsa_sha384",
    0x0503: "ecdsa_secp384r1_sha384",
    0x0601: "rsa_pkcs1_sha512",
    0x0602: "dsa_sha512",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0708: "sm2sig_sm3",
    0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384",
    0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519",
    0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256",
    0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512",
    0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
    0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
    0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
    0x0904: "mldsa44",
    0x0905: "mldsa65",
    0x0906: "mldsa87",
}

#: IANA TLS ExtensionType registry (the ones our profiles and servers use).
EXTENSIONS: dict[int, str] = {
    0: "server_name",
    1: "max_fragment_length",
    5: "status_request",
    10: "supported_groups",
    11: "ec_point_formats",
    13: "signature_algorithms",
    14: "use_srtp",
    15: "heartbeat",
    16: "application_layer_protocol_negotiation",
    17: "status_request_v2",
    18: "signed_certificate_timestamp",
    21: "padding",
    22: "encrypt_then_mac",
    23: "extended_master_secret",
    24: "token_binding",
    27: "compress_certificate",
    28: "record_size_limit",
    34: "delegated_credential",
    35: "session_ticket",
    41: "pre_shared_key",
    42: "early_data",
    43: "supported_versions",
    44: "cookie",
    45: "psk_key_exchange_modes",
    47: "certificate_authorities",
    48: "oid_filters",
    49: "post_handshake_auth",
    50: "signature_algorithms_cert",
    51: "key_share",
    17613: "application_settings",
    0xFE0D: "encrypted_client_hello",
    0xFF01: "renegotiation_info",
}

GROUP_CODES = {name: code for code, name in GROUPS.items()}
SIGNATURE_ALGORITHM_CODES = {name: code for code, name in SIGNATURE_ALGORITHMS.items()}
EXTENSION_CODES = {name: code for code, name in EXTENSIONS.items()}


def code_of(name: str, codes: dict[str, int]) -> int:
    """A code point from its registry name (``codes``: one of the *_CODES maps) or from ``0x....`` hex."""
    if name.startswith("0x"):
        return int(name, 16)
    try:
        return codes[name]
    except KeyError:
        raise ValueError(f"unknown name {name!r}") from None


def name_of(code: int, table: dict[int, str]) -> str:
    return table.get(code, f"0x{code:04x}")


def suite_name(code: int, openssl: bool = False) -> str:
    """A suite's IANA name (or OpenSSL's), or its code in hex when unknown (GREASE, SCSV)."""
    suite = CIPHER_SUITES.get(code)
    if suite is None:
        return {0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", 0x5600: "TLS_FALLBACK_SCSV"}.get(code, f"0x{code:04x}")
    return (suite.openssl or suite.iana) if openssl else suite.iana


def group_name(code: int) -> str:
    """P-256, X25519... as operators write them; the IANA name otherwise."""
    return GROUP_SHORT.get(code) or name_of(code, GROUPS)
