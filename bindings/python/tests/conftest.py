"""Fixtures that run the F5 XC emulator of this repository on loopback.

The emulator is ``Tests/Emulator/emulator.py``. Each emulator process gets a
random API token through its environment. The token and, for an mTLS
emulator, the PKCS#12 password stay in the fixture object, whose repr leaves
them out, so test output never shows them.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PYTHON_BINDING_DIR = Path(__file__).resolve().parents[1]
REPOSITORY = Path(__file__).resolve().parents[3]
EMULATOR_SCRIPT = REPOSITORY / "Tests" / "Emulator" / "emulator.py"
STARTUP_TIMEOUT_SECONDS = 30
SHUTDOWN_TIMEOUT_SECONDS = 10
PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)
# Variables from which the library reads settings when use_environment is
# not false. Tests of that lookup start without any of them set.
SETTING_VARIABLES = (
    "F5XC_API_URL",
    "VOLT_API_URL",
    "F5XC_API_TOKEN",
    "F5XC_P12_FILE",
    "VOLT_API_P12_FILE",
    "F5XC_P12_PASSWORD",
    "VES_P12_PASSWORD",
    "F5XC_CERT",
    "VOLT_API_CERT",
    "F5XC_KEY",
    "VOLT_API_KEY",
    "F5XC_CACERT",
    "VOLT_API_CA_CERT",
    "VOLT_API_TIMEOUT",
)

sys.path.insert(0, str(PYTHON_BINDING_DIR))

# libcurl inside libopstatus and urllib both honour proxy variables, which
# would send the loopback test traffic to another host.
for _variable in PROXY_VARIABLES:
    os.environ.pop(_variable, None)


@dataclass
class Emulator:
    """A running emulator process and the values needed to reach it."""

    url: str
    ca_file: str
    control: str
    token: str = field(repr=False)
    process: subprocess.Popen[bytes] = field(repr=False)
    state_dir: Path | None = None
    # Set only for an emulator started with --mtls.
    client_cert: str | None = None
    client_key: str | None = None
    client_p12: str | None = None
    p12_password: str | None = field(default=None, repr=False)

    def _open_control(self, request: urllib.request.Request) -> bytes:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.client_cert is not None:
            # An mTLS emulator rejects control requests without a certificate.
            context.load_cert_chain(self.client_cert, self.client_key)
        # An empty ProxyHandler keeps urllib from reading proxy settings.
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=context),
        )
        with opener.open(request, timeout=10) as response:
            return response.read()

    def _post(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.control}/{path}",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        self._open_control(request)

    def requests(self) -> list[dict[str, Any]]:
        """Return the API requests that the emulator received since the last reset."""
        request = urllib.request.Request(f"{self.control}/requests", method="GET")
        return json.loads(self._open_control(request))

    def log_text(self) -> str:
        """Return what the emulator wrote to stderr so far."""
        assert self.state_dir is not None
        return (self.state_dir / "emulator.log").read_text(errors="replace")

    def add_faults(self, *faults: dict[str, Any]) -> None:
        """Queue faults that the emulator applies to the next API requests, one each."""
        self._post("faults", {"faults": list(faults)})

    def reset(self) -> None:
        """Restore the seeded state and drop queued faults."""
        self._post("reset", {})

    def set_next_purge(self, **scenario: Any) -> None:
        """Set the scenario of the next purge only: fail_site, late_sites, duration_s."""
        self._post("scenario", scenario)

    def client(self, **settings: Any) -> Any:
        """Create an opstatus.Client for this emulator.

        The client ignores the F5XC_* environment variables and makes one
        attempt per call, so that each queued fault fails exactly one call.
        ``settings`` override these defaults.
        """
        import opstatus

        defaults: dict[str, Any] = {
            "api_url": self.url,
            "api_token": self.token,
            "ca_file": self.ca_file,
            "use_environment": False,
            "max_attempts": 1,
        }
        return opstatus.Client(**{**defaults, **settings})


def _drain(stream: Any) -> None:
    # Keeps the emulator from blocking on a full stdout pipe.
    for _ in iter(stream.readline, b""):
        pass


def _start_emulator(
    state_dir: Path,
    *options: str,
    token: str | None = None,
    p12_password: str | None = None,
) -> Emulator:
    """Start an emulator with a random token unless ``token`` is given.

    ``p12_password`` is required with the ``--mtls`` option.
    """
    if not EMULATOR_SCRIPT.is_file():
        pytest.fail(f"emulator not found at {EMULATOR_SCRIPT}")

    if token is None:
        token = secrets.token_urlsafe(32)
    environment = {**os.environ, "OPSTATUS_EMULATOR_TOKEN": token}
    if p12_password is not None:
        environment["OPSTATUS_EMULATOR_P12_PASSWORD"] = p12_password
    log_path = state_dir / "emulator.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(EMULATOR_SCRIPT),
                "--port",
                "0",
                "--state-dir",
                str(state_dir),
                *options,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=environment,
        )
    assert process.stdout is not None

    ready, _, _ = select.select([process.stdout], [], [], STARTUP_TIMEOUT_SECONDS)
    line = process.stdout.readline() if ready else b""
    if not line:
        _stop(process)
        log_text = log_path.read_text(errors="replace")
        pytest.fail(
            "emulator did not print its ready line within "
            f"{STARTUP_TIMEOUT_SECONDS} s. Exit code {process.returncode}, "
            f"log:\n{log_text}"
        )
    threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()

    ready_info = json.loads(line)
    return Emulator(
        url=ready_info["url"],
        ca_file=ready_info["ca_file"],
        control=ready_info["control"],
        token=token,
        process=process,
        state_dir=state_dir,
        client_cert=ready_info.get("client_cert"),
        client_key=ready_info.get("client_key"),
        client_p12=ready_info.get("client_p12"),
        p12_password=p12_password,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The emulator shared by the whole test session."""
    emulator = _start_emulator(tmp_path_factory.mktemp("emulator"))
    yield emulator
    _stop(emulator.process)


@pytest.fixture
def emulator(emulator_process: Emulator) -> Iterator[Emulator]:
    """The shared emulator, reset after the test so that faults do not leak."""
    yield emulator_process
    emulator_process.reset()


@pytest.fixture(scope="module")
def slow_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A second emulator that waits 1000 ms before each response."""
    emulator = _start_emulator(
        tmp_path_factory.mktemp("slow-emulator"), "--latency-ms", "1000"
    )
    yield emulator
    _stop(emulator.process)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Any]:
    """A client for the shared emulator without retries, closed after the test."""
    with emulator.client() as created:
        yield created


@pytest.fixture(scope="module")
def mtls_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator that requires a client certificate signed by its CA.

    Its client.p12 password is random, with a prefix that makes a leak easy
    to spot.
    """
    emulator = _start_emulator(
        tmp_path_factory.mktemp("mtls-emulator"),
        "--mtls",
        p12_password="P12-PASSWORD-" + secrets.token_hex(12),
    )
    yield emulator
    _stop(emulator.process)


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port that was bound and closed again, so connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Monkeypatch with every settings variable of the library unset."""
    for variable in SETTING_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


class RecordList(logging.Handler):
    """Logging handler that keeps every record it receives."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int) -> list[str]:
        """Return the messages of the records at exactly ``level``."""
        return [
            record.getMessage() for record in self.records if record.levelno == level
        ]


@pytest.fixture
def opstatus_log() -> Iterator[RecordList]:
    """Every record of the "opstatus" logger at DEBUG and above during the test.

    The logger does not propagate meanwhile, so a failing test does not
    print the log text.
    """
    logger = logging.getLogger("opstatus")
    handler = RecordList()
    saved_level, saved_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate


@pytest.fixture(scope="module")
def secret_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator whose random token has a prefix that makes a leak easy to spot."""
    emulator = _start_emulator(
        tmp_path_factory.mktemp("secret-emulator"),
        token="SECRET-TOKEN-" + secrets.token_hex(16),
    )
    yield emulator
    _stop(emulator.process)


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def ipv6_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator that listens on ::1. Tests using it are skipped without IPv6 loopback."""
    if not _ipv6_loopback_available():
        pytest.skip("::1 cannot be bound on this machine")
    emulator = _start_emulator(
        tmp_path_factory.mktemp("ipv6-emulator"), "--host", "::1"
    )
    yield emulator
    _stop(emulator.process)


@pytest.fixture(scope="module")
def plain_http_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator that serves plain HTTP on 127.0.0.1, so its ca_file is None."""
    emulator = _start_emulator(
        tmp_path_factory.mktemp("plain-http-emulator"), "--plain-http"
    )
    yield emulator
    _stop(emulator.process)


@pytest.fixture(scope="module")
def start_emulator(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Emulator]]:
    """Start emulators with extra command-line options, stopped after the module.

    Call it with options such as ``"--op-duration", "1"`` or
    ``"--scenario", "fail-site"``.
    """
    started: list[Emulator] = []

    def start(*options: str) -> Emulator:
        emulator = _start_emulator(tmp_path_factory.mktemp("emulator"), *options)
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        _stop(emulator.process)
