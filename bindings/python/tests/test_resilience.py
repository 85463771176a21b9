"""Retry, deadline, rate limit and hostile-server tests against the emulator.

Each test counts the attempts in the emulator's request log and measures the
time of the call with time.monotonic(). Upper time bounds leave a few hundred
milliseconds of slack for a loaded machine.
"""

from __future__ import annotations

import base64
import builtins
import gzip
import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from email.utils import formatdate
from typing import Any

import pytest

import opstatus

NAMESPACE = "demo"
LOAD_BALANCER = "shop-frontend"
SEEDED_OP_ID = 101
SEEDED_SITES = 9
STATUS_PATH = (
    f"/api/cdn/namespaces/{NAMESPACE}/http_loadbalancer/get-service-operation-status"
)
# Retry delays short enough that backoff adds little to the measured times.
FAST_RETRIES = {"retry_base_ms": 10, "retry_max_ms": 20}


def _get_seeded(client: opstatus.Client) -> opstatus.ServiceOperationStatus:
    return client.get_status(
        namespace=NAMESPACE, name=LOAD_BALANCER, service_op_id=SEEDED_OP_ID
    )


def _attempts(emulator) -> int:
    """Return how many status requests the emulator received since its last reset."""
    return sum(1 for entry in emulator.requests() if entry["path"] == STATUS_PATH)


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``call`` and return its result or exception with the seconds it took."""
    started = time.monotonic()
    try:
        outcome = call()
    except opstatus.OpStatusError as exc:
        outcome = exc
    return outcome, time.monotonic() - started


def _fetch_with(emulator, **settings: Any) -> tuple[Any, float]:
    """Fetch the seeded status with a new client and return the outcome and seconds."""
    with emulator.client(**settings) as client:
        return _timed(lambda: _get_seeded(client))


def _status_fault(status: int, **fields: Any) -> dict[str, Any]:
    return {"kind": "status", "status": status, **fields}


def _json_body(size: int) -> str:
    """Return a valid status response body of exactly ``size`` ASCII bytes."""
    body = '{"items":[]}'
    return body.ljust(size)


def _parse_log_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# Retry-After


def test_retry_after_seconds_then_success(emulator):
    emulator.add_faults(_status_fault(429, headers={"Retry-After": "1"}))

    outcome, seconds = _fetch_with(emulator, max_attempts=4)

    assert isinstance(outcome, opstatus.ServiceOperationStatus)
    assert len(outcome.items) == SEEDED_SITES
    assert seconds >= 1.0
    assert seconds < 3.0
    assert _attempts(emulator) == 2


def test_retry_after_http_date_waits(emulator):
    # A whole second at least 2 s ahead, because an HTTP date has no fraction.
    target = int(time.time()) + 3
    retry_date = formatdate(target, usegmt=True)
    emulator.add_faults(_status_fault(429, headers={"Retry-After": retry_date}))

    outcome, seconds = _fetch_with(emulator, max_attempts=2)
    finished_at = time.time()

    assert isinstance(outcome, opstatus.ServiceOperationStatus)
    assert finished_at >= target - 0.05
    assert seconds >= 1.9
    assert seconds < 3.5
    assert _attempts(emulator) == 2


def test_retry_after_repeated_beyond_max_attempts(emulator):
    emulator.add_faults(_status_fault(429, headers={"Retry-After": "1"}, count=3))

    outcome, seconds = _fetch_with(emulator, max_attempts=2)

    assert isinstance(outcome, opstatus.RateLimitedError)
    assert outcome.code == 9
    assert outcome.http_status == 429
    assert outcome.retry_after == 1.0
    assert "2 attempts" in outcome.message
    assert seconds >= 1.0
    assert seconds < 3.0
    assert _attempts(emulator) == 2


def test_retry_after_above_cap_gives_up(emulator):
    emulator.add_faults(_status_fault(429, headers={"Retry-After": "5"}))

    outcome, seconds = _fetch_with(emulator, max_attempts=4, retry_after_max_ms=2000)

    assert isinstance(outcome, opstatus.RateLimitedError)
    assert outcome.code == 9
    assert outcome.retry_after == 5.0
    assert "retry_after_max_ms" in outcome.message
    assert seconds < 0.5
    assert _attempts(emulator) == 1


def test_retry_after_past_deadline_gives_up(emulator):
    emulator.add_faults(_status_fault(429, headers={"Retry-After": "2"}))

    outcome, seconds = _fetch_with(emulator, max_attempts=3, deadline_ms=1000)

    assert isinstance(outcome, opstatus.RateLimitedError)
    assert outcome.retry_after == 2.0
    assert "deadline_ms" in outcome.message
    assert seconds < 0.5
    assert _attempts(emulator) == 1


def test_retry_after_beyond_64_bits_gives_up(emulator):
    # 2**64 seconds does not fit in 64 bits. It is far above
    # retry_after_max_ms, so the retries end as for any smaller such value.
    emulator.add_faults(
        _status_fault(429, headers={"Retry-After": "18446744073709551616"})
    )

    outcome, _ = _fetch_with(emulator, max_attempts=2, **FAST_RETRIES)

    assert isinstance(outcome, opstatus.RateLimitedError)
    assert _attempts(emulator) == 1


# Server errors


@pytest.mark.parametrize(
    "statuses",
    [[500], [502], [503], [504], [500, 502, 503, 504]],
    ids=["500", "502", "503", "504", "500-502-503-504"],
)
def test_retry_server_errors_then_success(emulator, statuses):
    emulator.add_faults(*(_status_fault(status) for status in statuses))

    outcome, seconds = _fetch_with(
        emulator, max_attempts=len(statuses) + 1, **FAST_RETRIES
    )

    assert isinstance(outcome, opstatus.ServiceOperationStatus)
    assert len(outcome.items) == SEEDED_SITES
    assert _attempts(emulator) == len(statuses) + 1
    assert seconds < 1.0


def test_retry_503_exhausts_max_attempts(emulator):
    emulator.add_faults(_status_fault(503, count=3))

    outcome, seconds = _fetch_with(emulator, max_attempts=2, **FAST_RETRIES)

    assert isinstance(outcome, opstatus.ServiceUnavailableError)
    assert outcome.code == 11
    assert outcome.http_status == 503
    assert "2 attempts" in outcome.message
    assert _attempts(emulator) == 2
    assert seconds < 1.0


def test_retry_504_exhausts_default_attempts(emulator):
    emulator.add_faults(*(_status_fault(status) for status in (500, 502, 503, 504)))

    outcome, _ = _fetch_with(emulator, max_attempts=4, **FAST_RETRIES)

    assert isinstance(outcome, opstatus.GatewayTimeoutError)
    assert outcome.code == 12
    assert outcome.http_status == 504
    assert _attempts(emulator) == 4


@pytest.mark.parametrize(
    ("http_status", "error_class", "code"),
    [
        (400, opstatus.BadRequestError, 16),
        (401, opstatus.AuthenticationError, 5),
        (403, opstatus.PermissionDeniedError, 6),
        (404, opstatus.NotFoundError, 7),
        (409, opstatus.ConflictError, 8),
        (501, opstatus.ServerError, 10),
    ],
)
def test_retry_skips_final_statuses(emulator, http_status, error_class, code):
    emulator.add_faults(_status_fault(http_status))

    outcome, seconds = _fetch_with(emulator, max_attempts=4, **FAST_RETRIES)

    assert isinstance(outcome, error_class)
    assert outcome.code == code
    assert outcome.http_status == http_status
    assert _attempts(emulator) == 1
    assert seconds < 0.5


def test_retry_skips_wrong_token(emulator):
    outcome, _ = _fetch_with(emulator, api_token="not-the-token", max_attempts=4)

    assert isinstance(outcome, opstatus.AuthenticationError)
    assert outcome.http_status == 401
    assert _attempts(emulator) == 1


# Deadlines and timeouts


def test_deadline_ends_hanging_request(emulator):
    emulator.add_faults({"kind": "hang", "seconds": 30})

    outcome, seconds = _fetch_with(emulator, max_attempts=4, deadline_ms=2000)

    assert isinstance(outcome, opstatus.TimeoutError)
    assert isinstance(outcome, builtins.TimeoutError)
    assert outcome.code == 4
    assert outcome.http_status is None
    assert "deadline_ms" in outcome.message
    assert seconds >= 1.9
    assert seconds < 2.5
    assert _attempts(emulator) == 1


def test_timeout_ms_ends_delayed_response(emulator):
    emulator.add_faults({"kind": "delay", "seconds": 3})

    outcome, seconds = _fetch_with(emulator, max_attempts=1, timeout_ms=500)

    assert isinstance(outcome, opstatus.TimeoutError)
    assert isinstance(outcome, builtins.TimeoutError)
    assert outcome.code == 4
    assert seconds >= 0.45
    assert seconds < 1.5
    assert _attempts(emulator) == 1


def test_slow_body_within_timeout(emulator):
    emulator.add_faults({"kind": "slow_body", "seconds": 1})

    outcome, seconds = _fetch_with(emulator, max_attempts=1)

    assert isinstance(outcome, opstatus.ServiceOperationStatus)
    assert len(outcome.items) == SEEDED_SITES
    assert seconds >= 0.9
    assert _attempts(emulator) == 1


def test_slow_body_timeout_retried(emulator):
    emulator.add_faults({"kind": "slow_body", "seconds": 5})

    outcome, seconds = _fetch_with(
        emulator, max_attempts=2, timeout_ms=500, **FAST_RETRIES
    )

    assert isinstance(outcome, opstatus.ServiceOperationStatus)
    assert _attempts(emulator) == 2
    assert seconds < 2.0


# Broken connections


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_broken_body_retried(emulator, kind):
    emulator.add_faults({"kind": kind})

    outcome, seconds = _fetch_with(emulator, max_attempts=4, **FAST_RETRIES)

    assert isinstance(outcome, opstatus.ServiceOperationStatus)
    assert len(outcome.items) == SEEDED_SITES
    assert _attempts(emulator) == 2
    assert seconds < 1.0


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_broken_body_without_retries(emulator, kind):
    emulator.add_faults({"kind": kind})

    outcome, _ = _fetch_with(emulator, max_attempts=1)

    # The status line arrived before the body broke, so http_status may be
    # 200 or None.
    assert isinstance(outcome, opstatus.TransportError)
    assert outcome.code == 3
    assert outcome.http_status in (None, 200)
    assert _attempts(emulator) == 1


def test_connection_refused_retried(closed_port, opstatus_log):
    client = opstatus.Client(
        api_url=f"https://127.0.0.1:{closed_port}",
        api_token="placeholder-token",
        use_environment=False,
        max_attempts=3,
        **FAST_RETRIES,
    )
    with client:
        outcome, seconds = _timed(lambda: _get_seeded(client))

    assert isinstance(outcome, opstatus.TransportError)
    assert outcome.code == 3
    assert outcome.http_status is None
    assert "3 attempts" in outcome.message
    assert seconds < 1.0
    warnings = opstatus_log.messages(30)
    retries = [message for message in warnings if "retrying in" in message]
    assert len(retries) == 2
    assert "attempt 2 of 3" in retries[1]


# Malformed responses


def test_invalid_json_not_retried(emulator):
    emulator.add_faults({"kind": "invalid_json"})

    outcome, _ = _fetch_with(emulator, max_attempts=4, **FAST_RETRIES)

    assert isinstance(outcome, opstatus.ProtocolError)
    assert outcome.code == 13
    assert outcome.http_status == 200
    assert "not valid JSON" in outcome.message
    assert _attempts(emulator) == 1


def test_wrong_types_names_json_path(emulator):
    emulator.add_faults({"kind": "wrong_types"})

    outcome, _ = _fetch_with(emulator, max_attempts=4)

    assert isinstance(outcome, opstatus.ProtocolError)
    assert outcome.code == 13
    # The emulator sends "items" as an object instead of an array.
    assert "items" in outcome.message
    assert "array" in outcome.message
    assert _attempts(emulator) == 1


def test_html_page_rejected(emulator):
    emulator.add_faults({"kind": "html"})

    outcome, _ = _fetch_with(emulator, max_attempts=4)

    assert isinstance(outcome, opstatus.ProtocolError)
    assert outcome.code == 13
    assert "HTML" in outcome.message
    assert _attempts(emulator) == 1


def test_empty_204_rejected(emulator):
    emulator.add_faults(_status_fault(204))

    outcome, _ = _fetch_with(emulator, max_attempts=4)

    assert isinstance(outcome, opstatus.ProtocolError)
    assert outcome.http_status == 204
    assert _attempts(emulator) == 1


# Response size limit


def test_huge_body_rejected_quickly(emulator):
    emulator.add_faults({"kind": "huge", "bytes": 5 * 1024 * 1024})

    outcome, seconds = _fetch_with(
        emulator, max_attempts=4, max_response_bytes=100_000
    )

    assert isinstance(outcome, opstatus.ProtocolError)
    assert outcome.code == 13
    assert "max_response_bytes" in outcome.message
    assert seconds < 1.0
    assert _attempts(emulator) == 1


@pytest.mark.parametrize("content_length", [True, False], ids=["length", "no-length"])
def test_body_at_limit_accepted(emulator, content_length):
    emulator.add_faults(
        {"kind": "raw", "body": _json_body(1000), "content_length": content_length}
    )

    outcome, _ = _fetch_with(emulator, max_response_bytes=1000)

    assert isinstance(outcome, opstatus.ServiceOperationStatus)
    assert outcome.items == ()


@pytest.mark.parametrize("content_length", [True, False], ids=["length", "no-length"])
def test_body_one_over_limit_rejected(emulator, content_length):
    emulator.add_faults(
        {"kind": "raw", "body": _json_body(1001), "content_length": content_length}
    )

    outcome, _ = _fetch_with(emulator, max_attempts=4, max_response_bytes=1000)

    assert isinstance(outcome, opstatus.ProtocolError)
    assert "max_response_bytes" in outcome.message
    assert _attempts(emulator) == 1


def test_gzip_bomb_rejected(emulator):
    # 5 MB of JSON compresses to a few kB, so only the decoded size is over.
    compressed = gzip.compress(_json_body(5 * 1024 * 1024).encode("ascii"))
    emulator.add_faults(
        {
            "kind": "raw",
            "body_base64": base64.b64encode(compressed).decode("ascii"),
            "headers": {"Content-Encoding": "gzip"},
        }
    )

    outcome, seconds = _fetch_with(emulator, max_response_bytes=100_000)

    assert len(compressed) < 100_000
    assert isinstance(outcome, opstatus.ProtocolError)
    assert "max_response_bytes" in outcome.message
    assert seconds < 1.0


def test_gzip_body_decoded(emulator):
    body = json.dumps({"items": [{"status": "success"}]}).encode("utf-8")
    emulator.add_faults(
        {
            "kind": "raw",
            "body_base64": base64.b64encode(gzip.compress(body)).decode("ascii"),
            "headers": {"Content-Encoding": "gzip"},
        }
    )

    outcome, _ = _fetch_with(emulator)

    assert isinstance(outcome, opstatus.ServiceOperationStatus)
    assert len(outcome.items) == 1


# Redirects


@pytest.fixture
def redirect_target() -> Iterator[tuple[socket.socket, str]]:
    """A listening socket on another loopback address that must never get a connection.

    It listens on 127.0.0.2 where Linux allows it, else on another port of
    127.0.0.1. Yields the socket and its "host:port".
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.2", 0))
    except OSError:
        listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    host, port = listener.getsockname()
    try:
        yield listener, f"{host}:{port}"
    finally:
        listener.close()


def _has_pending_connection(listener: socket.socket) -> bool:
    readable, _, _ = select.select([listener], [], [], 0.2)
    return bool(readable)


@pytest.mark.parametrize("redirect_status", [301, 302, 307, 308])
def test_redirect_other_host_not_followed(emulator, redirect_target, redirect_status):
    listener, authority = redirect_target
    emulator.add_faults(
        {
            "kind": "redirect",
            "status": redirect_status,
            "location": f"https://{authority}{STATUS_PATH}",
        }
    )

    outcome, _ = _fetch_with(emulator, max_attempts=4)

    assert isinstance(outcome, opstatus.ProtocolError)
    assert outcome.code == 13
    assert outcome.http_status == redirect_status
    assert authority in outcome.message
    assert _attempts(emulator) == 1
    assert not _has_pending_connection(listener)


def test_redirect_scheme_relative_other_host(emulator, redirect_target):
    # "//host/path" is a reference to another host (RFC 3986, section 4.2).
    listener, authority = redirect_target
    emulator.add_faults({"kind": "redirect", "location": f"//{authority}/api"})

    outcome, _ = _fetch_with(emulator, max_attempts=4)

    assert isinstance(outcome, opstatus.ProtocolError)
    assert authority in outcome.message
    assert "same host" not in outcome.message
    assert not _has_pending_connection(listener)


# Client-side rate limit


def test_rate_limit_spaces_sequential_calls(emulator):
    with emulator.client(rate_per_second=5, burst=1) as client:
        outcome, seconds = _timed(lambda: [_get_seeded(client) for _ in range(6)])

    assert len(outcome) == 6
    # The first call takes the only token, and each later one waits 200 ms.
    assert seconds >= 0.95
    assert seconds < 2.5
    assert _attempts(emulator) == 6


def test_rate_limit_shared_by_threads(emulator):
    rate = 10
    failures: list[BaseException] = []

    with emulator.client(rate_per_second=rate, burst=1) as client:

        def fetch_five() -> None:
            try:
                for _ in range(5):
                    _get_seeded(client)
            except opstatus.OpStatusError as exc:
                failures.append(exc)

        workers = [threading.Thread(target=fetch_five) for _ in range(2)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seconds = time.monotonic() - started

    assert failures == []
    assert seconds >= 0.85
    arrivals = sorted(
        _parse_log_time(entry["time"])
        for entry in emulator.requests()
        if entry["path"] == STATUS_PATH
    )
    assert len(arrivals) == 10
    # With a burst of 1, request n arrives no earlier than n / rate seconds
    # after the first. The 30 ms of slack covers the rounding of the
    # emulator's millisecond timestamps.
    for index, arrival in enumerate(arrivals):
        assert arrival - arrivals[0] >= index / rate - 0.03


def test_rate_limit_past_deadline_times_out(emulator):
    with emulator.client(rate_per_second=1, burst=1, deadline_ms=500) as client:
        _get_seeded(client)
        outcome, seconds = _timed(lambda: _get_seeded(client))

    assert isinstance(outcome, opstatus.TimeoutError)
    assert "rate_per_second" in outcome.message
    assert seconds < 0.3
    assert _attempts(emulator) == 1


# Settings of retries and limits


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 101}, "max_attempts"),
        ({"deadline_ms": 0}, "deadline_ms"),
        ({"timeout_ms": 0}, "timeout_ms"),
        ({"connect_timeout_ms": 0}, "connect_timeout_ms"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
        ({"retry_base_ms": 100, "retry_max_ms": 50}, "retry_max_ms"),
        ({"rate_per_second": 0}, "rate_per_second"),
        ({"rate_per_second": -1.5}, "rate_per_second"),
        ({"burst": 2}, "burst"),
        ({"resource_kind": "tcp_loadbalancer"}, "resource_kind"),
    ],
    ids=[
        "no-attempts",
        "101-attempts",
        "zero-deadline",
        "zero-timeout",
        "zero-connect-timeout",
        "zero-response-bytes",
        "max-below-base",
        "zero-rate",
        "negative-rate",
        "burst-without-rate",
        "unknown-resource-kind",
    ],
)
def test_config_limit_rejected(emulator, settings, named):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        emulator.client(**settings)

    assert caught.value.code == 2
    assert named in caught.value.message
    assert _attempts(emulator) == 0
