"""Benchmark: whole processes, as monitoring runs them, against the same local servers.

Times check_tls_mail with default options against check_ssl_cert, check_smtp
and check_simap and against the floor (an empty Python start, one bare
STARTTLS handshake in Python); then the scaling with the number of client
probes against a server that delays its greeting by 300 ms. Prints a Markdown
report and writes it to docs/performance.md.

Usage: .venv/bin/python scripts/bench.py [--runs N] [--output FILE] [--before CHECKOUT]... [--watched-only]

--before (repeatable): an earlier commit checked out with its own .venv (`git worktree add
DIR COMMIT`, `bash DIR/.ci/setup`): its default check runs in turn with this one against
the same servers, and each version's probes are measured in-process.

On real Postfix and Dovecot, what one run leaves in their logs, and what fail2ban's stock filters match there
(scripts/bench_watched.py); --watched-only measures that alone and prints it.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from bench_watched import (  # noqa: E402
    FAIL2BAN,
    FILTERS,
    FULL_POLITE,
    MAXRETRY,
    MODES,
    Ending,
    Matches,
    ban_words,
    fail2ban_regex,
    fail2ban_tree,
    fail2ban_version,
    hello_endings,
    spec,
)
from fakeserver import DIALOGUES, Behaviour, MailServer, TlsConfig, hold  # noqa: E402
from pki import Pki  # noqa: E402
from realservers import NAME, Credentials, DovecotInstance, PostfixInstance, base_directory, have  # noqa: E402

PLUGIN = str(Path(sys.executable).with_name("check_tls_mail"))
LOAD = os.getloadavg()
PLUGINS = Path("/usr/lib/nagios/plugins")

BARE_STARTTLS = """
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline()
        if line[3:4] != b"-":
            return line
reply(); s.sendall(b"EHLO bench\\r\\n"); reply(); s.sendall(b"STARTTLS\\r\\n"); reply()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.wrap_socket(s, server_hostname=sys.argv[2]).close()
"""


#: The floor issue #23 measures against: the libraries every check needs, imported and nothing done.
IMPORT_FLOOR = "import nagiosplugin, cryptography.x509, ssl, json, threading"
IMPORT_FLOOR_NAME = f"floor: python3 -c '{IMPORT_FLOOR}'"


@dataclass
class Footprint:
    """What one run leaves on the watched server: connections it made, log lines, of them warnings; and what
    fail2ban's stock filter for the service matches in them, by mode ("" the default)."""

    name: str
    service: str
    connections: int
    lines: int
    warnings: int
    kinds: dict[str, int]
    log: list[str]
    matches: dict[str, Matches] = field(default_factory=dict)


FOOTPRINT: list[Footprint] = []
#: Per service: the default check's CPU over the import floor's, each pair run back to back (``paired``).
PAIRED: dict[str, tuple[float, int]] = {}


@dataclass
class Watched:
    """fail2ban on the watched server: the package version read with, or why it was not; the hello endings."""

    fail2ban: str = ""
    missing: str = ""
    endings: list[Ending] = field(default_factory=list)


WATCHED = Watched()


def _kind(line: str, width: int | None = 90) -> str:
    """A log line without its time, pid, addresses, ports and session ids: what kind of line it is (its first
    ``width`` characters; None: all)."""
    import re

    text = line.split(": ", 1)[1] if ": " in line else line
    text = re.sub(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "", text)
    text = re.sub(r"\[[0-9a-f.:]*\](:\d+)?|\b\d+\b|, session=<[^>]*>|session=<[^>]*>|[0-9A-F]{10,}", "", text)
    return text.strip()[:width]


def footprint(name: str, service: str, command: list[str], log: Path) -> Footprint:
    """Run ``command`` once and count what its server logged meanwhile (Postfix: smtpd's "connect from" lines;
    Dovecot: one line per connection from its login process)."""
    before = log.read_text(errors="replace").splitlines() if log.exists() else []
    subprocess.run(command, capture_output=True, check=False, timeout=60)
    time.sleep(1.0)  # the server logs the closes after the client went
    after = log.read_text(errors="replace").splitlines() if log.exists() else []
    new = after[len(before) :]
    connects = sum(" connect from " in line for line in new) or sum("-login: " in line for line in new)
    warnings = sum("warning" in line.lower() or "error" in line.lower() for line in new)
    kinds: dict[str, int] = {}
    for line in new:
        kinds[_kind(line)] = kinds.get(_kind(line), 0) + 1
    print(f"  {name}: {connects} connections, {len(new)} log lines, {warnings} warnings", flush=True)
    return Footprint(name, service, connects, len(new), warnings, kinds, new)


def burst(count: int = 50, timeout: float = 3.0) -> list[tuple[float, int, str, bool]]:
    """``count`` checks started at once against a server that accepts and never speaks, with -t ``timeout``:
    per check, (seconds from its own start to its end, exit code, the first line's kind, stderr non-empty)."""
    import threading

    with MailServer(hold) as server:
        command = [PLUGIN, "-H", "127.0.0.1", "-p", str(server.port), "-P", "imaps", "-t", f"{timeout:g}"]
        started: list[tuple[float, subprocess.Popen[bytes]]] = []
        for _ in range(count):
            started.append(
                (time.monotonic(), subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            )
        ended: dict[int, tuple[float, bytes, bytes]] = {}

        def wait(index: int, process: subprocess.Popen[bytes]) -> None:
            out, err = process.communicate(timeout=60)
            ended[index] = (time.monotonic(), out, err)

        waiters = [threading.Thread(target=wait, args=(i, p)) for i, (_, p) in enumerate(started)]
        for waiter in waiters:
            waiter.start()
        for waiter in waiters:
            waiter.join()
    found = []
    for index, (start, process) in enumerate(started):
        end, out, err = ended[index]
        first = out.decode(errors="replace").split("\n", 1)[0]
        kind = "UNKNOWN timeout" if "timeout: check did not complete" in first else first.split(": ", 1)[-1][:60]
        found.append((end - start, process.returncode, kind, bool(err)))
    return found


@dataclass
class Sample:
    wall: float
    cpu: float
    code: int


def measure(command: Sequence[str]) -> Sample:
    """One run, spawned as a monitoring engine spawns it; wall and CPU (user+sys, from wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall, usage.ru_utime + usage.ru_stime, process.returncode)


def peak_rss_kib(command: Sequence[str]) -> int:
    """Peak RSS from one run under GNU time (measured apart: a fork of this big Python process
    would count in the child's peak, and GNU time itself adds to wall and CPU time)."""
    with tempfile.NamedTemporaryFile("r") as peak:
        subprocess.run(
            ["/usr/bin/time", "-o", peak.name, "-f", "%M", *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return int(peak.read().split()[-1])


@dataclass
class Result:
    name: str
    command: list[str]
    samples: list[Sample]

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    rss_kib: int = 0

    @property
    def rss_mib(self) -> float:
        return self.rss_kib / 1024

    @property
    def codes(self) -> str:
        return ",".join(sorted({str(s.code) for s in self.samples}))


def run(name: str, command: list[str], runs: int) -> Result:
    measure(command)  # warm the page cache once
    result = Result(name, command, [measure(command) for _ in range(runs)], peak_rss_kib(command))
    print(
        f"  {name}: wall {result.wall:.3f} s, cpu {result.cpu:.3f} s, rss {result.rss_mib:.1f} MiB "
        f"(exit {result.codes})",
        flush=True,
    )
    return result


def paired(check: Sequence[str], floor: Sequence[str], runs: int) -> tuple[float, int]:
    """The median over ``runs`` pairs of (check's CPU / floor's CPU), each pair run back to back: on a shared
    machine whose speed drifts over minutes, a ratio of two medians taken minutes apart drifts with it."""
    measure(check), measure(floor)  # warm the page cache
    ratios = [measure(check).cpu / max(measure(floor).cpu, 1e-6) for _ in range(runs)]
    return statistics.median(ratios), runs


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            model,
        )
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    os_name = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    return (
        f"{os.cpu_count()} cores ({model}){memory}; {os_name}; Python {platform.python_version()}; "
        f"{ssl.OPENSSL_VERSION}"
    )


def comparison(
    runs: int, before: Sequence[Version] = (), watched_only: bool = False
) -> tuple[list[Result], str, list[Versions], list[ProbeCost]]:
    """Default check_tls_mail against the peers, on real Postfix/Dovecot where installed; with real ones, what
    one run leaves on them (``watched``). With ``watched_only``, that alone.

    With ``before`` (checkouts of earlier commits, each with its own .venv): their default checks too, run in
    turn with this one, and every version's probe costs measured in-process.
    """
    creds = Credentials.make(base_directory("bench-certs"))
    servers: list[PostfixInstance | DovecotInstance] = []
    fallback: list[MailServer] = []
    try:
        if not have("postfix", "dovecot"):
            postfix = PostfixInstance(creds)
            dovecot = DovecotInstance(creds, "fixed")
            for server in (postfix, dovecot):
                server.start()
                servers.append(server)
            smtp_port, imaps_port = postfix.ports["fixed-submission"], dovecot.ports["imaps"]
            relay_port: int | None = postfix.ports["fixed-smtp"]
            where = "real Postfix (submission, STARTTLS) and Dovecot (IMAPS) on loopback"
        else:
            tls = TlsConfig([creds.files["ecdsa"]])
            fallback = [MailServer.speaking(p, tls).__enter__() for p in ("submission", "imaps")]
            smtp_port, imaps_port = fallback[0].port, fallback[1].port
            relay_port = None
            where = "the test suite's in-process servers (Postfix/Dovecot not installed)"
        ca = creds.ca_file
        common = ["-H", "127.0.0.1", "--servername", NAME, "--ca-file", ca]
        ssl_cert = str(PLUGINS / "check_ssl_cert")
        ssl_cert_options = ["--sni", NAME, "-r", ca, "-w", "18", "-c", "9", "--ignore-sct"]
        peers = [
            (
                "check_ssl_cert (submission)",
                [ssl_cert, "-H", "127.0.0.1", "-p", str(smtp_port), "-P", "smtp", *ssl_cert_options],
            ),
            ("check_ssl_cert (imaps)", [ssl_cert, "-H", "127.0.0.1", "-p", str(imaps_port), *ssl_cert_options]),
            (
                "check_smtp -S -D 18,9",
                [str(PLUGINS / "check_smtp"), "-H", "127.0.0.1", "-p", str(smtp_port), "-S", "-D", "18,9"],
            ),
            (
                "check_simap -D 18,9",
                [str(PLUGINS / "check_simap"), "-H", "127.0.0.1", "-p", str(imaps_port), "-D", "18,9"],
            ),
        ]
        results: list[Result] = []
        if not watched_only:
            results += [
                run(
                    "check_tls_mail, defaults (submission)",
                    [PLUGIN, *common, "-p", str(smtp_port), "-P", "submission"],
                    runs,
                ),
                run("check_tls_mail, defaults (imaps)", [PLUGIN, *common, "-p", str(imaps_port), "-P", "imaps"], runs),
            ]
            for name, command in peers:
                if Path(command[0]).exists():
                    results.append(run(name, command, runs))
                else:
                    print(f"  {name}: not installed (monitoring-plugins-contrib / -standard)")
            results.append(run("floor: python3 -c pass", [sys.executable, "-c", "pass"], runs))
            for module in ("cryptography.x509", "nagiosplugin"):
                results.append(
                    run(f"floor: python3 -c 'import {module}'", [sys.executable, "-c", f"import {module}"], runs)
                )
            results.append(
                run(
                    "floor: one bare STARTTLS handshake in Python",
                    [sys.executable, "-c", BARE_STARTTLS, str(smtp_port), NAME],
                    runs,
                )
            )
            results.append(run(IMPORT_FLOOR_NAME, [sys.executable, "-c", IMPORT_FLOOR], runs))
            for service, port in (("submission", smtp_port), ("imaps", imaps_port)):
                check = [PLUGIN, *common, "-p", str(port), "-P", service]
                PAIRED[service] = paired(check, [sys.executable, "-c", IMPORT_FLOOR], 2 * runs)
                print(f"  paired with the floor ({service}): {PAIRED[service][0]:.2f}x", flush=True)
        if servers:
            assert relay_port is not None
            postfix_log, dovecot_log = servers[0].dir / "maillog", servers[1].dir / "dovecot.log"
            ports = {"submission": smtp_port, "smtp": relay_port, "imaps": imaps_port}
            logs = {"submission": postfix_log, "smtp": postfix_log, "imaps": dovecot_log}
            ours = [
                (f"check_tls_mail, defaults ({s})", s, [PLUGIN, *common, "-p", str(p), "-P", s])
                for s, p in ports.items()
            ]
            relay_peer = [ssl_cert, "-H", "127.0.0.1", "-p", str(relay_port), "-P", "smtp", *ssl_cert_options]
            theirs = [
                (peers[0][0], "submission", peers[0][1]),
                ("check_ssl_cert (smtp)", "smtp", relay_peer),
                (peers[1][0], "imaps", peers[1][1]),
                (peers[2][0], "submission", peers[2][1]),
                (peers[3][0], "imaps", peers[3][1]),
            ]
            watched(
                [(n, s, c, logs[s]) for n, s, c in [*ours, *theirs] if Path(c[0]).exists()],
                ports,
                logs,
                ca,
            )
        pairs: list[Versions] = []
        costs: list[ProbeCost] = []
        if before and not watched_only:
            services = [("submission", smtp_port), ("imaps", imaps_port)]
            if relay_port is not None:
                services.append(("smtp", relay_port))
            versions = [Version(f"{describe(ROOT)} (this checkout)", ROOT), *before]
            print("Versions:")
            for protocol, port in services:
                pairs.append(in_turn(protocol, [*common, "-p", str(port), "-P", protocol], versions, runs))
            for protocol, port in services:
                for version in versions:
                    costs.append(probe_cost(version, protocol, port, max(runs, 10)))
        return results, where, pairs, costs
    finally:
        for server in servers:
            server.stop()
        for fake in fallback:
            fake.__exit__()
        shutil.rmtree(creds.directory, ignore_errors=True)


def settle(logs: Sequence[Path], quiet: float = 2.0, longest: float = 30.0) -> None:
    """Wait until ``logs`` have not grown for ``quiet`` seconds: a fresh Postfix logs its start, and the
    connections that waited for its ports, a while after it answers."""
    ended = time.monotonic() + longest
    sizes: list[int] = []
    while time.monotonic() < ended:
        now = [log.stat().st_size if log.exists() else 0 for log in logs]
        if now == sizes:
            return
        sizes = now
        time.sleep(quiet)


def watched(
    runs: Sequence[tuple[str, str, list[str], Path]], ports: dict[str, int], logs: dict[str, Path], ca: str
) -> None:
    """One run of each (name, service, command, log) against the real servers: what it left in the log
    (FOOTPRINT), what fail2ban's stock filters match in it, and how the hello probes' endings change it (WATCHED).
    """
    print("Footprint on the watched server:")
    settle(sorted(set(logs.values())))
    FOOTPRINT.clear()
    for name, service, command, log in runs:
        FOOTPRINT.append(footprint(name, service, command, log))
    try:
        tree = fail2ban_tree()
        WATCHED.fail2ban, WATCHED.missing = fail2ban_version(tree), ""
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        tree, WATCHED.missing = None, str(exc)
        print(f"  fail2ban not measured: {exc}", flush=True)
    if tree is not None:
        print(f"fail2ban {WATCHED.fail2ban} (unpacked in {tree}):")
        for f in FOOTPRINT:
            for mode in MODES:
                f.matches[mode] = fail2ban_regex(tree, f.log, spec(FILTERS[f.service], mode))
            print(f"  {f.name}: " + ", ".join(f"{spec(FILTERS[f.service], m)} {f.matches[m].count}" for m in MODES))
    print("Ending the hello probes otherwise:")
    WATCHED.endings = hello_endings({"submission": ports["submission"], "imaps": ports["imaps"]}, logs, NAME, ca, tree)


@dataclass
class Version:
    """A checkout with its own .venv (a regular install of that commit)."""

    label: str
    directory: Path

    @property
    def plugin(self) -> str:
        return str(self.directory / ".venv/bin/check_tls_mail")

    @property
    def python(self) -> str:
        return str(self.directory / ".venv/bin/python")

    def runtime(self) -> str:
        """'Python 3.11.2, cryptography 50.0.2, ...': what the .venv runs, which must be alike to compare."""
        code = (
            "import platform, importlib.metadata as m; print('Python ' + platform.python_version() + ', ' + "
            "', '.join(n + ' ' + m.version(n) for n in ('cryptography', 'nagiosplugin', 'dnspython')))"
        )
        return subprocess.run([self.python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@dataclass
class Versions:
    """One service's default check, each version measured in turn."""

    protocol: str
    results: list[tuple[Version, Result]]


def in_turn(protocol: str, arguments: list[str], versions: Sequence[Version], runs: int) -> Versions:
    """Every version's default check, one run each in turn, so that the load of the machine hits all alike."""
    commands = [[version.plugin, *arguments] for version in versions]
    samples: list[list[Sample]] = [[] for _ in versions]
    for command in commands:
        measure(command)  # warm-up
    for _ in range(runs):
        for index, command in enumerate(commands):
            samples[index].append(measure(command))
    found = Versions(
        protocol,
        [
            (version, Result(f"{version.label} ({protocol})", command, got))
            for version, command, got in zip(versions, commands, samples, strict=True)
        ],
    )
    for _version, r in found.results:
        print(f"  {r.name}: wall {r.wall:.3f} s, cpu {r.cpu:.3f} s (exit {r.codes})", flush=True)
    return found


#: Run by each version's own Python: the probes of one check in-process, with and without the client profiles.
PROBE_COST = """
import json, resource, socket, statistics, sys, time
try:
    from check_tls_mail.net.dialects import PROTOCOLS
    from check_tls_mail.probe.run import run
    from check_tls_mail.probe.plan import ProbePlan
    from check_tls_mail.clients.profiles import catalogue
    def defaults(protocol):
        return catalogue().default_for(PROTOCOLS[protocol].audience)
except ImportError:  # before the package had folders
    from check_tls_mail.dialects import PROTOCOLS
    from check_tls_mail.probe import run
    try:
        from check_tls_mail.probeplan import ProbePlan
    except ImportError:  # before the split of probe.py
        from check_tls_mail.probe import ProbePlan
    from check_tls_mail.profiles import catalogue
    def defaults(protocol):
        return catalogue().default_for(protocol)
port, protocol, runs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
profiles = defaults(protocol)
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
def once(clients):
    plan = ProbePlan("127.0.0.1", port, PROTOCOLS[protocol], socket.AF_INET, "mail.example.test", clients, (), 12, 10.0)
    wall, used = time.perf_counter(), cpu()
    report = run(plan)
    assert all(len(a.outcomes) >= 3 + len(clients) for a in report.addresses), report  # + the probe without SNI
    return time.perf_counter() - wall, cpu() - used
for clients in (profiles, ()):
    once(clients)  # warm-up: the first run imports what the probes need
found = {}
for name, clients in (("with", profiles), ("without", ())):
    samples = [once(clients) for _ in range(runs)]
    found[name] = [statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)]
found["clients"] = len(profiles)
print(json.dumps(found))
"""


@dataclass
class ProbeCost:
    """The probes of one default check, in-process: wall and CPU with the client profiles and without them."""

    version: Version
    protocol: str
    clients: int
    with_clients: tuple[float, float]
    without_clients: tuple[float, float]

    @property
    def profiles(self) -> tuple[float, float]:
        """What the client profiles' probes add: (wall, CPU)."""
        return (
            self.with_clients[0] - self.without_clients[0],
            self.with_clients[1] - self.without_clients[1],
        )


def probe_cost(version: Version, protocol: str, port: int, runs: int) -> ProbeCost:
    done = subprocess.run(
        [version.python, "-c", PROBE_COST, str(port), protocol, str(runs)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),  # the installed package, not a source tree in the working directory
    )
    if done.returncode != 0:
        raise RuntimeError(f"the probe cost of {version.label} ({protocol}) failed:\n{done.stderr}")
    output = done.stdout
    import json

    found = json.loads(output)
    with_clients, without_clients = found["with"], found["without"]
    cost = ProbeCost(
        version,
        protocol,
        found["clients"],
        (with_clients[0], with_clients[1]),
        (without_clients[0], without_clients[1]),
    )
    print(
        f"  probes {version.label} ({protocol}): {cost.with_clients[0] * 1000:.1f} ms wall, "
        f"{cost.with_clients[1] * 1000:.1f} ms CPU; the {cost.clients} profiles add "
        f"{cost.profiles[0] * 1000:.1f} ms wall, {cost.profiles[1] * 1000:.1f} ms CPU",
        flush=True,
    )
    return cost


SCALING = {
    1: ["apple-mail"],
    4: ["apple-mail", "thunderbird", "outlook", "android"],
    8: ["apple-mail", "thunderbird", "outlook", "android", "postfix", "openssl-mta-tls12", "exim-gnutls", "sendmail"],
    16: [
        "apple-mail",
        "apple-ats",
        "thunderbird",
        "outlook",
        "android",
        "postfix",
        "openssl-mta-tls12",
        "exim-gnutls",
        "sendmail",
        "microsoft-365",
        "gmail",
        "mozilla-intermediate",
        "rfc9325",
    ],
}
EXTRA_CIPHERS = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"]


def scaling(runs: int, directory: Path) -> list[Result]:
    """Wall time by number of client probes against a server that greets after 300 ms."""
    pki = Pki(directory)
    dual = TlsConfig(
        [pki.leaf(key_type="ECDSA").write(directory, "ecdsa"), pki.leaf(key_type="RSA").write(directory, "rsa")]
    )
    ctx = dual.context()
    dialogue = DIALOGUES["submission"]

    def slow(sock: object) -> None:
        time.sleep(0.3)
        dialogue(sock, ctx, Behaviour())  # type: ignore[arg-type]

    results = []
    with MailServer(slow) as server:
        for count, clients in SCALING.items():
            probes = [a for c in clients for a in ("--client", c)]
            probes += [a for c in EXTRA_CIPHERS[: count - len(clients)] for a in ("--cipher", c)]
            command = [
                PLUGIN,
                "-H",
                "127.0.0.1",
                "--servername",
                "mail.example.test",
                "-p",
                str(server.port),
                "-P",
                "submission",
                "--ca-file",
                pki.root_file,
                *probes,
            ]
            results.append(run(f"{count} client probes", command, runs))
    return results


def floor(compared: list[Result], name: str) -> float:
    """A floor row's median wall time, 0 when it was not measured."""
    return next((r.wall for r in compared if r.name == name), 0.0)


def report(
    compared: list[Result],
    where: str,
    scaled: list[Result],
    runs: int,
    pairs: Sequence[Versions] = (),
    costs: Sequence[ProbeCost] = (),
    bursts: Sequence[tuple[float, int, str, bool]] = (),
) -> str:
    base = compared[0]
    lines = [
        "# Performance",
        "",
        "Measured by `bash scripts/bench` (which runs `.venv/bin/python scripts/bench.py`). Whole processes, "
        f"as a monitoring engine starts them; median of {runs} runs after one warm-up run; CPU is user+sys of "
        "the process and its children (wait4); peak RSS from one more run under GNU time.",
        "",
        f"Machine: {machine()}. Load average (1 min) when the measurements began and ended: "
        f"{LOAD[0]:.2f} and {os.getloadavg()[0]:.2f} (the machine is shared: what else ran is in these numbers).",
        f"Servers: {where}; a certificate from the test PKI, verified against its root.",
        "",
        "## check_tls_mail against the peers",
        "",
        "| command | wall (s) | CPU (s) | peak RSS (MiB) | exit | wall vs check_tls_mail | CPU vs check_tls_mail |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in compared:
        lines.append(
            f"| {r.name} | {r.wall:.3f} | {r.cpu:.3f} | {r.rss_mib:.1f} | {r.codes} | "
            f"{r.wall / base.wall:.2f}x | {r.cpu / base.cpu:.2f}x |"
        )
    for service in ("submission", "imaps"):
        ours = next((r for r in compared if r.name == f"check_tls_mail, defaults ({service})"), None)
        theirs = next((r for r in compared if r.name == f"check_ssl_cert ({service})"), None)
        if ours is None or theirs is None:
            continue
        wall, cpu = ours.wall / theirs.wall, ours.cpu / theirs.cpu
        verdict = "met" if cpu <= 0.1 else "not met"
        lines += [
            "",
            f"{service}: check_tls_mail's default check (STARTTLS or implicit TLS, chain, expiry, the widest "
            "offer and the two key-type probes as full handshakes, the four default client profiles as "
            f"ClientHello probes) takes {cpu:.1%} of check_ssl_cert's CPU time (target: at most 10%: {verdict}) "
            f"and {wall:.1%} of its wall time.",
        ]
    start = floor(compared, "floor: python3 -c pass")
    x509 = floor(compared, "floor: python3 -c 'import cryptography.x509'") - start
    plugin = floor(compared, "floor: python3 -c 'import nagiosplugin'") - start
    own = [c.with_clients[1] for c in costs if c.version.directory == ROOT]
    work = (
        f"the probes of one default check take {min(own) * 1000:.0f}-{max(own) * 1000:.0f} ms of CPU in-process (below)"
        if own
        else "the probes' own CPU is measured with --before (below)"
    )
    lines += [
        "",
        "What stands between these numbers and a lower ratio, measured on this machine (the floor rows): the "
        f"interpreter starts in {start * 1000:.0f} ms, importing cryptography's x509 (part of the floor; a default "
        f"check does not import it) adds {x509 * 1000:.0f} ms and nagiosplugin (whose package import loads all of "
        f"its modules) {plugin * 1000:.0f} ms; {work}. The probes start once the imports are done: overlapping "
        "them saved a few ms of wall time and cost more CPU than that (GIL hand-offs). Against Dovecot the wall "
        "time is higher than against "
        "Postfix because Dovecot starts a login process per connection, which competes with the check for the "
        "two cores; against a remote server that work is not ours.",
    ]
    imports = next((r for r in compared if r.name == IMPORT_FLOOR_NAME), None)
    if imports is not None:
        ratios = [
            f"{r.name.split('(')[1].rstrip(')')} {r.cpu / imports.cpu:.2f}x"
            for r in compared
            if r.name.startswith("check_tls_mail, defaults")
        ]
        twinned = ", ".join(f"{service} {ratio:.2f}x ({n} pairs)" for service, (ratio, n) in PAIRED.items())
        lines += [
            "",
            f"Against the floor of the libraries a check needs (`python3 -c '{IMPORT_FLOOR}'`, "
            f"{imports.cpu:.3f} s CPU): check_tls_mail's default check takes {', '.join(ratios)} of its CPU "
            "(target: 1.25x), from the medians above, taken minutes apart."
            + (
                f" Run in pairs, a check and then the floor, the median of the pairs' ratios: {twinned}."
                if PAIRED
                else ""
            ),
        ]
    lines += watched_section()
    if bursts:
        count = len(bursts)
        slowest = max(b[0] for b in bursts)
        late = sum(b[0] > 3.0 + 1 for b in bursts)
        noisy = sum(b[3] for b in bursts)
        kinds: dict[str, int] = {}
        for _, code, kind, _ in bursts:
            kinds[f"{code} {kind}"] = kinds.get(f"{code} {kind}", 0) + 1
        lines += [
            "",
            "## A burst",
            "",
            f"{count} checks started at once (as an engine does after a reload) against a server that accepts and "
            f"never answers, `-t 3`, on this machine: the slowest ended {slowest:.2f} s after its own start; "
            f"{late} of {count} ended later than -t plus one second (target: none); {noisy} wrote to standard "
            "error (target: none). Their first lines:",
            "",
        ]
        lines += [f"    {n} x exit {kind}" for kind, n in sorted(kinds.items(), key=lambda k: -k[1])]
    lines += _before_after(pairs, costs, runs)
    lines += [
        "",
        "## Scaling with the number of client probes",
        "",
        "Against an in-process SMTP server that waits 300 ms before its greeting (so every probe pays it), "
        "dual RSA+ECDSA certificates. Each check also makes its 3 certificate probes (widest offer, ECDSA-only "
        "and RSA-only TLS 1.2); `16` is the 13 profiles plus 3 `--cipher`s. With the default `--max-parallel 12`, "
        "up to 9 probes run in one wave (target: 8 profiles within 1.5 times 1 profile); 16 need a second wave, "
        "which `--max-parallel 20` would avoid at the cost of a bigger burst of connections.",
        "",
        "| client probes | connections | wall (s) | CPU (s) | wall vs 1 probe |",
        "|---:|---:|---:|---:|---:|",
    ]
    one = scaled[0]
    for count, r in zip(SCALING, scaled, strict=True):
        lines.append(f"| {count} | {count + 3} | {r.wall:.3f} | {r.cpu:.3f} | {r.wall / one.wall:.2f}x |")
    lines += [
        "",
        "## Start-up",
        "",
        "`python -X importtime -m check_tls_mail -H ...` shows where start-up goes: nagiosplugin, ssl "
        "and cryptography's Rust module; argparse, json and threading are small. Measures taken: no work at "
        "import time; NamedTuples instead of dataclasses (which pulled in inspect and exec'd code per class), made "
        "by check_tls_mail/records.py, typing's NamedTuple without its check of each annotation (which compiles "
        "every string annotation into a ForwardRef) and its second assignment of the class's bases: about 7 ms "
        "(an earlier measure, no `from __future__ import annotations` in the modules that define them, saved part "
        "of that; those modules still quote the names they import only for type checking); a check whose "
        "clients all connect imports neither the diagnosis (judgement/diagnosis.py) nor the axes "
        "(probe/axes.py), and the optional checks' judgement types are imported with their judges; no pathlib or "
        "hashlib; dnspython only for DANE; a regular install (an editable one adds about 10 ms to every start); "
        "`-V`, `-h` and usage errors import neither cryptography nor nagiosplugin nor ssl; a default check does not "
        "import cryptography.x509 (the DER walk reads the certificates and cryptography's key loader their keys); "
        "the imports run before the probes, not beside them; no cyclic garbage collector in the console process; "
        "ECDSA signatures are verified without cryptography's OpenSSL backend, which `ec.ECDSA()` imports; ASCII "
        "names go to getaddrinfo and SNI as bytes, without the idna codec.",
        "",
        "Counted in instructions with valgrind's callgrind (repeatable on a shared machine) against the local "
        "Dovecot's IMAPS port, on 2026-12-03: the floor's imports are 314 M instructions (importing "
        "cryptography.x509 alone is 163 M of them); a whole default check 334 M (1.06x the floor's instructions), "
        "against 364 M at 2e4b658 and 483 M (1.54x) at 870c6cc. What the CPU time spends above the floor is mostly "
        "not instructions but the kernel's share of a process that connects and runs threads: `perf stat` counted "
        "about 90 (IMAPS) to 270 (submission) context switches and 4190 page faults per default check (the floor: "
        "5 and 3450), and its system time is about twice the floor's. Left in the instructions: the package's own "
        "83 modules (about 70 us each to find and load before any of their code runs), its 30 enums (about 3 ms) "
        "and 74 NamedTuple classes (collections.namedtuple's, about 40 us each). The ratio to the import floor "
        "moves by a few hundredths between runs on this shared machine: three runs of this bench on 2026-12-03, "
        "after this day's cuts, gave 1.22x/1.22x, 1.17x/1.26x and 1.22x/1.23x paired (submission/imaps), "
        "1.17x/1.20x, 0.98x/0.97x (a run whose floor medians were taken while the machine was slower) and "
        "1.18x/1.17x from the medians.",
        "",
        "Reproduce: `bash scripts/bench` (after `bash scripts/test` or `bash scripts/demo` has installed things).",
        "",
    ]
    return "\n".join(lines)


def _kinds(lines: Sequence[str], width: int | None = 90) -> list[tuple[str, int]]:
    """The kinds of ``lines`` (``_kind``), most frequent first."""
    kinds: dict[str, int] = {}
    for line in lines:
        kinds[_kind(line, width)] = kinds.get(_kind(line, width), 0) + 1
    return sorted(kinds.items(), key=lambda k: -k[1])


def watched_section() -> list[str]:
    """The section on the watched server: FOOTPRINT, and with fail2ban its matches and the hello endings."""
    if not FOOTPRINT:
        return []
    lines = [
        "",
        "## On the watched server",
        "",
        "One run each against the real Postfix and Dovecot above, their logs read before and after: the "
        "connections the run made (Postfix's `connect from`, Dovecot's login lines) and what it left in the "
        "log, warnings and errors counted apart. The kinds of lines, without times, ports and ids, follow.",
        "",
        "| command | connections | log lines | of them warnings or errors |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {f.name} | {f.connections} | {f.lines} | {f.warnings} |" for f in FOOTPRINT]
    for f in FOOTPRINT:
        if f.name.startswith("check_tls_mail"):
            lines += ["", f"{f.name}:", ""]
            lines += [f"    {count} x {kind}" for kind, count in sorted(f.kinds.items(), key=lambda k: -k[1])]
    lines += ["", "### fail2ban", ""]
    if WATCHED.missing:
        return [*lines, f"Not measured: {WATCHED.missing}"]
    aggressive = MODES[-1]
    lines += [
        f"fail2ban {WATCHED.fail2ban}, Debian's package unpacked into {FAIL2BAN} (not installed: no service, "
        "nothing changed on the machine), read the lines of each run above with its stock filters, as "
        "`fail2ban-regex --config DIR LOG FILTER` run by Debian's python3: `postfix` for submission and port 25, "
        "`dovecot` for IMAPS, each in its default mode (postfix `more`, dovecot `normal`: what Debian's jail.conf "
        f"uses) and with `mode={aggressive}` (`postfix[mode={aggressive}]` in a filter line, `mode = {aggressive}` "
        "in a jail). Before fail2ban reads them, the Postfix lines get the syslog names Debian's master.cf gives "
        "these services (`postfix/submission/smtpd`, `postfix/smtpd`): the bench's own names "
        "(`postfix/fixed-submission/smtpd`) have a hyphen the filter's `_daemon` does not take, so it would match "
        "none of them. The last column: "
        f"with Debian's jail defaults (maxretry {MAXRETRY}, findtime 10m, which its [postfix] and [dovecot] jails "
        f"keep) and the {aggressive} mode, when the monitoring host is banned if this one check is all it runs "
        "against that jail.",
        "",
        f"| command | filter | matches per run, default mode | matches per run, mode={aggressive} "
        f"| banned ({aggressive}, maxretry {MAXRETRY}, findtime 10m) |",
        "|---|---|---:|---:|---|",
    ]
    for f in FOOTPRINT:
        default, strict = f.matches[""].count, f.matches[aggressive].count
        lines.append(f"| {f.name} | {FILTERS[f.service]} | {default} | {strict} | {ban_words(strict)} |")
    lines += ["", f"What the {aggressive} modes matched, per run:", ""]
    for f in FOOTPRINT:
        for kind, count in _kinds(f.matches[aggressive].matched, None):
            lines.append(f"    {f.name}: {count} x {kind}")
    ours = [f for f in FOOTPRINT if f.name.startswith("check_tls_mail")]
    none_default = all(f.matches[""].count == 0 for f in FOOTPRINT)
    per_run = ", ".join(f"{f.matches[aggressive].count} ({f.service})" for f in ours)
    lines += [
        "",
        (
            "In their default modes the filters match none of these lines: the jails as Debian ships them never ban "
            "the monitoring host for these checks. "
            if none_default
            else ""
        )
        + f"In the {aggressive} modes one default run of check_tls_mail matches {per_run}. Postfix's services share "
        "one log and one jail, so a host that checks submission and port 25 adds their counts."
        + _dovecot_words(aggressive),
    ]
    lines += _endings_section(aggressive)
    return lines


def _dovecot_words(aggressive: str) -> str:
    """What Dovecot's aggressive mode matches, if the polite full handshakes showed it."""
    polite = next((e for e in WATCHED.endings if e.service == "imaps" and e.name == FULL_POLITE), None)
    if polite is None or polite.matches[aggressive].count < polite.connections:
        return ""
    return (
        f" Dovecot's {aggressive} mode matches every connection that ends without a login (`no auth attempts`), "
        "a polite LOGOUT included (below)."
    )


def _endings_section(aggressive: str) -> list[str]:
    """The hello probes ended otherwise (bench_watched.hello_endings), if measured."""
    if not WATCHED.endings:
        return []
    lines = [
        "",
        "### Ending the hello probes otherwise",
        "",
        "An experiment (the plugin's probes are not changed by it): the hello probes of the four default "
        "profiles (the ones a default run makes), one after another against the same servers, each ending as "
        "the first column says once the server's first flight is read; the plugin's own probes close at once. "
        "Alerts are sent in the clear: a hello probe has no keys (fixed key shares), so over TLS 1.3 it cannot "
        "send the encrypted alert a real client would. For reference, four full handshakes (Python's ssl) "
        "that end with an encrypted alert after refusing the chain, and four that end politely (QUIT on "
        "submission, LOGOUT on IMAPS).",
        "",
        f"| how each of the 4 connections ends | service | log lines | matches, default mode | matches, "
        f"mode={aggressive} |",
        "|---|---|---:|---:|---:|",
    ]
    for e in WATCHED.endings:
        lines.append(
            f"| {e.name} | {e.service} | {len(e.lines)} | {e.matches[''].count} | {e.matches[aggressive].count} |"
        )
    lines += ["", "The kinds of lines, where they differ from the plugin's way (the first row of each service):"]
    for service in dict.fromkeys(e.service for e in WATCHED.endings):
        rows = [e for e in WATCHED.endings if e.service == service]
        base = dict(_kinds(rows[0].lines, None))
        lines += ["", f"{service}, {rows[0].name}:", ""]
        lines += [f"    {count} x {kind}" for kind, count in base.items()]
        for e in rows[1:]:
            kinds = dict(_kinds(e.lines, None))
            if kinds == base:
                lines += ["", f"{service}, {e.name}: the same lines"]
                continue
            lines += ["", f"{service}, {e.name}:", ""]
            lines += [f"    {count} x {kind}" for kind, count in kinds.items() if base.get(kind) != count]
            gone = [kind for kind in base if kind not in kinds]
            lines += [f"    (no longer: {kind})" for kind in gone]
    lines += ["", *_endings_verdict(aggressive)]
    return lines


def _endings_verdict(aggressive: str) -> list[str]:
    """What the endings change in the matches, in words made from the numbers."""
    said = []
    for service in dict.fromkeys(e.service for e in WATCHED.endings):
        rows = [e for e in WATCHED.endings if e.service == service]
        hellos = [e for e in rows if e.name.startswith("hello probe")]
        base = hellos[0].matches[aggressive].count
        changed = [e.name for e in hellos[1:] if e.matches[aggressive].count != base]
        polite = next(e for e in rows if e.name == FULL_POLITE).matches[aggressive].count
        said.append(
            f"{service}: the plugin's way makes {base} {aggressive} matches for {hellos[0].connections} connections; "
            + (f"other endings change that: {', '.join(changed)}" if changed else "no other ending changes that")
            + f"; the polite full handshakes match {polite}."
        )
    return [" ".join(said)]


#: The versions --before compares, and what changed between them, from the code (the numbers are the tables').
BEFORE_TITLE = "Before and after the start-up cuts of 2026-12-03"
CHANGES = (
    "What differs, from the code. 870c6cc to 2e4b658 (the first cuts of 2026-12-03): a default check no longer "
    "imports cryptography.x509 (the DER walk reads the certificates, cryptography loads only their keys, and "
    "signatures are verified from the walk's parts, as X509_verify reads them); the imports come before the "
    "probes instead of beside them (no GIL hand-offs between the importing thread and the probe threads); no "
    "cyclic garbage collector in the console process. 2e4b658 to this checkout: the facts' NamedTuple classes "
    "are made without typing's check of each annotation and its second assignment of their bases "
    "(records.NamedTuple: 74 classes, about 7 ms); ECDSA signatures are verified without the import of "
    "cryptography's OpenSSL backend that `ec.ECDSA()` makes (about 5 ms of a check); an ASCII name goes to "
    "getaddrinfo and SNI as bytes, sparing the idna codec (2-3 ms); a printable server line is kept whole "
    "instead of escaped character by character. The probes are the same: the same connections, the same hellos."
)


def _before_after(pairs: Sequence[Versions], costs: Sequence[ProbeCost], runs: int) -> list[str]:
    """The section comparing this version with earlier ones (--before), when they were measured."""
    if not pairs:
        return []
    oldest = pairs[0].results[-1][0]
    lines = [
        "",
        f"## {BEFORE_TITLE}",
        "",
        "Each version installed in its own .venv (a regular install), against the same servers; the default "
        f"checks of all versions run in turn, {runs} runs each after one warm-up run each, medians. "
        f"Ratios are against the last one given, {oldest.label}. The commits: "
        + "; ".join(f"`{describe(v.directory, '%h: %s')}` ({v.runtime()})" for v, _ in pairs[0].results)
        + ".",
        "",
        "| service (default clients) | version | wall (s) | CPU (s) | wall ratio | CPU ratio |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for pair in pairs:
        base = pair.results[-1][1]
        for version, r in pair.results:
            lines.append(
                f"| {pair.protocol} | {version.label} | {r.wall:.3f} | {r.cpu:.3f} | {r.wall / base.wall:.2f}x "
                f"| {r.cpu / base.cpu:.2f}x |"
            )
    lines += ["", CHANGES]
    if costs:
        lines += [
            "",
            "The probes alone, in-process (`probe.run` of the plan the CLI makes, by each version's own Python, "
            "median of at least 10 runs after a warm-up run, so without the imports the first run pays; CPU is the "
            "process's user+sys over all threads): all probes of the default check, the same plan without client "
            "profiles, and the difference, which is what the profiles' probes cost. Port 25 now also makes one "
            "probe without SNI for the MTAs, which send none.",
            "",
            "| service | version | profiles | all probes: wall (ms) | CPU (ms) | without profiles: wall (ms) "
            "| CPU (ms) | the profiles add: wall (ms) | CPU (ms) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in costs:
            lines.append(
                f"| {c.protocol} | {c.version.label} | {c.clients} | {c.with_clients[0] * 1000:.1f} | "
                f"{c.with_clients[1] * 1000:.1f} | {c.without_clients[0] * 1000:.1f} | "
                f"{c.without_clients[1] * 1000:.1f} | {c.profiles[0] * 1000:.1f} | {c.profiles[1] * 1000:.1f} |"
            )
    return lines


def describe(directory: Path, what: str = "%h") -> str:
    """A checkout's commit: '65a9413', or with ``what`` "%h: %s" its subject too."""
    found = subprocess.run(
        ["git", "-C", str(directory), "log", "-1", f"--format={what}"], capture_output=True, text=True, check=True
    )
    return found.stdout.strip()


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=15)
    options.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    options.add_argument(
        "--before",
        type=Path,
        action="append",
        default=[],
        help="a checkout of an earlier commit with its own .venv (bash .ci/setup there), repeatable: its default "
        "check and probes are measured beside this version's",
    )
    options.add_argument(
        "--watched-only",
        action="store_true",
        help="only what one run leaves on the real servers (connections, log lines, fail2ban, the hello endings): "
        "printed, no file written",
    )
    args = options.parse_args()
    before = [Version(describe(directory), directory) for directory in args.before]
    if args.watched_only:
        comparison(args.runs, watched_only=True)
        print("\n".join(watched_section()))
        return 0 if FOOTPRINT else 1
    print("Comparison with the peers:")
    compared, where, pairs, costs = comparison(args.runs, before)
    print("Scaling:")
    directory = base_directory("bench-scaling")
    try:
        scaled = scaling(max(args.runs // 2, 5), directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print("Burst:")
    bursts = burst()
    text = report(compared, where, scaled, args.runs, pairs, costs, bursts)
    Path(args.output).parent.mkdir(exist_ok=True)
    Path(args.output).write_text(text)
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
