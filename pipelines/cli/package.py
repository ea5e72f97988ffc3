"""statedata package: the submission package of one academic year, refused while an error rule fails."""

from pathlib import Path

import click

from expectations.rules import blocking_rules
from model.years import current_academic_year, previous_year
from pipelines.cli.common import checked_year, fail, home_option, load_rules, load_settings, load_specs, make_folder
from reporting.package import PackageError, build_package
from reporting.templates import TemplateError, pack_for_year
from warehouse import db
from warehouse.db import WarehouseError
from warehouse.raw import unreconciled
from warehouse.runlock import Busy, run_lock
from warehouse.snapshot import snapshot_path, write_snapshot


@click.command()
@click.option("--year", "academic_year", default=None, help="Academic year [default: the last completed one].")
@click.option(
    "--out", type=click.Path(file_okay=False), default=None, help="Folder [default: $STATEDATA_HOME/out/packages]."
)
@click.option(
    "--draft",
    is_flag=True,
    help="Build it even while error rules fail, as <code>_<year>_draft, marked as a draft (for reviewers).",
)
@home_option
def package(academic_year, out, draft, home):
    """Write the submission package: every national table, the review list and a manifest, plus a zip.

    It is refused while an error rule of the catalogue fails for the year (see `statedata failures`);
    --draft builds a marked draft beside the last good package instead."""
    settings = load_settings(home, writes=True)
    year = checked_year(academic_year or previous_year(current_academic_year()))
    if out:
        make_folder(Path(out), "the package folder", "--out")
    try:
        pack = pack_for_year(year)
        with run_lock(settings.home, f"package {year}"), db.connect(settings.warehouse) as con:
            db.init(con, settings.college_dir / "codes")
            stale = unreconciled(con, load_specs(settings))
            blocking = blocking_rules(con, load_rules(settings), year)
            if (blocking or stale) and not draft:  # every reason at once
                reasons = []
                if blocking:
                    lines = "\n".join(f"  {r.id} ({r.owner}): {r.message} — {why}" for r, why in blocking)
                    reasons.append(
                        f"{len(blocking)} error rule(s) fail\n{lines}\n"
                        "Fix them at the source (statedata failures --dept <部门>) and run again."
                    )
                if stale:
                    reasons.append(
                        f"{len(stale)} table(s) were last read by their change column only, so a row changed at the "
                        f"source without that column moving may be missing: {', '.join(stale)}\n"
                        f"Run `statedata run --year {year} --full-refresh` (it reads them whole, comparing every row)."
                    )
                raise PackageError(
                    f"the {year} package is refused: " + "\n".join(reasons) + "\nThe last good package is unchanged. "
                    "--draft builds a marked draft for reviewers."
                )
            result = build_package(
                con,
                pack,
                year,
                Path(out) if out else settings.out_dir / "packages",
                blocking=[r.id for r, _ in blocking] if draft else None,
            )
            snap = snapshot_path(settings.home, result.folder.name, result.manifest["warehouse_snapshot"])
            write_snapshot(con, snap, year)
    except (ValueError, TemplateError, Busy, WarehouseError, PackageError) as e:
        fail(str(e))
    m = result.manifest
    if m.get("draft"):
        click.secho(f"DRAFT: error rules fail ({', '.join(m['blocking_rules'])}); not for submission.", fg="yellow")
    click.echo(f"Submission package for {m['school_name']} ({m['school_code']}), {year}:")
    for f in m["files"]:
        click.echo(f"  {f['rows']:>8,}  {f['file']}")
    click.echo(
        f"Template pack {m['template_pack']['pack']} {m['template_pack']['version']}, code lists "
        f"{m['code_lists_version']}, warehouse snapshot {m['warehouse_snapshot']}.\n"
        f"Folder: {result.folder}\nZip:    {result.zip_path}\n"
        f"Snapshot for tracing it later: {snap} ({snap.stat().st_size / 2**20:.1f} MiB)"
    )
