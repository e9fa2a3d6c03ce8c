"""The differential corpus: chain variants made with cryptography (and by hand where it refuses).

Each Variant is a chain as a server sends it (DER, leaf first), the leaf's key,
the trust anchors a client is given (--ca-file / -CAfile) and the name it asks
for. tests/real/test_trust_oracle.py serves each one and asks `openssl s_client`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from pki import CA_USAGE, Issued, issue

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)
NAME = "mail.example.test"
#: An extension no one knows, to mark critical.
UNKNOWN_OID = ObjectIdentifier("1.3.6.1.4.1.55555.1")
#: A placeholder OID whose DER encoding has the length of subjectAltName's (55 1d 11),
#: so the DER can be patched in place to make what cryptography refuses to build.
PLACEHOLDER = ObjectIdentifier("2.5.29.99")
PLACEHOLDER_DER = b"\x06\x03\x55\x1d\x63"
SAN_DER = b"\x06\x03\x55\x1d\x11"
RSA_SHA256 = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"
RSA_SHA1 = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05"
RSA_MD5 = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x04"


class Node(NamedTuple):
    """One certificate (DER, as it goes on the wire) and the key it certifies."""

    der: bytes
    key: Key
    subject: x509.Name

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.der)


class Variant(NamedTuple):
    name: str
    served: tuple[bytes, ...]  # DER, leaf first, in the order the server sends them
    key: Key  # the leaf's
    anchors: tuple[bytes, ...]  # DER, what --ca-file / -CAfile holds
    host: str  # the name (or IP address) asked for
    note: str


_keys: dict[str, Key] = {}


def key(kind: str = "P-256", slot: str = "") -> Key:
    """Keys by kind, made once per slot (generating RSA 4096 is slow)."""
    ident = f"{kind}/{slot}"
    if ident not in _keys:
        if kind.startswith("RSA"):
            _keys[ident] = rsa.generate_private_key(65537, int(kind[3:]))
        elif kind == "P-384":
            _keys[ident] = ec.generate_private_key(ec.SECP384R1())
        elif kind == "P-521":
            _keys[ident] = ec.generate_private_key(ec.SECP521R1())
        elif kind == "Ed25519":
            _keys[ident] = ed25519.Ed25519PrivateKey.generate()
        else:
            _keys[ident] = ec.generate_private_key(ec.SECP256R1())
    return _keys[ident]


def cn(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


_PRINTABLE = x509.name._ASN1Type.PrintableString
LEAF_USAGE = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
DEFAULT: object = object()


def make(
    subject: str | x509.Name,
    issuer: Node | None = None,
    *,
    kind: str = "P-256",
    slot: str = "",
    ca: bool = False,
    pathlen: int | None = None,
    basic: bool = True,
    usage: x509.KeyUsage | object | None = DEFAULT,
    eku: Iterable[ObjectIdentifier] | object | None = DEFAULT,
    names: tuple[str, ...] | None = None,
    keyids: bool = True,
    extra: tuple[tuple[x509.ExtensionType, bool], ...] = (),
    days: tuple[float, float] = (-30, 365),
    digest: hashes.HashAlgorithm | None = None,
    v1: bool = False,
    patch: Callable[[bytes], bytes] | None = None,
    issuer_name: x509.Name | None = None,
    pss: bool = False,
) -> Node:
    """A certificate with only the extensions asked for (pki.issue); ``patch`` edits the TBS DER before signing.

    Unlike pki's defaults, a leaf's key usage is digitalSignature alone whatever its key, a CA names no
    extended key usage, and a leaf's subjectAltName is NAME. ``digest`` SHA-1 or MD5 (an RSA issuer) is
    patched in after signing, as cryptography signs with neither.
    """
    own = key(kind, slot or (subject if isinstance(subject, str) else subject.rfc4514_string()))
    name = cn(subject) if isinstance(subject, str) else subject
    signer = issuer.key if issuer else own
    if usage is DEFAULT:
        usage = CA_USAGE if ca else LEAF_USAGE
    if eku is DEFAULT:
        eku = None if ca else [ExtendedKeyUsageOID.SERVER_AUTH]
    if names is None:
        names = () if ca else (NAME,)
    issued = issue(
        name,
        own,
        Issued(issuer.cert, issuer.key) if issuer else None,
        NOW + days[0] * DAY,
        NOW + days[1] * DAY,
        ca=ca,
        names=names,
        eku=list(eku) if eku is not None else False,
        usage=usage,
        basic=basic,
        pathlen=pathlen,
        keyids=keyids,
        extra=extra,
        issuer_name=issuer_name or (issuer.subject if issuer else None),
        v1=v1,
        pss=pss,
    )
    der = issued.cert.public_bytes(serialization.Encoding.DER)
    signed_with = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    if isinstance(digest, hashes.SHA1 | hashes.MD5):  # sha256WithRSAEncryption patched in place, signed again
        assert isinstance(signer, rsa.RSAPrivateKey), "SHA-1 and MD5 variants need an RSA issuer"
        weak_oid = RSA_SHA1 if isinstance(digest, hashes.SHA1) else RSA_MD5
        der = resign(der, replace_once(RSA_SHA256, weak_oid), signer, digest, RSA_SHA256, weak_oid)
    if patch is not None:
        der = resign(der, patch, signer, signed_with)
    return Node(der, own, name)


# DER by hand, for certificates cryptography will not build


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def split(der: bytes) -> list[bytes]:
    """The TLVs inside one SEQUENCE (definite lengths only)."""
    assert der[0] == 0x30
    offset = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    items = []
    while offset < len(der):
        start = offset
        size = der[offset + 1]
        offset += 2
        if size & 0x80:
            count = size & 0x7F
            size = int.from_bytes(der[offset : offset + count], "big")
            offset += count
        offset += size
        items.append(der[start:offset])
    return items


def resign(
    der: bytes,
    patch: Callable[[bytes], bytes],
    signer: Key,
    digest: hashes.HashAlgorithm | None,
    old_algorithm: bytes = b"",
    new_algorithm: bytes = b"",
) -> bytes:
    """The certificate with its TBS edited by ``patch`` and signed again by ``signer``."""
    tbs, algorithm, _ = split(der)
    tbs = patch(tbs)
    if old_algorithm:
        algorithm = algorithm.replace(old_algorithm, new_algorithm)
    if isinstance(signer, rsa.RSAPrivateKey):
        from cryptography.hazmat.primitives.asymmetric import padding

        assert digest is not None
        signature = signer.sign(tbs, padding.PKCS1v15(), digest)
    elif isinstance(signer, ec.EllipticCurvePrivateKey):
        assert digest is not None
        signature = signer.sign(tbs, ec.ECDSA(digest))
    else:
        signature = signer.sign(tbs)
    return tlv(0x30, tbs + algorithm + tlv(0x03, b"\x00" + signature))


def replace_once(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def patch(tbs: bytes) -> bytes:
        assert tbs.count(old) == 1, (old, tbs)
        return tbs.replace(old, new)

    return patch


def san_value(*names: bytes) -> x509.UnrecognizedExtension:
    """A placeholder extension holding GeneralNames built by hand (patched into a subjectAltName)."""
    return x509.UnrecognizedExtension(PLACEHOLDER, tlv(0x30, b"".join(names)))


def dns(text: str) -> bytes:
    return tlv(0x82, text.encode())


def pem(der: bytes) -> bytes:
    import base64

    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def key_pem(private: Key) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def corpus() -> list[Variant]:
    """Every variant: a few dozen chains, each one difference from a well-made one."""
    root = make("Corpus Root CA", ca=True, days=(-400, 3650))
    inter = make("Corpus Intermediate CA", root, ca=True, days=(-100, 1000))
    leaf = make(NAME, inter)
    anchors = (root.der,)
    out: list[Variant] = []

    def add(
        name: str,
        leaf: Node,
        *rest: Node | bytes,
        anchors: tuple[bytes, ...] = anchors,
        host: str = NAME,
        note: str = "",
    ) -> None:
        served = (leaf.der, *(r.der if isinstance(r, Node) else r for r in rest))
        out.append(Variant(name, served, leaf.key, anchors, host, note))

    add("good", leaf, inter, note="well-made chain")
    add("root-sent-along", leaf, inter, root)
    add("leaf-only-missing-intermediate", leaf, note="the intermediate is not sent")
    reissued = make("Corpus Root CA", ca=True, days=(-10, 4000))  # same name and key, other dates
    add("root-sent-along-reissued", leaf, inter, reissued, note="a re-issued copy of the trusted root sent along")
    add("other-root-untrusted", leaf, inter, anchors=(make("Other Root CA", ca=True).der,))
    add("trailing-dot", leaf, inter, host=NAME + ".")
    add("name-mismatch", leaf, inter, host="smtp.example.test")

    # issuer names encoded otherwise than the issuer's subject: OpenSSL compares names by value
    printable = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Printable Root CA", _type=_PRINTABLE)])
    printable_root = make(printable, ca=True, days=(-400, 3650))
    add(
        "issuer-name-other-string-type",
        make(NAME, printable_root, slot="pr", issuer_name=cn("Printable Root CA")),
        anchors=(printable_root.der,),
        note="issuer as UTF8String, the root's subject as PrintableString",
    )
    add(
        "issuer-name-other-case",
        make(NAME, printable_root, slot="pr2", issuer_name=cn("PRINTABLE root ca")),
        anchors=(printable_root.der,),
    )

    # key identifiers (private CAs made by scripts and appliances often have none)
    plain_root = make("Plain Root CA", ca=True, keyids=False, days=(-400, 3650))
    plain_inter = make("Plain Intermediate CA", plain_root, ca=True, keyids=False)
    add("no-keyid-leaf", make(NAME, inter, keyids=False, slot="nokeyid"), inter)
    add("no-keyid-ca", make(NAME, plain_inter, slot="l2"), plain_inter, anchors=(plain_root.der,))
    add(
        "no-keyid-anywhere",
        make(NAME, plain_root, keyids=False, slot="l3"),
        anchors=(plain_root.der,),
        note="private CA issuing the server certificate directly, no AKI/SKI at all",
    )

    # CA shape
    v1_root = make("V1 Root CA", v1=True, days=(-400, 3650))
    add("v1-root", make(NAME, v1_root, slot="v1r"), anchors=(v1_root.der,), note="v1 self-signed anchor")
    v1_inter = make("V1 Intermediate CA", root, v1=True)
    add("v1-intermediate", make(NAME, v1_inter, slot="v1i"), v1_inter)
    tight_root = make("Tight Root CA", ca=True, pathlen=0, days=(-400, 3650))
    tight_inter = make("Tight Intermediate CA", tight_root, ca=True)
    add("pathlen-exceeded", make(NAME, tight_inter, slot="pl"), tight_inter, anchors=(tight_root.der,))
    zero_inter = make("Zero Intermediate CA", root, ca=True, pathlen=0)
    add("pathlen-zero-ok", make(NAME, zero_inter, slot="pl0"), zero_inter)
    notca = make("NotCA Intermediate", root, ca=False, usage=CA_USAGE, eku=None)
    add("intermediate-not-ca", make(NAME, notca, slot="nca"), notca)
    nobc = make("NoBC Intermediate", root, basic=False, usage=CA_USAGE)
    add("intermediate-no-basic-constraints", make(NAME, nobc, slot="nbc"), nobc)
    add("leaf-is-ca", make(NAME, inter, ca=True, usage=LEAF_USAGE, names=(NAME,), slot="lca"), inter)

    # extended key usage
    add("eku-none", make(NAME, inter, eku=None, slot="eku0"), inter)
    add("eku-client-only", make(NAME, inter, eku=[ExtendedKeyUsageOID.CLIENT_AUTH], slot="ekuc"), inter)
    add(
        "eku-server-and-client",
        make(NAME, inter, eku=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH], slot="ekusc"),
        inter,
    )
    eku_inter = make("ClientOnly Intermediate CA", root, ca=True, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    add("eku-intermediate-client-only", make(NAME, eku_inter, slot="ekui"), eku_inter)

    # key usage
    add("ku-none-leaf", make(NAME, inter, usage=None, slot="ku0"), inter)
    cert_sign_only = x509.KeyUsage(False, False, False, False, False, True, False, False, False)
    add("ku-leaf-certsign-only", make(NAME, inter, usage=cert_sign_only, slot="kucs"), inter)
    sign_only = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    ku_inter = make("NoCertSign Intermediate CA", root, ca=True, usage=sign_only)
    add("ku-intermediate-no-certsign", make(NAME, ku_inter, slot="kui"), ku_inter)
    noku_inter = make("NoKU Intermediate CA", root, ca=True, usage=None)
    add("ku-intermediate-none", make(NAME, noku_inter, slot="kui0"), noku_inter)

    # critical extensions no one knows
    unknown = ((x509.UnrecognizedExtension(UNKNOWN_OID, b"\x05\x00"), True),)
    add("critical-unknown-leaf", make(NAME, inter, extra=unknown, slot="crit"), inter)
    crit_inter = make("Critical Intermediate CA", root, ca=True, extra=unknown)
    add("critical-unknown-intermediate", make(NAME, crit_inter, slot="criti"), crit_inter)
    add(
        "noncritical-unknown-leaf",
        make(NAME, inter, extra=((x509.UnrecognizedExtension(UNKNOWN_OID, b"\x05\x00"), False),), slot="ncrit"),
        inter,
    )

    aki_critical = make(
        NAME,
        inter,
        keyids=False,
        slot="akic",
        extra=((x509.AuthorityKeyIdentifier.from_issuer_public_key(inter.key.public_key()), True),),
    )
    add("critical-aki-leaf", aki_critical, inter, note="an extension OpenSSL knows but does not process, critical")
    crldp = x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.example.test/ca.crl")], None, None, None)]
    )
    add("critical-crldp-leaf", make(NAME, inter, extra=((crldp, True),), slot="crldp"), inter)
    add("eku-any-only", make(NAME, inter, eku=[ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE], slot="ekuany"), inter)
    client_root = make("ClientOnly Root CA", ca=True, eku=[ExtendedKeyUsageOID.CLIENT_AUTH], days=(-400, 3650))
    add("root-eku-client-only", make(NAME, client_root, slot="rootc"), anchors=(client_root.der,))
    notca_root = make("NotCA Root", ca=False, usage=None, eku=None, days=(-400, 3650))
    add("root-ca-false", make(NAME, notca_root, slot="rootnca"), anchors=(notca_root.der,))
    expired_root = make("Expired Root CA", ca=True, days=(-400, -1))
    add("expired-root", make(NAME, expired_root, slot="exr"), anchors=(expired_root.der,))
    add("intermediate-as-anchor", leaf, inter, anchors=(inter.der,), note="a non-self-signed anchor, no partial chains")
    add("leaf-as-anchor", leaf, inter, anchors=(leaf.der,), note="the server certificate (not self-signed) as anchor")
    stranger = make("Plain Intermediate CA", plain_root, ca=True, keyids=False, slot="impostor")
    add(
        "bad-signature",
        make(NAME, stranger, keyids=False, slot="l3"),
        plain_inter,
        anchors=(plain_root.der,),
        note="issuer named like the sent intermediate, signed by another key, no key identifiers",
    )
    impostor = make("Corpus Intermediate CA", root, ca=True, slot="impostor2")
    add(
        "aki-mismatch",
        make(NAME, impostor, slot="l4"),
        inter,
        note="issuer named like the sent intermediate, the leaf's AKI names another key than its SKI",
    )

    # name constraints
    def constrained(
        label: str, permitted: list[x509.GeneralName] | None, excluded: list[x509.GeneralName] | None
    ) -> Node:
        return make(
            f"{label} Intermediate CA",
            root,
            ca=True,
            extra=((x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded), True),),
        )

    nc_ex = constrained("Excluding", None, [x509.DNSName("example.test")])
    add("name-constraints-excluded", make(NAME, nc_ex, slot="ncx"), nc_ex)
    nc_ok = constrained("Permitting", [x509.DNSName("example.test")], None)
    add("name-constraints-permitted", make(NAME, nc_ok, slot="ncp"), nc_ok)
    nc_other = constrained("Elsewhere", [x509.DNSName("example.org")], None)
    add("name-constraints-not-permitted", make(NAME, nc_other, slot="nco"), nc_other)
    add("name-constraints-excluded-cn-only", make(NAME, nc_ex, names=(), slot="ncxcn"), nc_ex)
    nc_ip = constrained("NoLoopback", None, [x509.IPAddress(ipaddress.ip_network("127.0.0.0/8"))])
    add(
        "name-constraints-excluded-ip",
        make("127.0.0.1", nc_ip, names=("127.0.0.1",), slot="ncip"),
        nc_ip,
        host="127.0.0.1",
    )

    # validity
    old_inter = make("Expired Intermediate CA", root, ca=True, days=(-400, -2))
    add("expired-intermediate", make(NAME, old_inter, slot="exi"), old_inter)
    young_inter = make("Future Intermediate CA", root, ca=True, days=(5, 400))
    add("not-yet-valid-intermediate", make(NAME, young_inter, slot="nyi"), young_inter)
    add("expired-leaf", make(NAME, inter, days=(-90, -3), slot="exl"), inter)
    add("not-yet-valid-leaf", make(NAME, inter, days=(3, 90), slot="nyl"), inter)

    # names
    add("wildcard-one-label", make(NAME, inter, names=("*.example.test",), slot="w1"), inter)
    add(
        "wildcard-partial",
        make(NAME, inter, names=("mail*.example.test",), slot="wp"),
        inter,
        host="mail2.example.test",
    )
    add("wildcard-on-public-suffix", make(NAME, inter, names=("*.test",), slot="wt"), inter, host="example.test")
    add(
        "wildcard-two-labels",
        make(NAME, inter, names=("*.example.test",), slot="w1"),
        inter,
        host="a.mail.example.test",
    )
    add("ip-san", make("127.0.0.1", inter, names=("127.0.0.1",), slot="ip"), inter, host="127.0.0.1")
    add("ip-san-mismatch", make("127.0.0.2", inter, names=("127.0.0.2",), slot="ip2"), inter, host="127.0.0.1")
    add("ip-host-dns-san", leaf, inter, host="127.0.0.1")
    add("cn-only", make(NAME, inter, names=(), slot="cn"), inter, note="no subjectAltName, the name only in the CN")

    # algorithms and key sizes
    rsa_root = make("RSA Root CA", ca=True, kind="RSA2048", days=(-400, 3650))
    add("sha1-leaf", make(NAME, rsa_root, digest=hashes.SHA1(), slot="sha1"), anchors=(rsa_root.der,))
    add("rsa-pss-signature", make(NAME, rsa_root, pss=True, slot="pss"), anchors=(rsa_root.der,))
    add("md5-leaf", make(NAME, rsa_root, digest=hashes.MD5(), slot="md5"), anchors=(rsa_root.der,))
    sha1_inter = make("SHA1 Intermediate CA", rsa_root, ca=True, digest=hashes.SHA1(), kind="RSA2048")
    add("sha1-intermediate", make(NAME, sha1_inter, slot="sha1i"), sha1_inter, anchors=(rsa_root.der,))
    sha1_root = make("SHA1 Root CA", ca=True, kind="RSA2048", digest=hashes.SHA1(), days=(-400, 3650))
    add("sha1-self-signature-of-root", make(NAME, sha1_root, slot="sha1r"), anchors=(sha1_root.der,))
    for bits in (1024, 2048, 4096):
        add(f"rsa-{bits}-leaf", make(NAME, rsa_root, kind=f"RSA{bits}"), anchors=(rsa_root.der,))
    weak_root = make("Weak RSA Root CA", ca=True, kind="RSA1024", days=(-400, 3650))
    weak_inter = make("RSA1024 Intermediate CA", rsa_root, ca=True, kind="RSA1024")
    add("rsa-1024-intermediate", make(NAME, weak_inter, slot="w1024"), weak_inter, anchors=(rsa_root.der,))
    add("rsa-1024-root", make(NAME, weak_root, slot="wr1024"), anchors=(weak_root.der,))
    add("p384-under-p256", make(NAME, inter, kind="P-384"), inter)
    add("p521-leaf", make(NAME, inter, kind="P-521"), inter)
    ed_root = make("Ed25519 Root CA", ca=True, kind="Ed25519", days=(-400, 3650))
    add("ed25519-leaf", make(NAME, inter, kind="Ed25519"), inter)
    add("ed25519-chain", make(NAME, ed_root, kind="Ed25519", slot="ed2"), anchors=(ed_root.der,))

    # what the server sends
    inter2 = make("Corpus Second Intermediate CA", inter, ca=True)
    deep = make(NAME, inter2, slot="deep")
    add("two-intermediates", deep, inter2, inter)
    add("out-of-order", deep, inter, inter2, note="intermediates sent top first")
    add("extra-unrelated", leaf, inter, make("Unrelated CA", ca=True).der, note="an unrelated certificate appended")
    new_root = make("New Root CA", ca=True, days=(-100, 3650))
    old_root = make("Old Root CA", ca=True, days=(-3000, 3650), slot="oldroot")
    cross = make("New Root CA", old_root, ca=True, days=(-100, 1000), slot="New Root CA")
    new_inter = make("New Intermediate CA", new_root, ca=True)
    cross_leaf = make(NAME, new_inter, slot="x")
    add("cross-signed-old-root-trusted", cross_leaf, new_inter, cross, anchors=(old_root.der,))
    add("cross-signed-new-root-trusted", cross_leaf, new_inter, cross, anchors=(new_root.der,))
    add("cross-signed-both-roots", cross_leaf, new_inter, cross, anchors=(old_root.der, new_root.der))
    expired_old = make("Expired Old Root CA", ca=True, days=(-3000, -10))
    expired_cross = make("New Root CA", expired_old, ca=True, days=(-100, -1), slot="New Root CA")
    add(
        "cross-sign-expired-new-root-trusted",
        cross_leaf,
        new_inter,
        expired_cross,
        anchors=(expired_old.der, new_root.der),
        note="an expired cross-sign sent along (Let's Encrypt and DST Root CA X3)",
    )

    # self-signed
    me = make(NAME, None, slot="self")
    add("self-signed-pinned", me, anchors=(me.der,), note="--ca-file of the server certificate itself")
    add("self-signed-unpinned", me)
    old_me = make(NAME, None, days=(-60, -1), slot="self")
    add("self-signed-pinned-expired", old_me, anchors=(old_me.der,))
    me_plain = make(NAME, None, keyids=False, eku=None, usage=None, basic=False, slot="self2")
    add("self-signed-bare-pinned", me_plain, anchors=(me_plain.der,), note="no extensions but the SAN")

    # malformed: DER cryptography refuses to read or to build
    two_sans = make(
        NAME,
        inter,
        slot="m1",
        extra=((san_value(dns(NAME)), False),),
        patch=replace_once(PLACEHOLDER_DER, SAN_DER),
    )
    add("malformed-two-san", two_sans, inter)
    x400 = make(
        NAME,
        inter,
        names=(),
        slot="m2",
        extra=((san_value(dns(NAME), tlv(0xA3, tlv(0x30, b""))), False),),
        patch=replace_once(PLACEHOLDER_DER, SAN_DER),
    )
    add("malformed-x400-address", x400, inter)
    bitstring = make(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "X" + NAME)]),
        inter,
        slot="m3",
        patch=replace_once(tlv(0x0C, ("X" + NAME).encode()), tlv(0x03, b"\x00" + NAME.encode())),
    )
    add("malformed-bitstring-cn", bitstring, inter)
    network = make(
        NAME,
        inter,
        names=(),
        slot="m4",
        extra=((san_value(dns(NAME), tlv(0x87, bytes([127, 0, 0, 1, 255, 255, 255, 255]))), False),),
        patch=replace_once(PLACEHOLDER_DER, SAN_DER),
    )
    add("malformed-ip-network-san", network, inter)
    return out
