"""The README's set-up on a Debian that has a mail server of its own: it stays installed and running (issue 26).

Debian's ``postfix`` conflicts with every other MTA and ``dovecot-imapd`` with
every other IMAP server, so a plain ``apt-get install`` of the demo's servers
would remove exim4 (Debian's default MTA) or courier-imap (the incident's IMAP
server). Each test takes a fresh minimal Debian 12 (a cached ``debootstrap
--variant=minbase bookworm`` with git and ca-certificates, used through a
throwaway overlay), installs that mail server there and starts it as its init
script does, then runs in it the README's first command (``bash scripts/demo``)
and the set-up of the second (``bash .ci/setup``), and asks afterwards: is the
mail server still installed, is the very same process still running and
answering, and did the demo still see the incident and the fix?
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from loopback import free_port
from realservers import Chroot, base_directory, mount_namespace
from runs import ROOT, require


class FreshBookworm(Chroot):
    """A minimal Debian 12 as an operator starts from: minbase, plus what the README asks for to get the code."""

    SUITE = "bookworm"
    NAME = "bookworm-fresh"
    PACKAGES = ("git", "ca-certificates")


#: The host's own mail server: its package, and how the chroot's shell makes it listen on $port and starts it.
MAIL_SERVERS = {
    "exim4-daemon-light": (
        "exim4",
        "sed -i \"s/^SMTPLISTENEROPTIONS=.*/SMTPLISTENEROPTIONS='-oX $port'/\" /etc/default/exim4;"
        " /etc/init.d/exim4 start",
    ),
    "courier-imap": (
        "couriertcpd",
        'sed -i "s/^PORT=.*/PORT=$port/; s/^ADDRESS=.*/ADDRESS=127.0.0.1/" /etc/courier/imapd;'
        " /etc/init.d/courier-imap start",
    ),
}

#: Runs as ``sh -c`` in the fresh Debian: $1 the mail server's package, $2 its process name, $3 its port,
#: $4 how to start it. Starts it, runs the README's commands, and reports what a person would look at.
SCRIPT = r"""
set -u
package=$1 process=$2 start=$4
export port=$3  # the start command reads it
sh -c "$start" >/tmp/start.log 2>&1 || { echo "START FAILED"; cat /tmp/start.log; exit 1; }
sleep 1
before=$(pidof "$process")
echo "PID BEFORE: $before"
cd /root/check_tls_mail
bash scripts/demo >/tmp/demo.log 2>&1
echo "DEMO EXIT: $?"
bash .ci/setup >/tmp/setup.log 2>&1
echo "SETUP EXIT: $?"
echo "PID AFTER: $(pidof "$process")"
echo "STATUS: $(dpkg-query -W -f='${Status}' "$package" 2>&1)"
echo "HOST POSTFIX: $(dpkg-query -W -f='${Status}' postfix 2>&1)"
echo "HOST DOVECOT: $(dpkg-query -W -f='${Status}' dovecot-imapd 2>&1)"
echo "GREETING: $(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; head -n 1 <&3" 2>&1 | tr -d '\r\n')"
echo "=== demo"; tail -c 6000 /tmp/demo.log
echo "=== setup"; tail -c 3000 /tmp/setup.log
"""

#: Runs as PID 1 of a PID namespace of its own: $1 the chroot, then the command; /proc (of that namespace), /sys
#: and /dev mounted for the run only.
MOUNTED = r"""
set -eu
root=$1
shift
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
set +e
chroot "$root" "$@"
status=$?
kill -KILL -1 2>/dev/null  # as PID 1 of this namespace: every daemon the run left, so that nothing holds a mount
sleep 0.2
for dir in dev sys proc; do umount -R "$root/$dir"; done
exit $status
"""


def copy_checkout(destination: Path) -> None:
    """The checkout as it is on disk (tracked and new files, as git lists them) into ``destination``."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    existing = b"\0".join(name for name in files.split(b"\0") if name and (ROOT / name.decode()).exists())
    destination.mkdir(parents=True)
    tar = subprocess.Popen(["tar", "-C", str(ROOT), "--null", "-T", "-", "-cf", "-"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)  # fmt: skip
    unpack = subprocess.Popen(["tar", "-C", str(destination), "-xf", "-"], stdin=tar.stdout)
    assert tar.stdin is not None and tar.stdout is not None
    tar.stdin.write(existing)
    tar.stdin.close()
    tar.stdout.close()
    assert unpack.wait(120) == 0 and tar.wait(120) == 0


@pytest.mark.parametrize("package", sorted(MAIL_SERVERS))
def test_the_readme_set_up_keeps_the_hosts_own_mail_server_in_a_chroot(package: str) -> None:
    require("debootstrap", "unshare", "chroot", "mount")
    fresh = FreshBookworm()
    fresh.ensure()
    process, start = MAIL_SERVERS[package]
    directory = base_directory("fresh-debian")
    try:
        with fresh.overlay(directory / "overlay") as debian:
            debian.install(package)
            debian.restore_service_control()  # the operator's Debian starts its services
            copy_checkout(debian.root / "root/check_tls_mail")
            port = free_port()
            command = [
                "unshare", "--pid", "--fork", "--kill-child", *mount_namespace(),
                "sh", "-c", MOUNTED, "sh", str(debian.root),
                "/usr/bin/env", "-i", *debian.ENV, *debian.index_environment(), "CI=",
                "sh", "-c", SCRIPT, "sh", package, process, str(port), start,
            ]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, timeout=2400, check=False)
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(directory)], check=False, timeout=600)
    report = result.stdout + result.stderr
    facts = dict(re.findall(r"^([A-Z ]+): (.*)$", result.stdout, re.M))
    assert facts.get("DEMO EXIT") == "0", report
    assert "As expected: CRITICAL for the incident, OK for the fix." in report, report
    assert "would replace this host's own mail server, so they run from a Debian chroot" in report, report
    assert facts.get("SETUP EXIT") == "0", report
    assert facts["STATUS"] == "install ok installed", report
    assert facts["PID BEFORE"] and facts["PID AFTER"] == facts["PID BEFORE"], report
    assert "install ok installed" not in facts["HOST POSTFIX"] + facts["HOST DOVECOT"], report
    greeting = "ESMTP Exim" if package.startswith("exim4") else "* OK"
    assert greeting in facts["GREETING"], report
