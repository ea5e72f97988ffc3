import textwrap

import pytest

from model.mapping import MappingError, load_mapping, load_mappings
from model.settings import DEMO_MAPPINGS

VALID = """
system: hr
department: 人事处
title: test HR
source: {kind: sql, env: STATEDATA_HR_URL}
entities:
  staff:
    table: RS_JZGJBXX
    primary_key: staff_id
    fields:
      staff_id: {column: JGH, required: true}
      gender: {column: XB, codes: gender}
      hired_on: {column: LXRQ, type: date}
    translate:
      gender: {男: "1"}
"""


def write(tmp_path, text, name="hr.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_demo_mappings_load():
    specs = load_mappings(DEMO_MAPPINGS)
    assert {"academic", "hr", "finance", "assets", "library", "admissions", "office", "forms"} == set(specs)
    student = specs["academic"].entities["student"]
    assert student.primary_key == ("student_id",)
    assert student.fields["gender"].column == "XBM" and student.fields["gender"].codes == "gender"
    assert specs["hr"].entities["staff"].translate["post_type"]["ZR"] == "专任教师"


def test_a_file_read_again_is_parsed_again_only_when_its_bytes_changed(tmp_path):
    path = write(tmp_path, VALID)
    first = load_mapping(path)
    assert load_mapping(path) is first
    path.write_text(textwrap.dedent(VALID).replace("RS_JZGJBXX", "RS_JZGJBXY"), encoding="utf-8")  # same size
    assert load_mapping(path).entities["staff"].table == "RS_JZGJBXY"
    path.write_text("system: [unclosed", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):  # a broken file is reported each time
        load_mapping(path)
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(path)


def test_valid_minimal_mapping(tmp_path):
    spec = load_mapping(write(tmp_path, VALID))
    assert spec.table_name("staff") == "hr__staff"
    assert spec.entities["staff"].fields["hired_on"].type == "date"


@pytest.mark.parametrize(
    "change, expect",
    [
        (("type: date", "type: datetime"), "entities.staff.fields.hired_on: type 'datetime' is not one of"),
        (("primary_key: staff_id", "primary_key: nobody"), "entities.staff.primary_key: 'nobody' is not a field"),
        (("codes: gender", "codes: sexes"), "codes 'sexes' is not a national code table"),
        (('gender: {男: "1"}', 'sex: {男: "1"}'), "entities.staff.translate.sex: not a field of this entity"),
        (("table: RS_JZGJBXX", "tabel: RS_JZGJBXX"), "unknown key(s) ['tabel']"),
        (("kind: sql", "kind: ftp"), "source.kind: 'ftp' is not one of sql, files"),
        (("hired_on: {column: LXRQ", "hired_on: {column: XB"), "source column(s) ['XB'] mapped to more than one field"),
    ],
)
def test_mapping_errors_name_file_and_place(tmp_path, change, expect):
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    assert str(path) in str(err.value)
    assert expect in str(err.value)


def test_broken_yaml_and_missing_file(tmp_path):
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(write(tmp_path, "system: [unclosed"))
    with pytest.raises(MappingError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")
    with pytest.raises(MappingError, match="no mapping files"):
        load_mappings(tmp_path / "empty")


def test_two_files_for_one_system(tmp_path):
    write(tmp_path, VALID, "a.yaml")
    write(tmp_path, VALID, "b.yaml")
    with pytest.raises(MappingError, match="already described by"):
        load_mappings(tmp_path)
