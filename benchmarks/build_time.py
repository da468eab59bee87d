"""Build time of `tttgen build llama-3.1-70b --device p150 --no-fit-check --ttnn-check off`, this tree against a
base checkout in the same session (issue 26's goal: <= 1.2 s median, black's cache off, a fresh process per run).

Each run is a fresh process; trees alternate run by run so load on a shared machine falls on both alike. Per
scenario: the median and minimum wall time and the median CPU time (user + system of the child: less sensitive to
other processes on the machine than wall time) over --runs runs after one warm-up run per tree, and this tree's
medians as a ratio of the base's. Scenarios:
  cold         black's cache off (TTTGEN_BLACK_CACHE=off), compiled templates cached (jinja2's bytecode cache, as
               Python caches .pyc; on the base, which has no such cache, the same as `cold, no caches`)
  cold, no caches   black's cache off and compiled templates not cached (TTTGEN_JINJA_CACHE=off)
  cold, black serial   as cold, with black formatting every file in the build's own process
               (TTTGEN_BLACK_PARALLEL=off: no formatter process importing black while the build plans and
               formatting beside it; the same CPU work)
  warm         black's cache on (a fresh directory the warm-up run fills)
Python's own .pyc files are written by the warm-up run in every scenario (PYTHONDONTWRITEBYTECODE is unset).

    python benchmarks/build_time.py [--base DIR] [--runs N] [--scenario NAME ...]

--base DIR: a checkout of the base commit (e.g. `git worktree add /tmp/base <commit>`); without it only this tree
is timed. Output: a markdown table. No assertion on the times: the goal is read off the table.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 1.2
ARGS = ["build", "llama-3.1-70b", "--device", "p150", "--no-fit-check", "--ttnn-check", "off", "--force"]
SCENARIOS = {
    "cold": {"TTTGEN_BLACK_CACHE": "off"},
    "cold, no caches": {"TTTGEN_BLACK_CACHE": "off", "TTTGEN_JINJA_CACHE": "off"},
    "cold, black serial": {"TTTGEN_BLACK_CACHE": "off", "TTTGEN_BLACK_PARALLEL": "off"},
    "warm": {},
}


def run_once(tree: Path, env: dict[str, str], out: str) -> tuple[float, float]:
    """(wall s, CPU s) of one build in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tttgen", *ARGS, "--out", out], cwd=tree, env=env, check=True, capture_output=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def environment(tree: Path, scenario: str, scratch: Path) -> dict[str, str]:
    ours = ("PYTHONDONTWRITEBYTECODE", "TTTGEN_BLACK_CACHE", "TTTGEN_JINJA_CACHE", "TTTGEN_BLACK_PARALLEL")
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env["PYTHONPATH"] = str(tree)
    env.update(SCENARIOS[scenario])
    if "TTTGEN_BLACK_CACHE" not in env:  # warm: a cache of its own, filled by the warm-up run
        env["TTTGEN_BLACK_CACHE"] = str(scratch / f"black-{tree.name}")
    return env


def measure(trees: dict[str, Path], scenario: str, runs: int, scratch: Path) -> dict[str, tuple[list, list]]:
    envs = {name: environment(tree, scenario, scratch) for name, tree in trees.items()}
    out = str(scratch / "out")
    for name, tree in trees.items():
        run_once(tree, envs[name], out)  # warm-up: .pyc files, compiled templates, the warm black cache
    times: dict[str, tuple[list, list]] = {name: ([], []) for name in trees}
    for _ in range(runs):
        for name, tree in trees.items():
            wall, cpu = run_once(tree, envs[name], out)
            times[name][0].append(wall)
            times[name][1].append(cpu)
    return times


def table(results: dict[str, dict[str, tuple[list, list]]], runs: int) -> list[str]:
    lines = [
        f"`tttgen {' '.join(ARGS)}`, {runs} fresh processes per row after a warm-up (goal: median wall <= {GOAL_S} s, "
        "black's cache off)",
        "",
        "| scenario | tree | wall median s | wall min s | CPU median s | wall vs base | CPU vs base |",
        "|---|---|---|---|---|---|---|",
    ]
    for scenario, times in results.items():
        base = times.get("base")
        for name, (wall, cpu) in times.items():
            ratio_wall = ratio_cpu = "-"
            if base is not None and name != "base":
                ratio_wall = f"{statistics.median(wall) / statistics.median(base[0]):.2f}"
                ratio_cpu = f"{statistics.median(cpu) / statistics.median(base[1]):.2f}"
            lines.append(
                f"| {scenario} | {name} | {statistics.median(wall):.2f} | {min(wall):.2f} | "
                f"{statistics.median(cpu):.2f} | {ratio_wall} | {ratio_cpu} |"
            )
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        lines += ["", f"load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} cores"]
    except OSError:
        pass
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="a checkout of the base commit, timed alongside this tree")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all")
    args = parser.parse_args(argv)
    trees = {"base": args.base.resolve()} if args.base else {}
    trees["this tree"] = ROOT
    results = {}
    start_load = os.getloadavg() if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in args.scenario or list(SCENARIOS):
            results[scenario] = measure(trees, scenario, args.runs, Path(tmp))
    lines = table(results, args.runs)
    if start_load is not None:
        lines.append(f"load average at the start (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in start_load)}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
