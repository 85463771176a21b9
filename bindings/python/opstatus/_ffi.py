"""Loading of libopstatus and the ctypes declarations of its C functions.

The library is searched in this order:

1. the path in the environment variable ``OPSTATUS_LIBRARY``. When it is
   set, no other place is tried, so that a wrong setting fails instead of
   silently loading another copy;
2. ``libopstatus.so.0`` inside this package, which a wheel built by
   ``make wheel`` contains;
3. ``build/libopstatus.so`` of the checkout that contains this package,
   which ``make build`` at the repository top creates;
4. the installed soname ``libopstatus.so.0``, found by the dynamic loader.
"""

from __future__ import annotations

import ctypes
import os

from ._errors import (
    CODE_NAMES,
    OPSTATUS_EINTERNAL,
    OPSTATUS_OK,
    OpStatusError,
    error_for_code,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The major version of the ABI that this package was written for, and the
# lowest minor version that has every function declared below.
EXPECTED_MAJOR = 0
MINIMUM_MINOR = 1

LIBRARY_ENV = "OPSTATUS_LIBRARY"
SONAME = "libopstatus.so.0"
# os.path instead of pathlib, which would add milliseconds to every start
# of the opstatus command.
_PACKAGE_DIRECTORY = os.path.dirname(os.path.realpath(__file__))
# The copy that a wheel built by "make wheel" carries next to this file.
PACKAGED_LIBRARY = os.path.join(_PACKAGE_DIRECTORY, SONAME)
# bindings/python/opstatus/_ffi.py -> <repository>/build/libopstatus.so
BUILD_TREE_LIBRARY = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(_PACKAGE_DIRECTORY))),
    "build",
    "libopstatus.so",
)


class OpstatusErrorStruct(ctypes.Structure):
    """Mirror of ``struct opstatus_error`` in ``opstatus.h``.

    ``code`` is the ``opstatus_result`` enum, which has the size of a C int.
    """

    _fields_ = [
        ("code", ctypes.c_int),
        ("http_status", ctypes.c_int),
        ("message", ctypes.c_char_p),
        ("api_code", ctypes.c_char_p),
        ("retry_after_ms", ctypes.c_int64),
    ]


def _candidate_paths() -> list[str]:
    configured = os.environ.get(LIBRARY_ENV, "")
    if configured:
        return [configured]
    candidates = [path for path in (PACKAGED_LIBRARY, BUILD_TREE_LIBRARY) if os.path.exists(path)]
    return candidates + [SONAME]


def _open_library() -> tuple[ctypes.CDLL, str]:
    failures: list[str] = []
    for path in _candidate_paths():
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            failures.append(f"  {path}: {exc}")

    tried = "\n".join(failures)
    raise ImportError(
        "libopstatus could not be loaded. Tried:\n"
        f"{tried}\n"
        "Run 'make build' at the repository top to create build/libopstatus.so, "
        f"or set {LIBRARY_ENV} to the path of libopstatus.so."
    )


def _check_version(library: ctypes.CDLL, path: str) -> None:
    try:
        version_number = library.opstatus_version_number
    except AttributeError:
        raise ImportError(
            f"{path} is not libopstatus because it does not export "
            f"opstatus_version_number. Set {LIBRARY_ENV} to the path of libopstatus.so."
        ) from None
    # Declared here because the check must run before relying on any other
    # signature of the library.
    version_number.argtypes = []
    version_number.restype = ctypes.c_uint
    number = version_number()
    major, minor, patch = number // 10000, number // 100 % 100, number % 100
    if major != EXPECTED_MAJOR or minor < MINIMUM_MINOR:
        raise ImportError(
            f"libopstatus {major}.{minor}.{patch} loaded from {path} is not "
            f"compatible with this package, which requires version "
            f"{EXPECTED_MAJOR}.{MINIMUM_MINOR} or a later {EXPECTED_MAJOR}.x. "
            f"Build a matching library or set {LIBRARY_ENV} to one."
        )


def _decode(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", errors="replace")


def _code_name_from_library() -> str | None:
    # Only for codes that this package does not know, such as ones a newer
    # minor version added: the JSON form of the last error contains the name.
    import json

    pointer = lib.opstatus_last_error_json()
    if not pointer:
        return None
    try:
        text = ctypes.string_at(pointer)
    finally:
        lib.opstatus_free(pointer)
    try:
        name = json.loads(text).get("name")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def last_error(result: int) -> OpStatusError:
    """Create the exception for a failed call from ``opstatus_last_error()``.

    Call it on the thread that made the failing call, before any other
    opstatus call, because the library keeps one last error per thread.
    """
    detail = lib.opstatus_last_error().contents
    code = detail.code if detail.code != OPSTATUS_OK else result
    message = _decode(detail.message) or _decode(lib.opstatus_strerror(code)) or ""
    api_code = _decode(detail.api_code)
    http_status = detail.http_status or None
    retry_after = detail.retry_after_ms / 1000 if detail.retry_after_ms >= 0 else None

    # The strings above are copies, so the next call may reuse the struct.
    code_name = None
    if code not in CODE_NAMES:
        code_name = _code_name_from_library()

    return error_for_code(
        code,
        message,
        code_name=code_name,
        http_status=http_status,
        api_code=api_code,
        retry_after=retry_after,
    )


def _raise_on_failure(result: int, function: Any, arguments: tuple[Any, ...]) -> int:
    # ctypes runs errcheck right after the call on the calling thread, so
    # opstatus_last_error() still describes this call.
    if result != OPSTATUS_OK:
        raise last_error(result)
    return result


def take_string(pointer: ctypes.c_void_p) -> bytes:
    """Copy a string that the library handed over, then free it."""
    if not pointer.value:
        raise error_for_code(
            OPSTATUS_EINTERNAL,
            "libopstatus reported success but returned no result text",
        )
    try:
        return ctypes.string_at(pointer.value)
    finally:
        lib.opstatus_free(pointer.value)


def take_optional_string(pointer: ctypes.c_void_p) -> bytes | None:
    """Copy and free a string that the library may have handed over, or return None."""
    if not pointer.value:
        return None
    return take_string(pointer)


_VOID_P_P = ctypes.POINTER(ctypes.c_void_p)

# opstatus_log_fn: void (*)(opstatus_log_level level, const char *message,
# void *payload). The level enum has the size of a C int.
LogCallback = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)

# opstatus_progress_fn: int (*)(const char *progress_json, void *payload).
# A non-zero return value cancels the wait.
ProgressCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)

# A NULL progress function. ctypes rejects None for a CFUNCTYPE argument,
# but a CFUNCTYPE instance created without arguments is a NULL pointer.
NO_PROGRESS = ProgressCallback()

# opstatus_progress_value_fn: int (*)(const json_t *progress, void *payload),
# with the json_t pointer as an opaque c_void_p.
ProgressValueCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

# Every function of opstatus.h as (name, argument types, result type, errcheck).
# Strings that the caller must free are c_void_p, so that ctypes does not
# convert them to bytes and lose the pointer that opstatus_free() needs.
# json_t pointers of the *_value functions are opaque c_void_p values.
_FUNCTIONS: list[tuple[str, list[Any], Any, Any]] = [
    ("opstatus_version", [], ctypes.c_char_p, None),
    ("opstatus_version_number", [], ctypes.c_uint, None),
    ("opstatus_strerror", [ctypes.c_int], ctypes.c_char_p, None),
    ("opstatus_last_error", [], ctypes.POINTER(OpstatusErrorStruct), None),
    ("opstatus_last_error_json", [], ctypes.c_void_p, None),
    ("opstatus_free", [ctypes.c_void_p], None, None),
    (
        "opstatus_client_new",
        [_VOID_P_P, ctypes.c_char_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    ("opstatus_client_free", [ctypes.c_void_p], None, None),
    (
        "opstatus_set_log_callback",
        [ctypes.c_void_p, ctypes.c_int, LogCallback, ctypes.c_void_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    (
        "opstatus_get_status_json",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_char_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    (
        "opstatus_get_status_value",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_void_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    (
        "opstatus_get_status",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64],
        ctypes.c_int,
        _raise_on_failure,
    ),
    (
        "opstatus_purge_json",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_char_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    (
        "opstatus_purge_value",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_void_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    (
        "opstatus_list_json",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_char_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    (
        "opstatus_list_value",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_void_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    (
        "opstatus_get_status_many_json",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_char_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    (
        "opstatus_get_status_many_value",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_void_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
    # The wait functions have no errcheck, because they also hand over a
    # result with OPSTATUS_ETIMEOUT and OPSTATUS_ECANCELLED. Their callers
    # read opstatus_last_error() themselves.
    (
        "opstatus_wait_json",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_char_p, ProgressCallback, ctypes.c_void_p],
        ctypes.c_int,
        None,
    ),
    (
        "opstatus_wait_value",
        [
            _VOID_P_P,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ProgressValueCallback,
            ctypes.c_void_p,
        ],
        ctypes.c_int,
        None,
    ),
    (
        "opstatus_wait_many_json",
        [_VOID_P_P, ctypes.c_void_p, ctypes.c_char_p, ProgressCallback, ctypes.c_void_p],
        ctypes.c_int,
        None,
    ),
    (
        "opstatus_wait_many_value",
        [
            _VOID_P_P,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ProgressValueCallback,
            ctypes.c_void_p,
        ],
        ctypes.c_int,
        None,
    ),
    (
        "opstatus_client_cancel",
        [ctypes.c_void_p],
        ctypes.c_int,
        _raise_on_failure,
    ),
]


def _declare_functions(library: ctypes.CDLL, path: str) -> None:
    for name, argument_types, result_type, errcheck in _FUNCTIONS:
        try:
            function = getattr(library, name)
        except AttributeError:
            raise ImportError(
                f"libopstatus at {path} does not export {name}. "
                "Rebuild it with 'make build'."
            ) from None
        function.argtypes = argument_types
        function.restype = result_type
        if errcheck is not None:
            function.errcheck = errcheck


def _load() -> tuple[ctypes.CDLL, str]:
    library, path = _open_library()
    _check_version(library, path)
    _declare_functions(library, path)
    return library, path


lib, library_path = _load()
