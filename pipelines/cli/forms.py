"""statedata forms: blank workbooks for the tables no campus system holds, one folder per department."""

from pathlib import Path

import click

from model.mapping import load_mapping
from model.years import current_academic_year
from pipelines.cli.common import checked_year, fail, home_option, load_settings, make_folder
from reporting.forms import form_department, form_file_name, loaded_school_name, write_form


@click.command()
@click.option("--year", "academic_year", default=None, help="Academic year [default: the current one].")
@click.option(
    "--out", type=click.Path(file_okay=False), default=None, help="Folder [default: $STATEDATA_HOME/out/forms/<year>]."
)
@home_option
def forms(academic_year, out, home):
    """Write the blank department forms (tables no campus system holds), one folder per department."""
    settings = load_settings(home)
    year = checked_year(academic_year or current_academic_year())
    try:
        spec = load_mapping(settings.mappings_dir / "forms.yaml")
    except (ValueError, OSError) as e:
        fail(str(e))
    folder = make_folder(Path(out) if out else settings.out_dir / "forms" / year, "the forms folder",
                         "--out" if out else "STATEDATA_HOME or --home")  # fmt: skip
    school = loaded_school_name(settings.warehouse)
    for e in spec.entities.values():
        dept = form_department(spec, e)
        path = write_form(folder / dept / form_file_name(e, year), spec, e, year, school)
        click.echo(f"  {dept}: {path.relative_to(folder)}")
    click.echo(
        f"Blank forms for {year} written to {folder}.\nFilled forms go into the forms drop folder "
        f"(STATEDATA_FORMS_DIR); the next run loads them and records 填报人 and 填报日期."
    )
