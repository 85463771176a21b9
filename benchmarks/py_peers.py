"""Timing and memory loops for the Python clients compared in the benchmarks.

Usage:
    py_peers.py seq PEER NAMESPACE NAME OPERATION_ID WARMUP COUNT
    py_peers.py rss PEER NAMESPACE NAME OPERATION_ID FIRST TOTAL
    py_peers.py many NAMESPACE NAME OPERATION_ID OPERATIONS MAX_CONNECTIONS
    py_peers.py profile PEER NAMESPACE NAME OPERATION_ID WARMUP COUNT

PEER is one of:
    requests  a requests.Session (kept-alive connection) and response.json()
    sdk       f5xc-py-substrate's
              http_loadbalancer.get_service_operation_httplb_cache_enabled()
    opstatus  opstatus.Client.get_status()

``profile`` runs the timed calls of ``seq`` under cProfile and prints the
functions with the most time of their own. ``many`` calls
opstatus.Client.get_status_many() once, asking OPERATIONS
times for the same operation; MAX_CONNECTIONS 0 leaves the library default.

The server comes from F5XC_API_URL (base URL without /api), F5XC_API_TOKEN
and F5XC_CACERT. Each mode prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
from collections.abc import Callable
from typing import Any

STATUS_PATH = "/api/cdn/namespaces/{namespace}/http_loadbalancer/get-service-operation-status"


def _settings() -> tuple[str, str, str | None]:
    return (
        os.environ["F5XC_API_URL"],
        os.environ["F5XC_API_TOKEN"],
        os.environ.get("F5XC_CACERT") or None,
    )


def make_requests_call(namespace: str, name: str, op_id: int) -> Callable[[], Any]:
    import requests

    url, token, ca_file = _settings()
    session = requests.Session()
    # requests lets REQUESTS_CA_BUNDLE override Session.verify, so the CA
    # file goes with every request instead.
    verify: str | bool = ca_file if ca_file else True
    session.headers.update({"Authorization": f"APIToken {token}", "Accept": "application/json"})
    endpoint = url + STATUS_PATH.format(namespace=namespace)
    body = {"namespace": namespace, "name": name, "service_op_id": op_id}

    def call() -> Any:
        response = session.post(endpoint, json=body, verify=verify, timeout=30)
        response.raise_for_status()
        return response.json()

    return call


def make_sdk_call(namespace: str, name: str, op_id: int) -> Callable[[], Any]:
    import httpx
    from f5xc_py_substrate import Client

    url, token, ca_file = _settings()
    # The SDK takes an httpx.Client for anything beyond URL and token, such
    # as the CA to trust.
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=ca_file) if ca_file else True
    )
    api = Client(tenant_url=url, token=token, http_client=httpx.Client(verify=verify, timeout=30.0))
    resource = api.http_loadbalancer
    body = {"namespace": namespace, "name": name, "service_op_id": op_id}

    def call() -> Any:
        return resource.get_service_operation_httplb_cache_enabled(namespace, body=body)

    return call


def _opstatus_client() -> Any:
    import opstatus

    url, token, ca_file = _settings()
    return opstatus.Client(api_url=url, api_token=token, ca_file=ca_file)


def make_opstatus_call(namespace: str, name: str, op_id: int) -> Callable[[], Any]:
    client = _opstatus_client()

    def call() -> Any:
        return client.get_status(namespace, name, op_id)

    return call


PEERS: dict[str, Callable[[str, str, int], Callable[[], Any]]] = {
    "requests": make_requests_call,
    "sdk": make_sdk_call,
    "opstatus": make_opstatus_call,
}


def read_rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("VmRSS is missing from /proc/self/status")


def run_seq(call: Callable[[], Any], warmup: int, count: int) -> dict[str, Any]:
    for _ in range(warmup):
        call()
    start = time.perf_counter()
    start_cpu = time.process_time()
    for _ in range(count):
        call()
    return {
        "calls": count,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - start_cpu,
    }


def run_rss(call: Callable[[], Any], first: int, total: int) -> dict[str, Any]:
    start = time.perf_counter()
    for _ in range(first):
        call()
    rss_first = read_rss_kib()
    for _ in range(total - first):
        call()
    return {
        "first_calls": first,
        "rss_first_kib": rss_first,
        "total_calls": total,
        "rss_total_kib": read_rss_kib(),
        "seconds": time.perf_counter() - start,
    }


def run_profile(call: Callable[[], Any], warmup: int, count: int) -> dict[str, Any]:
    import cProfile
    import pstats

    for _ in range(warmup):
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    rows = []
    entries = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_primitive, calls, own, cumulative, _callers) in entries.items():
        # Only the file name, so that no path of this machine is printed.
        location = os.path.basename(filename) if filename != "~" else ""
        rows.append({
            "function": f"{location}:{function}" if location else function,
            "calls_per_call": calls / count,
            "own_us_per_call": own / count * 1e6,
            "cumulative_us_per_call": cumulative / count * 1e6,
        })
    rows.sort(key=lambda row: row["own_us_per_call"], reverse=True)
    total = sum(row["own_us_per_call"] for row in rows)
    return {"calls": count, "profiled_us_per_call": total, "top": rows[:15]}


def run_many(namespace: str, name: str, op_id: int, operations: int, max_connections: int) -> dict[str, Any]:
    client = _opstatus_client()
    if not hasattr(client, "get_status_many"):
        return {"unavailable": "opstatus.Client has no get_status_many"}
    refs = [(namespace, name, op_id)] * operations
    start = time.perf_counter()
    outcomes = client.get_status_many(refs, max_connections=max_connections or None)
    seconds = time.perf_counter() - start
    succeeded = sum(1 for outcome in outcomes if outcome.ok)
    return {"operations": operations, "ok": succeeded, "seconds": seconds}


def main(arguments: list[str]) -> int:
    usage = __doc__.split("\n\n")[1]
    modes = {"seq": run_seq, "rss": run_rss, "profile": run_profile}
    if len(arguments) == 7 and arguments[0] in modes and arguments[1] in PEERS:
        mode, peer, namespace, name = arguments[:4]
        op_id, first, second = (int(value) for value in arguments[4:])
        call = PEERS[peer](namespace, name, op_id)
        result = modes[mode](call, first, second)
    elif len(arguments) == 6 and arguments[0] == "many":
        namespace, name = arguments[1:3]
        op_id, operations, max_connections = (int(value) for value in arguments[3:])
        result = run_many(namespace, name, op_id, operations, max_connections)
    else:
        print(usage, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
