"""Request validation and responses for the emulated F5 XC cache-purge API.

The rules follow the F5 XC OpenAPI types GetServiceOperationReq,
ListServiceOperationsReq and LilacCDNCachePurgeRequest: required fields, field
types, one-of groups with exactly one member set, and no unknown fields. JSON
null counts as an unset field, as in the protobuf JSON mapping. Each check
raises ApiError with the HTTP status and a plain text message that names the
field.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

from emulator_state import KINDS, EmulatorState, LoadBalancer

ACTION_STATUS = "get-service-operation-status"
ACTION_LIST = "list-service-operations-status"
ACTION_PURGE = "cache-purge"

MAX_UINT32 = 2**32 - 1
MAX_INT64 = 2**63 - 1

PATTERN_MAX_CHARS = 256

PURGE_TARGETS = ("url", "pattern", "hostname", "purge_all")
PURGE_MODES = ("hard_purge", "soft_purge")

# regexp that status items report for a purge_all request. This is an assumption
# of the emulator, because the value that F5 XC reports is not known.
PURGE_ALL_REGEXP = ".*"

_HOSTNAME_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_DECIMAL_INTEGER = re.compile(r"-?[0-9]+")
_UNIX_TIMESTAMP = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


class ApiError(Exception):
    """Request that the emulator rejects with `status` and a plain text `message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass(frozen=True)
class ApiRoute:
    """API operation addressed by a request path. `name` is set only for cache-purge."""

    action: str
    namespace: str
    kind: str
    name: str | None


def parse_api_path(path: str) -> ApiRoute | None:
    """Match a request path (without query) against the three API paths, or return None.

    Path segments are percent-decoded. Empty segments and unknown kinds do not match.
    """
    segments = path.split("/")
    if segments[:4] != ["", "api", "cdn", "namespaces"]:
        return None
    rest = [unquote(segment) for segment in segments[4:]]
    if any(segment == "" for segment in rest):
        return None
    if len(rest) == 3 and rest[1] in KINDS and rest[2] in (ACTION_STATUS, ACTION_LIST):
        return ApiRoute(action=rest[2], namespace=rest[0], kind=rest[1], name=None)
    if len(rest) == 4 and rest[1] in KINDS and rest[3] == ACTION_PURGE:
        return ApiRoute(action=ACTION_PURGE, namespace=rest[0], kind=rest[1], name=rest[2])
    return None


# Generic checks.


def _quote(value: object) -> str:
    """Render a request value for an error message, shortened to 80 characters."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _reject_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate field {_quote(key)}")
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_object(body: bytes) -> dict:
    """Decode a request body that must be one JSON object in UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, f"request body is not valid UTF-8: {error}") from None
    try:
        value = json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise ApiError(400, f"request body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ApiError(400, f"request body must be a JSON object, got {_json_type(value)}")
    return value


def _check_known_fields(message: dict, allowed: tuple[str, ...], prefix: str = "") -> None:
    for key in message:
        if key not in allowed:
            names = ", ".join(f'"{prefix}{name}"' for name in allowed)
            raise ApiError(400, f"unknown field {_quote(prefix + key)}; allowed fields: {names}")


def _string_field(message: dict, field: str, required: bool, label: str | None = None) -> str | None:
    label = label or field
    value = message.get(field)
    if value is None:
        if required:
            raise ApiError(400, f'field "{label}" is required')
        return None
    if not isinstance(value, str):
        raise ApiError(400, f'field "{label}" must be a string, got {_json_type(value)}')
    if required and value == "":
        raise ApiError(400, f'field "{label}" is required and must not be empty')
    return value


def _integer_value(value: object, label: str) -> int:
    """Read an integer sent as a JSON number or a decimal string, as the protobuf JSON mapping allows."""
    if isinstance(value, bool):
        raise ApiError(400, f'field "{label}" must be an integer, got boolean')
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ApiError(400, f'field "{label}" must be an integer, got {_quote(value)}')
    if isinstance(value, str):
        if _DECIMAL_INTEGER.fullmatch(value):
            return int(value)
        raise ApiError(400, f'field "{label}" must be a decimal integer string, got {_quote(value)}')
    raise ApiError(400, f'field "{label}" must be an integer, got {_json_type(value)}')


def _ranged_integer_field(message: dict, field: str, maximum: int) -> int:
    """Read a required integer field in 1..maximum. Zero counts as unset, as for protobuf scalars."""
    value = message.get(field)
    if value is None:
        raise ApiError(400, f'field "{field}" is required')
    number = _integer_value(value, field)
    if number < 0 or number > maximum:
        raise ApiError(400, f'field "{field}" must be between 1 and {maximum}, got {number}')
    if number == 0:
        raise ApiError(400, f'field "{field}" is required and must not be 0')
    return number


def _check_empty_message(value: object, label: str) -> None:
    if not isinstance(value, dict):
        raise ApiError(400, f'field "{label}" must be an empty object {{}}, got {_json_type(value)}')
    if value:
        raise ApiError(400, f'field "{label}" must be an empty object {{}}, got fields {_quote(sorted(value))}')


def _one_of(message: dict, members: tuple[str, ...], group: str) -> str:
    """Return the one member of a one-of group that is set, or raise when none or several are set."""
    chosen = [member for member in members if message.get(member) is not None]
    if len(chosen) == 1:
        return chosen[0]
    names = ", ".join(f'"{member}"' for member in members)
    found = ", ".join(f'"{member}"' for member in chosen) if chosen else "none"
    raise ApiError(400, f"exactly one of {names} must be set ({group}), got {found}")


def _check_namespace(message: dict, route: ApiRoute) -> None:
    namespace = _string_field(message, "namespace", required=True)
    if namespace != route.namespace:
        raise ApiError(
            400,
            f'field "namespace" is {_quote(namespace)} but the request path has namespace {_quote(route.namespace)}',
        )


def _require_load_balancer(state: EmulatorState, namespace: str, kind: str, name: str) -> LoadBalancer:
    if not state.has_namespace(namespace):
        raise ApiError(404, f"namespace {_quote(namespace)} not found")
    load_balancer = state.find_load_balancer(namespace, kind, name)
    if load_balancer is None:
        raise ApiError(404, f"{kind} {_quote(name)} not found in namespace {_quote(namespace)}")
    return load_balancer


# Time values for list-service-operations-status.


def _parse_time_value(text: str, label: str) -> float:
    """Parse a Unix timestamp in seconds or an RFC 3339 time into Unix seconds."""
    if _UNIX_TIMESTAMP.fullmatch(text):
        return float(text)
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ApiError(400, f'field "{label}" must be a Unix timestamp or an RFC 3339 time, got {_quote(text)}')
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    fraction = float("0" + match.group(7)) if match.group(7) else 0.0
    if match.group(8):
        offset = timedelta(0)
    else:
        sign = 1 if match.group(9) == "+" else -1
        offset = sign * timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError as error:
        raise ApiError(400, f'field "{label}" is not a valid time: {error}') from None
    return moment.timestamp() + fraction


def _time_range(value: object) -> tuple[float, float]:
    if not isinstance(value, dict):
        raise ApiError(400, f'field "time_range" must be an object, got {_json_type(value)}')
    _check_known_fields(value, ("start_time", "finish_time"), prefix="time_range.")
    start_text = _string_field(value, "start_time", required=True, label="time_range.start_time")
    finish_text = _string_field(value, "finish_time", required=True, label="time_range.finish_time")
    start = _parse_time_value(start_text, "time_range.start_time")
    finish = _parse_time_value(finish_text, "time_range.finish_time")
    if start > finish:
        raise ApiError(400, 'field "time_range.start_time" must not be after "time_range.finish_time"')
    return start, finish


# Purge targets.


def _is_plausible_hostname(value: str) -> bool:
    """Check for a DNS name with at least two labels whose last label is not numeric."""
    if len(value) > 253:
        return False
    labels = value.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return False
    return all(_HOSTNAME_LABEL.fullmatch(label) for label in labels)


def _purge_regexp(target: str, value: object) -> str:
    """Validate the purge target and return the regexp that status items report for it."""
    if target == "purge_all":
        _check_empty_message(value, target)
        return PURGE_ALL_REGEXP
    if not isinstance(value, str):
        raise ApiError(400, f'field "{target}" must be a string, got {_json_type(value)}')
    if target == "url":
        if not value.startswith("/"):
            raise ApiError(400, f'field "url" must be a path that starts with "/", got {_quote(value)}')
        if _CONTROL_OR_SPACE.search(value):
            raise ApiError(400, f'field "url" must not contain spaces or control characters, got {_quote(value)}')
        return value
    if target == "pattern":
        if not 1 <= len(value) <= PATTERN_MAX_CHARS:
            raise ApiError(400, f'field "pattern" must be 1 to {PATTERN_MAX_CHARS} characters long, got {len(value)}')
        # NOTE: F5 XC probably evaluates patterns with another regex engine (RE2 is
        # likely). Python's re module rejects a few RE2-only forms such as \pN.
        try:
            re.compile(value)
        except re.error as error:
            raise ApiError(400, f'field "pattern" is not a valid regular expression: {error}') from None
        return value
    if not _is_plausible_hostname(value):
        raise ApiError(400, f'field "hostname" must be a domain name such as www.example.com, got {_quote(value)}')
    return value


# API operations. Each returns the JSON object of a 200 response or raises ApiError.


def get_service_operation_status(state: EmulatorState, route: ApiRoute, body: bytes, now: float) -> dict:
    request = parse_json_object(body)
    _check_known_fields(request, ("namespace", "name", "service_op_id"))
    _check_namespace(request, route)
    name = _string_field(request, "name", required=True)
    service_op_id = _ranged_integer_field(request, "service_op_id", MAX_UINT32)
    load_balancer = _require_load_balancer(state, route.namespace, route.kind, name)
    operation = state.get_operation(service_op_id)
    if operation is None or operation.load_balancer != load_balancer:
        raise ApiError(
            404, f"service operation {service_op_id} not found for {route.kind} {_quote(name)} in namespace {_quote(route.namespace)}"
        )
    return {"items": operation.status_items(now)}


def list_service_operations_status(state: EmulatorState, route: ApiRoute, body: bytes, now: float) -> dict:
    """List operations newest first: the `lastn` newest, or those created inside `time_range`.

    Without `name` the list covers every load balancer of the path's kind in the namespace.
    """
    request = parse_json_object(body)
    _check_known_fields(request, ("namespace", "name", "lastn", "time_range"))
    _check_namespace(request, route)
    name = _string_field(request, "name", required=False)
    selector = _one_of(request, ("lastn", "time_range"), "operation selector")
    if selector == "lastn":
        lastn = _ranged_integer_field(request, "lastn", MAX_INT64)
    else:
        start, finish = _time_range(request["time_range"])

    if not state.has_namespace(route.namespace):
        raise ApiError(404, f"namespace {_quote(route.namespace)} not found")
    if name:
        load_balancers = [_require_load_balancer(state, route.namespace, route.kind, name)]
    else:
        load_balancers = state.load_balancers(route.namespace, route.kind)

    operations = state.operations_of(load_balancers)
    if selector == "lastn":
        operations = operations[:lastn]
    else:
        operations = [op for op in operations if start <= op.created_at <= finish]
    return {"items": [operation.list_item(now) for operation in operations]}


def cache_purge(state: EmulatorState, route: ApiRoute, body: bytes, now: float) -> dict:
    """Create a purge operation. The returned purge_request_id is its service_op_id."""
    request = parse_json_object(body)
    _check_known_fields(request, PURGE_TARGETS + PURGE_MODES)
    target = _one_of(request, PURGE_TARGETS, "purge target")
    mode = _one_of(request, PURGE_MODES, "purge mode")
    _check_empty_message(request[mode], mode)
    regexp = _purge_regexp(target, request[target])
    load_balancer = _require_load_balancer(state, route.namespace, route.kind, route.name)
    operation = state.create_purge(load_balancer, hard_purge=(mode == "hard_purge"), regexp=regexp, now=now)
    return {"purge_request_id": operation.service_op_id}


API_OPERATIONS = {
    ACTION_STATUS: get_service_operation_status,
    ACTION_LIST: list_service_operations_status,
    ACTION_PURGE: cache_purge,
}
