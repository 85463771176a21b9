"""The benchmark figures (a) to (f): what each runs and how it is judged.

Ratios are of medians measured in the same run. "A/B" is A's time divided
by B's, so for a target such as "at least 2.5 times faster than the SDK"
the line reads "SDK/Python ... (target >= 2.50x)".
"""

from __future__ import annotations

import json
import shlex
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import servers
from measure import (
    BenchmarkError,
    Command,
    Ratio,
    Series,
    Verdict,
    child_environment,
    per_call_rounds,
    run_json,
)
from servers import LARGE_NAMESPACE, LOAD_BALANCER, OPERATION_ID, SMALL_NAMESPACE, Endpoint

OPERATION = [LOAD_BALANCER, str(OPERATION_ID)]


@dataclass
class Table:
    """A table for the console and the README: a title, column headers and rows."""

    title: str
    headers: list[str]
    rows: list[list[str]]


@dataclass
class FigureResult:
    """Everything one figure measured and reports."""

    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Context:
    """Paths, servers and settings shared by the figures of one run."""

    repository: Path
    build: Path
    python: str
    nginx: servers.Nginx
    run_directory: Path
    token: str
    status_example: Path
    library: Path
    status_example_origin: str = ""
    scale: float = 1.0
    rounds: int = 11
    opstatus_command: list[str] | None = None
    opstatus_command_kind: str = ""
    opstatus_command_is_script: bool = False

    def count(self, calls: int) -> str:
        """Scale a call count for --quick runs, keeping at least 2."""
        return str(max(2, int(calls * self.scale)))

    def c_environment(self, endpoint: Endpoint) -> dict[str, str]:
        """Return the environment of a program that talks to endpoint.

        LD_LIBRARY_PATH takes precedence over the RUNPATH of the C programs,
        and the Python package reads OPSTATUS_LIBRARY, so both load the run's
        copy of libopstatus.
        """
        return child_environment(dict(
            endpoint.environment(),
            LD_LIBRARY_PATH=str(self.library.parent),
            OPSTATUS_LIBRARY=str(self.library),
        ))

    def python_environment(self, endpoint: Endpoint) -> dict[str, str]:
        environment = self.c_environment(endpoint)
        environment["PYTHONPATH"] = str(self.repository / "bindings/python")
        return environment

    def floor(self, label: str, endpoint: Endpoint, *arguments: str) -> Command:
        return Command(label, [str(self.build / "floor"), *arguments], self.c_environment(endpoint))

    def bench_c(self, label: str, endpoint: Endpoint, *arguments: str) -> Command:
        return Command(
            label, [str(self.build / "bench_opstatus"), *arguments], self.c_environment(endpoint)
        )

    def python_peer(self, label: str, endpoint: Endpoint, *arguments: str) -> Command:
        script = str(self.repository / "benchmarks/py_peers.py")
        return Command(label, [self.python, script, *arguments], self.python_environment(endpoint))

    def display(self, command: Command) -> str:
        """Return the command as shown in the README, without paths of this machine."""
        return self.display_text(shlex.join(command.argv))

    def display_text(self, text: str) -> str:
        """Replace this machine's paths with repository-relative ones and $RUN_DIR."""
        text = text.replace(self.python, "benchmarks/.venv/bin/python")
        text = text.replace(str(self.repository) + "/", "")
        return text.replace(str(self.run_directory), "$RUN_DIR")


def microseconds(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f}"


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f}"


def series_table(title: str, series: dict[str, Series], unit: str = "us") -> Table:
    """Tabulate per-call medians with their interquartile range and extremes.

    The last column is the median CPU time of the client process per call,
    which other load on the machine disturbs less than the wall time.
    """
    formatter = microseconds if unit == "us" else milliseconds
    rows = []
    for item in series.values():
        cpu = formatter(statistics.median(item.cpu_values)) if item.cpu_values else "-"
        rows.append([
            item.label,
            formatter(item.median),
            item.describe_iqr(),
            formatter(item.minimum),
            formatter(item.maximum),
            str(len(item.values)),
            cpu,
        ])
    headers = ["client", f"median ({unit}/call)", "IQR (% of median)",
               f"min ({unit})", f"max ({unit})", "rounds", f"client CPU ({unit}/call)"]
    return Table(title, headers, rows)


def ratio_verdict(figure: str, label: str, ratio: Ratio, comparison: str, target: float,
                  primary: bool = True) -> Verdict:
    return Verdict(figure, label, ratio.value, comparison, target,
                   spread=ratio.describe_spread(), primary=primary)


def figure_a(context: Context) -> FigureResult:
    """(a) Sequential calls with the small body on one kept-alive connection."""
    result = FigureResult("a", "Sequential calls, small body (10 sites, "
                               f"{len(context.nginx.small_body):,} bytes), kept-alive connection")
    small = [SMALL_NAMESPACE, *OPERATION]
    transports = [("TLS", context.nginx.tls, True), ("plain HTTP", context.nginx.plain, False)]
    for transport, endpoint, primary in transports:
        assert endpoint is not None
        commands = [
            context.floor("floor (C: libcurl + jansson)", endpoint,
                          "seq", *small, "200", context.count(2000)),
            context.bench_c("opstatus from C", endpoint,
                            "seq", *small, "200", context.count(2000)),
            context.python_peer("opstatus from Python", endpoint,
                                "seq", "opstatus", *small, "100", context.count(800)),
            context.python_peer("requests + json", endpoint,
                                "seq", "requests", *small, "50", context.count(500)),
            context.python_peer("f5xc-py-substrate", endpoint,
                                "seq", "sdk", *small, "50", context.count(400)),
        ]
        series = per_call_rounds(commands, context.rounds)
        floor, c_lib, py_lib, requests, sdk = (series[command.label] for command in commands)
        result.tables.append(series_table(f"{transport}", series))
        prefix = "" if primary else "plain HTTP "
        result.verdicts += [
            ratio_verdict("a", f"{prefix}C/floor", Ratio(c_lib, floor), "<=", 1.10, primary),
            ratio_verdict("a", f"{prefix}Python/floor", Ratio(py_lib, floor), "<=", 1.35, primary),
            ratio_verdict("a", f"{prefix}SDK/Python", Ratio(sdk, py_lib), ">=", 2.5, primary),
            ratio_verdict("a", f"{prefix}requests/Python", Ratio(requests, py_lib), ">=", 3.5, primary),
        ]
        if primary:
            result.commands += [context.display(command) for command in commands]
    result.notes.append(
        "Each process sends its warmup calls (which open the connection), then "
        "times its calls. Python is opstatus.Client.get_status(), C is "
        "opstatus_get_status() followed by opstatus_free(). Targets apply to TLS, and "
        "plain HTTP lines are reported for comparison and not counted."
    )
    return result


def figure_b(context: Context) -> FigureResult:
    """(b) The large body: decoding cost against jansson and the Python clients."""
    size = len(context.nginx.large_body)
    result = FigureResult("b", f"Large body ({servers.LARGE_ITEMS:,} items, {size:,} bytes), TLS")
    endpoint = context.nginx.tls
    assert endpoint is not None
    large = [LARGE_NAMESPACE, *OPERATION]
    commands = [
        context.floor("floor (C: libcurl + jansson)", endpoint, "seq", *large, "2", context.count(12)),
        context.bench_c("opstatus from C", endpoint, "seq", *large, "2", context.count(6)),
        context.floor("jansson json_loadb alone (no network)", endpoint,
                      "parse", str(context.nginx.large_body_file), context.count(12)),
        context.python_peer("opstatus from Python", endpoint,
                            "seq", "opstatus", *large, "2", context.count(6)),
        context.python_peer("requests + json", endpoint,
                            "seq", "requests", *large, "2", context.count(8)),
        context.python_peer("f5xc-py-substrate", endpoint,
                            "seq", "sdk", *large, "2", context.count(6)),
    ]
    series = per_call_rounds(commands, context.rounds)
    floor, c_lib, parse, py_lib, requests, sdk = (series[command.label] for command in commands)
    result.tables.append(series_table("TLS, large body", series, unit="ms"))

    # Transfer and HTTP work, estimated as the floor's call minus its parse.
    transfer = floor.median - parse.median
    decode_estimate = (c_lib.median - transfer) / parse.median
    per_round = [
        (c_value - (f_value - p_value)) / p_value
        for c_value, f_value, p_value in zip(c_lib.values, floor.values, parse.values, strict=True)
    ]
    result.verdicts += [
        ratio_verdict("b", "C/floor", Ratio(c_lib, floor), "<=", 1.30),
        Verdict("b", "C decode+summary/jansson parse (estimate)", decode_estimate, "<=", 1.30,
                spread=f"{len(per_round)} rounds, per-round estimate "
                       f"{min(per_round):.2f} to {max(per_round):.2f}",
                primary=False),
        ratio_verdict("b", "Python/SDK", Ratio(py_lib, sdk), "<=", 1.00),
        ratio_verdict("b", "Python/requests", Ratio(py_lib, requests), "<=", 2.00),
        ratio_verdict("b", "floor (C)/requests (reference)", Ratio(floor, requests), "<=", 2.00,
                      primary=False),
        ratio_verdict("b", "jansson parse alone/requests (reference)", Ratio(parse, requests),
                      "<=", 2.00, primary=False),
    ]
    result.commands += [context.display(command) for command in commands]
    if transfer <= 0:
        result.notes.append(
            "In this run jansson's parse alone took longer than the floor's whole call, "
            "so the time-based estimate below is distorted by noise. The callgrind "
            "profile gives an instruction-based estimate, when it runs."
        )
    result.notes += [
        ("The reference lines compare the floor's whole call, and jansson's parse of the "
         "body alone, with requests + json. The design reads every response with jansson, so "
         "when either of them is above 2.00x, no client built this way can meet the "
         "Python/requests target on this machine: CPython's json module parses the body "
         "faster than jansson does."),
        ("C/floor compares whole calls against the same server: both contain the TLS "
         "transfer of the body, and the floor then only runs json_loadb(), while "
         "opstatus validates every item, computes the summary and returns the result "
         "as JSON text."),
        (f"The estimate takes the transfer as the floor's call minus jansson's parse "
         f"({milliseconds(transfer)} ms) and divides what remains of the opstatus call "
         "by the parse alone. It assumes both clients spend the same time on the "
         "transfer, so it is reported but not counted."),
    ]
    return result


def figure_c(context: Context) -> FigureResult:
    """(c) 1,000 status requests at 25 ms latency: one many-call against a sequential SDK loop."""
    operations = 1000
    sdk_calls = int(context.count(100))
    result = FigureResult("c", f"{operations:,} operations against the emulator with --latency-ms 25")
    directory = Path(tempfile.mkdtemp(prefix="emulator.", dir=context.run_directory))
    emulator = servers.Emulator(context.repository, directory, context.token, latency_ms=25)
    emulator.start()
    try:
        endpoint = emulator.endpoint
        assert endpoint is not None
        operation = [SMALL_NAMESPACE, *OPERATION]
        many_64 = context.bench_c("opstatus_get_status_many_json, max_connections 64", endpoint,
                                  "many", *operation, str(operations), "64")
        many_default = context.bench_c("opstatus_get_status_many_json, default max_connections",
                                       endpoint, "many", *operation, str(operations), "0")
        python_many = context.python_peer("Client.get_status_many (Python), max_connections 64",
                                          endpoint, "many", *operation, str(operations), "64")
        sdk = context.python_peer("f5xc-py-substrate, sequential loop", endpoint,
                                  "seq", "sdk", *operation, "1", str(sdk_calls))

        # Runs per command: a many-call with the default 8 connections takes
        # about 3.5 s and an SDK loop about 3 s, so those run fewer times.
        plan = [(many_64, 3), (many_default, 2), (python_many, 3), (sdk, 3)]
        totals: dict[str, Series] = {}
        python_available = True
        for round_index in range(3):
            for command, runs in plan:
                if round_index >= runs or (command is python_many and not python_available):
                    continue
                output = run_json(command)
                if "unavailable" in output:
                    python_available = False
                    result.notes.append(f"Python get_status_many was not measured: {output['unavailable']}.")
                    continue
                if command is sdk:
                    value = output["seconds"] / output["calls"] * operations
                else:
                    if output["ok"] != operations:
                        raise BenchmarkError(f"{command.label}: {output['ok']} of {operations} succeeded")
                    value = output["seconds"]
                totals.setdefault(command.label, Series(command.label)).values.append(value)

        rows = [[item.label, f"{item.median:.3f}", f"{item.minimum:.3f}", f"{item.maximum:.3f}",
                 str(len(item.values))] for item in totals.values()]
        result.tables.append(Table(
            f"Seconds for {operations:,} status requests (SDK: {sdk_calls} calls, times "
            f"{operations // sdk_calls})",
            ["client", "median (s)", "min (s)", "max (s)", "runs"], rows,
        ))
        sdk_series = totals[sdk.label]
        result.verdicts.append(Verdict(
            "c", "SDK loop/get_status_many (64 connections)",
            sdk_series.median / totals[many_64.label].median, ">=", 20.0,
            spread=f"{len(totals[many_64.label].values)} many-calls, {len(sdk_series.values)} SDK loops",
        ))
        result.verdicts.append(Verdict(
            "c", "SDK loop/get_status_many (default connections)",
            sdk_series.median / totals[many_default.label].median, ">=", 20.0,
            spread=f"{len(totals[many_default.label].values)} many-calls", primary=False,
        ))
        if python_many.label in totals:
            result.verdicts.append(Verdict(
                "c", "SDK loop/Python get_status_many (64 connections)",
                sdk_series.median / totals[python_many.label].median, ">=", 20.0,
                spread=f"{len(totals[python_many.label].values)} many-calls", primary=False,
            ))
        result.commands += [context.display(command) for command in (many_64, many_default, python_many, sdk)]
        result.notes += [
            (f"Every request is for the status of operation {OPERATION_ID}, which the emulator "
             "seeds, and each response has 9 sites. Each many-call runs in a new process with a new "
             "client, so it includes opening its connections."),
            (f"The SDK loop sends {sdk_calls} calls on one kept-alive connection after one "
             f"untimed call, and its time is multiplied by {operations // sdk_calls} to "
             f"estimate {operations:,} calls."),
            ("The default line uses the library's default max_connections (8) and is "
             "reported but not counted."),
        ]
    finally:
        emulator.stop()
    return result


def _peak_rss_kib(argv: list[str], environment: dict[str, str], output: Path) -> int:
    """Run a command to its end under GNU time and return its maximum RSS in KiB.

    Linux carries a process's peak RSS across fork and exec, so a child of
    this Python process would report at least this process's RSS. GNU time
    is a small program, so the figure it reports is the command's own.
    """
    completed = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(output), *argv], env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120, check=False,
    )
    if completed.returncode != 0:
        raise BenchmarkError(f"{shlex.join(argv)} failed with {completed.returncode}: "
                             f"{completed.stderr[-1000:]}")
    return int(output.read_text().split()[-1])


def detect_opstatus_command(context: Context) -> None:
    """Choose the `opstatus` command form that prints a status, or a minimal script.

    The command is tried with --namespace/--name/--id options, then with
    positional arguments. Without a working command, the figure uses
    cold_status.py with the opstatus package, and its notes name the form used.
    """
    endpoint = context.nginx.tls
    assert endpoint is not None
    environment = context.python_environment(endpoint)
    candidates = [
        ("`python -m opstatus status --namespace NS --name LB --id N`",
         [context.python, "-m", "opstatus", "status", "--namespace", SMALL_NAMESPACE,
          "--name", LOAD_BALANCER, "--id", str(OPERATION_ID)]),
        ("`python -m opstatus status NS LB N`",
         [context.python, "-m", "opstatus", "status", SMALL_NAMESPACE, *OPERATION]),
    ]
    for kind, argv in candidates:
        completed = subprocess.run(argv, env=environment, capture_output=True, text=True,
                                   timeout=60, check=False)
        if completed.returncode == 0 and "ves-io-" in completed.stdout:
            context.opstatus_command, context.opstatus_command_kind = argv, kind
            return
    context.opstatus_command = [context.python, str(context.repository / "benchmarks/cold_status.py"),
                                "opstatus", SMALL_NAMESPACE, *OPERATION]
    context.opstatus_command_is_script = True
    context.opstatus_command_kind = ("benchmarks/cold_status.py, a minimal script using the "
                                     "opstatus package, because `python -m opstatus status` "
                                     "did not print a status")


def figure_d(context: Context) -> FigureResult:
    """(d) Cold start: process start to the first status printed, and peak RSS."""
    result = FigureResult("d", "Cold start: process start to status printed (TLS, small body)")
    endpoint = context.nginx.tls
    assert endpoint is not None
    detect_opstatus_command(context)
    assert context.opstatus_command is not None
    script = str(context.repository / "benchmarks/cold_status.py")
    environment = context.python_environment(endpoint)
    programs = [
        ("floor (C)", [str(context.build / "floor"), "status", SMALL_NAMESPACE, *OPERATION]),
        ("opstatus-status (C example)", [str(context.status_example), SMALL_NAMESPACE, *OPERATION]),
        ("opstatus command (Python)", context.opstatus_command),
        ("script with opstatus (Python)", [context.python, script, "opstatus", SMALL_NAMESPACE, *OPERATION]),
        ("script with requests (Python)", [context.python, script, "requests", SMALL_NAMESPACE, *OPERATION]),
        ("script with f5xc-py-substrate (Python)", [context.python, script, "sdk", SMALL_NAMESPACE, *OPERATION]),
    ]
    command = "opstatus command (Python)"
    if context.opstatus_command_is_script:
        programs.pop(2)  # the command is the script, listed once
        command = "script with opstatus (Python)"

    passes = 3
    runs = context.count(10)
    times: dict[str, Series] = {label: Series(label) for label, _ in programs}
    pass_medians: dict[str, list[float]] = {label: [] for label, _ in programs}
    export = context.run_directory / "hyperfine.json"
    for _ in range(passes):
        argv = ["hyperfine", "--shell=none", "--warmup", "2", "--runs", runs,
                "--style", "none", "--export-json", str(export)]
        argv += [shlex.join(program) for _, program in programs]
        completed = subprocess.run(argv, env=environment, capture_output=True, text=True,
                                   timeout=600, check=False)
        if completed.returncode != 0:
            raise BenchmarkError(f"hyperfine failed: {completed.stderr[-2000:]}")
        for (label, _), entry in zip(programs, json.loads(export.read_text())["results"], strict=True):
            times[label].values.extend(entry["times"])
            pass_medians[label].append(statistics.median(entry["times"]))

    rss: dict[str, int] = {}
    for label, program in programs:
        rss_file = context.run_directory / "peak-rss.txt"
        rss[label] = int(statistics.median(
            _peak_rss_kib(program, environment, rss_file) for _ in range(5)
        ))

    rows = []
    for label, _ in programs:
        item = times[label]
        rows.append([label, milliseconds(item.median), item.describe_iqr(),
                     milliseconds(item.minimum), milliseconds(item.maximum),
                     str(len(item.values)), f"{rss[label] / 1024:.1f}"])
    result.tables.append(Table(
        "Wall time from exec to exit, and peak RSS",
        ["program", "median (ms)", "IQR (% of median)", "min (ms)", "max (ms)", "runs",
         "peak RSS (MiB, median of 5)"],
        rows,
    ))

    def time_ratio(top: str, bottom: str) -> tuple[float, str]:
        per_pass = [a / b for a, b in zip(pass_medians[top], pass_medians[bottom], strict=True)]
        spread = (f"{passes} hyperfine passes, per-pass ratio "
                  f"{min(per_pass):.2f} to {max(per_pass):.2f}")
        return times[top].median / times[bottom].median, spread

    checks = [
        ("C example/floor", "opstatus-status (C example)", "floor (C)", "<=", 1.5),
        ("SDK script/opstatus command", "script with f5xc-py-substrate (Python)", command, ">=", 5.0),
        ("requests script/opstatus command", "script with requests (Python)", command, ">=", 1.5),
    ]
    if not context.opstatus_command_is_script:
        script_label = "script with opstatus (Python)"
        checks += [
            ("SDK script/opstatus script", "script with f5xc-py-substrate (Python)", script_label,
             ">=", 5.0),
            ("requests script/opstatus script", "script with requests (Python)", script_label,
             ">=", 1.5),
        ]
    for index, (label, top, bottom, comparison, target) in enumerate(checks):
        value, spread = time_ratio(top, bottom)
        # The first three lines are the targets; the script lines are extra.
        result.verdicts.append(Verdict("d", label, value, comparison, target, spread=spread,
                                       primary=index < 3))
    for peer in ("script with f5xc-py-substrate (Python)", "script with requests (Python)"):
        name = "SDK" if "substrate" in peer else "requests"
        result.verdicts.append(Verdict(
            "d", f"peak RSS opstatus command/{name} script", rss[command] / rss[peer], "<", 1.0,
            spread=f"{rss[command] / 1024:.1f} MiB against {rss[peer] / 1024:.1f} MiB",
        ))

    result.commands += [shlex.join(["hyperfine", "--shell=none", "--warmup", "2", "--runs", runs])
                        + " ..."]
    result.commands += [context.display(Command(label, program, {})) for label, program in programs]
    result.notes += [
        f"The opstatus command row runs {context.opstatus_command_kind}.",
        f"The C example is {context.status_example_origin or context.display_text(str(context.status_example))}.",
        ("All Python programs run on the same interpreter, with the opstatus package "
         "on PYTHONPATH. Each program prints one line per site (the C example and the "
         "opstatus command print their table and summary)."),
        ("Peak RSS is the maximum resident set size that GNU time (/usr/bin/time -f %M) "
         "reports for five further runs of each program. The table shows their median."),
    ]
    return result


def figure_e(context: Context) -> FigureResult:
    """(e) RSS growth between call 1,000 and call 100,000."""
    first, total = 1000, int(context.count(100_000))
    result = FigureResult("e", f"Memory: VmRSS after {first:,} and after {total:,} calls (TLS, small body)")
    endpoint = context.nginx.tls
    assert endpoint is not None
    small = [SMALL_NAMESPACE, *OPERATION]

    commands = [
        context.bench_c("opstatus from C", endpoint, "rss", *small, str(first), str(total)),
        context.python_peer("opstatus from Python", endpoint, "rss", "opstatus", *small,
                            str(first), str(total)),
    ]
    # The two loops run at once, because only their memory is measured.
    processes = [
        subprocess.Popen(command.argv, env=command.environment, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    outputs = []
    try:
        for command, process in zip(commands, processes, strict=True):
            stdout, stderr = process.communicate(timeout=600)
            if process.returncode != 0:
                raise BenchmarkError(f"{command.label} failed: {stderr[-2000:]}")
            outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    except subprocess.TimeoutExpired:
        raise BenchmarkError("the memory loops did not finish within 600 s") from None
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    rows = []
    for command, output in zip(commands, outputs, strict=True):
        growth_mib = (output["rss_total_kib"] - output["rss_first_kib"]) / 1024
        rows.append([command.label, f"{output['rss_first_kib'] / 1024:.2f}",
                     f"{output['rss_total_kib'] / 1024:.2f}", f"{growth_mib:+.2f}",
                     f"{output['seconds']:.1f}"])
        language = command.label.split()[-1]
        result.verdicts.append(Verdict("e", f"{language} RSS growth", growth_mib, "<", 2.0,
                                       unit=" MiB", spread="one run"))
    result.tables.append(Table(
        "VmRSS from /proc/self/status",
        ["client", f"after {first:,} (MiB)", f"after {total:,} (MiB)", "growth (MiB)", "run time (s)"],
        rows,
    ))
    result.commands += [context.display(command) for command in commands]
    result.notes.append("Both loops run at the same time, each in its own process.")
    return result


def figure_f(context: Context) -> FigureResult:
    """(f) Two threads sharing one client against one thread."""
    result = FigureResult("f", "Throughput of two threads sharing one client (C, TLS, small body)")
    endpoint = context.nginx.tls
    assert endpoint is not None
    small = [SMALL_NAMESPACE, *OPERATION]
    calls = 400
    pairs = int(context.count(12))

    commands = [
        context.bench_c("opstatus, two threads sharing one client", endpoint,
                        "scaling", *small, "100", str(calls), str(pairs)),
        context.floor("floor, two threads with a handle each", endpoint,
                      "scaling", *small, "100", str(calls), str(pairs)),
    ]
    # Each process runs `pairs` pairs of phases; a pair's throughput ratio
    # is its one-thread time over its two-thread time, for the same number
    # of calls. Rounds rotate the order of the two programs.
    ratios: dict[str, list[float]] = {command.label: [] for command in commands}
    one_thread = {command.label: Series(command.label) for command in commands}
    two_threads = {command.label: Series(command.label) for command in commands}
    for round_index in range(context.rounds):
        shift = round_index % len(commands)
        for command in commands[shift:] + commands[:shift]:
            output = run_json(command)
            per_call = output["calls_per_phase"]
            cpu_per_call = output["cpu_seconds"] / (2 * per_call * len(output["one"]))
            for one_seconds, two_seconds in zip(output["one"], output["two"], strict=True):
                ratios[command.label].append(one_seconds / two_seconds)
                one_thread[command.label].values.append(one_seconds / per_call)
                one_thread[command.label].cpu_values.append(cpu_per_call)
                two_threads[command.label].values.append(two_seconds / per_call)
                two_threads[command.label].cpu_values.append(cpu_per_call)

    rows = []
    for command in commands:
        label = command.label
        values = ratios[label]
        quartiles = statistics.quantiles(values, n=4, method="inclusive")
        rows.append([label, microseconds(one_thread[label].median),
                     microseconds(two_threads[label].median),
                     f"{statistics.median(values):.2f}", f"{quartiles[0]:.2f} to {quartiles[2]:.2f}",
                     str(len(values))])
    result.tables.append(Table(
        "Wall time per call in one-thread and two-thread phases, and their ratio",
        ["client", "1 thread (us/call)", "2 threads (us/call, all threads together)",
         "throughput ratio (median)", "ratio IQR", "phase pairs"],
        rows,
    ))

    def verdict(label: str, name: str, primary: bool) -> Verdict:
        values = ratios[label]
        return Verdict("f", name, statistics.median(values), ">=", 1.6,
                       spread=f"{len(values)} phase pairs, ratio {min(values):.2f} to {max(values):.2f}",
                       primary=primary)

    result.verdicts.append(verdict(commands[0].label, "2 threads/1 thread throughput", True))
    result.verdicts.append(verdict(commands[1].label, "floor 2 threads/1 thread throughput (reference)",
                                   False))
    result.commands += [context.display(command) for command in commands]
    result.notes += [
        (f"Each process starts two threads, which send 100 warmup calls each, then runs "
         f"{pairs} pairs of phases of {calls} calls: in a one-thread phase one thread sends "
         f"all {calls}, in a two-thread phase each thread sends {calls // 2}. The order of "
         "the phases alternates from pair to pair (one, two, two, one, ...). A phase takes "
         "tens of milliseconds, so a change in other load on the machine mostly affects "
         "both phases of a pair, and the ratio is taken pair by pair."),
        ("The figure is the median of the pairs' ratios of one-thread time to two-thread "
         "time, which is the throughput of two threads over that of one. nginx runs 2 "
         "worker processes on the same 2 cores as the clients."),
        ("The floor lines show what two client threads that share nothing gain on this "
         "machine. They are a reference and are not counted."),
    ]
    return result


FIGURES = {
    "a": figure_a,
    "b": figure_b,
    "c": figure_c,
    "d": figure_d,
    "e": figure_e,
    "f": figure_f,
}


def run_figure(key: str, context: Context) -> FigureResult:
    start = time.monotonic()
    result = FIGURES[key](context)
    result.seconds = time.monotonic() - start
    return result
