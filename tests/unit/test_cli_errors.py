"""Bad input to a command ends in one clear line and an exit code, never a traceback; `statedata --help`
stays light."""

import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from model.mapping import load_mappings
from model.settings import DEMO_MAPPINGS
from pipelines.cli import main
from warehouse import db


def invoke(home, *args, env=None):
    res = CliRunner().invoke(main, [*args, "--home", str(home)], env=env or {})
    assert isinstance(res.exception, SystemExit) or res.exception is None, res.output  # no traceback
    return res


@pytest.fixture
def empty_warehouse(tmp_path):
    home = tmp_path / "home"
    with db.connect(home / "warehouse.duckdb") as con:  # what `statedata package` on a fresh folder leaves
        db.init(con)
    return home


def test_help_imports_no_command_and_not_dagster():
    code = "import sys; from pipelines.cli import main; main(['--help'])"
    probe = (
        f"import runpy, sys\ntry:\n    exec({code!r})\nexcept SystemExit:\n    pass\nprint('dagster' in sys.modules)"
    )
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "Commands:" in res.stdout and "trace" in res.stdout
    assert res.stdout.strip().endswith("False")


def test_a_college_folder_without_source_locations_stops_before_running_naming_each(tmp_path):
    college = tmp_path / "college"
    shutil.copytree(DEMO_MAPPINGS, college)
    res = invoke(tmp_path / "home", "run", "--year", "2026-2027", env={"STATEDATA_MAPPINGS": str(college)})
    assert res.exit_code == 2
    for spec in load_mappings(college).values():
        assert f"set {spec.env} (the mapping {spec.path} reads it)" in res.output
    assert not (tmp_path / "home" / "dagster").exists()  # nothing was started


@pytest.mark.parametrize(
    "args",
    [
        ("trace", "A1", "x", "y", "--year", "2026"),
        ("failures", "--year", "2026"),
        ("forms", "--year", "2026"),
        ("package", "--year", "26-27"),
        ("run", "--year", "2026"),
    ],
)
def test_a_malformed_year_is_exit_2_with_the_form_expected(tmp_path, args):
    res = invoke(tmp_path, *args)
    assert res.exit_code == 2 and "is not of the form 2026-2027" in res.output


def test_reading_commands_on_a_warehouse_without_tables(empty_warehouse):
    res = invoke(empty_warehouse, "trace", "A1", "4141099999", "全日制在校生数")
    assert res.exit_code == 1 and "holds no national table yet" in res.output
    res = invoke(empty_warehouse, "failures")
    assert res.exit_code == 1 and "no rule has been evaluated yet" in res.output


def test_failures_for_a_year_never_checked_is_not_reported_clean(empty_warehouse):
    with db.connect(empty_warehouse / "warehouse.duckdb") as con:
        con.execute(  # the rules were evaluated for 2026-2027 only
            "insert into audit.rule_result values ('r', '2026-2027', 'R-X', 'platform.student', 'error', true, 0, 9, "
            "'0', now(), null)"
        )
    res = invoke(empty_warehouse, "failures", "--year", "2025-2026")
    assert res.exit_code == 1 and "not been evaluated for 2025-2026" in res.output


def test_a_broken_mapping_file_is_named_by_the_reading_commands(tmp_path, empty_warehouse):
    college = tmp_path / "college"
    shutil.copytree(DEMO_MAPPINGS, college)
    hr = college / "hr.yaml"
    hr.write_text(hr.read_text(encoding="utf-8").replace("primary_key: staff_id", "primary_key: nobody"), "utf-8")
    for args in (("failures",), ("trace", "A1", "x", "y")):
        res = invoke(empty_warehouse, *args, env={"STATEDATA_MAPPINGS": str(college)})
        assert res.exit_code == 2 and str(hr) in res.output, res.output


@pytest.mark.parametrize(
    "args, env, code, expected",
    [
        (("failures",), {"STATEDATA_HR_URL": "postgresql://etl:s3cr@t@db:pg/hr"}, 2, "port 'pg' of db is not a number"),
        (("failures",), {"STATEDATA_SMTP_PORT": "70000"}, 2, "STATEDATA_SMTP_PORT='70000': expected a whole number"),
        (("failures",), {"STATEDATA_SCHOOL_TYPE": "火星"}, 2, "STATEDATA_SCHOOL_TYPE='火星': expected one of"),
        (("trace", "A1", "4141099999", "学校名称", "--year", "2024-2025"), {}, 1, "A1 for 2024-2025 is not in the"),
        (("trace", "--indicator", "生师比"), {}, 1, "no core indicator has been computed yet"),
        (("backup", "--keep", "0"), {}, 2, "Invalid value for '--keep'"),
        (("init", "--from", "no-such-folder", "--system", "hr"), {}, 2, "no such folder, and not a SQLAlchemy URL"),
    ],
)
def test_bad_settings_arguments_and_states_are_named_without_a_traceback(empty_warehouse, args, env, code, expected):
    """A few of tests/e2e/test_bad_inputs.py's cases (which run every one as its own process), in this tier."""
    res = invoke(empty_warehouse, *args, env=env)
    assert res.exit_code == code and expected in res.output, res.output
    assert "s3cr@t" not in res.output


def test_an_out_folder_below_a_file_is_named(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    res = invoke(tmp_path / "home", "forms", "--out", str(tmp_path / "file" / "forms"))
    assert res.exit_code == 2 and f"--out {tmp_path / 'file' / 'forms'}: {tmp_path / 'file'} is a file" in res.output


def test_run_on_a_folder_without_the_demo_sources_says_to_generate_them_before_starting(tmp_path):
    res = invoke(tmp_path / "home", "run", "--year", "2025-2026")
    assert res.exit_code == 2 and "run `statedata demo` first" in res.output
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()  # nothing started
