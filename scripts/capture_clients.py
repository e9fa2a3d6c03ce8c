"""Capture real mail clients' ClientHellos from Debian packages, into captures/clients.json.

Issue 22, "Capture, don't transcribe": instead of copying hellos from other
projects' tables, install each client from Debian in a ``debootstrap
--variant=minbase`` chroot of Debian 12 (bookworm) or 13 (trixie), make it
connect to a capturing listener on a host loopback port (the chroot shares
the host's network) and keep the ClientHello records byte for byte, with the
package and TLS library versions, the date and the exact command and config.

The chroots are cached under /var/cache/check_tls_mail/capture-<suite>/: one
``base`` (debootstrap, with the suite's -updates and -security sources), and
one copy of it per group of clients that can live together (the MTAs
conflict with each other, so each has its own). Packages go in with
``--no-install-recommends``, no service starts (a policy-rc.d that exits 101)
and inside a PID namespace. Each capture runs its client in a PID and mount
namespace of its own (``unshare --pid --kill-child``, /proc and /dev mounted
in it only), so nothing it starts outlives it and no mount is left behind.

Usage (as root):
  bash scripts/capture_clients              every capture
  bash scripts/capture_clients ID...        only these (ids as in --list, or a client name for both suites)
  bash scripts/capture_clients --list       the ids
  bash scripts/capture_clients --refresh    apt-get update and upgrade the cached chroots first
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from capture_hello import serve_protocol  # noqa: E402

CACHE = Path("/var/cache/check_tls_mail")
OUTPUT = REPO / "captures" / "clients.json"
SUITES = {"bookworm": "12", "trixie": "13"}
#: The name every client is pointed at; the chroot's /etc/hosts maps it to 127.0.0.1 (so clients that send
#: SNI for a host name do, as they would for a real server).
SERVER = "mail.capture.test"
CLIENT_HOST = "client.capture.test"
POLICY_RC_D = "#!/bin/sh\n# check_tls_mail captures: no service starts in this chroot\nexit 101\n"
ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/root")
#: TLS libraries by the shared object a client links, most specific first (a client on libtls also links libssl).
LIBRARIES = (
    ("libnss3.so", "NSS"),
    ("libgnutls.so", "GnuTLS"),
    ("libtls.so", "LibreTLS (libtls on OpenSSL)"),
    ("libssl.so", "OpenSSL"),
)
NOTE = (
    "ClientHellos of real mail clients and TLS library tools as Debian ships them, captured by "
    "scripts/capture_clients.py: each client installed from Debian in a debootstrap chroot of the suite, "
    f"pointed at a capturing listener on a loopback port ('{SERVER}' resolves to 127.0.0.1 there), which "
    "speaks the protocol up to STARTTLS (or none, for implicit TLS), reads the whole ClientHello (all its "
    "records) and closes. 'hex' is the TLS records as received; 'derived' is scripts/derive_hellos.py's "
    "reading of them; 'skipped' lists the captures that could not be made, and why."
)

#: Clients of the issue's list with no capture id here, and why (kept in clients.json's "skipped").
NOT_ATTEMPTED = {
    client: {
        "client": name,
        "package": package,
        "reason": (
            "not attempted: it needs a desktop session to connect (a D-Bus session bus, "
            f"{needs}, a display) and an account set up through it; its TLS is GIO's "
            "(glib-networking on GnuTLS), which glib-networking-bookworm and glib-networking-trixie capture"
        ),
    }
    for client, name, package, needs in (
        (
            "evolution",
            "Evolution",
            "evolution",
            "evolution-source-registry for the account, libsecret for the password",
        ),
        ("geary", "Geary", "geary", "libsecret or GNOME Online Accounts for the password"),
    )
}


# ----------------------------------------------------------------------------------------------- chroots


def apt_sources() -> dict[str, str]:
    """Suite -> URI from the host's apt sources (deb822 and one-line), the security archive under 'security'.

    As tests/realservers.py's Chroot.mirror(): whatever mirror the machine uses.
    """
    found: dict[str, str] = {}
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#")
            )
            if "deb" not in fields.get("Types", "").split() or "URIs" not in fields:
                continue
            uri = fields["URIs"].split()[0].strip()
            for suite in fields.get("Suites", "").split():
                found.setdefault("security" if "security" in suite else suite, uri)
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]:
        if path.exists():
            for line in path.read_text().splitlines():
                words = line.split()
                if len(words) >= 3 and words[0] == "deb":
                    uri = next((w for w in words[1:] if "://" in w), None)
                    if uri and words.index(uri) + 1 < len(words):
                        suite = words[words.index(uri) + 1]
                        found.setdefault("security" if "security" in suite else suite, uri)
    return found


def mirror(suite: str) -> tuple[str, str]:
    """(main mirror, security mirror) for ``suite``: the one listing it, else the host's own release's."""
    found = apt_sources()
    release = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line).get(
        "VERSION_CODENAME", ""
    )
    for wanted in (suite, release.strip('"')):
        if wanted in found:
            main = found[wanted]
            break
    else:
        raise RuntimeError(f"no Debian mirror for {suite} in /etc/apt/sources.list*")
    security = found.get("security") or main.rstrip("/") + "-security"
    return main, security


def log_run(command: list[str], log: Path, timeout: float = 1800, check: bool = True) -> int:
    with log.open("a") as out:
        out.write(f"[{time.strftime('%H:%M:%S')}] $ {shlex.join(command)}\n")
        out.flush()
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
        )
    if check and result.returncode != 0:
        tail = log.read_text(errors="replace")[-2500:]
        raise RuntimeError(f"{shlex.join(command)} failed ({result.returncode}):\n{tail}")
    return result.returncode


class Chroot:
    """One cached chroot: capture-<suite>/<group>, a copy of capture-<suite>/base."""

    def __init__(self, suite: str, group: str) -> None:
        self.suite = suite
        self.group = group
        self.dir = CACHE / f"capture-{suite}"
        self.root = self.dir / group
        self.log = self.dir / f"{group}.log"
        self.marker = self.root / ".capture-ready"

    # -- running things inside

    def isolated(self, command: list[str], env: tuple[str, ...] = ()) -> list[str]:
        """``command`` in the chroot, in PID and mount namespaces of its own: /proc and /dev there only.

        --kill-child: when unshare ends (or is killed), the namespace's first
        process is killed, and with it every process of the namespace.
        """
        root = shlex.quote(str(self.root))
        mounts = f"mount --rbind /dev {root}/dev && mount -t tmpfs -o mode=1777 tmpfs {root}/dev/shm"
        inner = ["chroot", str(self.root), "/usr/bin/env", "-i", *ENV, "DEBIAN_FRONTEND=noninteractive", *env]
        return [
            "unshare",
            "--pid",
            "--kill-child",
            "--mount",
            "--propagation",
            "private",
            f"--mount-proc={self.root / 'proc'}",
            "sh",
            "-c",
            f'{mounts} && exec "$@"',
            "sh",
            *inner,
            *command,
        ]

    def output(self, command: list[str], timeout: float = 120) -> str:
        return subprocess.run(
            ["chroot", str(self.root), "/usr/bin/env", "-i", *ENV, *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        ).stdout

    def package_version(self, package: str) -> str | None:
        version = self.output(["dpkg-query", "-W", "-f", "${db:Status-Status} ${Version}", package]).split()
        return version[1] if len(version) == 2 and version[0] == "installed" else None

    def debian_version(self) -> str:
        return (self.root / "etc/debian_version").read_text().strip()

    # -- building

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _base(self) -> Path:
        base = self.dir / "base"
        marker = base / ".capture-ready"
        if marker.exists():
            return base
        log = self.dir / "base.log"
        log.write_text("")
        if base.exists():
            shutil.rmtree(base)
        main, security = mirror(self.suite)
        # debootstrap mounts /proc in the target itself: in its own namespaces, gone when it ends
        log_run(
            ["unshare", "--pid", "--fork", "--mount", "debootstrap", "--variant=minbase", self.suite, str(base), main],
            log,
        )
        (base / "etc/apt/sources.list").write_text(
            f"deb {main} {self.suite} main\n"
            f"deb {main} {self.suite}-updates main\n"
            f"deb {security} {self.suite}-security main\n"
        )
        (base / "usr/sbin/policy-rc.d").write_text(POLICY_RC_D)
        (base / "usr/sbin/policy-rc.d").chmod(0o755)
        marker.write_text(f"{self.suite} from {main}\n")
        return base

    def _apt(self, *arguments: str, env: tuple[str, ...] = ()) -> None:
        log_run(self.isolated(["apt-get", "-y", "-q", *arguments], env), self.log)

    def ensure(self, packages: tuple[str, ...], preseed: tuple[str, ...] = (), refresh: bool = False) -> None:
        """The group's chroot with ``packages`` installed (built from base, or added to the cached one)."""
        with self.locked():
            if not self.marker.exists():
                base = self._base()
                if self.root.exists():
                    shutil.rmtree(self.root)
                self.log.write_text("")
                log_run(["cp", "-a", str(base), str(self.root)], self.log)
                self.write_hosts()
                self._apt("update")
                self._apt("upgrade")
                self.marker.write_text("")
            elif refresh and not getattr(self, "_refreshed", False):
                self._apt("update")
                self._apt("upgrade")
            self._refreshed = True
            installed = set(self.marker.read_text().split())
            missing = [p for p in packages if p not in installed]
            if missing:
                for line in preseed:
                    log_run(
                        ["chroot", str(self.root), "sh", "-c", f"echo {shlex.quote(line)} | debconf-set-selections"],
                        self.log,
                    )
                self._apt("install", "--no-install-recommends", *missing)
                self.marker.write_text(" ".join(sorted(installed | set(missing))) + "\n")

    def write_hosts(self) -> None:
        """The server name and the client's own (an FQDN: sendmail and exim want one) on the loopback."""
        (self.root / "etc/hosts").write_text(
            f"127.0.0.1 {CLIENT_HOST} {socket.gethostname()} localhost\n"
            f"127.0.0.1 {SERVER}\n"
            "::1 localhost ip6-localhost ip6-loopback\n"
        )

    def library(self, objects: list[str], bundled: tuple[str, str, str] | None = None) -> tuple[str, str, str, str]:
        """(library, its package, the package's version, the linked objects) for the client's binaries.

        With ``bundled`` (path, name, version pattern) present in the chroot, that copy: the package's own
        (Debian's Thunderbird ships its own newer NSS beside libxul and loads it from there).
        """
        if bundled and (self.root / bundled[0].lstrip("/")).exists():
            path, name, pattern = bundled
            found = re.search(pattern.encode(), (self.root / path.lstrip("/")).read_bytes())
            owner = self.output(["dpkg-query", "-S", path]).split(":")[0].strip() or "?"
            version = found.group(1).decode() if found else "?"
            return name, f"{owner} (bundled {path})", version, path
        linked: dict[str, str] = {}
        # what the binaries link themselves comes first: sendmail links OpenSSL and, through libldap, GnuTLS too
        direct: set[str] = set()
        for path in objects:
            host_path = self.root / path.lstrip("/")
            if host_path.exists():
                dynamic = subprocess.run(
                    ["readelf", "-d", str(host_path)], capture_output=True, text=True, timeout=60, check=False
                ).stdout
                direct |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))
        for path in objects:
            for line in self.output(["ldd", path]).splitlines():
                match = re.match(r"\s*(\S+) => (\S+)", line)
                if match:
                    linked[match.group(1)] = match.group(2)
        ranked = [(soname, name, own) for own in (True, False) for soname, name in LIBRARIES]
        for soname, name, own in ranked:
            hit = next(((k, v) for k, v in linked.items() if k.startswith(soname) and (k in direct or not own)), None)
            if hit:
                real = self.output(["readlink", "-f", hit[1]]).strip() or hit[1]
                owner = self.output(["dpkg-query", "-S", real]).split(":")[0].strip()
                if not owner:
                    owner = self.output(["dpkg-query", "-S", hit[1]]).split(":")[0].strip()
                tls = sorted(k for k in linked if any(k.startswith(s) for s, _ in LIBRARIES))
                return name, owner, self.package_version(owner) or "?", ", ".join(tls)
        return "?", "?", "?", ""


# ----------------------------------------------------------------------------------------------- clients


@dataclass
class Run:
    """What one capture runs: a shell script in the chroot and the files it uses (host path -> text)."""

    script: str
    files: dict[str, str] = field(default_factory=dict)
    env: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


@dataclass
class Client:
    name: str  # the id's stem: <name>-<suite>
    profile: str  # the profile-ish name it would have in profiles.json
    client: str  # what it is
    package: str  # the package whose version is recorded
    packages: tuple[str, ...]  # what is installed for it
    group: str  # which chroot it lives in
    protocol: str  # capture_hello dialogue: tls, smtp, imap, pop3
    dialogue: str  # for the record: "IMAPS", "SMTP STARTTLS", ...
    objects: tuple[str, ...]  # binaries whose linked TLS library is recorded
    make: Callable[[Chroot, int, Path], Run]
    preseed: tuple[str, ...] = ()
    #: installed before ``packages``, in an apt-get run of their own: what a maintainer script looks for
    first: tuple[str, ...] = ()
    timeout: float = 60
    suites: tuple[str, ...] = tuple(SUITES)
    fallbacks: tuple[Callable[[Chroot, int, Path], Run], ...] = ()
    #: A TLS library the package ships itself (found there, it is the one used, not the system's)
    bundled: tuple[str, str, str] | None = None  # (path, library name, version pattern)


MAIL = (
    f"From: Capture <capture@{CLIENT_HOST}>\nTo: <capture@capture.test>\nSubject: capture\n"
    "Message-ID: <capture@client.capture.test>\n\nA message to make the MTA connect.\n"
)


def thunderbird_prefs(port: int, socket_type: int) -> str:
    prefs = {
        "mail.account.account1.identities": "id1",
        "mail.account.account1.server": "server1",
        "mail.account.account2.server": "server2",
        "mail.accountmanager.accounts": "account1,account2",
        "mail.accountmanager.defaultaccount": "account1",
        "mail.accountmanager.localfoldersserver": "server2",
        "mail.identity.id1.fullName": "Capture",
        "mail.identity.id1.useremail": "capture@capture.test",
        "mail.identity.id1.valid": True,
        "mail.server.server1.hostname": SERVER,
        "mail.server.server1.name": "capture",
        "mail.server.server1.port": port,
        "mail.server.server1.socketType": socket_type,
        "mail.server.server1.type": "imap",
        "mail.server.server1.userName": "capture",
        "mail.server.server1.login_at_startup": True,
        "mail.server.server1.check_new_mail": True,
        "mail.server.server2.hostname": "Local Folders",
        "mail.server.server2.name": "Local Folders",
        "mail.server.server2.type": "none",
        "mail.server.server2.userName": "nobody",
        "mail.shell.checkDefaultClient": False,
        "mail.startup.enabledMailCheckOnce": True,
        "mail.provider.suppress_dialog_on_startup": True,
        "mail.rights.version": 1,
        "mailnews.start_page.enabled": False,
        "app.update.auto": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "toolkit.telemetry.reportingpolicy.firstRun": False,
        "browser.shell.checkDefaultBrowser": False,
    }
    return "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())


def thunderbird(headless: bool, socket_type: int = 3) -> Callable[[Chroot, int, Path], Run]:
    def make(chroot: Chroot, port: int, work: Path) -> Run:
        profile = work / "profile"
        inside = "/" + str(work.relative_to(chroot.root))
        files = {str(profile / "prefs.js"): thunderbird_prefs(port, socket_type)}
        if headless:
            command = f"thunderbird --headless --no-remote -profile {inside}/profile"
        else:
            command = f"xvfb-run -a thunderbird --no-remote -profile {inside}/profile"
        return Run(
            f"export HOME={inside}/home MOZ_CRASHREPORTER_DISABLE=1\nmkdir -p $HOME\nexec {command}",
            files,
            notes=[
                f"a fresh profile whose only account is an IMAP server with socketType {socket_type} "
                f"({'SSL/TLS' if socket_type == 3 else 'STARTTLS'}): it logs in at start-up; killed after the "
                "capture"
            ],
        )

    return make


def neomutt(chroot: Chroot, port: int, work: Path) -> Run:
    inside = "/" + str(work.relative_to(chroot.root))
    muttrc = (
        f'set folder="imaps://capture@{SERVER}:{port}/"\n'
        'set spoolfile="+INBOX"\n'
        'set imap_pass="capture"\n'
        f'set certificate_file="{inside}/certificates"\n'
    )
    return Run(
        f"export TERM=xterm HOME={inside}\nsleep 60 | script -qfec 'neomutt -n -F {inside}/muttrc' /dev/null",
        {str(work / "muttrc"): muttrc},
        notes=["under script(1) for a terminal; -n: no system muttrc"],
    )


def fetchmail(chroot: Chroot, port: int, work: Path) -> Run:
    inside = "/" + str(work.relative_to(chroot.root))
    rc = (
        "set no syslog\n"
        f"poll {SERVER} with proto IMAP port {port}\n"
        '  user "capture" there with password "capture" is root here\n'
        "  ssl\n"
    )
    return Run(
        f"chmod 600 {inside}/fetchmailrc\nexec fetchmail -v -N -f {inside}/fetchmailrc",
        {str(work / "fetchmailrc"): rc},
    )


def msmtp(chroot: Chroot, port: int, work: Path) -> Run:
    inside = "/" + str(work.relative_to(chroot.root))
    return Run(
        f"exec msmtp --host={SERVER} --port={port} --tls=on --tls-starttls=on "
        f"--from=capture@{CLIENT_HOST} capture@capture.test < {inside}/mail",
        {str(work / "mail"): MAIL},
    )


def claws(chroot: Chroot, port: int, work: Path) -> Run:
    inside = "/" + str(work.relative_to(chroot.root))
    accountrc = (
        "[Account: 1]\n"
        "account_id=1\n"
        "account_name=capture\n"
        "is_default=1\n"
        "name=Capture\n"
        "address=capture@capture.test\n"
        "protocol=3\n"  # A_IMAP4 (A_POP3, A_APOP, A_RPOP, A_IMAP4, ...)
        f"receive_server={SERVER}\n"
        f"smtp_server={SERVER}\n"
        "user_id=capture\n"
        "use_imap_auth=0\n"
        "set_imapport=1\n"
        f"imap_port={port}\n"
        "ssl_imap=1\n"  # SSL_TUNNEL: IMAPS
        "receive_at_get_all=1\n"
        "imap_check_inbox_only=1\n"
        "ssl_certs_auto_accept=0\n"
    )
    # without a folder list Claws starts its first-run wizard instead
    folderlist = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<folderlist>\n'
        '  <folder type="mh" name="Mailbox" path="Mail" collapsed="0">\n'
        + "".join(
            f'    <folderitem type="{kind}" name="{name}" path="{name}" />\n'
            for kind, name in (
                ("inbox", "inbox"),
                ("outbox", "sent"),
                ("queue", "queue"),
                ("draft", "draft"),
                ("trash", "trash"),
            )
        )
        + "  </folder>\n"
        '  <folder type="imap" name="capture" account_id="1" collapsed="0">\n'
        '    <folderitem type="inbox" name="INBOX" path="INBOX" />\n'
        "  </folder>\n</folderlist>\n"
    )
    return Run(
        f"export HOME={inside}/home\nmkdir -p $HOME/Mail/inbox $HOME/Mail/sent $HOME/Mail/queue $HOME/Mail/draft"
        f" $HOME/Mail/trash\nexec xvfb-run -a claws-mail --alternate-config-dir {inside}/claws --receive-all",
        {
            str(work / "claws" / "accountrc"): accountrc,
            str(work / "claws" / "passwordstorerc"): "",
            str(work / "claws" / "folderlist.xml"): folderlist,
        },
        notes=["under xvfb-run; --receive-all makes it connect at start"],
    )


GIO = """import sys
from gi.repository import Gio
client = Gio.SocketClient.new()
client.set_tls(True)
client.set_tls_validation_flags(0)
try:
    client.connect_to_host(sys.argv[1], int(sys.argv[2]), None)
except Exception as error:
    print(error)
"""


def gio(chroot: Chroot, port: int, work: Path) -> Run:
    inside = "/" + str(work.relative_to(chroot.root))
    return Run(
        f"exec python3 {inside}/gio_tls.py {SERVER} {port}",
        {str(work / "gio_tls.py"): GIO},
        notes=[
            "GIO's Gio.SocketClient with TLS, as Evolution (Camel) and Geary connect: glib-networking's "
            "GnuTLS backend with its own priority string; not Evolution or Geary themselves"
        ],
    )


def openssl(chroot: Chroot, port: int, work: Path) -> Run:
    return Run(f"exec openssl s_client -connect {SERVER}:{port} < /dev/null")


def openssl_tls12(chroot: Chroot, port: int, work: Path) -> Run:
    return Run(
        f"exec openssl s_client -tls1_2 -noservername -connect {SERVER}:{port} < /dev/null",
        notes=[
            "OpenSSL's defaults capped at TLS 1.2, as an OpenSSL MTA that sets no TLS 1.3 sends them; "
            "-noservername: an MTA sends no SNI on port 25"
        ],
    )


def gnutls_cli(chroot: Chroot, port: int, work: Path) -> Run:
    return Run(f"exec gnutls-cli --priority NORMAL --insecure -p {port} {SERVER} < /dev/null")


def tstclnt(chroot: Chroot, port: int, work: Path) -> Run:
    path = next(
        (p for p in chroot.output(["dpkg-query", "-L", "libnss3-tools"]).split() if p.endswith("/tstclnt")), "tstclnt"
    )
    inside = "/" + str(work.relative_to(chroot.root))
    return Run(
        f"mkdir -p {inside}/nssdb\ncertutil -N --empty-password -d sql:{inside}/nssdb\n"
        f"exec {path} -d sql:{inside}/nssdb -h {SERVER} -p {port} -o < /dev/null",
        notes=["an empty NSS database (certutil -N) for tstclnt's -d; -o: accept any server certificate"],
    )


def postfix(chroot: Chroot, port: int, work: Path) -> Run:
    inside = "/" + str(work.relative_to(chroot.root))
    script = f"""postconf -e 'relayhost = [127.0.0.1]:{port}' 'myhostname = {CLIENT_HOST}' \\
  'maillog_file = /var/log/postfix.log'
postconf -MX smtp/inet 2>/dev/null || true   # no listener on the host's port 25
postfix check
postconf -n | grep -i tls
postfix start
sendmail -f capture@{CLIENT_HOST} capture@capture.test < {inside}/mail
sleep 1
postqueue -f
sleep 20
cat /var/log/postfix.log
sleep 60
"""
    return Run(
        script,
        {str(work / "mail"): MAIL},
        notes=[
            "a real mail through Postfix's smtp(8) delivery agent with the main.cf Debian's postinst writes for "
            "'Internet Site' (with ssl-cert installed first, as Recommends would: only then does it append "
            "main.cf.tls, whose smtp_tls_security_level = may turns on client STARTTLS); relayhost the "
            "capturing listener by address ([127.0.0.1]:PORT: Debian 12's smtp(8) runs chrooted in "
            "/var/spool/postfix and did not resolve the name there; Postfix sends no SNI unless "
            "smtp_tls_servername is set, so the hello is the same); master.cf's smtp inet listener removed"
        ],
    )


EXIM_ROUTER = """# check_tls_mail capture: every capture.test address to the capturing listener
capture_route:
  debug_print = "R: capture_route for $local_part@$domain"
  driver = manualroute
  domains = capture.test
  transport = remote_smtp
  route_list = * {server}::{port} byname
  self = send
"""


def exim(chroot: Chroot, port: int, work: Path) -> Run:
    inside = "/" + str(work.relative_to(chroot.root))
    router = EXIM_ROUTER.format(server=SERVER, port=port)
    script = f"""sed -i -e "s/^dc_eximconfig_configtype=.*/dc_eximconfig_configtype='internet'/" \\
  -e "s/^dc_use_split_config=.*/dc_use_split_config='true'/" \\
  -e "s/^dc_other_hostnames=.*/dc_other_hostnames=''/" \\
  -e "s/^dc_local_interfaces=.*/dc_local_interfaces='127.0.0.1'/" /etc/exim4/update-exim4.conf.conf
echo {CLIENT_HOST} > /etc/mailname
cp {inside}/150_capture_route /etc/exim4/conf.d/router/150_capture_route
update-exim4.conf
cat /etc/exim4/update-exim4.conf.conf
exim4 -odf -f capture@{CLIENT_HOST} capture@capture.test < {inside}/mail
sleep 60
"""
    return Run(
        script,
        {str(work / "mail"): MAIL, str(work / "150_capture_route"): router},
        notes=[
            "Debian's exim4-config, split config, configtype 'internet'; one manualroute router added "
            "(150_capture_route) that sends capture.test through Debian's remote_smtp transport; "
            "delivered in the foreground with exim4 -odf"
        ],
    )


def sendmail(chroot: Chroot, port: int, work: Path) -> Run:
    inside = "/" + str(work.relative_to(chroot.root))
    script = f"""mc=/etc/mail/sendmail.mc
test -s $mc || {{ echo 'no Debian sendmail.mc'; exit 1; }}
printf 'hosts\\tfiles\\naliases\\tfiles\\n' > /etc/mail/service.switch
# Debian's sendmail.mc, plus a smart host (the capturing listener) before the mailers
awk -v extra="define(\\`SMART_HOST', \\`esmtp:[{SERVER}]')dnl
define(\\`ESMTP_MAILER_ARGS', \\`TCP \\$h {port}')dnl" '/^MAILER/ && !done {{print extra; done=1}} {{print}}' $mc \\
  > {inside}/capture.mc
m4 {inside}/capture.mc > {inside}/capture.cf
grep -n 'starttls\\|SMART_HOST\\|ESMTP_MAILER_ARGS' {inside}/capture.mc
sendmail -C {inside}/capture.cf -odi -v -f capture@{CLIENT_HOST} capture@capture.test < {inside}/mail
sleep 60
"""
    return Run(
        script,
        {str(work / "mail"): MAIL},
        notes=[
            "Debian's generated /etc/mail/sendmail.mc with SMART_HOST esmtp:[" + SERVER + "] and "
            "ESMTP_MAILER_ARGS 'TCP $h PORT' added, compiled with m4; delivered interactively (-odi)"
        ],
    )


def opensmtpd(chroot: Chroot, port: int, work: Path) -> Run:
    inside = "/" + str(work.relative_to(chroot.root))
    conf = (
        "# no 'listen on': only local submission (the chroot shares the host's network)\n"
        f'action "relay" relay host smtp://{SERVER}:{port}\n'
        'match from local for any action "relay"\n'
    )
    script = f"""smtpd -n -f {inside}/smtpd.conf
smtpd -d -v -f {inside}/smtpd.conf &
sleep 3
sendmail -f capture@{CLIENT_HOST} capture@capture.test < {inside}/mail
sleep 120
"""
    return Run(
        script,
        {str(work / "smtpd.conf"): conf, str(work / "mail"): MAIL},
        notes=[
            "ca-certificates installed with it (without /etc/ssl/certs/ca-certificates.crt its dispatcher "
            "exits at start)",
            "smtpd in the foreground with a relay action to smtp://" + SERVER + ":PORT (STARTTLS when "
            "offered); the mail submitted with its sendmail (smtpctl)",
        ],
    )


CLIENTS = (
    Client(
        "thunderbird",
        "thunderbird",
        "Thunderbird",
        "thunderbird",
        ("thunderbird", "xvfb", "xauth"),
        "clients",
        "tls",
        "IMAPS",
        ("/usr/lib/thunderbird/libxul.so",),
        thunderbird(True),
        timeout=120,
        fallbacks=(thunderbird(False),),
        bundled=("/usr/lib/thunderbird/libnss3.so", "NSS", r"Version: NSS (\d[\d.]*)"),
    ),
    Client(
        "thunderbird-starttls",
        "thunderbird",
        "Thunderbird",
        "thunderbird",
        ("thunderbird", "xvfb", "xauth"),
        "clients",
        "imap",
        "IMAP STARTTLS",
        ("/usr/lib/thunderbird/libxul.so",),
        thunderbird(True, 2),
        timeout=120,
        fallbacks=(thunderbird(False, 2),),
        bundled=("/usr/lib/thunderbird/libnss3.so", "NSS", r"Version: NSS (\d[\d.]*)"),
    ),
    Client(
        "claws-mail",
        "claws-mail",
        "Claws Mail",
        "claws-mail",
        ("claws-mail", "xvfb", "xauth"),
        "clients",
        "tls",
        "IMAPS",
        ("/usr/bin/claws-mail",),
        claws,
        timeout=90,
    ),
    Client(
        "neomutt",
        "neomutt",
        "NeoMutt",
        "neomutt",
        ("neomutt",),
        "clients",
        "tls",
        "IMAPS",
        ("/usr/bin/neomutt",),
        neomutt,
    ),
    Client(
        "fetchmail",
        "fetchmail",
        "fetchmail",
        "fetchmail",
        ("fetchmail",),
        "clients",
        "tls",
        "IMAPS",
        ("/usr/bin/fetchmail",),
        fetchmail,
    ),
    Client(
        "msmtp", "msmtp", "msmtp", "msmtp", ("msmtp",), "clients", "smtp", "SMTP STARTTLS", ("/usr/bin/msmtp",), msmtp
    ),
    Client(
        "glib-networking",
        "gio",
        "GIO TLS (glib-networking, as Evolution and Geary use it)",
        "glib-networking",
        ("python3-gi", "gir1.2-glib-2.0", "glib-networking"),
        "clients",
        "tls",
        "TLS (implicit)",
        ("/usr/lib/x86_64-linux-gnu/gio/modules/libgiognutls.so",),
        gio,
    ),
    Client(
        "openssl",
        "openssl-default",
        "openssl s_client (library default)",
        "openssl",
        ("openssl",),
        "clients",
        "tls",
        "TLS (implicit)",
        ("/usr/bin/openssl",),
        openssl,
    ),
    Client(
        "openssl-tls12",
        "openssl-tls12",
        "openssl s_client -tls1_2 (library default capped at TLS 1.2, no SNI)",
        "openssl",
        ("openssl",),
        "clients",
        "tls",
        "TLS (implicit)",
        ("/usr/bin/openssl",),
        openssl_tls12,
    ),
    Client(
        "gnutls-cli",
        "gnutls-normal",
        "gnutls-cli --priority NORMAL (library default)",
        "gnutls-bin",
        ("gnutls-bin",),
        "clients",
        "tls",
        "TLS (implicit)",
        ("/usr/bin/gnutls-cli",),
        gnutls_cli,
    ),
    Client(
        "tstclnt",
        "nss-default",
        "NSS tstclnt (library default)",
        "libnss3-tools",
        ("libnss3-tools",),
        "clients",
        "tls",
        "TLS (implicit)",
        ("/usr/bin/tstclnt", "/usr/lib/nss/tstclnt"),
        tstclnt,
    ),
    Client(
        "postfix",
        "postfix",
        "Postfix smtp(8)",
        "postfix",
        ("postfix",),
        "postfix",
        "smtp",
        "SMTP STARTTLS",
        ("/usr/lib/postfix/sbin/smtp",),
        postfix,
        timeout=60,
        first=("ssl-cert", "ca-certificates"),
        preseed=(
            "postfix postfix/main_mailer_type select Internet Site",
            f"postfix postfix/mailname string {CLIENT_HOST}",
        ),
    ),
    Client(
        "exim",
        "exim",
        "Exim (remote_smtp transport)",
        "exim4-daemon-light",
        ("exim4-daemon-light",),
        "exim",
        "smtp",
        "SMTP STARTTLS",
        ("/usr/sbin/exim4",),
        exim,
        timeout=60,
    ),
    Client(
        "sendmail",
        "sendmail",
        "sendmail",
        "sendmail-bin",
        ("sendmail-bin", "sendmail-cf", "m4"),
        "sendmail",
        "smtp",
        "SMTP STARTTLS",
        ("/usr/libexec/sendmail/sendmail", "/usr/lib/sm.bin/sendmail"),
        sendmail,
        timeout=90,
    ),
    Client(
        "opensmtpd",
        "opensmtpd",
        "OpenSMTPD (relay)",
        "opensmtpd",
        ("opensmtpd", "ca-certificates"),
        "opensmtpd",
        "smtp",
        "SMTP STARTTLS",
        ("/usr/sbin/smtpd",),
        opensmtpd,
        timeout=60,
    ),
)


# ----------------------------------------------------------------------------------------------- comparing

#: The fields of a derived hello that a comparison looks at (raw extension bytes vary: GREASE ECH, padding).
COMPARED = (
    "supported_versions",
    "cipher_suites",
    "supported_groups",
    "key_share_groups",
    "signature_algorithms",
    "signature_algorithms_cert",
    "extensions",
    "alpn",
    "sni",
    "ec_point_formats",
    "psk_key_exchange_modes",
    "record_size_limit",
    "compress_certificate",
    "delegated_credential",
)
VERSIONS = {"0x0304": "1.3", "0x0303": "1.2", "0x0302": "1.1", "0x0301": "1.0"}
#: Each client's library default, to compare it with (by the TLS library it uses).
REFERENCES = {"OpenSSL": "openssl", "GnuTLS": "gnutls-cli", "NSS": "tstclnt"}


def _shape(hello: dict[str, object]) -> dict[str, object]:
    return {k: hello.get(k) for k in COMPARED}


def _list_diff(a: list[object], b: list[object]) -> str:
    gone = [x for x in a if x not in b]
    new = [x for x in b if x not in a]
    if not gone and not new:
        return "same members, other order"
    parts = []
    if gone:
        parts.append("only first: " + " ".join(map(str, gone[:8])) + (" ..." if len(gone) > 8 else ""))
    if new:
        parts.append("only second: " + " ".join(map(str, new[:8])) + (" ..." if len(new) > 8 else ""))
    return f"{len(a)} vs {len(b)}; " + "; ".join(parts)


def differences(a: dict[str, object], b: dict[str, object]) -> list[str]:
    """What differs between two derived hellos, field by field, in words."""
    out = []
    for key in COMPARED:
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        if isinstance(x, list) and isinstance(y, list):
            out.append(f"{key}: {_list_diff(x, y)}")
        else:
            out.append(f"{key}: {x} vs {y}")
    return out


def _versions(hello: dict[str, object]) -> str:
    listed = hello.get("supported_versions") or [hello.get("legacy_version")]
    return " ".join(VERSIONS.get(str(v), str(v)) for v in listed)  # type: ignore[union-attr]


def tables(captures: dict[str, dict[str, Any]]) -> str:
    """The Markdown tables of captures/README.md: the captures, the distinct hellos, and pairs compared."""
    rows = [(k, v) for k, v in captures.items() if v.get("derived")]
    classes: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for capture_id, entry in rows:
        key = json.dumps(_shape(entry["derived"]), sort_keys=True)
        if key not in classes:
            classes[key] = chr(ord("A") + len(classes)) if len(classes) < 26 else f"Z{len(classes)}"
        members.setdefault(classes[key], []).append(capture_id)
    lines = [
        "| id | package version | TLS library | dialogue | bytes | TLS | suites | groups | key shares | sig algs "
        "| SNI | hello |",
        "| --- | --- | --- | --- | ---: | --- | ---: | ---: | --- | ---: | --- | --- |",
    ]
    for capture_id, entry in rows:
        hello: dict[str, Any] = entry["derived"]
        key = classes[json.dumps(_shape(hello), sort_keys=True)]
        lines.append(
            f"| {capture_id} | {entry['version']} | {entry['library']} {entry['library_version']} "
            f"| {entry['protocol']} | {entry['record_bytes']} | {_versions(hello)} "
            f"| {len(hello.get('cipher_suites') or [])} | {len(hello.get('supported_groups') or [])} "
            f"| {' '.join(hello.get('key_share_groups') or [])} "
            f"| {len(hello.get('signature_algorithms') or [])} "
            f"| {'yes' if hello.get('sni') else 'no'} | {key} |"
        )
    lines += ["", "Distinct hellos (the 'hello' letter above; equal when every compared field is equal):", ""]
    lines += ["| hello | captures | supported groups | extensions |", "| --- | --- | --- | --- |"]
    for key, ids_ in members.items():
        hello = captures[ids_[0]]["derived"]
        lines.append(
            f"| {key} | {', '.join(ids_)} | {' '.join(hello.get('supported_groups') or [])} "
            f"| {' '.join(hello.get('extensions') or [])} |"
        )
    pairs: list[tuple[str, str]] = []
    for client in CLIENTS:
        one, two = f"{client.name}-bookworm", f"{client.name}-trixie"
        if one in captures and two in captures:
            pairs.append((one, two))
    for capture_id, entry in rows:
        reference = REFERENCES.get(str(entry["library"]))
        if reference and not capture_id.startswith(reference + "-"):
            other = f"{reference}-{entry['suite']}"
            if other in captures and (capture_id, other) not in pairs:
                pairs.append((capture_id, other))
    lines += [
        "",
        "Pairs compared (first against second):",
        "",
        "| first | second | differences |",
        "| --- | --- | --- |",
    ]
    for one, two in pairs:
        found = differences(captures[one]["derived"] or {}, captures[two]["derived"] or {})
        lines.append(f"| {one} | {two} | {'; '.join(found) or 'the same hello'} |")
    return "\n".join(lines) + "\n"


README_START = "<!-- capture_clients tables: begin (written by scripts/capture_clients.py --tables) -->"
README_END = "<!-- capture_clients tables: end -->"


def write_tables() -> None:
    """Replace the generated part of captures/README.md with tables from captures/clients.json."""
    readme = OUTPUT.parent / "README.md"
    data = json.loads(OUTPUT.read_text())
    text = readme.read_text() if readme.exists() else f"{README_START}\n{README_END}\n"
    if README_START not in text:
        text += f"\n{README_START}\n{README_END}\n"
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    readme.write_text(f"{head}{README_START}\n\n{tables(data['captures'])}\n{README_END}{tail}")


# ----------------------------------------------------------------------------------------------- capturing


def ids() -> dict[str, tuple[Client, str]]:
    return {f"{c.name}-{suite}": (c, suite) for c in CLIENTS for suite in c.suites}


def stop(process: subprocess.Popen[bytes]) -> None:
    """The client's unshare and so, through --kill-child, its whole PID namespace."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(10)
            return
        except subprocess.TimeoutExpired:
            continue


def capture_once(
    client: Client, chroot: Chroot, make: Callable[[Chroot, int, Path], Run], log: Path
) -> tuple[bytes | None, Run, list[str], str]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    work = chroot.root / "tmp" / f"capture-{client.name}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    run = make(chroot, port, work)
    for path, text in run.files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    inside = "/" + str(work.relative_to(chroot.root))
    (work / "run.sh").write_text("set -x\n" + run.script + "\n")
    out: list[bytes] = []
    transcript: list[str] = []
    worker = threading.Thread(target=serve_protocol, args=(listener, client.protocol, out, transcript), daemon=True)
    worker.start()
    with log.open("ab") as sink:
        sink.write(f"\n==== {time.strftime('%F %T')} {client.name} {chroot.suite} port {port}\n".encode())
        sink.flush()
        process = subprocess.Popen(
            # not exec'd: the namespace's first process is this sh, not the client (xvfb-run as PID 1 hangs)
            chroot.isolated(["sh", "-c", f'sh {inside}/run.sh; echo "run.sh: $?"'], run.env),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            worker.join(client.timeout)
        finally:
            stop(process)
            listener.close()
            worker.join(5)
    output = log.read_text(errors="replace").rsplit("\n==== ", 1)[-1]
    # the recorded script says PORT where the run had the number, so reruns compare equal
    run.script = run.script.replace(str(port), "PORT")
    run.files = {str(Path(p).relative_to(work)): t.replace(str(port), "PORT") for p, t in run.files.items()}
    return (out[0] if out else None), run, transcript, output


def derive(hello: bytes) -> tuple[dict[str, object] | None, str | None]:
    with tempfile.NamedTemporaryFile("w", suffix=".hex", delete=False) as handle:
        handle.write(hello.hex())
    try:
        result = subprocess.run(
            [sys.executable, str(HERE / "derive_hellos.py"), "hex", handle.name],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    if result.returncode != 0:
        return None, "derive_hellos.py could not parse it: " + (result.stderr.strip().splitlines() or ["?"])[-1]
    return json.loads(result.stdout)[handle.name]["hello"], None


def hello_facts(hello: bytes) -> dict[str, object]:
    """Facts read here, independent of derive_hellos.py: size, key share groups (hex), whether 0x11ec is offered."""
    body, rest = b"", hello
    while len(rest) >= 5:
        size = int.from_bytes(rest[3:5], "big")
        body += rest[5 : 5 + size]
        rest = rest[5 + size :]
    message = body[4 : 4 + int.from_bytes(body[1:4], "big")]
    at = 2 + 32
    at += 1 + message[at]
    at += 2 + int.from_bytes(message[at : at + 2], "big")
    at += 1 + message[at]
    end = at + 2 + int.from_bytes(message[at : at + 2], "big")
    at += 2
    shares: list[str] = []
    groups: list[str] = []
    sni = None
    while at + 4 <= end:
        kind = int.from_bytes(message[at : at + 2], "big")
        size = int.from_bytes(message[at + 2 : at + 4], "big")
        data = message[at + 4 : at + 4 + size]
        at += 4 + size
        if kind == 51:
            j = 2
            while j + 4 <= len(data):
                shares.append(f"0x{int.from_bytes(data[j : j + 2], 'big'):04x}")
                j += 4 + int.from_bytes(data[j + 2 : j + 4], "big")
        elif kind == 10:
            groups = [f"0x{int.from_bytes(data[j : j + 2], 'big'):04x}" for j in range(2, len(data), 2)]
        elif kind == 0 and len(data) > 5:
            sni = data[5:].decode("ascii", "replace")
    records = 0
    rest = hello
    while len(rest) >= 5:
        records += 1
        rest = rest[5 + int.from_bytes(rest[3:5], "big") :]
    return {
        "record_bytes": len(hello),
        "records": records,
        "handshake_bytes": 4 + len(message),
        "key_share_groups": shares,
        "supported_groups": groups,
        "x25519mlkem768_share": "0x11ec" in shares,
        "server_name": sni,
    }


def capture(capture_id: str, client: Client, suite: str, refresh: bool) -> dict[str, object]:
    chroot = Chroot(suite, client.group)
    if client.first:
        chroot.ensure(client.first, (), refresh)
    chroot.ensure(client.packages, client.preseed, refresh)
    chroot.write_hosts()
    version = chroot.package_version(client.package)
    if version is None:
        raise RuntimeError(f"{client.package} is not installed")
    log = chroot.dir / f"capture-{client.name}.log"
    log.write_text("")
    attempts: list[str] = []
    hello = None
    for make in (client.make, *client.fallbacks):
        hello, run, transcript, output = capture_once(client, chroot, make, log)
        if hello:
            break
        attempts.append(
            f"{run.script.splitlines()[-1]!r}: no ClientHello ({'; '.join(transcript[-3:]) or 'no connection'})"
        )
    if not hello:
        raise RuntimeError("no ClientHello: " + " | ".join(attempts) + "\n" + output[-1500:])
    library, library_package, library_version, linked = chroot.library(list(client.objects), client.bundled)
    derived, problem = derive(hello)
    notes = [*run.notes, *(f"before it: {a}" for a in attempts)]
    if problem:
        notes.append(problem)
    facts = hello_facts(hello)
    entry: dict[str, object] = {
        "profile": client.profile,
        "client": client.client,
        "package": client.package,
        "version": version,
        "library": library,
        "library_package": library_package,
        "library_version": library_version,
        "linked": linked,
        "debian": chroot.debian_version(),
        "suite": suite,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "protocol": client.dialogue,
        "command": run.script.strip(),
        "config": run.files,
        "dialogue": [line for line in transcript if not line.startswith("--")],
        **facts,
        "notes": notes,
        "hex": hello.hex(),
        "derived": derived,
    }
    return entry


@contextlib.contextmanager
def clients_json() -> Iterator[dict[str, dict[str, object]]]:
    """captures/clients.json, read and written back under a lock (two runs, say one per suite, may share it)."""
    OUTPUT.parent.mkdir(exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "capture-clients-json.lock").open("a") as lock:  # not beside it: captures/ holds data only
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else {}
            data["note"] = NOTE
            captures: dict[str, object] = data.setdefault("captures", {})
            skipped: dict[str, object] = data.setdefault("skipped", {})
            skipped.update(NOT_ATTEMPTED)
            yield {"captures": captures, "skipped": skipped}
            order = list(ids())
            rank = {k: order.index(k) if k in order else len(order) for k in {*captures, *skipped}}
            data["captures"] = {k: captures[k] for k in sorted(captures, key=lambda k: (rank[k], k))}
            data["skipped"] = {k: skipped[k] for k in sorted(skipped, key=lambda k: (rank[k], k))}
            temporary = OUTPUT.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
            temporary.replace(OUTPUT)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ids", nargs="*", help="capture ids (thunderbird-trixie) or client names (thunderbird)")
    parser.add_argument("--list", action="store_true", help="print the capture ids and exit")
    parser.add_argument("--refresh", action="store_true", help="apt-get update and upgrade cached chroots first")
    parser.add_argument("--tables", action="store_true", help="only rewrite captures/README.md's tables")
    args = parser.parse_args()
    known = ids()
    if args.tables:
        write_tables()
        return
    if args.list:
        for capture_id, (client, suite) in known.items():
            print(f"{capture_id:28} {client.client} ({client.package}, Debian {SUITES[suite]}, {client.dialogue})")
        return
    if os.geteuid() != 0:
        sys.exit("capture_clients: run as root (debootstrap, chroot, namespaces)")
    wanted: list[str] = []
    for name in args.ids or list(known):
        matches = [name] if name in known else [k for k, (c, _) in known.items() if c.name == name]
        if not matches:
            sys.exit(f"capture_clients: unknown capture {name!r} (see --list)")
        wanted += [m for m in matches if m not in wanted]
    failed = 0
    for capture_id in wanted:
        client, suite = known[capture_id]
        print(f"{capture_id}: ", end="", flush=True)
        started = time.monotonic()
        try:
            entry = capture(capture_id, client, suite, args.refresh)
        except (RuntimeError, subprocess.SubprocessError, OSError) as error:
            failed += 1
            reason = str(error)
            print(f"FAILED ({time.monotonic() - started:.0f}s): {reason[:2000]}")
            with clients_json() as data:
                data["skipped"][capture_id] = {
                    "client": client.client,
                    "package": client.package,
                    "suite": suite,
                    "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "reason": reason[:1500] if reason else "?",
                }
            continue
        with clients_json() as data:
            data["captures"][capture_id] = entry
            data["skipped"].pop(capture_id, None)
        write_tables()
        print(
            f"{entry['version']} on {entry['library']} {entry['library_version']}: {entry['record_bytes']} bytes, "
            f"key shares {entry['key_share_groups']} ({time.monotonic() - started:.0f}s)"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
