"""Output safety: make any server-supplied text fit for one line of plugin output.

Nothing a server sends (banners, replies, certificate names) may add a ``|``
(the perfdata separator) or a line break to our output, and nothing may make
it unbounded. Everything that did not come from us passes through ``clean``.
"""

from __future__ import annotations

#: Longest piece of server text quoted in the status line.
QUOTE_LIMIT = 80


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clean(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Escape non-printable characters and ``|``; cut to ``limit`` characters.

    Escapes (``\\x0a``, ``\\x7c``) keep the text unambiguous for a reader while
    guaranteeing that the result is a single line without a perfdata separator.
    """
    head = text[: limit * 4 + 4]  # bound the work on megabyte inputs
    if head.isprintable() and "|" not in head:  # most lines: nothing to escape, no loop over the characters
        out = head
    else:
        out = "".join(c if c.isprintable() and c != "|" else _escape(c) for c in head)
    if len(out) > limit or len(head) < len(text):
        return out[: max(limit - 3, 0)] + "..."
    return out


def from_wire(data: bytes, limit: int = QUOTE_LIMIT) -> str:
    """Decode bytes a server sent (any encoding, any garbage) and ``clean`` them."""
    # limit*4+4 bytes decode to more than ``limit`` characters, so a longer
    # input is always cut (and marked with "...") by clean().
    return clean(data[: limit * 4 + 4].decode("utf-8", "backslashreplace"), limit)
