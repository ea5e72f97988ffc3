"""One settings object: every variable validated at once, no silent demo fallback, secrets never printed."""

import re
from pathlib import Path

import pytest

from model.mapping import load_mappings
from model.settings import DEMO_MAPPINGS, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_any_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env({})
    assert s.home == tmp_path / "data" and s.mappings_dir == DEMO_MAPPINGS
    assert (s.source_retries, s.source_retry_delay_s, s.backup_keep, s.max_source_age_hours) == (3, 10.0, 7, 48)
    assert s.collection_months == {9, 10, 11, 12} and s.collection_opens == (9, 24)
    assert s.template_overrides == {} and s.school_type == "综合"  # the demo college.yaml names it
    assert s.digest.channel == f"outbox {tmp_path / 'data' / 'outbox'}"


def test_every_bad_variable_is_named_in_one_message():
    env = {
        "STATEDATA_SOURCE_RETRIES": "three",
        "STATEDATA_SOURCE_RETRY_DELAY": "-1",
        "STATEDATA_BACKUP_KEEP": "0",
        "STATEDATA_COLLECTION_MONTHS": "9-13",
        "STATEDATA_COLLECTION_OPENS": "09-31",
        "STATEDATA_SMTP_PORT": "smtp",
        "STATEDATA_EQUIPMENT_MIN_UNIT_PRICE": "1千",
        "STATEDATA_DIGEST_TO": "人事处 hr@x.edu.cn",
        "STATEDATA_MAPPINGS": "/no/such/folder",
    }
    with pytest.raises(SettingsError) as e:
        Settings.from_env(env)
    message = str(e.value)
    for name, value in env.items():
        assert name in message and (value in message or name == "STATEDATA_DIGEST_TO"), name
    assert len(message.splitlines()) == len(env) + 1


def test_good_values_are_read():
    s = Settings.from_env(
        {
            "STATEDATA_SOURCE_RETRIES": "5",
            "STATEDATA_SOURCE_RETRY_DELAY": "0.5",
            "STATEDATA_COLLECTION_MONTHS": "9, 10",
            "STATEDATA_COLLECTION_OPENS": "10-08",
            "STATEDATA_EQUIPMENT_MIN_UNIT_PRICE": "800",
            "STATEDATA_DIGEST_TO": "人事处=hr@x.edu.cn;教务处=a@x.edu.cn,b@x.edu.cn",
            "STATEDATA_SMTP_HOST": "mail.x.edu.cn",
            "STATEDATA_SMTP_PORT": "587",
        }
    )
    assert (s.source_retries, s.source_retry_delay_s) == (5, 0.5)
    assert s.collection_months == {9, 10} and s.collection_opens == (10, 8)
    assert s.template_overrides == {"equipment_min_unit_price": 800.0}
    assert s.digest.recipients == {"人事处": ["hr@x.edu.cn"], "教务处": ["a@x.edu.cn", "b@x.edu.cn"]}
    assert s.digest.channel == "smtp://mail.x.edu.cn:587"


def test_a_college_folder_without_a_source_location_is_an_error_not_the_demo(tmp_path):
    college = tmp_path / "mappings"
    college.mkdir()
    (college / "hr.yaml").write_text((DEMO_MAPPINGS / "hr.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    spec = load_mappings(college)["hr"]
    s = Settings.from_env({"STATEDATA_MAPPINGS": str(college), "STATEDATA_HOME": str(tmp_path)})
    with pytest.raises(SettingsError, match=rf"set {spec.env} \(the mapping {re.escape(str(spec.path))} reads it\)"):
        s.source_location(spec)
    assert not s.uses_demo_sources({"hr": spec})
    url = "postgresql://etl@hr-db/hr"
    assert Settings.from_env({"STATEDATA_MAPPINGS": str(college), spec.env: url}).source_location(spec) == url
    # the demo college's own folder defaults to the demo campus
    demo = Settings.from_env({"STATEDATA_HOME": str(tmp_path)})
    assert str(tmp_path / "demo") in demo.source_location(load_mappings(DEMO_MAPPINGS)["hr"])


def test_secrets_are_not_in_the_printed_settings():
    s = Settings.from_env(
        {"STATEDATA_SMTP_PASSWORD": "pw-smtp-9", "STATEDATA_HR_URL": "postgresql://etl:pw-db-7@hr/hr"}
    )
    assert s.digest.smtp_password == "pw-smtp-9" and s.locations["STATEDATA_HR_URL"].endswith("@hr/hr")
    assert "pw-smtp-9" not in repr(s) and "pw-db-7" not in repr(s)


def test_env_example_lists_every_variable_the_settings_read():
    read = set(re.findall(r"STATEDATA_[A-Z_]*[A-Z]", (ROOT / "model" / "settings.py").read_text(encoding="utf-8")))
    example = set(re.findall(r"^(STATEDATA_[A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.M))
    assert read - {"STATEDATA_SMTP", "STATEDATA_DIGEST"} <= example
