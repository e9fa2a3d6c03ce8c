"""What a check leaves on the watched server, read as fail2ban reads it (issue 23): scripts/bench.py's helper.

fail2ban is never installed on this machine (its package would start a service):
Debian's package is fetched with ``apt-get download`` and unpacked with
``dpkg-deb -x`` into /var/cache/check_tls_mail/fail2ban, and its
``fail2ban-regex`` runs from there with Debian's /usr/bin/python3 (the package
depends on python3 alone; pyinotify and python3-systemd, which it recommends,
are for the server's backends, not for reading a file). Its stock filters
``postfix`` and ``dovecot`` read the log lines one run left, in their default
mode and in ``mode=aggressive``.

And an experiment for the lead (the plugin's probes are not changed by it): the
four default client profiles' hello probes, ended in other ways than the
plugin's (which closes once the server's first flight is read), against the
same Postfix and Dovecot, and what each way leaves in the logs.
"""

from __future__ import annotations

import contextlib
import math
import re
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

#: Where the unpacked package lives, shared like the test chroots.
FAIL2BAN = Path("/var/cache/check_tls_mail/fail2ban")
#: What Debian's jail.conf sets in [DEFAULT] (the [postfix] and [dovecot] jails keep both).
MAXRETRY = 5
FINDTIME = 600
#: The stock filter that reads each service's log, in the modes measured ("": the filter's default mode).
FILTERS = {"submission": "postfix", "smtp": "postfix", "imaps": "dovecot"}
MODES = ("", "aggressive")


def fail2ban_tree() -> Path:
    """Debian's fail2ban package unpacked (not installed) in FAIL2BAN, fetched once; its root."""
    if (FAIL2BAN / "usr/bin/fail2ban-regex").exists():
        return FAIL2BAN
    FAIL2BAN.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download, tempfile.TemporaryDirectory(dir=FAIL2BAN.parent) as staging:
        fetched = subprocess.run(
            ["apt-get", "download", "fail2ban"], cwd=download, capture_output=True, text=True, check=False
        )
        debs = sorted(Path(download).glob("fail2ban_*.deb"))
        if fetched.returncode != 0 or not debs:
            raise RuntimeError(f"apt-get download fail2ban failed: {fetched.stderr.strip()[-400:]}")
        tree = Path(staging) / "fail2ban"
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(tree)], check=True, capture_output=True)
        subprocess.run(["dpkg-deb", "-e", str(debs[0]), str(tree / "DEBIAN")], check=True, capture_output=True)
        try:
            tree.rename(FAIL2BAN)
        except OSError:  # another run unpacked it meanwhile
            if not (FAIL2BAN / "usr/bin/fail2ban-regex").exists():
                raise
    return FAIL2BAN


def fail2ban_version(tree: Path) -> str:
    """The unpacked package's version, from its control file: '1.0.2-2'."""
    control = (tree / "DEBIAN" / "control").read_text()
    return next(line.split(":", 1)[1].strip() for line in control.splitlines() if line.startswith("Version:"))


def debian_names(line: str) -> str:
    """A line of the bench's Postfix with the syslog names Debian's master.cf gives the same services.

    The bench's listeners log as ``postfix/fixed-submission/smtpd``; the stock filter's ``_daemon`` takes
    ``postfix/submission/smtpd`` and ``postfix/smtpd`` but no hyphen in the middle part, so it would read
    none of their lines.
    """
    line = re.sub(r"postfix/[\w.]+-(submission|smtps)/smtpd\[", r"postfix/\1/smtpd[", line)
    return re.sub(r"postfix/[\w.]+-smtp/smtpd\[", "postfix/smtpd[", line)


@dataclass
class Matches:
    """What one fail2ban filter found in some log lines."""

    read: int
    matched: list[str]

    @property
    def count(self) -> int:
        return len(self.matched)


def fail2ban_regex(tree: Path, lines: Sequence[str], filter_spec: str) -> Matches:
    """Run the unpacked ``fail2ban-regex`` with its stock filter ``filter_spec`` ("postfix[mode=aggressive]")
    over ``lines``. Raises if it fails or did not read every line."""
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "mail.log"
        log.write_text("".join(f"{debian_names(line)}\n" for line in lines))
        done = subprocess.run(
            [
                "/usr/bin/python3",
                str(tree / "usr/bin/fail2ban-regex"),
                "--config",
                str(tree / "etc/fail2ban"),
                "--print-all-matched",
                "--print-no-missed",
                str(log),
                filter_spec,
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=directory,
            timeout=120,
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(tree / "usr/lib/python3/dist-packages"),
                "PYTHONDONTWRITEBYTECODE": "1",
                "LANG": "C.UTF-8",
            },
        )
    name = filter_spec.split("[", 1)[0]
    summary = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", done.stdout, re.M)
    if done.returncode != 0 or summary is None or f"filter file : {name}," not in done.stdout:
        raise RuntimeError(f"fail2ban-regex {filter_spec} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    read, matched = int(summary[1]), int(summary[3])
    if read != len(lines):
        raise RuntimeError(f"fail2ban-regex read {read} of {len(lines)} lines")
    block = done.stdout.split("|- Matched line(s):", 1)
    found = []
    if len(block) == 2:
        for row in block[1].splitlines()[1:]:
            if not row.startswith("|  "):
                break
            found.append(row[3:])
    if len(found) != matched:
        raise RuntimeError(f"fail2ban-regex {filter_spec}: {matched} matched, {len(found)} listed:\n{done.stdout}")
    return Matches(read, found)


def spec(name: str, mode: str) -> str:
    """'postfix', 'postfix[mode=aggressive]'."""
    return f"{name}[mode={mode}]" if mode else name


def ban_words(per_run: int) -> str:
    """When Debian's default jail (MAXRETRY within FINDTIME) bans a host whose every run matches ``per_run`` lines."""
    if per_run == 0:
        return "never"
    runs = math.ceil(MAXRETRY / per_run)
    if runs == 1:
        return "at the first run"
    apart = FINDTIME / (runs - 1) / 60
    return f"at run {runs}, if runs come less than {apart:g} min apart"


@dataclass
class Ending:
    """One way of ending a connection, measured on one service: the lines the server logged for it."""

    name: str
    service: str
    connections: int
    lines: list[str]
    matches: dict[str, Matches] = field(default_factory=dict)


def _alert(level: int, description: int) -> bytes:
    """One alert record in the clear (record version TLS 1.2, as TLS 1.3's legacy_record_version)."""
    return bytes([21, 3, 3, 0, 2, level, description])


WARNING, FATAL = 1, 2
USER_CANCELED, CLOSE_NOTIFY, HANDSHAKE_FAILURE = 90, 0, 40

#: After the server's first flight, what the client sends before it closes the socket.
HELLO_ENDINGS: dict[str, bytes] = {
    "hello probe, then close (the plugin's probes)": b"",
    "hello probe, alert close_notify, close": _alert(WARNING, CLOSE_NOTIFY),
    "hello probe, alerts user_canceled and close_notify (RFC 5246 7.2.1), close": _alert(WARNING, USER_CANCELED)
    + _alert(WARNING, CLOSE_NOTIFY),
    "hello probe, fatal alert handshake_failure, close": _alert(FATAL, HANDSHAKE_FAILURE),
}
HALF_CLOSE = "hello probe, alerts user_canceled and close_notify, shutdown(SHUT_WR), read to the server's close"
FULL_ALERT = "full handshake (Python ssl), the client refuses the chain: encrypted alert unknown_ca, close"
FULL_POLITE = "full handshake (Python ssl), then QUIT or LOGOUT, close"


def hello_endings(
    ports: dict[str, int], logs: dict[str, Path], servername: str, ca_file: str, tree: Path | None
) -> list[Ending]:
    """The four default profiles' hello probes per service, ended each way; two full handshakes for reference."""
    from check_tls_mail.clients.profiles import catalogue
    from check_tls_mail.net.dialects import PROTOCOLS
    from check_tls_mail.net.transport import Address, Connection, Deadline
    from check_tls_mail.tls.hello.answer import ServerHelloAnswer
    from check_tls_mail.tls.hello.exchange import exchange_hello

    def opened(service: str) -> Connection:
        conn = Connection.open(Address(socket.AF_INET, ("127.0.0.1", ports[service])), Deadline(10))
        PROTOCOLS[service].negotiate(conn)
        return conn

    def hello(service: str, profile: str, tail: bytes, half_close: bool = False) -> None:
        conn = opened(service)
        try:
            found = catalogue().named(profile)
            assert found is not None
            answer = exchange_hello(conn.sock, found.hello(servername), Deadline(10)).answer
            if not isinstance(answer, ServerHelloAnswer):  # the experiment is about ending after the server chose
                raise RuntimeError(f"{service}: the server did not choose for {profile}'s hello: {answer}")
            if tail:
                conn.sock.sendall(tail)
            if half_close:
                conn.sock.shutdown(socket.SHUT_WR)
                conn.sock.settimeout(5)
                with contextlib.suppress(OSError):
                    while conn.sock.recv(4096):
                        pass
        finally:
            conn.sock.close()

    def full(service: str, polite: bool) -> None:
        conn = opened(service)
        context = ssl.create_default_context(cafile=ca_file if polite else None)  # else the system's roots
        try:
            with context.wrap_socket(conn.sock, server_hostname=servername) as tls:
                goodbye = PROTOCOLS[service].goodbye
                assert goodbye is not None
                tls.sendall(goodbye.encode() + b"\r\n")
                tls.recv(4096)
        except ssl.SSLCertVerificationError:
            if polite:
                raise
        else:
            if not polite:
                raise RuntimeError(f"{service}: the system's roots trusted the test chain: no alert was sent")
        finally:
            conn.sock.close()

    polite_end = _alert(WARNING, USER_CANCELED) + _alert(WARNING, CLOSE_NOTIFY)
    ways: list[tuple[str, Callable[[str, str], None]]] = [
        *((name, partial(_with_tail, hello, tail)) for name, tail in HELLO_ENDINGS.items()),
        (HALF_CLOSE, lambda service, profile: hello(service, profile, polite_end, half_close=True)),
        (FULL_ALERT, lambda service, _profile: full(service, polite=False)),
        (FULL_POLITE, lambda service, _profile: full(service, polite=True)),
    ]
    found = []
    for service in ports:
        profiles = [p.name for p in catalogue().default_for(PROTOCOLS[service].audience)]
        for name, way in ways:
            before = _lines(logs[service])
            for profile in profiles:
                way(service, profile)
            time.sleep(1.0)  # the server logs the closes after the client went
            ending = Ending(name, service, len(profiles), _lines(logs[service])[len(before) :])
            if tree is not None:
                for mode in MODES:
                    ending.matches[mode] = fail2ban_regex(tree, ending.lines, spec(FILTERS[service], mode))
            found.append(ending)
            matched = {m or "default": e.count for m, e in ending.matches.items()}
            print(f"  {service}: {name}: {len(ending.lines)} lines, fail2ban {matched}", flush=True)
    return found


def _with_tail(hello: Callable[[str, str, bytes], None], tail: bytes, service: str, profile: str) -> None:
    hello(service, profile, tail)


def _lines(log: Path) -> list[str]:
    return log.read_text(errors="replace").splitlines() if log.exists() else []
