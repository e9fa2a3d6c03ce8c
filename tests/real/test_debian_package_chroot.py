"""The Debian package (``bash scripts/build-deb``) on a fresh Debian 13, as an operator installs it (issue 25).

Slow: a few minutes a run (the package's CLI tests in the chroot take most of
it), and some ten more the first time, when the chroot is built and cached.
The module builds the package from this checkout on the host, then works in a
throwaway overlay of a cached ``debootstrap --variant=minbase trixie`` chroot
that has only what the tests use beside the package (``PackageChroot``): none
of the package's dependencies, so apt must fetch them. The tests run in file
order on one installation: lintian, the install with apt, where the files are
(the manual page through ``man``), the plugin run as ``nagios``, a real Icinga
2 validating a service with the installed CheckCommand, a hybrid (ML-KEM) key
share sent with Debian's cryptography, the suite's CLI tests against the
installed package, and last the purge, which must leave the chroot as it was.

The module's name holds "chroot": the suite's second run, inside a Debian 13
chroot (scripts/trixie.py), leaves out such tests (``-k 'not chroot'``), as it
has no debootstrap there, and this module makes its own Debian 13.

Packages go into the chroot with service control disabled and in a PID
namespace of their own (``Chroot.isolated``); the commands that need /dev,
/proc and /sys run in a mount and PID namespace that ends with them
(``MOUNTED``), so nothing started there outlives the command or reaches the host; the servers
of the hybrid-share test and of the suite's CLI tests, in a network namespace of their own too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pki import Pki
from realservers import Chroot, base_directory, mount_namespace
from runs import IN_CI, ROOT, check, require

from check_tls_mail import __version__
from check_tls_mail.cli.arguments import parser
from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.tls.registry import GROUP_CODES

X25519MLKEM768 = GROUP_CODES["X25519MLKEM768"]


class PackageChroot(Chroot):
    """Debian 13 minbase with what the tests use beside the package, and nothing the package depends on.

    man-db for ``man``; icinga2 (its icinga2-common makes the ``nagios`` user, as nagios4 and
    nagios-nrpe-server do); lintian; Debian's pytest and hypothesis for the suite; and the programs
    tests/process starts: openssl (also the hybrid-share server: OpenSSL 3.5), gnutls-bin, knot,
    unbound, locales. None of them pulls in python3-cryptography, -nagiosplugin or -dnspython
    (``test_apt_fetches_the_dependencies_from_the_archive`` checks that they are absent before).
    """

    SUITE = "trixie"
    NAME = "trixie-deb"
    PACKAGES = (
        "man-db",
        "icinga2",
        "lintian",
        "python3-pytest",
        "python3-hypothesis",
        # Recommended by those two, and pulled in by the package's dependencies (python3-httpx, python3-rich):
        # apt's autoremove keeps what an installed package recommends, so they belong to the chroot from the start.
        "python3-click",
        "python3-pygments",
        "openssl",
        "gnutls-bin",
        "knot",
        "unbound",
        "locales",
    )

    def after_install(self) -> None:
        (self.root / "etc/hosts").write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")
        (self.root / "src").mkdir(exist_ok=True)  # where MOUNTED puts a run's own files


#: Runs as PID 1 of a PID namespace of its own: $1 the chroot, $2 a host directory for /src, then the command;
#: /proc (of that namespace), /sys, /dev and /src mounted for the run only.
MOUNTED = r"""
set -eu
root=$1 src=$2
shift 2
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount --bind "$src" "$root/src"
set +e
chroot "$root" "$@"
status=$?
kill -KILL -1 2>/dev/null  # as PID 1 of this namespace: every process the run left, so that nothing holds a mount
sleep 0.2
for dir in src dev sys proc; do umount -R "$root/$dir"; done
exit $status
"""

PLUGIN = "/usr/lib/nagios/plugins/check_tls_mail"
SITE = "/usr/lib/python3/dist-packages"
DEPENDENCIES = ("python3-cryptography", "python3-nagiosplugin", "python3-dnspython")
#: What the purge comparison leaves out: apt's and dpkg's own records and caches, logs, and the run's scratch space.
VOLATILE = (
    "var/cache/",
    "var/lib/apt/",
    "var/lib/dpkg/",
    "var/log/",
    "tmp/",
    "var/tmp/",
    "root/",
    "src/",
    "proc/",
    "sys/",
    "dev/",
)


#: Python that brings a new network namespace's loopback up (``ip link set lo up``; minbase has no iproute2).
LOOPBACK_UP = (
    "import fcntl, socket, struct; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
    'flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, struct.pack("16sh", b"lo", 0)))[1]; '
    'fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))'
)


@dataclass
class Debian:
    """The overlay the package is installed in, and how to run commands there."""

    chroot: Chroot
    deb: Path
    src: Path  # the host directory that is /src in the chroot
    before: set[str]  # the chroot's files before the package (files())

    def run(
        self, script: str, *arguments: str, timeout: float = 600, own_network: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """``sh -c SCRIPT`` in the chroot with /proc, /sys, /dev and /src, in namespaces that end with it.

        ``own_network``: in a network namespace of its own too, with nothing but loopback, so that the servers
        the run starts cannot meet the host's (the suite's MTA-STS world takes port 443 of 127.83.84.x).
        """
        environment = [*self.chroot.ENV, f"CI={os.environ.get('CI', '')}", "DEBIAN_FRONTEND=noninteractive"]
        if own_network:
            script = f"python3 -c '{LOOPBACK_UP}' || exit 1\n{script}"
        command = [
            "unshare", "--pid", "--fork", "--kill-child", *(["--net"] if own_network else []), *mount_namespace(),
            "sh", "-c", MOUNTED, "sh", str(self.chroot.root), str(self.src),
            "/usr/bin/env", "-i", *environment, "sh", "-c", script, "sh", *arguments,
        ]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def ok(self, script: str, *arguments: str, timeout: float = 600) -> str:
        result = self.run(script, *arguments, timeout=timeout)
        assert result.returncode == 0, f"$ {script}\n{result.stdout}\n{result.stderr}"
        return result.stdout


def files(root: Path) -> set[str]:
    """Every path under ``root`` (not following links), relative, but the volatile ones."""
    found = set()
    for directory, subdirectories, names in os.walk(root):
        relative = os.path.relpath(directory, root)
        prefix = "" if relative == "." else relative + "/"
        subdirectories[:] = [d for d in subdirectories if not (prefix + d + "/").startswith(VOLATILE)]
        for name in subdirectories + names:
            found.add(prefix + name)
    return found


def build(directory: Path) -> Path:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-deb"), "--output", str(directory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    deb = Path(result.stdout.strip().splitlines()[-1])
    assert deb.name == f"check-tls-mail_{__version__}_all.deb", result.stdout
    return deb


@pytest.fixture(scope="module")
def debian() -> Iterator[Debian]:
    """The package built from this checkout, in a fresh overlay of the cached Debian 13, apt's indexes fetched anew."""
    require("debootstrap", "unshare", "chroot", "mount", "dpkg-deb")
    directory = base_directory("debian-package")
    try:
        deb = build(directory / "dist")
        base = PackageChroot()
        base.ensure()
        with base.overlay(directory / "overlay") as chroot:
            src = directory / "src"
            src.mkdir()
            shutil.copy(deb, src / deb.name)
            world = Debian(chroot, deb, src, before=set())
            world.ok("apt-get update -q", timeout=900)  # the cached chroot's indexes may name superseded versions
            world.before = files(chroot.root)
            yield world
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(directory)], check=False, timeout=600)


def test_lintian_reports_no_errors(debian: Debian) -> None:
    """Debian 13's lintian on the package: no error, and no warning but those docs/debian-package.md explains."""
    result = debian.run(f"lintian --no-cfg --display-info /src/{debian.deb.name}")
    tags = re.findall(r"^([EWIXP]): check-tls-mail[^:]*: (\S+)", result.stdout, re.M)
    assert result.returncode == 0 and not [t for level, t in tags if level == "E"], result.stdout + result.stderr
    assert {t for level, t in tags if level == "W"} <= EXPLAINED_WARNINGS, result.stdout


#: lintian warnings the package has on purpose (docs/debian-package.md says why).
EXPLAINED_WARNINGS: set[str] = set()


def test_apt_fetches_the_dependencies_from_the_archive(debian: Debian) -> None:
    for package in DEPENDENCIES:
        status = debian.run(f"dpkg-query -W -f='${{Status}}' {package}").stdout
        assert "install ok installed" not in status, f"{package} was there before the package"
    result = debian.run("cd /src && apt-get install -y -q ./check-tls-mail_*.deb", timeout=900)  # as README.Debian says
    assert result.returncode == 0, result.stdout + result.stderr
    fetched = set(re.findall(r"^Get:\d+ \S+ \S+ \S+ (\S+) ", result.stdout, re.M))
    assert set(DEPENDENCIES) <= fetched, result.stdout  # from the Debian mirror, not already there
    status = debian.ok("dpkg-query -W -f='${Status} ${Version}\n' check-tls-mail")
    assert status == f"install ok installed {__version__}\n"
    # Each library the plugin imports is a file of its Debian package: no pip, no PyPI, nothing in /usr/local.
    imported = debian.ok(
        "python3 -c 'import cryptography, nagiosplugin, dns.resolver, check_tls_mail as c; "
        "print(cryptography.__file__, nagiosplugin.__file__, dns.__file__, c.__file__)'"
    ).split()
    owners = debian.ok('dpkg -S "$@" | cut -d: -f1', *imported).split()
    assert owners == [*DEPENDENCIES, "check-tls-mail"], (imported, owners)
    assert not debian.run("command -v pip pip3").stdout
    assert debian.run("ls -A /usr/local/lib/python3*/dist-packages 2>/dev/null").stdout == ""


def test_the_files_are_where_the_engines_and_man_look(debian: Debian) -> None:
    listed = set(debian.ok("dpkg -L check-tls-mail").split())
    assert {
        PLUGIN,
        f"{SITE}/check_tls_mail/__init__.py",
        f"{SITE}/check_tls_mail/clients/profiles.json",
        "/usr/share/man/man1/check_tls_mail.1.gz",
        "/usr/share/check-tls-mail/icinga2/command-tls_mail.conf",
        "/usr/share/doc/check-tls-mail/examples/nagios/check_tls_mail.cfg",
        "/usr/share/doc/check-tls-mail/examples/nrpe/check_tls_mail.cfg",
        "/usr/share/doc/check-tls-mail/examples/icinga2/services-tls_mail.conf",
    } <= listed
    assert not [path for path in listed if path.endswith(".pyc") or "__pycache__" in path]  # compiled by postinst
    assert debian.ok(f"ls {SITE}/check_tls_mail/__pycache__ | grep -c 'cpython-.*\\.pyc$'").strip() != "0"
    page = debian.ok("MANWIDTH=200 man check_tls_mail 2>&1")
    assert page.startswith("CHECK_TLS_MAIL(1)"), page[:500]
    for action in parser()._actions:
        for option in action.option_strings:
            assert re.search(rf"(^|[\s,\[]){re.escape(option)}\b", page), option


def test_the_plugin_runs_as_nagios(debian: Debian) -> None:
    """Debian's icinga2 (like nagios4 and nagios-nrpe-server) made the user; the package made none."""
    result = debian.run(f"su -s /bin/sh nagios -c '{PLUGIN} --version'")
    assert (result.returncode, result.stdout) == (0, f"check_tls_mail {__version__}\n"), result.stderr
    scripts = debian.ok("ls /var/lib/dpkg/info/ | grep '^check-tls-mail\\.' | sed 's/^check-tls-mail\\.//'").split()
    assert sorted(scripts) == ["list", "md5sums", "postinst", "prerm"]  # no conffiles, no user made
    assert "useradd" not in debian.ok("cat /var/lib/dpkg/info/check-tls-mail.postinst")


#: A host and a service as an operator writes them (conf.d), using the package's CheckCommand.
ICINGA2_OBJECTS = """
object Host "mail.example.org" {
  check_command = "hostalive"
  address = "192.0.2.25"
}
object Service "tls-mail-imaps" {
  host_name = "mail.example.org"
  check_command = "tls_mail"
  vars.tls_mail_protocol = "imaps"
  vars.tls_mail_client = [ "apple-mail", "outlook" ]
  vars.tls_mail_warning = "21"
}
"""
INCLUDE = 'include "/usr/share/check-tls-mail/icinga2/command-tls_mail.conf"'


def test_icinga2_validates_a_service_with_the_installed_checkcommand(debian: Debian) -> None:
    """Debian's own /etc/icinga2 plus the one include line README.Debian gives; without the line it fails."""
    objects = debian.chroot.root / "etc/icinga2/conf.d/check-tls-mail-test.conf"
    config = debian.chroot.root / "etc/icinga2/icinga2.conf"
    original = config.read_text()
    assert "include <plugins-contrib>" in original
    objects.write_text(ICINGA2_OBJECTS)
    try:
        without = debian.run("icinga2 daemon -C 2>&1")
        assert without.returncode != 0 and "tls_mail" in without.stdout, without.stdout[-3000:]
        config.write_text(original.replace("include <plugins-contrib>", f"include <plugins-contrib>\n{INCLUDE}", 1))
        validated = debian.run("icinga2 daemon -C --dump-objects 2>&1")
        assert validated.returncode == 0, validated.stdout[-3000:]
        command = debian.ok("icinga2 object list --type CheckCommand --name tls_mail 2>&1")
        assert f'* command = [ "{PLUGIN}" ]' in command, command
    finally:  # the operator's files as they were, for the purge's comparison
        objects.unlink()
        config.write_text(original)
    assert "icinga2-common" in debian.ok("dpkg -S /usr/share/icinga2/include/plugins-contrib.d")
    assert "check-tls-mail" not in debian.ok("dpkg -S /usr/share/icinga2 2>&1 || true")


def test_the_installed_plugin_sends_a_hybrid_key_share(debian: Debian) -> None:
    """Debian 13's cryptography (43) has no ML-KEM, and needs none: the hellos carry fixed shares (shares.py).

    ``openssl s_server`` (Debian 13's OpenSSL 3.5) accepts X25519MLKEM768 and nothing else, over TLS 1.3:
    the profiles whose hello has that share connect without a retry, one whose hello lacks the group fails.
    """
    hellos = {name: catalogue().profiles[name].hello("mail.example.test") for name in ("android", "gmail", "outlook")}
    assert [X25519MLKEM768 in hellos[name].key_share_groups for name in hellos] == [True, True, False]
    assert X25519MLKEM768 not in hellos["outlook"].supported_groups  # no HelloRetryRequest can help it
    (debian.src / "pki").mkdir()
    pki = Pki(debian.src / "pki")
    leaf = pki.leaf(("mail.example.test",), key_type="ECDSA", issuer=pki.root)  # no intermediate to send
    chain, key = leaf.write(debian.src / "pki", "hybrid")
    inside = {path: "/src/" + str(Path(path).relative_to(debian.src)) for path in (chain, key, pki.root_file)}
    script = r"""
cert=$1 key=$2 ca=$3 port=$4
openssl s_server -accept 127.0.0.1:$port -cert "$cert" -key "$key" -tls1_3 -groups X25519MLKEM768 -trace \
  </dev/zero >/tmp/s_server.log 2>&1 &
server=$!
for _ in $(seq 100); do grep -q ACCEPT /tmp/s_server.log && break; sleep 0.1; done
run() { su -s /bin/sh nagios -c "$*"; echo "EXIT $?"; }
args="-H 127.0.0.1 -p $port -P tls --servername mail.example.test --ca-file $ca"
echo "== hybrid"; run /usr/lib/nagios/plugins/check_tls_mail $args --client android --client gmail -v
echo "== classic"; run /usr/lib/nagios/plugins/check_tls_mail $args --client outlook
kill $server
echo "== trace"; grep -E "key_share|NamedGroup|X25519MLKEM768|HelloRetryRequest" /tmp/s_server.log | sort | uniq -c
"""
    for path in (debian.src / "pki").iterdir():
        path.chmod(0o644)  # the plugin runs as nagios
    result = debian.run(
        script, inside[chain], inside[key], inside[pki.root_file], "4433", own_network=True, timeout=300
    )
    out = result.stdout + result.stderr
    hybrid, rest = out.split("== hybrid\n", 1)[1].split("== classic\n", 1)
    classic, trace = rest.split("== trace\n", 1)
    assert hybrid.startswith("TLS_MAIL OK - ") and "EXIT 0" in hybrid, out
    assert "X25519MLKEM768" in hybrid, out  # -v names the group of each accepted handshake
    assert classic.startswith("TLS_MAIL CRITICAL - ") and "EXIT 2" in classic, out
    assert "X25519MLKEM768" in trace and "HelloRetryRequest" not in trace, out


def test_the_package_lists_the_same_clients_and_hellos_as_the_checkout(debian: Debian) -> None:
    """With Debian's libraries nothing of --list-clients -v changes: profiles, hellos (hybrid shares too), rules."""
    installed = debian.ok(f"{PLUGIN} --list-clients -v")
    assert installed == check("--list-clients", "-v").stdout
    assert "X25519MLKEM768" in installed


#: The suite's tests of the CLI as a process, run in the chroot by Debian's pytest against the installed package.
CLI_TESTS = (
    "tests/process",
    # Which of the plugin's 7 simultaneous connections the server takes first is the scheduler's choice, and the
    # test expects the first handshake's: it fails about 1 run in 6 on the host too, with the checkout's CLI.
    "--deselect",
    "tests/process/test_connection_limits.py::test_a_server_that_serves_only_its_first_connection_is_a_connection_problem",
)


def test_the_suites_cli_tests_pass_against_the_installed_package(debian: Debian) -> None:
    """tests/process in the chroot, where check_tls_mail is the installed package, not this checkout.

    The suite's runs.check() runs ``python -m check_tls_mail`` in its ROOT with PYTHONPATH=ROOT: there ROOT is a
    copy of tests/ (with pyproject.toml, setup.cfg and captures/, which tests read) whose check_tls_mail is a link to
    the installed package, so the CLI, the tests' own imports and the files they read are the installed ones.
    """
    suite = debian.src / "suite"
    suite.mkdir()
    shutil.copytree(ROOT / "tests", suite / "tests", ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    for name in ("pyproject.toml", "setup.cfg"):
        shutil.copy(ROOT / name, suite / name)
    shutil.copytree(ROOT / "captures", suite / "captures")  # the recorded hellos the tests parse theirs against
    (suite / "check_tls_mail").symlink_to(f"{SITE}/check_tls_mail")
    for path in [suite, *suite.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)  # test_operator runs the CLI as nagios from there
    where = debian.ok(
        "cd /src/suite && PYTHONPATH=/src/suite python3 -c "
        "'import os, check_tls_mail; print(os.path.realpath(check_tls_mail.__file__))'"
    )
    assert where == f"{SITE}/check_tls_mail/__init__.py\n"
    pytest = 'cd /src/suite && exec python3 -m pytest -p no:cacheprovider -q "$@"'
    result = debian.run(pytest, *CLI_TESTS, own_network=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert re.search(r"^\d+ passed", result.stdout.splitlines()[-1]), result.stdout[-2000:]
    if IN_CI:
        assert "skipped" not in result.stdout.splitlines()[-1], result.stdout[-3000:]


def test_purge_leaves_the_chroot_as_it_was(debian: Debian) -> None:
    """Last: ``apt-get purge --autoremove`` takes the package and what it pulled in, and every file with them."""
    listed = debian.ok("dpkg -L check-tls-mail").split()
    shutil.rmtree(debian.src / "suite", ignore_errors=True)
    debian.ok("apt-get purge -y -q --autoremove check-tls-mail", timeout=900)
    assert "check-tls-mail" not in debian.run("dpkg -l check-tls-mail 2>&1").stdout.split("\n", 5)[-1]
    left = [path for path in listed if (debian.chroot.root / path.lstrip("/")).exists() and path.count("/") > 3]
    assert not [path for path in left if "check_tls_mail" in path or "check-tls-mail" in path], left
    after = files(debian.chroot.root)
    assert (sorted(after - debian.before), sorted(debian.before - after)) == ([], [])
