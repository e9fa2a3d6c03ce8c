"""A tiny authoritative DNS responder on loopback UDP.

For tests that need a name with many A records (the first line with 8
addresses) or need to see which names a resolver was asked for. Answers from
a fixed table with dnspython; every question is remembered in ``asked``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class Responder:
    """Answers A/AAAA queries from ``records`` ({name: [address, ...]}); NXDOMAIN for other names."""

    def __init__(self, records: dict[str, Sequence[str]]) -> None:
        self.records = {name.rstrip(".").lower() + ".": list(addresses) for name, addresses in records.items()}
        self.asked: list[tuple[str, str]] = []  # (name, type)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def server(self) -> str:
        """The --dns-server argument."""
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Responder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            question = query.question[0]
            name = question.name.to_text().lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.asked.append((name, rdtype))
            if name not in self.records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                wanted = [a for a in self.records[name] if (":" in a) == (rdtype == "AAAA")]
                if rdtype in ("A", "AAAA") and wanted:
                    response.answer.append(dns.rrset.from_text_list(question.name, 300, "IN", rdtype, wanted))
            try:
                self.sock.sendto(response.to_wire(), peer)
            except OSError:
                return
