"""Real mail servers from Debian's packages, as private loopback instances.

Each instance has its own configuration, certificates, state and logs under
one directory in /var/tmp (the daemons' unprivileged users must be able to
traverse it, which pytest's 0700 temporary directories do not allow). Nothing
in /etc is changed; see ``PostfixInstance`` for the one exception Postfix may
need. Used by the test suite and by ``scripts/demo.py``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pki import Pki

#: The operator's RSA-only TLS 1.2 list from the incident.
RSA_ONLY = (
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-GCM-SHA256:"
    "DHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA"
)
NAME = "mail.example.test"

#: Scenario -> what the servers are given. Each server turns these into its own settings.
SCENARIOS = ("incident", "fixed", "dual", "expiring", "notls")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def base_directory(prefix: str) -> Path:
    root = Path("/var/tmp")
    path = Path(tempfile.mkdtemp(prefix=f"check_tls_mail-{prefix}-", dir=root))
    path.chmod(0o755)
    return path


@dataclass
class Credentials:
    """Certificate files for the scenarios, issued by the test PKI."""

    directory: Path
    pki: Pki
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (chain, key)

    @classmethod
    def make(cls, directory: Path) -> Credentials:
        pki = Pki(directory)
        creds = cls(directory, pki)
        creds.files["ecdsa"] = pki.leaf(key_type="ECDSA").write(directory, "ecdsa")
        creds.files["rsa"] = pki.leaf(key_type="RSA").write(directory, "rsa")
        creds.files["expiring"] = pki.leaf(key_type="ECDSA", days_left=5).write(directory, "expiring")
        for _chain, key in creds.files.values():
            os.chmod(key, 0o600)
        return creds

    @property
    def ca_file(self) -> str:
        return self.pki.root_file


class Instance:
    """A daemon with a log we can show when a test fails."""

    name = "server"
    log_files: tuple[Path, ...] = ()
    ports: dict[str, int]

    def logs(self, limit: int = 4000) -> str:
        out = []
        for path in self.log_files:
            if path.exists():
                text = path.read_text(errors="replace")
                out.append(f"--- {path} (last {limit} characters) ---\n{text[-limit:]}")
        return "\n".join(out) or f"(no logs for {self.name})"

    def stop(self) -> None:
        raise NotImplementedError


def _run(command: list[str], log: Path) -> subprocess.CompletedProcess[str]:
    """Run a start/stop command; output goes to ``log``, not a pipe a daemon would keep open."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True, timeout=60, check=False
        )
    return result


class PostfixInstance(Instance):
    """One private Postfix (``postfix -c DIR start``), one smtpd listener per scenario and service.

    Listeners: ``<scenario>-smtp`` (port-25 style, STARTTLS may), and for the
    incident and the fix also ``-submission`` (STARTTLS required) and
    ``-smtps`` (wrapper mode). If the machine's default main.cf exists and
    lacks our directory in ``alternate_config_directories``, Postfix refuses a
    private instance; only then is that single line appended to it (and
    removed again on stop).
    """

    name = "postfix"
    MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

    def __init__(self, creds: Credentials) -> None:
        self.creds = creds
        self.dir = base_directory("postfix")
        self.control_log = self.dir / "control.log"
        self.log_files = (self.control_log, self.dir / "maillog")
        self.ports = {}
        self._added_line: str | None = None

    def _listeners(self) -> Iterable[tuple[str, list[str]]]:
        files = self.creds.files

        def chain(*names: str) -> str:
            return "$" + "_".join(names) + "_files"

        scenario = {
            "incident": [
                "smtpd_tls_chain_files=" + chain("ecdsa"),
                "tls_high_cipherlist=$rsa_only",
                "smtpd_tls_ciphers=high",
                "smtpd_tls_mandatory_ciphers=high",
            ],
            "fixed": ["smtpd_tls_chain_files=" + chain("ecdsa")],
            "dual": ["smtpd_tls_chain_files=" + chain("ecdsa", "rsa")],
            "expiring": ["smtpd_tls_chain_files=" + chain("expiring")],
            "notls": ["smtpd_tls_security_level=none"],
        }
        assert set(files) >= {"ecdsa", "rsa", "expiring"}
        for name, options in scenario.items():
            yield f"{name}-smtp", options
            if name in ("incident", "fixed"):
                yield f"{name}-submission", [*options, "smtpd_tls_security_level=encrypt"]
                yield f"{name}-smtps", [*options, "smtpd_tls_wrappermode=yes"]

    def _write_config(self) -> None:
        d = self.dir
        files = self.creds.files
        lines = [
            "compatibility_level = 3.6",
            f"queue_directory = {d}/queue",
            f"data_directory = {d}/data",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            f"myhostname = {NAME}",
            "mydestination =",
            f"maillog_file = {d}/maillog",
            f"maillog_file_prefixes = {d}",
            "smtpd_tls_security_level = may",
            f"rsa_only = {RSA_ONLY}",
        ]
        for names in (("ecdsa",), ("ecdsa", "rsa"), ("expiring",)):
            parts = []
            for n in names:
                cert, key = files[n]
                parts += [key, cert]
            lines.append(f"{'_'.join(names)}_files = {', '.join(parts)}")
        (d / "main.cf").write_text("\n".join(lines) + "\n")
        master = []
        for listener, options in self._listeners():
            port = free_port()
            self.ports[listener] = port
            master.append(f"127.0.0.1:{port} inet n - n - - smtpd")
            master += [f"  -o syslog_name=postfix/{listener}"] + [f"  -o {o}" for o in options]
        (d / "master.cf").write_text("\n".join(master) + "\n" + self.MASTER_SERVICES)
        (d / "queue").mkdir()
        (d / "data").mkdir()
        shutil.chown(d / "data", "postfix")

    def _allow_private_instance(self, error: str) -> bool:
        default = Path("/etc/postfix/main.cf")
        if "alternate_config_directories" not in error or not default.exists():
            return False
        self._added_line = f"alternate_config_directories = {self.dir}  # check_tls_mail tests\n"
        with default.open("a") as handle:
            handle.write(self._added_line)
        return True

    def start(self) -> None:
        self._write_config()
        result = _run(["postfix", "-c", str(self.dir), "start"], self.control_log)
        if result.returncode != 0 and self._allow_private_instance(self.control_log.read_text()):
            result = _run(["postfix", "-c", str(self.dir), "start"], self.control_log)
        if result.returncode != 0:
            raise RuntimeError(f"postfix did not start\n{self.logs()}")
        for listener, port in self.ports.items():
            if not wait_for_port(port):
                raise RuntimeError(f"postfix listener {listener} not up on {port}\n{self.logs()}")

    def stop(self) -> None:
        _run(["postfix", "-c", str(self.dir), "stop"], self.control_log)
        if self._added_line:
            default = Path("/etc/postfix/main.cf")
            default.write_text(default.read_text().replace(self._added_line, ""))
        shutil.rmtree(self.dir, ignore_errors=True)


class DovecotInstance(Instance):
    """One private Dovecot (``dovecot -c FILE``) for one scenario: IMAP, IMAPS, POP3, POP3S, ManageSieve."""

    name = "dovecot"
    SERVICES = ("imap", "imaps", "pop3", "pop3s", "sieve")

    def __init__(self, creds: Credentials, scenario: str) -> None:
        self.creds = creds
        self.scenario = scenario
        self.dir = base_directory(f"dovecot-{scenario}")
        self.control_log = self.dir / "control.log"
        self.log_files = (self.control_log, self.dir / "dovecot.log")
        plain_only = scenario == "notls"
        self.ports = {s: free_port() for s in self.SERVICES if not (plain_only and s.endswith("s"))}

    def _tls_settings(self) -> list[str]:
        files = self.creds.files

        def cert(name: str, alt: str = "") -> list[str]:
            chain, key = files[name]
            return [f"ssl{alt}_cert = <{chain}", f"ssl{alt}_key = <{key}"]

        return {
            "incident": ["ssl = yes", *cert("ecdsa"), f"ssl_cipher_list = {RSA_ONLY}"],
            "fixed": ["ssl = yes", *cert("ecdsa")],
            "dual": ["ssl = yes", *cert("ecdsa"), *cert("rsa", "_alt")],
            "expiring": ["ssl = yes", *cert("expiring")],
            "notls": ["ssl = no"],
        }[self.scenario]

    def _write_config(self) -> Path:
        d = self.dir
        p = self.ports

        def tls_listener(name: str) -> str:
            if name not in p:
                return ""
            return f"  inet_listener {name} {{\n    port = {p[name]}\n    ssl = yes\n  }}\n"

        imaps, pop3s = tls_listener("imaps"), tls_listener("pop3s")
        config = (
            "\n".join(
                [
                    f"base_dir = {d}/run",
                    f"state_dir = {d}/state",
                    f"log_path = {d}/dovecot.log",
                    "protocols = imap pop3 sieve",
                    "listen = 127.0.0.1",
                    "ssl_min_protocol = TLSv1.2",
                    *self._tls_settings(),
                    "auth_mechanisms = plain",
                    "passdb {\n  driver = static\n  args = nopassword=y\n}",
                    "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=/nonexistent\n}",
                    f"service imap-login {{\n  inet_listener imap {{\n    port = {p['imap']}\n  }}\n{imaps}}}",
                    f"service pop3-login {{\n  inet_listener pop3 {{\n    port = {p['pop3']}\n  }}\n{pop3s}}}",
                    f"service managesieve-login {{\n  inet_listener sieve {{\n    port = {p['sieve']}\n  }}\n}}",
                ]
            )
            + "\n"
        )
        path = d / "dovecot.conf"
        path.write_text(config)
        return path

    def start(self) -> None:
        config = self._write_config()
        self.config = config
        result = _run(["dovecot", "-c", str(config)], self.control_log)
        if result.returncode != 0:
            raise RuntimeError(f"dovecot did not start\n{self.logs()}")
        for service, port in self.ports.items():
            if not wait_for_port(port):
                raise RuntimeError(f"dovecot {service} not up on {port}\n{self.logs()}")

    def stop(self) -> None:
        result = _run(["dovecot", "-c", str(self.config), "stop"], self.control_log)
        if result.returncode != 0:
            pid_file = self.dir / "run" / "master.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        shutil.rmtree(self.dir, ignore_errors=True)


def have(*commands: str) -> list[str]:
    """The commands in ``commands`` that are missing from PATH (and /usr/sbin)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [c for c in commands if shutil.which(c, path=path) is None]
