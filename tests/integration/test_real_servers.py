"""The pipeline against real servers: the demo's academic system in PostgreSQL, its HR system in MariaDB.

The servers are started and stopped here, on 127.0.0.1 only. Where the server packages are missing
these tests are skipped with the reason, except under CI (CI=true), where .ci/run installs them and
a missing server is a failure.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ACADEMIC_YEAR, cli_env
from tests.integration.servers import (
    MariaDBServer,
    PostgresServer,
    copy_sqlite,
    free_port,
    mariadb_bin,
    postgres_bin,
)


def _require(found, package: str):
    if found is None:
        msg = f"{package} is not installed (apt-get install {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + ": .ci/run should have installed it")
        pytest.skip(msg)


@pytest.fixture(scope="module")
def servers(demo_src):
    _require(postgres_bin(), "postgresql")
    _require(mariadb_bin(), "mariadb-server")
    pg, my = PostgresServer().start(), None
    try:
        my = MariaDBServer().start()
        pg.create_database("academic")
        my.create_database("hr")
        copy_sqlite(demo_src / "academic.sqlite", pg.url("academic"))
        copy_sqlite(demo_src / "hr.sqlite", my.url("hr"))
        yield pg, my
    finally:
        pg.stop()
        if my is not None:
            my.stop()


def run_cli(home: Path, env_extra: dict) -> tuple[subprocess.CompletedProcess, dict | None]:
    """`statedata run --json` in a fresh process with its own STATEDATA_HOME and DAGSTER_HOME."""
    env = cli_env(home) | env_extra  # the tests' short retry delay is kept
    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--year", ACADEMIC_YEAR, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        return res, json.loads(res.stdout)
    except ValueError:
        return res, None


def make_home(tmp_path: Path, name: str, demo_src: Path) -> Path:
    home = tmp_path / name
    shutil.copytree(demo_src, home / "demo")
    return home


def test_same_outputs_as_sqlite_and_no_credentials_anywhere(servers, demo_src, ran_summary, tmp_path):
    pg, my = servers
    base_summary = ran_summary  # the same demo run from its SQLite files

    server_home = make_home(tmp_path, "servers", demo_src)
    (server_home / "demo" / "academic.sqlite").unlink()  # prove the servers are what is read
    (server_home / "demo" / "hr.sqlite").unlink()
    env = {"STATEDATA_ACADEMIC_URL": pg.url("academic"), "STATEDATA_HR_URL": my.url("hr")}
    res, summary = run_cli(server_home, env)
    assert res.returncode == 0, res.stderr[-3000:]

    assert [(f["table"], f["rows"], f["sha256"]) for f in summary["files"]] == [
        (f["table"], f["rows"], f["sha256"]) for f in base_summary["files"]
    ]
    assert {k: v for k, v in summary["row_counts"].items() if not k.startswith("exports")} == {
        k: v for k, v in base_summary["row_counts"].items() if not k.startswith("exports")
    }

    with duckdb.connect(str(server_home / "warehouse.duckdb"), read_only=True) as con:
        sources = dict(con.execute("select system, source from audit.batch").fetchall())
        dump = "\n".join(
            str(r)
            for t in ("batch", "load_log", "quarantine")
            for r in con.execute(f"select * from audit.{t}").fetchall()
        )
    assert sources["academic"].startswith("postgresql+psycopg2://etl:***@127.0.0.1")
    assert sources["hr"].startswith("mysql+pymysql://etl:***@127.0.0.1")
    for password in (pg.password, my.password):
        assert password not in res.stdout + res.stderr
        assert password not in dump
        for f in (server_home / "dagster").rglob("*"):  # run history, event logs, compute logs
            if f.is_file():
                assert password.encode() not in f.read_bytes(), f


def test_server_down_names_the_source_without_the_password(servers, demo_src, tmp_path):
    pg, my = servers
    home = make_home(tmp_path, "down", demo_src)
    dead = pg.url("academic").replace(f":{pg.port}/", f":{free_port()}/")  # nothing listens there
    res, summary = run_cli(home, {"STATEDATA_ACADEMIC_URL": dead, "STATEDATA_HR_URL": my.url("hr")})
    assert res.returncode == 1
    [error] = [e for e in summary["errors"] if e["step"] == "extract_academic"]
    assert "academic" in error["error"] and "etl:***@127.0.0.1" in error["error"]
    assert summary["retries"] == {"extract_academic": 3}  # a connection refused may come back: retried
    assert pg.password not in res.stdout + res.stderr


def test_fast_path_is_used_and_exact_on_servers(servers):
    """ConnectorX reads PostgreSQL and MariaDB directly (no silent fallback), equal to the exact path."""
    from connectors.sql import SqlSource
    from model.mapping import load_mappings
    from model.settings import Settings

    specs = load_mappings(Settings.from_env().mappings_dir)
    pg, my = servers
    for system, url in (("academic", pg.url("academic")), ("hr", my.url("hr"))):
        with SqlSource(specs[system], url) as src:
            for e in specs[system].entities.values():
                src.check_schema(e)
                fast = src._extract_connectorx(e)
                assert fast is not None, (system, e.name)
                assert fast.table.equals(src._extract_sqlalchemy(e).table), (system, e.name)


def test_a_password_with_at_colon_and_slash_is_read_as_written_and_never_shown(servers):
    """A password holding @, : and / works unencoded in the URL, on both paths, and no part of it reaches a
    message, the batch's location, or the error of a server that is down."""
    import sqlalchemy as sa

    from connectors.base import SourceError
    from connectors.sql import SqlSource
    from model.mapping import load_mappings
    from model.settings import DEMO_MAPPINGS

    pg, _ = servers
    odd = "p@ss:w/rd@9"
    engine = sa.create_engine(pg.url("academic"))
    with engine.begin() as con:
        con.execute(sa.text(f"create role odd login superuser password '{odd}'"))
    engine.dispose()
    spec = load_mappings(DEMO_MAPPINGS)["academic"]
    entity = spec.entities["major"]
    url = f"postgresql+psycopg2://odd:{odd}@127.0.0.1:{pg.port}/academic"
    with SqlSource(spec, url) as src:
        fast, exact = src._extract_connectorx(entity), src._extract_sqlalchemy(entity)
        assert fast is not None and fast.table.num_rows > 0 and fast.table.equals(exact.table)
        shown = f"{src.location} {fast.source} {exact.source}"
    dead = url.replace(f":{pg.port}/", f":{free_port()}/")
    with pytest.raises(SourceError) as err, SqlSource(spec, dead) as src:
        src.extract(entity)
    shown += str(err.value)
    assert "odd:***@127.0.0.1" in shown
    for part in ("p@ss", "ss:w", "w/rd", "rd@9"):
        assert part not in shown, part


def test_a_server_probe_sees_one_changed_value_and_tells_null_from_empty(servers):
    """The no-change probe (SqlSource.probe) on PostgreSQL and MariaDB: the same rows give the same answer, one
    changed value of one row a different one, also NULL against '' (a row hash computed by the server)."""
    import sqlalchemy as sa

    from connectors.sql import SqlSource
    from model.mapping import load_mappings
    from model.settings import DEMO_MAPPINGS

    specs = load_mappings(DEMO_MAPPINGS)
    pg, my = servers
    for system, url, quote in (("academic", pg.url("academic"), '"'), ("hr", my.url("hr"), "`")):
        spec = specs[system]
        entity = next(e for e in spec.entities.values() if any(not f.required for f in e.fields.values()))
        column = next(f.column for f in entity.fields.values() if not f.required and f.type == "string")
        key = entity.fields[entity.primary_key[0]].column
        table, col, pk = (f"{quote}{n}{quote}" for n in (entity.table, column, key))
        engine = sa.create_engine(url)

        def probe() -> str:
            with SqlSource(spec, url) as src:
                return src.probe(entity)

        def set_value(value) -> None:
            with engine.begin() as con:
                first = con.execute(sa.text(f"select min({pk}) from {table}")).scalar()
                con.execute(sa.text(f"update {table} set {col} = :v where {pk} = :k"), {"v": value, "k": first})

        set_value("甲")
        before = probe()
        with engine.connect() as con:
            assert before.split(":")[0] == str(con.execute(sa.text(f"select count(*) from {table}")).scalar())
        assert probe() == before, (system, "the same rows, the same probe")
        answers = []
        for value in (None, "", "乙"):
            set_value(value)
            answers.append(probe())
        assert len({before, *answers}) == 4, (system, before, answers)
        set_value("甲")
        assert probe() == before, (system, "the same rows again")
        engine.dispose()
