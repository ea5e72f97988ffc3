"""The fingerprint of a run's inputs (warehouse/inputs.py) on the demo campus's real files: one changed row in any
source system changes that system's fingerprints and nothing else; what cannot be told is said, never guessed."""

import csv
import shutil
import sqlite3
import time
from dataclasses import replace

import openpyxl
import pytest

from connectors.base import file_sha256
from model.mapping import load_mappings
from model.settings import DEMO_COLLEGE, Settings
from tests.conftest import use_home
from warehouse import inputs


@pytest.fixture
def settings(home) -> Settings:
    return Settings.from_env()


def fingerprint(settings: Settings) -> inputs.Inputs:
    return inputs.inputs(settings, load_mappings(settings.mappings_dir), "2026-2027")


def changed_parts(before: inputs.Inputs, after: inputs.Inputs) -> set[str]:
    return {name for name in before.parts if before.parts[name] != after.parts.get(name)}


def systems(parts: set[str]) -> set[str]:
    return {p.split()[1].split(".")[0] for p in parts if p.startswith("source ")}


def change_sqlite(demo, system: str) -> None:
    """One row of the system's first mapped table, one mapped column, to another value."""
    spec = load_mappings(DEMO_COLLEGE / "mappings")[system]
    entity = next(iter(spec.entities.values()))
    column = next(f.column for f in entity.fields.values() if f.name not in entity.primary_key)
    with sqlite3.connect(demo / f"{system}.sqlite") as con:
        con.execute(f'update "{entity.table}" set "{column}" = "{column}" || \'x\' where rowid = 1')
        assert con.total_changes == 1


def change_xlsx(path) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    cell = sheet.cell(row=sheet.max_row, column=1)
    cell.value = f"{cell.value}x"
    book.save(path)


def change_csv(path) -> None:
    """The demo's graduates file is in GBK, as the office's spreadsheet saves it."""
    rows = list(csv.reader(path.read_text(encoding="gb18030").splitlines()))
    rows[-1][0] += "x"
    with path.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(rows)


def test_the_same_inputs_give_the_same_fingerprint(settings):
    first, second = fingerprint(settings), fingerprint(settings)
    assert first.fingerprint is not None and first.fingerprint == second.fingerprint
    assert not first.unknown
    specs = load_mappings(settings.mappings_dir)
    assert {p for p in first.parts if p.startswith("source ")} == {
        f"source {s.system}.{e.source_name}" for s in specs.values() for e in s.entities.values()
    }
    assert set(first.locations) == set(specs)


@pytest.mark.parametrize("system", ["hr", "academic", "finance", "assets", "library"])
def test_one_row_changed_in_a_database_changes_that_system_only(settings, demo, system):
    before = fingerprint(settings)
    change_sqlite(demo, system)
    after = fingerprint(settings)
    assert systems(changed_parts(before, after)) == {system}
    assert before.fingerprint != after.fingerprint
    assert changed_parts(before, after) == {
        f"source {system}.{e.source_name}" for e in load_mappings(settings.mappings_dir)[system].entities.values()
    }  # a SQLite database is probed as one file: all its tables together


@pytest.mark.parametrize(
    "system, file, change",
    [
        ("admissions", "admissions/2025届毕业生毕业去向.csv", change_csv),
        ("admissions", "admissions/2026年分专业招生计划执行情况.xlsx", change_xlsx),
        ("forms", "forms/2026-2027_获奖情况.xlsx", change_xlsx),
        ("office", "office/学校基本信息.xlsx", change_xlsx),
    ],
)
def test_one_row_changed_in_a_dropped_file_changes_that_table_only(settings, demo, system, file, change):
    before = fingerprint(settings)
    change(demo / file)
    after = fingerprint(settings)
    (part,) = changed_parts(before, after)  # the one entity whose pattern matches the file
    assert systems({part}) == {system}
    spec = load_mappings(settings.mappings_dir)[system]
    entity = next(e for e in spec.entities.values() if part == f"source {system}.{e.source_name}")
    assert (demo / file).match(entity.files)


def test_a_new_file_in_a_drop_folder_is_a_change(settings, demo):
    before = fingerprint(settings)
    shutil.copy(demo / "forms" / "2026-2027_获奖情况.xlsx", demo / "forms" / "2027-2028_获奖情况.xlsx")
    assert len(changed_parts(before, fingerprint(settings))) == 1


def test_a_file_open_in_excel_or_still_being_written_is_unknown_not_unchanged(settings, demo, monkeypatch):
    (demo / "forms" / "~$2026-2027_获奖情况.xlsx").write_bytes(b"lock")
    locked = fingerprint(settings)
    assert locked.fingerprint is None
    (name,) = locked.unknown
    assert "获奖情况" in name and "open in Excel" in locked.unknown[name]
    (demo / "forms" / "~$2026-2027_获奖情况.xlsx").unlink()
    monkeypatch.setenv("STATEDATA_FILE_SETTLE_SECONDS", "3600")
    (demo / "office" / "学校基本信息.xlsx").touch()
    fresh = fingerprint(Settings.from_env())
    assert "source office.学校基本信息.xlsx" in fresh.unknown
    assert fresh.fingerprint is None


def test_a_source_that_cannot_be_opened_is_unknown_with_its_reason(settings, demo):
    (demo / "hr.sqlite").unlink()
    got = fingerprint(settings)
    assert got.fingerprint is None
    assert all("not found" in why for name, why in got.unknown.items() if name.startswith("source hr."))
    assert systems(set(got.unknown)) == {"hr"}


def test_settings_that_shape_outputs_count_and_the_mail_settings_do_not(settings, monkeypatch):
    base = fingerprint(settings)
    monkeypatch.setenv("STATEDATA_DIGEST_TO", "人事处=hr@example.edu.cn")
    monkeypatch.setenv("STATEDATA_BACKUP_KEEP", "3")
    assert fingerprint(Settings.from_env()).fingerprint == base.fingerprint
    monkeypatch.setenv("STATEDATA_MAX_ROW_DROP", "20")
    assert changed_parts(base, fingerprint(Settings.from_env())) == {inputs.SETTINGS}


def test_the_college_folder_counts(settings, tmp_path, monkeypatch, home):
    college = tmp_path / "college"
    shutil.copytree(DEMO_COLLEGE, college)
    use_home(home, monkeypatch)
    monkeypatch.setenv("STATEDATA_COLLEGE", str(college))
    for spec in load_mappings(college / "mappings").values():  # a college's own folder names every location
        monkeypatch.setenv(spec.env, spec.default.format(demo=home / "demo"))
    own = Settings.from_env()
    before = fingerprint(own)
    with (college / "college.yaml").open("a", encoding="utf-8") as f:
        f.write("\n# a comment is a change too: the record cannot know what a byte means\n")
    assert changed_parts(before, fingerprint(own)) == {inputs.COLLEGE}


def test_the_code_part_covers_every_package_of_the_project():
    import tomllib

    from tests.unit.test_architecture import ROOT

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(inputs.PACKAGES) == set(config["tool"]["importlinter"]["root_packages"])


def test_nothing_on_record_then_what_differs_is_named(settings, demo):
    current = fingerprint(settings)
    kept, reasons = inputs.unchanged(settings, current)
    assert kept is None and reasons == ["no earlier completed run of 2026-2027 on record"]
    settings.warehouse.write_bytes(b"stand-in for the warehouse file")
    out = settings.home / "out" / "A1.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"an output")
    summary = {"run_id": "r1", "files": [{"path": str(out), "sha256": file_sha256(out)}]}
    inputs.remember(settings, current, summary)
    assert inputs.unchanged(settings, current) == (inputs.unchanged(settings, current)[0], [])
    assert inputs.unchanged(settings, current)[0]["summary"] == summary

    change_sqlite(demo, "hr")
    out.write_bytes(b"an output, edited")
    time.sleep(0.01)
    settings.warehouse.write_bytes(b"stand-in for the warehouse file, written by someone")
    kept, reasons = inputs.unchanged(settings, fingerprint(settings))
    assert kept is None
    assert {r for r in reasons if r.startswith("source ")} == {
        f"source hr.{e.source_name} changed" for e in load_mappings(settings.mappings_dir)["hr"].entities.values()
    }
    assert any(r.startswith("the warehouse was written since the last run of statedata run") for r in reasons)
    assert f"the output {out} was changed or removed" in reasons


def test_a_run_of_another_year_on_the_same_inputs_keeps_the_record_and_on_other_inputs_does_not(settings):
    current = fingerprint(settings)
    settings.warehouse.write_bytes(b"after the run of 2026-2027")
    inputs.remember(settings, current, {"run_id": "r1", "files": []})
    settings.warehouse.write_bytes(b"after the run of 2025-2026, the same inputs")
    inputs.remember(settings, replace(current, academic_year="2025-2026"), {"run_id": "r2", "files": []})
    assert inputs.unchanged(settings, current)[1] == []
    other = replace(current, academic_year="2025-2026", parts=current.parts | {inputs.SETTINGS: "other"})
    settings.warehouse.write_bytes(b"after a run of 2025-2026 on other settings")
    inputs.remember(settings, other, {"run_id": "r3", "files": []})
    kept, reasons = inputs.unchanged(settings, current)
    assert kept is None and len(reasons) == 1 and reasons[0].startswith("the run of 2025-2026 at ")
    assert reasons[0].endswith(" read other inputs")


def test_inputs_without_a_fingerprint_forget_the_record(settings, demo):
    settings.warehouse.write_bytes(b"w")
    inputs.remember(settings, fingerprint(settings), {"run_id": "r1", "files": []})
    assert inputs.state_path(settings, "2026-2027").exists()
    (demo / "forms" / "~$2026-2027_获奖情况.xlsx").write_bytes(b"lock")
    locked = fingerprint(settings)
    inputs.remember(settings, locked, {"run_id": "r2", "files": []})
    assert not inputs.state_path(settings, "2026-2027").exists()
    kept, reasons = inputs.unchanged(settings, locked)
    assert kept is None and reasons == ["no earlier completed run of 2026-2027 on record"]


def test_the_code_part_is_the_same_from_the_source_folder_and_from_elsewhere(tmp_path):
    """`python -m pipelines.cli` in the source folder puts it on the import path; the installed `statedata`
    does not. Both must see the same code, or a night would never be skipped after a run the other way."""
    import subprocess
    import sys

    from tests.unit.test_architecture import ROOT

    probe = [sys.executable, "-c", "from warehouse import inputs; print(inputs._code())"]
    here = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    elsewhere = subprocess.run(probe, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert here == elsewhere and len(here.strip()) == 64
