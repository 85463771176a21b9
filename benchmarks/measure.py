"""Runs of the benchmark programs and statistics of their timings.

Every timed program prints one JSON object on its last line of stdout. A
measurement runs each program once per round, rotating the order from round
to round, so that a slow phase of the machine affects all of them alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from dataclasses import dataclass, field
from typing import Any

# Limit for one benchmark process, in seconds.
PROCESS_TIMEOUT_S = 300

# Variables that would make a client trust another CA than the run's, send
# loopback traffic through a proxy, or load another copy of libopstatus.
_DROPPED_VARIABLES = (
    "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
    "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy",
    "OPSTATUS_LIBRARY",
)
# Prefixes of the settings that libopstatus and the SDK read from the
# environment. The benchmarks set the ones they need themselves.
_DROPPED_PREFIXES = ("F5XC_", "VOLT_API_", "VES_P12_")


class BenchmarkError(RuntimeError):
    """A benchmark program failed or printed no result."""


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """Return this process's environment without CA, proxy or API settings, plus extra."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in _DROPPED_VARIABLES and not key.startswith(_DROPPED_PREFIXES)
    }
    environment["NO_PROXY"] = "127.0.0.1,localhost,::1"
    environment.update(extra)
    return environment


@dataclass(frozen=True)
class Command:
    """A benchmark program: a label, its arguments and its environment."""

    label: str
    argv: list[str]
    environment: dict[str, str]


def run_json(command: Command) -> dict[str, Any]:
    """Run a program and return the JSON object on its last line of stdout."""
    try:
        completed = subprocess.run(
            command.argv, env=command.environment, capture_output=True,
            text=True, timeout=PROCESS_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"{command.label} timed out after {PROCESS_TIMEOUT_S} s") from None
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise BenchmarkError(
            f"{command.label} failed with exit status {completed.returncode}: "
            f"{completed.stderr.strip()[-2000:]}"
        )
    return json.loads(lines[-1])


@dataclass
class Series:
    """Per-round values of one measurement, such as seconds per call.

    cpu_values contains the client process's CPU seconds per call of the
    same rounds.
    """

    label: str
    values: list[float] = field(default_factory=list)
    cpu_values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def iqr_percent(self) -> float | None:
        """Interquartile range as a percentage of the median, or None for fewer than 4 rounds."""
        if len(self.values) < 4:
            return None
        quartiles = statistics.quantiles(self.values, n=4, method="inclusive")
        return 100.0 * (quartiles[2] - quartiles[0]) / self.median

    def describe_iqr(self) -> str:
        iqr = self.iqr_percent
        return "-" if iqr is None else f"{iqr:.1f}"

    @property
    def minimum(self) -> float:
        return min(self.values)

    @property
    def maximum(self) -> float:
        return max(self.values)


def per_call_rounds(commands: list[Command], rounds: int) -> dict[str, Series]:
    """Run every command once per round and collect seconds per call.

    The starting command moves by one each round. Commands print
    {"calls": N, "seconds": S, "cpu_seconds": C}.
    """
    series = {command.label: Series(command.label) for command in commands}
    for round_index in range(rounds):
        shift = round_index % len(commands)
        for command in commands[shift:] + commands[:shift]:
            result = run_json(command)
            series[command.label].values.append(result["seconds"] / result["calls"])
            series[command.label].cpu_values.append(result["cpu_seconds"] / result["calls"])
    return series


@dataclass
class Ratio:
    """numerator / denominator of two medians, with the range of the per-round ratios."""

    numerator: Series
    denominator: Series

    @property
    def value(self) -> float:
        return self.numerator.median / self.denominator.median

    @property
    def per_round(self) -> list[float]:
        pairs = zip(self.numerator.values, self.denominator.values, strict=True)
        return [top / bottom for top, bottom in pairs]

    def describe_spread(self) -> str:
        rounds = self.per_round
        if len(rounds) < 2:
            return f"{len(rounds)} round"
        return f"{len(rounds)} rounds, per-round ratio {min(rounds):.2f} to {max(rounds):.2f}"


@dataclass
class Verdict:
    """One figure compared with its target.

    comparison is "<=", "<" or ">=". primary is False for extra lines, such
    as the plain HTTP variants, which are reported but not counted.
    """

    figure: str
    label: str
    value: float
    comparison: str
    target: float
    unit: str = "x"
    spread: str = ""
    primary: bool = True

    @property
    def passed(self) -> bool:
        if self.comparison == "<=":
            return self.value <= self.target
        if self.comparison == "<":
            return self.value < self.target
        return self.value >= self.target

    @property
    def result(self) -> str:
        return "PASS" if self.passed else "MISS"

    def value_text(self) -> str:
        """Format the value with 2 decimals, or 3 when 2 would show the target itself."""
        text = f"{self.value:.2f}"
        if text == f"{self.target:.2f}" and self.value != self.target:
            text = f"{self.value:.3f}"
        return text + self.unit

    def line(self) -> str:
        return (
            f"figure ({self.figure}) {self.label}: {self.value_text()} "
            f"(target {self.comparison} {self.target:.2f}{self.unit}) {self.result}"
        )
