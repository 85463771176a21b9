"""Conversion of the library's JSON result into the model classes."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

import opstatus
from opstatus._models import ServiceOperationStatus, parse_status, parse_time

UTC = timezone.utc


def _summary(**changes: object) -> dict:
    summary = {
        "state": "succeeded",
        "sites": 1,
        "succeeded": 1,
        "failed": 0,
        "pending": 0,
        "bytes_purged": "10",
        "bytes_not_purged": "0",
        "earliest_start": None,
        "latest_finish": None,
    }
    summary.update(changes)
    return summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2019-09-23T12:32:11.733Z",
            datetime(2019, 9, 23, 12, 32, 11, 733000, tzinfo=UTC),
        ),
        ("2019-09-23T12:32:11Z", datetime(2019, 9, 23, 12, 32, 11, tzinfo=UTC)),
        ("2019-09-23t12:32:11z", datetime(2019, 9, 23, 12, 32, 11, tzinfo=UTC)),
        (
            "2019-09-23T12:32:11.123456789Z",
            datetime(2019, 9, 23, 12, 32, 11, 123456, tzinfo=UTC),
        ),
        (
            "2019-09-23T14:32:11+02:00",
            datetime(2019, 9, 23, 14, 32, 11, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("1569241931", datetime(2019, 9, 23, 12, 32, 11, tzinfo=UTC)),
        ("1569241931.733", datetime(2019, 9, 23, 12, 32, 11, 733000, tzinfo=UTC)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        (1569241931, datetime(2019, 9, 23, 12, 32, 11, tzinfo=UTC)),
    ],
)
def test_parse_time_formats(text, expected):
    parsed = parse_time(text)

    assert parsed == expected
    assert parsed.tzinfo is not None


def test_parse_time_offset_same_instant():
    assert parse_time("2019-09-23T14:32:11+02:00") == parse_time("2019-09-23T12:32:11Z")


@pytest.mark.parametrize("value", [None, ""])
def test_parse_time_unset(value):
    assert parse_time(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "2019-09-23",
        "2019-13-01T00:00:00Z",
        "2019-09-23T12:32:11",
        "yesterday",
        "1e9",
        True,
        [],
        "nan",
    ],
)
def test_parse_time_invalid(value):
    with pytest.raises(opstatus.ProtocolError) as caught:
        parse_time(value, "items[0].purge.finish_time")

    assert "items[0].purge.finish_time" in caught.value.message


def test_parse_status_full_item():
    result = {
        "items": [
            {
                "service_op_id": 7,
                "status": "success",
                "purge": {
                    "site": "ny8-nyc",
                    "bytes_purged": "18446744073709551615",
                    "bytes_not_purged": "3",
                    "hard_purge": False,
                    "regexp": "^/img/.*",
                    "start_time": "2019-09-23T12:32:11.733Z",
                    "finish_time": "1569241932",
                    "purge_time": "2019-09-23T12:32:12Z",
                },
            }
        ],
        "error": {"code": "EOK", "message": ""},
        "summary": _summary(
            earliest_start="2019-09-23T12:32:11.733Z", latest_finish="1569241932"
        ),
    }

    status = parse_status(result)

    item = status.items[0]
    assert item.service_op_id == 7
    assert item.status == "success"
    assert item.purge.site == "ny8-nyc"
    assert item.purge.bytes_purged == 2**64 - 1
    assert item.purge.bytes_not_purged == 3
    assert item.purge.hard_purge is False
    assert item.purge.regexp == "^/img/.*"
    assert item.purge.finish_time == datetime(2019, 9, 23, 12, 32, 12, tzinfo=UTC)
    assert status.error_code == "EOK"
    assert status.error_message == ""
    assert status.partial is False
    assert status.summary.state is opstatus.OperationState.SUCCEEDED
    assert status.summary.latest_finish == item.purge.finish_time


def test_parse_status_absent_fields_none():
    status = parse_status(
        {"items": [{"purge": {}}], "summary": _summary(state="pending")}
    )

    purge = status.items[0].purge
    for field in dataclasses.fields(purge):
        assert getattr(purge, field.name) is None, field.name
    assert status.items[0].service_op_id is None
    assert status.items[0].status is None
    assert status.error_code is None
    assert status.error_message is None
    assert status.summary.state is opstatus.OperationState.PENDING


def test_parse_status_no_items():
    status = parse_status({"summary": _summary(state="pending", sites=0, succeeded=0)})

    assert status.items == ()


@pytest.mark.parametrize(
    ("result", "field"),
    [
        ({"items": {}, "summary": _summary()}, "items"),
        ({"items": [], "summary": _summary(state="done")}, "summary.state"),
        ({"items": [], "summary": _summary(bytes_purged="-1")}, "summary.bytes_purged"),
        (
            {"items": [], "summary": _summary(bytes_purged="1.5")},
            "summary.bytes_purged",
        ),
        ({"items": [], "summary": _summary(sites=True)}, "summary.sites"),
        ({"items": [], "summary": _summary(sites=None)}, "summary.sites"),
        ({"items": []}, "summary"),
        (
            {"items": [{"purge": {"bytes_purged": "ten"}}], "summary": _summary()},
            "items[0].purge.bytes_purged",
        ),
        (
            {"items": [{"purge": {"hard_purge": "yes"}}], "summary": _summary()},
            "items[0].purge.hard_purge",
        ),
        (
            {"items": [{"service_op_id": "7"}], "summary": _summary()},
            "items[0].service_op_id",
        ),
        ({"items": [], "error": "EPARTIAL", "summary": _summary()}, "error"),
    ],
)
def test_parse_status_invalid_shape(result, field):
    with pytest.raises(opstatus.ProtocolError) as caught:
        parse_status(result)

    assert f"invalid {field} " in caught.value.message


def test_models_frozen():
    status = parse_status({"items": [{"status": "success"}], "summary": _summary()})

    with pytest.raises(dataclasses.FrozenInstanceError):
        status.summary.sites = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.items[0].status = "failed"  # type: ignore[misc]


def test_models_dataclass_functions():
    status = parse_status({"items": [{"status": "success", "purge": {}}], "summary": _summary()})
    item = status.items[0]

    assert dataclasses.is_dataclass(status)
    assert [field.name for field in dataclasses.fields(item)] == [
        "service_op_id",
        "status",
        "purge",
        "state",
    ]
    assert dataclasses.fields(item)[3].default is None
    assert dataclasses.asdict(item)["purge"]["site"] is None
    assert dataclasses.replace(item, status="failed").status == "failed"
    assert dataclasses.replace(item, status="failed").purge == item.purge
    with pytest.raises(dataclasses.FrozenInstanceError):
        del status.summary.sites


def test_models_status_text_converted_on_access():
    text = json.dumps({"items": [{"status": "success"}], "summary": _summary()}).encode()
    status = ServiceOperationStatus._from_text(text)

    assert status == parse_status(json.loads(text))
    assert status.items[0].status == "success"


def test_models_status_text_invalid_on_access():
    status = ServiceOperationStatus._from_text(b'{"items": {}, "summary": {}}')

    with pytest.raises(opstatus.ProtocolError) as caught:
        status.summary  # noqa: B018
    assert "invalid items " in caught.value.message
    not_json = ServiceOperationStatus._from_text(b"not json")
    with pytest.raises(opstatus.InternalError):
        not_json.items  # noqa: B018
