"""Micro-benchmark: one hello probe (check_tls_mail.tls.hello.exchange) against one full handshake (Python ssl).

Both run in this process against the same loopback ``openssl s_server`` (RSA and
ECDSA certificates, TLS 1.0-1.3), one connection per probe, for a few profiles.
Reports the median wall time per probe, this process's CPU per probe
(user+sys from getrusage) and the server's CPU per probe (from /proc), and the
one-time cost of the first hello probe (imports of cryptography's key code).

Usage: .venv/bin/python scripts/bench_hello.py [--runs N] [--profiles a,b,...]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT))

from pki import Pki  # noqa: E402
from tlsservers import OpenSslServer  # noqa: E402

from check_tls_mail.clients.profiles import ClientProfile, catalogue  # noqa: E402
from check_tls_mail.net.transport import Deadline  # noqa: E402

NAME = "mail.example.test"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hello_probe(port: int, profile: ClientProfile) -> Callable[[], str]:
    from check_tls_mail.tls.hello.answer import ServerHelloAnswer
    from check_tls_mail.tls.hello.exchange import exchange_hello

    spec = profile.hello(NAME)

    def run() -> str:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            answer = exchange_hello(sock, spec, Deadline(10)).answer
        assert isinstance(answer, ServerHelloAnswer) and answer.accepted, answer
        return f"0x{answer.cipher_suite:04x}"

    return run


def full_handshake(port: int, profile: ClientProfile) -> Callable[[], str]:
    ctx = profile.offer.context()

    def run() -> str:
        with (
            socket.create_connection(("127.0.0.1", port)) as sock,
            ctx.wrap_socket(sock, server_hostname=NAME) as tls,
        ):
            cipher = tls.cipher()
            tls.getpeercert(binary_form=True)
        return cipher[0] if cipher else "?"

    return run


def measure(probe: Callable[[], str], runs: int, server_pid: int) -> tuple[float, float, float, str]:
    """(median wall ms, client CPU ms per probe, server CPU ms per probe, what was negotiated)."""
    probe()  # warm-up
    walls = []
    cpu0, server0 = cpu(), server_cpu(server_pid)
    chosen = ""
    for _ in range(runs):
        started = time.perf_counter()
        chosen = probe()
        walls.append(time.perf_counter() - started)
    time.sleep(0.05)  # let the server finish its side of the last connection
    client = (cpu() - cpu0) / runs
    server = (server_cpu(server_pid) - server0) / runs
    return statistics.median(walls) * 1000, client * 1000, server * 1000, chosen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--profiles", default="apple-mail,thunderbird,postfix,android")
    args = parser.parse_args()
    profiles = [catalogue().profiles[name] for name in args.profiles.split(",")]
    with tempfile.TemporaryDirectory() as directory:
        pki = Pki(Path(directory))
        rsa = pki.leaf(key_type="RSA").write(pki.directory, "rsa")
        ecdsa = pki.leaf(key_type="ECDSA").write(pki.directory, "ecdsa")
        with OpenSslServer(
            "-cert", rsa[0], "-key", rsa[1], "-dcert", ecdsa[0], "-dkey", ecdsa[1], "-cipher", "ALL:@SECLEVEL=0"
        ) as server:
            first_started, first_cpu = time.perf_counter(), cpu()
            hello_probe(server.port, profiles[0])()
            first = (time.perf_counter() - first_started) * 1000, (cpu() - first_cpu) * 1000
            rows = []
            for profile in profiles:
                for kind, make in (("hello probe", hello_probe), ("full handshake", full_handshake)):
                    wall, client, served, chosen = measure(make(server.port, profile), args.runs, server.process.pid)
                    rows.append((profile.name, kind, chosen, wall, client, served))
    python = sys.version.split()[0]
    print(f"{args.runs} probes each against a loopback openssl s_server ({ssl.OPENSSL_VERSION}), Python {python}")
    print()
    print("| profile | probe | negotiated | wall ms (median) | client CPU ms/probe | server CPU ms/probe |")
    print("|---|---|---|---:|---:|---:|")
    for name, kind, chosen, wall, client, served in rows:
        print(f"| {name} | {kind} | {chosen} | {wall:.2f} | {client:.2f} | {served:.2f} |")
    print()
    print(
        "First hello probe of the process (imports the hello modules and cryptography's key code, parses the profile): "
        f"{first[0]:.0f} ms wall, {first[1]:.0f} ms CPU"
    )


if __name__ == "__main__":
    main()
