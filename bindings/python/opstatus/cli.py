"""The ``opstatus`` command: status, purges, lists and waits from a shell.

``opstatus --help`` and ``opstatus SUBCOMMAND --help`` describe every
option. Settings that the command line leaves out come from the
environment variables that libopstatus reads, such as F5XC_API_URL and
F5XC_API_TOKEN. Results go to stdout, and progress, log messages and
errors go to stderr. :class:`ExitCode` lists the exit codes.

NOTE: importing the package loads libopstatus, so a missing library ends
the command with Python's ImportError and its traceback, before main() runs.
"""

from __future__ import annotations

import math
import os
import sys
import threading

from ._arguments import PROGRAM, build_parser, check_usage, secret_values
from ._client import Client, set_log_sink
from ._errors import OpStatusError
from ._exit_codes import (
    EXIT_CODE_DESCRIPTIONS,
    EXIT_CODES_BY_OUTCOME,
    CommandError,
    ExitCode,
    exit_code_for,
)
from ._models import OperationState, ServiceOperationStatus
from ._operations import OperationRef, WaitManyResult, WaitOutcome
from ._output import Output, describe_ref

# Only _arguments imports argparse. The command does not import logging or
# typing at all, and imports the progress display only for a wait, because
# each of them adds milliseconds to every start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any, TextIO, TypeVar

    from ._display import ProgressDisplay

    ResultT = TypeVar("ResultT")

__all__ = ["EXIT_CODE_DESCRIPTIONS", "ExitCode", "build_parser", "exit_code_for", "main"]

# The opstatus_log_level values are those of logging, and the lines use
# logging's level names in lower case.
_LOG_LEVEL_NAMES = {10: "debug", 20: "info", 30: "warning", 40: "error"}
_LOG_LEVEL_DEBUG = 10
_LOG_LEVEL_WARNING = 30
_LOG_LEVEL_ERROR = 40


class _StderrLog:
    """Receiver of the library's log messages, which writes them to stderr, one line each.

    The command sets :meth:`write` as the log sink of ``_client``, with the
    least severe level to show, instead of configuring the "opstatus"
    logger. While a progress display is active, lines go through it, so
    that the live display is redrawn below them.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        # Messages may arrive on several threads at once.
        self._lock = threading.Lock()
        self.display: ProgressDisplay | None = None

    def write(self, level: int, text: str) -> None:
        name = _LOG_LEVEL_NAMES.get(level, f"level {level}")
        line = f"{PROGRAM}: {name}: {text}"
        try:
            with self._lock:
                display = self.display
                if display is not None:
                    display.write_line(line)
                else:
                    self._stream.write(line + "\n")
                    self._stream.flush()
        except Exception:  # noqa: BLE001
            # A line that cannot be written, such as on a closed stderr, is
            # dropped so that the request goes on. This runs inside the
            # library's log callback, where ctypes would only print the
            # exception.
            pass


def _log_level(options: argparse.Namespace) -> int:
    if options.verbose:
        return _LOG_LEVEL_DEBUG
    if options.quiet:
        return _LOG_LEVEL_ERROR
    return _LOG_LEVEL_WARNING


def _read_token_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as token_file:
            token = token_file.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CommandError(
            f"--api-token-file {path!r} cannot be read: {reason}", ExitCode.CONFIGURATION
        ) from None
    if not token:
        raise CommandError(
            f"--api-token-file {path!r} is empty; write the API token into it",
            ExitCode.CONFIGURATION,
        )
    return token


def _client_settings(options: argparse.Namespace) -> dict[str, Any]:
    """Collect the Client arguments that the command line sets."""
    settings: dict[str, Any] = {}
    if options.api_url:
        settings["api_url"] = options.api_url
    token = options.api_token
    if options.api_token_file:
        token = _read_token_file(options.api_token_file)
    if token:
        settings["api_token"] = token
        # A token on the command line wins over a certificate in the environment.
        settings["auth"] = "token"

    certificate = {
        "p12_file": options.p12_file,
        "cert_file": options.cert,
        "key_file": options.key,
    }
    certificate = {key: value for key, value in certificate.items() if value}
    if certificate:
        settings.update(certificate)
        # A certificate on the command line wins over a token in the environment.
        settings["auth"] = "certificate"
    if options.p12_password_env:
        password = os.environ.get(options.p12_password_env)
        if not password:
            raise CommandError(
                f"the environment variable {options.p12_password_env} named by "
                "--p12-password-env is not set or empty; set it to the password of "
                "the PKCS#12 bundle",
                ExitCode.AUTHENTICATION,
            )
        settings["p12_password"] = password

    if options.ca_file:
        settings["ca_file"] = options.ca_file
    if options.request_timeout is not None:
        settings["timeout_ms"] = math.ceil(options.request_timeout * 1000)
    return settings


def _print_error(message: str) -> None:
    sys.stderr.write(f"{PROGRAM}: {message}\n")
    sys.stderr.flush()


def _run_interruptible(client: Client, function: Callable[[], ResultT]) -> ResultT:
    """Run ``function`` on a worker thread so that Ctrl-C can cancel its calls.

    A C call blocks the signal handler of the thread that makes it, so the
    main thread waits here instead and cancels the client on Ctrl-C.
    """
    results: list[ResultT] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            results.append(function())
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    worker = threading.Thread(target=run, name="opstatus-command", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:
        client.cancel()
        worker.join()
        raise
    if failures:
        raise failures[0]
    return results[0]


def _status_exit_code(
    ref: OperationRef, status: ServiceOperationStatus | None, error: OpStatusError | None
) -> ExitCode:
    """Report a failed operation on stderr and return its exit code."""
    if error is not None:
        _print_error(f"{describe_ref(ref)}: {error.message}")
        return exit_code_for(error)
    if status is not None and status.summary.state is OperationState.FAILED:
        from ._display import site_state

        failed_sites = [
            item.purge.site if item.purge and item.purge.site else "-"
            for item in status.items
            if site_state(item) is OperationState.FAILED
        ]
        sites = f": {', '.join(failed_sites)}" if failed_sites else ""
        _print_error(
            f"{describe_ref(ref)} failed on {status.summary.failed} of "
            f"{status.summary.sites} sites{sites}"
        )
        return ExitCode.OPERATION_FAILED
    return ExitCode.SUCCESS


def _first_failure(codes: Sequence[ExitCode]) -> ExitCode:
    return next((code for code in codes if code is not ExitCode.SUCCESS), ExitCode.SUCCESS)


def _command_status(client: Client, options: argparse.Namespace, output: Output) -> ExitCode:
    refs = [OperationRef(options.namespace, options.name, op_id, options.kind) for op_id in options.ids]
    outcomes = client.get_status_many(refs)
    output.statuses(outcomes)
    codes = [_status_exit_code(outcome.request, outcome.status, outcome.error) for outcome in outcomes]
    return _first_failure(codes)


def _progress_display(options: argparse.Namespace) -> ProgressDisplay | None:
    if options.quiet:
        return None
    from ._display import LiveProgress, PlainProgress

    if sys.stderr.isatty():
        return LiveProgress(sys.stderr)
    return PlainProgress(sys.stderr)


def _wait(
    client: Client,
    options: argparse.Namespace,
    output: Output,
    log_handler: _StderrLog,
    refs: Sequence[OperationRef],
) -> tuple[WaitManyResult, ExitCode]:
    display = _progress_display(options)

    def show_progress(snapshot: WaitManyResult) -> None:
        if display is not None:
            display.update(snapshot)
        output.wait_progress(snapshot)

    log_handler.display = display
    try:
        result = client.wait_many(
            refs,
            initial_delay=options.interval,
            max_delay=options.max_interval,
            timeout=options.wait_timeout,
            expected_sites=options.expected_sites,
            settle=options.settle,
            stop_on_failure=not options.keep_going,
            progress=show_progress,
        )
    finally:
        log_handler.display = None
        if display is not None:
            display.close()
    return result, _wait_exit_code(result, options.wait_timeout)


def _wait_exit_code(result: WaitManyResult, timeout: float) -> ExitCode:
    if result.outcome is WaitOutcome.TIMEOUT:
        unfinished = [
            describe_ref(entry.request)
            for entry in result.operations
            if entry.outcome is WaitOutcome.PENDING
        ]
        _print_error(
            f"the wait timed out after {timeout:g} s; not finished: {', '.join(unfinished)}. "
            "Raise --timeout to wait longer."
        )
    if result.outcome is not WaitOutcome.FAILED:
        return EXIT_CODES_BY_OUTCOME[result.outcome]
    codes = [
        _status_exit_code(entry.request, entry.status, entry.error)
        for entry in result.operations
        if entry.outcome is not WaitOutcome.SUCCEEDED
    ]
    return _first_failure(codes)


def _command_wait(
    client: Client, options: argparse.Namespace, output: Output, log_handler: _StderrLog
) -> ExitCode:
    refs = [OperationRef(options.namespace, options.name, op_id, options.kind) for op_id in options.ids]
    result, code = _wait(client, options, output, log_handler, refs)
    output.wait_result(result)
    return code


def _command_purge(
    client: Client, options: argparse.Namespace, output: Output, log_handler: _StderrLog
) -> ExitCode:
    op_id = client.purge(
        options.namespace,
        options.name,
        url=options.url,
        pattern=options.pattern,
        hostname=options.hostname,
        purge_all=options.purge_all,
        hard=options.hard or None,
        soft=options.soft or None,
        kind=options.kind,
    )
    ref = OperationRef(options.namespace, options.name, op_id, options.kind)
    output.purge_started(ref, waiting=options.wait)
    if not options.wait:
        return ExitCode.SUCCESS
    result, code = _wait(client, options, output, log_handler, [ref])
    output.wait_result(result, purge_request_id=op_id)
    return code


def _command_list(client: Client, options: argparse.Namespace, output: Output) -> ExitCode:
    records = client.list_operations(
        options.namespace,
        options.name,
        lastn=options.last,
        start=options.since,
        finish=options.until,
        kind=options.kind,
    )
    output.records(records)
    return ExitCode.SUCCESS


def _run_command(
    client: Client, options: argparse.Namespace, output: Output, log_handler: _StderrLog
) -> ExitCode:
    if options.command == "status":
        return _command_status(client, options, output)
    if options.command == "purge":
        return _command_purge(client, options, output, log_handler)
    if options.command == "list":
        return _command_list(client, options, output)
    return _command_wait(client, options, output, log_handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``) and return its exit code.

    Invalid usage exits through SystemExit with code 2, as argparse does.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(secrets=secret_values(arguments))
    options = parser.parse_args(arguments)
    check_usage(parser, options)
    output = Output(options.output, sys.stdout)

    log_handler = _StderrLog(sys.stderr)
    previous_sink = set_log_sink(log_handler.write, _log_level(options))
    try:
        try:
            with Client(**_client_settings(options)) as client:
                return int(
                    _run_interruptible(
                        client, lambda: _run_command(client, options, output, log_handler)
                    )
                )
        except KeyboardInterrupt:
            _print_error("interrupted; calls in progress were cancelled")
            return int(ExitCode.INTERRUPTED)
        except (CommandError, OpStatusError) as exc:
            _print_error(exc.message)
            return int(exit_code_for(exc))
        except BrokenPipeError:
            # stdout was closed early, such as by head. Pointing it at
            # /dev/null keeps the interpreter from failing again at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return int(ExitCode.ERROR)
        except Exception as exc:  # noqa: BLE001
            # An unexpected exception is a bug of this package, but it too
            # gets one line and no traceback.
            _print_error(f"unexpected error: {type(exc).__name__}: {exc}")
            return int(ExitCode.ERROR)
    finally:
        set_log_sink(*previous_sink)
