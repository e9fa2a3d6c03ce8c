"""Names in certificates: host names matched as OpenSSL's X509_check_host, name constraints as NAME_CONSTRAINTS_check.

Trust layer (pure): the leaf against the name asked for; every certificate's names against its issuers' constraints.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from ..sanitize import clean
from .certificate import Certificate
from .fields import GeneralName
from .problems import ConstraintDefect, ProblemKind

# host names, as OpenSSL's X509_check_host


def _idna(name: str) -> str:
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def _valid_star(pattern: str) -> int:
    """Index of the one usable wildcard in ``pattern``, or -1 (OpenSSL's valid_star, partial wildcards allowed)."""
    star, label_start, hyphen, idna, dots = -1, True, False, False, 0
    for i, char in enumerate(pattern):
        if char == "*":
            at_end = i == len(pattern) - 1 or pattern[i + 1] == "."
            if star >= 0 or idna or dots or (not label_start and not at_end):
                return -1
            star, label_start = i, False
        elif char.isascii() and char.isalnum():
            if label_start and pattern[i : i + 4].lower() == "xn--":
                idna = True
            label_start = hyphen = False
        elif char == ".":
            if label_start or hyphen:
                return -1
            label_start, hyphen, idna = True, False, False
            dots += 1
        elif char == "-":
            if label_start:
                return -1
            hyphen = True
        else:
            return -1
    if label_start or hyphen or dots < 2:
        return -1
    return star


def host_matches(pattern: str, host: str) -> bool:
    """One DNS pattern from a certificate against a host name, as OpenSSL matches them."""
    if "\0" in pattern:
        return False
    pattern, host = pattern.lower(), host.lower()
    star = _valid_star(pattern) if not host.startswith(".") else -1
    if star < 0:
        return pattern == host
    prefix, suffix = pattern[:star], pattern[star + 1 :]
    if len(host) < len(prefix) + len(suffix) or not host.startswith(prefix) or not host.endswith(suffix):
        return False
    middle = host[len(prefix) : len(host) - len(suffix)]
    if not prefix and suffix.startswith("."):
        if not middle:
            return False
    elif host.startswith("xn--"):
        return False
    if middle == "*":
        return True
    return all(c.isascii() and (c.isalnum() or c == "-") for c in middle)


def name_matches(leaf: Certificate, wanted: str) -> bool:
    """Whether ``wanted`` (DNS name with or without its trailing dot, or IP address) is in the subjectAltName."""
    try:
        address = ipaddress.ip_address(wanted)
    except ValueError:
        address = None
    if address is not None:
        return any(n.kind == 7 and n.value == address.packed for n in leaf.san or ())
    host = _idna(wanted)
    host = host[:-1] if host.endswith(".") and len(host) > 1 else host
    return any(host_matches(pattern, host) for pattern in leaf.dns_names)


def name_problem(leaf: Certificate, wanted: str) -> ProblemKind | None:
    """NO_SAN or NAME_MISMATCH for ``wanted``."""
    if not leaf.dns_names and not leaf.ip_addresses:
        return ProblemKind.NO_SAN
    return None if name_matches(leaf, wanted) else ProblemKind.NAME_MISMATCH


# name constraints, as OpenSSL's NAME_CONSTRAINTS_check


def _nc_dns(name: str, base: str) -> bool:
    if not base:
        return True
    if len(name) < len(base):
        return False
    if len(name) > len(base) and not base.startswith(".") and name[len(name) - len(base) - 1] != ".":
        return False
    return name[len(name) - len(base) :].lower() == base.lower()


def _nc_email(name: str, base: str) -> bool:
    if "@" in base:
        return name.lower() == base.lower()
    domain = name.rpartition("@")[2]
    if base.startswith("."):
        return _nc_dns(domain, base) and len(domain) > len(base)
    return domain.lower() == base.lower()


def _nc_uri(name: str, base: str) -> bool:
    host = name.partition("://")[2].split("/")[0].split("@")[-1].split(":")[0] if "://" in name else ""
    if not host:
        return False
    if base.startswith("."):
        return host.lower().endswith(base.lower())
    return host.lower() == base.lower()


def _nc_match_single(name: GeneralName, base: GeneralName) -> bool | None:
    """True: within the subtree; False: outside; None: a kind OpenSSL cannot check."""
    text, pattern = name.value.decode("latin-1"), base.value.decode("latin-1")
    if name.kind == 2:
        return _nc_dns(text, pattern)
    if name.kind == 1:
        return _nc_email(text, pattern)
    if name.kind == 6:
        return _nc_uri(text, pattern)
    if name.kind == 4:  # the constraint's RDNs must be the first RDNs of the name
        return _content(name.value).startswith(_content(base.value))
    if name.kind == 7:
        size = len(name.value)
        if len(base.value) != 2 * size:
            return False
        mask = base.value[size:]
        return all((a & m) == (b & m) for a, b, m in zip(name.value, base.value[:size], mask, strict=True))
    return None


def _content(der: bytes) -> bytes:
    """A TLV's content (a Name's RDNs)."""
    if len(der) < 2:
        return b""
    size = der[1]
    return der[2 + (size & 0x7F if size & 0x80 else 0) :]


def nc_match(
    name: GeneralName, permitted: tuple[GeneralName, ...], excluded: tuple[GeneralName, ...]
) -> ConstraintDefect | None:
    relevant = [p for p in permitted if p.kind == name.kind]
    if relevant:
        results = [_nc_match_single(name, p) for p in relevant]
        if None in results:
            return ConstraintDefect.UNSUPPORTED
        if not any(results):
            return ConstraintDefect.NOT_PERMITTED
    for base in excluded:
        if base.kind != name.kind:
            continue
        inside = _nc_match_single(name, base)
        if inside is None:
            return ConstraintDefect.UNSUPPORTED
        if inside:
            return ConstraintDefect.EXCLUDED
    return None


def _looks_like_host(cn: str) -> bool:
    labels = cn.split(".")
    return len(labels) > 1 and all(
        label
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in label)
        for label in labels
    )


def subject_names(cert: Certificate, leaf: bool) -> Iterator[GeneralName]:
    """The names constraints apply to: the subject DN, the subjectAltName, and (leaf without DNS SAN) host-like CNs."""
    if cert.subject_key:
        yield GeneralName(4, cert.subject_der)
    yield from (n for n in cert.san or () if n.kind in (1, 2, 4, 6, 7))
    if leaf and not cert.dns_names:
        yield from (GeneralName(2, cn.encode("latin-1", "replace")) for cn in cert.common_names if _looks_like_host(cn))


def shown_name(name: GeneralName) -> str:
    if name.kind == 7 and len(name.value) in (4, 16):
        return str(ipaddress.ip_address(name.value))
    if name.kind == 4:
        return "its subject name"
    return clean(name.value.decode("latin-1"), 64)
