"""The Client class, which wraps one ``opstatus_client`` of the C library."""

from __future__ import annotations

import ctypes
import json
import logging
import operator
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, SupportsIndex
from urllib.parse import urlsplit

from . import _ffi
from ._errors import (
    ClientClosedError,
    ConfigurationError,
    InternalError,
    InvalidArgumentError,
)
from ._models import ServiceOperationStatus, parse_status

__all__ = ["Client"]

_logger = logging.getLogger("opstatus")

# OPSTATUS_LOG_DEBUG. Clients pass every message from this level up, so the
# logger's own level decides what is recorded, even after it changes.
_LOG_LEVEL_DEBUG = 10

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# Type of the functions passed to _call(), which take the out pointer and the
# client handle.
_StatusCall = Callable[[Any, ctypes.c_void_p], object]


def _status_list(setting: str, value: Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    # A single string is iterable too, and would become a list of letters.
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"{setting} must be a list of strings, not a single {type(value).__name__}"
        )
    return list(value)


def _optional_path(value: str | os.PathLike[str] | None) -> str | None:
    return None if value is None else os.fspath(value)


def _encode_text_argument(argument: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, not {type(value).__name__}")
    # A C string ends at the first NUL byte, so the library would see a
    # shorter value than the caller passed.
    if "\0" in value:
        raise InvalidArgumentError(f"invalid {argument}: it contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(
            f"invalid {argument}: it contains a lone surrogate, "
            "which is not valid UTF-8"
        ) from None


def _check_op_id(service_op_id: object) -> int:
    # bool is a subclass of int, but True is not an operation id.
    if isinstance(service_op_id, bool) or not isinstance(service_op_id, SupportsIndex):
        raise TypeError(
            f"service_op_id must be an int, not {type(service_op_id).__name__}"
        )
    value = operator.index(service_op_id)
    # ctypes would silently wrap a value outside int64_t. Negative values
    # within the range go to the library, which rejects them itself.
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidArgumentError(
            f"invalid service_op_id {value}: it does not fit in a 64-bit signed integer"
        )
    return value


def _decode_result(text: bytes) -> dict[str, Any]:
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


def _forward_log(level: int, message: bytes | None, payload: int | None) -> None:
    # Runs on the thread that made the request, inside the C call. The
    # opstatus_log_level values are the logging levels.
    if _logger.isEnabledFor(level):
        text = (message or b"").decode("utf-8", errors="replace")
        _logger.log(level, "%s", text)


# One callback for every client, kept for the life of the interpreter, so the
# library never calls a freed ctypes thunk.
_LOG_CALLBACK = _ffi.LogCallback(_forward_log)


class Client:
    """Connection to one F5 Distributed Cloud tenant.

    The arguments are the settings of ``opstatus_client_new()`` in
    ``opstatus.h``, under the same names. Arguments left at None are not
    sent, so the library takes the setting from its environment variable,
    such as F5XC_API_URL, or uses its default. Times are in milliseconds.

    Args:
        api_url: A tenant name such as ``"acme"``, or the tenant's API URL
            such as ``"https://acme.console.ves.volterra.io/api"``.
            Required. ``http://`` is accepted for loopback hosts only.
        api_token: An F5 XC API token. The client does not keep it after
            creation and never shows it.
        ca_file: A PEM file of CA certificates to trust instead of the
            system's.
        connect_timeout_ms: Maximum time for DNS, TCP and TLS setup of one
            attempt (library default 10000).
        timeout_ms: Maximum time for one attempt, from connect to the last
            byte (library default 30000).
        max_response_bytes: Largest response body accepted (library default
            8388608).
        success_statuses: Status words that count as a site that succeeded,
            compared without regard to ASCII case.
        failure_statuses: Status words that count as a site that failed.
        p12_file: An API certificate as a PKCS#12 bundle, used instead of a
            token for mutual TLS.
        p12_password: The password of ``p12_file``.
        cert_file: A PEM client certificate, used with ``key_file`` instead
            of a token for mutual TLS.
        key_file: The PEM private key of ``cert_file``.
        key_password: The password of ``key_file``, if it is encrypted.
        auth: ``"token"`` or ``"certificate"``: the credentials to use when
            both kinds are set.
        max_attempts: Attempts per call in all. 1 turns retries off
            (library default 4).
        retry_base_ms: Base of the random exponential delay between
            attempts (library default 500).
        retry_max_ms: Maximum delay between attempts (library default 20000).
        retry_after_max_ms: Longest Retry-After that the client waits for.
            A longer one ends the retries (library default 60000).
        deadline_ms: Maximum time for a whole call, retries and delays
            included (library default 60000).
        rate_per_second: Client-side request rate limit shared by every
            thread using the client (library default off).
        burst: Requests allowed at once under ``rate_per_second``.
        resource_kind: ``"http_loadbalancer"`` (library default) or
            ``"cdn_loadbalancer"``.
        use_environment: False to ignore the environment variables.

    Raises:
        ConfigurationError: A setting is missing, invalid or unreadable.

    The library's log messages go to the ``logging`` logger ``"opstatus"``,
    with the same levels: DEBUG for every request, WARNING for retries.

    One client may be used from many threads at once. :meth:`close` waits
    until calls running on other threads return, then frees the client.
    """

    _handle: int | None

    def __init__(
        self,
        api_url: str | None = None,
        api_token: str | None = None,
        ca_file: str | os.PathLike[str] | None = None,
        connect_timeout_ms: int | None = None,
        timeout_ms: int | None = None,
        max_response_bytes: int | None = None,
        success_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
        *,
        p12_file: str | os.PathLike[str] | None = None,
        p12_password: str | None = None,
        cert_file: str | os.PathLike[str] | None = None,
        key_file: str | os.PathLike[str] | None = None,
        key_password: str | None = None,
        auth: str | None = None,
        max_attempts: int | None = None,
        retry_base_ms: int | None = None,
        retry_max_ms: int | None = None,
        retry_after_max_ms: int | None = None,
        deadline_ms: int | None = None,
        rate_per_second: float | None = None,
        burst: int | None = None,
        resource_kind: str | None = None,
        use_environment: bool | None = None,
    ) -> None:
        self._handle = None
        settings: dict[str, Any] = {
            "api_url": api_url,
            "api_token": api_token,
            "ca_file": _optional_path(ca_file),
            "connect_timeout_ms": connect_timeout_ms,
            "timeout_ms": timeout_ms,
            "max_response_bytes": max_response_bytes,
            "success_statuses": _status_list("success_statuses", success_statuses),
            "failure_statuses": _status_list("failure_statuses", failure_statuses),
            "p12_file": _optional_path(p12_file),
            "p12_password": p12_password,
            "cert_file": _optional_path(cert_file),
            "key_file": _optional_path(key_file),
            "key_password": key_password,
            "auth": auth,
            "max_attempts": max_attempts,
            "retry_base_ms": retry_base_ms,
            "retry_max_ms": retry_max_ms,
            "retry_after_max_ms": retry_after_max_ms,
            "deadline_ms": deadline_ms,
            "rate_per_second": rate_per_second,
            "burst": burst,
            "resource_kind": resource_kind,
            "use_environment": use_environment,
        }
        self._open({key: value for key, value in settings.items() if value is not None})

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Client:
        """Create a client from settings given as a mapping, sent unchanged.

        Use it for settings that a newer library accepts and that
        :class:`Client` has no argument for yet. The library rejects
        unknown keys with ConfigurationError.
        """
        client = cls.__new__(cls)
        client._handle = None
        client._open(dict(config))
        return client

    def _open(self, config: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._calls_in_progress = 0
        api_url = config.get("api_url")
        self._api_url = api_url if isinstance(api_url, str) else None
        # Kept on the instance so that __del__ still works while the
        # interpreter shuts down and module globals are gone.
        self._free_client = _ffi.lib.opstatus_client_free

        try:
            config_text = json.dumps(config, allow_nan=False)
        except ValueError:
            raise ConfigurationError(
                "invalid setting: NaN and infinity are not valid JSON"
            ) from None

        handle = ctypes.c_void_p()
        _ffi.lib.opstatus_client_new(ctypes.byref(handle), config_text.encode("utf-8"))
        try:
            _ffi.lib.opstatus_set_log_callback(
                handle, _LOG_LEVEL_DEBUG, _LOG_CALLBACK, None
            )
        except BaseException:
            self._free_client(handle)
            raise
        self._handle = handle.value

    @property
    def api_url(self) -> str | None:
        """The api_url setting as given, or None when it came from the environment."""
        return self._api_url

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._handle is None

    def get_status(
        self, namespace: str, name: str, service_op_id: int
    ) -> ServiceOperationStatus:
        """Fetch the status of a service operation on a load balancer.

        Args:
            namespace: The namespace, such as ``"default"``.
            name: The name of the load balancer, whose kind is the client's
                ``resource_kind`` setting.
            service_op_id: The operation id. Must not be negative.

        Raises:
            InvalidArgumentError: An argument is invalid. Nothing was sent.
            OpStatusError: A subclass for each failure of the request, such
                as NotFoundError or AuthenticationError.
            ClientClosedError: The client is closed.
        """
        namespace_bytes = _encode_text_argument("namespace", namespace)
        name_bytes = _encode_text_argument("name", name)
        op_id = _check_op_id(service_op_id)

        def call(out: Any, handle: ctypes.c_void_p) -> object:
            return _ffi.lib.opstatus_get_status(
                out, handle, namespace_bytes, name_bytes, op_id
            )

        return parse_status(_decode_result(self._call(call)))

    def get_status_json(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Fetch the status of a service operation with JSON in and out.

        ``request`` contains ``"namespace"``, ``"name"`` and
        ``"service_op_id"`` (an int or a decimal string). The result is the
        decoded JSON of ``opstatus_get_status_json()``: the server's
        response with a ``"summary"`` object added.

        Raises the same errors as :meth:`get_status`.
        """
        try:
            request_text = json.dumps(request, allow_nan=False)
        except ValueError:
            raise InvalidArgumentError(
                "invalid request: NaN and infinity are not valid JSON"
            ) from None
        request_bytes = request_text.encode("utf-8")

        def call(out: Any, handle: ctypes.c_void_p) -> object:
            return _ffi.lib.opstatus_get_status_json(out, handle, request_bytes)

        return _decode_result(self._call(call))

    def _call(self, function: _StatusCall) -> bytes:
        # The lock guards only the counter, so calls run in parallel. close()
        # waits for the counter to reach zero before it frees the client.
        with self._lock:
            handle = self._handle
            if handle is None:
                raise ClientClosedError(
                    "the client is closed. Create a new Client to send requests."
                )
            self._calls_in_progress += 1
        try:
            out = ctypes.c_void_p()
            function(ctypes.byref(out), ctypes.c_void_p(handle))
            return _ffi.take_string(out)
        finally:
            with self._lock:
                self._calls_in_progress -= 1
                if self._calls_in_progress == 0:
                    self._idle.notify_all()

    def close(self) -> None:
        """Free the client and close its connections.

        New calls raise ClientClosedError from then on. Calls already
        running on other threads finish first, so close() may wait up to
        their ``deadline_ms``. Closing a closed client does nothing.
        """
        with self._lock:
            handle = self._handle
            if handle is None:
                return
            self._handle = None
            while self._calls_in_progress:
                self._idle.wait()
        self._free_client(handle)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # No call can be running here, because each call holds a reference
        # to the client. The handle is None when creation failed.
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            self._free_client(handle)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        shown_url = _url_without_userinfo(self._api_url)
        return f"<opstatus.Client api_url={shown_url!r} {state}>"


def _url_without_userinfo(url: str | None) -> str | None:
    # A URL may carry a password, which a repr must not show.
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"***@{host}").geturl()
