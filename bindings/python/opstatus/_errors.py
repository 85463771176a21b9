"""Exception classes for the result codes of libopstatus.

Each ``opstatus_result`` code in ``opstatus.h`` has its own subclass of
:class:`OpStatusError`, so callers can catch one kind of failure, such as
:class:`NotFoundError`, or every failure of the library at once.
"""

from __future__ import annotations

import builtins

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "CancelledError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "GatewayTimeoutError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OpStatusError",
    "OutOfMemoryError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitedError",
    "ServerError",
    "ServiceUnavailableError",
    "TimeoutError",
    "TransportError",
    "UnknownResultError",
    "error_for_code",
]

# The numeric values of opstatus_result, which the header fixes as ABI.
OPSTATUS_OK = 0
OPSTATUS_EINVAL = 1
OPSTATUS_ECONFIG = 2
OPSTATUS_ETRANSPORT = 3
OPSTATUS_ETIMEOUT = 4
OPSTATUS_EUNAUTHORIZED = 5
OPSTATUS_EFORBIDDEN = 6
OPSTATUS_ENOTFOUND = 7
OPSTATUS_ECONFLICT = 8
OPSTATUS_ERATELIMITED = 9
OPSTATUS_ESERVER = 10
OPSTATUS_EUNAVAILABLE = 11
OPSTATUS_EGATEWAYTIMEOUT = 12
OPSTATUS_EPROTOCOL = 13
OPSTATUS_EAPI = 14
OPSTATUS_ECANCELLED = 15
OPSTATUS_EBADREQUEST = 16
OPSTATUS_ENOMEM = 17
OPSTATUS_EINTERNAL = 18

CODE_NAMES: dict[int, str] = {
    OPSTATUS_OK: "OPSTATUS_OK",
    OPSTATUS_EINVAL: "OPSTATUS_EINVAL",
    OPSTATUS_ECONFIG: "OPSTATUS_ECONFIG",
    OPSTATUS_ETRANSPORT: "OPSTATUS_ETRANSPORT",
    OPSTATUS_ETIMEOUT: "OPSTATUS_ETIMEOUT",
    OPSTATUS_EUNAUTHORIZED: "OPSTATUS_EUNAUTHORIZED",
    OPSTATUS_EFORBIDDEN: "OPSTATUS_EFORBIDDEN",
    OPSTATUS_ENOTFOUND: "OPSTATUS_ENOTFOUND",
    OPSTATUS_ECONFLICT: "OPSTATUS_ECONFLICT",
    OPSTATUS_ERATELIMITED: "OPSTATUS_ERATELIMITED",
    OPSTATUS_ESERVER: "OPSTATUS_ESERVER",
    OPSTATUS_EUNAVAILABLE: "OPSTATUS_EUNAVAILABLE",
    OPSTATUS_EGATEWAYTIMEOUT: "OPSTATUS_EGATEWAYTIMEOUT",
    OPSTATUS_EPROTOCOL: "OPSTATUS_EPROTOCOL",
    OPSTATUS_EAPI: "OPSTATUS_EAPI",
    OPSTATUS_ECANCELLED: "OPSTATUS_ECANCELLED",
    OPSTATUS_EBADREQUEST: "OPSTATUS_EBADREQUEST",
    OPSTATUS_ENOMEM: "OPSTATUS_ENOMEM",
    OPSTATUS_EINTERNAL: "OPSTATUS_EINTERNAL",
}


class OpStatusError(Exception):
    """Failure reported by libopstatus or detected by this package.

    Attributes:
        code: The ``opstatus_result`` value, such as 7 for OPSTATUS_ENOTFOUND.
        code_name: The name of ``code``, such as ``"OPSTATUS_ENOTFOUND"``.
        http_status: HTTP status of the response, or None when no response
            was received.
        api_code: The F5 XC ``error.code`` of the response, such as
            ``"EPERMS"``, or None.
        retry_after: Delay in seconds that the server requested with
            Retry-After, or None.
        message: What failed and on which value.
    """

    # The opstatus_result value of the subclass, used when ``code`` is not
    # given. OpStatusError and UnknownResultError have none.
    result_code: ClassVar[int | None] = None

    code: int
    code_name: str
    http_status: int | None
    api_code: str | None
    retry_after: float | None
    message: str

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        code_name: str | None = None,
        http_status: int | None = None,
        api_code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        if code is None:
            code = self.result_code
        if code is None:
            raise TypeError(f"{type(self).__name__} requires the code argument")
        super().__init__(message)
        self.code = code
        self.code_name = code_name or CODE_NAMES.get(code, f"OPSTATUS_UNKNOWN_{code}")
        self.http_status = http_status
        self.api_code = api_code
        self.retry_after = retry_after
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        parts = [f"code_name={self.code_name!r}"]
        if self.http_status is not None:
            parts.append(f"http_status={self.http_status}")
        if self.api_code is not None:
            parts.append(f"api_code={self.api_code!r}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after}")
        parts.append(f"message={self.message!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The keyword-only arguments are not in self.args, so the default
        # pickling, which calls cls(*self.args), would lose them.
        fields = {
            "code": self.code,
            "code_name": self.code_name,
            "http_status": self.http_status,
            "api_code": self.api_code,
            "retry_after": self.retry_after,
        }
        return (_rebuild_error, (type(self), self.message, fields))


def _rebuild_error(
    cls: type[OpStatusError], message: str, fields: dict[str, Any]
) -> OpStatusError:
    return cls(message, **fields)


class InvalidArgumentError(OpStatusError, ValueError):
    """A caller's argument is invalid, so nothing was sent (OPSTATUS_EINVAL)."""

    result_code = OPSTATUS_EINVAL


class ClientClosedError(InvalidArgumentError):
    """The client was used after :meth:`opstatus.Client.close`.

    Like a closed file in Python, a closed client is an invalid argument, so
    this error is also an :class:`InvalidArgumentError` and a ValueError.
    """


class ConfigurationError(OpStatusError):
    """Settings are missing, unknown or inconsistent (OPSTATUS_ECONFIG)."""

    result_code = OPSTATUS_ECONFIG


class TransportError(OpStatusError):
    """DNS, connect, TLS or a broken connection failed (OPSTATUS_ETRANSPORT)."""

    result_code = OPSTATUS_ETRANSPORT


class TimeoutError(OpStatusError, builtins.TimeoutError):
    """The connect timeout, request timeout or deadline passed (OPSTATUS_ETIMEOUT).

    It is also the builtin TimeoutError, so ``except TimeoutError`` without
    this package's name catches it too.
    """

    result_code = OPSTATUS_ETIMEOUT


class AuthenticationError(OpStatusError):
    """HTTP 401: the API token or certificate was not accepted."""

    result_code = OPSTATUS_EUNAUTHORIZED


class PermissionDeniedError(OpStatusError):
    """HTTP 403: the credentials lack permission for this namespace."""

    result_code = OPSTATUS_EFORBIDDEN


class NotFoundError(OpStatusError):
    """HTTP 404: unknown namespace, load balancer or operation id."""

    result_code = OPSTATUS_ENOTFOUND


class ConflictError(OpStatusError):
    """HTTP 409: the request conflicts with the current state."""

    result_code = OPSTATUS_ECONFLICT


class RateLimitedError(OpStatusError):
    """HTTP 429: the tenant's rate limit was reached.

    ``retry_after`` contains the delay that the server requested, if any.
    """

    result_code = OPSTATUS_ERATELIMITED


class ServerError(OpStatusError):
    """HTTP 500, 502 or another 5xx status without its own class."""

    result_code = OPSTATUS_ESERVER


class ServiceUnavailableError(OpStatusError):
    """HTTP 503: the service is unavailable."""

    result_code = OPSTATUS_EUNAVAILABLE


class GatewayTimeoutError(OpStatusError):
    """HTTP 504: a gateway timed out."""

    result_code = OPSTATUS_EGATEWAYTIMEOUT


class ProtocolError(OpStatusError):
    """A response of the wrong shape or above the size limit (OPSTATUS_EPROTOCOL)."""

    result_code = OPSTATUS_EPROTOCOL


class APIError(OpStatusError):
    """HTTP 200 whose ``error.code`` is neither EOK nor EPARTIAL (OPSTATUS_EAPI).

    ``api_code`` contains the server's ``error.code``.
    """

    result_code = OPSTATUS_EAPI


class CancelledError(OpStatusError):
    """The call was cancelled (OPSTATUS_ECANCELLED)."""

    result_code = OPSTATUS_ECANCELLED


class BadRequestError(OpStatusError):
    """HTTP 400 or another 4xx status without its own class (OPSTATUS_EBADREQUEST)."""

    result_code = OPSTATUS_EBADREQUEST


class OutOfMemoryError(OpStatusError):
    """The library could not allocate memory (OPSTATUS_ENOMEM)."""

    result_code = OPSTATUS_ENOMEM


class InternalError(OpStatusError):
    """An unexpected failure inside the library (OPSTATUS_EINTERNAL)."""

    result_code = OPSTATUS_EINTERNAL


class UnknownResultError(OpStatusError):
    """A result code that this version of the package does not know.

    A newer minor version of the library may add result codes. ``code`` and
    ``code_name`` contain what the library reported.
    """


_CLASSES_BY_CODE: dict[int, type[OpStatusError]] = {
    cls.result_code: cls
    for cls in (
        InvalidArgumentError,
        ConfigurationError,
        TransportError,
        TimeoutError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        RateLimitedError,
        ServerError,
        ServiceUnavailableError,
        GatewayTimeoutError,
        ProtocolError,
        APIError,
        CancelledError,
        BadRequestError,
        OutOfMemoryError,
        InternalError,
    )
    if cls.result_code is not None
}


def error_for_code(
    code: int,
    message: str,
    *,
    code_name: str | None = None,
    http_status: int | None = None,
    api_code: str | None = None,
    retry_after: float | None = None,
) -> OpStatusError:
    """Create the exception of the class that matches a result code.

    Codes without a class of their own give an :class:`UnknownResultError`.
    """
    cls = _CLASSES_BY_CODE.get(code, UnknownResultError)
    return cls(
        message,
        code=code,
        code_name=code_name,
        http_status=http_status,
        api_code=api_code,
        retry_after=retry_after,
    )
