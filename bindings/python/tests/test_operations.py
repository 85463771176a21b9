"""Purges, lists, calls on many operations, waits and cancellation against the emulator.

The module's emulator finishes each purge within 1 s (``--op-duration 1``),
and the waits poll every 0.1 to 0.3 s, so that the module stays fast.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import opstatus

NAMESPACE = "demo"
LOAD_BALANCER = "shop-frontend"
CDN_LOAD_BALANCER = "media-cdn"
CDN_KIND = "cdn_loadbalancer"
SEEDED_OP_ID = 101
SITES = 9
# No operation of the emulator has this id.
UNKNOWN_OP_ID = 4_000_000
# More sites than the emulator has, so a wait with it never succeeds.
UNREACHABLE_SITES = SITES + 1
FAST_POLLING = {"initial_delay": 0.1, "max_delay": 0.3}
# How long a cancelled call may take to return, in seconds. The library
# promises about 100 ms.
CANCEL_LIMIT_SECONDS = 1.0
# Extra time allowed beyond a wait's timeout before the test fails.
TIMEOUT_SLACK_SECONDS = 1.0


@pytest.fixture(scope="module")
def fast_emulator(start_emulator):
    """An emulator whose purges finish on every site within 1 s."""
    return start_emulator("--op-duration", "1")


@pytest.fixture
def fast_client(fast_emulator):
    """A client of the fast emulator. Faults, scenarios and the request log are reset around the test."""
    fast_emulator.reset()
    with fast_emulator.client() as created:
        yield created
    fast_emulator.reset()


def _purge(client: opstatus.Client, **target) -> int:
    arguments = {"url": "/index.html", "hard": True, **target}
    return client.purge(NAMESPACE, LOAD_BALANCER, **arguments)


def _purge_paths(emulator) -> list[str]:
    return [entry["path"] for entry in emulator.requests() if "cache-purge" in entry["path"]]


def _sites(status: opstatus.ServiceOperationStatus) -> set[str]:
    return {item.purge.site for item in status.items if item.purge is not None}


# Purge validation


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({"hard": True}, id="no-target"),
        pytest.param({"url": "/x", "pattern": "^/x$", "hard": True}, id="two-targets"),
        pytest.param({"url": "/x", "purge_all": True, "hard": True}, id="url-and-all"),
        pytest.param({"url": "/x"}, id="no-mode"),
        pytest.param({"url": "/x", "hard": True, "soft": True}, id="both-modes"),
        pytest.param({"url": "/x", "hard": False}, id="mode-false"),
        pytest.param({"pattern": "a" * 257, "hard": True}, id="pattern-257-chars"),
        pytest.param({"url": "x", "hard": True}, id="url-without-slash"),
        pytest.param({"hostname": "localhost", "soft": True}, id="hostname-one-label"),
    ],
)
def test_purge_invalid_sends_nothing(fast_client, fast_emulator, arguments):
    with pytest.raises(opstatus.InvalidArgumentError):
        fast_client.purge(NAMESPACE, LOAD_BALANCER, **arguments)

    assert _purge_paths(fast_emulator) == []


def test_purge_wrong_types(fast_client):
    with pytest.raises(TypeError):
        fast_client.purge(NAMESPACE, LOAD_BALANCER, url=b"/x", hard=True)
    with pytest.raises(TypeError):
        fast_client.purge(NAMESPACE, LOAD_BALANCER, url="/x", hard="yes")


def test_purge_pattern_256_chars(fast_client):
    op_id = fast_client.purge(NAMESPACE, LOAD_BALANCER, pattern="a" * 256, soft=True)

    status = fast_client.get_status(NAMESPACE, LOAD_BALANCER, op_id)
    assert len(status.items) == SITES
    assert all(item.purge.regexp == "a" * 256 for item in status.items)
    assert all(item.purge.hard_purge is False for item in status.items)


def test_purge_returns_new_ids(fast_client):
    first = _purge(fast_client)
    second = _purge(fast_client, purge_all=True, url=None)

    assert isinstance(first, int)
    assert second == first + 1


# Waits


def test_purge_wait_succeeds_all_sites(fast_client):
    op_id = _purge(fast_client)
    snapshots: list[opstatus.WaitProgress] = []

    def record(status, progress):
        assert isinstance(status, opstatus.ServiceOperationStatus)
        snapshots.append(progress)

    result = fast_client.wait(
        NAMESPACE, LOAD_BALANCER, op_id, timeout=10, progress=record, **FAST_POLLING
    )

    assert result.outcome is opstatus.WaitOutcome.SUCCEEDED
    assert result.status.summary.state is opstatus.OperationState.SUCCEEDED
    assert result.status.summary.sites == SITES
    assert result.status.summary.succeeded == SITES
    assert len(_sites(result.status)) == SITES
    assert all(item.state is opstatus.OperationState.SUCCEEDED for item in result.status.items)
    assert result.polls >= 2
    assert 0 < result.elapsed < 10
    assert [snapshot.polls for snapshot in snapshots] == list(range(1, result.polls + 1))
    assert snapshots[-1].outcome == "succeeded"
    assert all(snapshot.outcome == "pending" for snapshot in snapshots[:-1])


def test_wait_fail_site_failed(fast_client, fast_emulator):
    fast_emulator.set_next_purge(fail_site=True, duration_s=1)
    op_id = _purge(fast_client)

    result = fast_client.wait(NAMESPACE, LOAD_BALANCER, op_id, timeout=10, **FAST_POLLING)

    assert result.outcome is opstatus.WaitOutcome.FAILED
    assert result.status.summary.state is opstatus.OperationState.FAILED
    assert result.status.summary.failed == 1
    failed = [item for item in result.status.items if item.status == "failed"]
    assert len(failed) == 1
    assert failed[0].state is opstatus.OperationState.FAILED
    assert failed[0].purge.bytes_not_purged > 0


def test_wait_keep_going_shows_every_site(fast_client, fast_emulator):
    fast_emulator.set_next_purge(fail_site=True, duration_s=1)
    op_id = _purge(fast_client)

    result = fast_client.wait(
        NAMESPACE, LOAD_BALANCER, op_id, timeout=10, stop_on_failure=False, **FAST_POLLING
    )

    assert result.outcome is opstatus.WaitOutcome.FAILED
    assert result.status.summary.pending == 0
    assert result.status.summary.failed == 1
    assert result.status.summary.succeeded == SITES - 1


def test_wait_late_sites_expected_sites(fast_client, fast_emulator):
    fast_emulator.set_next_purge(late_sites=True, duration_s=1)
    op_id = _purge(fast_client)

    result = fast_client.wait(
        NAMESPACE, LOAD_BALANCER, op_id, timeout=10, expected_sites=SITES, **FAST_POLLING
    )

    assert result.outcome is opstatus.WaitOutcome.SUCCEEDED
    assert result.status.summary.sites == SITES
    assert result.status.summary.succeeded == SITES
    assert len(_sites(result.status)) == SITES


def test_wait_late_sites_settle(fast_client, fast_emulator):
    # The early sites finish by 0.5 s and the late ones appear at 0.65 s, so
    # a settle time of 1 s outlasts the gap.
    fast_emulator.set_next_purge(late_sites=True, duration_s=1)
    op_id = _purge(fast_client)

    result = fast_client.wait(
        NAMESPACE, LOAD_BALANCER, op_id, timeout=10, settle=1.0, **FAST_POLLING
    )

    assert result.outcome is opstatus.WaitOutcome.SUCCEEDED
    assert result.status.summary.sites == SITES
    assert len(_sites(result.status)) == SITES
    assert result.elapsed >= 1.0


def test_wait_timeout_returns_last_status(fast_client):
    started = time.monotonic()
    result = fast_client.wait(
        NAMESPACE,
        LOAD_BALANCER,
        SEEDED_OP_ID,
        timeout=1.0,
        expected_sites=UNREACHABLE_SITES,
        initial_delay=0.2,
        max_delay=0.2,
    )
    duration = time.monotonic() - started

    assert result.outcome is opstatus.WaitOutcome.TIMEOUT
    assert result.status is not None
    assert len(result.status.items) == SITES
    assert result.polls >= 2
    assert 1.0 <= duration < 1.0 + TIMEOUT_SLACK_SECONDS
    assert result.elapsed == pytest.approx(1.0, abs=TIMEOUT_SLACK_SECONDS)


def test_wait_timeout_before_first_poll(fast_client, fast_emulator):
    fast_emulator.add_faults({"kind": "delay", "seconds": 5})

    started = time.monotonic()
    result = fast_client.wait(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID, timeout=0.5)
    duration = time.monotonic() - started

    assert result.outcome is opstatus.WaitOutcome.TIMEOUT
    assert result.status is None
    assert result.polls == 0
    assert duration < 0.5 + TIMEOUT_SLACK_SECONDS


def test_wait_cancel_from_progress(fast_client):
    def stop_at_second_poll(status, progress):
        return progress.polls < 2

    result = fast_client.wait(
        NAMESPACE,
        LOAD_BALANCER,
        SEEDED_OP_ID,
        expected_sites=UNREACHABLE_SITES,
        progress=stop_at_second_poll,
        **FAST_POLLING,
    )

    assert result.outcome is opstatus.WaitOutcome.CANCELLED
    assert result.polls == 2
    assert len(result.status.items) == SITES


def test_wait_progress_none_continues(fast_client):
    op_id = _purge(fast_client)
    calls = []

    result = fast_client.wait(
        NAMESPACE,
        LOAD_BALANCER,
        op_id,
        timeout=10,
        progress=lambda status, progress: calls.append(progress.polls),
        **FAST_POLLING,
    )

    assert result.outcome is opstatus.WaitOutcome.SUCCEEDED
    assert len(calls) == result.polls


def test_wait_progress_exception_reraised(fast_client):
    failure = ValueError("raised by the progress callback")

    def fail(status, progress):
        raise failure

    started = time.monotonic()
    with pytest.raises(ValueError) as caught:
        fast_client.wait(
            NAMESPACE,
            LOAD_BALANCER,
            SEEDED_OP_ID,
            expected_sites=UNREACHABLE_SITES,
            timeout=30,
            progress=fail,
        )

    assert caught.value is failure
    assert time.monotonic() - started < CANCEL_LIMIT_SECONDS


def test_wait_cancel_from_thread(fast_client):
    cancelled_at: list[float] = []

    def cancel() -> None:
        cancelled_at.append(time.monotonic())
        fast_client.cancel()

    timer = threading.Timer(0.5, cancel)
    timer.start()
    try:
        # The first poll returns at once, so the wait is asleep for 5 s
        # when the cancel arrives.
        result = fast_client.wait(
            NAMESPACE,
            LOAD_BALANCER,
            SEEDED_OP_ID,
            expected_sites=UNREACHABLE_SITES,
            initial_delay=5,
            timeout=30,
        )
        returned_at = time.monotonic()
    finally:
        timer.cancel()

    assert result.outcome is opstatus.WaitOutcome.CANCELLED
    assert result.polls == 1
    assert result.status is not None
    assert len(cancelled_at) == 1
    assert returned_at - cancelled_at[0] < CANCEL_LIMIT_SECONDS


def test_wait_cancel_during_request(fast_client, fast_emulator):
    fast_emulator.add_faults({"kind": "delay", "seconds": 10})
    cancelled_at: list[float] = []

    def cancel() -> None:
        cancelled_at.append(time.monotonic())
        fast_client.cancel()

    timer = threading.Timer(0.5, cancel)
    timer.start()
    try:
        result = fast_client.wait(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID, timeout=30)
        returned_at = time.monotonic()
    finally:
        timer.cancel()

    assert result.outcome is opstatus.WaitOutcome.CANCELLED
    assert result.status is None
    assert returned_at - cancelled_at[0] < CANCEL_LIMIT_SECONDS


def test_wait_after_cancel_unaffected(fast_client):
    fast_client.cancel()

    result = fast_client.wait(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID, timeout=10, **FAST_POLLING)

    assert result.outcome is opstatus.WaitOutcome.SUCCEEDED


def test_wait_unknown_id_raises(fast_client):
    with pytest.raises(opstatus.NotFoundError):
        fast_client.wait(NAMESPACE, LOAD_BALANCER, UNKNOWN_OP_ID, timeout=10)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param({"growth": 0.5}, opstatus.InvalidArgumentError, id="growth-below-1"),
        pytest.param({"growth": float("nan")}, opstatus.InvalidArgumentError, id="growth-nan"),
        pytest.param({"timeout": -1}, opstatus.InvalidArgumentError, id="negative-timeout"),
        pytest.param({"settle": float("inf")}, opstatus.InvalidArgumentError, id="infinite-settle"),
        pytest.param(
            {"initial_delay": 2, "max_delay": 1},
            opstatus.InvalidArgumentError,
            id="max-below-initial",
        ),
        pytest.param({"expected_sites": 0}, opstatus.InvalidArgumentError, id="no-sites"),
        pytest.param({"initial_delay": "1"}, TypeError, id="delay-str"),
        pytest.param({"success_statuses": "done"}, TypeError, id="statuses-str"),
        pytest.param({"stop_on_failure": 1}, TypeError, id="stop-on-failure-int"),
    ],
)
def test_wait_invalid_options(fast_client, fast_emulator, options, error):
    with pytest.raises(error):
        fast_client.wait(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID, **options)

    assert fast_emulator.requests() == []


def test_wait_custom_status_words(fast_client):
    # With "success" counted as a failure word, the seeded operation fails.
    result = fast_client.wait(
        NAMESPACE,
        LOAD_BALANCER,
        SEEDED_OP_ID,
        success_statuses=["done"],
        failure_statuses=["success"],
        timeout=10,
    )

    assert result.outcome is opstatus.WaitOutcome.FAILED
    assert result.status.summary.failed == SITES


def test_cancel_closed_client_does_nothing(fast_emulator):
    client = fast_emulator.client()
    client.close()

    client.cancel()

    assert client.closed


# Lists


def test_list_lastn_returns_new_purges(fast_client):
    created = [_purge(fast_client) for _ in range(3)]

    records = fast_client.list_operations(NAMESPACE, LOAD_BALANCER, lastn=3)

    assert [record.service_op_id for record in records] == created[::-1]
    for record in records:
        assert isinstance(record, opstatus.OperationRecord)
        assert record.svc_version == 7
        assert record.created_time.tzinfo is not None
        assert record.modified_time.tzinfo is not None


def test_list_time_range_returns_new_purges(fast_client):
    # The emulator stores times in milliseconds, so the range is widened by
    # a few milliseconds on both sides.
    start = datetime.now(timezone.utc) - timedelta(milliseconds=5)
    created = {_purge(fast_client) for _ in range(2)}
    finish = datetime.now(timezone.utc) + timedelta(milliseconds=5)

    by_datetime = fast_client.list_operations(
        NAMESPACE, LOAD_BALANCER, start=start, finish=finish
    )
    by_number = fast_client.list_operations(
        NAMESPACE, LOAD_BALANCER, start=start.timestamp(), finish=finish.timestamp()
    )
    by_text = fast_client.list_operations(
        NAMESPACE,
        LOAD_BALANCER,
        start=start.isoformat(timespec="milliseconds"),
        finish=finish.isoformat(timespec="milliseconds"),
    )
    until_now = fast_client.list_operations(NAMESPACE, LOAD_BALANCER, start=start)

    assert {record.service_op_id for record in by_datetime} == created
    assert {record.service_op_id for record in by_number} == created
    assert {record.service_op_id for record in by_text} == created
    assert {record.service_op_id for record in until_now} == created


def test_list_json_fractional_unix_time(fast_client):
    # opstatus.h allows each time_range end as a unix timestamp given as a
    # number. The list API of the Python package sends floats as text, so
    # this calls the C function with the JSON request directly.
    request = {
        "namespace": NAMESPACE,
        "name": LOAD_BALANCER,
        "time_range": {"start_time": 1.5, "finish_time": 2.5},
    }

    result = fast_client._call_json(opstatus._ffi.lib.opstatus_list_json, request)

    assert result["items"] == []


def test_list_without_name_covers_namespace(fast_client):
    op_id = _purge(fast_client)

    records = fast_client.list_operations(NAMESPACE, lastn=1)

    assert [record.service_op_id for record in records] == [op_id]


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({}, id="no-selection"),
        pytest.param({"lastn": 1, "start": 0}, id="lastn-and-start"),
        pytest.param({"lastn": 1, "finish": 0}, id="lastn-and-finish"),
        pytest.param({"start": datetime(2024, 1, 1)}, id="naive-datetime"),
        pytest.param({"start": float("nan")}, id="nan-start"),
        pytest.param({"lastn": 0}, id="lastn-zero"),
        pytest.param({"start": 20, "finish": 10}, id="start-after-finish"),
    ],
)
def test_list_invalid_sends_nothing(fast_client, fast_emulator, arguments):
    with pytest.raises(opstatus.InvalidArgumentError):
        fast_client.list_operations(NAMESPACE, LOAD_BALANCER, **arguments)

    assert fast_emulator.requests() == []


def test_list_wrong_types(fast_client):
    with pytest.raises(TypeError):
        fast_client.list_operations(NAMESPACE, LOAD_BALANCER, start=True)
    with pytest.raises(TypeError):
        fast_client.list_operations(NAMESPACE, LOAD_BALANCER, lastn="3")


# Calls on many operations


def test_get_status_many_twenty_and_unknown(fast_client):
    created = [_purge(fast_client) for _ in range(20)]
    # The three accepted forms of an entry, mixed.
    requests: list = []
    for index, op_id in enumerate(created):
        if index % 3 == 0:
            requests.append(opstatus.OperationRef(NAMESPACE, LOAD_BALANCER, op_id))
        elif index % 3 == 1:
            requests.append((NAMESPACE, LOAD_BALANCER, op_id))
        else:
            requests.append(
                {"namespace": NAMESPACE, "name": LOAD_BALANCER, "service_op_id": op_id}
            )
    requests.append((NAMESPACE, LOAD_BALANCER, UNKNOWN_OP_ID))

    outcomes = fast_client.get_status_many(requests, max_connections=4)

    assert len(outcomes) == 21
    for op_id, outcome in zip(created, outcomes[:20]):
        assert outcome.ok
        assert outcome.error is None
        assert outcome.request == opstatus.OperationRef(NAMESPACE, LOAD_BALANCER, op_id)
        assert {item.service_op_id for item in outcome.status.items} == {op_id}
    unknown = outcomes[20]
    assert not unknown.ok
    assert unknown.status is None
    assert isinstance(unknown.error, opstatus.NotFoundError)
    assert unknown.error.http_status == 404
    assert unknown.request.service_op_id == UNKNOWN_OP_ID


def test_get_status_many_invalid_entry(fast_client):
    outcomes = fast_client.get_status_many(
        [(NAMESPACE, LOAD_BALANCER, -1), (NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)]
    )

    assert isinstance(outcomes[0].error, opstatus.InvalidArgumentError)
    assert outcomes[1].ok
    assert len(outcomes[1].status.items) == SITES


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param("demo/shop-frontend/101", id="str"),
        pytest.param((NAMESPACE, LOAD_BALANCER), id="short-tuple"),
        pytest.param((NAMESPACE, LOAD_BALANCER, "101"), id="id-str"),
        pytest.param({"namespace": NAMESPACE, "name": LOAD_BALANCER}, id="missing-key"),
        pytest.param(
            {"namespace": NAMESPACE, "name": LOAD_BALANCER, "service_op_id": 1, "id": 1},
            id="unknown-key",
        ),
    ],
)
def test_get_status_many_malformed_entry(fast_client, fast_emulator, entry):
    with pytest.raises(TypeError):
        fast_client.get_status_many([entry])

    assert fast_emulator.requests() == []


def test_get_status_many_max_connections_range(fast_client):
    with pytest.raises(opstatus.InvalidArgumentError):
        fast_client.get_status_many([(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)], max_connections=0)


def test_get_status_many_cancel_raises(fast_client, fast_emulator):
    fast_emulator.add_faults({"kind": "delay", "seconds": 10})
    timer = threading.Timer(0.5, fast_client.cancel)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(opstatus.CancelledError):
            fast_client.get_status_many([(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)])
    finally:
        timer.cancel()

    assert time.monotonic() - started < 0.5 + CANCEL_LIMIT_SECONDS


def test_wait_many_unknown_id(fast_client):
    op_id = _purge(fast_client)

    result = fast_client.wait_many(
        [(NAMESPACE, LOAD_BALANCER, op_id), (NAMESPACE, LOAD_BALANCER, UNKNOWN_OP_ID)],
        timeout=10,
        **FAST_POLLING,
    )

    assert result.outcome is opstatus.WaitOutcome.FAILED
    found, unknown = result.operations
    assert found.outcome is opstatus.WaitOutcome.SUCCEEDED
    assert found.error is None
    assert found.status.summary.succeeded == SITES
    assert unknown.outcome is opstatus.WaitOutcome.ERROR
    assert unknown.status is None
    assert isinstance(unknown.error, opstatus.NotFoundError)
    assert unknown.request == opstatus.OperationRef(NAMESPACE, LOAD_BALANCER, UNKNOWN_OP_ID)


def test_wait_many_all_succeed_with_progress(fast_client):
    created = [_purge(fast_client) for _ in range(3)]
    snapshots: list[opstatus.WaitManyResult] = []

    result = fast_client.wait_many(
        [(NAMESPACE, LOAD_BALANCER, op_id) for op_id in created],
        timeout=10,
        progress=snapshots.append,
        **FAST_POLLING,
    )

    assert result.outcome is opstatus.WaitOutcome.SUCCEEDED
    assert [entry.request.service_op_id for entry in result.operations] == created
    assert all(entry.outcome is opstatus.WaitOutcome.SUCCEEDED for entry in result.operations)
    assert snapshots
    assert snapshots[0].outcome is opstatus.WaitOutcome.PENDING
    assert [snapshot.polls for snapshot in snapshots] == list(range(1, len(snapshots) + 1))


def test_wait_many_timeout_keeps_statuses(fast_client):
    started = time.monotonic()
    result = fast_client.wait_many(
        [(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)],
        timeout=0.8,
        expected_sites=UNREACHABLE_SITES,
        **FAST_POLLING,
    )

    assert result.outcome is opstatus.WaitOutcome.TIMEOUT
    assert result.operations[0].outcome is opstatus.WaitOutcome.PENDING
    assert len(result.operations[0].status.items) == SITES
    assert time.monotonic() - started < 0.8 + TIMEOUT_SLACK_SECONDS


def test_wait_many_timeout_during_slow_poll(fast_client, fast_emulator):
    # A poll that is still running when the timeout passes must be cut
    # short, as wait() does, instead of running to the client's deadline_ms.
    fast_emulator.add_faults({"kind": "delay", "seconds": 4})

    started = time.monotonic()
    result = fast_client.wait_many([(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)], timeout=0.5)
    duration = time.monotonic() - started

    assert result.outcome is opstatus.WaitOutcome.TIMEOUT
    assert duration < 0.5 + TIMEOUT_SLACK_SECONDS


def test_wait_many_cancel_from_thread(fast_client):
    cancelled_at: list[float] = []

    def cancel() -> None:
        cancelled_at.append(time.monotonic())
        fast_client.cancel()

    timer = threading.Timer(0.5, cancel)
    timer.start()
    try:
        result = fast_client.wait_many(
            [(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)],
            expected_sites=UNREACHABLE_SITES,
            initial_delay=5,
            timeout=30,
        )
        returned_at = time.monotonic()
    finally:
        timer.cancel()

    assert result.outcome is opstatus.WaitOutcome.CANCELLED
    assert result.operations[0].outcome is opstatus.WaitOutcome.PENDING
    assert returned_at - cancelled_at[0] < CANCEL_LIMIT_SECONDS


def test_wait_many_progress_false_cancels(fast_client):
    result = fast_client.wait_many(
        [(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)],
        expected_sites=UNREACHABLE_SITES,
        progress=lambda snapshot: False,
        **FAST_POLLING,
    )

    assert result.outcome is opstatus.WaitOutcome.CANCELLED
    assert result.polls == 1


def test_wait_many_progress_exception_reraised(fast_client):
    def fail(snapshot):
        raise KeyError("raised by the progress callback")

    with pytest.raises(KeyError):
        fast_client.wait_many(
            [(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)],
            expected_sites=UNREACHABLE_SITES,
            progress=fail,
        )


# Load balancer kinds


def test_cdn_kind_purge_wait_list(fast_client):
    op_id = fast_client.purge(
        NAMESPACE, CDN_LOAD_BALANCER, url="/video.mp4", soft=True, kind=CDN_KIND
    )

    result = fast_client.wait(
        NAMESPACE, CDN_LOAD_BALANCER, op_id, kind=CDN_KIND, timeout=10, **FAST_POLLING
    )
    status = fast_client.get_status(NAMESPACE, CDN_LOAD_BALANCER, op_id, kind=CDN_KIND)
    records = fast_client.list_operations(NAMESPACE, CDN_LOAD_BALANCER, lastn=1, kind=CDN_KIND)
    outcomes = fast_client.get_status_many(
        [opstatus.OperationRef(NAMESPACE, CDN_LOAD_BALANCER, op_id, CDN_KIND)]
    )

    assert result.outcome is opstatus.WaitOutcome.SUCCEEDED
    assert len(status.items) == SITES
    assert all(item.purge.hard_purge is False for item in status.items)
    assert [record.service_op_id for record in records] == [op_id]
    assert records[0].svc_version == 12
    assert outcomes[0].ok


def test_cdn_kind_required(fast_client):
    op_id = fast_client.purge(
        NAMESPACE, CDN_LOAD_BALANCER, url="/video.mp4", hard=True, kind=CDN_KIND
    )

    # Without the kind, the client's default http_loadbalancer is used, and
    # media-cdn is not one.
    with pytest.raises(opstatus.NotFoundError):
        fast_client.get_status(NAMESPACE, CDN_LOAD_BALANCER, op_id)
    with pytest.raises(opstatus.InvalidArgumentError):
        fast_client.get_status(NAMESPACE, CDN_LOAD_BALANCER, op_id, kind="tcp_loadbalancer")


def test_operation_ref_type_checks():
    with pytest.raises(TypeError):
        opstatus.OperationRef(NAMESPACE, LOAD_BALANCER, True)
    with pytest.raises(TypeError):
        opstatus.OperationRef(NAMESPACE, None, 1)
    with pytest.raises(TypeError):
        opstatus.OperationRef(NAMESPACE, LOAD_BALANCER, 1, kind=7)
