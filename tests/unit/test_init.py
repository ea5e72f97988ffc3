"""statedata init drafts a mapping from a source's own tables: on the demo's HR database it finds the
columns the demo's hand-written mapping uses, and the draft is refused until its TODOs are filled."""

import pytest
import yaml
from click.testing import CliRunner

from model.mapping import MappingError, load_mapping, load_mappings
from model.settings import DEMO_MAPPINGS
from pipelines.cli import main


def test_init_on_the_demo_hr_database_suggests_the_columns_of_the_hand_written_mapping(home, tmp_path):
    out = tmp_path / "hr2.yaml"
    url = f"sqlite:///{home / 'demo' / 'hr.sqlite'}"
    res = CliRunner().invoke(main, ["init", "--from", url, "--system", "hr2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    drafted = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert drafted["source"] == {"kind": "sql", "env": "STATEDATA_HR2_URL"}  # the URL itself is not written
    by_table = {e["table"]: e for e in drafted["entities"].values()}
    # every table is guessed to feed the entity the hand-written mapping feeds with it
    hr = load_mappings(DEMO_MAPPINGS)["hr"]
    assert {t: e["entity"] for t, e in by_table.items()} == {e.table: e.canonical for e in hr.entities.values()}
    hand = hr.entities["staff"]
    staff = by_table[hand.table]
    assert staff["entity"] == "staff" and staff["primary_key"] == ["staff_id"]
    suggested = {f: v["column"] for f, v in staff["fields"].items()}
    agree = {f for f, c in suggested.items() if f in hand.fields and hand.fields[f].column == c}
    assert len(agree) >= 10 and agree == {f for f in suggested if f in hand.fields}  # no wrong suggestion
    # the draft is refused until a person names the department and the system
    with pytest.raises(MappingError, match="department, title: still TODO"):
        load_mapping(out)
    res = CliRunner().invoke(main, ["init", "--from", url, "--system", "hr2", "--out", str(out)])
    assert res.exit_code == 2 and "exists" in res.output
