"""Results of the ``opstatus`` command as tables, JSON and NDJSON on stdout.

JSON documents follow the F5 XC API where it has a form: byte counts are
decimal strings, because they may exceed 2**53, and times are RFC 3339 in
UTC with milliseconds.
"""

from __future__ import annotations

import json

from ._datetimes import datetime, timezone
from ._errors import OpStatusError
from ._models import OperationItem, ServiceOperationStatus
from ._operations import (
    OperationRecord,
    OperationRef,
    StatusOutcome,
    WaitManyResult,
    WaitOutcomeEntry,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TextIO

__all__ = ["FORMATS", "Output", "describe_ref", "time_text"]

FORMATS = ("table", "json", "ndjson")

_SITE_COLUMNS = ("SITE", "STATUS", "BYTES PURGED", "BYTES NOT PURGED", "FINISHED")
_RECORD_COLUMNS = ("ID", "SVC VERSION", "CREATED", "MODIFIED")
# Columns whose values are numbers, aligned to the right.
_NUMERIC_COLUMNS = {"BYTES PURGED", "BYTES NOT PURGED", "ID", "SVC VERSION"}


def time_text(value: datetime | None) -> str | None:
    """Format a time as RFC 3339 in UTC with milliseconds, or None."""
    if value is None:
        return None
    utc = value.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def _count_text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _state_text(item: OperationItem) -> str | None:
    return None if item.state is None else item.state.value


def describe_ref(ref: OperationRef) -> str:
    """Name an operation in messages, such as ``operation 102 on demo/cdn-1``."""
    kind = f" ({ref.kind})" if ref.kind else ""
    return f"operation {ref.service_op_id} on {ref.namespace}/{ref.name}{kind}"


def ref_document(ref: OperationRef) -> dict[str, Any]:
    """Return the JSON form of an operation's identity."""
    return {
        "namespace": ref.namespace,
        "name": ref.name,
        "service_op_id": ref.service_op_id,
        "kind": ref.kind,
    }


def error_document(error: OpStatusError) -> dict[str, Any]:
    """Return the JSON form of an error, with the fields of OpStatusError."""
    return {
        "code_name": error.code_name,
        "message": error.message,
        "http_status": error.http_status,
        "api_code": error.api_code,
    }


def item_document(item: OperationItem) -> dict[str, Any]:
    """Return the JSON form of one site's status, in the API's shape."""
    document: dict[str, Any] = {
        "service_op_id": item.service_op_id,
        "status": item.status,
        "state": _state_text(item),
    }
    purge = item.purge
    if purge is not None:
        document["purge"] = {
            "site": purge.site,
            "bytes_purged": _count_text(purge.bytes_purged),
            "bytes_not_purged": _count_text(purge.bytes_not_purged),
            "hard_purge": purge.hard_purge,
            "regexp": purge.regexp,
            "start_time": time_text(purge.start_time),
            "finish_time": time_text(purge.finish_time),
            "purge_time": time_text(purge.purge_time),
        }
    return document


def status_document(status: ServiceOperationStatus) -> dict[str, Any]:
    """Return the JSON form of a status: items, summary and the server's error."""
    summary = status.summary
    error = None
    if status.error_code is not None or status.error_message is not None:
        error = {"code": status.error_code, "message": status.error_message}
    return {
        "items": [item_document(item) for item in status.items],
        "summary": {
            "state": summary.state.value,
            "sites": summary.sites,
            "succeeded": summary.succeeded,
            "failed": summary.failed,
            "pending": summary.pending,
            "bytes_purged": str(summary.bytes_purged),
            "bytes_not_purged": str(summary.bytes_not_purged),
            "earliest_start": time_text(summary.earliest_start),
            "latest_finish": time_text(summary.latest_finish),
        },
        "error": error,
    }


def site_document(ref: OperationRef, item: OperationItem) -> dict[str, Any]:
    """Return one NDJSON line of a status: a site with its operation's identity."""
    purge = item.purge
    return {
        **ref_document(ref),
        "site": purge.site if purge else None,
        "status": item.status,
        "state": _state_text(item),
        "bytes_purged": _count_text(purge.bytes_purged) if purge else None,
        "bytes_not_purged": _count_text(purge.bytes_not_purged) if purge else None,
        "start_time": time_text(purge.start_time) if purge else None,
        "finish_time": time_text(purge.finish_time) if purge else None,
    }


def record_document(record: OperationRecord) -> dict[str, Any]:
    """Return the JSON form of one listed operation."""
    return {
        "service_op_id": record.service_op_id,
        "svc_version": record.svc_version,
        "created_time": time_text(record.created_time),
        "modified_time": time_text(record.modified_time),
    }


def entry_document(entry: WaitOutcomeEntry) -> dict[str, Any]:
    """Return the JSON form of one operation of a wait."""
    return {
        **ref_document(entry.request),
        "outcome": entry.outcome.value,
        "status": None if entry.status is None else status_document(entry.status),
        "error": None if entry.error is None else error_document(entry.error),
    }


def wait_document(result: WaitManyResult) -> dict[str, Any]:
    """Return the JSON form of a wait's end or of one round's snapshot."""
    return {
        "outcome": result.outcome.value,
        "polls": result.polls,
        "elapsed": result.elapsed,
        "operations": [entry_document(entry) for entry in result.operations],
    }


def _table_lines(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(column) for column in columns]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row)]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for column, width, cell in zip(columns, widths, cells):
            parts.append(cell.rjust(width) if column in _NUMERIC_COLUMNS else cell.ljust(width))
        return "  ".join(parts).rstrip()

    return [line(columns)] + [line(row) for row in rows]


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def site_table(status: ServiceOperationStatus) -> list[str]:
    """Return the per-site table of a status, one line per site after the header."""
    rows = []
    for item in status.items:
        purge = item.purge
        rows.append(
            (
                _or_dash(purge.site if purge else None),
                _or_dash(item.status),
                _or_dash(purge.bytes_purged if purge else None),
                _or_dash(purge.bytes_not_purged if purge else None),
                _or_dash(time_text(purge.finish_time) if purge else None),
            )
        )
    return _table_lines(_SITE_COLUMNS, rows)


def status_summary_line(ref: OperationRef, status: ServiceOperationStatus) -> str:
    """Return the one-line summary of an operation's status."""
    summary = status.summary
    line = (
        f"{describe_ref(ref)}: {summary.state.value}, {summary.sites} sites "
        f"({summary.succeeded} succeeded, {summary.failed} failed, "
        f"{summary.pending} pending), {summary.bytes_purged} bytes purged, "
        f"{summary.bytes_not_purged} bytes not purged"
    )
    if status.error_code not in (None, "EOK"):
        line += f"; server error code {status.error_code}: {status.error_message or ''}"
    return line


class Output:
    """Writer of command results to ``stream`` in one of :data:`FORMATS`."""

    def __init__(self, output_format: str, stream: TextIO) -> None:
        if output_format not in FORMATS:
            raise ValueError(f"unknown output format {output_format!r}")
        self.format = output_format
        self._stream = stream

    def _write_json(self, document: Any) -> None:
        self._stream.write(json.dumps(document) + "\n")
        self._stream.flush()

    def _write_lines(self, lines: Sequence[str]) -> None:
        self._stream.write("".join(line + "\n" for line in lines))
        self._stream.flush()

    def statuses(self, outcomes: Sequence[StatusOutcome]) -> None:
        """Write the status of each operation that was read.

        Errors appear in JSON documents only. The caller reports them on
        stderr.
        """
        if self.format == "json":
            self._write_json(
                {
                    "operations": [
                        {
                            **ref_document(outcome.request),
                            "status": None
                            if outcome.status is None
                            else status_document(outcome.status),
                            "error": None
                            if outcome.error is None
                            else error_document(outcome.error),
                        }
                        for outcome in outcomes
                    ]
                }
            )
            return
        for outcome in outcomes:
            if outcome.status is None:
                continue
            if self.format == "ndjson":
                for item in outcome.status.items:
                    self._write_json(site_document(outcome.request, item))
            else:
                self._status_table(outcome.request, outcome.status)

    def _status_table(self, ref: OperationRef, status: ServiceOperationStatus) -> None:
        self._write_lines(site_table(status) + [status_summary_line(ref, status)])

    def purge_started(self, ref: OperationRef, *, waiting: bool) -> None:
        """Write the id of a purge that was started.

        With ``waiting`` in JSON format, nothing is written here, because
        :meth:`wait_result` writes the only document, with the id in it.
        """
        document = {"purge_request_id": ref.service_op_id, **ref_document(ref)}
        if self.format == "table":
            self._write_lines([f"purge started: {describe_ref(ref)}"])
        elif self.format == "ndjson":
            self._write_json({"event": "purge", **document})
        elif not waiting:
            self._write_json(document)

    def records(self, records: Sequence[OperationRecord]) -> None:
        """Write a list of operations."""
        if self.format == "json":
            self._write_json({"operations": [record_document(record) for record in records]})
        elif self.format == "ndjson":
            for record in records:
                self._write_json(record_document(record))
        else:
            rows = [
                (
                    _or_dash(record.service_op_id),
                    _or_dash(record.svc_version),
                    _or_dash(time_text(record.created_time)),
                    _or_dash(time_text(record.modified_time)),
                )
                for record in records
            ]
            self._write_lines(
                _table_lines(_RECORD_COLUMNS, rows) + [_counted(len(records), "operation")]
            )

    def wait_progress(self, snapshot: WaitManyResult) -> None:
        """Write one round of a wait; only NDJSON shows rounds on stdout."""
        if self.format == "ndjson":
            self._write_json({"event": "poll", **wait_document(snapshot)})

    def wait_result(self, result: WaitManyResult, *, purge_request_id: int | None = None) -> None:
        """Write the end of a wait; ``purge_request_id`` names the purge it followed."""
        document = wait_document(result)
        if purge_request_id is not None:
            document = {"purge_request_id": purge_request_id, **document}
        if self.format == "json":
            self._write_json(document)
            return
        if self.format == "ndjson":
            self._write_json({"event": "result", **document})
            return
        # Errors of single operations appear in JSON documents only. The
        # caller reports them on stderr.
        for entry in result.operations:
            if entry.status is not None:
                self._status_table(entry.request, entry.status)
        operations = _counted(len(result.operations), "operation")
        polls = _counted(result.polls, "poll")
        self._write_lines(
            [f"wait {result.outcome.value}: {operations}, {polls}, {result.elapsed:.1f} s"]
        )
