"""statedata doctor on a college folder broken in several ways at once: every problem is listed in one go,
each naming the mapping file and key; the demo college's own folder has no error."""

import re
import shutil
import subprocess
import sys

from model.mapping import load_mappings
from model.settings import DEMO_COLLEGE
from tests.conftest import cli_env


def broken_college(tmp, demo_dir):
    """A copy of the demo college with five unrelated mistakes, and the environment naming its sources."""
    college = tmp / "college"
    shutil.copytree(DEMO_COLLEGE, college)
    m = college / "mappings"
    edits = {
        # 1. a key the format does not have (the file cannot be read)
        "office.yaml": ("    files: ", "    filez: "),
        # 2. a table that feeds no canonical entity
        "library.yaml": ("    entity: library_item", "    entity: library_items"),
        # 3. a type the source column does not have
        "hr.yaml": ("gender: {column: XB, required: true, codes: gender}", "gender: {column: XB, type: integer}"),
        # 4. a column the source table does not have
        "assets.yaml": ("{column: JZMJ", "{column: JZMJ_M2"),
        # 5. an expression that does not fit the data
        "finance.yaml": ("    fields:\n", "    fields:\n      oops: {expr: 'no_such_field + 1', type: integer}\n"),
    }
    for name, (old, new) in edits.items():
        text = (m / name).read_text(encoding="utf-8")
        assert old in text, (name, old)
        (m / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    env = {}
    for spec in load_mappings(DEMO_COLLEGE / "mappings").values():
        if spec.system != "academic":  # 6. a source whose location is not set
            env[spec.env] = spec.default.format(demo=demo_dir)
    return college, env


def test_doctor_lists_every_problem_of_a_broken_college_at_once(home, tmp_path):
    college, env = broken_college(tmp_path, home / "demo")
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "doctor"],
        env=cli_env(home) | env | {"STATEDATA_COLLEGE": str(college)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in out.stdout.splitlines() if line.startswith("错误 error")]
    text = "\n".join(errors)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "office.yaml" in text and "filez" in text
    assert "library.yaml: entities.item.entity: 'library_items' is not an entity of the canonical model" in text
    assert "hr.yaml: entities.staff: hr: column RS_JZGJBXX.XB changed type: expected integer" in text
    assert "assets.yaml" in text and "JZMJ_M2" in text
    assert "finance.yaml: entities.ledger_entry" in text and "no_such_field" in text
    assert "academic.yaml" in text and "STATEDATA_ACADEMIC_URL" in text
    assert len(errors) == 6, text
    # what the gaps cost downstream: the library entity nothing feeds now leaves its national table empty
    assert any(
        "no mapping feeds" in line and "library_item" in line and "A" in line for line in out.stdout.splitlines()
    )


def test_doctor_finds_no_error_in_the_demo_college(home):
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "doctor"],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 errors" in out.stdout
    # the demo's injected defects show as warnings: a name for a code, and repeated student numbers
    assert re.search(
        r"entities\.student\.fields\.gender: \d+ rows hold \d+ values outside the code list gender \('[男女]'",
        out.stdout,
    )
    assert re.search(r"entities\.student: \d+ keys \(student_id\) occur more than once", out.stdout)


def test_a_type_the_model_cannot_take_is_named_without_reading_any_source(home, tmp_path):
    college, env = broken_college(tmp_path, home / "demo")
    m = college / "mappings" / "academic.yaml"
    text = m.read_text(encoding="utf-8")
    m.write_text(
        text.replace("grade: {column: NJ, type: integer, required: true}\n", "grade: {column: NJ}\n", 1), "utf-8"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "doctor", "--no-sources"],
        env=cli_env(home) | env | {"STATEDATA_COLLEGE": str(college)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1
    assert "academic.yaml: entities.class.fields.grade: is string; the model's class.grade is integer" in out.stdout
    assert "reading" not in out.stdout and "sources not read" in out.stdout


def test_a_database_without_a_change_probe_is_named_per_table(home, monkeypatch):
    """A table whose database cannot fingerprint its rows is read every night: the doctor says which tables."""
    from connectors.sql import SqlSource
    from expectations import doctor
    from model.canonical import load_model
    from model.settings import Settings
    from reporting.templates import pack_for_year

    real = SqlSource.probe
    monkeypatch.setattr(SqlSource, "probe", lambda self, e: None if self.spec.system == "hr" else real(self, e))
    found = doctor.check(Settings.from_env(), load_model(), pack_for_year("2026-2027"), progress=lambda m: None)
    assert {p.where for p in found if p.message == doctor.NO_PROBE} == {
        f"hr.yaml: entities.{name}" for name in load_mappings(DEMO_COLLEGE / "mappings")["hr"].entities
    }
    assert not [p for p in found if p.level == "error"]
