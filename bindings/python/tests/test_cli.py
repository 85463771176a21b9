"""The opstatus command, run as ``python -m opstatus`` against emulators on loopback.

Each run gets the settings through F5XC_API_URL, F5XC_API_TOKEN and
F5XC_CACERT, as a user's shell would give them, and loads the library of
the build tree through OPSTATUS_LIBRARY.
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import opstatus
from opstatus import cli
from opstatus._display import LiveProgress

PYTHON_BINDING_DIR = Path(__file__).resolve().parents[1]
REPOSITORY = Path(__file__).resolve().parents[3]
LIBRARY = REPOSITORY / "build" / "libopstatus.so"
RUN_TIMEOUT_SECONDS = 60

NAMESPACE = "demo"
LOAD_BALANCER = "shop-frontend"
SEEDED_OP_ID = 101
SITES = 9
UNKNOWN_OP_ID = 4_000_000
SITE_NAMES = ("ves-io-pa4-par", "ves-io-ny8-nyc", "ves-io-sv10-sjc")
FAST_POLLING = ("--interval", "0.1", "--max-interval", "0.3")
PLAIN_PROGRESS = re.compile(
    r"poll \d+: \d+/\d+ sites succeeded, \d+ failed, \d+ pending, \d+\.\d s"
)
ANSI_CURSOR_UP = re.compile(r"\x1b\[\d+A")
SUBCOMMANDS = ("status", "purge", "list", "wait")

STATUS_101 = ("status", "--namespace", NAMESPACE, "--name", LOAD_BALANCER, "--id", str(SEEDED_OP_ID))
ACCEPTANCE_PURGE = (
    "purge",
    "--namespace",
    NAMESPACE,
    "--name",
    LOAD_BALANCER,
    "--url",
    "/x",
    "--hard",
    "--wait",
)


@pytest.fixture(scope="module")
def cli_emulator(start_emulator):
    """An emulator whose purges finish within 1 s."""
    return start_emulator("--op-duration", "1")


@pytest.fixture(scope="module")
def fail_site_emulator(start_emulator):
    """An emulator where one site of every purge fails."""
    return start_emulator("--op-duration", "1", "--scenario", "fail-site")


def _environment(emulator, **overrides: str | None) -> dict[str, str]:
    # The settings of the machine running the tests must not leak in.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("F5XC_", "VOLT_", "VES_"))
    }
    environment.update(
        PYTHONPATH=str(PYTHON_BINDING_DIR),
        OPSTATUS_LIBRARY=str(LIBRARY),
        F5XC_API_URL=emulator.url,
        F5XC_API_TOKEN=emulator.token,
        F5XC_CACERT=emulator.ca_file,
    )
    for name, value in overrides.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def run_cli(emulator, *arguments: str, **environment: str | None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m opstatus ARGUMENTS`` with stdout and stderr captured."""
    return subprocess.run(
        [sys.executable, "-m", "opstatus", *arguments],
        env=_environment(emulator, **environment),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not PLAIN_PROGRESS.fullmatch(line)]


def _assert_one_error_line(completed: subprocess.CompletedProcess[str]) -> None:
    lines = _error_lines(completed.stderr)
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("opstatus: ")
    assert "Traceback" not in completed.stderr


# Exit codes


def test_cli_status_exit_0(cli_emulator):
    completed = run_cli(cli_emulator, *STATUS_101)

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split() == ["SITE", "STATUS", "BYTES", "PURGED", "BYTES", "NOT", "PURGED", "FINISHED"]
    assert len(lines) == 1 + SITES + 1
    for name in SITE_NAMES:
        assert any(line.startswith(name + " ") for line in lines[1:-1])
    assert lines[-1].startswith("operation 101 on demo/shop-frontend: succeeded, 9 sites")
    assert completed.stderr == ""


def test_cli_acceptance_purge_wait_exit_0(cli_emulator):
    completed = run_cli(cli_emulator, *ACCEPTANCE_PURGE)

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert re.fullmatch(r"purge started: operation \d+ on demo/shop-frontend", lines[0])
    assert lines[1].startswith("SITE")
    site_lines = [line for line in lines if line.startswith("ves-io-")]
    assert len(site_lines) == SITES
    assert all(" success " in line for line in site_lines)
    assert re.search(r"succeeded, 9 sites \(9 succeeded, 0 failed, 0 pending\)", completed.stdout)
    assert re.fullmatch(r"wait succeeded: 1 operation, \d+ polls, \d+\.\d s", lines[-1])


def test_cli_acceptance_fail_site_exit_3(fail_site_emulator):
    completed = run_cli(fail_site_emulator, *ACCEPTANCE_PURGE)

    assert completed.returncode == 3, completed.stderr
    assert re.search(r"failed, 9 sites \(\d+ succeeded, 1 failed, \d+ pending\)", completed.stdout)
    assert completed.stdout.splitlines()[-1].startswith("wait failed:")
    _assert_one_error_line(completed)
    assert re.search(r"failed on 1 of 9 sites: ves-io-", completed.stderr)


def test_cli_status_failed_site_exit_3(fail_site_emulator):
    purge = run_cli(
        fail_site_emulator, "--output", "json", *ACCEPTANCE_PURGE, "--keep-going", *FAST_POLLING
    )
    op_id = json.loads(purge.stdout)["purge_request_id"]

    completed = run_cli(
        fail_site_emulator,
        "status",
        "--namespace",
        NAMESPACE,
        "--name",
        LOAD_BALANCER,
        "--id",
        str(op_id),
    )

    assert purge.returncode == 3
    assert completed.returncode == 3
    _assert_one_error_line(completed)


def test_cli_wait_timeout_exit_4(cli_emulator):
    started = time.monotonic()
    completed = run_cli(
        cli_emulator,
        "wait",
        "--namespace",
        NAMESPACE,
        "--name",
        LOAD_BALANCER,
        "--id",
        str(SEEDED_OP_ID),
        "--expected-sites",
        str(SITES + 1),
        "--timeout",
        "0.5",
        *FAST_POLLING,
    )

    assert completed.returncode == 4, completed.stderr
    assert completed.stdout.splitlines()[-1].startswith("wait timeout:")
    _assert_one_error_line(completed)
    assert "timed out after 0.5 s" in completed.stderr
    assert time.monotonic() - started < RUN_TIMEOUT_SECONDS / 2


def test_cli_purge_wait_timeout_exit_4(cli_emulator):
    completed = run_cli(cli_emulator, *ACCEPTANCE_PURGE, "--timeout", "0.2", *FAST_POLLING)

    assert completed.returncode == 4, completed.stderr
    assert "timed out" in completed.stderr


def test_cli_request_timeout_exit_4(cli_emulator):
    # Every attempt of the library's default 4 gets a response delayed
    # beyond the global --timeout of 0.3 s.
    cli_emulator.add_faults({"kind": "delay", "seconds": 3, "count": 4})
    try:
        completed = run_cli(cli_emulator, "--timeout", "0.3", *STATUS_101)
    finally:
        cli_emulator.reset()

    assert completed.returncode == 4, completed.stderr
    assert "timed out" in completed.stderr
    assert _error_lines(completed.stderr)[-1].startswith("opstatus: operation 101")


def test_cli_connection_refused_exit_1(cli_emulator, closed_port):
    completed = run_cli(
        cli_emulator, "--quiet", *STATUS_101, F5XC_API_URL=f"https://127.0.0.1:{closed_port}"
    )

    assert completed.returncode == 1, completed.stderr
    _assert_one_error_line(completed)


def test_cli_wrong_token_exit_5(cli_emulator):
    completed = run_cli(cli_emulator, *STATUS_101, F5XC_API_TOKEN="wrong-token")

    assert completed.returncode == 5
    _assert_one_error_line(completed)
    assert "HTTP 401" in completed.stderr
    assert completed.stdout == ""


def test_cli_missing_p12_password_variable_exit_5(cli_emulator, tmp_path):
    bundle = tmp_path / "client.p12"
    bundle.write_bytes(b"not a bundle")

    completed = run_cli(
        cli_emulator,
        "--p12-file",
        str(bundle),
        "--p12-password-env",
        "OPSTATUS_TEST_UNSET_PASSWORD",
        *STATUS_101,
        OPSTATUS_TEST_UNSET_PASSWORD=None,
    )

    assert completed.returncode == 5
    _assert_one_error_line(completed)
    assert "OPSTATUS_TEST_UNSET_PASSWORD" in completed.stderr


def test_cli_unreadable_p12_exit_5(cli_emulator, tmp_path):
    completed = run_cli(
        cli_emulator,
        "--p12-file",
        str(tmp_path / "missing.p12"),
        "--p12-password-env",
        "OPSTATUS_TEST_PASSWORD",
        *STATUS_101,
        OPSTATUS_TEST_PASSWORD="password-of-the-test",
    )

    assert completed.returncode == 5
    _assert_one_error_line(completed)
    assert "cannot be read" in completed.stderr
    assert "password-of-the-test" not in completed.stderr


def test_cli_unknown_load_balancer_exit_6(cli_emulator):
    completed = run_cli(
        cli_emulator, "status", "--namespace", NAMESPACE, "--name", "no-such-lb", "--id", "101"
    )

    assert completed.returncode == 6
    _assert_one_error_line(completed)
    assert "no-such-lb" in completed.stderr
    assert "HTTP 404" in completed.stderr


def test_cli_one_unknown_id_exit_6(cli_emulator):
    completed = run_cli(cli_emulator, *STATUS_101, "--id", str(UNKNOWN_OP_ID))

    assert completed.returncode == 6
    _assert_one_error_line(completed)
    assert f"operation {UNKNOWN_OP_ID} on demo/shop-frontend" in completed.stderr
    # The operation that was found is still printed.
    assert "operation 101 on demo/shop-frontend: succeeded" in completed.stdout


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(("purge", "--namespace", NAMESPACE, "--name", LOAD_BALANCER, "--hard"), id="no-target"),
        pytest.param(
            ("purge", "--namespace", NAMESPACE, "--name", LOAD_BALANCER, "--url", "/x", "--all", "--hard"),
            id="two-targets",
        ),
        pytest.param(("purge", "--namespace", NAMESPACE, "--name", LOAD_BALANCER, "--url", "/x"), id="no-mode"),
        pytest.param(
            ("purge", "--namespace", NAMESPACE, "--name", LOAD_BALANCER, "--url", "x", "--hard"),
            id="url-without-slash",
        ),
        pytest.param(("--output", "xml", *STATUS_101), id="unknown-format"),
        pytest.param(("status", "--namespace", NAMESPACE, "--name", LOAD_BALANCER), id="no-id"),
        pytest.param((*STATUS_101[:-1], "abc"), id="id-not-a-number"),
        pytest.param(("list", "--namespace", NAMESPACE, "--until", "1h"), id="until-without-since"),
        pytest.param(("list", "--namespace", NAMESPACE, "--since", "2024-01-01T00:00:00"), id="naive-time"),
        pytest.param(("wait", "--namespace", NAMESPACE, "--name", LOAD_BALANCER, "--id", "1", "--timeout", "-1"), id="negative-timeout"),
        pytest.param(("frobnicate",), id="unknown-subcommand"),
        pytest.param((), id="no-subcommand"),
    ],
)
def test_cli_bad_usage_exit_2(cli_emulator, arguments):
    completed = run_cli(cli_emulator, *arguments)

    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stderr.strip().splitlines()[-1].startswith("opstatus")


def test_cli_missing_url_exit_7(cli_emulator):
    completed = run_cli(cli_emulator, *STATUS_101, F5XC_API_URL=None)

    assert completed.returncode == 7
    _assert_one_error_line(completed)
    assert "api_url is missing" in completed.stderr


def test_cli_missing_token_exit_7(cli_emulator):
    completed = run_cli(cli_emulator, *STATUS_101, F5XC_API_TOKEN=None)

    assert completed.returncode == 7
    _assert_one_error_line(completed)
    assert "no credentials" in completed.stderr


def test_cli_empty_token_file_exit_7(cli_emulator, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("\n")

    completed = run_cli(cli_emulator, "--api-token-file", str(token_file), *STATUS_101)

    assert completed.returncode == 7
    _assert_one_error_line(completed)
    assert "is empty" in completed.stderr


def test_cli_token_file_used(cli_emulator, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(cli_emulator.token + "\n")

    completed = run_cli(
        cli_emulator, "--api-token-file", str(token_file), *STATUS_101, F5XC_API_TOKEN="wrong-token"
    )

    assert completed.returncode == 0, completed.stderr


def test_cli_api_token_option_used(cli_emulator):
    completed = run_cli(
        cli_emulator, f"--api-token={cli_emulator.token}", *STATUS_101, F5XC_API_TOKEN="wrong-token"
    )

    assert completed.returncode == 0, completed.stderr
    assert cli_emulator.token not in completed.stdout + completed.stderr


def test_cli_interrupt_exit_130(cli_emulator):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opstatus",
            "wait",
            "--namespace",
            NAMESPACE,
            "--name",
            LOAD_BALANCER,
            "--id",
            str(SEEDED_OP_ID),
            "--expected-sites",
            str(SITES + 1),
            "--interval",
            "30",
            "--max-interval",
            "30",
        ],
        env=_environment(cli_emulator),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The first poll line shows that the wait is asleep before the next one.
        first_line = process.stderr.readline()
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_SECONDS)
        returned_at = time.monotonic()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert PLAIN_PROGRESS.fullmatch(first_line.rstrip("\n"))
    assert process.returncode == 130
    assert returned_at - interrupted_at < 5
    assert "opstatus: interrupted" in stderr
    assert "Traceback" not in stderr


def test_exit_code_table():
    cases = {
        opstatus.TimeoutError("timed out"): cli.ExitCode.TIMEOUT,
        opstatus.AuthenticationError("401"): cli.ExitCode.AUTHENTICATION,
        opstatus.PermissionDeniedError("403"): cli.ExitCode.AUTHENTICATION,
        opstatus.NotFoundError("404"): cli.ExitCode.NOT_FOUND,
        opstatus.ConfigurationError("api_url is missing"): cli.ExitCode.CONFIGURATION,
        opstatus.ConfigurationError("p12_file could not be used"): cli.ExitCode.AUTHENTICATION,
        opstatus.ConfigurationError("F5XC_CERT \"x\" cannot be read"): cli.ExitCode.AUTHENTICATION,
        opstatus.InvalidArgumentError("url is not a path"): cli.ExitCode.USAGE,
        opstatus.ServerError("500"): cli.ExitCode.ERROR,
        opstatus.TransportError("refused"): cli.ExitCode.ERROR,
    }
    for error, expected in cases.items():
        assert cli.exit_code_for(error) is expected, error

    codes = [int(code) for code in cli.ExitCode]
    assert len(codes) == len(set(codes))
    assert set(cli.EXIT_CODE_DESCRIPTIONS) == set(cli.ExitCode)


# Output formats


def test_cli_status_json(cli_emulator):
    completed = run_cli(cli_emulator, "--output", "json", *STATUS_101, "--id", str(UNKNOWN_OP_ID))

    document = json.loads(completed.stdout)
    found, unknown = document["operations"]
    assert found["service_op_id"] == SEEDED_OP_ID
    assert found["error"] is None
    assert found["status"]["summary"]["state"] == "succeeded"
    assert found["status"]["summary"]["sites"] == SITES
    assert len(found["status"]["items"]) == SITES
    assert isinstance(found["status"]["items"][0]["purge"]["bytes_purged"], str)
    assert found["status"]["items"][0]["state"] == "succeeded"
    assert unknown["status"] is None
    assert unknown["error"]["code_name"] == "OPSTATUS_ENOTFOUND"
    assert unknown["error"]["http_status"] == 404


def test_cli_purge_wait_json_one_document(cli_emulator):
    completed = run_cli(cli_emulator, "--output", "json", *ACCEPTANCE_PURGE, *FAST_POLLING)

    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert isinstance(document["purge_request_id"], int)
    assert document["outcome"] == "succeeded"
    assert document["polls"] >= 2
    (operation,) = document["operations"]
    assert operation["service_op_id"] == document["purge_request_id"]
    assert operation["outcome"] == "succeeded"
    assert operation["status"]["summary"]["succeeded"] == SITES


def test_cli_purge_without_wait_json(cli_emulator):
    completed = run_cli(
        cli_emulator,
        "--output",
        "json",
        "purge",
        "--namespace",
        NAMESPACE,
        "--name",
        LOAD_BALANCER,
        "--pattern",
        r"^/static/.*\.css$",
        "--soft",
    )

    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert isinstance(document["purge_request_id"], int)
    assert document["name"] == LOAD_BALANCER
    assert completed.stderr == ""


def test_cli_status_ndjson_one_object_per_site(cli_emulator):
    completed = run_cli(cli_emulator, "--output", "ndjson", *STATUS_101)

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == SITES
    objects = [json.loads(line) for line in lines]
    assert all(isinstance(item, dict) for item in objects)
    assert {item["site"] for item in objects} >= set(SITE_NAMES)
    assert {item["service_op_id"] for item in objects} == {SEEDED_OP_ID}


def test_cli_list_ndjson_and_table(cli_emulator):
    created = []
    for _ in range(2):
        purge = run_cli(
            cli_emulator, "--output", "json", "purge", "--namespace", NAMESPACE,
            "--name", LOAD_BALANCER, "--all", "--hard",
        )
        created.append(json.loads(purge.stdout)["purge_request_id"])

    ndjson = run_cli(
        cli_emulator, "--output", "ndjson", "list", "--namespace", NAMESPACE,
        "--name", LOAD_BALANCER, "--last", "2",
    )
    table = run_cli(
        cli_emulator, "list", "--namespace", NAMESPACE, "--name", LOAD_BALANCER, "--since", "1h"
    )

    assert ndjson.returncode == 0, ndjson.stderr
    ids = [json.loads(line)["service_op_id"] for line in ndjson.stdout.splitlines()]
    assert ids == created[::-1]
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["ID", "SVC", "VERSION", "CREATED", "MODIFIED"]
    for op_id in created:
        assert re.search(rf"^\s*{op_id}\s+7\s", table.stdout, re.MULTILINE)


def test_cli_wait_ndjson_progress_events(cli_emulator):
    completed = run_cli(cli_emulator, "--output", "ndjson", *ACCEPTANCE_PURGE, *FAST_POLLING)

    assert completed.returncode == 0, completed.stderr
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    assert events[0]["event"] == "purge"
    polls = [event for event in events if event["event"] == "poll"]
    assert len(polls) >= 2
    assert [event["polls"] for event in polls] == list(range(1, len(polls) + 1))
    assert events[-1]["event"] == "result"
    assert events[-1]["outcome"] == "succeeded"
    assert len(events) == 1 + len(polls) + 1


# Progress on stderr


def test_cli_progress_plain_lines_off_terminal(cli_emulator):
    completed = run_cli(cli_emulator, *ACCEPTANCE_PURGE, *FAST_POLLING)

    assert completed.returncode == 0, completed.stderr
    lines = completed.stderr.splitlines()
    assert len(lines) >= 2
    for line in lines:
        assert PLAIN_PROGRESS.fullmatch(line), line
    assert lines[-1].startswith(f"poll {len(lines)}: 9/9 sites succeeded, 0 failed, 0 pending")
    assert "\x1b" not in completed.stderr


def _run_with_terminal_stderr(emulator, *arguments: str) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal; return (exit code, stdout, stderr)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "opstatus", *arguments],
        env=_environment(emulator),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    received = bytearray()
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                # Linux reports EIO once the child closed the terminal.
                break
            if not chunk:
                break
            received += chunk
        stdout, _ = process.communicate(timeout=RUN_TIMEOUT_SECONDS)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stdout.decode(), received.decode(errors="replace")


def test_cli_progress_live_on_terminal(cli_emulator):
    code, stdout, stderr = _run_with_terminal_stderr(cli_emulator, *ACCEPTANCE_PURGE, *FAST_POLLING)

    assert code == 0, stderr
    assert ANSI_CURSOR_UP.search(stderr)
    assert "\x1b[J" in stderr
    for name in SITE_NAMES:
        assert name in stderr
    assert re.search(r"opstatus: waiting \d+\.\d s, poll \d+: 9/9 sites succeeded", stderr)
    assert "  ok  " in stderr
    assert not re.search(r"^poll \d+:", stderr, re.MULTILINE)
    assert "wait succeeded" in stdout


def test_live_progress_ticks_between_polls():
    stream = io.StringIO()
    display = LiveProgress(stream, tick_seconds=0.05)
    snapshot = opstatus.WaitManyResult(
        operations=(), outcome=opstatus.WaitOutcome.PENDING, polls=1, elapsed=0.0
    )

    display.update(snapshot)
    time.sleep(0.5)
    display.close()

    headers = re.findall(r"opstatus: waiting (\d+\.\d) s, poll 1", stream.getvalue())
    assert len(headers) >= 3
    assert float(headers[-1]) >= 0.3
    assert stream.getvalue().endswith("\x1b[?25h")


def test_cli_quiet_no_progress(cli_emulator):
    completed = run_cli(cli_emulator, "--quiet", *ACCEPTANCE_PURGE, *FAST_POLLING)
    code, _, terminal_stderr = _run_with_terminal_stderr(
        cli_emulator, "--quiet", *ACCEPTANCE_PURGE, *FAST_POLLING
    )

    assert completed.returncode == 0
    assert completed.stderr == ""
    assert "wait succeeded" in completed.stdout
    assert code == 0
    assert terminal_stderr == ""


# Secrets


def test_cli_token_never_shown(cli_emulator, fail_site_emulator):
    token = cli_emulator.token
    runs = [
        run_cli(cli_emulator, "--verbose", *STATUS_101),
        run_cli(cli_emulator, "--verbose", *ACCEPTANCE_PURGE, *FAST_POLLING),
        run_cli(cli_emulator, "--verbose", "--output", "ndjson", *ACCEPTANCE_PURGE, *FAST_POLLING),
        run_cli(cli_emulator, "--verbose", f"--api-token={token}", *STATUS_101, F5XC_API_TOKEN=None),
        # The token given after the subcommand is an unrecognized argument,
        # which argparse would repeat in its message.
        run_cli(cli_emulator, *STATUS_101, "--api-token", token),
        run_cli(cli_emulator, *STATUS_101, f"--api-token={token}"),
        # A server that rejects the token.
        run_cli(fail_site_emulator, "--verbose", f"--api-token={token}", *STATUS_101),
    ]
    codes = [completed.returncode for completed in runs]

    assert codes == [0, 0, 0, 0, 2, 2, 5]
    for completed in runs:
        assert token not in completed.stdout
        assert token not in completed.stderr
    # --verbose does log the requests.
    assert "opstatus: debug: " in runs[0].stderr


# Help


def test_cli_help_main():
    completed = subprocess.run(
        [sys.executable, "-m", "opstatus", "--help"],
        env={**os.environ, "PYTHONPATH": str(PYTHON_BINDING_DIR), "OPSTATUS_LIBRARY": str(LIBRARY)},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )

    assert completed.returncode == 0
    assert "seconds" in completed.stdout
    assert "exit codes:" in completed.stdout
    for code in cli.ExitCode:
        assert re.search(rf"^\s+{int(code)}\s+\S", completed.stdout, re.MULTILINE)


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_cli_help_subcommand(subcommand):
    completed = subprocess.run(
        [sys.executable, "-m", "opstatus", subcommand, "--help"],
        env={**os.environ, "PYTHONPATH": str(PYTHON_BINDING_DIR), "OPSTATUS_LIBRARY": str(LIBRARY)},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )

    assert completed.returncode == 0
    assert "seconds" in completed.stdout
    assert "exit codes:" in completed.stdout
    assert completed.stderr == ""


def test_console_script_entry():
    tomllib = pytest.importorskip("tomllib")
    with open(PYTHON_BINDING_DIR / "pyproject.toml", "rb") as project_file:
        project = tomllib.load(project_file)

    assert project["project"]["scripts"]["opstatus"] == "opstatus.cli:main"
    assert callable(cli.main)
