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
