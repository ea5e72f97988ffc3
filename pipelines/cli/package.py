"""statedata package: the submission package of one academic year, refused while an error rule fails."""

from pathlib import Path

import click

import portal
from expectations.rules import STALE, UNCHECKED, blocking_rules
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

    It is refused while an error rule of the catalogue fails for the year (see `statedata failures`) and no
    waiver approved in the review portal covers each of its failing rows, or while a department that owns a
    national table has no valid 上报确认书 (`statedata portal`); --draft builds a marked draft beside the last
    good package instead."""
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
            # the review portal: waivers of failing error rules, and the departments' signatures on this data
            review = portal.package_review(
                settings, con, year, [r.id for r, why in blocking if why not in (STALE, UNCHECKED)]
            )
            blocking = [(r, why) for r, why in blocking if r.id not in review.waived]
            unsigned = review.unsigned
            if (blocking or stale or unsigned) and not draft:  # every reason at once
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
                if unsigned:
                    reasons.append(
                        f"{len(unsigned)} department(s) lack a valid 上报确认书 (sign in `statedata portal`):\n"
                        + "\n".join(f"  {dept}: {why}" for dept, why in unsigned)
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
                # a draft is marked with everything that keeps it from being the submission
                blocking=(
                    [r.id for r, _ in blocking]
                    + [f"unreconciled:{t}" for t in stale]
                    + [f"unsigned:{dept}" for dept, _ in unsigned]
                )
                or None
                if draft
                else None,  # fmt: skip
                review=review.record,
                evidence=review.evidence,
            )
            snap = snapshot_path(settings.home, result.folder.name, result.manifest["warehouse_snapshot"])
            write_snapshot(con, snap, year)
    except (ValueError, TemplateError, Busy, WarehouseError, PackageError) as e:
        fail(str(e))
    m = result.manifest
    if m.get("draft"):
        click.secho(f"DRAFT, not for submission: {', '.join(m['blocking_rules'])}.", fg="yellow")
    click.echo(f"Submission package for {m['school_name']} ({m['school_code']}), {year}:")
    for f in m["files"]:
        click.echo(f"  {f['rows']:>8,}  {f['file']}")
    r = m["review"]
    click.echo(
        f"Signed by {len(r['signoffs'])} department(s); {len(r['waivers'])} waiver(s), "
        f"{len(r['evidence'])} evidence file(s) included (manifest.json, review)."
    )
    for w in r["waivers"]:
        click.echo(f"  waiver #{w['id']} {w['rule']} ({w['department']}): approved by {w['approved_by']} until "
                   f"{w['expires']}")  # fmt: skip
    click.echo(
        f"Template pack {m['template_pack']['pack']} {m['template_pack']['version']}, code lists "
        f"{m['code_lists_version']}, warehouse snapshot {m['warehouse_snapshot']}.\n"
        f"Folder: {result.folder}\nZip:    {result.zip_path}\n"
        f"Snapshot for tracing it later: {snap} ({snap.stat().st_size / 2**20:.1f} MiB)"
    )
