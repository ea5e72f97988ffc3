"""Benchmark: the whole pipeline at a given demo scale, as a user runs it (`statedata run`).

Prints wall time, peak memory (RSS of the run's process) and rows per second for each stage.
Not a test: it measures and reports, it does not assert. Usage:

    python scripts/benchmark.py --scale large            # generates the demo first if needed
    python scripts/benchmark.py --scale large --runs 2   # second run shows the no-change nightly cost
    python scripts/benchmark.py --scale default --runs 3 --change-percent 1
        # run 1 full, run 2 with no source changes, run 3 after changing 1% of the rows of every SQL source table
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="large", choices=["small", "default", "large"])
    ap.add_argument("--home", default=None, help="working folder (default: a new temporary folder)")
    ap.add_argument("--year", default="2026-2027")
    ap.add_argument("--runs", type=int, default=1, help="consecutive runs on the same warehouse")
    ap.add_argument(
        "--change-percent",
        type=float,
        default=0,
        help="before the last run, change this share of the rows of every SQL source table",
    )
    args = ap.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix=f"statedata-bench-{args.scale}-")).resolve()
    env = {**os.environ, "STATEDATA_HOME": str(home), "DAGSTER_HOME": ""}
    env.pop("DAGSTER_HOME")
    exe = [sys.executable, "-m", "pipelines.cli"]
    if not (home / "demo" / "manifest.json").exists():
        t = time.perf_counter()
        subprocess.run([*exe, "demo", "--scale", args.scale, "--year", args.year[:4]], env=env, check=True)
        print(f"demo generation ({args.scale}): {time.perf_counter() - t:.1f}s (not part of the pipeline)\n")
    for i in range(args.runs):
        if args.change_percent and i == args.runs - 1 and i > 0:
            changed = change_sources(home / "demo", args.change_percent)
            print(f"changed {changed:,} source rows ({args.change_percent}% of each SQL source table)\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        res = subprocess.run(
            [*exe, "run", "--year", args.year, "--json", "--quiet"], env=env, capture_output=True, text=True
        )
        wall = time.perf_counter() - t
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if res.returncode != 0:
            print(res.stdout[-3000:], res.stderr[-3000:], file=sys.stderr)
            sys.exit(res.returncode)
        summary = json.loads(res.stdout)
        report(summary, wall, peak_mb if peak_mb > before / 1024 else before / 1024, f"run {i + 1}", home)


def change_sources(demo: Path, percent: float) -> int:
    """Edit a mapped text column of every n-th row of each SQL source table, stamping its change column."""
    import sqlite3

    from model.mapping import load_mappings
    from model.settings import Settings

    every = max(1, round(100 / percent))
    total = 0
    for spec in load_mappings(Settings.from_env().mappings_dir).values():
        if spec.kind != "sql":
            continue
        with sqlite3.connect(demo / f"{spec.system}.sqlite") as con:
            for e in spec.entities.values():
                pk = {e.fields[k].column for k in e.primary_key}
                text = [
                    f.column
                    for f in e.fields.values()
                    if f.type == "string" and f.column not in pk and f.column != e.change_column
                ]
                if not text:
                    continue
                stamp = f", \"{e.change_column}\" = '2099-01-01 00:00:00'" if e.change_column else ""
                cur = con.execute(
                    f'update "{e.table}" set "{text[-1]}" = coalesce("{text[-1]}", \'\') || \'*\''
                    f"{stamp} where rowid % {every} = 0"
                )
                total += cur.rowcount
    return total


def report(s: dict, wall: float, peak_mb: float, label: str, home: Path) -> None:
    rows = s["row_counts"]
    steps = s["timings_s"]["by_step"]
    stage_rows: dict[str, int] = {}
    for step in steps:
        if step.startswith("extract_"):
            system = step[len("extract_") :]
            n = sum(v for k, v in rows.items() if k.startswith(f"raw.{system}__"))
            stage_rows["extract+load+staging"] = stage_rows.get("extract+load+staging", 0) + n
        elif "__" in step and not ("key_unique" in step or "accounting" in step):
            layer = step.split("__")[0]
            table = step.split("__", 1)[1]
            stage_rows[layer] = stage_rows.get(layer, 0) + rows.get(f"{layer}.{table}", 0)
    stage_rows["extract+load+staging"] = s["accounting"]["rows_read"]  # rows read this run (incremental: fewer)
    stage_time = {"extract+load+staging": 0.0}
    for step, sec in steps.items():
        if step.startswith("extract_"):
            stage_time["extract+load+staging"] += sec
        elif "key_unique" in step or "accounting" in step:
            stage_time["checks"] = stage_time.get("checks", 0) + sec
        else:
            stage_time[step.split("__")[0]] = stage_time.get(step.split("__")[0], 0) + sec
    print(f"== {label}: {s['academic_year']}, warehouse {home / 'warehouse.duckdb'}")
    print(f"{'stage':<22}{'seconds':>10}{'rows':>14}{'rows/s':>14}")
    for stage, sec in stage_time.items():
        n = stage_rows.get(stage)
        rate = f"{n / sec:,.0f}" if n and sec else ""
        print(f"{stage:<22}{sec:>10.2f}{(f'{n:,}' if n else ''):>14}{rate:>14}")
    in_steps = sum(steps.values())
    print(f"{'(dagster overhead)':<22}{s['timings_s']['total'] - in_steps:>10.2f}")
    print(f"{'wall (whole command)':<22}{wall:>10.2f}")
    print(f"peak memory (RSS of the run process): {peak_mb:,.0f} MiB")
    size = (home / "warehouse.duckdb").stat().st_size / 2**20
    print(
        f"warehouse file: {size:,.0f} MiB; checks: {s['checks']['evaluated']} evaluated, "
        f"{s['checks']['failed_error']} errors, {s['checks']['failed_warn']} warnings\n"
    )
    for name in ("extract_academic", "extract_library"):
        if name in steps:
            print(f"  {name}: {steps[name]:.2f}s")
    print()


if __name__ == "__main__":
    main()
