"""Benchmark: the whole pipeline at a demo scale, as a user runs it (`statedata run`), beside the I/O floor
measured in the same invocation. `make bench` runs it on `large`.

The floor is the least work any pipeline must do with these sources: read every mapped column of every SQL
source table through ConnectorX into Arrow and then into DuckDB, read every drop file (calamine / CSV
decoding), and write the biggest national table once with xlsxwriter. Runs: 1 full (a new warehouse),
2 with no source change (skipped: warehouse/inputs.py), then ``--nights`` − 1 more of them (their wall times and
the warehouse's growth), 3 after changing ``--change-percent`` of the rows of each SQL source table of one system
(``--change-system``: a department's fixes), 4 after changing that share of the rows of every SQL source table.
For each run: wall time of the whole command (process start included), its peak memory (resident, with the second
process of warehouse/offload.py), warehouse size, the ratio to the floor, and the time per stage. Not a test: it
measures and reports, it does not assert. Usage:

    python scripts/benchmark.py --scale large                       # full, no-change and two 1%-change runs
    python scripts/benchmark.py --scale default,large --runs 1      # growth from one scale to the next
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="large", help="small, default or large; several: default,large")
    ap.add_argument("--home", default=None, help="working folder (default: a new temporary folder per scale)")
    ap.add_argument("--year", default="2026-2027")
    ap.add_argument("--runs", type=int, default=4, help="consecutive runs on the same warehouse (1 to 4)")
    ap.add_argument("--change-percent", type=float, default=1, help="share of rows changed before runs 3 and 4")
    ap.add_argument("--change-system", default="hr", help="the one source system changed before run 3")
    ap.add_argument("--nights", type=int, default=10, help="runs with nothing changed (warehouse growth)")
    args = ap.parse_args()
    lines = []
    for scale in args.scale.split(","):
        lines.append(bench(scale, args))
    if len(lines) > 1:
        print("== growth: full run per source row")
        for scale, rows, wall, floor in lines:
            print(f"  {scale:<8} {rows:>12,} source rows  {wall:>7.1f}s  {wall / rows * 1e6:>6.1f} µs/row  "
                  f"floor {floor:>6.1f}s ({floor / rows * 1e6:.1f} µs/row)")  # fmt: skip


def bench(scale: str, args) -> tuple[str, int, float, float]:
    home = Path(args.home or tempfile.mkdtemp(prefix=f"statedata-bench-{scale}-")).resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATEDATA_", "DAGSTER_"))}
    env["STATEDATA_HOME"] = str(home)
    os.environ.update(env)  # for the floor, measured in this process
    exe = [sys.executable, "-m", "pipelines.cli"]
    if not (home / "demo" / "manifest.json").exists():
        t = time.perf_counter()
        subprocess.run([*exe, "demo", "--scale", scale, "--year", args.year[:4]], env=env, check=True)
        print(f"demo generation ({scale}): {time.perf_counter() - t:.1f}s (not part of the pipeline)\n")
    figures = []
    pct = f"{args.change_percent:g}%"
    for i in range(min(args.runs, 4)):
        label = ("full run", "no change", f"{pct} of {args.change_system}", f"{pct} of every table")[i]
        if i >= 2:
            system = args.change_system if i == 2 else None
            changed = change_sources(home / "demo", args.change_percent, system)
            print(f"changed {changed:,} source rows ({pct} of each SQL source table of {system or 'every system'})\n")
        t = time.perf_counter()
        code, out, err, peak_mb = run_child([*exe, "run", "--year", args.year, "--json", "--quiet"], env)
        wall = time.perf_counter() - t
        if code != 0:
            print(out[-3000:], err[-3000:], file=sys.stderr)
            sys.exit(code)
        summary = json.loads(out)
        report(summary, wall, peak_mb, f"{scale}, run {i + 1} ({label})", home)
        figures.append((label, wall, peak_mb, (home / "warehouse.duckdb").stat().st_size / 2**20, summary))
        if i == 1 and args.nights > 1:
            figures.append(quiet_nights(exe, env, args, home, figures[-1][3]))
    floor = measure_floor(home, args.year, figures[0][4])
    full = figures[0][1]
    print(f"== {scale}: statedata beside the floor (same machine, same invocation)")
    print(f"{'figure':<20}{'statedata':>11}{'floor':>9}{'ratio':>8}{'of full':>9}{'peak MiB':>10}{'warehouse MiB':>15}")
    for label, wall, peak, size, _ in figures:
        first = label == "full run"
        floor_s = f"{floor['total']:.1f}s" if first else ""
        ratio = f"{wall / floor['total']:.1f}x" if first else ""
        print(f"{label:<20}{wall:>10.1f}s{floor_s:>9}{ratio:>8}{wall / full:>8.0%}{peak:>10,.0f}{size:>15,.0f}")
    print(
        f"floor: read {floor['sql_rows']:,} SQL rows {floor['sql_s']:.1f}s, {floor['files']} drop files "
        f"({floor['file_rows']:,} rows) {floor['files_s']:.1f}s, write {floor['table']} "
        f"({floor['table_rows']:,} rows) {floor['write_s']:.1f}s\n"
    )
    return scale, figures[0][4]["accounting"]["rows_read"], full, floor["total"]


def quiet_nights(exe: list[str], env: dict, args, home: Path, size_after_one: float) -> tuple:
    """More runs with nothing changed (the no-change run above was the first): their wall times, and the
    warehouse's size after the last beside after the first."""
    walls, peak = [], 0.0
    for _ in range(args.nights - 1):
        t = time.perf_counter()
        code, out, err, peak_mb = run_child([*exe, "run", "--year", args.year, "--json", "--quiet"], env)
        walls.append(time.perf_counter() - t)
        peak = max(peak, peak_mb)
        if code != 0 or "skipped" not in json.loads(out):
            print(out[-3000:], err[-3000:], file=sys.stderr)
            sys.exit(f"a run with nothing changed was not skipped (exit {code})")
    size = (home / "warehouse.duckdb").stat().st_size / 2**20
    walls.sort()
    median = walls[len(walls) // 2]
    print(f"== {args.nights} runs with nothing changed: wall min {walls[0]:.2f}s, median {median:.2f}s, "
          f"max {walls[-1]:.2f}s (the first is above); warehouse after the first {size_after_one:,.1f} MiB, after the "
          f"last {size:,.1f} MiB ({size / size_after_one - 1:+.2%})\n")  # fmt: skip
    return f"no change ×{args.nights}", median, peak, size, None


def run_child(cmd: list[str], env: dict) -> tuple[int, str, str, float]:
    """Run a command; its exit code, output, error output and peak memory in MiB: the largest sum of the resident
    memory of the process and its children (the second process of warehouse/offload.py), sampled every 0.1 s, or
    the process's own peak RSS (from wait4) if that is larger."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        sampled, done = [0], threading.Event()

        def sample():
            while not done.wait(0.1):
                sampled[0] = max(sampled[0], sum(_rss_kib(p) for p in _tree(proc.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), max(usage.ru_maxrss, sampled[0]) / 1024


def _tree(pid: int) -> list[int]:
    """A process and its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:  # ended meanwhile
            continue
    return found


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
    except OSError:
        return 0


def measure_floor(home: Path, year: str, summary: dict) -> dict:
    """The least work: every mapped SQL column through ConnectorX into Arrow and DuckDB, every drop file read,
    the biggest national table of the run written once."""
    import connectorx as cx
    import duckdb

    from connectors.files import FileSource, read_rows
    from connectors.sql import SqlSource
    from model.mapping import load_mappings
    from model.settings import Settings
    from reporting.export import write_table
    from reporting.templates import pack_for_year

    settings = Settings.from_env()
    out = dict(sql_rows=0, sql_s=0.0, files=0, file_rows=0, files_s=0.0)
    scratch = Path(tempfile.mkdtemp(prefix="statedata-floor-"))
    with duckdb.connect(str(scratch / "floor.duckdb")) as con:
        for spec in load_mappings(settings.mappings_dir).values():
            location = settings.source_location(spec)
            if spec.kind == "sql":
                src = SqlSource(spec, location)
                url = src._connectorx_url()
                for e in spec.entities.values():
                    cols = ", ".join(f'"{f.column}"' for f in e.fields.values())
                    t = time.perf_counter()
                    arrow = cx.read_sql(url, f'select {cols} from "{e.table}"', return_type="arrow")
                    con.execute(f"create or replace table {spec.system}__{e.name} as select * from arrow")
                    out["sql_s"] += time.perf_counter() - t
                    out["sql_rows"] += arrow.num_rows
                src.close()
            else:
                src = FileSource(spec, location)
                for e in spec.entities.values():
                    for path in src.files(e):
                        t = time.perf_counter()
                        _, rows = read_rows(path, e.sheet)
                        out["files_s"] += time.perf_counter() - t
                        out["files"] += 1
                        out["file_rows"] += len(rows)
    pack = pack_for_year(year)
    table = max(
        pack.tables, key=lambda t: summary["row_counts"].get(f"platform.{t.source_table}", 0) if not t.where else 0
    )
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        t = time.perf_counter()
        out["table_rows"] = write_table(con, table, year, scratch / table.file_name)
        out["write_s"] = time.perf_counter() - t
    out["table"] = f"{table.number} {table.name}"
    out["total"] = out["sql_s"] + out["files_s"] + out["write_s"]
    return out


def change_sources(demo: Path, percent: float, system: str | None = None) -> int:
    """Edit a mapped text column of every n-th row of each SQL source table (of one system, or of all), stamping
    its change column."""
    import sqlite3

    from model.mapping import load_mappings
    from model.settings import Settings

    every = max(1, round(100 / percent))
    total = 0
    for spec in load_mappings(Settings.from_env().mappings_dir).values():
        if spec.kind != "sql" or system not in (None, spec.system):
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
    if s.get("skipped"):
        k = s["skipped"]
        print(f"== {label}: nothing changed since run {k['unchanged_since']}: skipped; clock rules re-checked: "
              f"{', '.join(k['rules_rechecked'])}")  # fmt: skip
        size = (home / "warehouse.duckdb").stat().st_size / 2**20
        print(f"wall (whole command) {wall:.2f}s, in the command {s['timings_s']['total']:.2f}s; peak memory "
              f"{peak_mb:,.0f} MiB; warehouse file {size:,.1f} MiB\n")  # fmt: skip
        return
    rows = s["row_counts"]
    steps = s["timings_s"]["by_step"]
    stage_rows: dict[str, int] = {}
    for step in steps:
        if step.startswith("extract_"):
            system = step[len("extract_") :]
            n = sum(v for k, v in rows.items() if k.startswith(f"raw.{system}__"))
            stage_rows["extract+load+staging"] = stage_rows.get("extract+load+staging", 0) + n
        elif step in ("core", "platform"):  # one step builds every table of the layer (those kept included)
            stage_rows[step] = sum(v for k, v in rows.items() if k.startswith(f"{step}."))
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
    print(f"peak memory (the run process with its second process): {peak_mb:,.0f} MiB")
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
