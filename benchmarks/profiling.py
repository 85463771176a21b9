"""Instruction profiles of libopstatus with valgrind's callgrind.

callgrind counts the instructions executed (Ir), which repeat from run to
run, unlike times on a shared machine. Counting is switched on only inside
the measured calls: opstatus_get_status() for opstatus, and
curl_easy_perform(), json_loadb() and json_delete() for the floor, so
startup and client creation are left out.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from figures import Context, Table
from measure import BenchmarkError
from servers import LOAD_BALANCER, OPERATION_ID

# A function line of callgrind_annotate: "1,234 (12.34%)  file:function [object]".
# Function names may contain " [", so the object is the last bracketed part.
_ANNOTATE_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)\s+\[([^\[\]]+)\]\s*$")
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


@dataclass
class FunctionCost:
    """Instructions of one function; depth is callgrind's recursion level (1 outside recursion)."""

    instructions: int
    function: str
    library: str
    depth: int = 1


@dataclass
class Profile:
    """Instructions per call of opstatus and the floor, and where opstatus spends them."""

    title: str
    calls: int
    opstatus_total: int
    floor_total: int
    by_library: dict[str, int] = field(default_factory=dict)
    top_self: list[FunctionCost] = field(default_factory=list)
    top_inclusive: list[FunctionCost] = field(default_factory=list)
    top_library_calls: list[FunctionCost] = field(default_factory=list)
    # Inclusive instructions of the whole run in the libcurl transfer, and
    # for the floor in json_loadb() and json_delete().
    opstatus_transfer: int = 0
    floor_transfer: int = 0
    floor_parse: int = 0
    floor_free: int = 0
    commands: list[str] = field(default_factory=list)

    @property
    def opstatus_per_call(self) -> float:
        return self.opstatus_total / self.calls

    @property
    def floor_per_call(self) -> float:
        return self.floor_total / self.calls


def _run_callgrind(output: Path, toggles: list[str], argv: list[str], environment: dict[str, str],
                   working_directory: Path) -> int:
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={output}"]
    command += [f"--toggle-collect={name}" for name in toggles]
    completed = subprocess.run(
        command + argv, env=environment, cwd=working_directory,
        capture_output=True, text=True, timeout=600, check=False,
    )
    match = _COLLECTED.search(completed.stderr)
    if completed.returncode != 0 or match is None:
        raise BenchmarkError(f"callgrind failed: {completed.stderr[-2000:]}")
    return int(match.group(1))


def _annotate(profile_file: Path, inclusive: bool) -> list[FunctionCost]:
    completed = subprocess.run(
        ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100",
         str(profile_file)],
        capture_output=True, text=True, timeout=300, check=True,
    )
    costs = []
    for line in completed.stdout.splitlines():
        match = _ANNOTATE_LINE.match(line)
        if match is None:
            continue
        location = match.group(2)
        # "file:function": the file is "???" or a source path without spaces.
        function = location.split(":", 1)[1] if re.match(r"^[^\s:]*:", location) else location
        # callgrind names recursion level n > 1 of a function "name'n".
        depth_match = re.search(r"'(\d+)$", function)
        depth = int(depth_match.group(1)) if depth_match else 1
        if depth_match:
            function = function[: depth_match.start()]
        costs.append(FunctionCost(int(match.group(1).replace(",", "")), function,
                                  Path(match.group(3)).name, depth))
    return costs


def _demangle(costs: list[FunctionCost]) -> None:
    """Replace Swift symbol names with their simplified demangled form, in place."""
    names = [cost.function for cost in costs]
    try:
        completed = subprocess.run(["swift", "demangle", "--simplified", "--compact"],
                                   input="\n".join(names), capture_output=True, text=True,
                                   timeout=120, check=True)
    except (OSError, subprocess.SubprocessError):
        return  # the mangled names remain, which swift demangle can decode later
    demangled = completed.stdout.splitlines()
    if len(demangled) == len(names):
        for cost, name in zip(costs, demangled, strict=True):
            cost.function = name


def _merge(costs: list[FunctionCost], inclusive: bool) -> list[FunctionCost]:
    """Merge entries with the same name, such as recursion depths or specializations.

    Self costs add up. An inclusive cost is taken from the outermost
    recursion level, which contains the deeper ones. callgrind's inclusive
    costs of deeper levels are unreliable and can even exceed the outermost
    one. Of entries at the same level, such as two specializations that
    demangle to one name, the largest is kept.
    """
    totals: dict[tuple[str, str], int] = defaultdict(int)
    depths: dict[tuple[str, str], int] = {}
    for cost in costs:
        key = (cost.function, cost.library)
        if not inclusive:
            totals[key] += cost.instructions
        elif key not in depths or cost.depth < depths[key]:
            depths[key] = cost.depth
            totals[key] = cost.instructions
        elif cost.depth == depths[key]:
            totals[key] = max(totals[key], cost.instructions)
    merged = [FunctionCost(count, function, library) for (function, library), count in totals.items()]
    return sorted(merged, key=lambda cost: cost.instructions, reverse=True)


def _inclusive_of(costs: list[FunctionCost], function: str) -> int:
    """Return the inclusive cost of a function at its outermost recursion level, or 0."""
    merged = _merge([cost for cost in costs if cost.function == function], inclusive=True)
    return merged[0].instructions if merged else 0


def _transfer_instructions(costs: list[FunctionCost]) -> int:
    """Return the instructions spent in libcurl's transfer functions.

    curl_easy_perform() contains curl_multi_perform(), so a client using the
    easy interface counts only the former. A client driving the multi
    interface itself counts curl_multi_perform() and its waits.
    """
    easy = _inclusive_of(costs, "curl_easy_perform")
    if easy:
        return easy
    return sum(_inclusive_of(costs, name)
               for name in ("curl_multi_perform", "curl_multi_poll", "curl_multi_wait"))


def profile_status_calls(context: Context, title: str, namespace: str, warmup: int,
                         count: int) -> Profile:
    """Profile opstatus_get_status() and the floor on the same body and server."""
    endpoint = context.nginx.tls
    assert endpoint is not None
    calls = warmup + count
    arguments = ["seq", namespace, LOAD_BALANCER, str(OPERATION_ID), str(warmup), str(count)]
    opstatus_file = context.run_directory / f"callgrind.opstatus.{namespace}"
    floor_file = context.run_directory / f"callgrind.floor.{namespace}"
    opstatus_argv = [str(context.build / "bench_opstatus"), *arguments]
    floor_argv = [str(context.build / "floor"), *arguments]
    environment = context.c_environment(endpoint)
    opstatus_total = _run_callgrind(opstatus_file, ["opstatus_get_status"], opstatus_argv,
                                    environment, context.run_directory)
    floor_total = _run_callgrind(floor_file, ["curl_easy_perform", "json_loadb", "json_delete"],
                                 floor_argv, environment, context.run_directory)

    self_costs = _annotate(opstatus_file, inclusive=False)
    all_inclusive = _annotate(opstatus_file, inclusive=True)
    inclusive_costs = [cost for cost in all_inclusive if cost.library.startswith("libopstatus")]
    # Named entry points of jansson and libcurl. Their internal functions
    # have no names in the Debian packages and appear as addresses.
    library_calls = [cost for cost in all_inclusive
                     if cost.library.startswith(("libjansson", "libcurl"))
                     and not cost.function.startswith("0x")]
    _demangle(self_costs)
    _demangle(inclusive_costs)
    floor_inclusive = _annotate(floor_file, inclusive=True)

    profile = Profile(title, calls, opstatus_total, floor_total)
    profile.opstatus_transfer = _transfer_instructions(all_inclusive)
    profile.floor_transfer = _transfer_instructions(floor_inclusive)
    profile.floor_parse = _inclusive_of(floor_inclusive, "json_loadb")
    profile.floor_free = _inclusive_of(floor_inclusive, "json_delete")
    for cost in self_costs:
        library = re.sub(r"\.so[.\d]*$", "", cost.library)
        profile.by_library[library] = profile.by_library.get(library, 0) + cost.instructions
    profile.top_self = _merge(self_costs, inclusive=False)[:20]
    profile.top_inclusive = _merge(inclusive_costs, inclusive=True)[:25]
    profile.top_library_calls = _merge(library_calls, inclusive=True)[:12]
    profile.commands = [
        context.display_text(shlex.join(["valgrind", "--tool=callgrind",
                                         "--toggle-collect=opstatus_get_status", *opstatus_argv])),
        context.display_text(shlex.join(["valgrind", "--tool=callgrind",
                                         "--toggle-collect=curl_easy_perform",
                                         "--toggle-collect=json_loadb",
                                         "--toggle-collect=json_delete", *floor_argv])),
        "callgrind_annotate --inclusive=no|yes --threshold=100 FILE",
    ]
    return profile


def _shorten(name: str, limit: int = 110) -> str:
    name = name.replace("|", "\\|")
    return name if len(name) <= limit else name[: limit - 3] + "..."


def profile_tables(profile: Profile) -> list[Table]:
    """Tabulate a profile: totals per call, self cost by library, top functions."""
    per_call = profile.opstatus_per_call
    calls = profile.calls
    opstatus_outside = profile.opstatus_total - profile.opstatus_transfer
    floor_outside = profile.floor_total - profile.floor_transfer
    summary = Table(
        f"{profile.title}: instructions per call ({calls} calls profiled)",
        ["client", "instructions/call", "ratio to floor", "libcurl transfer",
         "outside libcurl", "outside libcurl / floor's json_loadb()"],
        [
            ["floor (curl_easy_perform + json_loadb + json_delete)",
             f"{profile.floor_per_call:,.0f}", "1.00", f"{profile.floor_transfer / calls:,.0f}",
             f"{floor_outside / calls:,.0f} (json_loadb {profile.floor_parse / calls:,.0f}, "
             f"json_delete {profile.floor_free / calls:,.0f})",
             f"{floor_outside / max(profile.floor_parse, 1):.2f}"],
            ["opstatus_get_status()", f"{per_call:,.0f}",
             f"{per_call / profile.floor_per_call:.2f}", f"{profile.opstatus_transfer / calls:,.0f}",
             f"{opstatus_outside / calls:,.0f}",
             f"{opstatus_outside / max(profile.floor_parse, 1):.2f}"],
        ],
    )
    total = profile.opstatus_total or 1
    by_library = Table(
        f"{profile.title}: where opstatus_get_status() spends its instructions, by library (self cost)",
        ["library", "instructions/call", "share"],
        [[library, f"{count / profile.calls:,.0f}", f"{100 * count / total:.1f}%"]
         for library, count in sorted(profile.by_library.items(), key=lambda item: -item[1])
         if count >= total / 1000],
    )
    top_self = Table(
        f"{profile.title}: top functions by self cost (all libraries)",
        ["function", "library", "instructions/call", "share"],
        [[_shorten(cost.function), cost.library, f"{cost.instructions / profile.calls:,.0f}",
          f"{100 * cost.instructions / total:.1f}%"] for cost in profile.top_self],
    )
    top_inclusive = Table(
        f"{profile.title}: top libopstatus functions by inclusive cost (callees included)",
        ["function", "instructions/call", "share"],
        [[_shorten(cost.function), f"{cost.instructions / profile.calls:,.0f}",
          f"{100 * cost.instructions / total:.1f}%"] for cost in profile.top_inclusive],
    )
    library_calls = Table(
        f"{profile.title}: jansson and libcurl functions called by opstatus_get_status(), "
        "by inclusive cost",
        ["function", "library", "instructions/call", "share"],
        [[cost.function, cost.library, f"{cost.instructions / profile.calls:,.0f}",
          f"{100 * cost.instructions / total:.1f}%"] for cost in profile.top_library_calls],
    )
    return [summary, by_library, library_calls, top_inclusive, top_self]
