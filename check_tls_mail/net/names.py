"""Host names as DNS takes them: the one syntax check of a name the user gives or a policy lists.

Network layer, pure: labels of letters, digits and hyphens (underscores where a name may have them, as in
-H and --require-name), not starting or ending with a hyphen, 1 to 63 bytes each and 253 in all; other
labels must have an IDNA form (Python's socket and ssl modules encode them so). The callers word the defect.
"""

import enum

from ..records import NamedTuple


class NameDefect(enum.Enum):
    EMPTY_LABEL = "an empty label (a dot at the start or two in a row)"
    BAD_CHARACTER = "a character a host name cannot have"
    NOT_IDNA = "a label without an IDNA form"
    LABEL_TOO_LONG = "a label over 63 characters"
    NAME_TOO_LONG = "over 253 characters"


class HostName(NamedTuple):
    """A checked name: its A-label form in lower case, without a trailing dot ('mail.xn--bcher-kva.example')."""

    ascii: str


def check_host_name(name: str, underscore: bool = True) -> HostName | NameDefect:
    """The name's A-label form, or what is wrong with it (a trailing dot is allowed and dropped)."""
    bare = name[:-1] if name.endswith(".") else name
    labels = []
    for label in bare.split("."):
        if not label:
            return NameDefect.EMPTY_LABEL
        if label.isascii():
            allowed = "-_" if underscore else "-"
            if not all(c.isalnum() or c in allowed for c in label) or label[0] == "-" or label[-1] == "-":
                return NameDefect.BAD_CHARACTER
            encoded = label
        else:
            try:
                encoded = label.encode("idna").decode("ascii")
            except UnicodeError:
                return NameDefect.NOT_IDNA
        if len(encoded) > 63:
            return NameDefect.LABEL_TOO_LONG
        labels.append(encoded.lower())
    ascii_name = ".".join(labels)
    if len(ascii_name) > 253:
        return NameDefect.NAME_TOO_LONG
    return HostName(ascii_name)


def as_sent(name: str) -> str | bytes:
    """``name`` as socket.getaddrinfo and ssl's ``server_hostname`` take it, without the idna codec where the codec
    changes nothing: an ASCII name whose labels the codec takes (each 1 to 63 characters, the last one 0 to 63)
    as bytes, the very bytes the codec gives, which both take as they are. Any other name as text, for the codec
    to encode or refuse with its own error (a URL's host from a certificate is not checked before it gets here).
    The codec and the stringprep tables it imports cost about 2-3 ms of a check's CPU."""
    if not name.isascii():
        return name
    *labels, last = name.split(".")
    if all(0 < len(label) < 64 for label in labels) and len(last) < 64:
        return name.encode("ascii")
    return name


def endpoint(host: str, port: int) -> str:
    """'mail.example.org:25', '127.0.0.1:993', '[::1]:993': an IPv6 address in brackets, as in URLs (RFC 3986)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
