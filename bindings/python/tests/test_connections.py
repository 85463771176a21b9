"""Connection reuse, read from the emulator's log of which connection carried each request."""

from __future__ import annotations

import threading

NAMESPACE = "demo"
LOAD_BALANCER = "shop-frontend"
SEEDED_OP_ID = 101
STATUS_PATH = f"/api/cdn/namespaces/{NAMESPACE}/http_loadbalancer/get-service-operation-status"


def _status_connections(emulator) -> list[int]:
    return [entry["connection_id"] for entry in emulator.requests() if entry["path"] == STATUS_PATH]


def test_sequential_calls_one_connection(client, emulator):
    for _ in range(5):
        client.get_status(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)

    connections = _status_connections(emulator)
    assert len(connections) == 5
    assert len(set(connections)) == 1


def test_many_calls_keep_connections(client, emulator):
    operations = [(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)] * 6

    client.get_status_many(operations, max_connections=3)
    first = set(_status_connections(emulator))
    client.get_status_many(operations, max_connections=3)
    second = set(_status_connections(emulator)) - first

    assert 1 <= len(first) <= 3
    # The second call found the first call's connections open and used them.
    assert second == set()


def test_two_threads_two_connections(client, emulator):
    calls_per_thread = 20
    failures: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(calls_per_thread):
                client.get_status(NAMESPACE, LOAD_BALANCER, SEEDED_OP_ID)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    connections = _status_connections(emulator)
    assert len(connections) == 2 * calls_per_thread
    assert 1 <= len(set(connections)) <= 2
