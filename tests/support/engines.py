"""Monitoring engines for the tests: a standalone Icinga 2 with its REST API, Nagios 4, and NRPE.

Each runs as a private instance with its own configuration and state under
/var/tmp, on loopback ports; nothing in /etc is touched (Nagios reads
Debian's object templates there, as a default Debian installation does).
"""

from __future__ import annotations

import base64
import errno
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from loopback import free_port, wait_for_port
from pki import Pki
from realservers import Instance, base_directory

ROOT = Path(__file__).resolve().parent.parent.parent


def _end(process: subprocess.Popen[bytes] | None, directory: Path) -> None:
    """Stop an engine's daemon (killed if it takes more than 15 s) and remove its directory."""
    if process is not None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    shutil.rmtree(directory, ignore_errors=True)


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
        _end(self._process, self.dir)

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

    def console(self, expression: str) -> object:
        """The value of an Icinga 2 DSL ``expression``, evaluated by the daemon (``/v1/console/execute-script``)."""
        answer = self.api("POST", "/v1/console/execute-script", {"command": expression})
        result = answer["results"][0]  # type: ignore[index]
        if result["code"] != 200:
            raise RuntimeError(f"{expression}: {result}")
        return result["result"]

    def service(self, host: str, service: str, *attrs: str) -> dict[str, object]:
        """The attributes ``attrs`` of a service, from ``/v1/objects/services``."""
        query = "&".join(f"attrs={a}" for a in attrs)
        found = self.api("GET", f"/v1/objects/services/{host}!{service}?{query}")
        return found["results"][0]["attrs"]  # type: ignore[index,no-any-return]

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
            result = self.service(host, service, "last_check_result")["last_check_result"]
            if isinstance(result, dict) and float(result.get("execution_end", 0)) >= asked:
                return result
            time.sleep(0.2)
        raise RuntimeError(f"no check result for {host}!{service} within {seconds} s\n{self.logs()}")


class GraphiteReceiver:
    """A TCP listener on loopback that keeps the lines Icinga 2's GraphiteWriter sends ("path value time")."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.lines: list[str] = []
        self.connections = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def wait_connected(self, seconds: float = 60) -> bool:
        """Whether the writer has connected within ``seconds`` (it drops what it has to send until then)."""
        deadline = time.monotonic() + seconds
        while not self.connections and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.connections > 0

    def _read(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while chunk := conn.recv(65536):
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                with self._lock:
                    self.lines += [line.decode() for line in complete]

    def metrics(self, prefix: str, seconds: float = 30) -> dict[str, float]:
        """path -> value of the lines under ``prefix`` (the newest wins), once any has arrived."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                found = {
                    path: float(value)
                    for path, value, _ in (line.split() for line in self.lines if line.startswith(prefix))
                }
            if found:
                return found
            time.sleep(0.2)
        return {}

    def close(self) -> None:
        self.sock.close()


class NagiosInstance(Instance):
    """``nagios4 nagios.cfg`` in the foreground, with its own command file, status.dat and log.

    It reads the object definitions a default Debian installation has
    (``/etc/nagios4/objects``: templates, commands, contacts, time periods, not
    localhost.cfg; the plugins' commands in /etc/nagios-plugins/config) and a
    conf.d directory of its own, where the given files go, as /etc/nagios4/conf.d.
    Only checks asked for through the command file run (``execute_service_checks=0``;
    a forced check runs anyway); notifications are off. Nagios runs as root and
    checks as user nagios.
    """

    name = "nagios4"
    DEBIAN_OBJECTS = ("commands.cfg", "contacts.cfg", "timeperiods.cfg", "templates.cfg")

    def __init__(self, conf_d: dict[str, str], user1: str) -> None:
        self.dir = base_directory("nagios")
        d = self.dir
        self.ports = {}
        self.log_files = (d / "nagios.log", d / "daemon.log")
        for sub in ("conf.d", "rw", "checkresults"):
            (d / sub).mkdir()
        for name, text in conf_d.items():
            (d / "conf.d" / name).write_text(text)
        (d / "resource.cfg").write_text(f"$USER1$={user1}\n")
        self.command_file = d / "rw" / "nagios.cmd"
        self.status_file = d / "status.dat"
        self.config = d / "nagios.cfg"
        self.config.write_text(
            "\n".join(
                [
                    f"log_file={d}/nagios.log",
                    "cfg_dir=/etc/nagios-plugins/config",  # Debian's plugin commands (check-host-alive...)
                    *(f"cfg_file=/etc/nagios4/objects/{name}" for name in self.DEBIAN_OBJECTS),
                    f"cfg_dir={d}/conf.d",
                    f"object_cache_file={d}/objects.cache",
                    f"precached_object_file={d}/objects.precache",
                    f"resource_file={d}/resource.cfg",
                    f"status_file={self.status_file}",
                    "status_update_interval=1",
                    "nagios_user=nagios",
                    "nagios_group=nagios",
                    "check_external_commands=1",
                    f"command_file={self.command_file}",
                    f"query_socket={d}/rw/nagios.qh",
                    f"lock_file={d}/nagios.lock",
                    f"temp_file={d}/nagios.tmp",
                    f"temp_path={d}",
                    f"check_result_path={d}/checkresults",
                    "check_result_reaper_frequency=1",
                    "retain_state_information=0",
                    f"state_retention_file={d}/retention.dat",
                    "use_syslog=0",
                    "log_initial_states=0",
                    "log_service_retries=1",  # as Debian's: a SERVICE ALERT line for soft states too
                    "enable_notifications=0",
                    "execute_service_checks=0",
                    "execute_host_checks=0",
                    "check_for_updates=0",
                    "interval_length=60",
                    "service_check_timeout=60",
                    "enable_flap_detection=0",
                    "illegal_macro_output_chars=`~$&|'\"<>",
                ]
            )
            + "\n"
        )
        for path in (d, d / "rw", d / "checkresults"):
            shutil.chown(path, "nagios", "nagios")  # nagios4 writes there as its user, and -v checks it can
        self._process: subprocess.Popen[bytes] | None = None

    def validate(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["nagios4", "-v", str(self.config)], capture_output=True, text=True, timeout=60, check=False
        )

    def start(self) -> None:
        log = (self.dir / "daemon.log").open("ab")
        self._process = subprocess.Popen(
            ["nagios4", str(self.config)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while not (self.command_file.exists() and self.status_file.exists()):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nagios4 not up\n{self.logs()}")
            time.sleep(0.2)

    def stop(self) -> None:
        _end(self._process, self.dir)

    def command(self, line: str) -> None:
        """Write ``[now] line`` to the external command file (a FIFO Nagios reads)."""
        deadline = time.monotonic() + 30
        while True:
            try:
                fd = os.open(self.command_file, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as error:  # ENXIO: Nagios has not opened it for reading yet
                if error.errno != errno.ENXIO or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        try:
            os.write(fd, f"[{int(time.time())}] {line}\n".encode())
        finally:
            os.close(fd)

    def status(self, kind: str) -> list[dict[str, str]]:
        """The ``kind`` blocks (servicestatus, hoststatus...) of status.dat, each as key -> value."""
        text = self.status_file.read_text(errors="replace")
        return [
            dict(line.strip().split("=", 1) for line in block.splitlines() if "=" in line)
            for block in re.findall(r"^" + kind + r" \{\n(.*?)^\t\}", text, re.M | re.S)
        ]

    def alerts(self, host: str, service: str, seconds: float = 10) -> list[str]:
        """The SERVICE ALERT lines of nagios.log for the service ("...;STATE;SOFT|HARD;ATTEMPT;OUTPUT")."""
        prefix = f"SERVICE ALERT: {host};{service};"
        deadline = time.monotonic() + seconds
        while True:
            log = self.dir / "nagios.log"
            text = log.read_text(errors="replace") if log.exists() else ""
            found = [line.split(prefix, 1)[1] for line in text.splitlines() if prefix in line]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def check_now(self, host: str, service: str, seconds: float = 60) -> dict[str, str]:
        """Force the service's check (SCHEDULE_FORCED_SVC_CHECK); its servicestatus once it is newer."""
        asked = int(time.time())
        self.command(f"SCHEDULE_FORCED_SVC_CHECK;{host};{service};{asked}")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for status in self.status("servicestatus"):
                ours = status["host_name"] == host and status["service_description"] == service
                if ours and int(status["last_check"]) >= asked and status["has_been_checked"] == "1":
                    return status
            time.sleep(0.3)
        raise RuntimeError(f"no check result for {host};{service} within {seconds} s\n{self.logs()}")


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

    def __init__(self, commands: list[str], dont_blame_nrpe: bool = False) -> None:
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
                    f"dont_blame_nrpe={int(dont_blame_nrpe)}",
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
        _end(self._process, self.dir)

    def check(self, command: str, *options: str) -> subprocess.CompletedProcess[str]:
        """check_nrpe -c ``command``, then ``options`` (``-2`` for version 2 packets, ``-a ARGS``)."""
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
                *options,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
