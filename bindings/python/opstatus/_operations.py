"""Typed views of purges, operation lists, calls on many operations and waits.

Like ``_models``, the parsers copy what libopstatus returned: whether a wait
succeeded or failed is the library's decision, read from its ``wait``
object, never recomputed here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from ._errors import OpStatusError, ProtocolError, error_for_code
from ._models import ServiceOperationStatus, parse_status, parse_time
from ._record import FrozenRecord

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

__all__ = [
    "OperationRecord",
    "OperationRef",
    "StatusOutcome",
    "WaitManyResult",
    "WaitOutcome",
    "WaitOutcomeEntry",
    "WaitProgress",
    "WaitResult",
]


class WaitOutcome(enum.Enum):
    """End state of a wait, or of one operation of :meth:`Client.wait_many`.

    :attr:`WaitResult.outcome` and :attr:`WaitManyResult.outcome` of a
    finished wait are SUCCEEDED, FAILED, TIMEOUT or CANCELLED. PENDING and
    ERROR appear only for single operations in :class:`WaitOutcomeEntry`,
    and PENDING also in the snapshots passed to a progress callback.
    """

    PENDING = "pending"
    """The operation had not finished when the wait ended or the snapshot was taken."""
    SUCCEEDED = "succeeded"
    """Enough sites reported, all of them succeeded, and the set of sites settled."""
    FAILED = "failed"
    """A site failed. For wait_many: an operation failed or could not be read."""
    TIMEOUT = "timeout"
    """The wait's timeout passed before the operation finished."""
    CANCELLED = "cancelled"
    """A progress callback or :meth:`Client.cancel` cancelled the wait."""
    ERROR = "error"
    """The operation's status could not be read, for example an unknown id."""


class OperationRef(FrozenRecord):
    """Identity of one service operation: where it runs and its id.

    ``kind`` is ``"http_loadbalancer"`` or ``"cdn_loadbalancer"``. None
    means the client's ``resource_kind`` setting.

    Fields, in order: ``namespace``, ``name``, ``service_op_id``, ``kind``
    (default None). Like every result type, it behaves as a frozen
    dataclass.

    Raises TypeError on construction when a field has the wrong type. The
    library checks the values themselves, such as a negative id.
    """

    __match_args__ = ("namespace", "name", "service_op_id", "kind")
    __slots__ = __match_args__
    _field_defaults = {"kind": None}

    namespace: str
    name: str
    service_op_id: int
    kind: str | None

    def __init__(
        self, namespace: str, name: str, service_op_id: int, kind: str | None = None
    ) -> None:
        for field_name, value in (("namespace", namespace), ("name", name)):
            if not isinstance(value, str):
                raise TypeError(
                    f"OperationRef.{field_name} must be a str, not {type(value).__name__}"
                )
        # bool is a subclass of int, but True is not an operation id.
        if isinstance(service_op_id, bool) or not isinstance(service_op_id, int):
            raise TypeError(
                f"OperationRef.service_op_id must be an int, not {type(service_op_id).__name__}"
            )
        if kind is not None and not isinstance(kind, str):
            raise TypeError(
                f"OperationRef.kind must be a str or None, not {type(kind).__name__}"
            )
        set_field = object.__setattr__
        set_field(self, "namespace", namespace)
        set_field(self, "name", name)
        set_field(self, "service_op_id", service_op_id)
        set_field(self, "kind", kind)

    def to_request(self) -> dict[str, Any]:
        """Return the status request of ``opstatus.h`` for this operation."""
        request: dict[str, Any] = {
            "namespace": self.namespace,
            "name": self.name,
            "service_op_id": self.service_op_id,
        }
        if self.kind is not None:
            request["kind"] = self.kind
        return request


class OperationRecord(FrozenRecord):
    """One entry of :meth:`Client.list_operations`.

    A field that the server left out is None. Times are timezone-aware.

    Fields, in order: ``service_op_id``, ``svc_version``,
    ``created_time``, ``modified_time``.
    """

    __match_args__ = ("service_op_id", "svc_version", "created_time", "modified_time")
    __slots__ = __match_args__

    service_op_id: int | None
    svc_version: int | None
    created_time: datetime | None
    modified_time: datetime | None

    def __init__(
        self,
        service_op_id: int | None,
        svc_version: int | None,
        created_time: datetime | None,
        modified_time: datetime | None,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "service_op_id", service_op_id)
        set_field(self, "svc_version", svc_version)
        set_field(self, "created_time", created_time)
        set_field(self, "modified_time", modified_time)


class StatusOutcome(FrozenRecord):
    """Result for one operation of :meth:`Client.get_status_many`.

    Exactly one of ``status`` and ``error`` is set.

    Fields, in order: ``request``, ``status``, ``error``.
    """

    __match_args__ = ("request", "status", "error")
    __slots__ = __match_args__

    request: OperationRef
    status: ServiceOperationStatus | None
    error: OpStatusError | None

    def __init__(
        self,
        request: OperationRef,
        status: ServiceOperationStatus | None,
        error: OpStatusError | None,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "request", request)
        set_field(self, "status", status)
        set_field(self, "error", error)

    @property
    def ok(self) -> bool:
        """Whether the status was read, so that ``status`` is set."""
        return self.error is None


class WaitProgress(FrozenRecord):
    """State of a wait after one poll, passed to the progress callback.

    ``outcome`` is ``"pending"``, ``"succeeded"`` or ``"failed"``, as the
    library judged the poll. ``elapsed`` is in seconds since the wait
    started.

    Fields, in order: ``outcome``, ``polls``, ``elapsed``.
    """

    __match_args__ = ("outcome", "polls", "elapsed")
    __slots__ = __match_args__

    outcome: str
    polls: int
    elapsed: float

    def __init__(self, outcome: str, polls: int, elapsed: float) -> None:
        set_field = object.__setattr__
        set_field(self, "outcome", outcome)
        set_field(self, "polls", polls)
        set_field(self, "elapsed", elapsed)


class WaitResult(FrozenRecord):
    """End of :meth:`Client.wait`.

    ``status`` is the last status read. It is None only when the wait timed
    out or was cancelled before its first poll completed. ``elapsed`` is in
    seconds.

    Fields, in order: ``status``, ``outcome``, ``polls``, ``elapsed``.
    """

    __match_args__ = ("status", "outcome", "polls", "elapsed")
    __slots__ = __match_args__

    status: ServiceOperationStatus | None
    outcome: WaitOutcome
    polls: int
    elapsed: float

    def __init__(
        self,
        status: ServiceOperationStatus | None,
        outcome: WaitOutcome,
        polls: int,
        elapsed: float,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "status", status)
        set_field(self, "outcome", outcome)
        set_field(self, "polls", polls)
        set_field(self, "elapsed", elapsed)


class WaitOutcomeEntry(FrozenRecord):
    """State of one operation at the end of :meth:`Client.wait_many`.

    ``status`` is the last status read and ``error`` is set when
    ``outcome`` is ERROR. An operation that failed on a site has a status
    and no error.

    Fields, in order: ``request``, ``outcome``, ``status``, ``error``.
    """

    __match_args__ = ("request", "outcome", "status", "error")
    __slots__ = __match_args__

    request: OperationRef
    outcome: WaitOutcome
    status: ServiceOperationStatus | None
    error: OpStatusError | None

    def __init__(
        self,
        request: OperationRef,
        outcome: WaitOutcome,
        status: ServiceOperationStatus | None,
        error: OpStatusError | None,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "request", request)
        set_field(self, "outcome", outcome)
        set_field(self, "status", status)
        set_field(self, "error", error)


class WaitManyResult(FrozenRecord):
    """End of :meth:`Client.wait_many`, or a snapshot of it after one round.

    ``operations`` is in the order of the request. ``outcome`` is SUCCEEDED
    only when every operation succeeded, FAILED when all finished and one
    failed or could not be read, and TIMEOUT or CANCELLED when the wait
    stopped early. Snapshots passed to a progress callback have PENDING
    while operations remain. ``elapsed`` is in seconds.

    Fields, in order: ``operations``, ``outcome``, ``polls``, ``elapsed``.
    """

    __match_args__ = ("operations", "outcome", "polls", "elapsed")
    __slots__ = __match_args__

    operations: tuple[WaitOutcomeEntry, ...]
    outcome: WaitOutcome
    polls: int
    elapsed: float

    def __init__(
        self,
        operations: tuple[WaitOutcomeEntry, ...],
        outcome: WaitOutcome,
        polls: int,
        elapsed: float,
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "operations", operations)
        set_field(self, "outcome", outcome)
        set_field(self, "polls", polls)
        set_field(self, "elapsed", elapsed)


def _invalid(field: str, value: Any, expected: str) -> ProtocolError:
    return ProtocolError(
        f"invalid {field} in the libopstatus result: expected {expected}, got {value!r}"
    )


def _optional_integer(data: Mapping[str, Any], key: str, field: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _invalid(field, value, "an integer")


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _invalid(field, value, "an object")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise _invalid(field, value, "an array")
    return value


def operation_ref(value: OperationRef | Sequence[Any] | Mapping[str, Any]) -> OperationRef:
    """Convert one entry of a call on many operations to an OperationRef.

    Accepts an OperationRef, a tuple ``(namespace, name, service_op_id)``
    or ``(namespace, name, service_op_id, kind)``, or a mapping with those
    keys. Raises TypeError for anything else.
    """
    if isinstance(value, OperationRef):
        return value
    if isinstance(value, Mapping):
        unknown = set(value) - {"namespace", "name", "service_op_id", "kind"}
        if unknown:
            raise TypeError(
                f"unknown operation keys {sorted(map(str, unknown))}; "
                "use namespace, name, service_op_id and kind"
            )
        missing = [key for key in ("namespace", "name", "service_op_id") if key not in value]
        if missing:
            raise TypeError(f"operation mapping is missing the keys {missing}")
        return OperationRef(
            value["namespace"], value["name"], value["service_op_id"], value.get("kind")
        )
    # A str is a Sequence too, and would become a list of letters.
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) not in (3, 4):
            raise TypeError(
                "an operation tuple has 3 or 4 items: "
                f"(namespace, name, service_op_id[, kind]), not {len(value)}"
            )
        return OperationRef(*value)
    raise TypeError(
        "an operation must be an OperationRef, a tuple or a mapping, "
        f"not {type(value).__name__}"
    )


def parse_error(data: Any, field: str) -> OpStatusError:
    """Create the exception for an error object of a result.

    The object has the keys of ``opstatus_last_error_json()``.
    """
    error = _mapping(data, field)
    code = error.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        raise _invalid(f"{field}.code", code, "an integer")
    message = error.get("message")
    name = error.get("name")
    api_code = error.get("api_code")
    retry_after_ms = _optional_integer(error, "retry_after_ms", f"{field}.retry_after_ms")
    return error_for_code(
        code,
        message if isinstance(message, str) else "",
        code_name=name if isinstance(name, str) else None,
        http_status=_optional_integer(error, "http_status", f"{field}.http_status"),
        api_code=api_code if isinstance(api_code, str) else None,
        retry_after=None if retry_after_ms is None else retry_after_ms / 1000,
    )


def parse_records(result: Mapping[str, Any]) -> list[OperationRecord]:
    """Convert the result of ``opstatus_list_json()`` to OperationRecords."""
    items = result.get("items")
    records = []
    for index, item in enumerate(_list([] if items is None else items, "items")):
        field = f"items[{index}]"
        data = _mapping(item, field)
        records.append(
            OperationRecord(
                service_op_id=_optional_integer(
                    data, "service_op_id", f"{field}.service_op_id"
                ),
                svc_version=_optional_integer(data, "svc_version", f"{field}.svc_version"),
                created_time=parse_time(data.get("created_time"), f"{field}.created_time"),
                modified_time=parse_time(
                    data.get("modified_time"), f"{field}.modified_time"
                ),
            )
        )
    return records


def _check_count(entries: list[Any], refs: Sequence[OperationRef], field: str) -> None:
    if len(entries) != len(refs):
        raise ProtocolError(
            f"libopstatus returned {len(entries)} {field} for {len(refs)} operations"
        )


def parse_status_outcomes(
    result: Mapping[str, Any], refs: Sequence[OperationRef]
) -> list[StatusOutcome]:
    """Convert the result of ``opstatus_get_status_many_json()``, in the order of ``refs``."""
    entries = _list(result.get("results"), "results")
    _check_count(entries, refs, "results")
    outcomes = []
    for index, (entry, ref) in enumerate(zip(entries, refs)):
        field = f"results[{index}]"
        data = _mapping(entry, field)
        if data.get("ok") is True:
            outcomes.append(StatusOutcome(ref, parse_status(data.get("status")), None))
        else:
            outcomes.append(StatusOutcome(ref, None, parse_error(data.get("error"), f"{field}.error")))
    return outcomes


def parse_wait_info(result: Mapping[str, Any]) -> WaitProgress:
    """Read the ``wait`` object of a wait result or progress snapshot."""
    info = _mapping(result.get("wait"), "wait")
    outcome = info.get("outcome")
    if not isinstance(outcome, str):
        raise _invalid("wait.outcome", outcome, "a string")
    polls = _optional_integer(info, "polls", "wait.polls")
    elapsed_ms = _optional_integer(info, "elapsed_ms", "wait.elapsed_ms")
    return WaitProgress(
        outcome=outcome,
        polls=polls or 0,
        elapsed=(elapsed_ms or 0) / 1000,
    )


def wait_outcome(text: Any, field: str) -> WaitOutcome:
    """Convert an outcome word of the library to a WaitOutcome."""
    try:
        return WaitOutcome(text)
    except ValueError:
        raise _invalid(field, text, "an outcome word such as succeeded") from None


def parse_wait_many(
    result: Mapping[str, Any],
    refs: Sequence[OperationRef],
    outcome: WaitOutcome | None = None,
) -> WaitManyResult:
    """Convert a result or snapshot of ``opstatus_wait_many_json()``.

    ``outcome`` replaces the library's ``wait.outcome`` when given, for a
    wait that ended with a timeout or a cancellation.
    """
    entries = _list(result.get("operations"), "operations")
    _check_count(entries, refs, "operations")
    operations = []
    for index, (entry, ref) in enumerate(zip(entries, refs)):
        field = f"operations[{index}]"
        data = _mapping(entry, field)
        entry_outcome = wait_outcome(data.get("outcome"), f"{field}.outcome")
        status = data.get("status")
        error = data.get("error")
        operations.append(
            WaitOutcomeEntry(
                request=ref,
                outcome=entry_outcome,
                status=None if status is None else parse_status(status),
                error=None if error is None else parse_error(error, f"{field}.error"),
            )
        )
    info = parse_wait_info(result)
    return WaitManyResult(
        operations=tuple(operations),
        outcome=outcome or wait_outcome(info.outcome, "wait.outcome"),
        polls=info.polls,
        elapsed=info.elapsed,
    )
