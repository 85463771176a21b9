"""Exception classes: one per result code, with their builtin bases."""

from __future__ import annotations

import builtins
import pickle

import pytest

import opstatus
from opstatus._errors import error_for_code

CLASSES_BY_CODE = [
    (1, "OPSTATUS_EINVAL", opstatus.InvalidArgumentError),
    (2, "OPSTATUS_ECONFIG", opstatus.ConfigurationError),
    (3, "OPSTATUS_ETRANSPORT", opstatus.TransportError),
    (4, "OPSTATUS_ETIMEOUT", opstatus.TimeoutError),
    (5, "OPSTATUS_EUNAUTHORIZED", opstatus.AuthenticationError),
    (6, "OPSTATUS_EFORBIDDEN", opstatus.PermissionDeniedError),
    (7, "OPSTATUS_ENOTFOUND", opstatus.NotFoundError),
    (8, "OPSTATUS_ECONFLICT", opstatus.ConflictError),
    (9, "OPSTATUS_ERATELIMITED", opstatus.RateLimitedError),
    (10, "OPSTATUS_ESERVER", opstatus.ServerError),
    (11, "OPSTATUS_EUNAVAILABLE", opstatus.ServiceUnavailableError),
    (12, "OPSTATUS_EGATEWAYTIMEOUT", opstatus.GatewayTimeoutError),
    (13, "OPSTATUS_EPROTOCOL", opstatus.ProtocolError),
    (14, "OPSTATUS_EAPI", opstatus.APIError),
    (15, "OPSTATUS_ECANCELLED", opstatus.CancelledError),
    (16, "OPSTATUS_EBADREQUEST", opstatus.BadRequestError),
    (17, "OPSTATUS_ENOMEM", opstatus.OutOfMemoryError),
    (18, "OPSTATUS_EINTERNAL", opstatus.InternalError),
]


@pytest.mark.parametrize(("code", "code_name", "error_class"), CLASSES_BY_CODE)
def test_error_class_per_code(code, code_name, error_class):
    error = error_for_code(code, "failed", http_status=None)

    assert type(error) is error_class
    assert isinstance(error, opstatus.OpStatusError)
    assert error.code == code
    assert error.code_name == code_name
    assert str(error) == "failed"


def test_error_unknown_code():
    error = error_for_code(99, "something new", code_name="OPSTATUS_ENEW")

    assert type(error) is opstatus.UnknownResultError
    assert error.code == 99
    assert error.code_name == "OPSTATUS_ENEW"


def test_error_unknown_code_default_name():
    error = error_for_code(99, "something new")

    assert error.code_name == "OPSTATUS_UNKNOWN_99"


def test_error_builtin_bases():
    assert issubclass(opstatus.TimeoutError, builtins.TimeoutError)
    assert issubclass(opstatus.InvalidArgumentError, ValueError)
    assert issubclass(opstatus.ClientClosedError, opstatus.InvalidArgumentError)
    assert opstatus.TimeoutError is not builtins.TimeoutError


def test_error_timeout_caught_as_builtin():
    with pytest.raises(builtins.TimeoutError):
        raise error_for_code(4, "request timed out after 200 ms")


def test_error_fields_and_repr():
    error = error_for_code(
        9, "rate limit reached", http_status=429, api_code="ERATE", retry_after=1.5
    )

    assert error.http_status == 429
    assert error.api_code == "ERATE"
    assert error.retry_after == 1.5
    assert error.message == "rate limit reached"
    assert "OPSTATUS_ERATELIMITED" in repr(error)
    assert "429" in repr(error)


@pytest.mark.parametrize("code", [4, 7, 99])
def test_error_pickle_round_trip(code):
    error = error_for_code(
        code, "failed", http_status=404, api_code="ENOTFOUND", retry_after=2.0
    )

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error)
    assert copy.code == error.code
    assert copy.code_name == error.code_name
    assert copy.http_status == 404
    assert copy.api_code == "ENOTFOUND"
    assert copy.retry_after == 2.0
    assert str(copy) == "failed"


def test_error_base_requires_code():
    with pytest.raises(TypeError):
        opstatus.OpStatusError("failed")
