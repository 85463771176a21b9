#!/usr/bin/env python3
"""Local emulator of the F5 Distributed Cloud (F5 XC) cache-purge operation API.

The emulator serves get-service-operation-status, list-service-operations-status
and cache-purge for http_loadbalancer and cdn_loadbalancer objects over HTTPS
with per-run certificates, plus a /_emulator control endpoint for faults and
scenarios. When it is ready it prints one JSON line with its URL and file paths.
See README.md in this folder for the flags, the control endpoint and the seeded
state.

Usage:
    OPSTATUS_EMULATOR_TOKEN=... python3 emulator.py --port 0 --state-dir DIR
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

from emulator_http import EmulatorServer
from emulator_state import EmulatorState, Scenario

TOKEN_ENV = "OPSTATUS_EMULATOR_TOKEN"
P12_PASSWORD_ENV = "OPSTATUS_EMULATOR_P12_PASSWORD"

CERTIFICATE_DAYS = 7
OPENSSL_TIMEOUT_S = 60
# Maximum time that shutdown waits for connection threads to close their sockets.
SHUTDOWN_GRACE_S = 2.0

logger = logging.getLogger("emulator")


class StartupError(Exception):
    """Failure before the server is ready, reported with exit code 1."""


# Certificates.

_OPENSSL_CONFIG = """\
[req]
distinguished_name = subject
prompt = no

[subject]
CN = opstatus F5 XC emulator

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = {subject_alt_names}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _run_openssl(arguments: list[str], directory: Path, env: dict[str, str] | None = None) -> None:
    command = ["openssl", *arguments]
    try:
        completed = subprocess.run(
            command, cwd=directory, env=env, capture_output=True, text=True, timeout=OPENSSL_TIMEOUT_S
        )
    except FileNotFoundError:
        raise StartupError("the openssl command was not found; install OpenSSL and put it on PATH") from None
    except subprocess.TimeoutExpired:
        raise StartupError(f"openssl {arguments[0]} timed out after {OPENSSL_TIMEOUT_S} s") from None
    if completed.returncode != 0:
        raise StartupError(
            f"openssl {arguments[0]} failed with exit code {completed.returncode}: {completed.stderr.strip()}"
        )


def _subject_alt_names(host: str) -> str:
    names = ["IP:127.0.0.1", "IP:::1", "DNS:localhost"]
    if host not in ("127.0.0.1", "::1", "localhost"):
        try:
            ipaddress.ip_address(host)
            names.append(f"IP:{host}")
        except ValueError:
            names.append(f"DNS:{host}")
    return ", ".join(names)


def _new_key(name: str, directory: Path) -> None:
    _run_openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name], directory)
    (directory / name).chmod(0o600)


def _signed_certificate(name: str, common_name: str, extensions: str, directory: Path) -> None:
    """Create NAME-key.pem and NAME.pem, a certificate for `common_name` signed by the emulator CA."""
    _new_key(f"{name}-key.pem", directory)
    request = f"{name}.csr"
    _run_openssl(
        ["req", "-config", "openssl.cnf", "-new", "-key", f"{name}-key.pem", "-subj", f"/CN={common_name}", "-out", request],
        directory,
    )
    _run_openssl(
        [
            "x509", "-req", "-in", request, "-CA", "ca.pem", "-CAkey", "ca-key.pem",
            "-set_serial", f"0x{secrets.token_hex(16)}", "-days", str(CERTIFICATE_DAYS),
            "-extfile", "openssl.cnf", "-extensions", extensions, "-out", f"{name}.pem",
        ],
        directory,
    )  # fmt: skip
    (directory / request).unlink()


def generate_certificates(directory: Path, host: str, mtls: bool) -> dict[str, Path]:
    """Generate a CA, a server certificate and, with `mtls`, a client certificate and PKCS#12 bundle.

    Keys are EC P-256. The server certificate is valid for 127.0.0.1, ::1,
    localhost and `host`. The PKCS#12 bundle uses 3DES with a SHA-1 MAC in place
    of the AES default of OpenSSL 3, because older PKCS#12 readers support only
    the legacy algorithms. NOTE: the self-test checks only that OpenSSL reads it.
    The bundle password comes from OPSTATUS_EMULATOR_P12_PASSWORD through the
    environment, so it never appears on a command line. Existing files are
    overwritten.
    """
    config = _OPENSSL_CONFIG.format(subject_alt_names=_subject_alt_names(host))
    (directory / "openssl.cnf").write_text(config, encoding="utf-8")

    _new_key("ca-key.pem", directory)
    _run_openssl(
        [
            "req", "-config", "openssl.cnf", "-new", "-x509", "-key", "ca-key.pem",
            "-subj", "/CN=opstatus F5 XC emulator CA", "-days", str(CERTIFICATE_DAYS),
            "-extensions", "ca_ext", "-out", "ca.pem",
        ],
        directory,
    )  # fmt: skip
    _signed_certificate("server", "localhost", "server_ext", directory)
    paths = {
        "ca": directory / "ca.pem",
        "server_cert": directory / "server.pem",
        "server_key": directory / "server-key.pem",
    }
    if not mtls:
        return paths

    _signed_certificate("client", "opstatus-emulator-client", "client_ext", directory)
    _run_openssl(
        [
            "pkcs12", "-export", "-in", "client.pem", "-inkey", "client-key.pem", "-certfile", "ca.pem",
            "-name", "opstatus-emulator-client", "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES",
            "-macalg", "sha1", "-passout", f"env:{P12_PASSWORD_ENV}", "-out", "client.p12",
        ],
        directory,
        env=dict(os.environ),
    )  # fmt: skip
    (directory / "client.p12").chmod(0o600)
    paths.update(
        client_cert=directory / "client.pem",
        client_key=directory / "client-key.pem",
        client_p12=directory / "client.p12",
    )
    return paths


def build_ssl_context(certificates: dict[str, Path], mtls: bool) -> ssl.SSLContext:
    """Build the server TLS context: TLS 1.2 or later, ALPN http/1.1, and with `mtls` a required client certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificates["server_cert"], certificates["server_key"])
    context.set_alpn_protocols(["http/1.1"])
    if mtls:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certificates["ca"])
    return context


# Command line.


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 3600 seconds, got {text}")
    return value


def _milliseconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 600_000:
        raise argparse.ArgumentTypeError(f"must be between 0 and 600000 ms, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Local emulator of the F5 XC cache-purge operation API. "
        "Prints one JSON line with url, ca_file, control and pid when it is ready.",
        epilog=f"Environment: {TOKEN_ENV} sets the API token that requests must send as "
        f"'Authorization: APIToken <token>' (required). {P12_PASSWORD_ENV} sets the password "
        "of client.p12 (required with --mtls).",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port to listen on; 0 picks a free port (default: 0)")
    parser.add_argument(
        "--state-dir", required=True, type=Path, help="directory for certificates and emulator.json; created if missing"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on; an address with ':' is IPv6 (default: 127.0.0.1)")
    parser.add_argument(
        "--op-duration",
        type=_positive_seconds,
        default=3.0,
        help="seconds from a purge request until its last site finishes (default: 3)",
    )
    parser.add_argument(
        "--latency-ms", type=_milliseconds, default=0.0, help="milliseconds to wait before every API response (default: 0)"
    )
    parser.add_argument("--plain-http", action="store_true", help="serve plain HTTP instead of HTTPS")
    parser.add_argument(
        "--mtls",
        action="store_true",
        help="require a client certificate signed by the emulator CA on every connection; "
        "a valid certificate replaces the API token",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=("fail-site", "late-sites"),
        default=[],
        help="behaviour applied to every purge; repeat the flag to combine both",
    )
    return parser


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _write_ready_file(path: Path, ready: dict) -> None:
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(ready) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _read_token() -> str | None:
    """Return the API token from the environment, or None after printing why it is unusable."""
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"error: environment variable {TOKEN_ENV} is missing or empty; set it to the API token", file=sys.stderr)
        return None
    if any(character.isspace() or ord(character) < 0x20 for character in token):
        print(f"error: {TOKEN_ENV} must not contain spaces or control characters", file=sys.stderr)
        return None
    return token


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.mtls and args.plain_http:
        parser.error("--mtls needs TLS, so it cannot be combined with --plain-http")
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    token = _read_token()
    if token is None:
        return 2
    if args.mtls and not os.environ.get(P12_PASSWORD_ENV):
        print(f"error: --mtls needs the environment variable {P12_PASSWORD_ENV} for the client.p12 password", file=sys.stderr)
        return 2

    state_dir = args.state_dir.resolve()
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        certificates = None if args.plain_http else generate_certificates(state_dir, args.host, args.mtls)
        ssl_context = None if certificates is None else build_ssl_context(certificates, args.mtls)
        default_scenario = Scenario(fail_site="fail-site" in args.scenario, late_sites="late-sites" in args.scenario)
        state = EmulatorState(args.op_duration, default_scenario, now=time.time())
        server = EmulatorServer(
            (args.host, args.port),
            ipv6=":" in args.host,
            state=state,
            token=token,
            ssl_context=ssl_context,
            mtls=args.mtls,
            latency_s=args.latency_ms / 1000,
        )
    except (StartupError, OSError) as error:
        logger.error("startup failed: %s", error)
        return 1

    scheme = "http" if args.plain_http else "https"
    url = f"{scheme}://{_url_host(args.host)}:{server.server_address[1]}"
    ready = {
        "url": url,
        "ca_file": None if certificates is None else str(certificates["ca"]),
        "control": f"{url}/_emulator",
        "pid": os.getpid(),
    }
    if args.mtls:
        for key in ("client_cert", "client_key", "client_p12"):
            ready[key] = str(certificates[key])

    stop_signals: list[int] = []
    stop_event = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_signals.append(signum)
        stop_event.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    accept_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="accept")
    accept_thread.start()
    _write_ready_file(state_dir / "emulator.json", ready)
    logger.info(
        "listening on %s (%s, op duration %g s, latency %g ms, scenarios %s)",
        url,
        "mTLS" if args.mtls else scheme,
        args.op_duration,
        args.latency_ms,
        ", ".join(args.scenario) or "none",
    )
    print(json.dumps(ready), flush=True)

    while not stop_event.wait(0.5):
        pass
    logger.info("received %s, stopping", signal.Signals(stop_signals[0]).name)
    server.shutdown()
    server.close_connections()
    server.wait_for_connections(SHUTDOWN_GRACE_S)
    server.server_close()
    accept_thread.join()
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
