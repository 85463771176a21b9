"""Run the opstatus benchmarks against loopback servers and write benchmarks/README.md.

benchmarks/run calls this after it has installed the dependencies and
compiled the C programs. Run that script rather than this file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import figures
import profiling
import report
import servers
from figures import Context, FigureResult, Table
from measure import run_json
from servers import LARGE_NAMESPACE, LOAD_BALANCER, OPERATION_ID, SMALL_NAMESPACE


def parse_arguments(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run", description=__doc__.split("\n")[0])
    parser.add_argument("--figures", default="abcdef",
                        help="figures to run, such as 'a,d' or 'ad' (default: all of a to f)")
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds and a fifth of the calls: for trying changes, noisier")
    parser.add_argument("--profile", action="store_true",
                        help="profile with callgrind and cProfile even when (a) and (b) meet their targets")
    parser.add_argument("--no-readme", action="store_true",
                        help="print the results without rewriting benchmarks/README.md")
    parser.add_argument("--status-example", type=Path, required=True,
                        help="path of the opstatus-status example program")
    parser.add_argument("--status-example-origin", default="",
                        help="how the example program was built, for the README")
    parser.add_argument("--library", type=Path, required=True,
                        help="copy of libopstatus.so.0 that every program of the run loads")
    options = parser.parse_args(arguments)
    keys = [key for key in options.figures.replace(",", "") if not key.isspace()]
    unknown = sorted(set(keys) - set(figures.FIGURES))
    if unknown or not keys:
        parser.error(f"invalid --figures {options.figures!r}: use letters from a to f")
    options.figure_keys = sorted(set(keys))
    return options


def python_profile_table(context: Context, title: str, namespace: str, warmup: int,
                         count: int) -> Table:
    """Profile opstatus.Client.get_status() with cProfile and tabulate the top functions."""
    endpoint = context.nginx.tls
    assert endpoint is not None
    output = run_json(context.python_peer(
        "cProfile of opstatus from Python", endpoint, "profile", "opstatus", namespace,
        LOAD_BALANCER, str(OPERATION_ID), str(warmup), str(count),
    ))
    rows = [[row["function"].replace("|", "\\|"), f"{row['calls_per_call']:.1f}",
             f"{row['own_us_per_call']:,.1f}", f"{row['cumulative_us_per_call']:,.1f}"]
            for row in output["top"]]
    return Table(
        f"{title}: Client.get_status() under cProfile, {count} calls, "
        f"{output['profiled_us_per_call']:,.0f} us/call in all (inflated by cProfile)",
        ["function", "calls per get_status", "own time (us/call)", "cumulative (us/call)"],
        rows,
    )


def run_profiles(context: Context, results: list[FigureResult], forced: bool) -> list[str]:
    """Profile when a counted target of (a) or (b) was missed, and return the README sections."""
    missed = [verdict for result in results if result.key in ("a", "b")
              for verdict in result.verdicts if verdict.primary and not verdict.passed]
    if not missed and not forced:
        return []
    reason = ("because these targets were missed: "
              + ", ".join(f"({verdict.figure}) {verdict.label}" for verdict in missed)
              if missed else "because --profile was given")
    print(f"\n== profiles, {reason}")
    sections = ["## Profile of libopstatus (callgrind)", "",
                f"Run {reason}. Counts are instructions (Ir), not time: they show where",
                "the work goes and repeat from run to run, but one instruction in",
                "OpenSSL or in memcpy does not cost the same time as one in Swift code.",
                "Inclusive costs of nested or recursive functions overlap, so their",
                "shares do not add up to 100%. Debian's jansson and libcurl packages",
                "keep only the names of exported functions, so their internal functions",
                "appear as addresses.", "",
                "In the first table, the last column is the instruction counterpart of",
                "the decode target of figure (b): what a client executes outside the",
                "libcurl transfer, divided by what the floor's json_loadb() executes on",
                "the same bytes.", ""]
    c_profiles = [
        profiling.profile_status_calls(context, "Small body", SMALL_NAMESPACE, 20,
                                       int(context.count(300))),
        profiling.profile_status_calls(context, "Large body", LARGE_NAMESPACE, 1,
                                       int(context.count(3))),
    ]
    for profile in c_profiles:
        for table in profiling.profile_tables(profile):
            print(report.format_text_table(table))
            sections += [report.format_markdown_table(table), ""]
    sections += ["Commands:", "", "```sh"]
    sections += c_profiles[0].commands + ["```", ""]

    python_missed = any("Python" in verdict.label for verdict in missed)
    if python_missed or forced:
        sections += ["## Profile of the Python binding (cProfile)", "",
                     "The functions with the most time of their own during",
                     "`opstatus.Client.get_status()`. cProfile does not record ctypes",
                     "calls, so the own time of `_client.py:call`, the closure that calls",
                     "`opstatus_get_status()`, is the time spent inside libopstatus.", ""]
        for title, namespace, warmup, count in (("Small body", SMALL_NAMESPACE, 100, 500),
                                                ("Large body", LARGE_NAMESPACE, 1, 3)):
            table = python_profile_table(context, title, namespace, warmup, int(context.count(count)))
            print(report.format_text_table(table))
            sections += [report.format_markdown_table(table), ""]
    return sections


def main(arguments: list[str]) -> int:
    options = parse_arguments(arguments)
    started = time.monotonic()
    load_before = report.load_average()
    repository = Path(__file__).resolve().parents[1]
    run_directory = Path(tempfile.mkdtemp(prefix="opstatus-bench."))
    # nginx workers run as an unprivileged user and must reach the large body.
    run_directory.chmod(0o755)
    token = servers.new_token()
    nginx_directory = run_directory / "nginx"
    nginx_directory.mkdir()
    nginx = servers.Nginx(nginx_directory, token)

    results: list[FigureResult] = []
    failures: list[str] = []
    sections: list[str] = []
    try:
        try:
            nginx.start()
        except (RuntimeError, OSError) as error:
            print(f"benchmarks/run: starting nginx failed: {error}", file=sys.stderr)
            return 1
        context = Context(
            repository=repository,
            build=repository / "benchmarks/.build",
            python=sys.executable,
            nginx=nginx,
            run_directory=run_directory,
            token=token,
            status_example=options.status_example.resolve(),
            status_example_origin=options.status_example_origin,
            library=options.library.resolve(),
            scale=0.2 if options.quick else 1.0,
            rounds=3 if options.quick else 11,
        )
        for key in options.figure_keys:
            try:
                result = figures.run_figure(key, context)
            # A figure that fails for any reason is reported, and the other
            # figures still run.
            except Exception as error:  # noqa: BLE001
                failures.append(f"({key}): {context.display_text(str(error))}")
                print(f"\n== figure ({key}) failed: {error}", file=sys.stderr)
                continue
            results.append(result)
            report.print_figure(result)
        try:
            sections = run_profiles(context, results, options.profile)
        except Exception as error:  # noqa: BLE001, as for the figures
            failures.append(f"profile: {context.display_text(str(error))}")
            print(f"\n== profile failed: {error}", file=sys.stderr)
    finally:
        nginx.stop()
        servers.remove_directory(run_directory)

    run_seconds = time.monotonic() - started
    verdicts = [verdict for result in results for verdict in result.verdicts]
    primary = [verdict for verdict in verdicts if verdict.primary]
    print("\n== summary")
    for verdict in verdicts:
        for line in report.verdict_console_lines(verdict):
            print(line)
    print(f"{sum(verdict.passed for verdict in primary)} of {len(primary)} counted targets met, "
          f"whole run {run_seconds:.0f} s, load average {load_before} before and "
          f"{report.load_average()} after")
    if not options.no_readme:
        description = "--quick, " if options.quick else ""
        description += f"figures {', '.join(options.figure_keys)}"
        readme = repository / "benchmarks/README.md"
        facts = report.environment_facts(repository, options.library.resolve())
        facts.append(("load average (1, 5, 15 min)",
                      f"{load_before} before the run, {report.load_average()} after it"))
        report.write_readme(readme, results, facts, sections, run_seconds, description, failures)
        print(f"wrote {readme.relative_to(repository)}")
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
