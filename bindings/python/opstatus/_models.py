"""Typed views of the JSON result of ``opstatus_get_status()``.

The parsers copy what the library returned and compute nothing of their
own: the per-site status words stay text, and the classification into
succeeded, failed and pending is the library's ``summary``. An item field
that the result leaves out becomes None, never 0 or "".
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ._errors import ProtocolError

__all__ = [
    "OperationItem",
    "OperationState",
    "PurgeDetails",
    "ServiceOperationStatus",
    "StatusSummary",
    "parse_status",
]


class OperationState(enum.Enum):
    """State of a whole operation, as the library's summary classifies it."""

    SUCCEEDED = "succeeded"
    """At least one site reported, and every site that reported succeeded."""
    FAILED = "failed"
    """At least one site failed."""
    PENDING = "pending"
    """No site failed, and no site reported yet or some sites are still running."""


@dataclass(frozen=True, slots=True)
class PurgeDetails:
    """Purge result that one site reported.

    Byte counts are exact integers, because the API sends them as decimal
    strings that may exceed 2**53. Times are timezone-aware.
    """

    site: str | None
    bytes_purged: int | None
    bytes_not_purged: int | None
    hard_purge: bool | None
    regexp: str | None
    start_time: datetime | None
    finish_time: datetime | None
    purge_time: datetime | None


@dataclass(frozen=True, slots=True)
class OperationItem:
    """Status of the operation on one site, as the server reported it.

    ``status`` is the server's status word, such as ``"success"``.
    ``state`` is the library's classification of that word by the client's
    ``success_statuses`` and ``failure_statuses``, the same that
    :class:`StatusSummary` counts. It is None only for a result of a
    library that does not classify sites.
    """

    service_op_id: int | None
    status: str | None
    purge: PurgeDetails | None
    state: OperationState | None = None


@dataclass(frozen=True, slots=True)
class StatusSummary:
    """Totals over all sites, computed by the library.

    ``earliest_start`` and ``latest_finish`` are None when no site reported
    that time.
    """

    state: OperationState
    sites: int
    succeeded: int
    failed: int
    pending: int
    bytes_purged: int
    bytes_not_purged: int
    earliest_start: datetime | None
    latest_finish: datetime | None


@dataclass(frozen=True, slots=True)
class ServiceOperationStatus:
    """Status of one service operation on every site.

    ``error_code`` and ``error_message`` come from the ``error`` object of
    the response. They are None when the server sent none. ``"EPARTIAL"``
    means that ``items`` contains only the sites that the server had.
    """

    items: tuple[OperationItem, ...]
    summary: StatusSummary
    error_code: str | None
    error_message: str | None

    @property
    def partial(self) -> bool:
        """Whether the server returned only some of the sites (EPARTIAL)."""
        return self.error_code == "EPARTIAL"


# RFC 3339 date-time. Fractions of any length are accepted and cut to the
# microseconds that datetime can store.
_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d+))?(?P<offset>[Zz]|[+-]\d{2}:\d{2})"
)
_UNIX_TIMESTAMP = re.compile(r"-?\d+(?:\.\d+)?")
_DECIMAL_COUNT = re.compile(r"\d+")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _invalid(field: str, value: Any, expected: str) -> ProtocolError:
    return ProtocolError(
        f"invalid {field} in the libopstatus result: expected {expected}, "
        f"got {value!r}. "
        "Client.get_status_json() returns the result without conversion."
    )


def _optional_str(data: Mapping[str, Any], key: str, field: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _invalid(field, value, "a string")


def _optional_bool(data: Mapping[str, Any], key: str, field: str) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _invalid(field, value, "true or false")


def _integer(value: Any, field: str) -> int:
    # bool is a subclass of int, but true is not a count.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _invalid(field, value, "an integer")


def _byte_count(value: Any, field: str) -> int:
    if isinstance(value, str) and _DECIMAL_COUNT.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _invalid(field, value, "a non-negative decimal string")


def _optional_byte_count(data: Mapping[str, Any], key: str, field: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    return _byte_count(value, field)


def parse_time(value: Any, field: str = "time") -> datetime | None:
    """Convert an API time to a timezone-aware datetime.

    Accepts RFC 3339 text such as ``"2019-09-23T12:32:11.733Z"`` and unix
    timestamps in seconds, as a number or as decimal text. None and ""
    return None, because proto3 JSON may write an unset string field as "".
    Raises ProtocolError for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        match = _RFC3339.fullmatch(value)
        if match:
            return _parse_rfc3339(match, value, field)
        if _UNIX_TIMESTAMP.fullmatch(value):
            return _from_unix_seconds(Decimal(value), value, field)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_unix_seconds(Decimal(value), value, field)
    raise _invalid(field, value, "an RFC 3339 time or a unix timestamp")


def _parse_rfc3339(match: re.Match[str], value: str, field: str) -> datetime:
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    offset = match["offset"].upper()
    if offset == "Z":
        offset = "+00:00"
    text = f"{match['date']}T{match['time']}.{fraction}{offset}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        # Out-of-range fields, such as month 13 or the leap second 60.
        raise _invalid(field, value, "an RFC 3339 time") from None


def _from_unix_seconds(seconds: Decimal, value: Any, field: str) -> datetime:
    if not seconds.is_finite():
        raise _invalid(field, value, "a unix timestamp")
    whole = int(seconds.to_integral_value(rounding="ROUND_FLOOR"))
    microseconds = int((seconds - whole) * 1_000_000)
    try:
        return _EPOCH + timedelta(seconds=whole, microseconds=microseconds)
    except OverflowError:
        raise _invalid(
            field, value, "a unix timestamp within the years 1 to 9999"
        ) from None


def _parse_purge(data: Any, field: str) -> PurgeDetails | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise _invalid(field, data, "an object")
    return PurgeDetails(
        site=_optional_str(data, "site", f"{field}.site"),
        bytes_purged=_optional_byte_count(
            data, "bytes_purged", f"{field}.bytes_purged"
        ),
        bytes_not_purged=_optional_byte_count(
            data, "bytes_not_purged", f"{field}.bytes_not_purged"
        ),
        hard_purge=_optional_bool(data, "hard_purge", f"{field}.hard_purge"),
        regexp=_optional_str(data, "regexp", f"{field}.regexp"),
        start_time=parse_time(data.get("start_time"), f"{field}.start_time"),
        finish_time=parse_time(data.get("finish_time"), f"{field}.finish_time"),
        purge_time=parse_time(data.get("purge_time"), f"{field}.purge_time"),
    )


def _parse_item(data: Any, field: str) -> OperationItem:
    if not isinstance(data, Mapping):
        raise _invalid(field, data, "an object")
    op_id = data.get("service_op_id")
    state_text = data.get("state")
    state = None
    if state_text is not None:
        try:
            state = OperationState(state_text)
        except ValueError:
            raise _invalid(
                f"{field}.state", state_text, "succeeded, failed or pending"
            ) from None
    return OperationItem(
        service_op_id=None
        if op_id is None
        else _integer(op_id, f"{field}.service_op_id"),
        status=_optional_str(data, "status", f"{field}.status"),
        purge=_parse_purge(data.get("purge"), f"{field}.purge"),
        state=state,
    )


def _parse_summary(data: Any) -> StatusSummary:
    if not isinstance(data, Mapping):
        raise _invalid("summary", data, "an object")
    state_text = data.get("state")
    try:
        state = OperationState(state_text)
    except ValueError:
        raise _invalid(
            "summary.state", state_text, "succeeded, failed or pending"
        ) from None
    return StatusSummary(
        state=state,
        sites=_integer(data.get("sites"), "summary.sites"),
        succeeded=_integer(data.get("succeeded"), "summary.succeeded"),
        failed=_integer(data.get("failed"), "summary.failed"),
        pending=_integer(data.get("pending"), "summary.pending"),
        bytes_purged=_byte_count(data.get("bytes_purged"), "summary.bytes_purged"),
        bytes_not_purged=_byte_count(
            data.get("bytes_not_purged"), "summary.bytes_not_purged"
        ),
        earliest_start=parse_time(data.get("earliest_start"), "summary.earliest_start"),
        latest_finish=parse_time(data.get("latest_finish"), "summary.latest_finish"),
    )


def parse_status(result: Any) -> ServiceOperationStatus:
    """Convert the JSON result of ``opstatus_get_status()`` to a ServiceOperationStatus.

    Raises ProtocolError, naming the field, when the result does not have
    the shape that ``opstatus.h`` documents.
    """
    if not isinstance(result, Mapping):
        raise _invalid("result", result, "an object")

    items = result.get("items")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise _invalid("items", items, "an array")

    error = result.get("error")
    if error is None:
        error = {}
    if not isinstance(error, Mapping):
        raise _invalid("error", error, "an object")

    return ServiceOperationStatus(
        items=tuple(
            _parse_item(item, f"items[{index}]") for index, item in enumerate(items)
        ),
        summary=_parse_summary(result.get("summary")),
        error_code=_optional_str(error, "code", "error.code"),
        error_message=_optional_str(error, "message", "error.message"),
    )
