"""The example script examples/status.py, run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "status.py"


def _run_example(
    emulator, *arguments: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "F5XC_API_URL": emulator.url,
        "F5XC_API_TOKEN": emulator.token if token is None else token,
        "F5XC_CACERT": emulator.ca_file,
    }
    # The example must find the package through its own path, not PYTHONPATH.
    environment.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        cwd="/",
    )


def test_example_prints_sites_and_summary(emulator):
    completed = _run_example(emulator, "demo", "shop-frontend", "101")

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    site_lines = [line for line in lines[1:] if not line.startswith("summary:")]
    assert len(site_lines) == 9
    for line in site_lines:
        assert "success" in line
    assert lines[-1].startswith(
        "summary: succeeded, 9 sites (9 succeeded, 0 failed, 0 pending)"
    )
    assert completed.stderr == ""


def test_example_not_found_exits_1(emulator):
    completed = _run_example(emulator, "demo", "no-such-lb", "101")

    assert completed.returncode == 1
    assert completed.stdout == ""
    assert "OPSTATUS_ENOTFOUND" in completed.stderr
    leaked = emulator.token in completed.stderr
    assert not leaked, "the token appears in the error output"


def test_example_wrong_token_exits_1(emulator):
    wrong_token = "wrong-" + emulator.token[:8]

    completed = _run_example(
        emulator, "demo", "shop-frontend", "101", token=wrong_token
    )

    assert completed.returncode == 1
    assert "OPSTATUS_EUNAUTHORIZED" in completed.stderr
    leaked = wrong_token in completed.stderr
    assert not leaked, "the token appears in the error output"


def test_example_missing_settings_exits_1(emulator):
    completed = _run_example(emulator, "demo", "shop-frontend", "101", token="")

    assert completed.returncode == 1
    assert "F5XC_API_TOKEN" in completed.stderr
