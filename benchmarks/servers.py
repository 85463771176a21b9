"""Loopback servers for the benchmarks: nginx with canned bodies, and the emulator.

nginx runs in the foreground as a child process, with its configuration,
certificates, logs and temporary files in a directory made for the run.
Every listener binds to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

STATUS_PATH = "/api/cdn/namespaces/{namespace}/http_loadbalancer/get-service-operation-status"
SMALL_NAMESPACE = "demo"
LARGE_NAMESPACE = "big"
LOAD_BALANCER = "shop-frontend"
OPERATION_ID = 101
SMALL_SITES = 10
LARGE_ITEMS = 5000

# Seconds to wait for a server to accept connections.
STARTUP_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Endpoint:
    """Base URL (without /api), CA file and API token of a server."""

    url: str
    ca_file: str | None
    token: str

    def environment(self) -> dict[str, str]:
        """Return the variables that floor.c, the examples and the scripts read."""
        variables = {"F5XC_API_URL": self.url, "F5XC_API_TOKEN": self.token}
        if self.ca_file is not None:
            variables["F5XC_CACERT"] = self.ca_file
        return variables


def free_loopback_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until 127.0.0.1:port accepts a connection, or raise RuntimeError."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited with status {process.returncode} before it "
                f"accepted connections:\n{log.read_text(errors='replace')}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not accept connections on port {port} "
                       f"within {STARTUP_TIMEOUT_S} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Send SIGTERM to a server started here and wait for it to exit."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _format_time(seconds: float) -> str:
    """Format Unix seconds as RFC 3339 in UTC with milliseconds."""
    whole = int(seconds)
    milliseconds = round((seconds - whole) * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{milliseconds:03d}Z"


def status_body(item_count: int) -> bytes:
    """Build a status response in the F5 XC shape with item_count finished sites.

    Byte counts are decimal strings (some above 2^32) and times are RFC 3339,
    as the API sends them. The text has no '$', '\\' or quote other than '"',
    so nginx can return it inline.
    """
    purge_time = 1764852000.0  # 2025-12-04T12:40:00Z
    items = []
    for index in range(item_count):
        start = purge_time + 0.2 + (index % 50) * 0.05
        items.append(
            {
                "service_op_id": OPERATION_ID,
                "status": "success",
                "purge": {
                    "site": f"ves-io-{('par', 'nyc', 'sin', 'fra', 'lon')[index % 5]}{index}",
                    "hard_purge": False,
                    "regexp": "^/assets/",
                    "start_time": _format_time(start),
                    "purge_time": _format_time(purge_time),
                    "finish_time": _format_time(start + 18.0 + (index % 37) * 0.5),
                    "bytes_purged": str(734003200 + index * 4294967297 % 17179869184),
                    "bytes_not_purged": "0",
                },
            }
        )
    return json.dumps({"items": items}, separators=(",", ":")).encode("ascii")


def _run_openssl(arguments: list[str], directory: Path) -> None:
    completed = subprocess.run(
        ["openssl", *arguments], cwd=directory, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"openssl {arguments[0]} failed: {completed.stderr.strip()}")


def generate_certificates(directory: Path) -> Path:
    """Create a CA and a server certificate for 127.0.0.1, and return the CA file.

    Keys are EC P-256 and the certificates are valid for 2 days, which is
    enough for one run.
    """
    _run_openssl(
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=opstatus benchmark CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ],
        directory,
    )
    _run_openssl(
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "server-key.pem", "-out", "server.pem", "-days", "2",
            "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "extendedKeyUsage=serverAuth",
        ],
        directory,
    )
    return directory / "ca.pem"


def _nginx_config(directory: Path, plain_port: int, tls_port: int, small_body: str) -> str:
    small_path = STATUS_PATH.format(namespace=SMALL_NAMESPACE)
    large_path = STATUS_PATH.format(namespace=LARGE_NAMESPACE)
    temp = directory / "temp"
    return f"""
daemon off;
master_process on;
worker_processes 2;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;

events {{
    worker_connections 512;
}}

http {{
    access_log off;
    client_body_temp_path {temp}/client_body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    default_type application/json;
    keepalive_timeout 300s;
    keepalive_requests 10000000;

    server {{
        listen 127.0.0.1:{plain_port};
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {directory}/server.pem;
        ssl_certificate_key {directory}/server-key.pem;

        location = {small_path} {{
            return 200 '{small_body}';
        }}

        # The static module rejects POST with 405. error_page turns that into
        # an internal GET of the file, which nginx sends with status 200.
        location = {large_path} {{
            error_page 405 =200 /large-body.json;
            return 405;
        }}

        location = /large-body.json {{
            internal;
            root {directory}/www;
        }}

        location / {{
            return 404;
        }}
    }}
}}
"""


class Nginx:
    """nginx serving the small and the large status body over HTTP and TLS."""

    def __init__(self, directory: Path, token: str) -> None:
        self.directory = directory
        self.token = token
        self.process: subprocess.Popen[bytes] | None = None
        self.small_body = status_body(SMALL_SITES)
        self.large_body = status_body(LARGE_ITEMS)
        self.plain: Endpoint | None = None
        self.tls: Endpoint | None = None

    @property
    def large_body_file(self) -> Path:
        return self.directory / "www" / "large-body.json"

    def start(self) -> None:
        """Write the configuration, certificates and bodies, then start nginx."""
        # Workers run as an unprivileged user when nginx starts as root, and
        # must still read the large body.
        self.directory.chmod(0o755)
        (self.directory / "www").mkdir(mode=0o755)
        (self.directory / "temp").mkdir(mode=0o755)
        self.large_body_file.write_bytes(self.large_body)
        self.large_body_file.chmod(0o644)
        ca_file = generate_certificates(self.directory)

        small_text = self.small_body.decode("ascii")
        if any(character in small_text for character in "$\\'"):
            raise RuntimeError("the small body contains a character nginx would interpret")
        plain_port = free_loopback_port()
        tls_port = free_loopback_port()
        config = self.directory / "nginx.conf"
        config.write_text(_nginx_config(self.directory, plain_port, tls_port, small_text))

        log = self.directory / "stderr.log"
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                ["nginx", "-p", str(self.directory), "-c", str(config)],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
            )
        wait_for_port(plain_port, self.process, log)
        wait_for_port(tls_port, self.process, log)
        self.plain = Endpoint(f"http://127.0.0.1:{plain_port}", None, self.token)
        self.tls = Endpoint(f"https://127.0.0.1:{tls_port}", str(ca_file), self.token)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


class Emulator:
    """The project's F5 XC emulator over TLS, with a fixed latency per response."""

    def __init__(self, repository: Path, directory: Path, token: str, latency_ms: int) -> None:
        self.repository = repository
        self.directory = directory
        self.token = token
        self.latency_ms = latency_ms
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoint: Endpoint | None = None

    def start(self) -> None:
        """Start the emulator and wait for its line of JSON on stdout."""
        environment = dict(os.environ, OPSTATUS_EMULATOR_TOKEN=self.token)
        log = self.directory / "emulator-stderr.log"
        ready_file = self.directory / "emulator.json"
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [
                    sys.executable, str(self.repository / "Tests/Emulator/emulator.py"),
                    "--port", "0", "--host", "127.0.0.1",
                    "--state-dir", str(self.directory),
                    "--latency-ms", str(self.latency_ms),
                ],
                env=environment, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not ready_file.exists() or not ready_file.read_text().strip().endswith("}"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        ready = json.loads(ready_file.read_text())
        self.endpoint = Endpoint(ready["url"], ready["ca_file"], self.token)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def new_token() -> str:
    """Return a random API token for one run. The benchmarks never print it."""
    return secrets.token_urlsafe(24)


def remove_directory(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
