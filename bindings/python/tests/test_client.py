"""Client tests against the emulator: results, errors, threads and closing."""

from __future__ import annotations

import builtins
import dataclasses
import json
import logging
import pickle
import socket
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

import opstatus
from opstatus._models import parse_status

NAMESPACE = "demo"
LOAD_BALANCER = "shop-frontend"
SEEDED_OP_ID = 101
SEEDED_SITES = 9
UINT64_MAX = 2**64 - 1


def _assert_aware(value: datetime | None) -> None:
    assert isinstance(value, datetime)
    assert value.tzinfo is not None
    assert value.utcoffset() is not None


def _get_seeded(client: opstatus.Client) -> opstatus.ServiceOperationStatus:
    return client.get_status(
        namespace=NAMESPACE, name=LOAD_BALANCER, service_op_id=SEEDED_OP_ID
    )


def _raw_response(items: list[dict], error: dict | None = None) -> dict:
    body: dict = {"items": items}
    if error is not None:
        body["error"] = error
    return {
        "kind": "raw",
        "status": 200,
        "content_type": "application/json",
        "body": json.dumps(body),
    }


# Results


def test_get_status_seeded_operation(client):
    status = _get_seeded(client)

    assert isinstance(status, opstatus.ServiceOperationStatus)
    assert isinstance(status.items, tuple)
    assert len(status.items) == SEEDED_SITES
    assert status.error_code in (None, "EOK")

    sites = set()
    for item in status.items:
        assert item.service_op_id == SEEDED_OP_ID
        assert item.status == "success"
        assert item.purge is not None
        assert isinstance(item.purge.site, str)
        assert item.purge.site != ""
        sites.add(item.purge.site)
        assert type(item.purge.bytes_purged) is int
        assert item.purge.bytes_purged >= 0
        _assert_aware(item.purge.start_time)
        _assert_aware(item.purge.finish_time)
        assert item.purge.start_time <= item.purge.finish_time
    assert len(sites) == SEEDED_SITES


def test_get_status_seeded_summary(client):
    status = _get_seeded(client)
    summary = status.summary

    assert summary.state is opstatus.OperationState.SUCCEEDED
    assert summary.sites == SEEDED_SITES
    assert summary.succeeded == SEEDED_SITES
    assert summary.failed == 0
    assert summary.pending == 0
    assert type(summary.bytes_purged) is int
    assert type(summary.bytes_not_purged) is int
    assert summary.bytes_purged == sum(
        item.purge.bytes_purged or 0 for item in status.items
    )
    assert summary.bytes_not_purged == sum(
        item.purge.bytes_not_purged or 0 for item in status.items
    )
    _assert_aware(summary.earliest_start)
    _assert_aware(summary.latest_finish)
    assert summary.earliest_start == min(item.purge.start_time for item in status.items)
    assert summary.latest_finish == max(item.purge.finish_time for item in status.items)


def test_get_status_converted_on_access(client):
    status = _get_seeded(client)
    request = {
        "namespace": NAMESPACE,
        "name": LOAD_BALANCER,
        "service_op_id": SEEDED_OP_ID,
    }
    expected = parse_status(client.get_status_json(request))

    assert repr(_get_seeded(client)) == repr(expected)
    assert status == expected
    assert hash(status) == hash(expected)
    assert status.items == expected.items
    assert pickle.loads(pickle.dumps(_get_seeded(client))) == expected
    assert dataclasses.asdict(_get_seeded(client)) == dataclasses.asdict(expected)


def test_get_status_json_raw_form(client):
    result = client.get_status_json(
        {
            "namespace": NAMESPACE,
            "name": LOAD_BALANCER,
            "service_op_id": str(SEEDED_OP_ID),
        }
    )

    assert isinstance(result, dict)
    assert len(result["items"]) == SEEDED_SITES
    assert result["summary"]["state"] == "succeeded"
    assert isinstance(result["summary"]["bytes_purged"], str)
    assert result["items"][0]["service_op_id"] == SEEDED_OP_ID


def test_get_status_json_invalid_request(client):
    with pytest.raises(opstatus.InvalidArgumentError):
        client.get_status_json({"namespace": NAMESPACE, "name": LOAD_BALANCER})


def test_get_status_uint64_byte_count(client, emulator):
    item = {
        "service_op_id": SEEDED_OP_ID,
        "status": "success",
        "purge": {
            "site": "pa4-par",
            "bytes_purged": str(UINT64_MAX),
            "start_time": "2019-09-23T12:32:11.733Z",
            "finish_time": "2019-09-23T12:32:12.5Z",
        },
    }
    emulator.add_faults(_raw_response([item]))

    status = _get_seeded(client)

    assert len(status.items) == 1
    purge = status.items[0].purge
    assert purge.bytes_purged == UINT64_MAX
    assert purge.bytes_not_purged is None
    assert purge.hard_purge is None
    assert purge.regexp is None
    assert purge.purge_time is None
    assert purge.finish_time.microsecond == 500000
    assert status.summary.bytes_purged == UINT64_MAX
    assert status.summary.bytes_not_purged == 0


def test_get_status_absent_fields_stay_none(client, emulator):
    emulator.add_faults(_raw_response([{"status": "running"}]))

    status = _get_seeded(client)

    item = status.items[0]
    assert item.service_op_id is None
    assert item.status == "running"
    assert item.purge is None
    assert status.summary.state is opstatus.OperationState.PENDING
    assert status.summary.pending == 1
    assert status.summary.earliest_start is None
    assert status.summary.latest_finish is None


def test_get_status_partial_keeps_items(client, emulator):
    emulator.add_faults({"kind": "api_error", "code": "EPARTIAL"})

    status = _get_seeded(client)

    assert status.error_code == "EPARTIAL"
    assert status.partial is True
    assert len(status.items) > 0
    assert status.summary.sites == len(status.items)


def test_get_status_api_error_code(client, emulator):
    emulator.add_faults({"kind": "api_error", "code": "EPERMS"})

    with pytest.raises(opstatus.APIError) as caught:
        _get_seeded(client)

    assert caught.value.api_code == "EPERMS"
    assert caught.value.code_name == "OPSTATUS_EAPI"
    assert caught.value.http_status == 200


def test_get_status_service_unavailable(client, emulator):
    emulator.add_faults({"kind": "status", "status": 503})

    with pytest.raises(opstatus.ServiceUnavailableError) as caught:
        _get_seeded(client)

    assert caught.value.http_status == 503
    assert caught.value.code == 11
    assert caught.value.code_name == "OPSTATUS_EUNAVAILABLE"
    assert caught.value.message != ""


@pytest.mark.parametrize(
    ("http_status", "error_class"),
    [
        (400, opstatus.BadRequestError),
        (403, opstatus.PermissionDeniedError),
        (409, opstatus.ConflictError),
        (422, opstatus.BadRequestError),
        (429, opstatus.RateLimitedError),
        (500, opstatus.ServerError),
        (502, opstatus.ServerError),
        (504, opstatus.GatewayTimeoutError),
    ],
)
def test_get_status_http_status_classes(client, emulator, http_status, error_class):
    emulator.add_faults({"kind": "status", "status": http_status})

    with pytest.raises(error_class) as caught:
        _get_seeded(client)

    assert caught.value.http_status == http_status


def test_get_status_retry_after(client, emulator):
    emulator.add_faults(
        {"kind": "status", "status": 429, "headers": {"Retry-After": "3"}}
    )

    with pytest.raises(opstatus.RateLimitedError) as caught:
        _get_seeded(client)

    assert caught.value.http_status == 429
    assert caught.value.retry_after == 3.0


def test_get_status_no_retry_after(client, emulator):
    emulator.add_faults({"kind": "status", "status": 503})

    with pytest.raises(opstatus.ServiceUnavailableError) as caught:
        _get_seeded(client)

    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    "fault",
    [
        {
            "kind": "raw",
            "status": 200,
            "content_type": "application/json",
            "body": "{not json",
        },
        {"kind": "invalid_json"},
        {"kind": "wrong_types"},
        {"kind": "html"},
    ],
    ids=["raw-not-json", "invalid-json", "wrong-types", "html"],
)
def test_get_status_malformed_body(client, emulator, fault):
    emulator.add_faults(fault)

    with pytest.raises(opstatus.ProtocolError) as caught:
        _get_seeded(client)

    assert caught.value.code == 13


def test_get_status_response_too_large(emulator):
    emulator.add_faults({"kind": "huge", "bytes": 100_000})

    with emulator.client(max_response_bytes=4096) as client:
        with pytest.raises(opstatus.ProtocolError):
            _get_seeded(client)


# Retries and logging


def test_retry_recovers_from_503(emulator):
    emulator.add_faults({"kind": "status", "status": 503, "count": 2})

    with emulator.client(max_attempts=3, retry_base_ms=10, retry_max_ms=20) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_retry_stops_at_max_attempts(emulator):
    emulator.add_faults({"kind": "status", "status": 503, "count": 3})

    with emulator.client(max_attempts=2, retry_base_ms=10, retry_max_ms=20) as client:
        with pytest.raises(opstatus.ServiceUnavailableError):
            _get_seeded(client)
    # Two attempts used two faults, so the third is still queued for a
    # client without retries.
    with emulator.client(max_attempts=1) as client:
        with pytest.raises(opstatus.ServiceUnavailableError):
            _get_seeded(client)
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_retry_after_above_maximum(emulator):
    emulator.add_faults(
        {"kind": "status", "status": 429, "headers": {"Retry-After": "120"}}
    )

    with emulator.client(max_attempts=4, retry_after_max_ms=60000) as client:
        started = time.monotonic()
        with pytest.raises(opstatus.RateLimitedError) as caught:
            _get_seeded(client)
        elapsed = time.monotonic() - started

    assert caught.value.retry_after == 120.0
    assert elapsed < 5


def test_deadline_ends_call(slow_emulator):
    with slow_emulator.client(max_attempts=4, deadline_ms=300) as client:
        started = time.monotonic()
        with pytest.raises(opstatus.TimeoutError):
            _get_seeded(client)
        elapsed = time.monotonic() - started

    # The emulator needs 1 s per response, so only the deadline ends the
    # call this early.
    assert elapsed < 0.9


class _RecordList(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_library_log_forwarded(emulator):
    emulator.add_faults({"kind": "status", "status": 503})
    logger = logging.getLogger("opstatus")
    handler = _RecordList()
    saved_level, saved_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    # Not propagated, so a failing test does not print the log text.
    logger.propagate = False
    try:
        with emulator.client(
            max_attempts=2, retry_base_ms=10, retry_max_ms=20
        ) as client:
            _get_seeded(client)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate

    levels = {record.levelno for record in handler.records}
    assert logging.DEBUG in levels
    assert logging.WARNING in levels
    leaked = any(emulator.token in record.getMessage() for record in handler.records)
    assert not leaked, "the token appears in a log message"


def test_library_log_respects_level(emulator):
    logger = logging.getLogger("opstatus")
    handler = _RecordList()
    saved_level, saved_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        with emulator.client() as client:
            _get_seeded(client)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate

    assert handler.records == []


def test_library_log_level_read_per_call(emulator):
    logger = logging.getLogger("opstatus")
    handler = _RecordList()
    saved_level, saved_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        with emulator.client() as client:
            _get_seeded(client)
            quiet_records = list(handler.records)
            logger.setLevel(logging.DEBUG)
            _get_seeded(client)
            debug_records = list(handler.records)
            logger.setLevel(logging.WARNING)
            _get_seeded(client)
            final_records = list(handler.records)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate

    assert quiet_records == []
    assert debug_records != []
    assert {record.levelno for record in debug_records} == {logging.DEBUG}
    assert final_records == debug_records


# Failures reported by the server


def test_wrong_token_authentication_error(emulator):
    wrong_token = "wrong-" + emulator.token[:8]
    with emulator.client(api_token=wrong_token) as client:
        with pytest.raises(opstatus.AuthenticationError) as caught:
            _get_seeded(client)

    assert caught.value.http_status == 401
    assert caught.value.code_name == "OPSTATUS_EUNAUTHORIZED"
    leaked = wrong_token in str(caught.value) or wrong_token in repr(caught.value)
    assert not leaked, "the token appears in the exception text"


def test_unknown_load_balancer_not_found(client):
    with pytest.raises(opstatus.NotFoundError) as caught:
        client.get_status(
            namespace=NAMESPACE, name="no-such-lb", service_op_id=SEEDED_OP_ID
        )

    assert caught.value.http_status == 404
    assert caught.value.code == 7


def test_unknown_op_id_not_found(client):
    with pytest.raises(opstatus.NotFoundError):
        client.get_status(namespace=NAMESPACE, name=LOAD_BALANCER, service_op_id=999999)


# Arguments rejected before any request


@pytest.mark.parametrize(
    ("namespace", "name", "service_op_id"),
    [
        ("", LOAD_BALANCER, SEEDED_OP_ID),
        (NAMESPACE, LOAD_BALANCER, -1),
        (NAMESPACE, "shop\x01frontend", SEEDED_OP_ID),
        (NAMESPACE, "shop\nfrontend", SEEDED_OP_ID),
        (NAMESPACE, "a" * 1025, SEEDED_OP_ID),
        (NAMESPACE, "", SEEDED_OP_ID),
        (NAMESPACE, "shop\0frontend", SEEDED_OP_ID),
        (NAMESPACE, LOAD_BALANCER, 2**63),
        ("demo\udc80", LOAD_BALANCER, SEEDED_OP_ID),
    ],
    ids=[
        "empty-namespace",
        "negative-id",
        "control-character",
        "line-feed",
        "1025-byte-name",
        "empty-name",
        "nul-character",
        "id-above-int64",
        "lone-surrogate",
    ],
)
def test_invalid_argument_sends_nothing(
    client, emulator, namespace, name, service_op_id
):
    # The queued fault is consumed by the first request that reaches the
    # emulator, so the valid call below shows whether the invalid one sent any.
    emulator.add_faults({"kind": "status", "status": 503})

    with pytest.raises(opstatus.InvalidArgumentError) as caught:
        client.get_status(namespace=namespace, name=name, service_op_id=service_op_id)

    assert isinstance(caught.value, ValueError)
    assert caught.value.code == 1
    assert caught.value.http_status is None
    with pytest.raises(opstatus.ServiceUnavailableError):
        _get_seeded(client)


def test_argument_types_checked(client):
    with pytest.raises(TypeError):
        client.get_status(namespace=NAMESPACE, name=LOAD_BALANCER, service_op_id="101")
    with pytest.raises(TypeError):
        client.get_status(namespace=NAMESPACE, name=LOAD_BALANCER, service_op_id=True)
    with pytest.raises(TypeError):
        client.get_status(
            namespace=b"demo", name=LOAD_BALANCER, service_op_id=SEEDED_OP_ID
        )


def test_1024_byte_name_accepted(client):
    # A name of the maximum length, 1024 bytes, reaches the server, which does
    # not know it.
    with pytest.raises(opstatus.NotFoundError):
        client.get_status(
            namespace=NAMESPACE, name="a" * 1024, service_op_id=SEEDED_OP_ID
        )


# Configuration


def test_config_missing_api_url():
    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client(api_token="placeholder-token", use_environment=False)

    assert caught.value.code == 2
    assert caught.value.code_name == "OPSTATUS_ECONFIG"
    assert "api_url" in caught.value.message


def test_config_missing_api_token(emulator):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client(api_url=emulator.url, use_environment=False)

    assert "api_token" in caught.value.message


def test_config_unknown_key(emulator):
    config = {
        "api_url": emulator.url,
        "api_token": "placeholder-token",
        "timeout_msec": 1000,
        "use_environment": False,
    }

    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client.from_config(config)

    assert "timeout_msec" in caught.value.message


def test_config_http_non_loopback_rejected():
    # 192.0.2.0/24 is reserved for documentation, and the client is never
    # used, so nothing is sent to it.
    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client(
            api_url="http://192.0.2.10/api",
            api_token="placeholder-token",
            use_environment=False,
        )

    assert caught.value.code == 2


def test_config_invalid_timeout(emulator):
    with pytest.raises(opstatus.ConfigurationError):
        emulator.client(timeout_ms=-5)


def test_config_single_string_statuses(emulator):
    with pytest.raises(TypeError):
        emulator.client(success_statuses="done")


def test_config_custom_success_statuses(emulator):
    # With "success" missing from the success words, the seeded sites are
    # neither succeeded nor failed.
    with emulator.client(success_statuses=["finished"]) as client:
        status = _get_seeded(client)

    assert status.summary.succeeded == 0
    assert status.summary.pending == SEEDED_SITES
    assert status.summary.state is opstatus.OperationState.PENDING


def test_config_from_config_works(emulator):
    config = {
        "api_url": emulator.url,
        "api_token": emulator.token,
        "ca_file": emulator.ca_file,
        "use_environment": False,
    }

    with opstatus.Client.from_config(config) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


# Transport


def test_untrusted_certificate_transport_error(emulator):
    # Without ca_file, the system's CAs do not trust the emulator's certificate.
    with emulator.client(ca_file=None) as client:
        with pytest.raises(opstatus.TransportError) as caught:
            _get_seeded(client)

    assert caught.value.http_status is None


def test_closed_port_transport_error():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    # The port is free now, so the connection is refused.
    with opstatus.Client(
        api_url=f"https://127.0.0.1:{port}",
        api_token="placeholder-token",
        use_environment=False,
        max_attempts=1,
    ) as client:
        with pytest.raises(opstatus.TransportError):
            _get_seeded(client)


def test_request_timeout(slow_emulator):
    with slow_emulator.client(timeout_ms=200) as client:
        with pytest.raises(opstatus.TimeoutError) as caught:
            _get_seeded(client)

    assert isinstance(caught.value, builtins.TimeoutError)
    assert caught.value.code_name == "OPSTATUS_ETIMEOUT"


# Secrets


def test_token_absent_from_repr_and_errors(emulator):
    client = emulator.client()
    try:
        texts = [repr(client), str(client), repr(vars(client))]
        with pytest.raises(opstatus.NotFoundError) as caught:
            client.get_status(namespace=NAMESPACE, name="no-such-lb", service_op_id=1)
        texts += [str(caught.value), repr(caught.value)]
    finally:
        client.close()
    texts.append(repr(client))

    assert emulator.url in texts[0]
    leaked = any(emulator.token in text for text in texts)
    assert not leaked, "the token appears in a repr or an exception text"


def test_url_password_hidden():
    url = "https://user:secret-password@127.0.0.1:1/api"
    try:
        client = opstatus.Client(
            api_url=url, api_token="placeholder-token", use_environment=False
        )
    except opstatus.ConfigurationError as exc:
        visible_text = str(exc) + repr(exc)
    else:
        visible_text = repr(client)
        client.close()

    assert "secret-password" not in visible_text


# Threads and closing


def test_threads_share_one_client(client):
    def run_calls(thread_index: int) -> int:
        succeeded = 0
        for call_index in range(20):
            # Every fourth call fails, so that each thread also checks that
            # the last error is kept per thread.
            if call_index % 4 == 3:
                with pytest.raises(opstatus.NotFoundError):
                    client.get_status(
                        namespace=NAMESPACE,
                        name=f"missing-{thread_index}",
                        service_op_id=call_index,
                    )
            else:
                status = _get_seeded(client)
                assert len(status.items) == SEEDED_SITES
                assert status.summary.state is opstatus.OperationState.SUCCEEDED
                succeeded += 1
        return succeeded

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(run_calls, range(8)))

    assert counts == [15] * 8


def test_closed_client_raises(emulator):
    client = emulator.client()
    assert client.closed is False
    client.close()
    assert client.closed is True
    client.close()

    with pytest.raises(opstatus.ClientClosedError) as caught:
        _get_seeded(client)
    assert isinstance(caught.value, opstatus.OpStatusError)
    assert "closed" in str(caught.value)
    with pytest.raises(opstatus.ClientClosedError):
        client.get_status_json(
            {"namespace": NAMESPACE, "name": LOAD_BALANCER, "service_op_id": 1}
        )
    assert "closed" in repr(client)


def test_context_manager_closes(emulator):
    with emulator.client() as client:
        assert client.closed is False

    assert client.closed is True


def test_close_waits_for_running_call(slow_emulator):
    client = slow_emulator.client()
    results: list[object] = []

    def fetch() -> None:
        try:
            results.append(_get_seeded(client))
        except Exception as exc:  # stored for the assertion below
            results.append(exc)

    worker = threading.Thread(target=fetch)
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    client.close()
    close_seconds = time.monotonic() - started
    worker.join()

    # The response arrives about 1 s after the call started, so close()
    # returns about 0.7 s after it was called when it waits for the call.
    assert close_seconds >= 0.4
    assert len(results) == 1
    assert isinstance(results[0], opstatus.ServiceOperationStatus)


def test_unreferenced_client_freed(emulator):
    client = emulator.client()
    _get_seeded(client)
    reference = weakref.ref(client)

    # CPython runs __del__, which frees the C client, when the last
    # reference goes away. An error in __del__ would make pytest warn.
    del client

    assert reference() is None


def test_version_matches_header():
    text = opstatus.version()
    major, minor, patch = (int(part) for part in text.split("."))

    assert major == 0
    assert minor >= 1
    assert patch >= 0
    assert opstatus.__version__ == "0.1.0"
