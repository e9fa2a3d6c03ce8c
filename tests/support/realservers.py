"""Real mail servers from Debian's packages, as private loopback instances.

Each instance has its own configuration, certificates, state and logs under
one directory in /var/tmp (the daemons' unprivileged users must be able to
traverse it, which pytest's 0700 temporary directories do not allow). Nothing
in /etc is changed; see ``PostfixInstance`` for the one exception Postfix may
need. Used by the test suite and by ``scripts/demo.py``.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography import x509
from loopback import free_port, wait_for_port
from pki import Pki

#: The operator's RSA-only TLS 1.2 list from the incident.
RSA_ONLY = (
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-GCM-SHA256:"
    "DHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA"
)
NAME = "mail.example.test"
#: The name of the default certificate of the SNI scenario: not the service's name.
OTHER_NAME = "default.example.test"

#: Scenario -> what the servers are given. Each server turns these into its own settings.
SCENARIOS = ("incident", "fixed", "dual", "expiring", "notls")


@functools.cache
def mount_namespace() -> tuple[str, ...]:
    """unshare's options for a mount namespace of its own, private where this system allows it.

    unshare makes the new namespace's mounts private by changing "/": that fails
    where "/" is no mount point, as inside a plain debootstrap chroot (how a fresh
    Debian is tried out). There the namespace leaves propagation as it is (the
    chroot's own mounts, private when it was entered through unshare), and every
    command here unmounts what it mounts.
    """
    private = subprocess.run(["unshare", "--mount", "true"], capture_output=True, timeout=30, check=False)
    return ("--mount",) if private.returncode == 0 else ("--mount", "--propagation", "unchanged")


def base_directory(prefix: str, root: Path = Path("/")) -> Path:
    """A new directory /var/tmp/check_tls_mail-PREFIX-* on the host, or in the chroot at ``root``."""
    path = Path(tempfile.mkdtemp(prefix=f"check_tls_mail-{prefix}-", dir=root / "var/tmp"))
    path.chmod(0o755)
    return path


class ServerRoot(Protocol):
    """Where a server's binaries live: the host, or a chroot (``MailServersChroot``)."""

    root: Path

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run there."""
        ...

    def inside(self, path: Path) -> str:
        """A host path as the processes there see it."""
        ...

    def directory(self, prefix: str) -> Path:
        """A new directory there for one server's files."""
        ...


class HostRoot:
    """The host itself as the place a server's binaries live."""

    root = Path("/")

    def command(self, argv: list[str]) -> list[str]:
        return argv

    def inside(self, path: Path) -> str:
        return str(path)

    def directory(self, prefix: str) -> Path:
        return base_directory(prefix)


HOST = HostRoot()


@dataclass
class Credentials:
    """Certificate files for the scenarios, issued by the test PKI."""

    directory: Path
    pki: Pki
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (chain, key)

    @classmethod
    def make(cls, directory: Path, from_root: bool = False) -> Credentials:
        """Leaves from the intermediate; ``from_root`` for servers that send no chain (sendmail)."""
        pki = Pki(directory)
        creds = cls(directory, pki)
        issuer = pki.root if from_root else None
        creds.files["ecdsa"] = pki.leaf(key_type="ECDSA", issuer=issuer).write(directory, "ecdsa")
        creds.files["rsa"] = pki.leaf(key_type="RSA", issuer=issuer).write(directory, "rsa")
        creds.files["expiring"] = pki.leaf(key_type="ECDSA", days_left=5, issuer=issuer).write(directory, "expiring")
        # The client-constraint scenarios: a private CA's 10-year leaf (from the root, whose 10 years cover it),
        # a leaf without extendedKeyUsage, an Ed25519 leaf, and the SNI scenario's default for another name.
        creds.files["tenyear"] = pki.leaf(lifetime=3650, days_left=3640, issuer=pki.root).write(directory, "tenyear")
        creds.files["noeku"] = pki.leaf(eku=False, issuer=issuer).write(directory, "noeku")
        creds.files["ed25519"] = pki.leaf(key_type="Ed25519", issuer=issuer).write(directory, "ed25519")
        creds.files["other"] = pki.leaf((OTHER_NAME,), issuer=issuer).write(directory, "other")
        for _chain, key in creds.files.values():
            os.chmod(key, 0o600)
        return creds

    @property
    def ca_file(self) -> str:
        return self.pki.root_file

    def leaf(self, name: str) -> x509.Certificate:
        """The scenario's certificate (the first of its chain file)."""
        with open(self.files[name][0], "rb") as handle:
            return x509.load_pem_x509_certificate(handle.read())


def copy_credentials(creds: Credentials, directory: Path) -> dict[str, tuple[Path, Path]]:
    """Copies of the scenario files in ``directory`` (in a server's own tree, which a chroot can see)."""
    directory.mkdir(mode=0o755)
    copies = {}
    for name, (chain, key) in creds.files.items():
        copies[name] = (directory / f"{name}.chain.pem", directory / f"{name}.key.pem")
        for source, copy in zip((chain, key), copies[name], strict=True):
            shutil.copy2(source, copy)
    return copies


#: Starts of a server whose ports another process took between free_port() and the server's bind.
PORT_ATTEMPTS = 3


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

    def taken(self) -> bool:
        """Whether the server's logs say one of its ports was in use when it tried to bind it."""
        return "Address already in use" in self.logs(20000)

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
    #: Scenarios with a submission listener too, for the mail user agents' profiles.
    MUA_SCENARIOS = ("x25519", "sni", "tenyear", "noeku", "ed25519")
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

    def __init__(self, creds: Credentials, root: ServerRoot | None = None) -> None:
        self.creds = creds
        self.where = root or mail_server_root("postfix")
        self.dir = self.where.directory("postfix")
        self.control_log = self.dir / "control.log"
        self.log_files = (self.control_log, self.dir / "maillog")
        self.ports = {}
        self._added_line: str | None = None
        self.files = copy_credentials(creds, self.dir / "certs")
        self.ca_file = self.dir / "certs" / "ca.pem"
        shutil.copyfile(creds.ca_file, self.ca_file)

    def _listeners(self) -> Iterable[tuple[str, list[str]]]:
        files = self.files

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
            # issue 13: a group list several hardening guides recommend, which Apple Mail's hello lacks
            "x25519": ["smtpd_tls_chain_files=" + chain("ecdsa"), "tls_eecdh_auto_curves=X25519"],
            # the right certificate only under SNI; clients without SNI get one for another name
            "sni": ["smtpd_tls_chain_files=" + chain("other"), "tls_server_sni_maps=texthash:$config_directory/sni"],
            "tenyear": ["smtpd_tls_chain_files=" + chain("tenyear")],
            "noeku": ["smtpd_tls_chain_files=" + chain("noeku")],
            "ed25519": ["smtpd_tls_chain_files=" + chain("ed25519")],
            # one connection per client at a time, loopback included (mynetworks is exempt by default)
            "limited": [
                "smtpd_tls_chain_files=" + chain("ecdsa"),
                "smtpd_client_connection_count_limit=1",
                "smtpd_client_event_limit_exceptions=",
            ],
        }
        assert set(files) >= {"ecdsa", "rsa", "expiring"}
        for name, options in scenario.items():
            yield f"{name}-smtp", options
            if name in ("incident", "fixed", *self.MUA_SCENARIOS):
                yield f"{name}-submission", [*options, "smtpd_tls_security_level=encrypt"]
            if name in ("incident", "fixed"):
                yield f"{name}-smtps", [*options, "smtpd_tls_wrappermode=yes"]

    def _write_config(self) -> None:
        d = self.dir
        seen = self.where.inside  # the paths as Postfix sees them (in its chroot, if it runs in one)
        files = {name: (seen(chain), seen(key)) for name, (chain, key) in self.files.items()}
        lines = [
            "compatibility_level = 3.6",
            f"queue_directory = {seen(d)}/queue",
            f"data_directory = {seen(d)}/data",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            f"myhostname = {NAME}",
            "mydestination =",
            f"maillog_file = {seen(d)}/maillog",
            f"maillog_file_prefixes = {seen(d)}",
            "smtpd_tls_security_level = may",
            f"rsa_only = {RSA_ONLY}",
        ]
        for names in (("ecdsa",), ("ecdsa", "rsa"), ("expiring",), ("tenyear",), ("noeku",), ("ed25519",), ("other",)):
            parts = []
            for n in names:
                cert, key = files[n]
                parts += [key, cert]
            lines.append(f"{'_'.join(names)}_files = {', '.join(parts)}")
        (d / "main.cf").write_text("\n".join(lines) + "\n")
        cert, key = files["ecdsa"]
        (d / "sni").write_text(f"{NAME} {key}, {cert}\n")
        master = []
        for listener, options in self._listeners():
            port = free_port()
            self.ports[listener] = port
            master.append(f"127.0.0.1:{port} inet n - n - - smtpd")
            master += [f"  -o syslog_name=postfix/{listener}"] + [f"  -o {o}" for o in options]
        (d / "master.cf").write_text("\n".join(master) + "\n" + self.MASTER_SERVICES)
        (d / "queue").mkdir(exist_ok=True)
        (d / "data").mkdir(exist_ok=True)
        _run(self.where.command(["chown", "postfix", self.where.inside(d / "data")]), self.control_log)

    def postfix(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """``postfix -c DIR ARGUMENTS`` where this Postfix lives, its output in the control log."""
        return _run(self.where.command(["postfix", "-c", self.where.inside(self.dir), *arguments]), self.control_log)

    def tool(self, *command: str) -> subprocess.CompletedProcess[str]:
        """A Postfix tool (``posttls-finger``) with this instance's configuration, where Postfix lives."""
        return subprocess.run(
            self.where.command(["env", f"MAIL_CONFIG={self.where.inside(self.dir)}", *command]),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def _allow_private_instance(self, error: str) -> bool:
        default = self.where.root / "etc/postfix/main.cf"
        if "alternate_config_directories" not in error or not default.exists():
            return False
        self._added_line = f"alternate_config_directories = {self.where.inside(self.dir)}  # check_tls_mail tests\n"
        with default.open("a") as handle:
            handle.write(self._added_line)
        return True

    def start(self) -> None:
        for attempt in range(PORT_ATTEMPTS):
            self.ports = {}
            self._write_config()
            result = self.postfix("start")
            if result.returncode != 0 and self._allow_private_instance(self.control_log.read_text()):
                result = self.postfix("start")
            if result.returncode != 0:
                raise RuntimeError(f"postfix did not start\n{self.logs()}")
            down = [(listener, port) for listener, port in self.ports.items() if not wait_for_port(port, seconds=5)]
            if not down:
                return
            if not self.taken() or attempt == PORT_ATTEMPTS - 1:
                raise RuntimeError(f"postfix listener {down[0][0]} not up on {down[0][1]}\n{self.logs()}")
            self.postfix("stop")  # another process took a port before Postfix bound it: other ports

    def stop(self) -> None:
        self.postfix("stop")
        if self._added_line:
            default = self.where.root / "etc/postfix/main.cf"
            default.write_text(default.read_text().replace(self._added_line, ""))
        shutil.rmtree(self.dir, ignore_errors=True)


class RenewablePostfix(PostfixInstance):
    """Postfix plus one listener, ``renewal-smtp``, whose certificate file can be replaced on disk.

    The listener runs at most one smtpd process (maxproc 1) that stays alive
    between connections (max_idle 3600), so the certificate it loaded when it
    started is served until ``reload``: what an operator sees when an ACME
    client renews the file and nobody reloads. (A new smtpd process reads the
    files when it starts, so a busy Postfix, or one idle for max_idle (100 s by
    default), partly picks a new file up by itself.)
    """

    LISTENER = "renewal-smtp"

    def __init__(self, creds: Credentials, root: ServerRoot | None = None) -> None:
        super().__init__(creds, root)
        self.chain_file = self.dir / "renewal.chain.pem"
        self.key_file = self.dir / "renewal.key.pem"

    def _write_config(self) -> None:
        super()._write_config()
        chain, key = self.creds.files["ecdsa"]
        self.replace_certificate(Path(chain).read_bytes(), Path(key).read_bytes())
        with (self.dir / "main.cf").open("a") as main:
            main.write(f"renewal_files = {self.where.inside(self.key_file)}, {self.where.inside(self.chain_file)}\n")
        port = free_port()
        self.ports[self.LISTENER] = port
        with (self.dir / "master.cf").open("a") as master:
            master.write(
                f"127.0.0.1:{port} inet n - n - 1 smtpd\n"
                f"  -o syslog_name=postfix/{self.LISTENER}\n"
                "  -o smtpd_tls_chain_files=$renewal_files\n"
                "  -o max_idle=3600\n"
            )

    def replace_certificate(self, chain_pem: bytes, key_pem: bytes) -> None:
        """New files in place, renamed over the old ones as ACME clients do; Postfix is not told."""
        for path, data, mode in ((self.key_file, key_pem, 0o600), (self.chain_file, chain_pem, 0o644)):
            temporary = path.with_suffix(".new")
            temporary.write_bytes(data)
            temporary.chmod(mode)
            os.replace(temporary, path)

    def reload(self) -> None:
        """``postfix -c DIR reload``: smtpd processes exit after their session; new ones read the files."""
        result = self.postfix("reload")
        if result.returncode != 0:
            raise RuntimeError(f"postfix reload failed\n{self.logs()}")


@functools.cache
def dovecot_version() -> tuple[int, int]:
    """The tests' Dovecot's major and minor version, e.g. (2, 3) on Debian 12 and (2, 4) on Debian 13."""
    command = mail_server_root("dovecot").command(["dovecot", "--version"])
    output = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True).stdout
    major, minor = output.split()[0].split(".")[:2]
    return int(major), int(minor)


@functools.cache
def openssl_version(server: str) -> tuple[int, int]:
    """The OpenSSL the tests' ``postfix`` or ``dovecot`` runs on, from its package: (3, 0) on Debian 12, (3, 5) on
    Debian 13, where X25519MLKEM768 is among the library's default groups."""
    query = ["dpkg-query", "-W", "-f", "${Version}\\n", "libssl3", "libssl3t64"]  # one of the two is installed
    command = mail_server_root(server).command(query)
    output = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False).stdout
    major, minor = next(line for line in output.split() if line[:1].isdigit()).split(".")[:2]
    return int(major), int(minor)


class DovecotInstance(Instance):
    """One private Dovecot (``dovecot -c FILE``) for one scenario: IMAP, IMAPS, POP3, POP3S, ManageSieve."""

    name = "dovecot"
    SERVICES = ("imap", "imaps", "pop3", "pop3s", "sieve")

    def __init__(self, creds: Credentials, scenario: str, root: ServerRoot | None = None) -> None:
        self.creds = creds
        self.scenario = scenario
        self.where = root or mail_server_root("dovecot")
        self.dir = self.where.directory(f"dovecot-{scenario}")
        self.control_log = self.dir / "control.log"
        self.log_files = (self.control_log, self.dir / "dovecot.log")
        self.files = copy_credentials(creds, self.dir / "certs")
        plain_only = scenario == "notls"
        self.ports = {s: free_port() for s in self.SERVICES if not (plain_only and s.endswith("s"))}

    def _tls_settings(self) -> list[str]:
        seen = self.where.inside

        def cert(name: str, alt: str = "") -> list[str]:
            chain, key = (seen(path) for path in self.files[name])
            if dovecot_version() >= (2, 4):  # Debian 13
                return [f"ssl_server{alt}_cert_file = {chain}", f"ssl_server{alt}_key_file = {key}"]
            return [f"ssl{alt}_cert = <{chain}", f"ssl{alt}_key = <{key}"]

        return {
            "incident": ["ssl = yes", *cert("ecdsa"), f"ssl_cipher_list = {RSA_ONLY}"],
            "fixed": ["ssl = yes", *cert("ecdsa")],
            "dual": ["ssl = yes", *cert("ecdsa"), *cert("rsa", "_alt")],
            "expiring": ["ssl = yes", *cert("expiring")],
            "notls": ["ssl = no"],
            # issue 13: a restricted group list, and a TLS 1.3-only server with one TLS 1.3 suite
            "curves": ["ssl = yes", *cert("ecdsa"), "ssl_curve_list = X25519"],
            "chacha": [
                "ssl = yes",
                *cert("ecdsa"),
                "ssl_min_protocol = TLSv1.3",
                "ssl_cipher_suites = TLS_CHACHA20_POLY1305_SHA256",
            ],
        }[self.scenario]

    @staticmethod
    def _version_settings() -> list[str]:
        """Dovecot 2.4 (Debian 13) wants these two first; 2.3 (Debian 12) knows neither."""
        if dovecot_version() >= (2, 4):
            return ["dovecot_config_version = 2.4.0", "dovecot_storage_version = 2.4.0"]
        return []

    @staticmethod
    def _auth_settings() -> list[str]:
        """Any user, no password: only the TLS handshake matters (2.4 changed the syntax)."""
        if dovecot_version() >= (2, 4):
            return [
                "passdb static {\n  fields {\n    nopassword = y\n  }\n}",
                "userdb static {\n  fields {\n    uid = nobody\n    gid = nogroup\n    home = /nonexistent\n  }\n}",
            ]
        return [
            "passdb {\n  driver = static\n  args = nopassword=y\n}",
            "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=/nonexistent\n}",
        ]

    def _write_config(self) -> Path:
        d = self.where.inside(self.dir)  # as Dovecot sees it
        p = self.ports

        def tls_listener(name: str) -> str:
            if name not in p:
                return ""
            return f"  inet_listener {name} {{\n    port = {p[name]}\n    ssl = yes\n  }}\n"

        imaps, pop3s = tls_listener("imaps"), tls_listener("pop3s")
        config = (
            "\n".join(
                [
                    *self._version_settings(),
                    f"base_dir = {d}/run",
                    f"state_dir = {d}/state",
                    f"log_path = {d}/dovecot.log",
                    "protocols = imap pop3 sieve",
                    "listen = 127.0.0.1",
                    *(["ssl_min_protocol = TLSv1.2"] if self.scenario != "chacha" else []),
                    *self._tls_settings(),
                    "auth_mechanisms = plain",
                    *self._auth_settings(),
                    f"service imap-login {{\n  inet_listener imap {{\n    port = {p['imap']}\n  }}\n{imaps}}}",
                    f"service pop3-login {{\n  inet_listener pop3 {{\n    port = {p['pop3']}\n  }}\n{pop3s}}}",
                    f"service managesieve-login {{\n  inet_listener sieve {{\n    port = {p['sieve']}\n  }}\n}}",
                ]
            )
            + "\n"
        )
        path = self.dir / "dovecot.conf"
        path.write_text(config)
        return path

    def dovecot(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """``dovecot -c CONFIG ARGUMENTS`` where this Dovecot lives, its output in the control log."""
        return _run(self.where.command(["dovecot", "-c", self.where.inside(self.config), *arguments]), self.control_log)

    def start(self) -> None:
        for attempt in range(PORT_ATTEMPTS):
            self.config = self._write_config()
            result = self.dovecot()
            if result.returncode == 0:
                break
            if not self.taken() or attempt == PORT_ATTEMPTS - 1:
                raise RuntimeError(f"dovecot did not start\n{self.logs()}")
            self.ports = {service: free_port() for service in self.ports}  # another process took one: others
        for service, port in self.ports.items():
            if not wait_for_port(port):
                raise RuntimeError(f"dovecot {service} not up on {port}\n{self.logs()}")

    def stop(self) -> None:
        result = self.dovecot("stop")
        if result.returncode != 0:
            pid_file = self.dir / "run" / "master.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        shutil.rmtree(self.dir, ignore_errors=True)


class Chroot:
    """A ``debootstrap --variant=minbase`` chroot of one Debian release, built once and cached.

    The mirror comes from the machine's apt sources. Packages go in with
    service control disabled, as debootstrap itself installs: a policy-rc.d
    that exits 101 and a diverted start-stop-daemon that does nothing. And
    they go in inside a PID namespace with its own /proc, so a maintainer
    script that stops daemons by name (sendmail-bin's ``start-stop-daemon
    --stop --name sendmail``, or a killall) sees only the installation's
    processes, never the host's. ``ready`` marks a complete build; a lock
    keeps two test runs from building the same chroot at once.
    """

    CACHE = Path("/var/cache/check_tls_mail")
    SUITE = "bookworm"
    NAME = "chroot"
    PACKAGES: tuple[str, ...] = ()
    #: debconf answers given before the packages are installed.
    PRESEED: tuple[str, ...] = ()
    #: What the diverted start-stop-daemon does instead: nothing (debootstrap's words).
    FAKE_START_STOP_DAEMON = "#!/bin/sh\necho\necho 'Warning: Fake start-stop-daemon called, doing nothing'\n"
    POLICY_RC_D = "#!/bin/sh\n# check_tls_mail tests: no service starts in this chroot\nexit 101\n"
    ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/root")

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or self.CACHE / self.NAME
        self.build_log = self.root.with_name(self.root.name + ".log")

    @property
    def ready_marker(self) -> Path:
        return self.root / ".check_tls_mail-ready"

    @classmethod
    def mirror(cls) -> str:
        """A Debian mirror from the machine's apt sources (deb822 or one-line format).

        The one that lists this chroot's release, else the one that lists the
        host's own release (a Debian mirror carries every release).
        """
        release = dict(
            line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
        ).get("VERSION_CODENAME", "")
        wanted = [cls.SUITE, release.strip('"')]
        found: dict[str, str] = {}
        for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
            for stanza in path.read_text().split("\n\n"):
                fields = dict(
                    line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#")
                )
                if "security" in fields.get("URIs", "") or "deb" not in fields.get("Types", "").split():
                    continue
                for suite in fields.get("Suites", "").split():
                    found.setdefault(suite, fields["URIs"].split()[0].strip())
        for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]:
            if path.exists():
                for line in path.read_text().splitlines():
                    words = line.split()
                    if len(words) >= 3 and words[0] == "deb" and "security" not in line:
                        uri = next((w for w in words[1:] if "://" in w), None)
                        if uri:
                            suite = words[words.index(uri) + 1]
                            found.setdefault(suite, uri)
        for suite in wanted:
            if suite in found:
                return found[suite]
        raise RuntimeError(f"no Debian mirror for {' or '.join(filter(None, wanted))} in /etc/apt/sources.list*")

    def _log(self, command: list[str], timeout: float = 1800) -> None:
        with self.build_log.open("a") as out:
            out.write(f"[{time.strftime('%H:%M:%S')}] $ {' '.join(command)}\n")
            out.flush()
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        if result.returncode != 0:
            tail = self.build_log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(command)} failed:\n{tail}")

    def isolated(self, command: list[str]) -> list[str]:
        """``command`` in the chroot, in a PID namespace of its own with its own /proc (gone when it ends)."""
        return [
            "unshare",
            "--pid",
            "--fork",
            *mount_namespace(),
            f"--mount-proc={self.root / 'proc'}",
            "chroot",
            str(self.root),
            "/usr/bin/env",
            "-i",
            *self.ENV,
            "DEBIAN_FRONTEND=noninteractive",
            *command,
        ]

    def _output(self, command: list[str]) -> str:
        return subprocess.run(
            ["chroot", str(self.root), *command], capture_output=True, text=True, timeout=120, check=True
        ).stdout

    @property
    def start_stop_daemon(self) -> str:
        """Where this release's dpkg puts start-stop-daemon (/sbin or /usr/sbin)."""
        paths = [p for p in self._output(["dpkg-query", "-L", "dpkg"]).split() if p.endswith("/start-stop-daemon")]
        return next(p for p in paths if "sbin/" in p)

    def disable_service_control(self) -> None:
        """policy-rc.d exits 101; start-stop-daemon diverted to .REAL and replaced by one that does nothing."""
        policy = self.root / "usr/sbin/policy-rc.d"
        if not policy.exists() or policy.read_text() != self.POLICY_RC_D:
            policy.write_text(self.POLICY_RC_D)
        policy.chmod(0o755)
        path = self.start_stop_daemon
        real = path + ".REAL"
        if self._output(["dpkg-divert", "--truename", path]).strip() != real:
            self._log(["chroot", str(self.root), "dpkg-divert", "--local", "--rename", "--divert", real, "--add", path])
        fake = self.root / path.lstrip("/")
        if not fake.exists() or fake.read_text() != self.FAKE_START_STOP_DAEMON:
            fake.write_text(self.FAKE_START_STOP_DAEMON)
        fake.chmod(0o755)

    def restore_service_control(self) -> None:
        """Undo ``disable_service_control``: services start and stop as on a Debian of its own."""
        (self.root / "usr/sbin/policy-rc.d").unlink(missing_ok=True)
        path = self.start_stop_daemon
        if self._output(["dpkg-divert", "--truename", path]).strip() == path + ".REAL":
            (self.root / path.lstrip("/")).unlink()
            self._log(["chroot", str(self.root), "dpkg-divert", "--local", "--rename", "--remove", path])

    def index_environment(self) -> list[str]:
        """Variables with which pip in the chroot reaches the package index as this host does.

        This host's proxy settings, and what it trusts (an intercepting proxy's CA too:
        the host's CA bundle copied into the chroot).
        """
        proxies = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")
        environment = [f"{k}={v}" for k, v in os.environ.items() if k.lower() in proxies]
        bundle = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
        if bundle.exists():
            inside = self.root / "etc/check_tls_mail-host-ca.crt"
            shutil.copyfile(bundle, inside)
            environment.append(f"PIP_CERT={self.inside(inside)}")
        return environment

    def install(self, *packages: str) -> None:
        """``apt-get install`` in the chroot with service control disabled, isolated from host processes."""
        self.disable_service_control()
        command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
        self._log(self.isolated(command))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with self.root.with_name(self.root.name + ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def ensure(self) -> None:
        """Build the chroot unless a complete one is cached."""
        wanted = " ".join(self.PACKAGES)
        with self._locked():
            # A cached chroot with every wanted package (and maybe more, from a branch that wants more) will do:
            # checkouts that want different lists then do not rebuild it in turn.
            if self.ready_marker.exists() and set(self.ready_marker.read_text().split()) >= set(self.PACKAGES):
                self.disable_service_control()  # also in chroots cached before it existed
                return
            if self.root.exists():
                _run(["umount", "-l", str(self.root / "proc")], self.build_log)
                shutil.rmtree(self.root)
            self.build_log.write_text("")
            # debootstrap mounts /proc in the target itself: in its own PID and mount namespace that
            # /proc shows only its processes, and the mount goes away with the namespace.
            self._log(
                [
                    "unshare",
                    "--pid",
                    "--fork",
                    *mount_namespace(),
                    "debootstrap",
                    "--variant=minbase",
                    self.SUITE,
                    str(self.root),
                    self.mirror(),
                ]
            )
            for line in self.PRESEED:
                self._log(["chroot", str(self.root), "sh", "-c", f"echo '{line}' | debconf-set-selections"])
            self.install(*self.PACKAGES)
            self.after_install()
            self.ready_marker.write_text(wanted)
            with self.build_log.open("a") as out:
                out.write(f"[{time.strftime('%H:%M:%S')}] ready\n")

    def after_install(self) -> None:
        """What a chroot needs beyond its packages (nothing by default)."""

    def inside(self, path: Path) -> str:
        """A host path under the chroot as the chroot's processes see it."""
        return "/" + str(path.relative_to(self.root))

    @contextmanager
    def overlay(self, directory: Path) -> Iterator[Chroot]:
        """A throwaway copy: this chroot as the lower layer of an overlay mounted under ``directory``."""
        for sub in ("upper", "work", "merged"):
            (directory / sub).mkdir(parents=True)
        merged = directory / "merged"
        options = f"lowerdir={self.root},upperdir={directory / 'upper'},workdir={directory / 'work'}"
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)], check=True, timeout=60)
        copy = type(self)(merged)
        copy.build_log = directory / "build.log"
        try:
            yield copy
        finally:
            subprocess.run(["umount", "-l", str(merged)], check=False, timeout=60)


class ChrootStack(Chroot):
    """sendmail and courier-imap in a ``debootstrap --variant=minbase bookworm`` chroot.

    They conflict with Postfix and Dovecot as system packages, so they live in
    a chroot built once and cached. Daemons in it share the host's network,
    so they listen on host loopback ports.
    """

    SUITE = "bookworm"
    NAME = "bookworm-mail"
    ROOT = Chroot.CACHE / NAME
    PACKAGES = ("sendmail-bin", "sendmail-cf", "m4", "courier-imap")

    def __init__(self, root: Path | None = None) -> None:
        super().__init__(root)
        self._mounted = False

    def mount_proc(self) -> None:
        proc = self.root / "proc"
        if str(proc) not in Path("/proc/mounts").read_text():
            self._log(["mount", "-t", "proc", "proc", str(proc)])
            self._mounted = True

    def unmount_proc(self) -> None:
        if self._mounted:
            _run(["umount", "-l", str(self.root / "proc")], self.build_log)
            self._mounted = False

    def prepare_run(self) -> None:
        """Per run: names resolve from files (sendmail sleeps on an unqualified hostname otherwise)."""
        (self.root / "etc/hosts").write_text(
            f"127.0.0.1 {NAME} {socket.gethostname()} localhost\n::1 localhost ip6-localhost\n"
        )
        (self.root / "etc/mail/service.switch").write_text("hosts\tfiles\naliases\tfiles\n")
        self.mount_proc()


class SuiteChroot(Chroot):
    """Debian 13 (trixie: Python 3.13, OpenSSL 3.5) with what the suite runs there (``scripts/test-trixie``).

    Postfix and Dovecot for the real-server tests, Knot and Unbound for DANE,
    python3-venv for the test virtualenv and ``scripts/install``, and the
    ``nagios`` account Debian's monitoring packages create (the install tests
    run the plugin as it).
    """

    SUITE = "trixie"
    NAME = "trixie-suite"
    PACKAGES = (
        "python3",
        "python3-venv",
        "ca-certificates",
        "postfix",
        "dovecot-imapd",
        "dovecot-pop3d",
        "dovecot-managesieved",
        "knot",
        "unbound",
        "openssl",  # s_server, s_client and x509 -checkhost: the oracles
        "gnutls-bin",  # gnutls-cli and gnutls-serv (the Exim profile's hello, a 3DES server), certtool
        "libnss3-tools",  # tstclnt and certutil: NSS, Thunderbird's own TLS library, as an oracle
        "locales",  # localedef: the output test under an ISO-8859-1 locale
    )
    PRESEED = ("postfix postfix/main_mailer_type select No configuration",)

    def after_install(self) -> None:
        self._log(["chroot", str(self.root), "useradd", "--system", "--user-group", "--no-create-home", "nagios"])
        (self.root / "etc/hosts").write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")


#: The Debian packages of the tests' and the demo's Postfix and Dovecot, by server.
MAIL_SERVER_PACKAGES = {
    "postfix": ("postfix",),
    "dovecot": ("dovecot-imapd", "dovecot-pop3d", "dovecot-managesieved"),
}


def host_release() -> str:
    """The host's Debian release by its code name (``bookworm``, ``trixie``)."""
    fields = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    return fields.get("VERSION_CODENAME", "bookworm").strip('"') or "bookworm"


def installed(package: str) -> bool:
    """Is the Debian package installed on the host?"""
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, timeout=30, check=False
    )
    return status.stdout.endswith("install ok installed")


class MailServersChroot(Chroot):
    """Postfix and Dovecot in a chroot of the host's own Debian release, for a host that cannot have them.

    Debian's ``postfix`` conflicts with every other MTA (``mail-transport-agent``:
    exim4, sendmail, OpenSMTPD) and ``dovecot-imapd`` with every other IMAP server
    (``imap-server``: courier-imap). On such a host ``.ci/setup`` installs neither
    (apt would remove the host's own mail server), and the tests and the demo run
    them from here. Daemons in it share the host's network and listen on loopback.
    """

    SUITE = host_release()
    NAME = f"{SUITE}-postfix-dovecot"
    PACKAGES = tuple(package for packages in MAIL_SERVER_PACKAGES.values() for package in packages)
    PRESEED = ("postfix postfix/main_mailer_type select No configuration",)

    def command(self, argv: list[str]) -> list[str]:
        return ["chroot", str(self.root), "/usr/bin/env", "-i", *self.ENV, *argv]

    def directory(self, prefix: str) -> Path:
        return base_directory(prefix, self.root)

    def after_install(self) -> None:
        (self.root / "etc/hosts").write_text(f"127.0.0.1 {NAME} localhost\n::1 localhost ip6-localhost\n")


def on_host(server: str) -> bool:
    """Has the host the packages of the tests' ``postfix`` or ``dovecot``?"""
    return all(installed(package) for package in MAIL_SERVER_PACKAGES[server])


@functools.cache
def mail_server_root(server: str) -> ServerRoot:
    """Where the tests' ``postfix`` or ``dovecot`` runs: the host if it has the packages, else their chroot."""
    if on_host(server):
        return HOST
    chroot = MailServersChroot()
    chroot.ensure()
    return chroot


class ChrootDaemon(Instance):
    """Foreground daemons in the chroot, one process group each, stopped together."""

    def __init__(self, stack: ChrootStack, creds: Credentials, scenario: str) -> None:
        self.stack = stack
        self.creds = creds
        self.scenario = scenario
        self.dir = creds.directory / f"{self.name}-{scenario}"
        self.dir.mkdir(mode=0o755)
        self.log_files = (self.dir / "daemon.log",)
        self.ports = {}
        self._processes: list[subprocess.Popen[bytes]] = []

    def spawn(self, command: list[str]) -> None:
        log = (self.dir / "daemon.log").open("ab")
        self._processes.append(
            subprocess.Popen(
                ["chroot", str(self.stack.root), *command],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def wait_up(self) -> None:
        for service, port in self.ports.items():
            if not wait_for_port(port):
                raise RuntimeError(f"{self.name} {service} not up on {port}\n{self.logs()}")

    def stop(self) -> None:
        for process in self._processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


class SendmailInstance(ChrootDaemon):
    """sendmail (OpenSSL) configured with m4 from sendmail-cf, as in the incident."""

    name = "sendmail"

    def start(self) -> None:
        inside = self.stack.inside
        chain, key = self.creds.files["expiring" if self.scenario == "expiring" else "ecdsa"]
        port = self.ports["smtp"] = free_port()
        queue = self.dir / "queue"
        queue.mkdir(mode=0o700)
        cipher_list = f"LOCAL_CONFIG\nO CipherList={RSA_ONLY}\n" if self.scenario == "incident" else ""
        mc = f"""divert(-1)dnl
include(`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(`check_tls_mail test {self.scenario}')dnl
OSTYPE(`debian')dnl
define(`confDOMAIN_NAME', `{NAME}')dnl
define(`confSERVICE_SWITCH_FILE', `/etc/mail/service.switch')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`QUEUE_DIR', `{inside(queue)}')dnl
define(`confPID_FILE', `{inside(self.dir)}/sendmail.pid')dnl
define(`confSERVER_CERT', `{inside(Path(chain))}')dnl
define(`confSERVER_KEY', `{inside(Path(key))}')dnl
define(`confCACERT', `{inside(Path(self.creds.ca_file))}')dnl
define(`confCACERT_PATH', `{inside(self.creds.directory)}')dnl
define(`confLOG_LEVEL', `14')dnl
FEATURE(`no_default_msa')dnl
DAEMON_OPTIONS(`Family=inet, Name=MTA, Port={port}, Addr=127.0.0.1')dnl
{cipher_list}MAILER(`local')dnl
MAILER(`smtp')dnl
"""
        (self.dir / "sendmail.mc").write_text(mc)
        result = _run(
            [
                "chroot",
                str(self.stack.root),
                "sh",
                "-c",
                f"m4 {inside(self.dir)}/sendmail.mc > {inside(self.dir)}/sendmail.cf",
            ],
            self.log_files[0],
        )
        if result.returncode != 0:
            raise RuntimeError(f"m4 failed\n{self.logs()}")
        self.spawn(["/usr/sbin/sendmail", "-bD", "-C", f"{inside(self.dir)}/sendmail.cf"])
        self.wait_up()


class CourierInstance(ChrootDaemon):
    """courier-imap (GnuTLS): IMAP with STARTTLS and IMAPS, each a couriertcpd."""

    name = "courier"

    def start(self) -> None:
        chain, key = self.creds.files["expiring" if self.scenario == "expiring" else "ecdsa"]
        both = self.dir / "cert.pem"  # courier wants key and chain in one file, readable by imapd
        both.write_bytes(Path(key).read_bytes() + Path(chain).read_bytes())
        both.chmod(0o644)
        priority = "NORMAL:-ECDHE-ECDSA" if self.scenario == "incident" else "NORMAL"
        env = [
            "/usr/bin/env",
            "-i",
            "IMAP_CAPABILITY=IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE",
            "IMAP_CAPABILITY_TLS=IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE AUTH=PLAIN",
            "COURIERTLS=/usr/bin/couriertls",
            f"TLS_CERTFILE={self.stack.inside(both)}",
            f"TLS_PRIORITY={priority}",
            "TLS_VERIFYPEER=NONE",
            "IMAP_TLS_REQUIRED=0",
        ]
        tcpd = [
            "/usr/sbin/couriertcpd",
            "-address=127.0.0.1",
            "-maxprocs=40",
            "-maxperip=40",
            "-nodnslookup",
            "-noidentlookup",
        ]
        imapd = ["/usr/lib/courier/courier/imaplogin", "/usr/bin/imapd", "Maildir"]
        self.ports = {"imap": free_port(), "imaps": free_port()}
        self.spawn([*env, "IMAP_STARTTLS=YES", *tcpd, str(self.ports["imap"]), *imapd])
        self.spawn(
            [*env, "IMAP_TLS=1", *tcpd, str(self.ports["imaps"]), "/usr/bin/couriertls", "-server", "-tcpd", *imapd]
        )
        self.wait_up()


def have(*commands: str) -> list[str]:
    """The commands in ``commands`` that are missing from PATH (and /usr/sbin)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [c for c in commands if shutil.which(c, path=path) is None]
