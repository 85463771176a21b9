"""Exit codes of the ``opstatus`` command and the single table that maps failures to them."""

from __future__ import annotations

import enum

from ._errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidArgumentError,
    NotFoundError,
    OpStatusError,
    PermissionDeniedError,
    TimeoutError,
)
from ._operations import WaitOutcome

__all__ = [
    "EXIT_CODES_BY_OUTCOME",
    "EXIT_CODE_DESCRIPTIONS",
    "CommandError",
    "ExitCode",
    "exit_code_for",
]


class ExitCode(enum.IntEnum):
    """Exit status of the command."""

    SUCCESS = 0
    ERROR = 1
    USAGE = 2
    OPERATION_FAILED = 3
    TIMEOUT = 4
    AUTHENTICATION = 5
    NOT_FOUND = 6
    CONFIGURATION = 7
    INTERRUPTED = 130


EXIT_CODE_DESCRIPTIONS: dict[ExitCode, str] = {
    ExitCode.SUCCESS: "success; for status, no site failed",
    ExitCode.ERROR: "any other error, such as a server or connection failure",
    ExitCode.USAGE: "invalid usage: an unknown option or an invalid value",
    ExitCode.OPERATION_FAILED: "the operation failed on a site",
    ExitCode.TIMEOUT: "timed out: the wait's --timeout or a request's timeout passed",
    ExitCode.AUTHENTICATION: (
        "authentication or permission: HTTP 401 or 403, or unusable client "
        "certificate settings"
    ),
    ExitCode.NOT_FOUND: "not found: unknown namespace, load balancer or operation id",
    ExitCode.CONFIGURATION: "configuration error, such as a missing API URL or token",
    ExitCode.INTERRUPTED: "interrupted with Ctrl-C; calls in progress were cancelled",
}

# The exit code of each library error. Classes not listed give ERROR. The
# one exception, in exit_code_for(), is a ConfigurationError about the
# certificate settings, which gives AUTHENTICATION.
_EXIT_CODES_BY_ERROR: dict[type[OpStatusError], ExitCode] = {
    InvalidArgumentError: ExitCode.USAGE,
    TimeoutError: ExitCode.TIMEOUT,
    AuthenticationError: ExitCode.AUTHENTICATION,
    PermissionDeniedError: ExitCode.AUTHENTICATION,
    NotFoundError: ExitCode.NOT_FOUND,
    ConfigurationError: ExitCode.CONFIGURATION,
}

# The exit code of each way a wait can end.
EXIT_CODES_BY_OUTCOME: dict[WaitOutcome, ExitCode] = {
    WaitOutcome.SUCCEEDED: ExitCode.SUCCESS,
    WaitOutcome.FAILED: ExitCode.OPERATION_FAILED,
    WaitOutcome.TIMEOUT: ExitCode.TIMEOUT,
    WaitOutcome.CANCELLED: ExitCode.INTERRUPTED,
}

# Settings and environment variables of client certificates. The library's
# configuration messages start with the name of the setting concerned.
# NOTE: this relies on that wording of libopstatus 0.1 messages.
_CERTIFICATE_SETTINGS = (
    "p12_file",
    "p12_password",
    "cert_file",
    "key_file",
    "key_password",
    "F5XC_P12_FILE",
    "VOLT_API_P12_FILE",
    "F5XC_P12_PASSWORD",
    "VES_P12_PASSWORD",
    "F5XC_CERT",
    "VOLT_API_CERT",
    "F5XC_KEY",
    "VOLT_API_KEY",
)


class CommandError(Exception):
    """A failure that the command itself detected, with its exit code."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def exit_code_for(error: BaseException) -> ExitCode:
    """Return the exit code of an error, from the table of this module."""
    if isinstance(error, CommandError):
        return error.exit_code
    if isinstance(error, ConfigurationError) and error.message.startswith(
        _CERTIFICATE_SETTINGS
    ):
        return ExitCode.AUTHENTICATION
    for error_class, code in _EXIT_CODES_BY_ERROR.items():
        if isinstance(error, error_class):
            return code
    return ExitCode.ERROR
