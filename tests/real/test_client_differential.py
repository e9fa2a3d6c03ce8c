"""Differential test (issue 21): the plugin's verdict for each client against real client stacks' own.

``openssl s_server -www`` instances on loopback, each changing one axis of a good server: its TLS 1.2 suites
(the incident: RSA suites only with an ECDSA certificate), TLS versions, groups, TLS 1.3 suites, signature
algorithms, key types, a client certificate asked for or required, ALPN. For each server and each client
profile of the catalogue, the plugin's verdict through the real CLI (``--client NAME``, -v: the client's line,
"accepted" or not, its "cannot connect" words and the exit status) is compared with whether real stacks that
replay the profile's offer connect (tests/support/clientstacks.py): ``openssl s_client`` for every profile,
``gnutls-cli`` for the profiles whose offer GnuTLS can express and for Exim (NORMAL, Exim's own priority),
NSS's ``tstclnt`` for Thunderbird (NSS is Thunderbird's library) and ``posttls-finger`` for the profile of the
Postfix installed here. Every case must agree; a difference the real client is documented to have from the
stack here goes in DIFFERENT, with its source (and in the README's list).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
from clientstacks import (
    GNUTLS,
    NSS,
    OPENSSL,
    POSTFIX,
    NssDb,
    PostfixConfig,
    Target,
    Verdict,
    gnutls_cli,
    gnutls_priority,
    postfix_profile,
    postfix_version,
    posttls_finger,
    s_client,
    tstclnt,
)
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pki import NOW, Key, Pki, issue
from realservers import mail_server_root
from runs import NAME, RSA_ONLY, Run, check, clients, require
from tlsservers import OpenSslServer

from check_tls_mail.clients.profiles import ClientProfile, catalogue

PROFILES = catalogue().profiles
#: Profiles per run of the CLI: all accepted, a run's -v output is about 20 lines; each failing client takes
#: about six more, and the long output is bounded (60 lines): a run whose output was cut is made again in halves.
CLIENTS_PER_RUN = 12


class Server(NamedTuple):
    """One ``openssl s_server -www``: the baseline (an ECDSA P-256 certificate from the test intermediate,
    OpenSSL's defaults) with one axis changed."""

    name: str
    axis: str  # what is changed, in words
    options: tuple[str, ...] = ()
    cert: str = "p256"  # the key of its certificate: p256, p384, rsa2048, rsa4096
    #: Spot checks, for the plugin and every stack that replays the profile: these profiles must be refused...
    refused: tuple[str, ...] = ()
    #: ...and these must connect.
    connects: tuple[str, ...] = ()


#: TLS 1.2-only profiles: no TLS 1.3 to rescue them.
TLS12_ONLY = ("apple-mail", "openssl-tls12", "rfc9325", "openssl-1.0.2-mta")

SERVERS = (
    Server("baseline", "nothing changed", connects=("apple-mail", "thunderbird", "outlook", "postfix", "exim-gnutls")),
    Server(
        "tls12-rsa-suites",
        "TLS 1.2 suites: RSA only with the ECDSA certificate (the incident)",
        ("-cipher", RSA_ONLY),
        refused=TLS12_ONLY,
        connects=("thunderbird", "outlook", "android", "postfix", "exim-gnutls"),
    ),
    Server(
        "tls12-chacha",
        "TLS 1.2 suites: ECDHE-ECDSA-CHACHA20-POLY1305 only",
        ("-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"),
        refused=("apple-mail", "rfc9325"),
        connects=("openssl-tls12", "thunderbird"),
    ),
    Server(
        "tls12-only",
        "TLS 1.2 only (no TLS 1.3)",
        ("-no_tls1_3",),
        connects=("apple-mail", "thunderbird", "outlook", "postfix", "exim-gnutls"),
    ),
    Server(
        "tls13-only",
        "TLS 1.3 only",
        ("-tls1_3",),
        refused=TLS12_ONLY,
        connects=("thunderbird", "outlook", "postfix", "exim-gnutls"),
    ),
    Server(
        "groups-p521",
        "groups: P-521 only",
        ("-groups", "P-521"),
        refused=("outlook", "android"),
        connects=("apple-mail", "thunderbird"),
    ),
    Server(
        "groups-x25519",
        "groups: X25519 only",
        ("-groups", "X25519"),
        refused=("apple-mail", "openssl-1.0.2-mta"),
        connects=("thunderbird", "outlook", "postfix"),
    ),
    Server(
        "groups-p384", "groups: P-384 only", ("-groups", "P-384"), connects=("apple-mail", "thunderbird", "outlook")
    ),
    Server(
        "groups-ffdhe2048",
        "groups: ffdhe2048 only (no elliptic curve for ECDHE)",
        ("-groups", "ffdhe2048"),
        refused=("apple-mail", "outlook", "android"),
        connects=("thunderbird", "exim-gnutls"),
    ),
    Server(
        "tls13-chacha",
        "TLS 1.3 suites: TLS_CHACHA20_POLY1305_SHA256 only",
        ("-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"),
        refused=("outlook",),
        connects=("apple-mail", "thunderbird", "postfix"),
    ),
    Server(
        "tls13-aes256",
        "TLS 1.3 suites: TLS_AES_256_GCM_SHA384 only",
        ("-ciphersuites", "TLS_AES_256_GCM_SHA384"),
        connects=("thunderbird", "outlook", "postfix"),
    ),
    Server(
        "tls13-ccm",
        "TLS 1.3 suites: TLS_AES_128_CCM_SHA256 only",
        ("-ciphersuites", "TLS_AES_128_CCM_SHA256"),
        refused=("thunderbird", "outlook", "postfix"),
        connects=("apple-mail", "exim-gnutls"),
    ),
    Server(
        "sigalgs-ecdsa-sha512",
        "signature algorithms: ECDSA with SHA-512 only (with a P-256 key: none for TLS 1.3, so OpenSSL picks 1.2)",
        ("-sigalgs", "ECDSA+SHA512"),
        refused=("android", "gmail"),
        connects=("apple-mail", "thunderbird", "outlook", "postfix"),
    ),
    Server("key-p384", "key: ECDSA P-384", cert="p384", connects=("apple-mail", "thunderbird", "outlook", "postfix")),
    Server(
        "key-rsa2048",
        "key: RSA 2048",
        cert="rsa2048",
        connects=("apple-mail", "thunderbird", "outlook", "postfix", "microsoft-365"),
    ),
    Server(
        "key-rsa4096",
        "key: RSA 4096",
        cert="rsa4096",
        connects=("apple-mail", "thunderbird", "outlook", "postfix", "microsoft-365"),
    ),
    Server(
        "sigalgs-pkcs1",
        "signature algorithms: RSA PKCS#1 only, on key-rsa2048 (none for TLS 1.3)",
        ("-sigalgs", "RSA+SHA256:RSA+SHA384:RSA+SHA512"),
        cert="rsa2048",
        refused=("thunderbird", "outlook", "postfix"),
        connects=("apple-mail", "microsoft-365", "openssl-tls12"),
    ),
    Server(
        "sigalgs-pss",
        "signature algorithms: RSA-PSS only, on key-rsa2048",
        ("-sigalgs", "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512"),
        cert="rsa2048",
        refused=("apple-mail", "openssl-1.0.2-mta"),
        connects=("thunderbird", "outlook", "microsoft-365", "openssl-tls12"),
    ),
    Server(
        "client-cert-required",
        "a client certificate required (-Verify)",
        ("-Verify", "1"),
        refused=("apple-mail", "thunderbird", "outlook", "postfix", "exim-gnutls"),
    ),
    Server(
        "client-cert-asked",
        "a client certificate asked for, not required (-verify)",
        ("-verify", "1"),
        connects=("apple-mail", "thunderbird", "outlook", "postfix", "exim-gnutls"),
    ),
    Server(
        "alpn-imap",
        "ALPN imap only (s_server refuses a client's other ALPN; no profile sends ALPN)",
        ("-alpn", "imap"),
        connects=("apple-mail", "thunderbird", "outlook", "postfix", "exim-gnutls"),
    ),
)

#: (server, profile, stack) -> why the real client differs from the stack here, with the source that says so.
#: Listed in the README too. Empty: every case agrees.
DIFFERENT: dict[tuple[str, str, str], str] = {}


class PluginVerdict(NamedTuple):
    connected: bool
    outcome: str  # accepted, rejected or failed: the probe's own result
    lines: str  # the client's lines in the output, for failure messages


class Case(NamedTuple):
    server: str
    profile: str
    plugin: PluginVerdict
    stack: Verdict

    @property
    def key(self) -> tuple[str, str, str]:
        return self.server, self.profile, self.stack.stack

    @property
    def agrees(self) -> bool:
        return self.plugin.connected == self.stack.connected

    def describe(self) -> str:
        def said(connected: bool) -> str:
            return "connects" if connected else "cannot connect"

        return (
            f"{self.server} / {self.profile} / {self.stack.stack}: plugin {said(self.plugin.connected)}, stack "
            f"{said(self.stack.connected)}\n    plugin: {self.plugin.lines}\n    stack: {self.stack.words}\n"
            f"    command: {' '.join(self.stack.command)}"
            + (f"\n    left out of the replay: {', '.join(self.stack.dropped)}" if self.stack.dropped else "")
        )


def client_block(stdout: str, profile: ClientProfile) -> list[str]:
    """The profile's line in -v output and the indented lines under it."""
    lines = stdout.split("\n")
    head = f"client {profile.title} ("
    for index, line in enumerate(lines):
        if line.startswith(head) and re.match(r"\(TLS [^)]*\): ", line[len(head) - 1 :]):
            block = [line]
            for following in lines[index + 1 :]:
                if not following.startswith("  "):
                    break
                block.append(following)
            return block
    raise AssertionError(f"no line for client {profile.title} in the output:\n{stdout}")


def named_as_failing(stdout: str, titles: list[str]) -> set[str]:
    """The titles a "X, Y and Z cannot connect" sentence names (first line or long output)."""
    named = set()
    for found in re.finditer(r"(?:^|: | / )([^:/\n]*?) cannot connect", stdout, re.M):
        subject = found.group(1)
        for title in titles:
            escaped = re.escape(title)
            if re.fullmatch(rf"(?:.*(?:, | and ))?{escaped}(?:(?:, | and ).*)?", subject):
                named.add(title)
    return named


def cut(run: Run) -> bool:
    """Whether the plugin cut its long output (it ends with "... N more lines")."""
    return re.search(r"^\.\.\. \d+ more lines?$", run.stdout, re.M) is not None


def plugin_verdicts(run: Run, profiles: list[ClientProfile]) -> dict[str, PluginVerdict]:
    """Each client's verdict as the CLI shows it: its line says "accepted" and nothing under it says it cannot
    connect or refuses the certificate. Checked against the "cannot connect" words and the exit status."""
    assert not cut(run), f"output cut: fewer clients per run\n{run.stdout}"
    out: dict[str, PluginVerdict] = {}
    for profile in profiles:
        block = client_block(run.stdout, profile)
        outcome = block[0].split("): ", 1)[1].split(":", 1)[0].split(",", 1)[0]
        failing = any(line.startswith(("  cannot connect:", "  refuses the certificate:")) for line in block[1:])
        out[profile.name] = PluginVerdict(outcome == "accepted" and not failing, outcome, "\n      ".join(block))
    named = named_as_failing(run.stdout, [p.title for p in profiles])
    connected_titles = {p.title for p in profiles if out[p.name].connected}
    assert not named & connected_titles, f"named as failing yet accepted: {named & connected_titles}\n{run.stdout}"
    if all(v.connected for v in out.values()):
        assert run.code == 0, f"every client connects and the certificate is good: OK, not {run.code}:\n{run.stdout}"
    else:
        assert run.code == 2, f"a client cannot connect, so CRITICAL (exit 2), not {run.code}:\n{run.stdout}"
    return out


@dataclass
class World:
    servers: dict[str, Target]
    runs: dict[str, list[Run]] = field(default_factory=dict)
    plugin: dict[str, dict[str, PluginVerdict]] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    postfix_profile: str | None = None
    seconds: float = 0.0

    def case(self, server: str, profile: str, stack: str) -> Case:
        found = [c for c in self.cases if c.key == (server, profile, stack)]
        assert found, f"no case {server} / {profile} / {stack}"
        return found[0]

    def disagreements(self, server: str | None = None) -> list[Case]:
        return [c for c in self.cases if not c.agrees and c.key not in DIFFERENT and server in (None, c.server)]


def write_server_files(pki: Pki, directory: Path) -> dict[str, tuple[str, str, str]]:
    """key name -> (leaf, key, intermediate) PEM files of a 90-day leaf for NAME from the test intermediate."""
    keys: dict[str, Key] = {
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "rsa2048": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa4096": rsa.generate_private_key(public_exponent=65537, key_size=4096),
    }
    files = {}
    for name, key in keys.items():
        leaf = issue(NAME, key, pki.intermediate, NOW - timedelta(days=30), NOW + timedelta(days=60), False, (NAME,))
        paths = tuple(directory / f"{name}.{part}.pem" for part in ("leaf", "key", "chain"))
        paths[0].write_bytes(leaf.pem)
        paths[1].write_bytes(leaf.key_pem)
        paths[2].write_bytes(pki.intermediate.pem)
        files[name] = (str(paths[0]), str(paths[1]), str(paths[2]))
    return files


class Job(NamedTuple):
    server: str
    profile: str
    stack: str
    run: Callable[[], Verdict]


def stack_jobs(
    server: str, target: Target, db: NssDb, postfix: tuple[ClientProfile, PostfixConfig] | None
) -> list[Job]:
    """Every stack's replay of every profile it can replay, against one server."""
    jobs: list[Job] = []
    for name, profile in PROFILES.items():
        jobs.append(Job(server, name, OPENSSL, functools.partial(s_client, profile, target)))
        if name == "exim-gnutls":  # Exim gives GnuTLS "NORMAL" (its tls_require_ciphers default)
            jobs.append(Job(server, name, GNUTLS, functools.partial(gnutls_cli, profile, target, "NORMAL")))
        elif gnutls_priority(profile) is not None:
            jobs.append(Job(server, name, GNUTLS, functools.partial(gnutls_cli, profile, target)))
    jobs.append(Job(server, "thunderbird", NSS, functools.partial(tstclnt, PROFILES["thunderbird"], target, db)))
    if postfix is not None:
        profile, config = postfix
        jobs.append(Job(server, profile.name, POSTFIX, functools.partial(posttls_finger, profile, target, config)))
    return jobs


def plugin_runs(targets: dict[str, Target], ca_file: str) -> dict[str, list[tuple[list[str], Run]]]:
    """The CLI against every server with every profile, -v for each client's line: server -> (profiles, run).

    The long output is bounded (60 lines): a run whose output was cut is made again in two halves.
    """

    def plugin(server: str, names: list[str]) -> list[tuple[list[str], Run]]:
        port = str(targets[server].port)
        args = ("-H", "127.0.0.1", "--servername", NAME, "-p", port, "-P", "tls", "--ca-file", ca_file)
        run = check(*args, "-v", *clients(*names), timeout=60)
        if not cut(run) or len(names) == 1:
            return [(names, run)]
        half = len(names) // 2
        return plugin(server, names[:half]) + plugin(server, names[half:])

    names = list(PROFILES)
    groups = [names[start : start + CLIENTS_PER_RUN] for start in range(0, len(names), CLIENTS_PER_RUN)]
    # Group-major: the runs made at one time are against different servers (each answers one connection at a time).
    work = [(server, group) for group in groups for server in targets]
    out: dict[str, list[tuple[list[str], Run]]] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for (server, _group), made in zip(work, pool.map(lambda job: plugin(*job), work), strict=True):
            out.setdefault(server, []).extend(made)
    return out


def stack_verdicts(jobs_by_server: list[list[Job]]) -> list[tuple[Job, Verdict]]:
    """Every job's verdict, in threads: round robin over the servers, so that the jobs at one time are against
    different servers; posttls-finger last, as it holds its server for the greeting's timeout."""
    jobs = [per[index] for index in range(max(map(len, jobs_by_server))) for per in jobs_by_server if index < len(per)]
    jobs.sort(key=lambda job: job.stack == POSTFIX)
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(zip(jobs, pool.map(lambda job: job.run(), jobs), strict=True))


@pytest.fixture(scope="module")
def world(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require("openssl", "gnutls-cli", "tstclnt", "certutil", "postfix")
    started = time.monotonic()
    directory = tmp_path_factory.mktemp("differential")
    files = write_server_files(pki, directory)
    db = NssDb(directory / "nssdb", pki.root_file)
    where = mail_server_root("postfix")
    config = PostfixConfig(where)
    finger = postfix_profile(PROFILES.values(), postfix_version(where))
    running: dict[str, OpenSslServer] = {}
    try:
        for server in SERVERS:
            leaf, key, chain = files[server.cert]
            options = ["-cert", leaf, "-key", key, "-cert_chain", chain, "-www", *server.options]
            if "-verify" in options or "-Verify" in options:  # the CA names the request carries
                options += ["-CAfile", pki.root_file]
            running[server.name] = OpenSslServer(*options)
        targets = {name: Target(s.port, NAME, pki.root_file) for name, s in running.items()}
        found = World(targets, postfix_profile=finger.name if finger else None)
        # The CLI first, alone with the servers; then the stacks.
        for name, made in plugin_runs(targets, pki.root_file).items():
            for names, run in made:
                found.runs.setdefault(name, []).append(run)
                found.plugin.setdefault(name, {}).update(plugin_verdicts(run, [PROFILES[n] for n in names]))
        postfix = (finger, config) if finger else None
        jobs = [stack_jobs(s.name, targets[s.name], db, postfix) for s in SERVERS]
        found.cases = [
            Case(job.server, job.profile, found.plugin[job.server][job.profile], verdict)
            for job, verdict in stack_verdicts(jobs)
        ]
        found.seconds = time.monotonic() - started
        yield found
    finally:
        for server_process in running.values():
            server_process.stop()
        shutil.rmtree(config.directory, ignore_errors=True)


def table(cases: list[Case]) -> str:
    return "\n".join(case.describe() for case in cases)


def test_every_case_agrees_with_the_real_stacks(world: World) -> None:
    """The whole set: the plugin's verdict is each real stack's, or the difference is documented in DIFFERENT."""
    different = world.disagreements()
    stacks = {case.stack.stack for case in world.cases}
    print(
        f"\n{len(SERVERS)} servers, {len(world.cases)} cases ({', '.join(sorted(stacks))}), "
        f"{len(world.cases) - len(different)} agree, {world.seconds:.1f} s"
    )
    assert not different, f"{len(different)} of {len(world.cases)} cases differ:\n{table(different)}"
    # A documented difference that no longer differs is stale: the entry must go.
    stale = [key for key in DIFFERENT if world.case(*key).agrees]
    assert not stale, f"DIFFERENT entries that now agree: {stale}"


def test_every_stack_ran_and_every_plugin_probe_answered(world: World) -> None:
    """No stack left out silently, and each plugin probe got an answer (accepted or rejected, not failed)."""
    stacks = {case.stack.stack for case in world.cases}
    assert stacks == {OPENSSL, GNUTLS, NSS, POSTFIX}, stacks
    for server in SERVERS:
        own = [c for c in world.cases if c.server == server.name]
        assert {c.profile for c in own if c.stack.stack == OPENSSL} == set(PROFILES), server.name
        assert any(c.profile == "thunderbird" for c in own if c.stack.stack == NSS), server.name
        assert any(c.profile == "exim-gnutls" for c in own if c.stack.stack == GNUTLS), server.name
        # GnuTLS replays only offers it can express exactly: 13 profiles when this test was written (2026-12-03).
        # Fewer means a change in gnutls_priority or in the catalogue took profiles out of this oracle's reach.
        replayed = {c.profile for c in own if c.stack.stack == GNUTLS}
        assert len(replayed) >= 13, (server.name, sorted(replayed))
    failed = {(s, p): v.lines for s, verdicts in world.plugin.items() for p, v in verdicts.items()}
    failed = {key: lines for key, lines in failed.items() if not re.match(r"client .*?: (accepted|rejected)", lines)}
    assert not failed, failed


@pytest.mark.parametrize("server", SERVERS, ids=[s.name for s in SERVERS])
def test_each_server_axis(world: World, server: Server) -> None:
    """Per axis: no difference, and the spot checks hold for the plugin and for every stack that replays the
    profile (so a stack that connects to nothing, or to everything, fails here)."""
    different = world.disagreements(server.name)
    assert not different, f"{server.name} ({server.axis}):\n{table(different)}"
    for names, want in ((server.refused, False), (server.connects, True)):
        for name in names:
            verdict = world.plugin[server.name][name]
            assert verdict.connected is want, f"{server.name}: plugin for {name}:\n{verdict.lines}"
            cases = [c for c in world.cases if c.server == server.name and c.profile == name]
            assert cases, (server.name, name)
            wrong = [c for c in cases if c.stack.connected is not want]
            assert not wrong, f"{server.name} ({server.axis}), {name} should {'' if want else 'not '}connect:\n" + (
                table(wrong)
            )


def test_the_oracle_discriminates_the_incident(world: World) -> None:
    """s_client replaying Apple Mail's TLS 1.2-only offer connects to the baseline and is refused by the
    incident's server, on OpenSSL's own words; the plugin names Apple Mail in the first line."""
    good = world.case("baseline", "apple-mail", OPENSSL)
    bad = world.case("tls12-rsa-suites", "apple-mail", OPENSSL)
    assert good.stack.connected, good.describe()
    assert not bad.stack.connected and "alert handshake failure" in bad.stack.words, bad.describe()
    assert bad.stack.command[bad.stack.command.index("-max_protocol") + 1] == "TLSv1.2", bad.describe()
    run = next(r for r in world.runs["tls12-rsa-suites"] if "client Apple Mail (" in r.stdout)
    assert run.first_line.startswith("TLS_MAIL CRITICAL - "), run.stdout
    assert "Apple Mail" in run.first_line and "cannot connect over TLS 1.2" in run.first_line, run.stdout
    assert "Apple Mail" in named_as_failing(run.stdout, [p.title for p in PROFILES.values()]), run.stdout


def test_thunderbirds_own_library_and_exims_gnutls_discriminate(world: World) -> None:
    """NSS (Thunderbird) and GnuTLS NORMAL (Exim) each connect where the other does not: a TLS 1.3 server with
    only TLS_AES_128_CCM_SHA256, which GnuTLS offers and NSS does not; and every server but a few lets both in."""
    nss = {c.server: c.stack.connected for c in world.cases if c.stack.stack == NSS}
    exim = {c.server: c.stack.connected for c in world.cases if c.stack.stack == GNUTLS and c.profile == "exim-gnutls"}
    assert nss["tls13-ccm"] is False and exim["tls13-ccm"] is True
    assert nss["baseline"] is True and exim["baseline"] is True
    assert nss["client-cert-required"] is False and exim["client-cert-required"] is False


def test_posttls_finger_replays_the_postfix_installed_here(world: World) -> None:
    """posttls-finger is the installed Postfix's client: the catalogue's profile of this Postfix version."""
    assert world.postfix_profile in ("postfix", "postfix-3.10"), world.postfix_profile
    postfix = {c.server: c.stack.connected for c in world.cases if c.stack.stack == POSTFIX}
    assert len(postfix) == len(SERVERS)
    assert postfix["baseline"] and not postfix["client-cert-required"] and not postfix["tls13-ccm"]


def test_the_stacks_are_the_ones_debian_ships() -> None:
    """The oracles are Debian's binaries, not something on PATH that only looks like them."""
    require("openssl", "gnutls-cli", "tstclnt")
    for command in ("openssl", "gnutls-cli", "tstclnt", "certutil"):
        path = shutil.which(command)
        assert path is not None and path.startswith("/usr/bin/"), (command, path)
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, timeout=30, check=False)
        assert owner.returncode == 0, (command, owner.stderr)
