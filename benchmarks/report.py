"""Console output and benchmarks/README.md for a benchmark run."""

from __future__ import annotations

import ctypes
import datetime
import hashlib
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

from figures import FigureResult, Table
from measure import Verdict

OPTIMISATIONS = Path(__file__).resolve().parent / "optimisations.md"
PYTHON_PACKAGES = ["f5xc-py-substrate", "httpx", "pydantic", "pydantic-core", "requests", "urllib3"]


def _command_output(argv: list[str]) -> str:
    """Return the first line a version command prints (stdout or stderr), or "unknown"."""
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return "unknown"
    text = (completed.stdout.strip() or completed.stderr.strip()).splitlines()
    return text[0].strip() if text else "unknown"


def _cpu_model() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _library_version(repository: Path, library_path: Path) -> str:
    library = ctypes.CDLL(str(library_path))
    library.opstatus_version.restype = ctypes.c_char_p
    version = library.opstatus_version().decode("ascii")
    digest = hashlib.sha256(library_path.read_bytes()).hexdigest()[:12]
    commit = _command_output(["git", "-C", str(repository), "rev-parse", "--short", "HEAD"])
    changed = subprocess.run(
        ["git", "-C", str(repository), "status", "--porcelain", "--", "Sources", "include",
         "Package.swift", "bindings/python/opstatus"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    state = ", with uncommitted changes to the library or the Python package" if changed else ""
    return f"{version}, commit {commit}{state}, SHA-256 of the measured copy {digest}..."


def environment_facts(repository: Path, library_path: Path) -> list[tuple[str, str]]:
    """Return (name, value) pairs describing the machine and every measured component."""
    facts = [
        ("CPU", _cpu_model()),
        ("cores", str(os.cpu_count())),
        ("memory", _memory_gib()),
        ("OS", f"{_os_name()}, Linux {platform.release()}"),
        ("libopstatus", _library_version(repository, library_path)),
        ("nginx", _command_output(["nginx", "-v"]).replace("nginx version: ", "")),
        ("libcurl", _command_output(["curl-config", "--version"])
         + f" ({_command_output(['curl-config', '--ssl-backends'])})"),
        ("jansson", _command_output(["pkg-config", "--modversion", "jansson"])),
        ("OpenSSL", _command_output(["openssl", "version"])),
        ("Python", platform.python_version()),
    ]
    for package in PYTHON_PACKAGES:
        try:
            facts.append((package, importlib.metadata.version(package)))
        except importlib.metadata.PackageNotFoundError:
            facts.append((package, "not installed"))
    facts += [
        ("hyperfine", _command_output(["hyperfine", "--version"])),
        ("valgrind", _command_output(["valgrind", "--version"])),
        ("Swift", _command_output(["swift", "--version"])),
    ]
    return facts


def format_text_table(table: Table) -> str:
    widths = [len(header) for header in table.headers]
    for row in table.rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = [f"  {table.title}"]
    for row in [table.headers, *table.rows]:
        cells = [cell.ljust(width) if index == 0 else cell.rjust(width)
                 for index, (cell, width) in enumerate(zip(row, widths, strict=True))]
        lines.append("    " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def format_markdown_table(table: Table) -> str:
    lines = [f"**{table.title}**", "", "| " + " | ".join(table.headers) + " |",
             "|" + "|".join(" --- " for _ in table.headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return "\n".join(lines)


def verdict_console_lines(verdict: Verdict) -> list[str]:
    suffix = "" if verdict.primary else "  [not counted]"
    lines = [verdict.line() + suffix]
    if verdict.spread:
        lines.append(f"    spread: {verdict.spread}")
    return lines


def print_figure(result: FigureResult) -> None:
    print(f"\n== figure ({result.key}): {result.title} [{result.seconds:.0f} s]")
    for table in result.tables:
        print(format_text_table(table))
    for verdict in result.verdicts:
        for line in verdict_console_lines(verdict):
            print(line)


def verdict_table(verdicts: list[Verdict]) -> Table:
    rows = []
    for verdict in verdicts:
        result = verdict.result if verdict.primary else f"{verdict.result} (not counted)"
        rows.append([f"({verdict.figure})", verdict.label, verdict.value_text(),
                     f"{verdict.comparison} {verdict.target:.2f}{verdict.unit}", result,
                     verdict.spread])
    return Table("Targets", ["figure", "comparison", "value", "target", "result", "spread"], rows)


METHOD = """\
## Method

- **Servers.** nginx runs as a foreground child of the runner with a
  configuration, logs and certificates in a new temporary directory
  (`$RUN_DIR` below), 2 worker processes, keep-alive on (300 s,
  10,000,000 requests per connection) and access logging off. It listens on
  two free ports of 127.0.0.1, one plain HTTP and one TLS. The TLS
  certificate comes from a CA that `openssl` creates for each run (EC P-256),
  and every client trusts that CA file and nothing else. nginx answers
  `POST /api/cdn/namespaces/demo/http_loadbalancer/get-service-operation-status`
  with the small body inline (`return 200 '...'`). The same path in
  namespace `big` gets the large body from a file: the static module rejects
  POST with 405, and `error_page 405 =200` turns that into an internal GET
  of the file. Both bodies have the F5 XC response shape: `status`
  `"success"`, byte counts as decimal strings, RFC 3339 times.
- **Library.** `benchmarks/run` copies `build/libopstatus.so` to
  `benchmarks/.build/lib` before the figures start, and every program of
  the run loads that copy (through `LD_LIBRARY_PATH` for C and
  `OPSTATUS_LIBRARY` for Python), so a rebuild during the run cannot mix
  two versions. Its SHA-256 prefix is listed with the versions.
- **Figure (c)** uses the project's emulator (`Tests/Emulator/emulator.py`)
  over TLS with `--latency-ms 25` instead of nginx.
- **Clients.** `floor` (`benchmarks/floor.c`) is a minimal client: one
  libcurl easy handle per thread, so the connection stays open, the same
  request body, the `Authorization`, `Content-Type` and `Accept` headers,
  `json_loadb()` on the response, and nothing else. The library also sends
  `User-Agent` and `Accept-Encoding` and suppresses `Expect`, and libcurl
  sets up response decoding for `Accept-Encoding`. `bench_opstatus` (`benchmarks/bench_opstatus.c`) calls
  `opstatus_get_status()` and `opstatus_free()`. The Python clients
  (`benchmarks/py_peers.py`) are `opstatus.Client.get_status()`, a
  `requests.Session` with `post(json=...)` and `response.json()`, and
  f5xc-py-substrate's `get_service_operation_httplb_cache_enabled()` on a
  client built with an `httpx.Client` that trusts the run's CA. Environment
  variables that choose CA files or proxies are removed for every client.
- **Rounds.** A timed measurement runs each client in its own process:
  warmup calls first (they open the connection), then a fixed number of
  timed calls. One round runs every client of a figure once, and the
  starting client rotates from round to round, so slow phases of the
  machine hit all clients alike. Figures (a) and (b) report the median over
  the rounds of the time per call, its interquartile range (IQR) as a
  percentage of the median, and the extremes. A ratio is the ratio of two
  medians. Its spread is the range of the ratios of the same round. Their
  tables also give the client process's CPU time per call (user plus
  system, all threads), which other load on the machine disturbs less than
  wall time. Targets are judged on wall time only.
- **Cold start (d)** runs hyperfine three times over all programs
  (`--shell=none`, 2 warmup runs each time) and pools the times. Peak RSS is
  what GNU time (`/usr/bin/time -f %M`) reports for five further runs of each
  program. A child of the Python runner would report at least the runner's
  own RSS, since Linux keeps the peak across fork and exec. pip compiled
  the peers' modules to bytecode when it installed them, as it would for
  the opstatus wheel. So `benchmarks/run` compiles
  `bindings/python/opstatus` with `compileall`, and no program compiles
  its modules at every start when `PYTHONDONTWRITEBYTECODE` is set.
- **Memory (e)** reads VmRSS from `/proc/self/status` inside the measured
  process after the first 1,000 and after all 100,000 calls.
- **Threads (f)** run in one process per measurement: two threads send
  their warmup calls, then phases with one thread and with two threads
  alternate, and each pair of phases gives one throughput ratio (see the
  notes of the figure). Pairing phases that are tens of milliseconds apart
  keeps other load on the machine out of the ratio better than comparing
  separate processes.
- **Profiles** run only when a target of (a) or (b) is missed, or with
  `--profile`. callgrind counts the instructions inside
  `opstatus_get_status()` (for the floor inside `curl_easy_perform()`,
  `json_loadb()` and `json_delete()`), which repeat from run to run. The
  Python profile uses cProfile, whose overhead inflates the times but not
  the order of the functions.
- **Noise.** Other programs may run on the machine during a benchmark, so
  the medians of interleaved rounds are the numbers to read. An IQR above
  about 10% suggests that other load disturbed the run. The load averages
  before and after the run are listed with the machine.
"""


def load_average() -> str:
    """Return the 1-, 5- and 15-minute load averages from /proc/loadavg."""
    with open("/proc/loadavg", encoding="ascii") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def write_readme(path: Path, results: list[FigureResult], facts: list[tuple[str, str]],
                 extra_sections: list[str], run_seconds: float, options: str,
                 failures: list[str]) -> None:
    """Write benchmarks/README.md for this run, replacing the previous one."""
    verdicts = [verdict for result in results for verdict in result.verdicts]
    primary = [verdict for verdict in verdicts if verdict.primary]
    met = sum(verdict.passed for verdict in primary)
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# opstatus benchmarks",
        "",
        "`make bench` runs `benchmarks/run`, which installs what the benchmarks need,",
        "runs every figure against servers on 127.0.0.1 and rewrites this page.",
        f"The numbers below come from the run on {date} ({options}). The whole run",
        f"took {run_seconds:.0f} s, and {met} of {len(primary)} counted targets were met.",
        "",
        "Read a ratio A/B as A's time divided by B's. \"Not counted\" lines are",
        "variants reported for comparison, such as plain HTTP.",
        "",
    ]
    if failures:
        lines += ["**Figures that failed to run:**", ""]
        lines += [f"- {failure}" for failure in failures]
        lines.append("")
    lines += [format_markdown_table(verdict_table(verdicts)), ""]
    # The record of optimisations is written by hand and copied in as it is.
    lines += ["## Optimisations", "", OPTIMISATIONS.read_text(encoding="utf-8").rstrip(), ""]
    lines += ["## Machine and versions", "", "| component | version |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in facts]
    lines += [
        "",
        "## Running",
        "",
        "```sh",
        "make bench                           # build, then benchmarks/run",
        "benchmarks/run --figures a,d         # only some figures",
        "benchmarks/run --quick               # fewer rounds and calls, for trying changes",
        "benchmarks/run --profile             # callgrind and cProfile even when targets are met",
        "```",
        "",
        "`benchmarks/run` installs the Debian packages nginx, hyperfine, valgrind,",
        "openssl and the libcurl and jansson headers when they are missing, creates",
        "`benchmarks/.venv` with the packages pinned in `benchmarks/requirements.txt`,",
        "and compiles the C programs into `benchmarks/.build`. It needs",
        "`build/libopstatus.so` from `make build`. A full run took 2 to 3.5",
        "minutes on 2 cores, depending on other load. It exits with 1 when a",
        "figure could not be measured, and with 0 otherwise, whether or not the",
        "targets were met. `benchmarks/compare_commits.py` measures builds of",
        "several commits side by side (see Optimisations).",
        "",
        METHOD,
    ]
    for result in results:
        lines += [f"## Figure ({result.key}): {result.title}", ""]
        for table in result.tables:
            lines += [format_markdown_table(table), ""]
        lines += [format_markdown_table(verdict_table(result.verdicts)), ""]
        if result.notes:
            lines += [f"- {note}" for note in result.notes]
            lines.append("")
        lines += ["Commands (run from the repository root, with `F5XC_API_URL`,",
                  "`F5XC_API_TOKEN` and `F5XC_CACERT` set to the server, and",
                  "`LD_LIBRARY_PATH=benchmarks/.build/lib`):", "", "```sh"]
        lines += result.commands
        lines += ["```", ""]
    lines += extra_sections
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
