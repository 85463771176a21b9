"""Fixtures that run the F5 XC emulator of this repository on loopback.

The emulator is ``Tests/Emulator/emulator.py``. Each emulator process gets a
random API token through its environment. The token stays in the fixture
object, whose repr leaves it out, so test output never shows it.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import ssl
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
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

    def _post(self, path: str, body: dict[str, Any]) -> None:
        context = ssl.create_default_context(cafile=self.ca_file)
        # An empty ProxyHandler keeps urllib from reading proxy settings.
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=context),
        )
        request = urllib.request.Request(
            f"{self.control}/{path}",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with opener.open(request, timeout=10) as response:
            response.read()

    def add_faults(self, *faults: dict[str, Any]) -> None:
        """Queue faults that the emulator applies to the next API requests, one each."""
        self._post("faults", {"faults": list(faults)})

    def reset(self) -> None:
        """Restore the seeded state and drop queued faults."""
        self._post("reset", {})

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


def _start_emulator(state_dir: Path, *options: str) -> Emulator:
    if not EMULATOR_SCRIPT.is_file():
        pytest.fail(f"emulator not found at {EMULATOR_SCRIPT}")

    token = secrets.token_urlsafe(32)
    environment = {**os.environ, "OPSTATUS_EMULATOR_TOKEN": token}
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
