"""Typed views of the JSON result of ``opstatus_get_status()``.

The parsers copy what the library returned and compute nothing of their
own: the per-site status words stay text, and the classification into
succeeded, failed and pending is the library's ``summary``. An item field
that the result leaves out becomes None, never 0 or "".
"""

from __future__ import annotations

import enum
import json
import re
import sys
from collections.abc import Mapping

from ._datetimes import datetime, timedelta, timezone
from ._errors import InternalError, ProtocolError
from ._record import FrozenRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    from decimal import Decimal
    from typing import Any

__all__ = [
    "OperationItem",
    "OperationState",
    "PurgeDetails",
    "ServiceOperationStatus",
    "StatusSummary",
    "decode_result",
    "parse_status",
    "parse_time",
]


class OperationState(enum.Enum):
    """State of a whole operation, as the library's summary classifies it."""

    SUCCEEDED = "succeeded"
    """At least one site reported, and every site that reported succeeded."""
    FAILED = "failed"
    """At least one site failed."""
    PENDING = "pending"
    """No site failed, and no site reported yet or some sites are still running."""


# The members by value. A dict lookup is several times faster than
# OperationState(value), which matters for results with thousands of items.
_STATES: dict[Any, OperationState] = {state.value: state for state in OperationState}


class PurgeDetails(FrozenRecord):
    """Purge result that one site reported.

    Byte counts are exact integers, because the API sends them as decimal
    strings that may exceed 2**53. Times are timezone-aware.

    Fields, in order: ``site``, ``bytes_purged``, ``bytes_not_purged``,
    ``hard_purge``, ``regexp``, ``start_time``, ``finish_time``,
    ``purge_time``. Like every result type, it behaves as a frozen
    dataclass.
    """

    __match_args__ = (
        "site",
        "bytes_purged",
        "bytes_not_purged",
        "hard_purge",
        "regexp",
        "start_time",
        "finish_time",
        "purge_time",
    )
    __slots__ = __match_args__

    site: str | None
    bytes_purged: int | None
    bytes_not_purged: int | None
    hard_purge: bool | None
    regexp: str | None
    start_time: datetime | None
    finish_time: datetime | None
    purge_time: datetime | None

    def __init__(
        self,
        site: str | None,
        bytes_purged: int | None,
        bytes_not_purged: int | None,
        hard_purge: bool | None,
        regexp: str | None,
        start_time: datetime | None,
        finish_time: datetime | None,
        purge_time: datetime | None,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "site", site)
        set_field(self, "bytes_purged", bytes_purged)
        set_field(self, "bytes_not_purged", bytes_not_purged)
        set_field(self, "hard_purge", hard_purge)
        set_field(self, "regexp", regexp)
        set_field(self, "start_time", start_time)
        set_field(self, "finish_time", finish_time)
        set_field(self, "purge_time", purge_time)


class OperationItem(FrozenRecord):
    """Status of the operation on one site, as the server reported it.

    ``status`` is the server's status word, such as ``"success"``.
    ``state`` is the library's classification of that word by the client's
    ``success_statuses`` and ``failure_statuses``, the same that
    :class:`StatusSummary` counts. It is None only for a result of a
    library that does not classify sites.

    Fields, in order: ``service_op_id``, ``status``, ``purge``, ``state``
    (default None).
    """

    __match_args__ = ("service_op_id", "status", "purge", "state")
    __slots__ = __match_args__
    _field_defaults = {"state": None}

    service_op_id: int | None
    status: str | None
    purge: PurgeDetails | None
    state: OperationState | None

    def __init__(
        self,
        service_op_id: int | None,
        status: str | None,
        purge: PurgeDetails | None,
        state: OperationState | None = None,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "service_op_id", service_op_id)
        set_field(self, "status", status)
        set_field(self, "purge", purge)
        set_field(self, "state", state)


class StatusSummary(FrozenRecord):
    """Totals over all sites, computed by the library.

    ``earliest_start`` and ``latest_finish`` are None when no site reported
    that time.

    Fields, in order: ``state``, ``sites``, ``succeeded``, ``failed``,
    ``pending``, ``bytes_purged``, ``bytes_not_purged``,
    ``earliest_start``, ``latest_finish``.
    """

    __match_args__ = (
        "state",
        "sites",
        "succeeded",
        "failed",
        "pending",
        "bytes_purged",
        "bytes_not_purged",
        "earliest_start",
        "latest_finish",
    )
    __slots__ = __match_args__

    state: OperationState
    sites: int
    succeeded: int
    failed: int
    pending: int
    bytes_purged: int
    bytes_not_purged: int
    earliest_start: datetime | None
    latest_finish: datetime | None

    def __init__(
        self,
        state: OperationState,
        sites: int,
        succeeded: int,
        failed: int,
        pending: int,
        bytes_purged: int,
        bytes_not_purged: int,
        earliest_start: datetime | None,
        latest_finish: datetime | None,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "state", state)
        set_field(self, "sites", sites)
        set_field(self, "succeeded", succeeded)
        set_field(self, "failed", failed)
        set_field(self, "pending", pending)
        set_field(self, "bytes_purged", bytes_purged)
        set_field(self, "bytes_not_purged", bytes_not_purged)
        set_field(self, "earliest_start", earliest_start)
        set_field(self, "latest_finish", latest_finish)


class ServiceOperationStatus(FrozenRecord):
    """Status of one service operation on every site.

    ``error_code`` and ``error_message`` come from the ``error`` object of
    the response. They are None when the server sent none. ``"EPARTIAL"``
    means that ``items`` contains only the sites that the server had.

    Fields, in order: ``items``, ``summary``, ``error_code``,
    ``error_message``.

    A status returned by :meth:`Client.get_status` keeps the library's
    JSON text. It converts the text on the first access to a field, or on
    comparison, hashing, repr or pickling, so a caller who does not read
    the result does not pay for the conversion. A result that does not
    have the documented shape raises ProtocolError (InternalError for text
    that is not JSON) at that first access instead of in ``get_status()``.
    """

    __match_args__ = ("items", "summary", "error_code", "error_message")
    __slots__ = (*__match_args__, "_source")

    items: tuple[OperationItem, ...]
    summary: StatusSummary
    error_code: str | None
    error_message: str | None
    # The JSON text that is still to be converted, or None.
    _source: bytes | None

    def __init__(
        self,
        items: tuple[OperationItem, ...],
        summary: StatusSummary,
        error_code: str | None,
        error_message: str | None,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "items", items)
        set_field(self, "summary", summary)
        set_field(self, "error_code", error_code)
        set_field(self, "error_message", error_message)
        set_field(self, "_source", None)

    @classmethod
    def _from_text(cls, text: bytes) -> ServiceOperationStatus:
        """Create a status whose fields are converted from ``text`` on first access."""
        status = object.__new__(cls)
        object.__setattr__(status, "_source", text)
        return status

    if not TYPE_CHECKING:
        # Hidden from type checkers, which would otherwise accept any
        # attribute name on a status.

        def __getattr__(self, name: str) -> Any:
            # Python calls this only for an attribute that is not set: a
            # field of a status made by _from_text() before its conversion,
            # or a name that does not exist.
            if name not in ServiceOperationStatus.__match_args__:
                raise AttributeError(
                    f"{type(self).__name__!r} object has no attribute {name!r}"
                )
            self._convert()
            return object.__getattribute__(self, name)

    def _convert(self) -> None:
        source = self._source
        if source is None:
            # Another thread finished the conversion meanwhile.
            return
        converted = parse_status(decode_result(source))
        set_field = object.__setattr__
        for name in self.__match_args__:
            set_field(self, name, getattr(converted, name))
        # Cleared last, so a thread that finds _source None can rely on every
        # field being set.
        set_field(self, "_source", None)

    @property
    def partial(self) -> bool:
        """Whether the server returned only some of the sites (EPARTIAL)."""
        return self.error_code == "EPARTIAL"


def decode_result(text: bytes) -> dict[str, Any]:
    """Decode a JSON object that libopstatus returned.

    Raises InternalError for text that is not a JSON object, which the
    library does not return.
    """
    try:
        result = json.loads(text)
    except ValueError as exc:
        raise InternalError(
            f"libopstatus returned a result that is not valid JSON: {exc}"
        ) from None
    if not isinstance(result, dict):
        raise InternalError(
            f"libopstatus returned a JSON {type(result).__name__} instead of an object"
        )
    return result


# RFC 3339 date-time. Fractions of any length are accepted and cut to the
# microseconds that datetime can store.
_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d+))?(?P<offset>[Zz]|[+-]\d{2}:\d{2})"
)
_UNIX_TIMESTAMP = re.compile(r"-?\d+(?:\.\d+)?")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# From Python 3.11, datetime.fromisoformat() reads the RFC 3339 forms that
# the API sends, with "Z" and a fraction of any length cut to microseconds.
# It gives the same datetime as the normalized text that
# _normalized_rfc3339() builds, as a comparison on random times showed with
# CPython 3.11, 3.12 and 3.13. Python 3.10 needs that text.
_FROMISOFORMAT_READS_RFC3339 = sys.version_info >= (3, 11)


def _invalid(field: str, value: Any, expected: str) -> ProtocolError:
    return ProtocolError(
        f"invalid {field} in the libopstatus result: expected {expected}, "
        f"got {value!r}. "
        "Client.get_status_json() returns the result without conversion."
    )


class _InvalidValue(Exception):
    """A value of the wrong form. The caller names the field in its ProtocolError."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _normalized_rfc3339(match: re.Match[str]) -> str:
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    offset = match["offset"].upper()
    if offset == "Z":
        offset = "+00:00"
    return f"{match['date']}T{match['time']}.{fraction}{offset}"


def _from_unix_seconds(seconds: Decimal) -> datetime:
    if not seconds.is_finite():
        raise _InvalidValue("a unix timestamp")
    whole = int(seconds.to_integral_value(rounding="ROUND_FLOOR"))
    microseconds = int((seconds - whole) * 1_000_000)
    try:
        return _EPOCH + timedelta(seconds=whole, microseconds=microseconds)
    except OverflowError:
        raise _InvalidValue("a unix timestamp within the years 1 to 9999") from None


def _read_time(value: Any) -> datetime | None:
    """Convert an API time, raising _InvalidValue for anything that is not one."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        match = _RFC3339.fullmatch(value)
        if match:
            if _FROMISOFORMAT_READS_RFC3339:
                try:
                    return datetime.fromisoformat(value)
                except ValueError:
                    # A lower-case "t" or "z", which the normalized text
                    # accepts, or a field out of range, which it rejects.
                    pass
            try:
                return datetime.fromisoformat(_normalized_rfc3339(match))
            except ValueError:
                # Out-of-range fields, such as month 13 or the leap second 60.
                raise _InvalidValue("an RFC 3339 time") from None
        if _UNIX_TIMESTAMP.fullmatch(value):
            from decimal import Decimal

            return _from_unix_seconds(Decimal(value))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        from decimal import Decimal

        return _from_unix_seconds(Decimal(value))
    raise _InvalidValue("an RFC 3339 time or a unix timestamp")


def parse_time(value: Any, field: str = "time") -> datetime | None:
    """Convert an API time to a timezone-aware datetime.

    Accepts RFC 3339 text such as ``"2019-09-23T12:32:11.733Z"`` and unix
    timestamps in seconds, as a number or as decimal text. None and ""
    return None, because proto3 JSON may write an unset string field as "".
    Raises ProtocolError for anything else.
    """
    try:
        return _read_time(value)
    except _InvalidValue as exc:
        raise _invalid(field, value, exc.expected) from None


class _TimeReader:
    """Converter of the times of one result, which reuses the datetime of a repeated text.

    The sites of one operation often report the same purge_time or
    start_time, and datetimes are immutable, so one object can serve all.
    """

    def __init__(self) -> None:
        self._seen: dict[str, datetime | None] = {}

    def read(self, data: Mapping[str, Any], key: str, prefix: str | int) -> datetime | None:
        """Convert ``data[key]``. ``prefix`` is the item index, or the object's name."""
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            seen = self._seen
            if value in seen:
                return seen[value]
        try:
            parsed = _read_time(value)
        except _InvalidValue as exc:
            raise _invalid(_field_name(prefix, key), value, exc.expected) from None
        if isinstance(value, str):
            self._seen[value] = parsed
        return parsed


def _field_name(prefix: str | int, key: str) -> str:
    # Error messages name an item field as items[3].purge.site.
    if isinstance(prefix, int):
        return f"items[{prefix}].purge.{key}"
    return f"{prefix}.{key}"


def _integer(value: Any, field: str) -> int:
    # bool is a subclass of int, but true is not a count.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _invalid(field, value, "an integer")


def _byte_count(value: Any) -> int:
    """Convert a byte count, raising _InvalidValue for anything that is not one."""
    # str.isdecimal() accepts the characters that the regular expression
    # \d accepts in a str pattern, the decimal digits of every script, as
    # int() does.
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise _InvalidValue("a non-negative decimal string")


def _operation_state(value: Any) -> OperationState | None:
    """Return the OperationState whose value is ``value``, or None when there is none."""
    try:
        return _STATES[value]
    except (KeyError, TypeError):
        # TypeError: an unhashable value, such as a list. Like
        # OperationState(value), a member itself is accepted too.
        return value if isinstance(value, OperationState) else None


def _is_object(value: Any) -> bool:
    # The type test first: isinstance() with the Mapping ABC takes several
    # times longer, and results decoded by json contain dicts.
    return type(value) is dict or isinstance(value, Mapping)


def _purge_text(data: Mapping[str, Any], key: str, index: int) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _invalid(_field_name(index, key), value, "a string")


def _purge_byte_count(data: Mapping[str, Any], key: str, index: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return _byte_count(value)
    except _InvalidValue as exc:
        raise _invalid(_field_name(index, key), value, exc.expected) from None


def _parse_purge(data: Any, index: int, times: _TimeReader) -> PurgeDetails | None:
    if data is None:
        return None
    if not _is_object(data):
        raise _invalid(f"items[{index}].purge", data, "an object")
    # The fields are converted in the order of PurgeDetails, so that the
    # first invalid field in that order is the one reported.
    site = _purge_text(data, "site", index)
    bytes_purged = _purge_byte_count(data, "bytes_purged", index)
    bytes_not_purged = _purge_byte_count(data, "bytes_not_purged", index)
    hard_purge = data.get("hard_purge")
    if hard_purge is not None and not isinstance(hard_purge, bool):
        raise _invalid(f"items[{index}].purge.hard_purge", hard_purge, "true or false")
    return PurgeDetails(
        site,
        bytes_purged,
        bytes_not_purged,
        hard_purge,
        _purge_text(data, "regexp", index),
        times.read(data, "start_time", index),
        times.read(data, "finish_time", index),
        times.read(data, "purge_time", index),
    )


def _parse_item(data: Any, index: int, times: _TimeReader) -> OperationItem:
    if not _is_object(data):
        raise _invalid(f"items[{index}]", data, "an object")
    state_text = data.get("state")
    state = None
    if state_text is not None:
        state = _operation_state(state_text)
        if state is None:
            raise _invalid(
                f"items[{index}].state", state_text, "succeeded, failed or pending"
            )
    op_id = data.get("service_op_id")
    if op_id is not None and (not isinstance(op_id, int) or isinstance(op_id, bool)):
        raise _invalid(f"items[{index}].service_op_id", op_id, "an integer")
    status = data.get("status")
    if status is not None and not isinstance(status, str):
        raise _invalid(f"items[{index}].status", status, "a string")
    return OperationItem(op_id, status, _parse_purge(data.get("purge"), index, times), state)


def _parse_summary(data: Any, times: _TimeReader) -> StatusSummary:
    if not isinstance(data, Mapping):
        raise _invalid("summary", data, "an object")
    state_text = data.get("state")
    state = _operation_state(state_text)
    if state is None:
        raise _invalid("summary.state", state_text, "succeeded, failed or pending")
    return StatusSummary(
        state,
        _integer(data.get("sites"), "summary.sites"),
        _integer(data.get("succeeded"), "summary.succeeded"),
        _integer(data.get("failed"), "summary.failed"),
        _integer(data.get("pending"), "summary.pending"),
        _summary_byte_count(data, "bytes_purged"),
        _summary_byte_count(data, "bytes_not_purged"),
        times.read(data, "earliest_start", "summary"),
        times.read(data, "latest_finish", "summary"),
    )


def _summary_byte_count(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    try:
        return _byte_count(value)
    except _InvalidValue as exc:
        raise _invalid(f"summary.{key}", value, exc.expected) from None


def _error_text(error: Mapping[str, Any], key: str) -> str | None:
    value = error.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _invalid(f"error.{key}", value, "a string")


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

    times = _TimeReader()
    converted_items = tuple(
        [_parse_item(item, index, times) for index, item in enumerate(items)]
    )
    return ServiceOperationStatus(
        converted_items,
        _parse_summary(result.get("summary"), times),
        _error_text(error, "code"),
        _error_text(error, "message"),
    )
