"""scripts/install and scripts/uninstall as an operator runs them, and the chroots' package installs.

Each install goes to private paths under /var/tmp (PREFIX, PLUGINDIR, BINDIR)
and uses the system's /usr/bin/python3, as on a monitoring host; the result is
run as the ``nagios`` user, who runs Nagios', NRPE's and Icinga 2's plugins on
Debian. The offline install runs with no network at all (``unshare --net``).
Last, a package installed into a test chroot must leave host processes alone.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from realservers import ChrootStack, base_directory, mount_namespace
from runs import IN_CI, ROOT, require

from check_tls_mail import __version__

SYSTEM_PYTHON = "/usr/bin/python3"


class Layout:
    """One installation's paths: PREFIX, PLUGINDIR and BINDIR under a private directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.prefix = directory / "opt" / "check_tls_mail"
        self.plugin_dir = directory / "plugins"
        self.bin_dir = directory / "bin"

    @property
    def plugin(self) -> Path:
        return self.plugin_dir / "check_tls_mail"

    @property
    def settings(self) -> dict[str, str]:
        return {"PREFIX": str(self.prefix), "PLUGINDIR": str(self.plugin_dir), "BINDIR": str(self.bin_dir)}

    def run(
        self, script: str, *options: str, source: Path = ROOT, wrap: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*wrap, "bash", str(source / "scripts" / script), *options],
            env={**os.environ, **self.settings},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def install(self, *options: str, source: Path = ROOT) -> subprocess.CompletedProcess[str]:
        result = self.run("install", *options, source=source)
        assert result.returncode == 0, result.stdout + result.stderr
        return result


def as_nagios(command: str) -> subprocess.CompletedProcess[str]:
    try:
        pwd.getpwnam("nagios")
    except KeyError:
        if IN_CI:
            pytest.fail("no user nagios with CI=true: .ci/setup installs the packages that create it")
        pytest.skip("no user nagios (created by nagios4, icinga2 or nagios-nrpe-server)")
    return subprocess.run(
        ["su", "-s", "/bin/sh", "nagios", "-c", command], capture_output=True, text=True, timeout=60, check=False
    )


def system_python_version() -> str:
    return subprocess.run(
        [SYSTEM_PYTHON, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def layout() -> Iterator[Layout]:
    """One installation from this checkout, shared by the tests that inspect and upgrade it."""
    require(SYSTEM_PYTHON, "su")
    directory = base_directory("install")
    layout = Layout(directory)
    layout.install()
    yield layout
    shutil.rmtree(directory, ignore_errors=True)


def test_the_plugin_runs_as_nagios_from_the_plugin_directory(layout: Layout) -> None:
    assert layout.plugin.is_symlink()
    assert os.readlink(layout.plugin) == str(layout.prefix / "bin" / "check_tls_mail")
    result = as_nagios(f"{layout.plugin} --version")
    assert (result.returncode, result.stdout) == (0, f"check_tls_mail {__version__}\n"), result.stderr


def test_the_command_is_on_path_and_runs_on_the_system_python(layout: Layout) -> None:
    result = subprocess.run(
        ["check_tls_mail", "--version"],
        env={"PATH": f"{layout.bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, f"check_tls_mail {__version__}\n"), result.stderr
    config = dict(
        line.split(" = ", 1) for line in (layout.prefix / "pyvenv.cfg").read_text().splitlines() if " = " in line
    )
    assert config["home"] == str(Path(SYSTEM_PYTHON).parent)
    assert config["version"] == system_python_version()
    script = (layout.prefix / "bin" / "check_tls_mail").read_text()
    assert script.startswith(f"#!{layout.prefix}/bin/python")  # the venv's interpreter, not the system's


def test_a_second_run_changes_nothing_and_a_new_version_is_installed_in_place(layout: Layout, tmp_path: Path) -> None:
    venv = (layout.prefix / "pyvenv.cfg").stat().st_ino
    link = layout.plugin.lstat()
    again = layout.install()
    assert "keeping the virtualenv" in again.stdout
    assert (layout.prefix / "pyvenv.cfg").stat().st_ino == venv
    assert (layout.plugin.lstat().st_ino, layout.plugin.lstat().st_mtime) == (link.st_ino, link.st_mtime)

    newer = tmp_path / "check_tls_mail-newer"  # the next release: this checkout with another version
    shutil.copytree(
        ROOT,
        newer,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", ".*_cache", ".hypothesis", "__pycache__"),
    )
    init = newer / "check_tls_mail" / "__init__.py"
    init.write_text(init.read_text().replace(f'__version__ = "{__version__}"', f'__version__ = "{__version__}.post1"'))
    files = sorted(p.relative_to(newer) for p in newer.rglob("*"))
    try:
        layout.install(source=newer)
        assert sorted(p.relative_to(newer) for p in newer.rglob("*")) == files  # no build/ nor egg-info left
        assert (layout.prefix / "pyvenv.cfg").stat().st_ino == venv  # upgraded in place, same virtualenv
        result = as_nagios(f"{layout.plugin} --version")
        assert result.stdout == f"check_tls_mail {__version__}.post1\n", result.stderr
    finally:
        layout.install()  # back to this checkout (a downgrade: the package is always replaced)
    assert as_nagios(f"{layout.plugin} --version").stdout == f"check_tls_mail {__version__}\n"


def test_another_interpreter_makes_the_virtualenv_anew(layout: Layout) -> None:
    """As after a release upgrade (Debian 12's Python 3.11 to 13's 3.13): the old virtualenv cannot serve."""
    marker = layout.prefix / ".check_tls_mail-install"
    marker.write_text(
        marker.read_text().replace(f"{SYSTEM_PYTHON} {system_python_version()}", f"{SYSTEM_PYTHON} 3.9.2")
    )
    result = layout.install()
    assert "the interpreter changed" in result.stdout
    assert f"python = {SYSTEM_PYTHON} {system_python_version()}" in marker.read_text()
    assert as_nagios(f"{layout.plugin} --version").stdout == f"check_tls_mail {__version__}\n"


def test_offline_install_from_a_wheelhouse_needs_no_network_and_uninstall_removes_it() -> None:
    require(SYSTEM_PYTHON, "unshare")
    directory = base_directory("offline")
    try:
        wheelhouse = directory / "wheelhouse"
        made = Layout(directory / "connected").run("install", "--download", str(wheelhouse))
        assert made.returncode == 0, made.stdout + made.stderr
        wheels = sorted(p.name for p in wheelhouse.iterdir())
        assert f"check_tls_mail-{__version__}-py3-none-any.whl" in wheels
        assert {w.split("-")[0] for w in wheels} >= {"cryptography", "nagiosplugin", "dnspython"}
        assert not (directory / "connected" / "opt").exists()  # --download installs nothing

        offline = Layout(directory / "offline")
        no_network = ("unshare", "--net")  # not even loopback is up
        result = offline.run("install", "--wheelhouse", str(wheelhouse), wrap=no_network)
        assert result.returncode == 0, result.stdout + result.stderr
        assert as_nagios(f"{offline.plugin} --version").stdout == f"check_tls_mail {__version__}\n"

        empty = directory / "empty"
        empty.mkdir()
        failed = Layout(directory / "nothing")
        nothing = failed.run("install", "--wheelhouse", str(empty), wrap=no_network)
        assert nothing.returncode != 0 and "installing from" in nothing.stderr  # the wheelhouse was all it had
        # The half-made virtualenv it left is its own: the next run makes it anew and completes.
        again = failed.run("install", "--wheelhouse", str(wheelhouse), wrap=no_network)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "an earlier install did not complete" in again.stdout
        assert as_nagios(f"{failed.plugin} --version").stdout == f"check_tls_mail {__version__}\n"

        other = offline.plugin_dir / "check_other"
        other.symlink_to("/bin/true")
        removed = offline.run("uninstall")
        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert not offline.prefix.exists() and not offline.plugin.exists() and not offline.plugin.is_symlink()
        assert not (offline.bin_dir / "check_tls_mail").is_symlink()
        assert other.is_symlink()  # not ours: left alone
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_install_and_uninstall_leave_what_they_did_not_make() -> None:
    directory = base_directory("foreign")
    try:
        layout = Layout(directory)
        layout.prefix.mkdir(parents=True)
        (layout.prefix / "keep").write_text("someone else's\n")
        refused = layout.run("install")
        assert refused.returncode == 1 and "is not a check_tls_mail installation" in refused.stderr
        assert layout.run("uninstall").returncode == 1
        assert (layout.prefix / "keep").read_text() == "someone else's\n"

        other = Layout(directory / "other")
        other.plugin_dir.mkdir(parents=True)
        other.plugin.write_text("#!/bin/sh\necho an older check_tls_mail\n")
        refused = other.run("install")
        assert refused.returncode == 1 and "exists and is not a link" in refused.stderr
        assert other.plugin.read_text() == "#!/bin/sh\necho an older check_tls_mail\n"
        assert not other.prefix.exists()  # refused before any work
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------- packages installed into a test chroot

STOPPER_POSTINST = """#!/bin/sh
# As sendmail-bin's maintainer scripts do: stop the daemon by its name.
log=/var/log/check-tls-mail-stopper.log
start-stop-daemon --stop --name {name} --oknodo --retry 5 >>$log 2>&1
echo "start-stop-daemon exit $?" >>$log
# As killall does: find it by name in /proc.
for comm in /proc/[0-9]*/comm; do
    if [ "$(cat "$comm" 2>/dev/null)" = {name} ]; then
        pid=${{comm#/proc/}}; pid=${{pid%/comm}}
        echo "found {name} as $pid" >>$log
        kill "$pid"
    fi
done
echo done >>$log
"""


def _stopper_deb(directory: Path, name: str) -> Path:
    """A package whose postinst stops every process named ``name``, as sendmail-bin's does for sendmail."""
    tree = directory / "stopper"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: check-tls-mail-stopper\nVersion: 1.0\nArchitecture: all\n"
        "Maintainer: check_tls_mail tests <root@localhost>\n"
        "Description: stops daemons by name in its postinst, as sendmail-bin does\n"
    )
    postinst = tree / "DEBIAN" / "postinst"
    postinst.write_text(STOPPER_POSTINST.format(name=name))
    postinst.chmod(0o755)
    deb = directory / "check-tls-mail-stopper_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)], check=True, capture_output=True)
    return deb


def test_a_chroot_package_install_leaves_host_processes_alone() -> None:
    """The sendmail and courier chroot's installs cannot stop a host's daemons, as sendmail-bin's once did.

    A host process with a name of its own stands for the host's sendmail. A
    package whose postinst stops that name (start-stop-daemon, and a /proc
    search as killall does) goes into a throwaway overlay of the cached
    chroot exactly as the chroot's packages do: the process survives. Then,
    as the control, the chroot's real start-stop-daemon with the host's /proc
    mounted, as before, stops it.
    """
    require("debootstrap", "unshare", "dpkg-deb", "mount")
    stack = ChrootStack()
    stack.ensure()
    name = "sendmail" + secrets.token_hex(3)  # 14 characters, within /proc/PID/comm's 15: only ours has it
    directory = base_directory("host-processes")
    shutil.copy("/bin/sleep", directory / name)
    host_daemon = subprocess.Popen([str(directory / name), "600"])
    try:
        deb = _stopper_deb(directory, name)
        with stack.overlay(directory / "overlay") as chroot:
            shutil.copy(deb, chroot.root / "tmp" / deb.name)
            chroot.install(f"/tmp/{deb.name}")
            log = (chroot.root / "var/log/check-tls-mail-stopper.log").read_text()
            assert "Fake start-stop-daemon called, doing nothing" in log, log
            assert "done" in log and f"found {name}" not in log, log  # the postinst ran and saw no host process
            assert host_daemon.poll() is None, log

            real = chroot.start_stop_daemon + ".REAL"
            control = subprocess.run(
                [
                    "unshare",
                    *mount_namespace(),
                    "sh",
                    "-c",
                    f'mount --bind /proc "$1/proc" || exit 1; chroot "$1" {real} --stop --name {name}; '
                    'status=$?; umount "$1/proc"; exit $status',
                    "sh",
                    str(chroot.root),
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert control.returncode == 0, control.stdout + control.stderr
            assert host_daemon.wait(10) is not None  # unprotected, the chroot reaches host processes
    finally:
        if host_daemon.poll() is None:
            host_daemon.kill()
            host_daemon.wait()
        shutil.rmtree(directory, ignore_errors=True)
