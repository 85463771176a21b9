"""Fault definitions for the emulator's control endpoint, and the fixed bodies some faults send.

A fault is a JSON object with a "kind", an optional "path_contains" filter, an
optional "count" (default 1) and kind-specific parameters. validate_fault checks
one definition and fills in the defaults. The HTTP handler applies the faults.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator

# Faults that replace the API response. The emulator does not process the request,
# so, for example, a cache-purge creates no operation.
REPLACING_KINDS = frozenset({"status", "hang", "invalid_json", "wrong_types", "html", "huge", "redirect", "raw"})

# Faults that change how the normal response is sent. The emulator processes the
# request first, so a cache-purge creates an operation even when the client never
# receives the response.
MODIFYING_KINDS = frozenset({"delay", "slow_body", "reset", "truncate", "api_error"})

MAX_FAULT_SECONDS = 600.0
DEFAULT_HANG_SECONDS = 60.0
MAX_HUGE_BYTES = 2**31

# Headers that the emulator sets itself because they define the message framing.
_FRAMING_HEADERS = {"content-length", "transfer-encoding"}
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00\r\n]")

_REQUIRED = object()


class FaultError(ValueError):
    """Invalid fault definition. The message names the fault index and the field."""


def _seconds(value: object, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultError(f"{label} must be a number of seconds")
    if not 0 <= value <= MAX_FAULT_SECONDS:
        raise FaultError(f"{label} must be between 0 and {MAX_FAULT_SECONDS:g} seconds, got {value}")
    return float(value)


def _integer_in(minimum: int, maximum: int) -> Callable[[object, str], int]:
    def check(value: object, label: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FaultError(f"{label} must be an integer")
        if not minimum <= value <= maximum:
            raise FaultError(f"{label} must be between {minimum} and {maximum}, got {value}")
        return value

    return check


def _text(value: object, label: str) -> str:
    if not isinstance(value, str):
        raise FaultError(f"{label} must be a string")
    return value


def _header_text(value: object, label: str) -> str:
    text = _text(value, label)
    if _HEADER_VALUE_FORBIDDEN.search(text):
        raise FaultError(f"{label} must not contain CR, LF or NUL")
    return text


def _flag(value: object, label: str) -> bool:
    if not isinstance(value, bool):
        raise FaultError(f"{label} must be true or false")
    return value


def _base64_bytes(value: object, label: str) -> str:
    text = _text(value, label)
    try:
        base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise FaultError(f"{label} is not valid base64: {error}") from None
    return text


def _headers(value: object, label: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise FaultError(f"{label} must be an object of header names to string values")
    headers = {}
    for name, header_value in value.items():
        if not _HEADER_NAME.fullmatch(name):
            raise FaultError(f"{label} has an invalid header name {json.dumps(name)}")
        if name.lower() in _FRAMING_HEADERS:
            raise FaultError(f"{label} must not set {name}, because the emulator sets the message framing")
        headers[name] = _header_text(header_value, f"{label}.{name}")
    return headers


# Kind-specific parameters: name -> (check, default). _REQUIRED marks a required parameter.
_PARAMETERS: dict[str, dict[str, tuple[Callable[[object, str], object], object]]] = {
    "status": {
        "status": (_integer_in(200, 599), _REQUIRED),
        "body": (_text, None),
        "headers": (_headers, {}),
    },
    "delay": {"seconds": (_seconds, _REQUIRED)},
    "hang": {"seconds": (_seconds, DEFAULT_HANG_SECONDS)},
    "slow_body": {"seconds": (_seconds, _REQUIRED)},
    "reset": {},
    "truncate": {},
    "invalid_json": {},
    "wrong_types": {},
    "html": {},
    "huge": {"bytes": (_integer_in(2, MAX_HUGE_BYTES), _REQUIRED)},
    "redirect": {
        "status": (_integer_in(300, 399), 302),
        "location": (_header_text, _REQUIRED),
    },
    "api_error": {
        "code": (_text, _REQUIRED),
        "message": (_text, ""),
    },
    "raw": {
        "status": (_integer_in(200, 599), 200),
        "content_type": (_header_text, "application/json"),
        "body": (_text, None),
        "body_base64": (_base64_bytes, None),
        "headers": (_headers, {}),
        "content_length": (_flag, True),
    },
}

FAULT_KINDS = tuple(_PARAMETERS)


def validate_fault(spec: object, index: int) -> dict:
    """Check one fault definition and return it with every default filled in."""
    label = f"faults[{index}]"
    if not isinstance(spec, dict):
        raise FaultError(f"{label} must be an object")
    kind = spec.get("kind")
    if kind not in _PARAMETERS:
        raise FaultError(f"{label}.kind must be one of {', '.join(FAULT_KINDS)}, got {json.dumps(kind)}")
    parameters = _PARAMETERS[kind]
    for key in spec:
        if key not in ("kind", "path_contains", "count") and key not in parameters:
            raise FaultError(f'{label} has unknown field {json.dumps(key)} for kind "{kind}"')

    fault: dict = {"kind": kind, "path_contains": None, "count": 1}
    if spec.get("path_contains") is not None:
        fault["path_contains"] = _text(spec["path_contains"], f"{label}.path_contains")
    if spec.get("count") is not None:
        fault["count"] = _integer_in(1, 1_000_000)(spec["count"], f"{label}.count")
    for name, (check, default) in parameters.items():
        if spec.get(name) is not None:
            fault[name] = check(spec[name], f"{label}.{name}")
        elif default is _REQUIRED:
            raise FaultError(f'{label}.{name} is required for kind "{kind}"')
        else:
            fault[name] = default
    if kind == "raw" and fault["body"] is not None and fault["body_base64"] is not None:
        raise FaultError(f"{label} must set at most one of body and body_base64")
    return fault


def raw_body(fault: dict) -> bytes:
    """Return the exact body bytes of a raw fault."""
    if fault["body_base64"] is not None:
        return base64.b64decode(fault["body_base64"])
    return (fault["body"] or "").encode("utf-8")


# Status response body cut off inside a string, so it is not valid JSON.
INVALID_JSON_BODY = (
    b'{"items": [{"service_op_id": 101, "status": "success", "purge": '
    b'{"site": "ves-io-pa4-par", "bytes_purged": "64424'
)

# Status response body with the right field names but wrong JSON types in every field.
WRONG_TYPES_BODY = json.dumps(
    {
        "items": {
            "0": {
                "service_op_id": "one hundred one",
                "status": 3,
                "purge": {
                    "site": ["ves-io-pa4-par"],
                    "bytes_purged": True,
                    "bytes_not_purged": -1.5,
                    "hard_purge": "yes",
                    "regexp": None,
                    "start_time": 1569241931,
                    "finish_time": {},
                    "purge_time": False,
                },
            }
        }
    }
).encode("utf-8")

# Login page of the kind a proxy or single sign-on gateway returns instead of the API.
HTML_BODY = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in to continue</h1>
<form method="post" action="/login"><input name="user"><input name="password" type="password"></form>
</body>
</html>
"""

_HUGE_ITEM = json.dumps(
    {
        "service_op_id": 101,
        "status": "success",
        "purge": {
            "site": "ves-io-pa4-par",
            "bytes_purged": "6442450944",
            "bytes_not_purged": "0",
            "hard_purge": False,
            "regexp": "^/static/.*",
            "start_time": "2019-09-23T12:32:11.733Z",
            "finish_time": "2019-09-23T12:32:30.100Z",
            "purge_time": "2019-09-23T12:32:11.733Z",
        },
    },
    separators=(",", ":"),
).encode("utf-8")

_HUGE_CHUNK_ITEMS = 256


def iter_huge_body(size: int) -> Iterator[bytes]:
    """Yield a valid JSON status response body of exactly `size` bytes in chunks.

    The body repeats one status item as often as it fits, and a "padding" string
    field fills the remaining bytes. A size too small for that gets a short
    object followed by spaces.
    """
    head = b'{"items":['
    padding_head = b'],"padding":"'
    tail = b'"}'
    fixed = len(head) + len(padding_head) + len(tail)
    if size < fixed:
        short = b'{"items":[]}' if size >= 12 else b"{}"
        yield short + b" " * (size - len(short))
        return

    item_count = max(0, (size - fixed + 1) // (len(_HUGE_ITEM) + 1))
    items_size = item_count * (len(_HUGE_ITEM) + 1) - 1 if item_count else 0
    padding = size - fixed - items_size

    yield head
    remaining = item_count
    first = True
    while remaining > 0:
        batch = min(remaining, _HUGE_CHUNK_ITEMS)
        chunk = b",".join([_HUGE_ITEM] * batch)
        yield chunk if first else b"," + chunk
        first = False
        remaining -= batch
    yield padding_head
    while padding > 0:
        piece = min(padding, 64 * 1024)
        yield b"x" * piece
        padding -= piece
    yield tail
