"""Request objects of purges, lists and waits, built from Python arguments.

The checks here are the ones the library cannot make, because they concern
Python types and the choice among keyword arguments. Values such as a
pattern's length or a URL's leading slash go to the library, which checks
them before anything is sent.
"""

from __future__ import annotations

import math

from ._datetimes import datetime, timezone
from ._errors import InvalidArgumentError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = [
    "list_request",
    "purge_request",
    "wait_options",
]

# Arguments of purge() that choose its target, in the order that messages list them.
_PURGE_TARGETS = ("url", "pattern", "hostname", "purge_all")


def check_text(argument: str, value: object) -> str:
    """Return ``value`` when it is a str, else raise TypeError naming ``argument``."""
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, not {type(value).__name__}")
    return value


def _optional_flag(argument: str, value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise TypeError(f"{argument} must be True, False or None, not {type(value).__name__}")
    return value


def purge_request(
    namespace: str,
    name: str,
    *,
    url: str | None,
    pattern: str | None,
    hostname: str | None,
    purge_all: bool,
    hard: bool | None,
    soft: bool | None,
    kind: str | None,
) -> dict[str, Any]:
    """Build the request of ``opstatus_purge_json()``.

    Raises InvalidArgumentError unless exactly one target and exactly one of
    ``hard`` and ``soft`` are set. None and False leave a choice unset.
    """
    request: dict[str, Any] = {
        "namespace": check_text("namespace", namespace),
        "name": check_text("name", name),
    }
    if kind is not None:
        request["kind"] = check_text("kind", kind)

    targets: dict[str, Any] = {}
    for argument, value in (("url", url), ("pattern", pattern), ("hostname", hostname)):
        if value is not None:
            targets[argument] = check_text(argument, value)
    if _optional_flag("purge_all", purge_all):
        targets["purge_all"] = {}
    if len(targets) != 1:
        chosen = ", ".join(targets) or "none"
        raise InvalidArgumentError(
            f"invalid purge: set exactly one target of {', '.join(_PURGE_TARGETS)}; "
            f"set: {chosen}"
        )

    modes: dict[str, Any] = {}
    if _optional_flag("hard", hard):
        modes["hard_purge"] = {}
    if _optional_flag("soft", soft):
        modes["soft_purge"] = {}
    if len(modes) != 1:
        raise InvalidArgumentError(
            "invalid purge: set exactly one of hard=True (remove the content) and "
            f"soft=True (mark it expired); {len(modes)} are set"
        )
    return {**request, **targets, **modes}


def query_time(argument: str, value: object) -> str | int:
    """Convert a time of a list request to a value of its ``time_range``.

    An aware datetime becomes RFC 3339 text in UTC with microseconds. An int
    is a unix timestamp in seconds and a str is sent unchanged, for the
    library to check. A float becomes decimal text with microseconds,
    because early builds of libopstatus 0.1 rejected a JSON number with a
    fraction, and text works with every build.
    """
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None:
            raise InvalidArgumentError(
                f"invalid {argument}: the datetime {value.isoformat()} has no time "
                "zone, so the instant is unknown; pass an aware datetime such as "
                "datetime.now(timezone.utc)"
            )
        utc = value.astimezone(timezone.utc).replace(tzinfo=None)
        return utc.isoformat(timespec="microseconds") + "Z"
    # bool is a subclass of int, but True is not a time.
    if isinstance(value, bool):
        raise TypeError(f"{argument} must be a datetime, a number or a str, not bool")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(f"invalid {argument} {value}: use a finite unix time")
        # Fixed-point text, since repr() may use an exponent such as 1e-05.
        return f"{value:.6f}"
    if isinstance(value, (int, str)):
        return value
    raise TypeError(
        f"{argument} must be a datetime, a number or a str, not {type(value).__name__}"
    )


def list_request(
    namespace: str,
    name: str | None,
    *,
    lastn: int | None,
    start: datetime | float | str | None,
    finish: datetime | float | str | None,
    kind: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Build the request of ``opstatus_list_json()``.

    Exactly one of ``lastn`` and ``start`` must be set. ``finish`` needs
    ``start`` and defaults to ``now``.
    """
    request: dict[str, Any] = {"namespace": check_text("namespace", namespace)}
    if name is not None:
        request["name"] = check_text("name", name)
    if kind is not None:
        request["kind"] = check_text("kind", kind)

    if (lastn is None) == (start is None):
        raise InvalidArgumentError(
            "invalid list request: set exactly one of lastn (the newest operations) "
            "and start (the beginning of a time range)"
        )
    if lastn is not None:
        if finish is not None:
            raise InvalidArgumentError(
                "invalid list request: finish ends a time range, so it needs start, not lastn"
            )
        if isinstance(lastn, bool) or not isinstance(lastn, int):
            raise TypeError(f"lastn must be an int, not {type(lastn).__name__}")
        request["lastn"] = lastn
        return request

    request["time_range"] = {
        "start_time": query_time("start", start),
        "finish_time": query_time("finish", now if finish is None else finish),
    }
    return request


def milliseconds(argument: str, seconds: object) -> int:
    """Convert a non-negative time in seconds to whole milliseconds, rounded up.

    Rounding up keeps a small positive time, such as 0.0001 s, from becoming
    0 ms, which the library rejects for delays and deadlines.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{argument} must be a number of seconds, not {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidArgumentError(
            f"invalid {argument} {seconds}: use a finite, non-negative number of seconds"
        )
    return math.ceil(seconds * 1000)


def _status_words(argument: str, words: Iterable[str] | None) -> list[str] | None:
    if words is None:
        return None
    # A single string is iterable too, and would become a list of letters.
    if isinstance(words, (str, bytes)):
        raise TypeError(f"{argument} must be a list of strings, not a single {type(words).__name__}")
    return list(words)


def wait_options(
    *,
    initial_delay: float,
    growth: float,
    max_delay: float,
    timeout: float,
    success_statuses: Iterable[str] | None,
    failure_statuses: Iterable[str] | None,
    stop_on_failure: bool,
    expected_sites: int | None,
    settle: float,
) -> dict[str, Any]:
    """Build the wait options of ``opstatus_wait_json()`` from times in seconds.

    The library checks the ranges, such as ``growth`` from 1 to 10.
    """
    if isinstance(growth, bool) or not isinstance(growth, (int, float)):
        raise TypeError(f"growth must be a number, not {type(growth).__name__}")
    if not math.isfinite(growth):
        raise InvalidArgumentError(f"invalid growth {growth}: use a factor from 1 to 10")
    if not isinstance(stop_on_failure, bool):
        raise TypeError(
            f"stop_on_failure must be a bool, not {type(stop_on_failure).__name__}"
        )

    options: dict[str, Any] = {
        "initial_delay_ms": milliseconds("initial_delay", initial_delay),
        "growth": growth,
        "max_delay_ms": milliseconds("max_delay", max_delay),
        "deadline_ms": milliseconds("timeout", timeout),
        "stop_on_failure": stop_on_failure,
        "settle_ms": milliseconds("settle", settle),
    }
    if expected_sites is not None:
        if isinstance(expected_sites, bool) or not isinstance(expected_sites, int):
            raise TypeError(
                f"expected_sites must be an int, not {type(expected_sites).__name__}"
            )
        options["expected_sites"] = expected_sites
    success = _status_words("success_statuses", success_statuses)
    if success is not None:
        options["success_statuses"] = success
    failure = _status_words("failure_statuses", failure_statuses)
    if failure is not None:
        options["failure_statuses"] = failure
    return options
