"""Department forms: the blank workbook `statedata forms` writes is the one the forms mapping reads back."""

from datetime import date

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from connectors.files import FileSource
from model.mapping import load_mapping
from model.settings import DEMO_MAPPINGS
from pipelines.cli import main
from reporting.forms import form_file_name, write_form

YEAR = "2025-2026"


@pytest.fixture
def spec():
    return load_mapping(DEMO_MAPPINGS / "forms.yaml")


def test_cli_writes_one_blank_form_per_table_in_the_departments_folders(tmp_path, spec, monkeypatch):
    monkeypatch.setenv("STATEDATA_HOME", str(tmp_path))
    res = CliRunner().invoke(main, ["forms", "--year", YEAR])
    assert res.exit_code == 0, res.output
    written = sorted(p.relative_to(tmp_path / "out" / "forms" / YEAR) for p in tmp_path.rglob("*.xlsx"))
    assert len(written) == len(spec.entities)
    assert any(str(p) == f"财务处/{YEAR}_社会捐赠情况.xlsx" for p in written)
    ws = load_workbook(tmp_path / "out" / "forms" / YEAR / "财务处" / f"{YEAR}_社会捐赠情况.xlsx").active
    assert [ws.cell(2, c).value for c in (1, 2, 3, 5)] == ["填报部门", "财务处", "填报人", "填报日期"]
    assert [c.value for c in ws[3] if c.value] == [f.column for f in spec.entities["donation"].fields.values()]
    wb = load_workbook(tmp_path / "out" / "forms" / YEAR / "教务处" / f"{YEAR}_产学合作.xlsx")
    (rule,) = wb.worksheets[0].data_validations.dataValidation  # 专业代码: a drop-down of the major catalogue
    assert rule.type == "list" and str(rule.sqref).startswith("A4") and "代码表" in rule.formula1
    assert wb["代码表"].sheet_state == "hidden" and wb["代码表"]["A2"].value


def test_a_filled_form_loads_with_who_filled_it_and_when(tmp_path, spec):
    e = spec.entities["donation"]
    row = dict(donor="某某科技有限公司", donated_on=date(2025, 11, 3), kind="设备", amount_10k=12.5, purpose="实训室")
    write_form(tmp_path / form_file_name(e, YEAR), spec, e, YEAR, "示例学院", [row], "陈丽华", date(2026, 9, 20))
    x = FileSource(spec, tmp_path).extract(e)
    assert x.quarantined == []
    got = x.table.to_pylist()[0]
    assert got["academic_year"] == YEAR and got["filled_by"] == "陈丽华" and got["filled_on"] == "2026-09-20"
    assert got["donor"] == "某某科技有限公司" and float(got["amount_10k"]) == 12.5 and got["_source_row"] == 4


def test_a_form_without_filler_is_set_aside_with_a_message(tmp_path, spec):
    e = spec.entities["innovation"]
    row = dict(title="目标管理改革", started_on=date(2025, 10, 1))
    write_form(
        tmp_path / form_file_name(e, YEAR), spec, e, YEAR, "示例学院", [row], filled_by=None, filled_on=date(2026, 9, 1)
    )
    x = FileSource(spec, tmp_path).extract(e)
    assert x.table.num_rows == 0
    assert len(x.quarantined) == 1 and "填报人 is not filled in" in x.quarantined[0]["reason"]
    assert x.quarantined[0]["source"] == form_file_name(e, YEAR)
