"""Status of F5 Distributed Cloud service operations, such as cache purges.

The package calls the C library libopstatus through ctypes. A minimal use::

    import opstatus

    with opstatus.Client(api_url=url, api_token=token) as client:
        status = client.get_status(namespace="default", name="cdn-1", service_op_id=101)
    print(status.summary.state, status.summary.bytes_purged)

A purge that is followed until every site has finished::

    with opstatus.Client(api_url=url, api_token=token) as client:
        op_id = client.purge("default", "cdn-1", url="/index.html", hard=True)
        result = client.wait("default", "cdn-1", op_id, timeout=300)
    print(result.outcome, result.status.summary.bytes_purged)

``python -m opstatus`` runs the command-line program of :mod:`opstatus.cli`.

Importing the package raises ImportError when libopstatus cannot be found
or has an incompatible version. The search order is documented in
``opstatus._ffi``.
"""

from __future__ import annotations

from . import _ffi
from ._client import Client
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    CancelledError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    GatewayTimeoutError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OpStatusError,
    OutOfMemoryError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    ServiceUnavailableError,
    TimeoutError,
    TransportError,
    UnknownResultError,
)
from ._models import (
    OperationItem,
    OperationState,
    PurgeDetails,
    ServiceOperationStatus,
    StatusSummary,
)
from ._operations import (
    OperationRecord,
    OperationRef,
    StatusOutcome,
    WaitManyResult,
    WaitOutcome,
    WaitOutcomeEntry,
    WaitProgress,
    WaitResult,
)

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "CancelledError",
    "Client",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "GatewayTimeoutError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OpStatusError",
    "OperationItem",
    "OperationRecord",
    "OperationRef",
    "OperationState",
    "OutOfMemoryError",
    "PermissionDeniedError",
    "ProtocolError",
    "PurgeDetails",
    "RateLimitedError",
    "ServerError",
    "ServiceOperationStatus",
    "ServiceUnavailableError",
    "StatusOutcome",
    "StatusSummary",
    "TimeoutError",
    "TransportError",
    "UnknownResultError",
    "WaitManyResult",
    "WaitOutcome",
    "WaitOutcomeEntry",
    "WaitProgress",
    "WaitResult",
    "__version__",
    "library_path",
    "version",
]

__version__ = "0.1.0"
"""Version of this Python package. :func:`version` returns the library's."""

library_path: str = _ffi.library_path
"""Path or soname from which libopstatus was loaded."""


def version() -> str:
    """Return the loaded libopstatus version as ``"MAJOR.MINOR.PATCH"``."""
    text: bytes = _ffi.lib.opstatus_version()
    return text.decode("ascii")
