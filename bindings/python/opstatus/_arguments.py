"""Command-line arguments of the ``opstatus`` command: parser, value types and help."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import textwrap

from . import __version__, version
from ._datetimes import datetime, timedelta, timezone
from ._exit_codes import EXIT_CODE_DESCRIPTIONS
from ._output import FORMATS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["PROGRAM", "build_parser", "check_usage", "secret_values"]

PROGRAM = "opstatus"

# Options whose value is a secret that messages must not repeat.
_SECRET_OPTIONS = ("--api-token",)

_KINDS = ("http_loadbalancer", "cdn_loadbalancer")
# Compiled by re on first use, which only `list --since` and `--until` make.
_RELATIVE_TIME = r"(?P<amount>\d+(?:\.\d+)?)(?P<unit>[smhd])"
_SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# Argument types. Each raises ArgumentTypeError, which argparse reports as
# invalid usage with the option's name.


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative number of seconds such as 2.5, got {text!r}"
        )
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected more than 0 seconds, got 0")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def _operation_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"expected an operation id, a whole number of 0 or more, got {text!r}"
        )
    return value


def _time(text: str) -> datetime | float:
    """Parse a time of ``list``: a duration ago, a unix time or an RFC 3339 time."""
    relative = re.fullmatch(_RELATIVE_TIME, text)
    if relative:
        seconds = float(relative["amount"]) * _SECONDS_PER_UNIT[relative["unit"]]
        return datetime.now(timezone.utc) - timedelta(seconds=seconds)
    try:
        unix_time = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(unix_time) and unix_time >= 0:
            return unix_time
    # datetime.fromisoformat() of Python 3.10 does not accept a final Z.
    iso_text = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        moment = datetime.fromisoformat(iso_text)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"expected a time such as 2024-05-01T12:00:00Z (with a time zone), "
            f"a unix time in seconds, or a duration ago such as 90s, 15m, 2h or 1d; "
            f"got {text!r}"
        )
    return moment


def _terminal_columns() -> int:
    """Return the terminal width as ``shutil.get_terminal_size().columns`` does.

    The COLUMNS environment variable wins when it is a positive number,
    then the size of the terminal on stdout, then 80. shutil itself is not
    imported because it takes milliseconds, with the compression modules
    it loads, at every start of the command.
    """
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        # stdout is None, closed or not a terminal.
        columns = 0
    # A pseudo-terminal whose size was never set reports 0 columns.
    return columns or 80


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """RawDescriptionHelpFormatter that reads the terminal width without importing shutil.

    argparse also creates formatters while it builds a parser, such as to
    check the metavar of each argument added to a parser, so the import
    would happen at every start, not only for help.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
        **kwargs: Any,
    ) -> None:
        if width is None:
            # HelpFormatter leaves 2 columns free, as with shutil.
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width, **kwargs)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose error messages never repeat a secret argument.

    argparse repeats unrecognized arguments in its messages, which would
    show a token given with ``--api-token`` after the subcommand.
    """

    def __init__(self, *args: Any, secrets: Sequence[str] = (), **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._secrets = tuple(secret for secret in secrets if secret)

    def error(self, message: str) -> Any:
        for secret in self._secrets:
            message = message.replace(secret, "***")
        return super().error(message)


def secret_values(arguments: Sequence[str]) -> list[str]:
    secrets = []
    for index, argument in enumerate(arguments):
        for option in _SECRET_OPTIONS:
            if argument == option and index + 1 < len(arguments):
                secrets.append(arguments[index + 1])
            elif argument.startswith(option + "="):
                secrets.append(argument[len(option) + 1 :])
    return secrets


def _paragraph(text: str) -> str:
    # RawDescriptionHelpFormatter keeps the exit code table of the epilog
    # as written, so descriptions are wrapped here instead.
    return textwrap.fill(text, width=79)


def _epilog() -> str:
    lines = ["exit codes:"]
    for code, description in EXIT_CODE_DESCRIPTIONS.items():
        lines.append(f"  {int(code):<3}  {description}")
    lines.append("")
    lines.append(
        _paragraph(
            "With several operations, the first one in the order given that did not "
            "succeed sets the exit code. Times are in seconds. Global options, such "
            "as --timeout SECONDS for each HTTP request, go before the subcommand."
        )
    )
    return "\n".join(lines)


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    tenant = parser.add_argument_group(
        "tenant and credentials",
        _paragraph(
            "Settings left out come from the environment variables of libopstatus "
            "(F5XC_API_URL, F5XC_API_TOKEN, F5XC_P12_FILE, F5XC_P12_PASSWORD, "
            "F5XC_CERT, F5XC_KEY, F5XC_CACERT and their VOLT_ forms). Credentials "
            "given on the command line take precedence over those in the environment."
        ),
    )
    tenant.add_argument(
        "--api-url",
        metavar="URL",
        help="tenant API URL such as https://acme.console.ves.volterra.io/api, or a "
        "tenant name such as acme (default: $F5XC_API_URL)",
    )
    token = tenant.add_mutually_exclusive_group()
    token.add_argument(
        "--api-token",
        metavar="TOKEN",
        help="API token, sent as 'Authorization: APIToken TOKEN'. Other users of "
        "this machine may see command lines, so prefer --api-token-file or "
        "$F5XC_API_TOKEN (default: $F5XC_API_TOKEN)",
    )
    token.add_argument(
        "--api-token-file",
        metavar="FILE",
        help="read the API token from FILE; whitespace around it is ignored",
    )
    tenant.add_argument(
        "--p12-file",
        metavar="FILE",
        help="API certificate as a PKCS#12 bundle, for mutual TLS instead of a token "
        "(default: $F5XC_P12_FILE)",
    )
    tenant.add_argument(
        "--p12-password-env",
        metavar="VAR",
        help="name of the environment variable that contains the password of the "
        "PKCS#12 bundle, such as MY_P12_PASSWORD; never the password itself "
        "(default: F5XC_P12_PASSWORD)",
    )
    tenant.add_argument(
        "--cert",
        metavar="FILE",
        help="PEM client certificate, for mutual TLS with --key (default: $F5XC_CERT)",
    )
    tenant.add_argument(
        "--key",
        metavar="FILE",
        help="PEM private key of --cert (default: $F5XC_KEY)",
    )
    tenant.add_argument(
        "--ca-file",
        metavar="FILE",
        help="PEM file of CA certificates to trust instead of the system's "
        "(default: $F5XC_CACERT)",
    )
    tenant.add_argument(
        "--timeout",
        dest="request_timeout",
        metavar="SECONDS",
        type=_positive_seconds,
        help="time allowed for one HTTP request attempt, in seconds, from connect to "
        "the last byte (library default: 30)",
    )

    display = parser.add_argument_group("output")
    display.add_argument(
        "--output",
        choices=FORMATS,
        default="table",
        help="format of the results on stdout: a per-site table with a summary line, "
        "one JSON document, or NDJSON with one object per line (default: table)",
    )
    verbosity = display.add_mutually_exclusive_group()
    verbosity.add_argument(
        "--quiet",
        action="store_true",
        help="show no progress and no warnings on stderr; errors are still shown",
    )
    verbosity.add_argument(
        "--verbose",
        action="store_true",
        help="log every request (method, path, HTTP status, time) on stderr",
    )
    display.add_argument(
        "--version",
        action="version",
        version=f"{PROGRAM} {__version__} (libopstatus {version()})",
        help="print the versions of this package and of libopstatus, then exit",
    )


def _add_operation_options(parser: argparse.ArgumentParser, *, name_required: bool) -> None:
    parser.add_argument(
        "--namespace",
        required=True,
        metavar="NS",
        help="namespace of the load balancer, such as default",
    )
    parser.add_argument(
        "--name",
        required=name_required,
        metavar="LB",
        help="name of the load balancer",
    )
    parser.add_argument(
        "--kind",
        choices=_KINDS,
        help="kind of the load balancer (default: http_loadbalancer)",
    )


def _add_wait_options(parser: argparse.ArgumentParser) -> None:
    wait = parser.add_argument_group("wait options")
    wait.add_argument(
        "--interval",
        metavar="SECONDS",
        type=_positive_seconds,
        default=1.0,
        help="delay before the second poll, in seconds; later delays grow by 1.5 times "
        "(default: 1)",
    )
    wait.add_argument(
        "--max-interval",
        metavar="SECONDS",
        type=_positive_seconds,
        default=15.0,
        help="maximum delay between polls, in seconds (default: 15)",
    )
    wait.add_argument(
        "--timeout",
        dest="wait_timeout",
        metavar="SECONDS",
        type=_positive_seconds,
        default=600.0,
        help="time allowed for the whole wait, in seconds; exit code 4 when it passes "
        "(default: 600)",
    )
    wait.add_argument(
        "--expected-sites",
        metavar="N",
        type=_positive_int,
        help="number of sites that must report before an operation counts as finished, "
        "for sites that appear late (default: 1)",
    )
    wait.add_argument(
        "--settle",
        metavar="SECONDS",
        type=_seconds,
        default=0.0,
        help="time in seconds for which the set of succeeded sites must stay unchanged "
        "before an operation counts as finished (default: 0)",
    )
    wait.add_argument(
        "--keep-going",
        action="store_true",
        help="after a site failed, go on polling until no site is pending, so that the "
        "result shows every site's final status",
    )


def build_parser(secrets: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Create the argument parser of the command.

    ``secrets`` are argument values, such as the token, that error messages
    replace with ``***``.
    """
    epilog = _epilog()

    def make_parser(**kwargs: Any) -> _Parser:
        return _Parser(
            secrets=secrets,
            formatter_class=_HelpFormatter,
            epilog=epilog,
            **kwargs,
        )

    parser = make_parser(
        prog=PROGRAM,
        description=_paragraph(
            "Start cache purges on F5 Distributed Cloud load balancers and "
        "follow service operations on every edge site. Global options go before "
        "the subcommand."
        ),
    )
    _add_global_options(parser)
    subcommands = parser.add_subparsers(
        dest="command", required=True, metavar="SUBCOMMAND", parser_class=_Parser
    )

    status = subcommands.add_parser(
        "status",
        help="print the status of operations on every site",
        description=_paragraph(
            "Print the status of one or more service operations on every site. "
        "Exit code 3 when a site failed; a pending operation exits with 0."
        ),
        formatter_class=_HelpFormatter,
        epilog=epilog,
        secrets=secrets,
    )
    _add_operation_options(status, name_required=True)
    status.add_argument(
        "--id",
        dest="ids",
        action="append",
        required=True,
        type=_operation_id,
        metavar="N",
        help="operation id, such as the purge_request_id of a purge; repeat the option "
        "for several operations, which are fetched in parallel",
    )

    purge = subcommands.add_parser(
        "purge",
        help="start a cache purge, and optionally wait until it finished",
        description=_paragraph(
            "Start a cache purge on a load balancer and print its operation id. "
        "With --wait, follow it like the wait subcommand."
        ),
        formatter_class=_HelpFormatter,
        epilog=epilog,
        secrets=secrets,
    )
    _add_operation_options(purge, name_required=True)
    target = purge.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--url", metavar="PATH", help="purge one cached path, starting with /, such as /index.html"
    )
    target.add_argument(
        "--pattern",
        metavar="RE",
        help="purge the paths that match a PCRE regular expression of 1 to 256 characters",
    )
    target.add_argument(
        "--hostname",
        metavar="HOST",
        help="purge everything cached for a domain name, such as www.example.com or "
        "*.example.com",
    )
    target.add_argument(
        "--all", dest="purge_all", action="store_true", help="purge the whole cache"
    )
    mode = purge.add_mutually_exclusive_group(required=True)
    mode.add_argument("--hard", action="store_true", help="remove the content from the cache")
    mode.add_argument(
        "--soft",
        action="store_true",
        help="mark the content expired, so that the next request revalidates it with "
        "the origin",
    )
    purge.add_argument(
        "--wait",
        action="store_true",
        help="poll the purge until it finished on every site, with the wait options below",
    )
    _add_wait_options(purge)

    listing = subcommands.add_parser(
        "list",
        help="list recent operations",
        description=_paragraph(
            "List recent service operations of a namespace or a load balancer, "
        "newest first."
        ),
        formatter_class=_HelpFormatter,
        epilog=epilog,
        secrets=secrets,
    )
    _add_operation_options(listing, name_required=False)
    selection = listing.add_mutually_exclusive_group(required=True)
    selection.add_argument(
        "--last", metavar="N", type=_positive_int, help="list the N newest operations"
    )
    selection.add_argument(
        "--since",
        metavar="T",
        type=_time,
        help="list the operations created at or after T: an RFC 3339 time with a time "
        "zone such as 2024-05-01T12:00:00Z, a unix time in seconds, or a duration ago "
        "in seconds, minutes, hours or days such as 90s, 15m, 2h or 1d",
    )
    listing.add_argument(
        "--until",
        metavar="T",
        type=_time,
        help="with --since, list only operations created at or before T, in the same "
        "forms (default: now)",
    )

    wait = subcommands.add_parser(
        "wait",
        help="poll operations until they finished on every site",
        description=_paragraph(
            "Poll one or more operations until each has finished on every site. "
        "Progress goes to stderr: a live display on a terminal, otherwise one line "
        "per poll."
        ),
        formatter_class=_HelpFormatter,
        epilog=epilog,
        secrets=secrets,
    )
    _add_operation_options(wait, name_required=True)
    wait.add_argument(
        "--id",
        dest="ids",
        action="append",
        required=True,
        type=_operation_id,
        metavar="N",
        help="operation id; repeat the option to wait for several operations at once",
    )
    _add_wait_options(wait)
    return parser


def check_usage(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    if options.command == "list" and options.until is not None and options.since is None:
        parser.error("--until needs --since; --last selects operations by count instead")
    given_token = options.api_token or options.api_token_file
    given_certificate = options.p12_file or options.cert or options.key
    if given_token and given_certificate:
        parser.error(
            "give either an API token (--api-token, --api-token-file) or a certificate "
            "(--p12-file, --cert, --key), not both"
        )
