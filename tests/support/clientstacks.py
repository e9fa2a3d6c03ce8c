"""Real client TLS stacks as oracles: each replays a client profile's offer against a server and says whether it
connected.

- ``s_client``: ``openssl s_client`` with the profile's own offer, for any profile: its TLS versions
  (``-min_protocol``/``-max_protocol``), TLS <= 1.2 suites (``-cipher``), TLS 1.3 suites (``-ciphersuites``),
  groups (``-groups``), signature algorithms (``-sigalgs``), SNI or ``-noservername``, ALPN if it sends one.
- ``gnutls_cli``: ``gnutls-cli`` with a priority string built from the profile's offer where GnuTLS can express
  it exactly (``gnutls_priority``: GnuTLS enables the product of key exchanges, ciphers and MACs, which must be
  the profile's suites and no more); ``--priority NORMAL`` for Exim, which is what Exim gives GnuTLS.
- ``tstclnt``: NSS's ``tstclnt`` (Debian's libnss3-tools), Thunderbird's own library, with the profile's
  versions (``-V``), suites (``-c``), groups (``-I``) and signature schemes (``-J``), from an NSS database that
  holds the test CA (``NssDb``, made with ``certutil``).
- ``posttls_finger``: Postfix's own SMTP client TLS (``posttls-finger -w``), for the profile of the Postfix
  installed here (``postfix_profile``).

What the profile offers and the stack cannot (GREASE, a group or an algorithm this build lacks) is left out
and kept in ``Replay.dropped`` for the failure message. s_client, gnutls-cli and tstclnt verify the server's
certificate against the test CA and the service's name; posttls-finger runs at Postfix's ``encrypt`` level,
which does not verify, as an MTA delivering to an MX without DANE or MTA-STS does not.

A stack "connected" when it sent a request after its handshake and got the answer: the servers are
``openssl s_server -www``, which answers ``GET /`` with a page and closes. A server that fails the client after
the client's side of the handshake is done (TLS 1.3 with a client certificate required: the alert comes after
the client's Finished) is then a failure, as it is for a mail client reading the server's greeting.
posttls-finger waits for an SMTP greeting that s_server never sends: it connected when its TLS connection was
established and it then timed out waiting for the greeting, not ended by the server's alert.

Names of suites, groups and algorithms come from the stacks themselves (``openssl ciphers -V``) or from the
tables here (IANA code points), never from the package under test.
"""

from __future__ import annotations

import contextlib
import functools
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from hellos import is_grease
from realservers import ServerRoot

from check_tls_mail.clients.profiles import ClientProfile

#: What a stack sends once connected: ``openssl s_server -www`` answers it with a page and closes.
REQUEST = b"GET / HTTP/1.0\r\n\r\n"
#: The first line of s_server -www's answer.
ANSWER = "HTTP/1.0 200 ok"
#: How long one run of a stack may take.
TIMEOUT = 20.0
#: What a stack's output ends with when it did not end by itself within TIMEOUT.
KILLED = f"(killed after {TIMEOUT:.0f} s)"

OPENSSL = "openssl s_client"
GNUTLS = "gnutls-cli"
NSS = "NSS tstclnt"
POSTFIX = "posttls-finger"


class Verdict(NamedTuple):
    """What a real stack came to with a profile's offer against a server."""

    stack: str  # OPENSSL, GNUTLS, NSS or POSTFIX
    connected: bool
    #: The stack's own words: its error, or what it negotiated. For failure messages only, never compared.
    words: str
    command: tuple[str, ...]
    #: What the profile offers that this stack cannot (left out of the replay).
    dropped: tuple[str, ...] = ()


class Target(NamedTuple):
    """A server to connect to: its port on 127.0.0.1, the service's name and the CA file that anchors it."""

    port: int
    name: str
    ca_file: str
    host: str = "127.0.0.1"


class Replay(NamedTuple):
    """A stack's command line for a profile's offer, and what the offer holds that the stack cannot express."""

    command: tuple[str, ...]
    dropped: tuple[str, ...]


# Groups: IANA code point -> (OpenSSL name, GnuTLS priority keyword, NSS tstclnt -I name); "" where there is none.
GROUPS: dict[int, tuple[str, str, str]] = {
    9: ("sect283k1", "", ""),
    10: ("sect283r1", "", ""),
    11: ("sect409k1", "", ""),
    12: ("sect409r1", "", ""),
    13: ("sect571k1", "", ""),
    14: ("sect571r1", "", ""),
    21: ("secp224r1", "GROUP-SECP224R1", ""),
    22: ("secp256k1", "", ""),
    23: ("P-256", "GROUP-SECP256R1", "P256"),
    24: ("P-384", "GROUP-SECP384R1", "P384"),
    25: ("P-521", "GROUP-SECP521R1", "P521"),
    26: ("brainpoolP256r1", "", ""),
    27: ("brainpoolP384r1", "", ""),
    28: ("brainpoolP512r1", "", ""),
    29: ("X25519", "GROUP-X25519", "x25519"),
    30: ("X448", "GROUP-X448", ""),
    31: ("brainpoolP256r1tls13", "", ""),
    32: ("brainpoolP384r1tls13", "", ""),
    33: ("brainpoolP512r1tls13", "", ""),
    256: ("ffdhe2048", "GROUP-FFDHE2048", "FF2048"),
    257: ("ffdhe3072", "GROUP-FFDHE3072", "FF3072"),
    258: ("ffdhe4096", "GROUP-FFDHE4096", "FF4096"),
    259: ("ffdhe6144", "GROUP-FFDHE6144", "FF6144"),
    260: ("ffdhe8192", "GROUP-FFDHE8192", "FF8192"),
    4587: ("SecP256r1MLKEM768", "GROUP-SECP256R1-MLKEM768", "secp256r1mlkem768"),
    4588: ("X25519MLKEM768", "GROUP-X25519-MLKEM768", "mlkem768x25519"),
    4589: ("SecP384r1MLKEM1024", "GROUP-SECP384R1-MLKEM1024", "secp384r1mlkem1024"),
}

# Signature algorithms: IANA code point -> (OpenSSL name, GnuTLS keywords, NSS tstclnt -J name).
SIGNATURE_ALGORITHMS: dict[int, tuple[str, tuple[str, ...], str]] = {
    0x0201: ("RSA+SHA1", ("SIGN-RSA-SHA1",), "rsa_pkcs1_sha1"),
    0x0202: ("DSA+SHA1", ("SIGN-DSA-SHA1",), "dsa_sha1"),
    0x0203: ("ECDSA+SHA1", ("SIGN-ECDSA-SHA1",), "ecdsa_sha1"),
    0x0301: ("RSA+SHA224", ("SIGN-RSA-SHA224",), ""),
    0x0302: ("DSA+SHA224", ("SIGN-DSA-SHA224",), ""),
    0x0303: ("ECDSA+SHA224", ("SIGN-ECDSA-SHA224",), ""),
    0x0401: ("RSA+SHA256", ("SIGN-RSA-SHA256",), "rsa_pkcs1_sha256"),
    0x0402: ("DSA+SHA256", ("SIGN-DSA-SHA256",), "dsa_sha256"),
    # GnuTLS names the code point twice: any curve (TLS 1.2) and bound to its curve (TLS 1.3).
    0x0403: ("ECDSA+SHA256", ("SIGN-ECDSA-SHA256", "SIGN-ECDSA-SECP256R1-SHA256"), "ecdsa_secp256r1_sha256"),
    0x0501: ("RSA+SHA384", ("SIGN-RSA-SHA384",), "rsa_pkcs1_sha384"),
    0x0502: ("DSA+SHA384", ("SIGN-DSA-SHA384",), "dsa_sha384"),
    0x0503: ("ECDSA+SHA384", ("SIGN-ECDSA-SHA384", "SIGN-ECDSA-SECP384R1-SHA384"), "ecdsa_secp384r1_sha384"),
    0x0601: ("RSA+SHA512", ("SIGN-RSA-SHA512",), "rsa_pkcs1_sha512"),
    0x0602: ("DSA+SHA512", ("SIGN-DSA-SHA512",), "dsa_sha512"),
    0x0603: ("ECDSA+SHA512", ("SIGN-ECDSA-SHA512", "SIGN-ECDSA-SECP521R1-SHA512"), "ecdsa_secp521r1_sha512"),
    0x0804: ("rsa_pss_rsae_sha256", ("SIGN-RSA-PSS-RSAE-SHA256",), "rsa_pss_rsae_sha256"),
    0x0805: ("rsa_pss_rsae_sha384", ("SIGN-RSA-PSS-RSAE-SHA384",), "rsa_pss_rsae_sha384"),
    0x0806: ("rsa_pss_rsae_sha512", ("SIGN-RSA-PSS-RSAE-SHA512",), "rsa_pss_rsae_sha512"),
    0x0807: ("ed25519", ("SIGN-EdDSA-Ed25519",), ""),
    0x0808: ("ed448", ("SIGN-EdDSA-Ed448",), ""),
    0x0809: ("rsa_pss_pss_sha256", ("SIGN-RSA-PSS-SHA256",), "rsa_pss_pss_sha256"),
    0x080A: ("rsa_pss_pss_sha384", ("SIGN-RSA-PSS-SHA384",), "rsa_pss_pss_sha384"),
    0x080B: ("rsa_pss_pss_sha512", ("SIGN-RSA-PSS-SHA512",), "rsa_pss_pss_sha512"),
    0x081A: ("ecdsa_brainpoolP256r1tls13_sha256", (), ""),
    0x081B: ("ecdsa_brainpoolP384r1tls13_sha384", (), ""),
    0x081C: ("ecdsa_brainpoolP512r1tls13_sha512", (), ""),
    0x0904: ("mldsa44", ("SIGN-MLDSA44",), ""),
    0x0905: ("mldsa65", ("SIGN-MLDSA65",), ""),
    0x0906: ("mldsa87", ("SIGN-MLDSA87",), ""),
}

#: TLS 1.3 suites by code point (RFC 8446 B.4): the names OpenSSL, GnuTLS and NSS share.
TLS13_SUITES = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0x1305: "TLS_AES_128_CCM_8_SHA256",
}

#: TLS versions by the wire number: (OpenSSL -min/-max_protocol, GnuTLS keyword, NSS -V name).
VERSIONS = {
    0x0301: ("TLSv1", "VERS-TLS1.0", "tls1.0"),
    0x0302: ("TLSv1.1", "VERS-TLS1.1", "tls1.1"),
    0x0303: ("TLSv1.2", "VERS-TLS1.2", "tls1.2"),
    0x0304: ("TLSv1.3", "VERS-TLS1.3", "tls1.3"),
}


class Offer(NamedTuple):
    """The parts of a profile's ClientHello the stacks can be told, GREASE and signalling values left out."""

    versions: tuple[int, ...]  # wire numbers, lowest first
    tls12_suites: tuple[int, ...]
    tls13_suites: tuple[int, ...]
    groups: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    sni: bool
    alpn: tuple[str, ...]
    extensions: frozenset[int]


#: Cipher suite values that are signals, not suites: the renegotiation SCSV and the fallback SCSV.
SIGNALS = {0x00FF, 0x5600}


def offer_of(profile: ClientProfile) -> Offer:
    hello = profile.hello_template
    if hello is None:
        raise ValueError(f"profile {profile.name} has no hello to replay")
    # Each value once: s_client refuses a list that names an algorithm twice (Apple ATS's hello repeats one).
    suites = list(dict.fromkeys(c for c in hello.cipher_suites if not is_grease(c) and c not in SIGNALS))
    versions = tuple(v for v in VERSIONS if profile.min_version.value <= v <= profile.max_version.value)
    return Offer(
        versions=versions,
        tls12_suites=tuple(c for c in suites if c not in TLS13_SUITES),
        tls13_suites=tuple(c for c in suites if c in TLS13_SUITES) if 0x0304 in versions else (),
        groups=tuple(dict.fromkeys(g for g in hello.supported_groups if not is_grease(g))),
        signature_algorithms=tuple(dict.fromkeys(a for a in hello.signature_algorithms if not is_grease(a))),
        sni=profile.sends_sni,
        alpn=tuple(hello.alpn or ()),
        extensions=frozenset(e for e in hello.extensions if not is_grease(e)),
    )


def _run(command: Sequence[str], keep_stdin_open: bool = False, stdin: bool = True) -> tuple[int, str]:
    """Run a client that sends REQUEST once connected; (exit status, stdout and stderr).

    ``keep_stdin_open``: gnutls-cli ends at the end of its input, maybe before the answer has come: its input
    stays open until it ends (the server closes after its answer). s_client (-ign_eof) reads the end of its
    input as "nothing more to send" and waits for the server. ``stdin`` False: the command reads REQUEST from a
    file it names itself (tstclnt spins on a pipe's end of input, and never ends).
    """
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            if process.stdin is not None:
                process.stdin.write(REQUEST)
                process.stdin.flush()
                if not keep_stdin_open:
                    process.stdin.close()
            process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            output.write(f"\n{KILLED}\n".encode())
        except BrokenPipeError:  # it ended before reading its input
            process.wait(TIMEOUT)
        finally:
            if process.stdin is not None and not process.stdin.closed:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()
        output.seek(0)
        return process.returncode, output.read().decode("utf-8", "replace")


def _words(output: str, patterns: Iterable[str]) -> str:
    """The lines of a stack's output that say what happened (its errors, or what it negotiated)."""
    patterns = (*patterns, re.escape(KILLED))
    lines = [line.strip() for line in output.splitlines() if any(re.search(p, line) for p in patterns)]
    return " | ".join(dict.fromkeys(lines))[:600] or output.strip()[-300:]


# --- OpenSSL ---------------------------------------------------------------------------------------------------


@functools.cache
def openssl_suite_names() -> dict[int, str]:
    """Code point -> name of every suite the local OpenSSL has (``openssl ciphers -V``), TLS 1.3 ones included."""
    every = ["-ciphersuites", ":".join(TLS13_SUITES.values()), "ALL:COMPLEMENTOFALL:@SECLEVEL=0"]
    listed = subprocess.run(
        ["openssl", "ciphers", "-V", *every],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    ).stdout
    return {
        int(high, 16) << 8 | int(low, 16): name
        for high, low, name in re.findall(r"0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)", listed)
    }


@functools.cache
def openssl_takes(option: str, value: str) -> bool:
    """Whether the local s_client takes ``value`` for ``option`` (-groups, -sigalgs): it says so before it
    connects (to port 1, where nothing listens)."""
    result = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:1", option, value],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return "SSL_CONF_cmd" not in result.stdout + result.stderr


def s_client_replay(profile: ClientProfile, target: Target) -> Replay:
    offer = offer_of(profile)
    names = openssl_suite_names()
    dropped: list[str] = []
    command = ["openssl", "s_client", "-connect", f"{target.host}:{target.port}"]
    low, high = VERSIONS[offer.versions[0]][0], VERSIONS[offer.versions[-1]][0]
    command += ["-min_protocol", low, "-max_protocol", high]
    tls12 = [names[c] for c in offer.tls12_suites if c in names]
    dropped += [f"suite 0x{c:04X}" for c in offer.tls12_suites if c not in names]
    # An empty -cipher list is an error; a profile with no TLS <= 1.2 suite offers none with "!ALL".
    command += ["-cipher", ":".join(tls12) or "!ALL"]
    if offer.tls13_suites:
        command += ["-ciphersuites", ":".join(TLS13_SUITES[c] for c in offer.tls13_suites)]
    groups = []
    for code in offer.groups:
        name = GROUPS.get(code, ("", "", ""))[0]
        if name and openssl_takes("-groups", name):
            groups.append(name)
        else:
            dropped.append(f"group {name or code}")
    if groups:
        command += ["-groups", ":".join(groups)]
    algorithms = []
    for code in offer.signature_algorithms:
        name = SIGNATURE_ALGORITHMS.get(code, ("", (), ""))[0]
        if name and openssl_takes("-sigalgs", name):
            algorithms.append(name)
        else:
            dropped.append(f"signature algorithm {name or hex(code)}")
    if algorithms:
        command += ["-sigalgs", ":".join(algorithms)]
    command += ["-servername", target.name] if offer.sni else ["-noservername"]
    if offer.alpn:
        command += ["-alpn", ",".join(offer.alpn)]
    command += ["-CAfile", target.ca_file, "-verify_return_error", "-verify_hostname", target.name, "-ign_eof"]
    return Replay(tuple(command), tuple(dropped))


def s_client(profile: ClientProfile, target: Target) -> Verdict:
    """``openssl s_client`` with the profile's offer, verifying the certificate, sending REQUEST."""
    replay = s_client_replay(profile, target)
    _status, output = _run(replay.command)
    words = _words(output, (r"Cipher is", r"error:", r"Verification error", r"alert"))
    return Verdict(OPENSSL, ANSWER in output, words, replay.command, replay.dropped)


# --- GnuTLS ----------------------------------------------------------------------------------------------------


class GnutlsSuite(NamedTuple):
    kx: str  # priority keyword: ECDHE-ECDSA
    cipher: str  # AES-128-GCM
    mac: str  # AEAD, SHA1, SHA256, SHA384


@functools.cache
def gnutls_listing(priority: str) -> tuple[dict[int, str], dict[str, tuple[str, ...]]] | None:
    """``gnutls-cli -l --priority PRIORITY``: (code point -> suite name, keyword lists by heading); None when
    GnuTLS refuses the priority string."""
    command = ["gnutls-cli", "-l"] + (["--priority", priority] if priority else [])
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if result.returncode != 0:
        return None
    suites = {
        int(high, 16) << 8 | int(low, 16): name
        for name, high, low in re.findall(r"^(TLS_\w+)\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})", result.stdout, re.M)
    }
    headings = {
        heading.lower(): tuple(item.strip() for item in items.split(","))
        for heading, items in re.findall(r"^([A-Z][\w -]+): (.*)$", result.stdout, re.M)
    }
    return suites, headings


def gnutls_takes(keyword: str) -> bool:
    return gnutls_listing(f"NORMAL:+{keyword}") is not None


@functools.cache
def gnutls_suites() -> dict[int, GnutlsSuite]:
    """Every TLS <= 1.2 suite this GnuTLS has, as the keywords that enable it (read off its suite names)."""
    listing = gnutls_listing("")
    if listing is None:
        return {}
    names, headings = listing
    kxs = sorted(headings.get("key exchange algorithms", ()), key=len, reverse=True)
    ciphers = sorted(headings.get("ciphers", ()), key=len, reverse=True)
    out = {}
    for code, name in names.items():
        if code in TLS13_SUITES:
            continue
        rest = name.removeprefix("TLS_")
        kx = next((k for k in kxs if rest.startswith(k.replace("-", "_") + "_")), None)
        if kx is None:
            continue
        rest = rest[len(kx) + 1 :]
        spelled = {c: c.replace("-", "_").replace("3DES_CBC", "3DES_EDE_CBC") for c in ciphers}
        cipher = next((c for c in ciphers if rest.startswith(spelled[c])), None)
        if cipher is None:
            continue
        tail = rest[len(spelled[cipher]) :].lstrip("_")
        aead = any(mode in cipher for mode in ("GCM", "CCM", "POLY1305"))
        out[code] = GnutlsSuite(kx, cipher, "AEAD" if aead else tail)
    return out


def gnutls_priority(profile: ClientProfile) -> tuple[str, tuple[str, ...]] | None:
    """(priority string, what it leaves out) for the profile's offer, or None where GnuTLS cannot express it:
    the product of the key exchanges, ciphers and MACs of its TLS <= 1.2 suites must be those suites (of the ones
    GnuTLS has) and no more, and its TLS 1.3 suites must come out the same."""
    offer = offer_of(profile)
    known = gnutls_suites()
    suites = [known[c] for c in offer.tls12_suites if c in known]
    dropped = [f"suite 0x{c:04X}" for c in offer.tls12_suites if c not in known]
    tls13_ciphers = {"TLS_AES_128_GCM_SHA256": "AES-128-GCM", "TLS_AES_256_GCM_SHA384": "AES-256-GCM"}
    tls13_ciphers |= {"TLS_CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305", "TLS_AES_128_CCM_SHA256": "AES-128-CCM"}
    ciphers = [s.cipher for s in suites] + [tls13_ciphers.get(TLS13_SUITES[c], "?") for c in offer.tls13_suites]
    macs = [s.mac for s in suites] + ["AEAD"] * bool(offer.tls13_suites)
    parts = ["NONE"]
    parts += [f"+{VERSIONS[v][1]}" for v in reversed(offer.versions)]
    parts += [f"+{c}" for c in dict.fromkeys(ciphers)]
    parts += [f"+{m}" for m in dict.fromkeys(macs)]
    parts += [f"+{k}" for k in dict.fromkeys(s.kx for s in suites)]
    for code in offer.groups:
        keyword = GROUPS.get(code, ("", "", ""))[1]
        if keyword and gnutls_takes(keyword):
            parts.append(f"+{keyword}")
        else:
            dropped.append(f"group {GROUPS.get(code, (str(code),))[0]}")
    for code in offer.signature_algorithms:
        keywords = [k for k in SIGNATURE_ALGORITHMS.get(code, ("", (), ""))[1] if gnutls_takes(k)]
        parts += [f"+{k}" for k in keywords]
        if not keywords:
            dropped.append(f"signature algorithm 0x{code:04X}")
    parts += ["+COMP-NULL", "+CTYPE-X509"]
    priority = ":".join(parts)
    listing = gnutls_listing(priority)
    if "?" in ciphers or listing is None:
        return None
    wanted = {c for c in offer.tls12_suites if c in known} | set(offer.tls13_suites)
    return (priority, tuple(dropped)) if set(listing[0]) == wanted else None


def gnutls_cli(profile: ClientProfile, target: Target, priority: str | None = None) -> Verdict:
    """``gnutls-cli`` with ``priority`` (default: the profile's own, from gnutls_priority), verifying the
    certificate, sending REQUEST."""
    dropped: tuple[str, ...] = ()
    if priority is None:
        built = gnutls_priority(profile)
        if built is None:
            raise ValueError(f"GnuTLS cannot express {profile.name}'s offer")
        priority, dropped = built
    offer = offer_of(profile)
    command = ["gnutls-cli", "--priority", priority, "--x509cafile", target.ca_file, "--verify-hostname", target.name]
    command += ["--sni-hostname", target.name] if offer.sni else ["--disable-sni"]
    if offer.alpn:
        command += [f"--alpn={p}" for p in offer.alpn]
    command += ["--port", str(target.port), target.host]
    _status, output = _run(command, keep_stdin_open=True)
    words = _words(output, (r"^\*\*\*", r"- Description:", r"Error", r"alert"))
    return Verdict(GNUTLS, ANSWER in output, words, tuple(command), dropped)


# --- NSS -------------------------------------------------------------------------------------------------------


class NssDb:
    """An NSS database (``certutil -N``) that trusts the test CA for TLS servers (``-t C,,``)."""

    def __init__(self, directory: Path, ca_file: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.spec = f"sql:{directory}"
        self.request = directory / "request"
        self.request.write_bytes(REQUEST)
        for command in (
            ["certutil", "-N", "-d", self.spec, "--empty-password"],
            ["certutil", "-A", "-d", self.spec, "-n", "test-root", "-t", "C,,", "-i", ca_file],
        ):
            subprocess.run(
                command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT, check=True
            )


#: Extensions a profile sends that tstclnt sends only when asked: code -> flag.
NSS_EXTENSION_FLAGS = {
    5: "-T",  # status_request (OCSP stapling)
    18: "-U",  # signed_certificate_timestamp
    23: "-G",  # extended_master_secret
    34: "-B",  # delegated_credentials
    35: "-u",  # session_ticket
}


@functools.cache
def nss_names() -> tuple[frozenset[str], frozenset[str]]:
    """(groups, signature schemes) this tstclnt takes, as its usage text lists them under -I and -J."""
    usage = subprocess.run(["tstclnt", "-h"], capture_output=True, text=True, timeout=TIMEOUT, check=False)
    text = usage.stdout + usage.stderr

    def listed(option: str) -> frozenset[str]:
        found = re.search(rf"^-{option}\s.*?valid:(.*?)(?=^-\S)", text, re.M | re.S)
        return frozenset(re.findall(r"[A-Za-z0-9_]+", found.group(1))) if found else frozenset()

    return listed("I"), listed("J")


def tstclnt_replay(profile: ClientProfile, target: Target, db: NssDb) -> Replay:
    offer = offer_of(profile)
    groups_taken, schemes_taken = nss_names()
    dropped: list[str] = []
    command = ["tstclnt", "-h", target.host, "-p", str(target.port), "-d", db.spec, "-A", str(db.request)]
    low, high = VERSIONS[offer.versions[0]][2], VERSIONS[offer.versions[-1]][2]
    command += ["-V", f"{low}:{high}"]
    command += ["-c", "".join(f":{c:04X}" for c in offer.tls13_suites + offer.tls12_suites)]
    groups = []
    for code in offer.groups:
        name = GROUPS.get(code, ("", "", ""))[2]
        if name and name in groups_taken:
            groups.append(name)
        else:
            dropped.append(f"group {GROUPS.get(code, (str(code),))[0]}")
    command += ["-I", ",".join(groups)]
    schemes = []
    for code in offer.signature_algorithms:
        name = SIGNATURE_ALGORITHMS.get(code, ("", (), ""))[2]
        if name and name in schemes_taken:
            schemes.append(name)
        else:
            dropped.append(f"signature algorithm 0x{code:04X}")
    command += ["-J", ",".join(schemes)]
    command += [flag for code, flag in NSS_EXTENSION_FLAGS.items() if code in offer.extensions]
    if offer.sni:
        command += ["-a", target.name]
    else:
        raise ValueError("tstclnt always sends a server name: it cannot replay a profile without SNI")
    return Replay(tuple(command), tuple(dropped))


def tstclnt(profile: ClientProfile, target: Target, db: NssDb) -> Verdict:
    """NSS's ``tstclnt`` with the profile's offer, verifying the certificate (the name given by -a), sending
    REQUEST."""
    replay = tstclnt_replay(profile, target, db)
    _status, output = _run(replay.command, stdin=False)
    words = _words(output, (r"^tstclnt:", r"SSL_ERROR", r"SEC_ERROR", r"Cipher is"))
    return Verdict(NSS, ANSWER in output, words, replay.command, replay.dropped)


# --- Postfix ---------------------------------------------------------------------------------------------------


def postfix_version(where: ServerRoot) -> str:
    """``mail_version`` of the Postfix that runs where ``where`` says (the host, or its chroot)."""
    result = subprocess.run(
        where.command(["postconf", "-d", "-h", "mail_version"]),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return result.stdout.strip()


def postfix_profile(profiles: Iterable[ClientProfile], version: str) -> ClientProfile | None:
    """The profile captured from this Postfix's major.minor version, if the catalogue has one."""
    branch = ".".join(version.split(".")[:2])
    for profile in profiles:
        capture = profile.capture
        if capture is not None and capture.client == "postfix" and capture.short_version.startswith(branch + "."):
            return profile
    return None


class PostfixConfig:
    """A configuration directory for posttls-finger (it reads main.cf), where Postfix runs."""

    def __init__(self, where: ServerRoot) -> None:
        self.where = where
        self.directory = where.directory("posttls-finger")
        (self.directory / "main.cf").write_text("compatibility_level = 3.6\n")


def posttls_finger(profile: ClientProfile, target: Target, config: PostfixConfig) -> Verdict:
    """Postfix's own client TLS in wrapper mode at the ``encrypt`` level, an MTA's (the ``may`` level's
    handshake, without falling back to plain text); SNI only where the profile sends it."""
    where = config.where
    finger = ["env", f"MAIL_CONFIG={where.inside(config.directory)}", "posttls-finger", "-c", "-w", "-l", "encrypt"]
    finger += ["-t", "1"]  # the timeout for the greeting that s_server never sends
    if profile.sends_sni:
        finger += ["-s", target.name]
    finger.append(f"[{target.host}]:{target.port}")
    command = where.command(finger)
    result = subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    output = result.stdout + result.stderr
    connected = "TLS connection established" in output and "timeout while reading server greeting" in output
    words = _words(output, (r"TLS connection established", r"TLS library problem", r"lost connection", r"timeout"))
    return Verdict(POSTFIX, connected, words, tuple(command))
