"""The shipped Icinga 2, Nagios 4 and NRPE definitions, proven in the real engines.

Icinga 2 validates and runs the shipped CheckCommand and apply rules against
real Postfix and Dovecot (state, first line and perfdata read back over the
REST API); Nagios 4 validates the shipped examples and their command lines are
expanded and run; a real NRPE daemon runs the shipped nrpe.cfg lines and
check_nrpe must agree with the plugin run directly. The engines run the plugin
as ``scripts/install`` installs it (into private paths), and the shipped files
point where a default install puts it on Debian.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from engines import Icinga2Instance, InstalledPlugin, NrpeInstance
from realservers import NAME, Credentials, DovecotInstance, PostfixInstance, base_directory
from runs import ROOT, Run, check, require

#: Where scripts/install links the plugin by default: Debian's plugin directory.
DEFAULT_PLUGIN_DIR = "/usr/lib/nagios/plugins"


@pytest.fixture(scope="module")
def installed() -> Iterator[InstalledPlugin]:
    """The plugin as scripts/install installs it, in private paths."""
    plugin = InstalledPlugin()
    plugin.install()
    yield plugin
    plugin.remove()


def fixed_ports(postfix: PostfixInstance, dovecot: dict[str, DovecotInstance]) -> dict[str, int]:
    """A port per protocol, all serving the fixed (OK) configuration."""
    ports = {p: postfix.ports[f"fixed-{p}"] for p in ("smtp", "submission", "smtps")}
    ports.update({p: dovecot["fixed"].ports[p] for p in ("imap", "imaps", "pop3", "pop3s", "sieve")})
    return ports


def direct(port: int, protocol: str, creds: Credentials, *extra: str) -> Run:
    return check(
        "-H", "127.0.0.1", "--servername", NAME, "-p", str(port), "-P", protocol, "--ca-file", creds.ca_file, *extra
    )


HOSTS = """
object Host "postfix-fixed" {{
  address = "127.0.0.1"
  check_command = "dummy"
  vars.mail_services = [ "submission", "smtp", "smtps" ]
  vars.mail_ports = {{ submission = {submission}, smtp = {smtp}, smtps = {smtps} }}
  vars.mail_smtp_opportunistic = true
  vars.tls_mail_servername = "{name}"
  vars.tls_mail_ca_file = "{ca}"
}}
object Host "postfix-incident" {{
  address = "127.0.0.1"
  check_command = "dummy"
  vars.mail_services = [ "submission" ]
  vars.mail_ports = {{ submission = {incident} }}
  vars.tls_mail_servername = "{name}"
  vars.tls_mail_ca_file = "{ca}"
}}
object Host "dovecot-fixed" {{
  address = "127.0.0.1"
  check_command = "dummy"
  vars.mail_services = [ "imap", "imaps", "pop3", "pop3s" ]
  vars.mail_ports = {{ imap = {imap}, imaps = {imaps}, pop3 = {pop3}, pop3s = {pop3s} }}
  vars.mail_required_ciphers = [ "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256" ]
  vars.tls_mail_servername = "{name}"
  vars.tls_mail_ca_file = "{ca}"
  vars.tls_mail_warning = "25"
  vars.tls_mail_critical = "2d"
}}
"""


@pytest.fixture(scope="module")
def icinga2(
    postfix: PostfixInstance, dovecot: dict[str, DovecotInstance], creds: Credentials, installed: InstalledPlugin
) -> Iterator[Icinga2Instance]:
    require("icinga2")
    ports = fixed_ports(postfix, dovecot)
    objects = HOSTS.format(name=NAME, ca=creds.ca_file, incident=postfix.ports["incident-submission"], **ports)
    instance = Icinga2Instance(str(installed.plugin_dir), objects)
    validation = instance.validate()
    assert validation.returncode == 0, validation.stdout[-3000:]
    instance.start()
    yield instance
    instance.stop()


def test_icinga2_validates_the_shipped_files() -> None:
    require("icinga2")
    instance = Icinga2Instance(
        DEFAULT_PLUGIN_DIR,
        HOSTS.format(
            name=NAME, ca="/dev/null", incident=1, submission=2, smtp=3, smtps=4, imap=5, imaps=6, pop3=7, pop3s=8
        ),
    )
    try:
        result = instance.validate()
    finally:
        instance.stop()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Instantiated 9 Services" in result.stdout  # 3 + 1 + 4 from mail_services, 1 required-ciphers


def _first_line(output: str) -> str:
    return output.split("\n", 1)[0].rstrip()  # Icinga keeps the space before the "|"


def _perf(result: dict[str, object], label: str) -> list[str]:
    for item in result["performance_data"]:  # type: ignore[attr-defined]
        name, _, rest = str(item).partition("=")
        if name.strip("'") == label:
            return rest.split(";")
    raise AssertionError(f"no {label} in {result['performance_data']}")


@pytest.mark.parametrize(
    ("host", "service", "state", "protocol", "port_of"),
    [
        ("postfix-fixed", "tls-mail-submission", 0, "submission", "fixed-submission"),
        ("postfix-fixed", "tls-mail-smtp", 0, "smtp", "fixed-smtp"),
        ("postfix-incident", "tls-mail-submission", 2, "submission", "incident-submission"),
    ],
)
def test_icinga2_runs_the_check_through_the_shipped_checkcommand(
    icinga2: Icinga2Instance,
    postfix: PostfixInstance,
    creds: Credentials,
    host: str,
    service: str,
    state: int,
    protocol: str,
    port_of: str,
) -> None:
    result = icinga2.check_now(host, service)
    logs = f"\n{result}\n{icinga2.logs()}\n{postfix.logs()}"
    assert result["exit_status"] == state, logs
    reference = direct(postfix.ports[port_of], protocol, creds, *(["--no-verify-chain"] if protocol == "smtp" else []))
    assert _first_line(str(result["output"])) == reference.summary, logs
    days = _perf(result, "days_remaining")
    assert float(days[0]) == pytest.approx(60, abs=0.05) and days[1:3] == ["18:", "9:"], logs
    if state == 2:
        assert "Apple Mail cannot connect over TLS 1.2: the certificate is ECDSA" in str(result["output"])


def test_icinga2_host_variables_reach_thresholds_and_required_ciphers(icinga2: Icinga2Instance) -> None:
    plain = icinga2.check_now("dovecot-fixed", "tls-mail-pop3")
    assert plain["exit_status"] == 0, plain
    assert _perf(plain, "days_remaining")[1:3] == ["25:", "2:"]  # -w 25 -c 2d from host vars
    required = icinga2.check_now("dovecot-fixed", "tls-mail-imaps-required")
    assert required["exit_status"] == 0, required
    assert "2/2 clients connect, 2/2 ciphers accepted" in str(required["output"])
    assert _perf(required, "ciphers_ok")[0] == "2"


NAGIOS_OBJECTS = """
define timeperiod {
    timeperiod_name 24x7
    alias           always
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}
define command {
    command_name    notify-none
    command_line    /bin/true
}
define command {
    command_name    check-host-alive
    command_line    /bin/true
}
define contact {
    contact_name                    admin
    service_notification_period     24x7
    host_notification_period        24x7
    service_notification_options    n
    host_notification_options       n
    service_notification_commands   notify-none
    host_notification_commands      notify-none
}
define contactgroup {
    contactgroup_name   admins
    alias               admins
    members             admin
}
define host {
    name                generic-host
    check_command       check-host-alive
    max_check_attempts  3
    check_period        24x7
    contact_groups      admins
    notification_period 24x7
    register            0
}
define service {
    name                generic-service
    max_check_attempts  3
    check_interval      10
    retry_interval      2
    check_period        24x7
    notification_period 24x7
    contact_groups      admins
    register            0
}
define host {
    use         generic-host
    host_name   mail.example.org
    address     127.0.0.1
}
"""


def _definitions(kind: str, text: str) -> list[dict[str, str]]:
    blocks = re.findall(r"define\s+" + kind + r"\s*\{(.*?)\}", text, re.S)
    return [
        dict(line.strip().split(None, 1) for line in block.strip().splitlines() if line.strip()) for block in blocks
    ]


def test_nagios4_accepts_the_shipped_examples() -> None:
    require("nagios4")
    directory = base_directory("nagios")
    (directory / "objects.cfg").write_text(NAGIOS_OBJECTS)
    # nagios4 -v reads as user nagios, who may not reach a checkout under /root or a 0700 /tmp directory
    shipped = directory / "check_tls_mail.cfg"
    shutil.copyfile(ROOT / "nagios" / "check_tls_mail.cfg", shipped)
    (directory / "resource.cfg").write_text("$USER1$=/usr/lib/nagios/plugins\n")
    (directory / "checkresults").mkdir()
    for path in (directory, directory / "checkresults"):
        shutil.chown(path, "nagios", "nagios")  # nagios4 -v checks that its user can write there
    (directory / "nagios.cfg").write_text(
        "\n".join(
            [
                f"log_file={directory}/nagios.log",
                f"cfg_file={directory}/objects.cfg",
                f"cfg_file={shipped}",
                f"resource_file={directory}/resource.cfg",
                f"status_file={directory}/status.dat",
                f"temp_file={directory}/nagios.tmp",
                f"temp_path={directory}",
                f"lock_file={directory}/nagios.lock",
                f"check_result_path={directory}/checkresults",
                f"object_cache_file={directory}/objects.cache",
                f"precached_object_file={directory}/objects.precache",
                "nagios_user=nagios",
                "nagios_group=nagios",
                "illegal_macro_output_chars=`~$&|'\"<>",
            ]
        )
        + "\n"
    )
    result = subprocess.run(
        ["nagios4", "-v", str(directory / "nagios.cfg")], capture_output=True, text=True, timeout=60, check=False
    )
    shutil.rmtree(directory, ignore_errors=True)
    assert result.returncode == 0, result.stdout
    assert "Total Errors:   0" in result.stdout and "Total Warnings: 0" in result.stdout, result.stdout
    services = len(_definitions("service", (ROOT / "nagios" / "check_tls_mail.cfg").read_text()))
    assert f"Checked {services} services." in result.stdout


def _expand(command_line: str, args: list[str], macros: dict[str, str]) -> list[str]:
    for index, value in enumerate(args, 1):
        command_line = command_line.replace(f"$ARG{index}$", value)
    for macro, value in macros.items():
        command_line = command_line.replace(macro, value)
    assert "$" not in command_line, command_line
    return command_line.split()


def test_nagios_command_lines_run_as_shipped(
    postfix: PostfixInstance,
    dovecot: dict[str, DovecotInstance],
    creds: Credentials,
    nrpe: NrpeInstance,
    installed: InstalledPlugin,
) -> None:
    """Expand each shipped service's check_command as Nagios would and run it."""
    text = (ROOT / "nagios" / "check_tls_mail.cfg").read_text()
    commands = {c["command_name"]: c["command_line"] for c in _definitions("command", text)}
    ports = fixed_ports(postfix, dovecot)
    ran = 0
    for service in _definitions("service", text):
        name, *args = service["check_command"].split("!")
        if name == "check_tls_mail":
            argv = _expand(commands[name], args, {"$USER1$": str(installed.plugin_dir), "$HOSTADDRESS$": "127.0.0.1"})
            protocol = argv[argv.index("-P") + 1]
            # the test's servers stand in for mail.example.org: their port, name and CA
            argv += ["-p", str(ports[protocol]), "--servername", NAME, "--ca-file", creds.ca_file]
        else:
            argv = _expand(commands[name], args, {"$USER1$": "/usr/lib/nagios/plugins", "$HOSTADDRESS$": "127.0.0.1"})
            argv += ["-p", str(nrpe.ports["nrpe"])]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, (service, argv, result.stdout, result.stderr)
        assert result.stdout.startswith("TLS_MAIL OK - ")
        ran += 1
    assert ran == 9


def _shipped_nrpe_lines() -> dict[str, str]:
    lines = (ROOT / "nrpe" / "check_tls_mail.cfg").read_text().splitlines()
    return dict(
        re.match(r"command\[(\w+)\]=(.*)", line).groups()
        for line in lines  # type: ignore[union-attr]
        if line.startswith("command[")
    )


@pytest.fixture(scope="module")
def nrpe(
    installed: InstalledPlugin, postfix: PostfixInstance, dovecot: dict[str, DovecotInstance], creds: Credentials
) -> Iterator[NrpeInstance]:
    require("nrpe")
    ports = fixed_ports(postfix, dovecot)
    ports["submission_incident"] = postfix.ports["incident-submission"]
    shipped = _shipped_nrpe_lines()
    shipped["check_tls_mail_submission_incident"] = shipped["check_tls_mail_submission"]
    commands = []
    for name, line in shipped.items():
        key = name.removeprefix("check_tls_mail_")
        here = f"-H 127.0.0.1 --servername {NAME} --ca-file {creds.ca_file} -p {ports[key]}"
        assert line.startswith(f"{DEFAULT_PLUGIN_DIR}/check_tls_mail "), line
        line = line.replace(f"{DEFAULT_PLUGIN_DIR}/check_tls_mail", installed.command)  # NRPE runs it as nagios
        commands.append(f"command[{name}]={line.replace('-H mail.example.org', here)}")
    instance = NrpeInstance(commands)
    instance.start()
    yield instance
    instance.stop()


@pytest.mark.parametrize(
    "protocol", ["smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s", "submission_incident"]
)
def test_check_nrpe_agrees_with_the_plugin(
    nrpe: NrpeInstance,
    postfix: PostfixInstance,
    dovecot: dict[str, DovecotInstance],
    creds: Credentials,
    protocol: str,
) -> None:
    result = nrpe.check(f"check_tls_mail_{protocol}")
    ports = fixed_ports(postfix, dovecot)
    port = postfix.ports["incident-submission"] if protocol.endswith("incident") else ports[protocol]
    reference = direct(port, protocol.split("_")[0], creds, *(["--no-verify-chain"] if protocol == "smtp" else []))
    assert result.returncode == reference.code, (result.stdout, nrpe.logs())
    assert result.returncode == (2 if protocol.endswith("incident") else 0)
    assert result.stdout.split(" | ")[0] == reference.summary
    assert len(result.stdout.split("\n")[0].encode()) < 1024


def _default(variable: str) -> str:
    match = re.search(
        r"^" + variable + r"=\$\{" + variable + r":?-([^}]*)\}", (ROOT / "scripts/install").read_text(), re.M
    )
    assert match, variable
    return match.group(1)


def test_the_shipped_files_run_the_plugin_where_a_default_install_puts_it() -> None:
    """Debian's Icinga 2 PluginContribDir and Nagios $USER1$ are scripts/install's PLUGINDIR; NRPE runs its link."""
    require("icinga2", "nagios4")
    assert _default("PLUGINDIR") == DEFAULT_PLUGIN_DIR
    constants = Path("/etc/icinga2/constants.conf").read_text()
    assert f'const PluginContribDir = "{DEFAULT_PLUGIN_DIR}"' in constants
    assert 'command = [ PluginContribDir + "/check_tls_mail" ]' in (ROOT / "icinga2/command-tls_mail.conf").read_text()
    assert f"$USER1$={DEFAULT_PLUGIN_DIR}" in Path("/etc/nagios4/resource.cfg").read_text()
    nagios = _definitions("command", (ROOT / "nagios/check_tls_mail.cfg").read_text())
    assert {c["command_line"].split()[0] for c in nagios} == {"$USER1$/check_tls_mail", "$USER1$/check_nrpe"}
    assert {line.split()[0] for line in _shipped_nrpe_lines().values()} == {f"{DEFAULT_PLUGIN_DIR}/check_tls_mail"}
