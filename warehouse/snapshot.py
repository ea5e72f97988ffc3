"""Snapshots of packaged submissions: everything needed to trace a package, and to build it again byte for
byte, after later runs have replaced the year in the warehouse.

``statedata package`` writes ``STATEDATA_HOME/snapshots/<package>_<snapshot id>.duckdb``, a small DuckDB file
with the same schemas as the warehouse, holding only:

* the year's national tables (``platform.*`` rows of the academic year);
* the year's cell lineage (``lineage.cell``);
* every raw row version those rows and that lineage name (``raw.*``, with pedigree);
* the batch log (``audit.batch``) and the national code tables, for the manifest and the review list.

``statedata trace --snapshot`` opens that file instead of the warehouse and runs the same trace; building
the package from it gives the same files, manifest and zip (tested). Recomputing the national rows from the
raw rows as of the snapshot is not needed for that, and is not done.
"""

from pathlib import Path

import duckdb

from warehouse.db import qualified, table_names

SNAPSHOTS = "snapshots"


def snapshot_path(home: Path, stem: str, snapshot_id: str) -> Path:
    return Path(home) / SNAPSHOTS / f"{stem}_{snapshot_id}.duckdb"


def write_snapshot(con: duckdb.DuckDBPyConnection, path: Path, academic_year: str) -> dict:
    """Copy what the year's package needs into ``path`` (replaced if it exists). Returns row counts."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    counts = {}
    con.execute(f"attach '{str(tmp).replace(chr(39), chr(39) * 2)}' as snap")
    try:
        for schema in ("platform", "lineage", "raw", "audit", "core"):
            con.execute(f"create schema snap.{schema}")
        ids = []
        for t in table_names(con, "platform"):
            con.execute(
                f"create table snap.platform.{t} as select * from {qualified('platform', t)} where academic_year = ?",
                [academic_year],
            )
            cols = [r[0] for r in con.execute(f"describe {qualified('platform', t)}").fetchall()]
            if "_raw_ids" in cols:
                ids.append(f"select unnest(_raw_ids) as id from snap.platform.{t}")
        con.execute(
            "create table snap.lineage.cell as select * from lineage.cell where academic_year = ?", [academic_year]
        )
        ids.append("select _raw_id from snap.lineage.cell where _raw_id is not null")
        con.execute(f"create temp table _snapshot_ids as select distinct id from ({' union all '.join(ids)}) as i (id)")
        for t in table_names(con, "raw"):
            con.execute(
                f"create table snap.raw.{t} as select * from {qualified('raw', t)} "
                "where _raw_id in (select id from _snapshot_ids)"
            )
            counts[f"raw.{t}"] = con.execute(f"select count(*) from snap.raw.{t}").fetchall()[0][0]
        con.execute("drop table _snapshot_ids")
        con.execute("create table snap.audit.batch as select * from audit.batch")
        con.execute("create table snap.core.national_code as select * from core.national_code")
        counts["lineage.cell"] = con.execute("select count(*) from snap.lineage.cell").fetchall()[0][0]
    finally:
        con.execute("detach snap")
    tmp.replace(path)
    return counts


def find_snapshot(home: Path, ref: str) -> Path:
    """A snapshot by file, package folder or zip (its manifest names the snapshot), or snapshot id."""
    import json
    import zipfile

    p = Path(ref)
    if p.suffix == ".duckdb" and p.exists():
        return p
    snapshot = ref
    if p.is_dir() and (p / "manifest.json").exists():
        snapshot = json.loads((p / "manifest.json").read_text(encoding="utf-8"))["warehouse_snapshot"]
    elif p.suffix == ".zip" and p.exists():
        with zipfile.ZipFile(p) as z:
            name = next(n for n in z.namelist() if n.endswith("/manifest.json"))
            snapshot = json.loads(z.read(name).decode("utf-8"))["warehouse_snapshot"]
    found = sorted((Path(home) / SNAPSHOTS).glob(f"*_{snapshot}.duckdb"))
    if not found:
        raise FileNotFoundError(
            f"no snapshot {snapshot!r} under {Path(home) / SNAPSHOTS}: snapshots are written by `statedata package`"
        )
    return found[-1]
