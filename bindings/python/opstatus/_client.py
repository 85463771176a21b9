"""The Client class, which wraps one ``opstatus_client`` of the C library."""

from __future__ import annotations

import ctypes
import json
import operator
import os
import sys
import threading
import time
from collections.abc import Mapping

from . import _ffi
from ._datetimes import datetime, timezone
from ._errors import (
    OPSTATUS_ECANCELLED,
    OPSTATUS_ETIMEOUT,
    OPSTATUS_OK,
    ClientClosedError,
    ConfigurationError,
    InternalError,
    InvalidArgumentError,
    OpStatusError,
)
from ._models import ServiceOperationStatus, decode_result, parse_status
from ._operations import (
    OperationRecord,
    OperationRef,
    StatusOutcome,
    WaitManyResult,
    WaitOutcome,
    WaitProgress,
    WaitResult,
    operation_ref,
    parse_records,
    parse_status_outcomes,
    parse_wait_info,
    parse_wait_many,
    wait_outcome,
)

# Modules needed only by some methods are imported in those methods, so
# that `opstatus status` starts without them: _callbacks, _requests,
# logging and urllib.parse.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from ._callbacks import ProgressRelay

__all__ = ["Client"]

# The opstatus_log_level values, which are the logging levels of the same
# names. WARNING is also the level from which the default configuration of
# logging shows a message.
_LOG_LEVEL_DEBUG = 10
_LOG_LEVEL_INFO = 20
_LOG_LEVEL_WARNING = 30
_LOG_LEVEL_ERROR = 40

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# The library measures a wait's deadline with its own clock, which may read
# a few milliseconds less than time.monotonic() over the same call.
_CLOCK_SLACK_SECONDS = 0.05


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
    if type(service_op_id) is int:
        value = service_op_id
    else:
        # bool is a subclass of int, but True is not an operation id. Other
        # types with __index__, such as numpy.int64, are accepted. This is
        # the test of isinstance(value, typing.SupportsIndex) in Python
        # 3.11, which costs microseconds per call.
        if isinstance(service_op_id, bool) or getattr(service_op_id, "__index__", None) is None:
            raise TypeError(
                f"service_op_id must be an int, not {type(service_op_id).__name__}"
            )
        value = operator.index(service_op_id)  # type: ignore[arg-type]
    # ctypes would silently wrap a value outside int64_t. Negative values
    # within the range go to the library, which rejects them itself.
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidArgumentError(
            f"invalid service_op_id {value}: it does not fit in a 64-bit signed integer"
        )
    return value


def _request_bytes(request: Mapping[str, Any]) -> bytes:
    try:
        request_text = json.dumps(request, allow_nan=False)
    except ValueError:
        raise InvalidArgumentError(
            "invalid request: NaN and infinity are not valid JSON"
        ) from None
    return request_text.encode("utf-8")


def _status_snapshot(data: dict[str, Any]) -> tuple[ServiceOperationStatus, WaitProgress]:
    return parse_status(data), parse_wait_info(data)


def _wait_end(
    code: int,
    result: dict[str, Any] | None,
    error: OpStatusError | None,
    started: float,
    timeout: float,
) -> WaitOutcome:
    """Decide how a wait ended from the library's result code, or raise its error."""
    if code == OPSTATUS_OK:
        if result is None:
            raise InternalError("libopstatus reported success but returned no wait result")
        return wait_outcome(parse_wait_info(result).outcome, "wait.outcome")
    if code == OPSTATUS_ECANCELLED:
        return WaitOutcome.CANCELLED
    # OPSTATUS_ETIMEOUT without a result means either that the deadline
    # passed during the first poll or that a poll's own request timed out
    # earlier. Only the first is the wait's timeout.
    if code == OPSTATUS_ETIMEOUT and (
        result is not None or time.monotonic() - started >= timeout - _CLOCK_SLACK_SECONDS
    ):
        return WaitOutcome.TIMEOUT
    if error is None:
        raise InternalError(f"libopstatus returned result code {code} without an error")
    raise error


# The function that receives the library's log messages instead of the
# "opstatus" logger while it is set, and the least severe level it shows.
# The opstatus command sets one, so that it does not import logging.
_log_sink: Callable[[int, str], None] | None = None
_log_sink_level = _LOG_LEVEL_WARNING
# The "opstatus" logger, looked up once logging has been imported.
_logger: Any = None


def set_log_sink(
    sink: Callable[[int, str], None] | None, level: int = _LOG_LEVEL_DEBUG
) -> tuple[Callable[[int, str], None] | None, int]:
    """Send the library's log messages from ``level`` up to ``sink(level, text)``.

    A sink of None sends them to the "opstatus" logger again. Returns the
    sink and level that were set before, so that the caller can restore
    them.
    """
    global _log_sink, _log_sink_level
    previous = (_log_sink, _log_sink_level)
    _log_sink, _log_sink_level = sink, level
    return previous


def _least_log_level() -> int:
    """Return the least severe level of library message that would be shown.

    Asking the library for less severe messages costs time, because it
    formats each one: a DEBUG message for every request added about 20 us
    to a status call of about 150 us (measured with libopstatus 0.1 on
    loopback, CPython 3.11).
    """
    if _log_sink is not None:
        return _log_sink_level
    logger = _logger
    if logger is None:
        if "logging" not in sys.modules:
            # Nothing can have configured logging before it was imported.
            return _LOG_LEVEL_WARNING
        logger = _opstatus_logger()
    for level in (_LOG_LEVEL_DEBUG, _LOG_LEVEL_INFO, _LOG_LEVEL_WARNING):
        if logger.isEnabledFor(level):
            return level
    return _LOG_LEVEL_ERROR


def _opstatus_logger() -> Any:
    global _logger
    import logging

    _logger = logging.getLogger("opstatus")
    return _logger


def _emit_log(level: int, message: str, *arguments: object) -> None:
    """Log ``message % arguments`` to the log sink or to the "opstatus" logger."""
    sink = _log_sink
    if sink is not None:
        if level >= _log_sink_level:
            sink(level, message % arguments)
        return
    logger = _logger
    if logger is None:
        if level < _LOG_LEVEL_WARNING and "logging" not in sys.modules:
            # Nothing can have configured logging before it was imported,
            # and its default configuration drops messages below WARNING.
            return
        logger = _opstatus_logger()
    if logger.isEnabledFor(level):
        logger.log(level, message, *arguments)


def _forward_log(level: int, message: bytes | None, payload: int | None) -> None:
    # Runs on the thread that made the request, inside the C call. The
    # opstatus_log_level values are the logging levels.
    _emit_log(level, "%s", (message or b"").decode("utf-8", errors="replace"))


# One callback for every client, kept for the life of the interpreter, so the
# library never calls a freed ctypes thunk.
_LOG_CALLBACK = _ffi.LogCallback(_forward_log)


class Client:
    """Connection to one F5 Distributed Cloud tenant.

    The arguments are the settings of ``opstatus_client_new()`` in
    ``opstatus.h``, under the same names. Arguments left at None are not
    sent, so the library takes the setting from its environment variable,
    such as F5XC_API_URL, or uses its default. Times of these settings are
    in milliseconds, while the arguments of :meth:`wait` and
    :meth:`wait_many` are in seconds.

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
    until calls running on other threads return, then frees the client, so
    call :meth:`cancel` first to end long waits.
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
        # The level last passed to opstatus_set_log_callback().
        self._log_level = _least_log_level()
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
                handle, self._log_level, _LOG_CALLBACK, None
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
        self, namespace: str, name: str, service_op_id: int, *, kind: str | None = None
    ) -> ServiceOperationStatus:
        """Fetch the status of a service operation on a load balancer.

        Args:
            namespace: The namespace, such as ``"default"``.
            name: The name of the load balancer.
            service_op_id: The operation id. Must not be negative.
            kind: ``"http_loadbalancer"`` or ``"cdn_loadbalancer"``, the
                kind of the load balancer. None means the client's
                ``resource_kind`` setting.

        Returns:
            The status. It keeps the library's JSON text and converts it on
            the first access to one of its fields, so a caller that does
            not read the items does not pay for building them.

        Raises:
            InvalidArgumentError: An argument is invalid. Nothing was sent.
            OpStatusError: A subclass for each failure of the request, such
                as NotFoundError or AuthenticationError.
            ClientClosedError: The client is closed.
        """
        namespace_bytes = _encode_text_argument("namespace", namespace)
        name_bytes = _encode_text_argument("name", name)
        op_id = _check_op_id(service_op_id)
        if kind is not None:
            from ._requests import check_text

            # opstatus_get_status() has no kind argument, but the JSON
            # request has one.
            ref = OperationRef(namespace, name, op_id, check_text("kind", kind))
            text = self._call(
                _ffi.lib.opstatus_get_status_json, _request_bytes(ref.to_request())
            )
        else:
            text = self._call(_ffi.lib.opstatus_get_status, namespace_bytes, name_bytes, op_id)
        # The fields are converted on first access, which callers that only
        # check for errors never make.
        return ServiceOperationStatus._from_text(text)

    def get_status_json(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Fetch the status of a service operation with JSON in and out.

        ``request`` contains ``"namespace"``, ``"name"``,
        ``"service_op_id"`` (an int or a decimal string) and optionally
        ``"kind"``. The result is the decoded JSON of
        ``opstatus_get_status_json()``: the server's response with a
        ``"summary"`` object added.

        Raises the same errors as :meth:`get_status`.
        """
        return self._call_json(_ffi.lib.opstatus_get_status_json, request)

    def _call_json(
        self, function: Callable[..., object], request: Mapping[str, Any]
    ) -> dict[str, Any]:
        return decode_result(self._call(function, _request_bytes(request)))

    def purge(
        self,
        namespace: str,
        name: str,
        *,
        url: str | None = None,
        pattern: str | None = None,
        hostname: str | None = None,
        purge_all: bool = False,
        hard: bool | None = None,
        soft: bool | None = None,
        kind: str | None = None,
    ) -> int:
        """Start a cache purge on a load balancer and return its operation id.

        Pass the id to :meth:`get_status` or :meth:`wait` to follow the
        purge on every site.

        Args:
            namespace: The namespace, such as ``"default"``.
            name: The name of the load balancer.
            url: Purge one cached path, starting with ``/``, such as
                ``"/images/logo.png"``.
            pattern: Purge the paths matching a PCRE regular expression of
                1 to 256 characters.
            hostname: Purge everything cached for a domain name, such as
                ``"www.example.com"`` or ``"*.example.com"``.
            purge_all: True to purge the whole cache of the load balancer.
            hard: True to remove the content from the cache.
            soft: True to mark the content expired, so that the next request
                revalidates it with the origin.
            kind: ``"http_loadbalancer"`` or ``"cdn_loadbalancer"``. None
                means the client's ``resource_kind`` setting.

        Exactly one of ``url``, ``pattern``, ``hostname`` and ``purge_all``,
        and exactly one of ``hard`` and ``soft`` must be set.

        Raises:
            InvalidArgumentError: The target or mode is missing or given
                twice, or the library rejected a value, such as a URL
                without a leading slash. Nothing was sent.
            OpStatusError: A subclass for each failure of the request. The
                library resends a purge only when the server certainly did
                not act on it, so after other failures the purge may or may
                not have started; :meth:`list_operations` shows it.
            ClientClosedError: The client is closed.
        """
        from ._requests import purge_request

        request = purge_request(
            namespace,
            name,
            url=url,
            pattern=pattern,
            hostname=hostname,
            purge_all=purge_all,
            hard=hard,
            soft=soft,
            kind=kind,
        )
        result = self._call_json(_ffi.lib.opstatus_purge_json, request)
        purge_request_id = result.get("purge_request_id")
        if isinstance(purge_request_id, bool) or not isinstance(purge_request_id, int):
            raise InternalError(
                "libopstatus returned a purge result without an integer "
                f"purge_request_id: {purge_request_id!r}"
            )
        return purge_request_id

    def list_operations(
        self,
        namespace: str,
        name: str | None = None,
        *,
        lastn: int | None = None,
        start: datetime | float | str | None = None,
        finish: datetime | float | str | None = None,
        kind: str | None = None,
    ) -> list[OperationRecord]:
        """List recent service operations, newest first.

        Args:
            namespace: The namespace, such as ``"default"``.
            name: The load balancer. None lists the operations of every load
                balancer of the kind in the namespace.
            lastn: List the ``lastn`` newest operations (1 or more).
            start: List the operations created at or after this time.
            finish: With ``start``, the end of the time range, included.
                Defaults to the current time.
            kind: ``"http_loadbalancer"`` or ``"cdn_loadbalancer"``. None
                means the client's ``resource_kind`` setting.

        Exactly one of ``lastn`` and ``start`` must be set. A time is a
        timezone-aware datetime, a unix time in seconds as an int or float,
        or a str that the library accepts: an RFC 3339 time such as
        ``"2019-09-23T12:32:11.733Z"`` or a unix timestamp.

        When the server sends only part of the list (error code EPARTIAL),
        the records it sent are returned and a warning is logged.

        Raises:
            InvalidArgumentError: The selection is missing or given twice, a
                datetime is naive, or the library rejected a value. Nothing
                was sent.
            OpStatusError: A subclass for each failure of the request.
            ClientClosedError: The client is closed.
        """
        from ._requests import list_request

        request = list_request(
            namespace,
            name,
            lastn=lastn,
            start=start,
            finish=finish,
            kind=kind,
            now=datetime.now(timezone.utc),
        )
        result = self._call_json(_ffi.lib.opstatus_list_json, request)
        error = result.get("error")
        if isinstance(error, Mapping) and error.get("code") == "EPARTIAL":
            _emit_log(
                _LOG_LEVEL_WARNING,
                "the server returned part of the operation list of namespace %r "
                "(EPARTIAL): %s",
                namespace,
                error.get("message") or "no message",
            )
        return parse_records(result)

    def get_status_many(
        self,
        requests: Iterable[OperationRef | tuple[Any, ...] | Mapping[str, Any]],
        max_connections: int | None = None,
    ) -> list[StatusOutcome]:
        """Fetch the status of many operations at once.

        The requests run in parallel over at most ``max_connections``
        connections (1 to 256; None means the library default, 8), each
        with the retries of :meth:`get_status`.

        Args:
            requests: The operations, each an :class:`OperationRef`, a tuple
                ``(namespace, name, service_op_id)`` or ``(namespace, name,
                service_op_id, kind)``, or a mapping with those keys.
            max_connections: Maximum number of connections in use at once.

        Returns:
            One :class:`StatusOutcome` per request, in the same order. An
            invalid or unknown operation gives an outcome with ``error``
            set, such as NotFoundError, and does not fail the others.

        Raises:
            TypeError: An entry is not one of the accepted forms.
            InvalidArgumentError: ``max_connections`` is out of range.
            OpStatusError: The call as a whole failed, for example because
                it was cancelled.
            ClientClosedError: The client is closed.
        """
        refs = [operation_ref(value) for value in requests]
        request: dict[str, Any] = {"operations": [ref.to_request() for ref in refs]}
        if max_connections is not None:
            request["max_connections"] = max_connections
        result = self._call_json(_ffi.lib.opstatus_get_status_many_json, request)
        return parse_status_outcomes(result, refs)

    def wait(
        self,
        namespace: str,
        name: str,
        service_op_id: int,
        *,
        kind: str | None = None,
        initial_delay: float = 1.0,
        growth: float = 1.5,
        max_delay: float = 15.0,
        timeout: float = 600.0,
        success_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
        stop_on_failure: bool = True,
        expected_sites: int | None = None,
        settle: float = 0.0,
        progress: Callable[[ServiceOperationStatus, WaitProgress], bool | None]
        | None = None,
    ) -> WaitResult:
        """Poll an operation until it has finished on every site.

        The first poll is sent at once. The delay before each later poll
        starts at ``initial_delay`` and grows by ``growth`` up to
        ``max_delay``. The thread sleeps between polls.

        The operation has succeeded when at least one site (or
        ``expected_sites``) has reported, every reported site succeeded,
        and two polls in a row, at least ``settle`` seconds apart, show the
        same sites. It has failed as soon as a site failed, or, with
        ``stop_on_failure`` False, once a site failed and none is pending.

        A timeout or a cancellation does not raise: the result then has
        outcome TIMEOUT or CANCELLED and the last status read, so that the
        caller sees how far the operation got without handling an
        exception.

        Args:
            namespace: The namespace, such as ``"default"``.
            name: The name of the load balancer.
            service_op_id: The operation id, such as the result of
                :meth:`purge`.
            kind: ``"http_loadbalancer"`` or ``"cdn_loadbalancer"``. None
                means the client's ``resource_kind`` setting.
            initial_delay: Delay before the second poll, in seconds.
            growth: Factor by which the delay grows after each poll, 1 to 10.
            max_delay: Maximum delay between polls, in seconds.
            timeout: Time allowed for the whole wait, in seconds.
            success_statuses: Status words of a site that succeeded, for
                this wait in place of the client's.
            failure_statuses: Status words of a site that failed.
            stop_on_failure: False to go on polling after a site failed,
                until no site is pending, so that the result shows every
                site's final status.
            expected_sites: Number of sites that must have reported before
                the operation counts as finished.
            settle: Time in seconds for which the set of succeeded sites must
                stay unchanged, for sites that report late.
            progress: Called after every poll, on the calling thread, with
                the status and a :class:`WaitProgress`. Returning False
                cancels the wait. An exception raised in it cancels the wait
                and is raised again by ``wait()``. It must not close the
                client.

        Raises:
            InvalidArgumentError: An argument is invalid. Nothing was sent.
            OpStatusError: A poll failed, for example NotFoundError for an
                unknown id or AuthenticationError.
            ClientClosedError: The client is closed.
            BaseException: Whatever ``progress`` raised.
        """
        from ._callbacks import ProgressRelay
        from ._requests import check_text, wait_options

        ref = OperationRef(
            check_text("namespace", namespace),
            check_text("name", name),
            _check_op_id(service_op_id),
            None if kind is None else check_text("kind", kind),
        )
        request = {
            **ref.to_request(),
            **wait_options(
                initial_delay=initial_delay,
                growth=growth,
                max_delay=max_delay,
                timeout=timeout,
                success_statuses=success_statuses,
                failure_statuses=failure_statuses,
                stop_on_failure=stop_on_failure,
                expected_sites=expected_sites,
                settle=settle,
            ),
        }
        relay = None
        if progress is not None:
            callback = progress

            def forward(snapshot: tuple[ServiceOperationStatus, WaitProgress]) -> bool | None:
                return callback(*snapshot)

            relay = ProgressRelay(_status_snapshot, forward)

        started = time.monotonic()
        code, result, error = self._call_wait(_ffi.lib.opstatus_wait_json, request, relay)
        outcome = _wait_end(code, result, error, started, timeout)
        if result is None:
            return WaitResult(None, outcome, 0, time.monotonic() - started)
        status, info = _status_snapshot(result)
        return WaitResult(status, outcome, info.polls, info.elapsed)

    def wait_many(
        self,
        refs: Iterable[OperationRef | tuple[Any, ...] | Mapping[str, Any]],
        *,
        max_connections: int | None = None,
        initial_delay: float = 1.0,
        growth: float = 1.5,
        max_delay: float = 15.0,
        timeout: float = 600.0,
        success_statuses: Iterable[str] | None = None,
        failure_statuses: Iterable[str] | None = None,
        stop_on_failure: bool = True,
        expected_sites: int | None = None,
        settle: float = 0.0,
        progress: Callable[[WaitManyResult], bool | None] | None = None,
    ) -> WaitManyResult:
        """Poll many operations until each has finished.

        Every round polls the unfinished operations at once, over at most
        ``max_connections`` connections, then sleeps for the next delay.
        Each operation follows the rules of :meth:`wait` on its own, with
        the same options. An operation whose status cannot be read, such as
        an unknown id, ends with outcome ERROR and its error, and the others
        go on.

        Like :meth:`wait`, a timeout or a cancellation does not raise: the
        result has outcome TIMEOUT or CANCELLED, and each operation keeps
        its last status with outcome PENDING when it had not finished.

        Args:
            refs: The operations, in the forms that
                :meth:`get_status_many` accepts.
            max_connections: Maximum number of connections in use at once,
                1 to 256. None means the library default, 8.
            progress: Called after every round, on the calling thread, with
                a :class:`WaitManyResult` snapshot whose outcome is PENDING
                while operations remain. Returning False cancels the wait,
                and an exception raised in it cancels the wait and is raised
                again by ``wait_many()``.

            The other arguments are those of :meth:`wait`, with times in
            seconds.

        Returns:
            A :class:`WaitManyResult` with one entry per operation, in the
            order given, and the overall outcome: SUCCEEDED only when every
            operation succeeded, else FAILED, TIMEOUT or CANCELLED.

        Raises:
            TypeError: An entry is not one of the accepted forms.
            InvalidArgumentError: An option is invalid. Nothing was sent.
            OpStatusError: A round failed as a whole.
            ClientClosedError: The client is closed.
            BaseException: Whatever ``progress`` raised.
        """
        from ._callbacks import ProgressRelay
        from ._requests import wait_options

        operations = [operation_ref(value) for value in refs]
        request: dict[str, Any] = {
            "operations": [ref.to_request() for ref in operations],
            **wait_options(
                initial_delay=initial_delay,
                growth=growth,
                max_delay=max_delay,
                timeout=timeout,
                success_statuses=success_statuses,
                failure_statuses=failure_statuses,
                stop_on_failure=stop_on_failure,
                expected_sites=expected_sites,
                settle=settle,
            ),
        }
        if max_connections is not None:
            request["max_connections"] = max_connections

        def snapshot(data: dict[str, Any]) -> WaitManyResult:
            return parse_wait_many(data, operations)

        relay = None if progress is None else ProgressRelay(snapshot, progress)
        started = time.monotonic()
        code, result, error = self._call_wait(
            _ffi.lib.opstatus_wait_many_json, request, relay
        )
        outcome = _wait_end(code, result, error, started, timeout)
        if result is None:
            # The library hands over a result for every outcome of
            # wait_many, except when memory runs out.
            raise error or InternalError("libopstatus returned no wait_many result")
        return parse_wait_many(result, operations, outcome)

    def _call_wait(
        self,
        function: Callable[..., int],
        request: Mapping[str, Any],
        relay: ProgressRelay[Any] | None,
    ) -> tuple[int, dict[str, Any] | None, OpStatusError | None]:
        request_bytes = _request_bytes(request)
        handle = self._acquire_handle()
        try:
            out = ctypes.c_void_p()
            code = function(
                ctypes.byref(out),
                handle,
                request_bytes,
                _ffi.NO_PROGRESS if relay is None else relay.function,
                None,
            )
            # Read before any other opstatus call on this thread, which
            # would replace the thread's last error.
            error = None if code == OPSTATUS_OK else _ffi.last_error(code)
            text = _ffi.take_optional_string(out)
        finally:
            self._release_handle()
        if relay is not None:
            relay.raise_callback_error()
        return code, None if text is None else decode_result(text), error

    def cancel(self) -> None:
        """Cancel every call in progress on this client, from any thread.

        Waits, retry delays and transfers stop within about 100 ms. A
        cancelled :meth:`wait` or :meth:`wait_many` returns with outcome
        CANCELLED, and other calls raise CancelledError. Calls that start
        after cancel() are not affected. Cancelling a closed client does
        nothing.
        """
        try:
            handle = self._acquire_handle()
        except ClientClosedError:
            return
        try:
            _ffi.lib.opstatus_client_cancel(handle)
        finally:
            self._release_handle()

    # Every call on the handle runs between _acquire_handle() and
    # _release_handle(). The lock guards the counter and the log level, not
    # the calls, so calls run in parallel, and close() waits for the
    # counter to reach zero before it frees the client.

    def _acquire_handle(self) -> int:
        with self._lock:
            handle = self._handle
            if handle is None:
                raise ClientClosedError(
                    "the client is closed. Create a new Client to send requests."
                )
            # The library sends messages from the level set here up, and
            # they are filtered again when they arrive, so a logger level
            # made stricter during the call still applies.
            # NOTE: a level lowered during a call, such as DEBUG turned on
            # during a long wait(), applies from the next call on the client.
            level = _least_log_level()
            if level != self._log_level:
                _ffi.lib.opstatus_set_log_callback(handle, level, _LOG_CALLBACK, None)
                self._log_level = level
            self._calls_in_progress += 1
        return handle

    def _release_handle(self) -> None:
        with self._lock:
            self._calls_in_progress -= 1
            # close() sets the handle to None before it waits.
            if self._calls_in_progress == 0 and self._handle is None:
                self._idle.notify_all()

    def _call(self, function: Callable[..., object], *arguments: object) -> bytes:
        """Call ``function(&out, handle, *arguments)`` and return the text it hands over.

        The function's errcheck raises the error of a failed call.
        """
        handle = self._acquire_handle()
        try:
            out = ctypes.c_void_p()
            function(ctypes.byref(out), handle, *arguments)
            return _ffi.take_string(out)
        finally:
            self._release_handle()

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
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"***@{host}").geturl()
