#!/usr/bin/env python3
"""Print the status of a service operation, such as a cache purge, per site.

Usage: status.py NAMESPACE LOAD_BALANCER SERVICE_OP_ID

Settings come from the environment: F5XC_API_URL (the tenant's API URL),
F5XC_API_TOKEN (an API token) and, optionally, F5XC_CACERT (a PEM file of
CA certificates to trust instead of the system's). Exits with 1 and a
message on stderr when the status cannot be fetched.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import opstatus  # noqa: E402


def _format_time(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat()


def _format_optional(value: object) -> str:
    return "-" if value is None else str(value)


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Print the status of an F5 XC service operation on every site."
    )
    parser.add_argument(
        "namespace", help="namespace of the load balancer, such as default"
    )
    parser.add_argument("name", help="name of the HTTP load balancer")
    parser.add_argument("service_op_id", type=int, help="id of the service operation")
    return parser.parse_args()


def _print_status(status: opstatus.ServiceOperationStatus) -> None:
    print(f"{'SITE':<24} {'STATUS':<12} {'BYTES PURGED':>16}  FINISHED")
    for item in status.items:
        purge = item.purge
        site = purge.site if purge else None
        bytes_purged = purge.bytes_purged if purge else None
        finish_time = purge.finish_time if purge else None
        print(
            f"{_format_optional(site):<24} {_format_optional(item.status):<12} "
            f"{_format_optional(bytes_purged):>16}  {_format_time(finish_time)}"
        )

    summary = status.summary
    print(
        f"summary: {summary.state.value}, {summary.sites} sites "
        f"({summary.succeeded} succeeded, {summary.failed} failed, "
        f"{summary.pending} pending), {summary.bytes_purged} bytes purged, "
        f"{summary.bytes_not_purged} bytes not purged, "
        f"latest finish {_format_time(summary.latest_finish)}"
    )
    if status.error_code is not None:
        print(f"server error code: {status.error_code}: {status.error_message or ''}")


def main() -> int:
    """Fetch and print the status, returning the process exit code."""
    arguments = _parse_arguments()

    required = {
        "F5XC_API_URL": "the tenant's API URL, such as https://acme.console.ves.volterra.io/api",
        "F5XC_API_TOKEN": "an F5 XC API token",
    }
    missing = [name for name in required if not os.environ.get(name)]
    for name in missing:
        print(f"error: {name} is not set. Set it to {required[name]}.", file=sys.stderr)
    if missing:
        return 1

    try:
        with opstatus.Client(
            api_url=os.environ["F5XC_API_URL"],
            api_token=os.environ["F5XC_API_TOKEN"],
            ca_file=os.environ.get("F5XC_CACERT") or None,
        ) as client:
            status = client.get_status(
                namespace=arguments.namespace,
                name=arguments.name,
                service_op_id=arguments.service_op_id,
            )
    except opstatus.OpStatusError as exc:
        print(f"error: {exc.code_name}: {exc}", file=sys.stderr)
        return 1

    _print_status(status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
