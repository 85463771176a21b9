"""Compare builds of libopstatus from several commits in one run.

    benchmarks/.venv/bin/python benchmarks/compare_commits.py [--rounds N] COMMIT...

Each commit is checked out into a git worktree under
benchmarks/.build/commits and built there with `make build`, once: later
runs reuse the library. nginx then serves the small status body over TLS,
as for figure (a). Every round runs the floor, and for each commit the C
benchmark program and the Python client from that commit's
bindings/python, both with that commit's library. Then it runs the thread
scaling mode of figure (f) for the floor and for each commit. The order
rotates from round to round. The table printed at the end gives medians
of the rounds, as ratios to the floor of the same rounds.

Run benchmarks/run once first: it builds the C programs and the
virtual environment that this script uses.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import servers
from measure import Command, child_environment, per_call_rounds, run_json
from servers import LOAD_BALANCER, OPERATION_ID, SMALL_NAMESPACE

REPOSITORY = Path(__file__).resolve().parent.parent
BUILD = REPOSITORY / "benchmarks/.build"
OPERATION = [SMALL_NAMESPACE, LOAD_BALANCER, str(OPERATION_ID)]
SCALING_CALLS = "400"
SCALING_PAIRS = "12"


def build_commit(commit: str) -> tuple[str, Path, Path]:
    """Return the short id, the library and the Python package directory of a commit."""
    resolved = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "--short",
                               f"{commit}^{{commit}}"],
                              cwd=REPOSITORY, capture_output=True, text=True)
    if resolved.returncode != 0:
        sys.exit(f"compare_commits: '{commit}' is not a commit of this repository; "
                 "give a commit id, branch or tag such as HEAD~2")
    short = resolved.stdout.strip()

    worktree = BUILD / "commits" / short
    library = worktree / "build/libopstatus.so"
    # This marker is written after a build that passed, so a failed build is
    # tried again on the next run.
    built = worktree / "build/.compare-commits-built"
    if not built.exists():
        if not worktree.exists():
            added = subprocess.run(["git", "worktree", "add", "--detach", str(worktree), short],
                                   cwd=REPOSITORY, capture_output=True, text=True)
            if added.returncode != 0:
                sys.exit(f"compare_commits: git worktree add failed for {short}: "
                         f"{added.stderr.strip()}")
        print(f"Building {short} in {worktree.relative_to(REPOSITORY)}", flush=True)
        completed = subprocess.run(["make", "build"], cwd=worktree, capture_output=True, text=True)
        if completed.returncode != 0:
            output = (completed.stdout + completed.stderr)[-2000:]
            sys.exit(f"compare_commits: make build failed for {short}; its output ends with:\n{output}")
        built.touch()

    # A copy named as the soname, so that LD_LIBRARY_PATH finds it.
    library_dir = BUILD / "commits" / f"{short}-lib"
    library_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(library, library_dir / "libopstatus.so.0")
    return short, library_dir / "libopstatus.so.0", worktree / "bindings/python"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commits", nargs="+", help="commits to compare, such as HEAD~3 HEAD")
    parser.add_argument("--rounds", type=int, default=9, help="number of rounds (default 9)")
    options = parser.parse_args()
    if options.rounds < 1:
        parser.error(f"--rounds must be 1 or more, got {options.rounds}")
    python = str(REPOSITORY / "benchmarks/.venv/bin/python")
    for program in (BUILD / "floor", BUILD / "bench_opstatus", Path(python)):
        if not program.exists():
            sys.exit(f"compare_commits: {program} is missing. Run benchmarks/run first.")

    builds = []
    for commit in options.commits:
        build = build_commit(commit)
        if any(build[0] == earlier[0] for earlier in builds):
            sys.exit(f"compare_commits: '{commit}' names commit {build[0]} a second time")
        builds.append(build)
    directory = Path(tempfile.mkdtemp(prefix="compare-commits."))
    nginx = servers.Nginx(directory, servers.new_token())
    nginx.start()
    try:
        endpoint = nginx.tls
        assert endpoint is not None
        base = child_environment(endpoint.environment())
        floor = Command("floor", [str(BUILD / "floor"), "seq", *OPERATION, "200", "2000"], base)
        sequential = [floor]
        scaling = [Command("floor", [str(BUILD / "floor"), "scaling", *OPERATION, "100",
                                     SCALING_CALLS, SCALING_PAIRS], base)]
        for short, library, package in builds:
            environment = dict(base, LD_LIBRARY_PATH=str(library.parent), OPSTATUS_LIBRARY=str(library),
                               PYTHONPATH=str(package))
            sequential.append(Command(f"{short} C", [str(BUILD / "bench_opstatus"), "seq", *OPERATION,
                                                     "200", "2000"], environment))
            sequential.append(Command(f"{short} Python", [python, str(REPOSITORY / "benchmarks/py_peers.py"),
                                                          "seq", "opstatus", *OPERATION, "100", "800"],
                                      environment))
            scaling.append(Command(short, [str(BUILD / "bench_opstatus"), "scaling", *OPERATION, "100",
                                           SCALING_CALLS, SCALING_PAIRS], environment))

        series = per_call_rounds(sequential, options.rounds)
        ratios: dict[str, list[float]] = {command.label: [] for command in scaling}
        for round_index in range(options.rounds):
            shift = round_index % len(scaling)
            for command in scaling[shift:] + scaling[:shift]:
                output = run_json(command)
                ratios[command.label] += [one / two for one, two in zip(output["one"], output["two"])]
    finally:
        nginx.stop()
        servers.remove_directory(directory)

    floor_median = series["floor"].median
    print(f"\n{options.rounds} rounds; floor {floor_median * 1e6:.1f} us/call; "
          f"floor 2 threads/1 thread {statistics.median(ratios['floor']):.2f}x\n")
    print("| commit | C/floor | Python/floor | 2 threads/1 thread |")
    print("| --- | --- | --- | --- |")
    for short, _, _ in builds:
        c_ratio = series[f"{short} C"].median / floor_median
        python_ratio = series[f"{short} Python"].median / floor_median
        print(f"| {short} | {c_ratio:.2f}x | {python_ratio:.2f}x | {statistics.median(ratios[short]):.2f}x |")
    return 0


if __name__ == "__main__":
    os.chdir(REPOSITORY)
    sys.exit(main())
