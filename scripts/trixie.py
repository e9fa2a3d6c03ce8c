"""The test suite under Debian 13 (trixie): its own Python 3.13 and OpenSSL 3.5, in a debootstrap chroot.

Builds once (cached in /var/cache/check_tls_mail/trixie-suite, see tests/support/realservers.py
``SuiteChroot``) a minbase trixie chroot with Postfix, Dovecot, Knot, Unbound and
python3-venv; makes a virtualenv there from trixie's /usr/bin/python3 with the
package's dependencies and pytest; and runs pytest in it on this checkout,
bind-mounted at /src. /proc, /sys and /dev are bind-mounted for the run only, in
a mount namespace of its own, and unmounted after it. Without arguments it runs
every test except those that need the monitoring engines or the sendmail and
courier chroot (which are not installed in it); arguments go to pytest instead.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from realservers import SuiteChroot, mount_namespace  # noqa: E402

VENV = "/opt/check_tls_mail-tests"
DEFAULT = [
    "tests",
    "--ignore=tests/real/test_monitoring_engines.py",
    "-k",
    "not sendmail and not courier and not chroot",
]

#: Runs as ``sh -c`` in a mount namespace of its own (private where "/" is a mount point):
#: $1 the chroot, $2 the checkout, then the command.
MOUNTED = """
set -eu
root=$1 src=$2
shift 2
for dir in proc sys dev src; do mkdir -p "$root/$dir"; done
mount --bind /proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount --bind "$src" "$root/src"
set +e
chroot "$root" "$@"
status=$?
for dir in src dev sys proc; do umount -R "$root/$dir"; done
exit $status
"""

#: Runs in the chroot: the virtualenv (kept while trixie's python3 is the same), then pytest.
INSIDE = """
set -euf
venv=$1 deps=$2
shift 2
want=$(/usr/bin/python3 -c 'import sys; print(sys.version)')
(
  flock 9
  if [ "$("$venv/bin/python" -c 'import sys; print(sys.version)' 2>/dev/null)" != "$want" ]; then
    /usr/bin/python3 -m venv --clear "$venv"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check $deps
) 9>/var/lock/check_tls_mail-tests-venv.lock
cd /src
echo "== pytest under Debian $(cat /etc/debian_version), $("$venv/bin/python" -c 'import platform, ssl
print("Python", platform.python_version() + ",", ssl.OPENSSL_VERSION)')"
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
"""


def dependencies() -> list[str]:
    """The package's requirements (setup.cfg) and the test tools that run here (not ruff, mypy)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    wanted = config["options"]["install_requires"].split()
    tools = config["options.extras_require"]["test"].split()
    return wanted + [t for t in tools if t.split(">")[0].split("=")[0] in ("pytest", "hypothesis")]


def main(arguments: list[str]) -> int:
    chroot = SuiteChroot()
    print(f"== trixie chroot {chroot.root} (built once; log {chroot.build_log})", flush=True)
    started = time.monotonic()
    chroot.ensure()
    print(f"== trixie chroot ready after {time.monotonic() - started:.0f} s", flush=True)
    environment = [*chroot.ENV, f"CI={os.environ.get('CI', '')}", f"TERM={os.environ.get('TERM', 'dumb')}"]
    environment += chroot.index_environment()  # pip in the chroot reaches the package index as this host does
    command = [
        "unshare",
        *mount_namespace(),
        "sh",
        "-c",
        MOUNTED,
        "sh",
        str(chroot.root),
        str(ROOT),
        "/usr/bin/env",
        "-i",
        *environment,
        "sh",
        "-c",
        INSIDE,
        "sh",
        VENV,
        " ".join(dependencies()),
        *(arguments or DEFAULT),
    ]
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
