"""The shipped Icinga 2, Nagios 4 and NRPE definitions, proven in the running engines.

Icinga 2 runs the shipped CheckCommand and apply rules against real Postfix and
Dovecot, with its REST API: state, first line, command line and check timeout
are read back, and the perfdata as Icinga's own parser and its GraphiteWriter
see it. Nagios 4 runs the shipped example (as in /etc/nagios4/conf.d, with
Debian's templates): checks are forced through its command file and read from
status.dat. A real NRPE daemon runs the shipped nrpe.cfg lines for check_nrpe.
The engines run the plugin as ``scripts/install`` installs it (into private
paths), and the shipped files point where a default install puts it on Debian.
See docs/engines.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from engines import GraphiteReceiver, Icinga2Instance, InstalledPlugin, NagiosInstance, NrpeInstance
from fakeserver import MailServer, TlsConfig, hold
from localdns import Responder
from loopback import free_port
from realservers import NAME, Credentials, DovecotInstance, PostfixInstance, base_directory
from runs import ROOT, Run, check, require

#: Where scripts/install links the plugin by default: Debian's plugin directory.
DEFAULT_PLUGIN_DIR = "/usr/lib/nagios/plugins"
#: The shipped examples' mail server, which the tests' servers stand in for.
EXAMPLE_NAME = "mail.example.org"
EXAMPLE_ADDRESS = "192.0.2.25"


@pytest.fixture(scope="module")
def installed() -> Iterator[InstalledPlugin]:
    """The plugin as scripts/install installs it, in private paths."""
    plugin = InstalledPlugin()
    plugin.install()
    yield plugin
    plugin.remove()


@pytest.fixture(scope="module")
def dns() -> Iterator[Responder]:
    """The DNS of the tests' mail server: NAME is 127.0.0.1, where Postfix and Dovecot listen."""
    with Responder({NAME: ["127.0.0.1"]}) as responder:
        yield responder


@pytest.fixture(scope="module")
def imaps_v6(creds: Credentials) -> Iterator[MailServer]:
    """An IMAPS listener on ::1 only (the real servers listen on 127.0.0.1), with the scenarios' ECDSA certificate."""
    with MailServer.speaking("imaps", TlsConfig([creds.files["ecdsa"]]), host="::1") as server:
        yield server


@pytest.fixture(scope="module")
def stalling() -> Iterator[MailServer]:
    """A server that accepts connections and then says nothing (for fakeserver.HOLD seconds)."""
    with MailServer(hold) as server:
        yield server


def fixed_ports(postfix: PostfixInstance, dovecot: dict[str, DovecotInstance]) -> dict[str, int]:
    """A port per protocol, all serving the fixed (OK) configuration."""
    ports = {p: postfix.ports[f"fixed-{p}"] for p in ("smtp", "submission", "smtps")}
    ports.update({p: dovecot["fixed"].ports[p] for p in ("imap", "imaps", "pop3", "pop3s", "sieve")})
    return ports


def direct(port: int, protocol: str, creds: Credentials, *extra: str) -> Run:
    """The plugin run directly against the address, as the old CheckCommand and the NRPE tests run it."""
    return check(
        "-H", "127.0.0.1", "--servername", NAME, "-p", str(port), "-P", protocol, "--ca-file", creds.ca_file, *extra
    )


def by_name(port: int, protocol: str, creds: Credentials, dns: Responder, *extra: str) -> Run:
    """The plugin run directly with -H the name, resolved through the tests' DNS."""
    return check(
        "-H", NAME, "--dns-server", dns.server, "-p", str(port), "-P", protocol, "--ca-file", creds.ca_file, *extra
    )


def _first_line(output: str) -> str:
    return output.split("\n", 1)[0].rstrip()  # Icinga keeps the space before the "|"


def _masked(perfdata: str) -> str:
    """Perfdata with the measured times masked (they differ from run to run)."""
    return re.sub(r"((?:handshake|probes)_time(?:@[^=']+)?'?=)[0-9.]+s", r"\1Ts", perfdata.strip())


# Icinga 2

LEGACY_HOSTS = """
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

#: A host that lists its listeners; its name is the certificate's, resolved through the tests' DNS.
LISTENER_HOST = """
object Host "{name}" {{
  check_command = "dummy"
  vars.tls_mail_ca_file = "{ca}"
  vars.tls_mail_dns_server = "{dns}"
  vars.tls_mail_listeners = {{
    "submission" = {{ port = {submission} }}
    "smtp" = {{ port = {smtp}, no_verify_chain = true, verbose = 2 }}
    "smtp-incident" = {{ protocol = "submission", port = {incident} }}
    "imaps-v6" = {{ protocol = "imaps", address = "::1", port = {imaps6}, verbose = true }}
    "imaps-patient" = {{ protocol = "imaps", port = {imaps}, timeout = 40 }}
  }}
}}
/* A service of its own, killed by Icinga at 6 s, with -t 40 asked for, against a server that stalls. */
object Service "stalling" {{
  host_name = "{name}"
  check_command = "tls_mail"
  check_timeout = 6
  vars.tls_mail_protocol = "imaps"
  vars.tls_mail_port = {stalling}
  vars.tls_mail_address = "127.0.0.1"
  vars.tls_mail_timeout = 40
}}
/* A service per tls_mail_verbose value, at a port where nothing listens: only the command line matters. */
apply Service "verbose-" for (level => value in {{
    "0" = 0, "false" = false, "true" = true, "1" = 1, "2" = 2, "3" = 3, "7" = 7, "two" = "2" }}) {{
  check_command = "tls_mail"
  vars.tls_mail_protocol = "imaps"
  vars.tls_mail_port = {closed}
  vars.tls_mail_address = "127.0.0.1"
  vars.tls_mail_verbose = value
  assign where host.name == "{name}"
}}
object GraphiteWriter "graphite" {{
  host = "127.0.0.1"
  port = {graphite}
  enable_send_thresholds = true
}}
"""

#: What the shipped apply rules make of these hosts: 3 + 1 + 4 from mail_services, 1 required-ciphers
#: service, 5 listeners; and the test's own: the stalling one, 8 verbosities.
SERVICES = 3 + 1 + 4 + 1 + 5 + 1 + 8


def icinga_objects(**values: object) -> str:
    return LEGACY_HOSTS.format(**values) + LISTENER_HOST.format(**values)


@pytest.fixture(scope="module")
def graphite() -> Iterator[GraphiteReceiver]:
    receiver = GraphiteReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def icinga2(
    postfix: PostfixInstance,
    dovecot: dict[str, DovecotInstance],
    creds: Credentials,
    installed: InstalledPlugin,
    dns: Responder,
    imaps_v6: MailServer,
    stalling: MailServer,
    graphite: GraphiteReceiver,
) -> Iterator[Icinga2Instance]:
    require("icinga2")
    objects = icinga_objects(
        name=NAME,
        ca=creds.ca_file,
        dns=dns.server,
        incident=postfix.ports["incident-submission"],
        imaps6=imaps_v6.port,
        stalling=stalling.port,
        closed=free_port(),
        graphite=graphite.port,
        **fixed_ports(postfix, dovecot),
    )
    instance = Icinga2Instance(str(installed.plugin_dir), objects)
    validation = instance.validate()
    assert validation.returncode == 0, validation.stdout[-3000:]
    instance.start()
    yield instance
    instance.stop()


def test_icinga2_validates_the_shipped_files() -> None:
    require("icinga2")
    ports = {p: n for n, p in enumerate(["submission", "smtp", "smtps", "imap", "imaps", "pop3", "pop3s"], 2)}
    objects = icinga_objects(
        name=NAME,
        ca="/dev/null",
        dns="127.0.0.1:53",
        incident=1,
        imaps6=9,
        stalling=10,
        closed=11,
        graphite=12,
        **ports,
    )
    instance = Icinga2Instance(DEFAULT_PLUGIN_DIR, objects)
    try:
        result = instance.validate()
    finally:
        instance.stop()
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"Instantiated {SERVICES} Services" in result.stdout, result.stdout[-3000:]


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
def test_icinga2_runs_the_old_mail_services_as_before(
    icinga2: Icinga2Instance,
    postfix: PostfixInstance,
    creds: Credentials,
    host: str,
    service: str,
    state: int,
    protocol: str,
    port_of: str,
) -> None:
    """Hosts with the old mail_services array still get -H their address, as before tls_mail_listeners."""
    result = icinga2.check_now(host, service)
    logs = f"\n{result}\n{icinga2.logs()}\n{postfix.logs()}"
    assert result["exit_status"] == state, logs
    command = result["command"]
    assert command[command.index("-H") + 1] == "127.0.0.1" and "--address" not in command, logs  # type: ignore[attr-defined]
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


def _argument(command: list[str], option: str) -> str | None:
    return command[command.index(option) + 1] if option in command else None


@pytest.mark.parametrize(
    ("service", "state", "protocol", "port_of", "extra"),
    [
        ("tls-mail-submission", 0, "submission", "fixed-submission", []),
        ("tls-mail-smtp", 0, "smtp", "fixed-smtp", ["--no-verify-chain", "-vv"]),
        ("tls-mail-smtp-incident", 2, "submission", "incident-submission", []),
    ],
)
def test_icinga2_checks_each_listener_by_the_hosts_name(
    icinga2: Icinga2Instance,
    postfix: PostfixInstance,
    creds: Credentials,
    dns: Responder,
    service: str,
    state: int,
    protocol: str,
    port_of: str,
    extra: list[str],
) -> None:
    """-H is the host object's name: the plugin resolves it (every address) and checks the name, from Icinga."""
    asked = len(dns.asked)
    result = icinga2.check_now(NAME, service)
    logs = f"\n{result}\n{icinga2.logs()}"
    command: list[str] = result["command"]  # type: ignore[assignment]
    assert _argument(command, "-H") == NAME and "--address" not in command and "--servername" not in command, logs
    assert (NAME.lower() + ".", "A") in dns.asked[asked:], logs  # resolved by the plugin Icinga ran
    assert _argument(command, "-P") == protocol and _argument(command, "-p") == str(postfix.ports[port_of])
    assert result["exit_status"] == state, logs
    reference = by_name(postfix.ports[port_of], protocol, creds, dns, *extra)
    assert _first_line(str(result["output"])) == reference.summary, logs
    assert reference.summary.startswith(f"TLS_MAIL {['OK', 'WARNING', 'CRITICAL'][state]} - {NAME}:")


def test_icinga2_listener_address_and_verbosity(
    icinga2: Icinga2Instance, imaps_v6: MailServer, creds: Credentials
) -> None:
    """address = "::1" is --address, the name still -H (and checked); verbose = true is one -v."""
    result = icinga2.check_now(NAME, "tls-mail-imaps-v6")
    command: list[str] = result["command"]  # type: ignore[assignment]
    assert _argument(command, "--address") == "::1" and _argument(command, "-H") == NAME, result
    assert "-v" in command and "-vv" not in command
    reference = check(
        "-H", NAME, "--address", "::1", "-p", str(imaps_v6.port), "-P", "imaps", "--ca-file", creds.ca_file, "-v"
    )
    assert result["exit_status"] == reference.code == 0, (result, reference.stdout)
    assert _first_line(str(result["output"])) == reference.summary
    assert str(result["output"]).count("\n") >= 2  # -v: what was checked, below the first line


@pytest.mark.parametrize(
    ("level", "flag"),
    [
        ("0", None),
        ("false", None),
        ("true", "-v"),
        ("1", "-v"),
        ("2", "-vv"),
        ("3", "-vvv"),
        ("7", "-vvv"),
        ("two", "-vv"),
    ],
)
def test_icinga2_verbosity_is_a_count(icinga2: Icinga2Instance, level: str, flag: str | None) -> None:
    """tls_mail_verbose is a number of -v (0-3; true, the old boolean, is 1; more is 3; "2" is 2)."""
    result = icinga2.check_now(NAME, f"verbose-{level}")
    command: list[str] = result["command"]  # type: ignore[assignment]
    assert [a for a in command if re.fullmatch("-v+", a)] == ([flag] if flag else []), command
    assert str(result["output"]).startswith(f"TLS_MAIL CRITICAL - {NAME}:"), result  # the plugin ran (nothing there)


def test_icinga2_keeps_the_plugins_timeout_below_its_own(icinga2: Icinga2Instance, stalling: MailServer) -> None:
    """Icinga kills this check at 6 s; with tls_mail_timeout = 40 the plugin gets -t 3 and answers itself."""
    result = icinga2.check_now(NAME, "stalling")
    command: list[str] = result["command"]  # type: ignore[assignment]
    output = str(result["output"])
    assert "Timeout exceeded" not in output and "Terminated by signal" not in output, result  # not killed
    assert _argument(command, "-t") == "3", result
    assert output.startswith(f"TLS_MAIL CRITICAL - {NAME}:{stalling.port} imaps: "), result
    assert re.search(r"not completed within [\d.]+ s", output), result  # the plugin's deadline, under -t 3


def test_icinga2_gives_a_larger_timeout_room_above_it(icinga2: Icinga2Instance) -> None:
    """A listener's timeout = 40 is the plugin's -t 40, and the apply rule sets check_timeout 10 s above it."""
    assert icinga2.service(NAME, "tls-mail-imaps-patient", "check_timeout")["check_timeout"] == 50
    assert icinga2.service(NAME, "tls-mail-submission", "check_timeout")["check_timeout"] is None
    result = icinga2.check_now(NAME, "tls-mail-imaps-patient")
    assert _argument(result["command"], "-t") == "40" and result["exit_status"] == 0, result  # type: ignore[arg-type]
    plain = icinga2.check_now(NAME, "tls-mail-submission")  # Icinga's 1m: the plugin's default 10 fits
    assert _argument(plain["command"], "-t") == "10", plain  # type: ignore[arg-type]


def test_icinga2_parses_lifetime_used_with_its_thresholds(icinga2: Icinga2Instance, graphite: GraphiteReceiver) -> None:
    """Icinga drops range thresholds (days_remaining's "18:"); lifetime_used's plain upper bounds reach it."""
    assert graphite.wait_connected(), icinga2.logs()  # the GraphiteWriter connects some seconds after the start
    result = icinga2.check_now(NAME, "tls-mail-submission")
    stored = icinga2.service(NAME, "tls-mail-submission", "last_check_result")["last_check_result"]
    assert stored["performance_data"] == result["performance_data"]  # type: ignore[index]
    parsed = icinga2.console(
        f'var r = get_service("{NAME}", "tls-mail-submission").last_check_result; '
        "var out = {}; for (p in r.performance_data) { var v = parse_performance_data(p); out[v.label] = v }; out"
    )
    used, days = parsed["lifetime_used"], parsed["days_remaining"]  # type: ignore[index]
    assert used["unit"] == "percent" and used["value"] == pytest.approx(33.33, abs=0.1), used
    assert (used["warn"], used["crit"], used["min"], used["max"]) == (80, 90, 0, 100), used
    assert days["warn"] is None and days["crit"] is None and days["max"] == 90, days  # why lifetime_used exists
    path = f"icinga2.{NAME.replace('.', '_')}.services.tls-mail-submission.tls_mail.perfdata."
    sent = graphite.metrics(path + "lifetime_used.")
    assert sent.get(path + "lifetime_used.warn") == 80 and sent.get(path + "lifetime_used.crit") == 90, sent
    days_sent = graphite.metrics(path + "days_remaining.")
    assert path + "days_remaining.value" in days_sent and path + "days_remaining.warn" not in days_sent, days_sent


# Nagios 4


def _definitions(kind: str, text: str) -> list[dict[str, str]]:
    blocks = re.findall(r"define\s+" + kind + r"\s*\{(.*?)\}", text, re.S)
    return [
        dict(
            line.split(";")[0].strip().split(None, 1)
            for line in block.strip().splitlines()
            if line.split(";")[0].strip()
        )
        for block in blocks
    ]


SHIPPED_NAGIOS = ROOT / "nagios" / "check_tls_mail.cfg"


def test_nagios4_validates_the_shipped_example_in_debians_configuration() -> None:
    """The file alone in /etc/nagios4/conf.d of Debian's own nagios.cfg: no error, no warning."""
    require("nagios4")
    directory = base_directory("nagios-validate")
    try:
        (directory / "conf.d").mkdir()
        shutil.copyfile(SHIPPED_NAGIOS, directory / "conf.d" / "check_tls_mail.cfg")
        debian = Path("/etc/nagios4/nagios.cfg").read_text()
        assert "\ncfg_dir=/etc/nagios4/conf.d\n" in debian
        (directory / "nagios.cfg").write_text(
            debian.replace("cfg_dir=/etc/nagios4/conf.d", f"cfg_dir={directory}/conf.d")
        )
        result = subprocess.run(
            ["nagios4", "-v", str(directory / "nagios.cfg")], capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    assert result.returncode == 0, result.stdout
    assert "Total Errors:   0" in result.stdout and "Total Warnings: 0" in result.stdout, result.stdout


#: A plugin of the test's own whose first line has a ';': Nagios 4 must store it with ':' (the equality
#: assertions below would see the same), its perfdata untouched.
CANARY = "#!/bin/sh\necho 'CANARY CRITICAL - one; two / three | x=1;2;3;0;4'\nexit 2\n"


@pytest.fixture(scope="module")
def nagios(
    postfix: PostfixInstance,
    dovecot: dict[str, DovecotInstance],
    creds: Credentials,
    installed: InstalledPlugin,
    nrpe: NrpeInstance,
    dns: Responder,
) -> Iterator[NagiosInstance]:
    """Nagios 4 with the shipped example in its conf.d, the tests' servers standing in for mail.example.org.

    The example's host becomes NAME at 127.0.0.1 (resolved through the tests' DNS), each check_tls_mail
    service gets its test server's port, CA and DNS, and check_nrpe the port of the tests' NRPE.
    """
    require("nagios4")
    ports = fixed_ports(postfix, dovecot)
    text = SHIPPED_NAGIOS.read_text()
    assert text.count(EXAMPLE_NAME) == len(_shipped_nagios_services()) + 1 and text.count(EXAMPLE_ADDRESS) == 1
    text = text.replace(EXAMPLE_NAME, NAME).replace(EXAMPLE_ADDRESS, "127.0.0.1")
    here = f"--ca-file {creds.ca_file} --dns-server {dns.server}"

    def stand_in(match: re.Match[str]) -> str:
        protocol = re.search(r"-P (\w+)", match.group(2)).group(1)  # type: ignore[union-attr]
        return f"{match.group(1)}!{match.group(2)} -p {ports[protocol]} {here}\n"

    text, services = re.subn(r"(check_command\s+check_tls_mail(?:_address)?)!(.*)\n", stand_in, text)
    text, commands = re.subn(r"(-c \$ARG1\$)\n", rf"\1 -p {nrpe.ports['nrpe']}\n", text)
    assert services == 7 and commands == 1, text
    (Path(installed.dir) / "canary").write_text(CANARY)
    (Path(installed.dir) / "canary").chmod(0o755)
    tests = f"""
define service {{
    use                     tls-mail-service
    host_name               {NAME}
    service_description     TLS submission incident
    check_command           check_tls_mail!-P submission -p {postfix.ports["incident-submission"]} -w 70 -c 65 {here}
}}
define command {{
    command_name    canary
    command_line    {installed.dir}/canary
}}
define service {{
    use                     tls-mail-service
    host_name               {NAME}
    service_description     canary
    check_command           canary
}}
"""
    user1 = base_directory("nagios-plugins")  # $USER1$: the installed plugin, and Debian's check_nrpe
    (user1 / "check_tls_mail").symlink_to(installed.command)
    (user1 / "check_nrpe").symlink_to(f"{DEFAULT_PLUGIN_DIR}/check_nrpe")
    instance = NagiosInstance({"check_tls_mail.cfg": text, "tests.cfg": tests}, str(user1))
    validation = instance.validate()
    assert validation.returncode == 0 and "Total Warnings: 0" in validation.stdout, validation.stdout
    instance.start()
    yield instance
    instance.stop()
    shutil.rmtree(user1, ignore_errors=True)


def test_nagios4_stores_what_the_plugin_prints_with_colons_for_semicolons(nagios: NagiosInstance) -> None:
    """The canary: Nagios 4 itself turns ';' into ':' in the first line (not in perfdata)."""
    status = nagios.check_now(NAME, "canary")
    assert status["current_state"] == "2", status
    assert status["plugin_output"] == "CANARY CRITICAL - one: two / three", status
    assert status["performance_data"] == "x=1;2;3;0;4", status
    assert nagios.alerts(NAME, "canary")[-1] == "CRITICAL;SOFT;1;CANARY CRITICAL - one: two / three"


def test_nagios4_keeps_the_first_line_of_a_multi_clause_critical(
    nagios: NagiosInstance, postfix: PostfixInstance, creds: Credentials, dns: Responder
) -> None:
    """The incident plus a certificate near its end (-w 70 -c 65 on 60 days): clauses joined by " / " survive."""
    status = nagios.check_now(NAME, "TLS submission incident")
    reference = by_name(postfix.ports["incident-submission"], "submission", creds, dns, "-w", "70", "-c", "65")
    assert reference.code == 2 and " / " in reference.summary and ";" not in reference.summary, reference.stdout
    assert "below 65 days" in reference.summary and "Apple Mail cannot connect" in reference.summary
    assert status["current_state"] == "2", (status, nagios.logs())
    assert status["plugin_output"] == reference.summary.removesuffix(" "), (status, reference.stdout)
    assert _masked(status["performance_data"]) == _masked(reference.first_line.split(" | ", 1)[1]), status
    alerts = nagios.alerts(NAME, "TLS submission incident")  # the log line, and what notifications say
    assert alerts and alerts[-1].split(";", 3)[3] == reference.summary.removesuffix(" "), alerts


def _shipped_nagios_services() -> list[tuple[str, str]]:
    text = SHIPPED_NAGIOS.read_text()
    return [(s["service_description"], s["check_command"]) for s in _definitions("service", text) if "host_name" in s]


@pytest.mark.parametrize(("service", "check_command"), _shipped_nagios_services())
def test_nagios4_runs_each_shipped_service(
    nagios: NagiosInstance,
    postfix: PostfixInstance,
    dovecot: dict[str, DovecotInstance],
    creds: Credentials,
    dns: Responder,
    service: str,
    check_command: str,
) -> None:
    status = nagios.check_now(NAME, service)
    assert status["current_state"] == "0", (status, nagios.logs())
    if check_command.startswith("check_nrpe_tls_mail!"):
        assert status["plugin_output"].startswith("TLS_MAIL OK - 127.0.0.1:"), status  # as the NRPE tests set it
        return
    name, args = check_command.split("!", 1)
    argv = args.split()
    argv += ["-p", str(fixed_ports(postfix, dovecot)[argv[argv.index("-P") + 1]])]
    if name == "check_tls_mail_address":
        argv += ["--address", "127.0.0.1"]
    reference = check("-H", NAME, *argv, "--ca-file", creds.ca_file, "--dns-server", dns.server)
    assert reference.code == 0, reference.stdout
    assert status["plugin_output"] == reference.summary.removesuffix(" "), (status, reference.stdout)
    assert _masked(status["performance_data"]) == _masked(reference.first_line.split(" | ", 1)[1]), status


# NRPE


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
    """NRPE with the shipped lines, each pointed at its test server; and the incident's with -v (long output)."""
    require("nrpe")
    ports = fixed_ports(postfix, dovecot)
    ports["submission_incident"] = postfix.ports["incident-submission"]
    shipped = _shipped_nrpe_lines()
    shipped["check_tls_mail_submission_incident"] = shipped["check_tls_mail_submission"]
    shipped["check_tls_mail_submission_incident_verbose"] = shipped["check_tls_mail_submission"] + " -vvv"
    commands = []
    for name, line in shipped.items():
        key = name.removeprefix("check_tls_mail_").removesuffix("_verbose")
        here = f"-H 127.0.0.1 --servername {NAME} --ca-file {creds.ca_file} -p {ports[key]}"
        assert line.startswith(f"{DEFAULT_PLUGIN_DIR}/check_tls_mail -H {EXAMPLE_NAME} "), line
        line = line.replace(f"{DEFAULT_PLUGIN_DIR}/check_tls_mail", installed.command)  # NRPE runs it as nagios
        commands.append(f"command[{name}]={line.replace(f'-H {EXAMPLE_NAME}', here)}")
    instance = NrpeInstance(commands)
    instance.start()
    yield instance
    instance.stop()


@pytest.mark.parametrize(
    "protocol", ["smtp", "submission", "smtps", "imap", "imaps", "pop3", "pop3s", "submission_incident"]
)
@pytest.mark.parametrize("packets", ["v4", "v2"])
def test_check_nrpe_agrees_with_the_plugin(
    nrpe: NrpeInstance,
    postfix: PostfixInstance,
    dovecot: dict[str, DovecotInstance],
    creds: Credentials,
    protocol: str,
    packets: str,
) -> None:
    """The shipped lines through check_nrpe, with NRPE 4's packets and with version 2's (cut at 1024 bytes)."""
    result = nrpe.check(f"check_tls_mail_{protocol}", *(["-2"] if packets == "v2" else []))
    ports = fixed_ports(postfix, dovecot)
    port = postfix.ports["incident-submission"] if protocol.endswith("incident") else ports[protocol]
    reference = direct(port, protocol.split("_")[0], creds, *(["--no-verify-chain"] if protocol == "smtp" else []))
    assert result.returncode == reference.code, (result.stdout, nrpe.logs())
    assert result.returncode == (2 if protocol.endswith("incident") else 0)
    assert result.stdout.split(" | ")[0] == reference.summary
    assert _masked(result.stdout) == _masked(reference.stdout)  # all of it arrived
    assert len(reference.stdout.encode()) <= 1024


def test_check_nrpe_cuts_long_output_with_version_2_packets(nrpe: NrpeInstance) -> None:
    """What the shipped comment says of -v: NRPE 4's packets carry it whole, version 2's cut it at 1024 bytes."""
    whole = nrpe.check("check_tls_mail_submission_incident_verbose")
    cut = nrpe.check("check_tls_mail_submission_incident_verbose", "-2")
    assert whole.returncode == cut.returncode == 2, (whole.stdout, cut.stdout)
    assert len(whole.stdout.encode()) > 1024, whole.stdout  # the test needs output longer than the cut
    assert len(cut.stdout.encode()) == 1024, cut.stdout
    first, cut_first = whole.stdout.split("\n", 1)[0], cut.stdout.split("\n", 1)[0]
    assert _masked(cut_first) == _masked(first) and len(first.encode()) <= 1000, cut.stdout  # the first line whole


def test_debians_nrpe_takes_no_command_arguments(installed: InstalledPlugin) -> None:
    """Why the shipped lines are fixed: even with dont_blame_nrpe=1, arguments are refused."""
    require("nrpe")
    instance = NrpeInstance(["command[echo]=/bin/echo $ARG1$"], dont_blame_nrpe=True)
    instance.start()
    try:
        result = instance.check("echo", "-a", "hello")
        logs = instance.logs()
    finally:
        instance.stop()
    assert result.returncode == 3 and "Receive header underflow" in result.stdout, (result, logs)
    assert "Request contained command arguments" in logs


# Where the files point


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
    nagios = _definitions("command", SHIPPED_NAGIOS.read_text())
    assert {c["command_line"].split()[0] for c in nagios} == {"$USER1$/check_tls_mail", "$USER1$/check_nrpe"}
    assert {line.split()[0] for line in _shipped_nrpe_lines().values()} == {f"{DEFAULT_PLUGIN_DIR}/check_tls_mail"}
