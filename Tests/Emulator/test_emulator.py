"""Self-test of the F5 XC emulator.

Each test talks to emulator.py running as a subprocess on a free loopback port,
through http.client with an SSL context that trusts the emulator's per-run CA.
Run with: python3 -m pytest -q Tests/Emulator/test_emulator.py
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import secrets
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

EMULATOR = Path(__file__).resolve().parent / "emulator.py"
TOKEN = "test-" + secrets.token_hex(16)
P12_PASSWORD = secrets.token_hex(12)
OP_DURATION_S = 1.5
# Extra seconds allowed on top of a purge duration for polling and scheduling.
TIMING_SLACK_S = 0.75

STATUS_PATH = "/api/cdn/namespaces/demo/http_loadbalancer/get-service-operation-status"
LIST_PATH = "/api/cdn/namespaces/demo/http_loadbalancer/list-service-operations-status"
PURGE_PATH = "/api/cdn/namespaces/demo/http_loadbalancer/shop-frontend/cache-purge"
SITES = {
    "ves-io-pa4-par",
    "ves-io-ny8-nyc",
    "ves-io-sg3-sin",
    "ves-io-fr4-fra",
    "ves-io-ld6-lon",
    "ves-io-dal3-dal",
    "ves-io-sy5-syd",
    "ves-io-tk2-tyo",
    "ves-io-sv10-sjc",
}
TIME_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@dataclasses.dataclass
class Result:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclasses.dataclass
class Emulator:
    process: subprocess.Popen
    info: dict
    state_dir: Path
    stderr_path: Path

    @property
    def port(self) -> int:
        return int(self.info["url"].rsplit(":", 1)[1])

    def ssl_context(self, client_certificate: bool = False) -> ssl.SSLContext | None:
        if self.info["ca_file"] is None:
            return None
        context = ssl.create_default_context(cafile=self.info["ca_file"])
        if client_certificate:
            context.load_cert_chain(self.info["client_cert"], self.info["client_key"])
        return context

    def connect(self, timeout: float = 10, client_certificate: bool = False) -> http.client.HTTPConnection:
        context = self.ssl_context(client_certificate)
        if context is None:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=context)

    def request(self, method: str, path: str, body: object = None, token: str | None = TOKEN, **options) -> Result:
        connection = self.connect(timeout=options.pop("timeout", 10), client_certificate=options.pop("client_certificate", False))
        try:
            return send(connection, method, path, body, token)
        finally:
            connection.close()

    def api(self, path: str, body: object, token: str | None = TOKEN) -> Result:
        return self.request("POST", path, body, token)

    def control(self, method: str, name: str, body: object = None) -> object:
        result = self.request(method, f"/_emulator/{name}", body, token=None)
        assert result.status == 200, result.text()
        return result.json()


def send(connection: http.client.HTTPConnection, method: str, path: str, body: object, token: str | None) -> Result:
    """Send one request on `connection` and read the whole response."""
    headers = {}
    if token is not None:
        headers["Authorization"] = f"APIToken {token}"
    payload = None
    if isinstance(body, bytes):
        payload = body
    elif body is not None:
        payload = json.dumps(body).encode("utf-8")
    if payload is not None:
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse()
    data = response.read()
    return Result(response.status, {name.lower(): value for name, value in response.getheaders()}, data)


def start_emulator(state_dir: Path, *arguments: str, env: dict[str, str] | None = None) -> Emulator:
    """Start emulator.py and wait for its ready line."""
    state_dir.mkdir(parents=True, exist_ok=True)
    stderr_path = state_dir / "stderr.log"
    if env is None:
        env = dict(os.environ, OPSTATUS_EMULATOR_TOKEN=TOKEN)
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(EMULATOR), "--port", "0", "--state-dir", str(state_dir), *arguments],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        )
    readable, _, _ = select.select([process.stdout], [], [], 20)
    line = process.stdout.readline() if readable else ""
    if not line:
        process.kill()
        process.wait()
        pytest.fail(f"emulator did not print its ready line; stderr:\n{stderr_path.read_text()}")
    return Emulator(process, json.loads(line), state_dir, stderr_path)


def stop_emulator(emulator: Emulator, signal_number: int = signal.SIGTERM) -> int:
    emulator.process.send_signal(signal_number)
    try:
        return emulator.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        emulator.process.kill()
        emulator.process.wait()
        pytest.fail("emulator did not exit within 10 s of the stop signal")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory):
    running = start_emulator(tmp_path_factory.mktemp("emulator"), "--op-duration", str(OP_DURATION_S))
    yield running
    exit_code = stop_emulator(running)
    assert exit_code == 0
    assert TOKEN not in running.stderr_path.read_text()


@pytest.fixture(autouse=True)
def clean_emulator(emulator: Emulator) -> None:
    emulator.control("POST", "reset")


def status_request(service_op_id: object, name: str = "shop-frontend", namespace: str = "demo") -> dict:
    return {"namespace": namespace, "name": name, "service_op_id": service_op_id}


def purge(emulator: Emulator, body: dict, path: str = PURGE_PATH) -> int:
    result = emulator.api(path, body)
    assert result.status == 200, result.text()
    purge_request_id = result.json()["purge_request_id"]
    assert type(purge_request_id) is int
    return purge_request_id


def status_items(emulator: Emulator, service_op_id: int) -> list[dict]:
    result = emulator.api(STATUS_PATH, status_request(service_op_id))
    assert result.status == 200, result.text()
    return result.json()["items"]


def wait_until_finished(emulator: Emulator, service_op_id: int, timeout_s: float) -> tuple[list[list[dict]], float]:
    """Poll the status every 50 ms until 9 sites report a final status. Return every snapshot and the time taken."""
    started = time.monotonic()
    snapshots = []
    while time.monotonic() - started < timeout_s:
        items = status_items(emulator, service_op_id)
        snapshots.append(items)
        if len(items) == len(SITES) and all(item["status"] != "in_progress" for item in items):
            return snapshots, time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"operation {service_op_id} did not finish within {timeout_s} s; last items: {snapshots[-1]}")


# Status of the seeded operation.


def test_seeded_operation_status_shape(emulator: Emulator) -> None:
    result = emulator.api(STATUS_PATH, status_request(101))
    assert result.status == 200
    assert result.headers["content-type"] == "application/json"
    assert int(result.headers["content-length"]) == len(result.body)
    payload = result.json()
    assert set(payload) == {"items"}
    items = payload["items"]
    assert {item["purge"]["site"] for item in items} == SITES
    assert len(items) == len(SITES)
    for item in items:
        assert set(item) == {"service_op_id", "status", "purge"}
        assert type(item["service_op_id"]) is int
        assert item["service_op_id"] == 101
        assert item["status"] == "success"
        purge_item = item["purge"]
        expected_fields = {"site", "bytes_purged", "bytes_not_purged", "hard_purge", "regexp", "start_time", "finish_time", "purge_time"}
        assert set(purge_item) == expected_fields
        assert re.fullmatch(r"[0-9]+", purge_item["bytes_purged"])
        assert purge_item["bytes_not_purged"] == "0"
        assert type(purge_item["hard_purge"]) is bool
        for field in ("start_time", "finish_time", "purge_time"):
            assert TIME_FORMAT.fullmatch(purge_item[field]), purge_item[field]
        assert purge_item["start_time"] < purge_item["finish_time"]
        assert purge_item["finish_time"] < time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    assert any(int(item["purge"]["bytes_purged"]) > 2**32 for item in items)


def test_status_accepts_decimal_string_id(emulator: Emulator) -> None:
    result = emulator.api(STATUS_PATH, status_request("101"))
    assert result.status == 200
    assert len(result.json()["items"]) == len(SITES)


# Authentication.


@pytest.mark.parametrize("token", [None, "wrong-token", ""], ids=["missing", "wrong", "empty"])
def test_api_rejects_bad_token(emulator: Emulator, token: str | None) -> None:
    result = emulator.api(STATUS_PATH, status_request(101), token=token)
    assert result.status == 401
    assert result.headers["content-type"].startswith("text/plain")
    assert "APIToken" in result.text()


def test_api_rejects_other_auth_scheme(emulator: Emulator) -> None:
    connection = emulator.connect()
    connection.request("POST", STATUS_PATH, body=json.dumps(status_request(101)), headers={"Authorization": f"Bearer {TOKEN}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 401


def test_request_log_redacts_token(emulator: Emulator) -> None:
    emulator.api(STATUS_PATH, status_request(101))
    emulator.api(STATUS_PATH, status_request(101), token="wrong-token")
    entries = emulator.control("GET", "requests")
    assert len(entries) == 2
    assert entries[0]["method"] == "POST"
    assert entries[0]["path"] == STATUS_PATH
    assert entries[0]["headers"]["Authorization"] == "<redacted>"
    assert entries[0]["auth_ok"] is True
    assert entries[1]["auth_ok"] is False
    assert json.loads(entries[0]["body"]) == status_request(101)
    assert TIME_FORMAT.fullmatch(entries[0]["time"])
    assert type(entries[0]["connection_id"]) is int
    assert TOKEN not in json.dumps(entries)
    assert "wrong-token" not in json.dumps(entries)


# Not found, method and framing errors.

NOT_FOUND_CASES = [
    ("unknown-namespace", "/api/cdn/namespaces/nope/http_loadbalancer/get-service-operation-status", status_request(101, namespace="nope")),
    ("unknown-load-balancer", STATUS_PATH, status_request(101, name="no-such-lb")),
    ("operation-of-other-lb", STATUS_PATH, status_request(101, name="cdn-1")),
    ("operation-of-other-namespace", "/api/cdn/namespaces/ns1/http_loadbalancer/get-service-operation-status", status_request(101, name="cdn-1", namespace="ns1")),
    ("operation-of-other-kind", "/api/cdn/namespaces/demo/cdn_loadbalancer/get-service-operation-status", status_request(101, name="media-cdn")),
    ("unknown-operation", STATUS_PATH, status_request(4294967295)),
    ("purge-unknown-load-balancer", "/api/cdn/namespaces/demo/http_loadbalancer/no-such-lb/cache-purge", {"url": "/a", "hard_purge": {}}),
    ("purge-lb-of-other-kind", "/api/cdn/namespaces/demo/cdn_loadbalancer/shop-frontend/cache-purge", {"url": "/a", "hard_purge": {}}),
    ("list-unknown-load-balancer", LIST_PATH, {"namespace": "demo", "name": "no-such-lb", "lastn": 1}),
    ("unknown-kind", "/api/cdn/namespaces/demo/tcp_loadbalancer/get-service-operation-status", status_request(101)),
    ("unknown-path", "/api/nothing", status_request(101)),
    ("trailing-slash", STATUS_PATH + "/", status_request(101)),
]


@pytest.mark.parametrize("path,body", [case[1:] for case in NOT_FOUND_CASES], ids=[case[0] for case in NOT_FOUND_CASES])
def test_api_not_found(emulator: Emulator, path: str, body: dict) -> None:
    result = emulator.api(path, body)
    assert result.status == 404
    assert result.headers["content-type"].startswith("text/plain")
    assert result.body


def test_api_rejects_get_with_405(emulator: Emulator) -> None:
    result = emulator.request("GET", STATUS_PATH)
    assert result.status == 405
    assert result.headers["allow"] == "POST"


def test_api_requires_content_length(emulator: Emulator) -> None:
    connection = emulator.connect()
    connection.putrequest("POST", STATUS_PATH)
    connection.putheader("Authorization", f"APIToken {TOKEN}")
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 411


def test_api_rejects_body_above_1_mib(emulator: Emulator) -> None:
    connection = emulator.connect()
    connection.putrequest("POST", STATUS_PATH)
    connection.putheader("Authorization", f"APIToken {TOKEN}")
    connection.putheader("Content-Length", str(2 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 413


# Request validation.

TIME_RANGE = {"start_time": "2020-01-01T00:00:00Z", "finish_time": "2030-01-01T00:00:00Z"}
BAD_REQUEST_CASES = [
    ("body-not-json", STATUS_PATH, b"{not json", "not valid JSON"),
    ("body-not-object", STATUS_PATH, [], "JSON object"),
    ("body-not-utf8", STATUS_PATH, b'{"name": "\xff"}', "UTF-8"),
    ("duplicate-field", STATUS_PATH, b'{"namespace": "demo", "namespace": "demo", "name": "shop-frontend", "service_op_id": 101}', "duplicate"),
    ("unknown-field", STATUS_PATH, dict(status_request(101), extra=1), '"extra"'),
    ("namespace-missing", STATUS_PATH, {"name": "shop-frontend", "service_op_id": 101}, '"namespace"'),
    ("namespace-mismatch", STATUS_PATH, status_request(101, namespace="ns1"), '"namespace"'),
    ("name-missing", STATUS_PATH, {"namespace": "demo", "service_op_id": 101}, '"name"'),
    ("name-not-string", STATUS_PATH, status_request(101, name=5), '"name"'),
    ("op-id-missing", STATUS_PATH, {"namespace": "demo", "name": "shop-frontend"}, '"service_op_id"'),
    ("op-id-boolean", STATUS_PATH, status_request(True), '"service_op_id"'),
    ("op-id-fraction", STATUS_PATH, status_request(1.5), '"service_op_id"'),
    ("op-id-text", STATUS_PATH, status_request("abc"), '"service_op_id"'),
    ("op-id-array", STATUS_PATH, status_request([101]), '"service_op_id"'),
    ("op-id-negative", STATUS_PATH, status_request(-1), '"service_op_id"'),
    ("op-id-above-uint32", STATUS_PATH, status_request(4294967296), '"service_op_id"'),
    ("op-id-string-above-uint32", STATUS_PATH, status_request("4294967296"), '"service_op_id"'),
    ("list-no-selector", LIST_PATH, {"namespace": "demo"}, '"lastn"'),
    ("list-both-selectors", LIST_PATH, {"namespace": "demo", "lastn": 1, "time_range": TIME_RANGE}, '"time_range"'),
    ("list-lastn-negative", LIST_PATH, {"namespace": "demo", "lastn": -3}, '"lastn"'),
    ("list-lastn-boolean", LIST_PATH, {"namespace": "demo", "lastn": True}, '"lastn"'),
    ("list-name-not-string", LIST_PATH, {"namespace": "demo", "name": 7, "lastn": 1}, '"name"'),
    ("list-time-range-not-object", LIST_PATH, {"namespace": "demo", "time_range": "today"}, '"time_range"'),
    ("list-finish-time-missing", LIST_PATH, {"namespace": "demo", "time_range": {"start_time": "1700000000"}}, '"time_range.finish_time"'),
    ("list-start-time-invalid", LIST_PATH, {"namespace": "demo", "time_range": dict(TIME_RANGE, start_time="yesterday")}, '"time_range.start_time"'),
    ("list-time-range-reversed", LIST_PATH, {"namespace": "demo", "time_range": {"start_time": "1800000000", "finish_time": "1700000000"}}, '"time_range.start_time"'),
    ("list-time-range-unknown-field", LIST_PATH, {"namespace": "demo", "time_range": dict(TIME_RANGE, extra="x")}, '"time_range.extra"'),
    ("list-namespace-mismatch", LIST_PATH, {"namespace": "ns1", "lastn": 1}, '"namespace"'),
    ("purge-no-target", PURGE_PATH, {"hard_purge": {}}, '"url"'),
    ("purge-two-targets", PURGE_PATH, {"url": "/a", "hostname": "www.example.com", "hard_purge": {}}, '"hostname"'),
    ("purge-no-mode", PURGE_PATH, {"url": "/a"}, '"hard_purge"'),
    ("purge-both-modes", PURGE_PATH, {"url": "/a", "hard_purge": {}, "soft_purge": {}}, '"soft_purge"'),
    ("purge-mode-not-object", PURGE_PATH, {"url": "/a", "hard_purge": True}, '"hard_purge"'),
    ("purge-pattern-empty", PURGE_PATH, {"pattern": "", "soft_purge": {}}, '"pattern"'),
    ("purge-pattern-257-chars", PURGE_PATH, {"pattern": "a" * 257, "soft_purge": {}}, '"pattern"'),
    ("purge-pattern-invalid-regex", PURGE_PATH, {"pattern": "(unclosed", "soft_purge": {}}, '"pattern"'),
    ("purge-url-not-path", PURGE_PATH, {"url": "https://www.example.com/a", "hard_purge": {}}, '"url"'),
    ("purge-url-not-string", PURGE_PATH, {"url": 5, "hard_purge": {}}, '"url"'),
    ("purge-hostname-invalid", PURGE_PATH, {"hostname": "not a host", "hard_purge": {}}, '"hostname"'),
    ("purge-hostname-single-label", PURGE_PATH, {"hostname": "localhost", "hard_purge": {}}, '"hostname"'),
    ("purge-all-not-empty", PURGE_PATH, {"purge_all": {"x": 1}, "soft_purge": {}}, '"purge_all"'),
    ("purge-unknown-field", PURGE_PATH, {"url": "/a", "hard_purge": {}, "namespace": "demo"}, '"namespace"'),
]


@pytest.mark.parametrize(
    "path,body,expected", [case[1:] for case in BAD_REQUEST_CASES], ids=[case[0] for case in BAD_REQUEST_CASES]
)
def test_api_rejects_invalid_request(emulator: Emulator, path: str, body: object, expected: str) -> None:
    result = emulator.api(path, body)
    assert result.status == 400
    assert result.headers["content-type"].startswith("text/plain")
    assert expected in result.text()


def test_invalid_purge_creates_no_operation(emulator: Emulator) -> None:
    first = purge(emulator, {"url": "/a", "hard_purge": {}})
    assert emulator.api(PURGE_PATH, {"url": "a", "hard_purge": {}}).status == 400
    assert purge(emulator, {"url": "/a", "hard_purge": {}}) == first + 1


@pytest.mark.parametrize(
    "body",
    [
        {"pattern": "p" * 256, "soft_purge": {}},
        {"hostname": "www.example.com", "hard_purge": {}},
        {"purge_all": {}, "soft_purge": {}},
        {"url": "/images/logo.png", "soft_purge": {}, "pattern": None},
    ],
    ids=["pattern-256-chars", "hostname", "purge-all", "null-member-is-unset"],
)
def test_purge_accepts_valid_targets(emulator: Emulator, body: dict) -> None:
    result = emulator.api(PURGE_PATH, body)
    assert result.status == 200, result.text()
    assert type(result.json()["purge_request_id"]) is int


# Purge progress and scenarios.


def test_purge_progresses_to_success(emulator: Emulator) -> None:
    first = purge(emulator, {"url": "/img/logo.png", "hard_purge": {}})
    second = purge(emulator, {"pattern": "^/css/", "soft_purge": {}})
    assert second == first + 1

    items = status_items(emulator, first)
    assert {item["purge"]["site"] for item in items} == SITES
    for item in items:
        assert item["service_op_id"] == first
        assert item["status"] == "in_progress"
        assert "finish_time" not in item["purge"]
        assert "bytes_purged" not in item["purge"]
        assert item["purge"]["hard_purge"] is True
        assert item["purge"]["regexp"] == "/img/logo.png"

    snapshots, elapsed = wait_until_finished(emulator, first, OP_DURATION_S + TIMING_SLACK_S)
    assert elapsed <= OP_DURATION_S + TIMING_SLACK_S
    assert any(0 < sum(item["status"] == "success" for item in items) < len(SITES) for items in snapshots)
    final = snapshots[-1]
    assert all(item["status"] == "success" for item in final)
    finish_times = {item["purge"]["finish_time"] for item in final}
    assert len(finish_times) > 1
    for item in final:
        assert re.fullmatch(r"[0-9]+", item["purge"]["bytes_purged"])
        assert item["purge"]["bytes_not_purged"] == "0"
        assert item["purge"]["start_time"] <= item["purge"]["finish_time"]


def test_fail_site_scenario(emulator: Emulator) -> None:
    assert emulator.control("POST", "scenario", {"fail_site": True}) == {
        "next_purge": {"fail_site": True, "late_sites": False, "duration_s": None}
    }
    operation = purge(emulator, {"hostname": "shop.example.com", "hard_purge": {}})
    assert emulator.control("GET", "scenario")["next_purge"]["fail_site"] is False

    snapshots, _ = wait_until_finished(emulator, operation, OP_DURATION_S + TIMING_SLACK_S)
    final = snapshots[-1]
    failed = [item for item in final if item["status"] == "failed"]
    assert len(failed) == 1
    assert int(failed[0]["purge"]["bytes_not_purged"]) > 0
    assert sum(item["status"] == "success" for item in final) == len(SITES) - 1


def test_late_sites_scenario(emulator: Emulator) -> None:
    emulator.control("POST", "scenario", {"late_sites": True, "duration_s": 2.0})
    operation = purge(emulator, {"purge_all": {}, "soft_purge": {}})

    snapshots, elapsed = wait_until_finished(emulator, operation, 2.0 + TIMING_SLACK_S)
    assert elapsed <= 2.0 + TIMING_SLACK_S
    assert len(snapshots[0]) == len(SITES) - 2
    early_done = [items for items in snapshots if len(items) == len(SITES) - 2 and all(i["status"] == "success" for i in items)]
    assert early_done, "no snapshot showed the early sites finished before the late sites appeared"

    final = snapshots[-1]
    early_sites = {item["purge"]["site"] for item in snapshots[0]}
    late = [item for item in final if item["purge"]["site"] not in early_sites]
    assert len(late) == 2
    last_early_finish = max(item["purge"]["finish_time"] for item in final if item["purge"]["site"] in early_sites)
    for item in late:
        assert item["purge"]["start_time"] > last_early_finish
        assert item["status"] == "success"
    assert [item["purge"]["site"] for item in final[-2:]] == [item["purge"]["site"] for item in late]


# Listing operations.


def list_ids(emulator: Emulator, body: dict, path: str = LIST_PATH) -> list[int]:
    result = emulator.api(path, body)
    assert result.status == 200, result.text()
    items = result.json()["items"]
    for item in items:
        assert set(item) == {"service_op_id", "svc_version", "created_time", "modified_time"}
        assert type(item["svc_version"]) is int
        assert TIME_FORMAT.fullmatch(item["created_time"])
        assert item["created_time"] <= item["modified_time"]
    return [item["service_op_id"] for item in items]


def test_list_by_lastn(emulator: Emulator) -> None:
    first = purge(emulator, {"url": "/a", "hard_purge": {}})
    second = purge(emulator, {"url": "/b", "hard_purge": {}})
    assert list_ids(emulator, {"namespace": "demo", "name": "shop-frontend", "lastn": 2}) == [second, first]
    assert list_ids(emulator, {"namespace": "demo", "name": "shop-frontend", "lastn": "1"}) == [second]
    every_id = list_ids(emulator, {"namespace": "demo", "lastn": 1000})
    assert every_id[0] == second
    assert every_id[-1] == 101


def test_list_by_time_range(emulator: Emulator) -> None:
    operation = purge(emulator, {"url": "/a", "hard_purge": {}})
    now = time.time()
    recent = {
        "start_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
        "finish_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60)),
    }
    recent_ids = list_ids(emulator, {"namespace": "demo", "name": "shop-frontend", "time_range": recent})
    assert operation in recent_ids
    assert 101 not in recent_ids

    last_hour = {"start_time": str(int(now - 3600)), "finish_time": str(int(now + 60))}
    assert 101 in list_ids(emulator, {"namespace": "demo", "name": "shop-frontend", "time_range": last_hour})


def test_list_filters_by_kind(emulator: Emulator) -> None:
    http_operation = purge(emulator, {"url": "/a", "hard_purge": {}})
    cdn_operation = purge(emulator, {"url": "/a", "hard_purge": {}}, path="/api/cdn/namespaces/demo/cdn_loadbalancer/media-cdn/cache-purge")
    cdn_ids = list_ids(emulator, {"namespace": "demo", "lastn": 100}, path="/api/cdn/namespaces/demo/cdn_loadbalancer/list-service-operations-status")
    assert cdn_operation in cdn_ids
    assert http_operation not in cdn_ids
    assert list_ids(emulator, {"namespace": "ns1", "lastn": 5}, path="/api/cdn/namespaces/ns1/cdn_loadbalancer/list-service-operations-status") == []


# Faults.


def add_faults(emulator: Emulator, *faults: dict) -> None:
    emulator.control("POST", "faults", {"faults": list(faults)})


def test_fault_status_with_retry_after(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "status", "status": 503, "body": "maintenance", "headers": {"Retry-After": "1"}})
    result = emulator.api(STATUS_PATH, status_request(101))
    assert result.status == 503
    assert result.headers["retry-after"] == "1"
    assert result.headers["content-type"].startswith("text/plain")
    assert result.text() == "maintenance"
    assert emulator.api(STATUS_PATH, status_request(101)).status == 200


def test_fault_path_filter_and_count(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "status", "status": 429, "path_contains": "cache-purge", "count": 2})
    assert emulator.api(STATUS_PATH, status_request(101)).status == 200
    assert emulator.api(PURGE_PATH, {"url": "/a", "hard_purge": {}}).status == 429
    assert emulator.api(PURGE_PATH, {"url": "/a", "hard_purge": {}}).status == 429
    assert emulator.api(PURGE_PATH, {"url": "/a", "hard_purge": {}}).status == 200
    assert emulator.control("GET", "faults") == {"pending": []}


def test_fault_raw_sends_exact_bytes(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "raw", "status": 200, "content_type": "application/json", "body": '{"items": 7}'})
    result = emulator.api(STATUS_PATH, status_request(101))
    assert result.status == 200
    assert result.headers["content-type"] == "application/json"
    assert result.body == b'{"items": 7}'


def test_fault_raw_without_content_length(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "raw", "body": "[1, 2]", "content_length": False})
    result = emulator.api(STATUS_PATH, status_request(101))
    assert "content-length" not in result.headers
    assert result.body == b"[1, 2]"


def test_fault_redirect(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "redirect", "status": 302, "location": "https://elsewhere.example/api/x"})
    result = emulator.api(STATUS_PATH, status_request(101))
    assert result.status == 302
    assert result.headers["location"] == "https://elsewhere.example/api/x"


def test_fault_api_error_partial_keeps_items(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "api_error", "code": "EPARTIAL", "message": "2 sites did not respond"})
    payload = emulator.api(STATUS_PATH, status_request(101)).json()
    assert payload["error"] == {"code": "EPARTIAL", "message": "2 sites did not respond"}
    assert len(payload["items"]) == len(SITES)


def test_fault_api_error_other_code_drops_items(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "api_error", "code": "EPERMS", "message": "no access"})
    result = emulator.api(STATUS_PATH, status_request(101))
    assert result.status == 200
    assert result.json() == {"error": {"code": "EPERMS", "message": "no access"}}


def test_fault_bodies_that_break_parsing(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "invalid_json"}, {"kind": "wrong_types"}, {"kind": "html"}, {"kind": "huge", "bytes": 300_000})
    invalid = emulator.api(STATUS_PATH, status_request(101))
    with pytest.raises(json.JSONDecodeError):
        invalid.json()
    wrong_types = emulator.api(STATUS_PATH, status_request(101)).json()
    assert isinstance(wrong_types["items"], dict)
    assert wrong_types["items"]["0"]["purge"]["bytes_purged"] is True
    html = emulator.api(STATUS_PATH, status_request(101))
    assert html.headers["content-type"].startswith("text/html")
    huge = emulator.api(STATUS_PATH, status_request(101))
    assert len(huge.body) == 300_000
    assert isinstance(huge.json()["items"], list)


def test_fault_delay_and_slow_body(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "delay", "seconds": 0.5}, {"kind": "slow_body", "seconds": 0.6})
    started = time.monotonic()
    assert emulator.api(STATUS_PATH, status_request(101)).status == 200
    assert time.monotonic() - started >= 0.45
    started = time.monotonic()
    slow = emulator.api(STATUS_PATH, status_request(101))
    assert time.monotonic() - started >= 0.5
    assert len(slow.json()["items"]) == len(SITES)


@pytest.mark.parametrize("kind", ["truncate", "reset"])
def test_fault_cuts_body(emulator: Emulator, kind: str) -> None:
    add_faults(emulator, {"kind": kind})
    with pytest.raises((http.client.IncompleteRead, ConnectionError, ssl.SSLError)):
        emulator.api(STATUS_PATH, status_request(101))
    assert emulator.api(STATUS_PATH, status_request(101)).status == 200


def test_fault_hang_blocks_only_its_connection(emulator: Emulator) -> None:
    add_faults(emulator, {"kind": "hang", "path_contains": "get-service-operation-status"})
    hanging = emulator.connect(timeout=0.5)
    with pytest.raises(TimeoutError):
        send(hanging, "POST", STATUS_PATH, status_request(101), TOKEN)
    assert emulator.api(STATUS_PATH, status_request(101)).status == 200
    hanging.close()


def test_purge_operations_under_faults(emulator: Emulator) -> None:
    first = purge(emulator, {"url": "/a", "hard_purge": {}})
    add_faults(emulator, {"kind": "status", "status": 503}, {"kind": "reset"})
    assert emulator.api(PURGE_PATH, {"url": "/a", "hard_purge": {}}).status == 503
    with pytest.raises((http.client.IncompleteRead, ConnectionError, ssl.SSLError)):
        emulator.api(PURGE_PATH, {"url": "/a", "hard_purge": {}})
    # The status fault replaced the response, while the reset fault cut the response to a processed request.
    assert purge(emulator, {"url": "/a", "hard_purge": {}}) == first + 2


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "explode"},
        {"kind": "status"},
        {"kind": "status", "status": 503, "headers": {"Content-Length": "5"}},
        {"kind": "delay", "seconds": "1"},
        {"kind": "status", "status": 503, "count": 0},
        {"kind": "html", "extra": 1},
    ],
    ids=["unknown-kind", "status-missing", "framing-header", "seconds-not-number", "count-zero", "unknown-field"],
)
def test_control_rejects_invalid_fault(emulator: Emulator, fault: dict) -> None:
    result = emulator.request("POST", "/_emulator/faults", {"faults": [fault]}, token=None)
    assert result.status == 400
    assert "faults[0]" in result.json()["error"]
    assert emulator.control("GET", "faults") == {"pending": []}


# Connections.


def test_keep_alive_reuses_connection(emulator: Emulator) -> None:
    connection = emulator.connect()
    first = send(connection, "POST", STATUS_PATH, status_request(101), TOKEN)
    socket_after_first = connection.sock
    second = send(connection, "POST", STATUS_PATH, status_request(999), TOKEN)
    third = send(connection, "POST", STATUS_PATH, status_request(101), TOKEN)
    assert connection.sock is socket_after_first
    connection.close()
    assert first.status == 200
    assert second.status == 404
    assert third.status == 200
    connection_ids = {entry["connection_id"] for entry in emulator.control("GET", "requests")}
    assert len(connection_ids) == 1


def test_emulator_json_matches_ready_line(emulator: Emulator) -> None:
    written = json.loads((emulator.state_dir / "emulator.json").read_text())
    assert written == emulator.info
    assert list(written) == ["url", "ca_file", "control", "pid"]
    assert written["pid"] == emulator.process.pid
    assert written["control"] == written["url"] + "/_emulator"


# Separate emulator processes.


def test_mtls_requires_client_certificate(tmp_path: Path) -> None:
    env = dict(os.environ, OPSTATUS_EMULATOR_TOKEN=TOKEN, OPSTATUS_EMULATOR_P12_PASSWORD=P12_PASSWORD)
    running = start_emulator(tmp_path / "mtls", "--mtls", env=env)
    try:
        assert list(running.info) == ["url", "ca_file", "control", "pid", "client_cert", "client_key", "client_p12"]
        with pytest.raises((ssl.SSLError, ConnectionError)):
            running.request("POST", STATUS_PATH, status_request(101))
        with_certificate = running.request("POST", STATUS_PATH, status_request(101), token=None, client_certificate=True)
        assert with_certificate.status == 200
        bundle_check = subprocess.run(
            ["openssl", "pkcs12", "-in", running.info["client_p12"], "-noout", "-passin", "env:OPSTATUS_EMULATOR_P12_PASSWORD"],
            env=env,
            capture_output=True,
        )
        assert bundle_check.returncode == 0, bundle_check.stderr
    finally:
        assert stop_emulator(running) == 0
    assert P12_PASSWORD not in running.stderr_path.read_text()


def test_sigterm_with_hanging_request_exits_0(tmp_path: Path) -> None:
    running = start_emulator(tmp_path / "sigterm")
    running.control("POST", "faults", {"faults": [{"kind": "hang"}]})
    hanging = running.connect(timeout=5)
    hanging.request("POST", STATUS_PATH, body=json.dumps(status_request(101)), headers={"Authorization": f"APIToken {TOKEN}"})
    time.sleep(0.3)
    started = time.monotonic()
    assert stop_emulator(running, signal.SIGTERM) == 0
    assert time.monotonic() - started < 5
    hanging.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", running.port), timeout=2)


def test_plain_http_latency_and_sigint(tmp_path: Path) -> None:
    running = start_emulator(tmp_path / "plain", "--plain-http", "--latency-ms", "300")
    try:
        assert running.info["url"].startswith("http://127.0.0.1:")
        assert running.info["ca_file"] is None
        started = time.monotonic()
        assert running.request("POST", STATUS_PATH, status_request(101)).status == 200
        assert time.monotonic() - started >= 0.3
    finally:
        assert stop_emulator(running, signal.SIGINT) == 0


@pytest.mark.parametrize(
    "arguments,environment,expected",
    [
        ([], {}, "OPSTATUS_EMULATOR_TOKEN"),
        (["--mtls"], {"OPSTATUS_EMULATOR_TOKEN": TOKEN}, "OPSTATUS_EMULATOR_P12_PASSWORD"),
    ],
    ids=["token-missing", "p12-password-missing"],
)
def test_startup_without_secret_exits_2(tmp_path: Path, arguments: list[str], environment: dict, expected: str) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPSTATUS_EMULATOR_")}
    env.update(environment)
    completed = subprocess.run(
        [sys.executable, str(EMULATOR), "--port", "0", "--state-dir", str(tmp_path), *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert completed.returncode == 2
    assert expected in completed.stderr
    assert completed.stdout == ""
