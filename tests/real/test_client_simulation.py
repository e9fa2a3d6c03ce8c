"""Each client's own ClientHello and certificate rules, through the CLI, against real servers (issue 13).

Real Postfix and Dovecot (tests/support/realservers.py), ``gnutls-serv``
(tests/support/tlsservers.py) on loopback. Whole first lines asserted,
measured times masked. Oracles no one here wrote: ``openssl s_client`` with a
client's groups, suites or signature algorithms, ``gnutls-cli`` for 3DES, and
Postfix's own ``posttls-finger`` for what an MTA without SNI gets.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import datetime

import pytest
from cryptography import x509
from lines import assert_line, utcnow, valid
from realservers import NAME, OTHER_NAME, Credentials, DovecotInstance, Instance, PostfixInstance, dovecot_version
from runs import Run, check, clients, require
from tlsservers import GnutlsServer

from check_tls_mail.clients.profiles import catalogue
from check_tls_mail.tls.codepoints import FALLBACK_SCSV, GREASE, RENEGOTIATION_SCSV
from check_tls_mail.tls.registry import SIGNATURE_ALGORITHMS, name_of

TIMES = "handshake_time=Ts;;;0 lifetime_used=U%;80;90;0;100 probes_time=Ts;;;0"
GROUPS_ADVICE = "(Postfix tls_eecdh_auto_curves, Dovecot ssl_curve_list, OpenSSL Groups)"


def run(server: Instance, listener: str, protocol: str, creds: Credentials, *extra: str) -> Run:
    return check(
        "-H", "127.0.0.1", "--servername", NAME, "-p", str(server.ports[listener]), "-P", protocol,
        "--ca-file", creds.ca_file, *extra,
    )  # fmt: skip


def explain(result: Run, server: Instance | None = None) -> str:
    return f"\n{result.stdout}\n{server.logs() if server is not None else ''}"


def s_client(port: int, *options: str, starttls: str | None = None) -> subprocess.CompletedProcess[str]:
    """``openssl s_client`` with the given offer; its output for the assertions."""
    command = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", NAME, *options]
    if starttls:
        command += ["-starttls", starttls]
    return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20, check=False)


def connected(result: subprocess.CompletedProcess[str]) -> bool:
    """s_client completed a handshake: it names the negotiated cipher (no handshake: 'Cipher is (NONE)')."""
    return result.returncode == 0 and re.search(r"Cipher is (?!\(NONE\))", result.stdout) is not None


def colon(names: tuple[str, ...] | list[str]) -> str:
    return ":".join(names)


def test_postfix_x25519_only_locks_out_apple_mail_named_with_the_groups(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    """tls_eecdh_auto_curves = X25519 (a hardening-guide setting) with an ECDSA certificate: Apple Mail's hello
    offers P-256, P-384 and P-521 only. The other mail user agents connect with X25519."""
    before = utcnow()
    result = run(postfix, "x25519-submission", "submission", creds, "-v")
    port = postfix.ports["x25519-submission"]
    cert = creds.leaf("ecdsa")

    def line(now: datetime) -> str:
        words, perf = valid(cert, now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} submission: Apple Mail cannot connect over TLS 1.2: the server "
            "accepts only the X25519 group and Apple Mail offers P-256, P-384 and P-521: add P-256 to the server's "
            f"groups {GROUPS_ADVICE} / {words} | clients_ok=3;;4:;0;4 days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)
    for title in ("Thunderbird", "Outlook (Windows 11)", "Android"):
        accepted = rf"^client {re.escape(title)} \(TLS 1.2-1.3\): accepted, TLS 1.3 \S+, group X25519 "
        assert re.search(accepted, result.stdout, re.M), explain(result, postfix)
    assert "  the same hello with more supported groups: accepted; the server takes X25519\n" in result.stdout
    # The oracle: OpenSSL's own client with Apple Mail's groups over TLS 1.2 fails; with X25519 added it connects.
    # (X25519 alone fails as well: in TLS 1.2 the groups also name the curves a client takes for the server's
    # ECDSA certificate, RFC 8422 section 5.1.1, which is why the advice is to add P-256 on the server.)
    apple = s_client(port, "-tls1_2", "-groups", "P-256:P-384:P-521", starttls="smtp")
    assert not connected(apple) and "handshake failure" in apple.stdout + apple.stderr, apple.stdout + apple.stderr
    assert connected(s_client(port, "-tls1_2", "-groups", "X25519:P-256:P-384:P-521", starttls="smtp"))


def test_postfix_x25519_only_fails_the_mta_without_x25519_and_lists_its_groups_short(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    """The OpenSSL 1.0-era MTA offers 13 groups and none is X25519: the words list three and count the rest."""
    before = utcnow()
    result = run(postfix, "x25519-smtp", "smtp", creds)
    port = postfix.ports["x25519-smtp"]
    cert = creds.leaf("ecdsa")
    mta = catalogue().profiles["openssl-1.0.2-mta"].hello_template
    assert mta is not None and 0x001D not in mta.supported_groups and len(mta.supported_groups) == 13

    def line(now: datetime) -> str:
        words, perf = valid(cert, now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} smtp: MTA on OpenSSL 1.0.2 cannot connect over TLS 1.2: the "
            "server accepts only the X25519 group and MTA on OpenSSL 1.0.2 offers P-256, P-521, brainpoolP512r1 "
            f"and 10 more: add P-256 to the server's groups {GROUPS_ADVICE} / {words} | clients_ok=3;;4:;0;4 "
            f"days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)


@pytest.fixture(scope="module")
def dovecots(creds: Credentials) -> Iterator[dict[str, DovecotInstance]]:
    require("dovecot")
    started: dict[str, DovecotInstance] = {}
    try:
        for scenario in ("curves", "chacha"):
            started[scenario] = DovecotInstance(creds, scenario)
            started[scenario].start()
        yield started
    finally:
        for instance in started.values():
            instance.stop()


@pytest.mark.parametrize("protocol", ["imaps", "imap", "pop3"])
def test_dovecot_curve_list_x25519_locks_out_apple_mail_though_dovecot_closes_without_an_alert(
    dovecots: dict[str, DovecotInstance], creds: Credentials, protocol: str
) -> None:
    """Dovecot 2.3 (Debian 12) answers a hello it refuses by closing the connection, no alert. The close comes
    again alone while the widest offer connects, so it is the answer; the hello with wider groups is accepted.
    Dovecot 2.4 (Debian 13) sends the alert: the same first line, from the alert."""
    server = dovecots["curves"]
    before = utcnow()
    result = run(server, protocol, protocol, creds, "-v")
    port = server.ports[protocol]
    cert = creds.leaf("ecdsa")

    def line(now: datetime) -> str:
        words, perf = valid(cert, now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} {protocol}: Apple Mail cannot connect over TLS 1.2: the server "
            "accepts only the X25519 group and Apple Mail offers P-256, P-384 and P-521: add P-256 to the server's "
            f"groups {GROUPS_ADVICE} / {words} | clients_ok=3;;4:;0;4 days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)
    silent = dovecot_version() < (2, 4)
    answer = (
        "server closed the connection in answer to the ClientHello, without an alert ("
        if silent
        else "server sent TLS alert handshake failure ("
    )
    assert f"client Apple Mail (TLS 1.0-1.2): rejected: {answer}" in result.stdout, explain(result, server)
    assert ("so the server closes the connection in answer to" in result.stdout) == silent
    if protocol == "imaps":
        apple = s_client(port, "-tls1_2", "-groups", "P-256:P-384:P-521")
        assert not connected(apple), apple.stdout
        assert ("SSL handshake has read 0 bytes" in apple.stdout) == silent, apple.stdout
        assert connected(s_client(port, "-tls1_2", "-groups", "X25519:P-256:P-384:P-521"))


def test_dovecot_tls13_only_with_chacha20_fails_apple_mail_and_outlook_each_for_its_reason(
    dovecots: dict[str, DovecotInstance], creds: Credentials
) -> None:
    """ssl_min_protocol = TLSv1.3, ssl_cipher_suites = TLS_CHACHA20_POLY1305_SHA256. Outlook offers TLS 1.3, so
    the server picks 1.3 and its TLS 1.3 suites are why, not any TLS 1.2 suite. Apple Mail offers TLS 1.2 at
    most; Dovecot 2.3 closes without an alert, which looks the same for TLS 1.2 switched off and for no ECDSA
    suite in the TLS 1.2 list (the incident), so the words say both; Dovecot 2.4 sends protocol_version, so the
    words say TLS 1.3 is required."""
    server = dovecots["chacha"]
    before = utcnow()
    result = run(server, "imaps", "imaps", creds, "-v")
    port = server.ports["imaps"]
    apple = (
        "Apple Mail cannot connect over TLS 1.2: the certificate is ECDSA and the server accepts no ECDSA suite "
        "over TLS 1.2: add ECDHE-ECDSA suites to the server's TLS 1.2 cipher list (or enable TLS 1.2 if it is "
        "off: the server closes without an alert, so the two look the same)"
        if dovecot_version() < (2, 4)
        else "Apple Mail cannot connect over TLS 1.2: the server requires TLS 1.3 and this client supports at "
        "most TLS 1.2: enable TLS 1.2 on the server"
    )
    outlook = (
        "Outlook (Windows 11) cannot connect: the server accepts only the TLS_CHACHA20_POLY1305_SHA256 TLS 1.3 "
        "suite and Outlook (Windows 11) offers TLS_AES_256_GCM_SHA384 and TLS_AES_128_GCM_SHA256: add "
        "TLS_AES_128_GCM_SHA256 to the server's TLS 1.3 suites (Dovecot ssl_cipher_suites, OpenSSL Ciphersuites)"
    )

    def line(now: datetime) -> str:
        _, perf = valid(creds.leaf("ecdsa"), now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} imaps: {apple} (1 more problem below) | clients_ok=2;;4:;0;4 "
            f"days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)
    assert result.stdout.split("\n")[1:3] == [apple, outlook], explain(result, server)
    # The oracle: OpenSSL's client gets nothing over TLS 1.2, and over TLS 1.3 only with ChaCha20.
    assert not connected(s_client(port, "-tls1_2"))
    outlook_suites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"
    assert not connected(s_client(port, "-tls1_3", "-ciphersuites", outlook_suites))
    assert connected(s_client(port, "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"))


ONLY_3DES = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+3DES-CBC:-KX-ALL:+RSA:-MAC-ALL:+SHA1"
OFFER_3DES = ("apple-mail", "gmail", "openssl-1.0.2-mta")
#: Thunderbird 153 and Windows 11 22H2+ (Outlook) dropped 3DES; Thunderbird 91.9 and Windows 11 21H2 offered it.
NO_3DES = ("thunderbird", "outlook", "postfix", "android", "exim-gnutls")


def test_3des_only_server_lets_in_exactly_the_clients_that_offer_3des_and_says_why_the_others_fail(
    creds: Credentials,
) -> None:
    """gnutls-serv with TLS_RSA_WITH_3DES_EDE_CBC_SHA alone (Debian 12's OpenSSL cannot offer 3DES at all): the
    certificate comes from a client's hello answer, the profiles that offer 3DES connect, the others are told
    the server takes another suite, not that it has no RSA suite."""
    require("gnutls-serv", "gnutls-cli")
    chain, key = creds.files["rsa"]
    for name in OFFER_3DES:
        profile = catalogue().profiles[name].hello_template
        assert profile is not None and 0x000A in profile.cipher_suites, name
    for name in NO_3DES:
        profile = catalogue().profiles[name].hello_template
        assert profile is not None and not {0x000A, 0xC008, 0xC012, 0x0016, 0x0013} & set(profile.cipher_suites)
    before = utcnow()
    with GnutlsServer(chain, key, ONLY_3DES) as server:
        result = check(
            "-H", "127.0.0.1", "--servername", NAME, "-p", str(server.port), "-P", "tls", "--ca-file", creds.ca_file,
            "-v", *clients(*OFFER_3DES, *NO_3DES),
        )  # fmt: skip
        port = server.port
        # The oracle: GnuTLS's client with 3DES connects; OpenSSL's widest TLS 1.2 offer does not.
        gnutls = subprocess.run(
            ["gnutls-cli", "--priority", "NORMAL:+3DES-CBC:+RSA", "--x509cafile", creds.ca_file, "--port",
             str(port), "--sni-hostname", NAME, "--verify-hostname", NAME, "127.0.0.1"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
        openssl = s_client(port, "-tls1_2", "-cipher", "ALL:@SECLEVEL=0")
    assert "3DES-CBC" in gnutls.stdout and "Handshake was completed" in gnutls.stdout, gnutls.stdout + gnutls.stderr
    assert not connected(openssl)

    def line(now: datetime) -> str:
        words, perf = valid(creds.leaf("rsa"), now, "RSA 2048")
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} tls: Thunderbird, Outlook (Windows 11), Postfix MTA, Android and "
            "Exim (GnuTLS) cannot connect: the server takes none of the offered TLS 1.2 suites (it gives other "
            "clients DES-CBC3-SHA): add ECDHE-RSA suites to the server's TLS 1.2 cipher list / "
            f"{words} | clients_ok=3;;8:;0;8 days_remaining={perf} "
            "lifetime_used=U%;80;90;0;100 probes_time=Ts;;;0"
        )

    assert_line(result, line, before)
    for name in OFFER_3DES:
        title = catalogue().profiles[name].title
        assert re.search(rf"^client {re.escape(title)} \(.*\): accepted, TLS 1.2 DES-CBC3-SHA ", result.stdout, re.M)
    assert "first handshake (TLS 1.0-1.3, any suite): rejected: server sent TLS alert handshake failure" in (
        result.stdout
    )


def posttls_finger(postfix: PostfixInstance, *extra: str) -> str:
    """Postfix's own SMTP client TLS, at the secure level with the test root (it reads the instance's main.cf)."""
    port = postfix.ports["sni-smtp"]
    ca_file = postfix.where.inside(postfix.ca_file)
    result = postfix.tool("posttls-finger", "-c", "-l", "secure", "-F", ca_file, *extra, f"[127.0.0.1]:{port}", NAME)
    return result.stdout + result.stderr


def test_an_mta_without_sni_gets_the_default_certificate_and_is_told_so_as_posttls_finger_is(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    """tls_server_sni_maps holds the right certificate; the default one is for another name. Postfix's SMTP
    client sends no SNI (smtp_tls_servername is empty), so it gets the default one: posttls-finger, which is
    Postfix's client, reports the hostname mismatch, and so must the check for --client postfix."""
    port = postfix.ports["sni-smtp"]
    before = utcnow()
    result = run(postfix, "sni-smtp", "smtp", creds, "--client", "postfix", "-v")

    def line(now: datetime) -> str:
        _, perf = valid(creds.leaf("ecdsa"), now)
        _, bare = valid(creds.leaf("other"), now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} smtp: certificate without SNI: name mismatch: certificate is for "
            f"{OTHER_NAME}, not {NAME} | clients_ok=1;;1:;0;1 days_remaining={perf} days_remaining_nosni={bare} "
            f"{TIMES}"
        )

    assert_line(result, line, before)
    assert "client Postfix MTA (TLS 1.0-1.3, no SNI): accepted, " in result.stdout
    assert "  gets the certificate without SNI\n" in result.stdout
    assert f"certificate (without SNI): {OTHER_NAME}, ECDSA P-256, " in result.stdout
    finger = posttls_finger(postfix)
    assert "server certificate verification failed" in finger and "hostname mismatch" in finger, finger
    assert f"subject_CN={OTHER_NAME}," in finger, finger
    # With SNI (as -s sends it) Postfix serves the right certificate, and so the check's own default probe saw.
    with_sni = posttls_finger(postfix, "-s", NAME)
    assert f"subject_CN={NAME}," in with_sni and "Verified TLS connection established" in with_sni, with_sni


def test_the_default_mtas_against_the_sni_only_certificate_are_critical_for_it(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    port = postfix.ports["sni-smtp"]
    before = utcnow()
    result = run(postfix, "sni-smtp", "smtp", creds)

    def line(now: datetime) -> str:
        _, perf = valid(creds.leaf("ecdsa"), now)
        _, bare = valid(creds.leaf("other"), now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} smtp: certificate without SNI: name mismatch: certificate is for "
            f"{OTHER_NAME}, not {NAME} | clients_ok=4;;4:;0;4 days_remaining={perf} days_remaining_nosni={bare} "
            f"{TIMES}"
        )

    assert_line(result, line, before)


def test_mail_user_agents_send_sni_and_get_the_right_certificate(postfix: PostfixInstance, creds: Credentials) -> None:
    port = postfix.ports["sni-submission"]
    before = utcnow()
    result = run(postfix, "sni-submission", "submission", creds, "-v")

    def line(now: datetime) -> str:
        words, perf = valid(creds.leaf("ecdsa"), now)
        return (
            f"TLS_MAIL OK - 127.0.0.1:{port} submission STARTTLS, TLS 1.3, {words}, "
            f"4/4 clients connect | clients_ok=4;;4:;0;4 days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)
    assert "without SNI" not in result.stdout and OTHER_NAME not in result.stdout


def test_a_private_cas_ten_year_certificate_locks_out_apple_mail_only(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    """Apple: a certificate issued from 2019-07-01 on must be valid for at most 825 days (HT210176)."""
    cert = creds.leaf("tenyear")
    assert cert.not_valid_before_utc.year >= 2019 and (cert.not_valid_after_utc - cert.not_valid_before_utc).days > 825
    before = utcnow()
    mua = run(postfix, "tenyear-submission", "submission", creds, "-v")
    mta = run(postfix, "tenyear-smtp", "smtp", creds)

    def mua_line(now: datetime) -> str:
        words, perf = valid(cert, now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{postfix.ports['tenyear-submission']} submission: Apple Mail cannot "
            f"connect over TLS 1.2: the certificate is valid for 3650 days and Apple Mail accepts at most 825 / "
            f"{words} | clients_ok=3;;4:;0;4 days_remaining={perf} {TIMES}"
        )

    def mta_line(now: datetime) -> str:
        words, perf = valid(cert, now)
        return (
            f"TLS_MAIL OK - 127.0.0.1:{postfix.ports['tenyear-smtp']} smtp STARTTLS, TLS 1.3, {words}, 4/4 clients "
            f"connect | clients_ok=4;;4:;0;4 days_remaining={perf} {TIMES}"
        )

    assert_line(mua, mua_line, before)
    assert_line(mta, mta_line, before)
    assert "client Apple Mail (TLS 1.0-1.2): accepted, TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384 " in mua.stdout
    assert "  refuses the certificate: the certificate is valid for 3650 days and Apple Mail accepts at most 825\n" in (
        mua.stdout
    )
    assert re.search(r"^client Thunderbird \(TLS 1.2-1.3\): accepted, TLS 1.3 ", mua.stdout, re.M)
    assert "refuses the certificate" not in mua.stdout.split("client Thunderbird", 1)[1]


def test_a_certificate_without_extended_key_usage_from_a_private_ca_is_taken_by_apple_mail(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    """Apple's SSL policy demands a serverAuth EKU only for chains to a built-in root (SecPolicyCheckServerAuthEKU);
    under a user- or admin-added root, as --ca-file stands for, an absent EKU passes (set_ssl_ekus). RFC 5280
    clients take it too. (The built-in case is judged in tests/unit/test_constraints.py.)"""
    cert = creds.leaf("noeku")
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    before = utcnow()
    result = run(postfix, "noeku-submission", "submission", creds)

    def line(now: datetime) -> str:
        words, perf = valid(cert, now)
        return (
            f"TLS_MAIL OK - 127.0.0.1:{postfix.ports['noeku-submission']} submission STARTTLS, TLS 1.3, {words}, "
            f"4/4 clients connect | clients_ok=4;;4:;0;4 days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)


def test_an_ed25519_certificate_fails_every_mail_user_agent_on_its_signature_algorithms(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    """No mail user agent profile offers the ed25519 signature algorithm: the server has no way to sign for them.
    OpenSSL's client with Apple Mail's signature algorithms fails the same way, with ed25519 added it connects."""
    port = postfix.ports["ed25519-submission"]
    before = utcnow()
    result = run(postfix, "ed25519-submission", "submission", creds)
    words = "the certificate's key is Ed25519 and {} offers no signature algorithm for Ed25519 keys: add an ECDSA or RSA certificate beside it (dual certificates)"  # noqa: E501

    def line(now: datetime) -> str:
        _, perf = valid(creds.leaf("ed25519"), now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} submission: Apple Mail cannot connect over TLS 1.2: "
            f"{words.format('Apple Mail')} (3 more problems below) | clients_ok=0;;4:;0;4 days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)
    assert result.stdout.split("\n")[2] == f"Thunderbird cannot connect: {words.format('Thunderbird')}"
    apple = catalogue().profiles["apple-mail"].hello_template
    assert apple is not None
    sigalgs = [name_of(code, SIGNATURE_ALGORITHMS) for code in apple.signature_algorithms]
    openssl_names = [n.replace("rsa_pkcs1_sha1", "RSA+SHA1").replace("ecdsa_sha1", "ECDSA+SHA1") for n in sigalgs]
    refused = s_client(port, "-tls1_2", "-sigalgs", colon(openssl_names), starttls="smtp")
    assert not connected(refused), refused.stdout
    assert connected(s_client(port, "-tls1_2", "-sigalgs", colon([*openssl_names, "ed25519"]), starttls="smtp"))


def test_an_ed25519_certificate_fails_the_mta_without_ed25519_and_not_postfix(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    port = postfix.ports["ed25519-smtp"]
    before = utcnow()
    result = run(postfix, "ed25519-smtp", "smtp", creds)

    def line(now: datetime) -> str:
        words, perf = valid(creds.leaf("ed25519"), now, "Ed25519")
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} smtp: MTA on OpenSSL 1.0.2 cannot connect over TLS 1.2: the "
            "certificate's key is Ed25519 and MTA on OpenSSL 1.0.2 offers no signature algorithm for Ed25519 keys: "
            f"add an ECDSA or RSA certificate beside it (dual certificates) / {words} | clients_ok=3;;4:;0;4 "
            f"days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)


def test_the_incident_on_postfix_keeps_its_exact_first_line(postfix: PostfixInstance, creds: Credentials) -> None:
    port = postfix.ports["incident-submission"]
    before = utcnow()
    result = run(postfix, "incident-submission", "submission", creds)

    def line(now: datetime) -> str:
        words, perf = valid(creds.leaf("ecdsa"), now)
        return (
            f"TLS_MAIL CRITICAL - 127.0.0.1:{port} submission: Apple Mail cannot connect over TLS 1.2: the "
            "certificate is ECDSA and the server accepts no ECDSA suite over TLS 1.2: add ECDHE-ECDSA suites to the "
            f"server's TLS 1.2 cipher list / {words} | clients_ok=3;;4:;0;4 days_remaining={perf} {TIMES}"
        )

    assert_line(result, line, before)


def test_vvv_shows_each_clients_hello_and_the_servers_choice_within_the_long_output_limit(
    postfix: PostfixInstance, creds: Credentials
) -> None:
    """SMTP dialogues are long: each one is shown once, so the clients' lines fit in the bounded long output."""
    result = run(postfix, "x25519-smtp", "smtp", creds, "-vvv")
    out = result.stdout
    assert "more line" not in out, out
    assert out.count("  S: 220 2.0.0 Ready to start TLS") == 1, out
    for name in ("postfix", "openssl-1.0.2-mta", "exim-gnutls"):
        profile = catalogue().profiles[name]
        hello = profile.hello_template
        assert hello is not None
        found = re.search(
            rf"^client {re.escape(profile.title)} \({profile.offer.versions}, no SNI\): "
            r"(.*)\n(?:  .*\n)*?  hello offered: (.*)$",
            out,
            re.M,
        )
        assert found, out
        versions = "1.0, 1.1, 1.2, 1.3" if profile.max_version.number == "1.3" else "1.0, 1.1, 1.2"
        suites = [code for code in hello.cipher_suites if code not in GREASE | {RENEGOTIATION_SCSV, FALLBACK_SCSV}]
        assert found.group(2).startswith(f"TLS {versions}; {len(suites)} suites ("), found.group(2)
        assert "; SNI none" in found.group(2)
        if name == "openssl-1.0.2-mta":
            assert found.group(1).startswith("rejected: server sent TLS alert handshake failure (")
        else:  # the server's choice: version, suite and group
            assert re.match(r"accepted, TLS 1.3 TLS_\w+, group X25519 \(", found.group(1)), found.group(1)
