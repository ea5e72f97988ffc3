"""statedata init: a starting mapping file for a new source, by introspection."""

from pathlib import Path

import click

from connectors.introspect import IntrospectError, draft, read_folder, read_sql
from connectors.sql import parse_url, redact
from model.canonical import load_model
from pipelines.cli.common import fail, home_option, load_settings, make_folder, url_problem


@click.command()
@click.option("--from", "source", required=True, help="The source: a SQLAlchemy URL, or a folder of file drops.")
@click.option("--system", required=True, help="Short lowercase name of the system (hr, academic, erp …).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Where to write [default: <college folder>/mappings/<system>.yaml].")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace an existing file.")
@home_option
def init(source, system, out, force, home):
    """Draft a mapping file for a new source from its tables (or files) and the canonical model.

    Every table becomes an entity of the model it matches best, with every field of that entity listed:
    the column that matches it, or a TODO. Check it, then run `statedata doctor`. The URL is not written
    to the file: set it in the environment variable the file names (STATEDATA_<SYSTEM>_URL or _DIR)."""
    settings = load_settings(home)
    if not system.isidentifier() or system.lower() != system:
        fail(f"--system {system!r}: expected a short lowercase name such as hr or academic", 2)
    folder = Path(source)
    kind = "files" if folder.is_dir() else "sql"
    if kind == "sql":
        if "://" not in source:
            fail(f"--from {source!r}: no such folder, and not a SQLAlchemy URL (dialect://user:password@host/db)", 2)
        if problem := url_problem("--from", source):
            fail(problem, 2)
        url = parse_url(source)
        if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
            fail(f"--from {redact(source)}: no such SQLite file {url.database or '(none named)'}", 2)  # never made
    env = f"STATEDATA_{system.upper()}_{'DIR' if kind == 'files' else 'URL'}"
    try:
        tables = read_folder(folder) if kind == "files" else read_sql(source)
    except IntrospectError as e:
        fail(str(e))
    path = Path(out) if out else settings.college_dir / "mappings" / f"{system}.yaml"
    if path.exists() and not force:
        fail(f"{path} exists; use --force to replace it, or --out for another file", 2)
    make_folder(path.parent, "the mapping folder", "--out" if out else "STATEDATA_COLLEGE")
    path.write_text(draft(system, env, kind, tables, load_model()), encoding="utf-8")
    click.echo(f"wrote {path}: {len(tables)} entities drafted; set {env}, fill the TODOs, then `statedata doctor`")
