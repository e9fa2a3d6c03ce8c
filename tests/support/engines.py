"""Monitoring engines for the tests: a standalone Icinga 2 with its REST API, and NRPE.

Both run as private instances with their own configuration and state under
/var/tmp, on loopback ports; nothing in /etc is touched.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

from loopback import free_port, wait_for_port
from pki import Pki
from realservers import Instance, base_directory

ROOT = Path(__file__).resolve().parent.parent.parent


class Icinga2Instance(Instance):
    """``icinga2 daemon`` with its own directories, an API on loopback and a checker."""

    name = "icinga2"
    NODE = "check-tls-mail-test"
    PASSWORD = "check-tls-mail-test-password"

    def __init__(self, plugin_dir: str, objects: str) -> None:
        self.dir = base_directory("icinga2")
        for sub in ("data/certs", "log", "cache", "spool", "run"):
            (self.dir / sub).mkdir(parents=True)
        self.log_files = (self.dir / "daemon.log",)
        self.ports = {"api": free_port()}
        self.config = self.dir / "icinga2.conf"
        self.config.write_text(self._config(plugin_dir, objects))
        self._certificates()  # the ApiListener needs them even to validate
        self._process: subprocess.Popen[bytes] | None = None

    def _config(self, plugin_dir: str, objects: str) -> str:
        return f"""
const PluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "{plugin_dir}"
const NodeName = "{self.NODE}"
const ZoneName = NodeName
include <itl>
include <plugins>
include "{ROOT}/icinga2/*.conf"

object Endpoint NodeName {{}}
object Zone ZoneName {{ endpoints = [ NodeName ] }}
object ApiListener "api" {{
  bind_host = "127.0.0.1"
  bind_port = {self.ports["api"]}
}}
object ApiUser "test" {{
  password = "{self.PASSWORD}"
  permissions = [ "*" ]
}}
object CheckerComponent "checker" {{}}

{objects}
"""

    @property
    def defines(self) -> list[str]:
        d = self.dir
        return [
            f"-DDataDir={d}/data",
            f"-DLogDir={d}/log",
            f"-DCacheDir={d}/cache",
            f"-DSpoolDir={d}/spool",
            f"-DInitRunDir={d}/run",
            "-DRunAsUser=root",
            "-DRunAsGroup=root",
        ]

    def validate(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["icinga2", "daemon", "-C", "-c", str(self.config), *self.defines],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def _certificates(self) -> None:
        pki = Pki(self.dir / "data", name="Icinga")
        node = pki.leaf(names=(self.NODE,), key_type="RSA", issuer=pki.root, subject=self.NODE)
        certs = self.dir / "data" / "certs"
        (certs / f"{self.NODE}.crt").write_bytes(node.pem)
        (certs / f"{self.NODE}.key").write_bytes(node.key_pem)
        (certs / "ca.crt").write_bytes(pki.root.pem)

    def start(self) -> None:
        log = (self.dir / "daemon.log").open("ab")
        self._process = subprocess.Popen(
            ["icinga2", "daemon", "-c", str(self.config), *self.defines],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if not wait_for_port(self.ports["api"], seconds=60):
            raise RuntimeError(f"icinga2 API not up\n{self.logs()}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def api(self, method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.ports['api']}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "Authorization": "Basic " + base64.b64encode(f"test:{self.PASSWORD}".encode()).decode(),
            },
        )
        ctx = ssl.create_default_context(cafile=str(self.dir / "data" / "certs" / "ca.crt"))
        ctx.check_hostname = False  # the API's certificate is for the node name
        with urllib.request.urlopen(request, context=ctx, timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def check_now(self, host: str, service: str, seconds: float = 60) -> dict[str, object]:
        """Force the service's check now; its last_check_result once it is newer than the request."""
        asked = time.time()
        where = f'host.name=="{host}" && service.name=="{service}"'
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.api("POST", "/v1/actions/reschedule-check", {"type": "Service", "filter": where, "force": True})
                break
            except OSError:  # the API accepts connections a moment before it serves objects
                time.sleep(0.5)
        while time.monotonic() < deadline:
            found = self.api("GET", f"/v1/objects/services/{host}!{service}?attrs=last_check_result")
            result = found["results"][0]["attrs"]["last_check_result"]  # type: ignore[index]
            if isinstance(result, dict) and float(result.get("execution_end", 0)) >= asked:
                return result
            time.sleep(0.2)
        raise RuntimeError(f"no check result for {host}!{service} within {seconds} s\n{self.logs()}")


class InstalledPlugin:
    """check_tls_mail installed by ``scripts/install``, as operators install it, into private paths.

    The virtualenv (PREFIX) and the plugin directory (PLUGINDIR) live under one
    directory in /var/tmp instead of /opt/check_tls_mail and
    /usr/lib/nagios/plugins; no link on PATH. The script proves the result runs
    as user nagios, who runs NRPE's and Nagios' plugins.
    """

    def __init__(self) -> None:
        self.dir = base_directory("plugin")
        self.prefix = self.dir / "opt"
        self.plugin_dir = self.dir / "plugins"
        self.log = self.dir / "install.log"

    @property
    def command(self) -> str:
        """The link the engines run: PLUGINDIR/check_tls_mail."""
        return str(self.plugin_dir / "check_tls_mail")

    @property
    def settings(self) -> dict[str, str]:
        return {"PREFIX": str(self.prefix), "PLUGINDIR": str(self.plugin_dir), "BINDIR": ""}

    def install(self, *options: str) -> subprocess.CompletedProcess[str]:
        with self.log.open("a") as out:
            result = subprocess.run(
                ["bash", str(ROOT / "scripts" / "install"), *options],
                env={**os.environ, **self.settings},
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=900,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"scripts/install failed:\n{self.log.read_text()[-3000:]}")
        return result

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class NrpeInstance(Instance):
    """``nrpe -c FILE -f`` on loopback, running the given command lines as user nagios."""

    name = "nrpe"

    def __init__(self, commands: list[str]) -> None:
        self.dir = base_directory("nrpe")
        self.ports = {"nrpe": free_port()}
        self.log_files = (self.dir / "nrpe.log",)
        self.config = self.dir / "nrpe.cfg"
        self.config.write_text(
            "\n".join(
                [
                    f"log_file={self.dir}/nrpe.log",
                    f"pid_file={self.dir}/nrpe.pid",
                    f"server_port={self.ports['nrpe']}",
                    "server_address=127.0.0.1",
                    "nrpe_user=nagios",
                    "nrpe_group=nagios",
                    "allowed_hosts=127.0.0.1",
                    "dont_blame_nrpe=0",
                    "command_timeout=60",
                    *commands,
                ]
            )
            + "\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["nrpe", "-c", str(self.config), "-f"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for_port(self.ports["nrpe"]):
            raise RuntimeError(f"nrpe not up\n{self.logs()}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def check(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "/usr/lib/nagios/plugins/check_nrpe",
                "-H",
                "127.0.0.1",
                "-p",
                str(self.ports["nrpe"]),
                "-t",
                "30",
                "-c",
                command,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
