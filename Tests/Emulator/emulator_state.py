"""Tenant state of the F5 XC emulator.

The state contains the seeded namespaces and load balancers, the cache-purge
operations with their per-site timelines, the fault queue, the scenario for the
next purge and the log of API requests. Request handler threads share one
EmulatorState: methods that touch operations, faults, the scenario or the log
take its lock, and the load balancers never change after start.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import random
import threading
from datetime import datetime, timezone

# Sites that report purge progress, named in the style of F5 XC regional edges.
# Status items list sites that appear at the same time in this order.
SITES = (
    "ves-io-pa4-par",
    "ves-io-ny8-nyc",
    "ves-io-sg3-sin",
    "ves-io-fr4-fra",
    "ves-io-ld6-lon",
    "ves-io-dal3-dal",
    "ves-io-sy5-syd",
    "ves-io-tk2-tyo",
    "ves-io-sv10-sjc",
)

KINDS = ("http_loadbalancer", "cdn_loadbalancer")

STATUS_IN_PROGRESS = "in_progress"
STATUS_SUCCESS = "success"
STATUS_FAILED = "failed"

SEEDED_OPERATION_ID = 101

# Maximum number of entries in the request log. Older entries are dropped first.
REQUEST_LOG_LIMIT = 20_000

# Maximum number of body characters stored per request log entry.
REQUEST_LOG_BODY_LIMIT = 64 * 1024

# Fractions of the operation duration at which sites finish. Without late sites
# the finish times spread over FINISH_WINDOW. With late sites the other sites
# finish inside EARLY_FINISH_WINDOW, and the two late sites appear at
# LATE_APPEAR_AT and finish at LATE_FINISH_AT, so they show up only after every
# other site already reports its final status.
FINISH_WINDOW = (0.2, 0.95)
EARLY_FINISH_WINDOW = (0.15, 0.5)
LATE_APPEAR_AT = (0.65, 0.7)
LATE_FINISH_AT = (0.85, 0.95)


def format_time(epoch_seconds: float) -> str:
    """Format a Unix time as RFC 3339 in UTC with milliseconds, e.g. 2019-09-23T12:32:11.733Z."""
    moment = datetime.fromtimestamp(epoch_seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclasses.dataclass(frozen=True)
class LoadBalancer:
    """Load balancer object of the tenant, identified by namespace, kind and name."""

    namespace: str
    kind: str
    name: str
    svc_version: int


SEEDED_LOAD_BALANCERS = (
    LoadBalancer("demo", "http_loadbalancer", "shop-frontend", 7),
    LoadBalancer("demo", "http_loadbalancer", "cdn-1", 3),
    LoadBalancer("demo", "cdn_loadbalancer", "media-cdn", 12),
    LoadBalancer("ns1", "http_loadbalancer", "cdn-1", 2),
)


@dataclasses.dataclass(frozen=True)
class Scenario:
    """Behaviour settings for purges: a failing site, two late sites and a duration override."""

    fail_site: bool = False
    late_sites: bool = False
    duration_s: float | None = None

    def combined_with(self, other: Scenario) -> Scenario:
        """Return a scenario with the flags of both and the duration of `other` if it sets one."""
        return Scenario(
            fail_site=self.fail_site or other.fail_site,
            late_sites=self.late_sites or other.late_sites,
            duration_s=other.duration_s if other.duration_s is not None else self.duration_s,
        )

    def to_json(self) -> dict:
        return {"fail_site": self.fail_site, "late_sites": self.late_sites, "duration_s": self.duration_s}


@dataclasses.dataclass(frozen=True)
class SiteTimeline:
    """Progress of one site for one operation, in seconds after the purge request."""

    site: str
    appear_after_s: float
    finish_after_s: float
    final_status: str
    bytes_purged: int
    bytes_not_purged: int


@dataclasses.dataclass(frozen=True)
class Operation:
    """Cache-purge service operation and the timelines of the sites that carry it out."""

    service_op_id: int
    load_balancer: LoadBalancer
    created_at: float
    hard_purge: bool
    regexp: str
    timelines: tuple[SiteTimeline, ...]

    def status_items(self, now: float) -> list[dict]:
        """Build the ServiceOperationItem list that get-service-operation-status returns at `now`.

        A site is missing until it appears. It then reports in_progress without
        finish_time and byte counts, and after its finish time it reports its
        final status. Byte counts are decimal strings because they are uint64.
        """
        elapsed = now - self.created_at
        items = []
        for timeline in self.timelines:
            if elapsed < timeline.appear_after_s:
                continue
            purge = {
                "site": timeline.site,
                "hard_purge": self.hard_purge,
                "regexp": self.regexp,
                "start_time": format_time(self.created_at + timeline.appear_after_s),
                "purge_time": format_time(self.created_at),
            }
            if elapsed >= timeline.finish_after_s:
                status = timeline.final_status
                purge["finish_time"] = format_time(self.created_at + timeline.finish_after_s)
                purge["bytes_purged"] = str(timeline.bytes_purged)
                purge["bytes_not_purged"] = str(timeline.bytes_not_purged)
            else:
                status = STATUS_IN_PROGRESS
            items.append({"service_op_id": self.service_op_id, "status": status, "purge": purge})
        return items

    def list_item(self, now: float) -> dict:
        """Build the item that list-service-operations-status returns for this operation at `now`.

        modified_time is the latest site change (appearance or finish) before `now`.
        """
        elapsed = now - self.created_at
        last_change_s = 0.0
        for timeline in self.timelines:
            for change_s in (timeline.appear_after_s, timeline.finish_after_s):
                if change_s <= elapsed:
                    last_change_s = max(last_change_s, change_s)
        return {
            "service_op_id": self.service_op_id,
            "svc_version": self.load_balancer.svc_version,
            "created_time": format_time(self.created_at),
            "modified_time": format_time(self.created_at + last_change_s),
        }


def _spread(window: tuple[float, float], count: int) -> list[float]:
    """Return `count` evenly spaced fractions from the start to the end of `window`."""
    low, high = window
    if count == 1:
        return [high]
    step = (high - low) / (count - 1)
    return [low + step * index for index in range(count)]


def build_timelines(rng: random.Random, duration_s: float, scenario: Scenario) -> tuple[SiteTimeline, ...]:
    """Plan when each site appears and finishes for a new purge that lasts `duration_s` seconds.

    Sites finish in a random order at spread-out fractions of the duration, and
    every site finishes before the duration ends. The result is sorted by
    appearance time, then by the order of SITES.
    """
    order = list(SITES)
    rng.shuffle(order)
    late = order[:2] if scenario.late_sites else []
    regular = [site for site in order if site not in late]
    window = EARLY_FINISH_WINDOW if scenario.late_sites else FINISH_WINDOW
    failed_site = rng.choice(regular) if scenario.fail_site else None

    timelines = []
    plans = [(site, 0.0, finish) for site, finish in zip(regular, _spread(window, len(regular)))]
    plans += list(zip(late, LATE_APPEAR_AT, LATE_FINISH_AT))
    for site, appear_fraction, finish_fraction in plans:
        if site == failed_site:
            status = STATUS_FAILED
            bytes_purged = rng.randint(0, 200_000_000)
            bytes_not_purged = rng.randint(1_000_000, 3_000_000_000)
        else:
            status = STATUS_SUCCESS
            bytes_purged = rng.randint(20_000_000, 30_000_000_000)
            bytes_not_purged = 0
        timelines.append(
            SiteTimeline(
                site=site,
                appear_after_s=appear_fraction * duration_s,
                finish_after_s=finish_fraction * duration_s,
                final_status=status,
                bytes_purged=bytes_purged,
                bytes_not_purged=bytes_not_purged,
            )
        )
    timelines.sort(key=lambda timeline: (timeline.appear_after_s, SITES.index(timeline.site)))
    return tuple(timelines)


def build_seeded_operation(load_balancer: LoadBalancer, now: float) -> Operation:
    """Build operation 101: a soft purge by pattern that finished on every site 15 minutes ago.

    Four of the byte counts are above 2^32, so a client that parses them into
    32-bit integers fails visibly.
    """
    bytes_purged = (
        6_442_450_944,
        1_288_490_188,
        17_179_869_184,
        734_003_200,
        4_294_967_297,
        98_566_144,
        2_147_483_648,
        5_905_580_032,
        3_221_225_472,
    )
    created_at = math.floor(now) - 15 * 60
    timelines = tuple(
        SiteTimeline(
            site=site,
            appear_after_s=0.2 + 0.05 * index,
            finish_after_s=18.0 + 4.5 * index,
            final_status=STATUS_SUCCESS,
            bytes_purged=purged,
            bytes_not_purged=0,
        )
        for index, (site, purged) in enumerate(zip(SITES, bytes_purged))
    )
    return Operation(
        service_op_id=SEEDED_OPERATION_ID,
        load_balancer=load_balancer,
        created_at=created_at,
        hard_purge=False,
        regexp=r"^/static/.*\.(css|js)$",
        timelines=timelines,
    )


class EmulatorState:
    """Thread-safe tenant state: load balancers, operations, faults, scenarios and request log."""

    def __init__(self, op_duration_s: float, default_scenario: Scenario, now: float) -> None:
        self._lock = threading.Lock()
        self._op_duration_s = op_duration_s
        self._default_scenario = default_scenario
        self._load_balancers = {(lb.namespace, lb.kind, lb.name): lb for lb in SEEDED_LOAD_BALANCERS}
        self._namespaces = {lb.namespace for lb in SEEDED_LOAD_BALANCERS}
        seeded_lb = self._load_balancers[("demo", "http_loadbalancer", "shop-frontend")]
        self._operations = {SEEDED_OPERATION_ID: build_seeded_operation(seeded_lb, now)}
        self._next_operation_id = SEEDED_OPERATION_ID + 1
        self._faults: list[dict] = []
        self._next_scenario = Scenario()
        self._requests: collections.deque[dict] = collections.deque(maxlen=REQUEST_LOG_LIMIT)

    # Tenant objects and operations.

    def has_namespace(self, namespace: str) -> bool:
        return namespace in self._namespaces

    def find_load_balancer(self, namespace: str, kind: str, name: str) -> LoadBalancer | None:
        return self._load_balancers.get((namespace, kind, name))

    def load_balancers(self, namespace: str, kind: str) -> list[LoadBalancer]:
        return [lb for lb in self._load_balancers.values() if lb.namespace == namespace and lb.kind == kind]

    def create_purge(self, load_balancer: LoadBalancer, hard_purge: bool, regexp: str, now: float) -> Operation:
        """Create a purge operation with the next tenant-wide id and consume the next-purge scenario.

        The creation time is cut to whole milliseconds, so a created_time that a
        client passes back as a time_range bound selects the operation.
        """
        created_at = math.floor(now * 1000) / 1000
        with self._lock:
            scenario = self._default_scenario.combined_with(self._next_scenario)
            self._next_scenario = Scenario()
            operation_id = self._next_operation_id
            self._next_operation_id += 1
            duration_s = scenario.duration_s if scenario.duration_s is not None else self._op_duration_s
            operation = Operation(
                service_op_id=operation_id,
                load_balancer=load_balancer,
                created_at=created_at,
                hard_purge=hard_purge,
                regexp=regexp,
                timelines=build_timelines(random.Random(operation_id), duration_s, scenario),
            )
            self._operations[operation_id] = operation
            return operation

    def get_operation(self, service_op_id: int) -> Operation | None:
        with self._lock:
            return self._operations.get(service_op_id)

    def operations_of(self, load_balancers: list[LoadBalancer]) -> list[Operation]:
        """Return the operations of the given load balancers, newest first."""
        selected = set(load_balancers)
        with self._lock:
            operations = [op for op in self._operations.values() if op.load_balancer in selected]
        operations.sort(key=lambda op: op.service_op_id, reverse=True)
        return operations

    # Faults, scenario and request log, set and read through the control endpoint.

    def add_faults(self, faults: list[dict]) -> list[dict]:
        """Append validated faults to the queue and return a copy of the whole queue."""
        with self._lock:
            for fault in faults:
                self._faults.append(dict(fault, remaining=fault["count"]))
            return [dict(fault) for fault in self._faults]

    def pending_faults(self) -> list[dict]:
        with self._lock:
            return [dict(fault) for fault in self._faults]

    def take_fault(self, path: str) -> dict | None:
        """Consume one use of the first queued fault whose path_contains matches `path`.

        A fault without path_contains matches every path. The fault leaves the
        queue after `count` uses.
        """
        with self._lock:
            for index, fault in enumerate(self._faults):
                pattern = fault.get("path_contains")
                if pattern is not None and pattern not in path:
                    continue
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    del self._faults[index]
                return dict(fault)
        return None

    def set_next_scenario(self, scenario: Scenario) -> None:
        with self._lock:
            self._next_scenario = scenario

    def next_scenario(self) -> Scenario:
        with self._lock:
            return self._next_scenario

    def record_request(self, entry: dict) -> None:
        with self._lock:
            self._requests.append(entry)

    def recorded_requests(self) -> list[dict]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Clear the fault queue, the request log and the next-purge scenario. Operations stay."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()
            self._next_scenario = Scenario()
