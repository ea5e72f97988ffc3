"""statedata demo: generate the demo college's source systems (a development extra: needs faker)."""

import time
from pathlib import Path

import click

import portal
from model.years import FIRST_ACADEMIC_YEAR, current_academic_year
from pipelines.cli.common import fail, home_option, load_settings, make_folder


@click.command()
@click.option(
    "--scale",
    type=click.Choice(["small", "default", "large"]),
    default="default",
    show_default=True,
    help="small ≈ 2k students (tests), default ≈ 8k, large ≈ 30k students and 1.5M library items.",
)
@click.option("--clean", is_flag=True, help="Inject no defects (by default a documented set is injected).")
@click.option("--year", type=int, default=None, help="Start year of the current academic year [default: today's].")
@click.option("--seed", type=int, default=20260901, show_default=True)
@click.option("--school-code", default="4141099999", show_default=True, help="学校标识码 of the demo college.")
@click.option("--school-name", default="示例职业技术学院", show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Folder [default: $STATEDATA_HOME/demo].")
@home_option
@click.option("--if-missing", is_flag=True, help="Do nothing if a demo campus already exists there.")
def demo(scale, clean, year, seed, school_code, school_name, out, home, if_missing):
    """Generate the demo college's source systems (deterministic for the same options)."""
    settings = load_settings(home, writes=out is None)
    this_year = int(current_academic_year()[:4])
    if year is not None and not FIRST_ACADEMIC_YEAR <= year <= this_year:
        fail(f"--year {year}: expected the start year of an academic year statedata runs, from {FIRST_ACADEMIC_YEAR} "
             "to the current one's", 2)  # fmt: skip
    try:  # the generator needs the demo extra (faker); the product does not
        from demo_campus.generator import GeneratorConfig, generate
    except ImportError as e:
        fail(f"the demo generator needs the demo extra ({e}): pip install -e '.[demo]'")
    folder = make_folder(Path(out), "the demo folder", "--out") if out else settings.demo_dir
    if if_missing and (folder / "manifest.json").exists():
        click.echo(f"Demo campus already in {folder} (delete it or drop --if-missing to regenerate).")
        return
    year = year or this_year
    click.echo(f"Generating the demo campus ({scale}, academic year {year}-{year + 1}) into {folder} …")
    t = time.perf_counter()
    summary = generate(
        GeneratorConfig(
            out_dir=folder,
            scale=scale,
            year=year,
            seed=seed,
            clean=clean,
            school_code=school_code,
            school_name=school_name,
        )
    )
    click.echo(
        f"Done in {time.perf_counter() - t:.1f}s: {sum(summary['row_counts'].values()):,} source rows, "
        f"{len(summary['defects'])} injected defects ({len({d['kind'] for d in summary['defects']})} kinds)."
    )
    truth = summary["truth"][f"{year}-{year + 1}"]
    click.echo(
        f"True counts on {truth['stock_date']}: {truth['enrolled_students']:,} enrolled students, "
        f"{truth['full_time_teachers']:,} full-time teachers (see {folder / 'manifest.json'})."
    )
    if out is None:
        _portal_users(settings, f"{year}-{year + 1}")


def _portal_users(settings, academic_year: str) -> None:
    """The review portal's demo users: one per college-wide role, a collector and a head per department."""
    made, password = portal.demo_users(settings, academic_year)
    click.echo(
        f"Review portal (statedata portal): {len(made)} demo users, password {password!r} (demo only), e.g. "
        f"{', '.join(u for u, _, _ in made[:5])} … (docs/portal.md)"
    )
