"""statedata doctor: the college's configuration checked against the canonical model and its live sources."""

import click

from expectations.doctor import check
from model.canonical import ModelError, load_model
from model.years import current_academic_year
from pipelines.cli.common import fail, home_option, load_settings
from reporting.templates import TemplateError, pack_for_year

MARK = {"error": ("错误 error", "red"), "warning": ("警告 warning", "yellow"), "note": ("提示 note", None)}


@click.command()
@click.option("--no-sources", is_flag=True, help="Check the mapping files against the model only; read no source.")
@click.option("--notes/--no-notes", default=False, help="Also list the notes (mapped fields the model does not use).")
@home_option
def doctor(no_sources, notes, home):
    """Check the college's mapping folder against the canonical model and the live sources, before a run.

    Lists every problem at once, each with the mapping file and key: mapping files that do not parse,
    entities and fields the model does not know, types that do not fit, required fields not mapped, entities
    nothing feeds and the national tables they leave empty, sources that cannot be reached, missing tables
    or columns, expressions that fail, code values no translation covers, repeated keys. Exits 1 when
    there is an error (a run would fail or refuse to start), 0 otherwise."""
    settings = load_settings(home)
    try:
        model = load_model()
        pack = pack_for_year(current_academic_year())
    except (ModelError, TemplateError) as e:
        fail(str(e), 2)
    click.echo(f"statedata doctor: {settings.college_dir} (mappings {settings.mappings_dir})")
    found = check(settings, model, pack, read_sources=not no_sources, progress=lambda m: click.echo(f"  … {m}"))
    counts = {level: sum(p.level == level for p in found) for level in MARK}
    for p in found:
        if p.level == "note" and not notes:
            continue
        label, colour = MARK[p.level]
        click.secho(f"{label:<12} {p.where}: {p.message}", fg=colour)
    click.echo(
        f"{counts['error']} errors, {counts['warning']} warnings, {counts['note']} notes"
        + ("" if notes or not counts["note"] else " (--notes lists them)")
        + ("; sources not read (--no-sources)" if no_sources else "")
    )
    if counts["error"]:
        raise SystemExit(1)
