"""Real DNS for the DANE tests: Knot signs a test zone, Unbound validates it (AD flag).

Knot DNS (``knotd``) serves ``example.test`` on a loopback port and signs it
itself (automatic DNSSEC). Unbound (``unbound -d``) is a validating resolver
with that zone's DS as its only trust anchor and a stub zone pointing at Knot.
Both run as private instances under /var/tmp; nothing in /etc is touched.
"""

from __future__ import annotations

import shutil
import subprocess

from loopback import free_port
from realservers import Instance, base_directory

ZONE = "example.test"


def wait_for_udp(port: int, seconds: float = 15.0) -> bool:
    import time

    import dns.exception
    import dns.message
    import dns.query

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            dns.query.udp(dns.message.make_query(f"ns.{ZONE}", "A"), "127.0.0.1", port=port, timeout=0.5)
            return True
        except (dns.exception.DNSException, OSError):
            time.sleep(0.1)
    return False


class KnotInstance(Instance):
    name = "knot"

    def __init__(self, records: list[str]) -> None:
        self.dir = base_directory("knot")
        for sub in ("db", "keys", "run"):
            (self.dir / sub).mkdir()
        self.ports = {"dns": free_port()}
        self.log_files = (self.dir / "knot.log",)
        (self.dir / f"{ZONE}.zone").write_text(
            "\n".join(
                [
                    f"$ORIGIN {ZONE}.",
                    "$TTL 300",
                    f"@ SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 900 604800 300",
                    "@ NS ns",
                    "ns A 127.0.0.1",
                    *records,
                ]
            )
            + "\n"
        )
        self.config = self.dir / "knot.conf"
        self.config.write_text(f"""server:
    rundir: "{self.dir}/run"
    listen: 127.0.0.1@{self.ports["dns"]}
log:
  - target: {self.dir}/knot.log
    any: info
database:
    storage: "{self.dir}/db"
    kasp-db: "{self.dir}/keys"
template:
  - id: default
    storage: "{self.dir}"
    dnssec-signing: on
    zonefile-sync: -1
zone:
  - domain: {ZONE}
    file: "{ZONE}.zone"
""")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["knotd", "-c", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for_udp(self.ports["dns"]):
            raise RuntimeError(f"knotd not answering\n{self.logs()}")

    def ds(self) -> str:
        """The zone's DS record (SHA-256), the trust anchor for the validating resolver."""
        result = subprocess.run(
            ["keymgr", "-c", str(self.config), ZONE, "ds"], capture_output=True, text=True, timeout=30, check=True
        )
        return next(line for line in result.stdout.splitlines() if " DS " in line and " 13 2 " in line)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class UnboundInstance(Instance):
    name = "unbound"

    def __init__(self, knot: KnotInstance) -> None:
        self.dir = base_directory("unbound")
        self.ports = {"dns": free_port()}
        self.log_files = (self.dir / "unbound.log",)
        self.config = self.dir / "unbound.conf"
        port = self.ports["dns"]
        self.config.write_text(f"""server:
  interface: 127.0.0.1@{port}
  port: {port}
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "{self.dir}"
  pidfile: "{self.dir}/unbound.pid"
  use-syslog: no
  logfile: "{self.dir}/unbound.log"
  module-config: "validator iterator"
  local-zone: "test." nodefault
  trust-anchor: "{knot.ds()}"
  val-log-level: 2
stub-zone:
  name: "{ZONE}"
  stub-addr: 127.0.0.1@{knot.ports["dns"]}
remote-control:
  control-enable: no
""")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["unbound", "-d", "-c", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for_udp(self.ports["dns"]):
            raise RuntimeError(f"unbound not answering\n{self.logs()}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)
