"""The digest sensor: one digest per department with failing rules, through the outbox or a real SMTP
server (aiosmtpd, started here on 127.0.0.1); personal values masked; nothing sent twice, and a digest that
says what the last one said is not sent again."""

import email
import email.policy
import json
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from assets.resources import StatedataResource
from expectations.rules import RuleResult, load_catalogue, record
from pipelines.sensors import rule_failure_digest
from warehouse import db

ID = "110101198005060133"


def results(year="2025-2026"):
    rules = {r.id: r for r in load_catalogue()}
    return [
        RuleResult(rules["R-XS-013"], year, 1, 10, [dict(source_system="academic", source_table="XJ_XSJBXX",
                   source_key="2025001", column_name="id_card", value=ID, raw_id="r1")]),
        RuleResult(rules["R-JS-012"], year, 2, 5, [dict(source_system="hr", source_table="RS_JZGJBXX",
                   source_key="200049", column_name="staff_id", value="200049", raw_id=f"r{i}") for i in (2, 3)]),
        RuleResult(rules["R-KC-001"], year, 0, 40, []),  # passes: 教务处 gets no digest
    ]  # fmt: skip


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("STATEDATA_HOME", str(tmp_path))
    for var in ("STATEDATA_SMTP_HOST", "STATEDATA_DIGEST_TO", "STATEDATA_DIGEST_DEFAULT_TO", "STATEDATA_MAPPINGS"):
        monkeypatch.delenv(var, raising=False)
    with db.connect(tmp_path / "warehouse.duckdb") as con:
        db.init(con)
        record(con, "run-1", results())
    return tmp_path


def tick(cursor=None):
    with dg.build_sensor_context(cursor=cursor, resources={"statedata": StatedataResource()}) as context:
        return rule_failure_digest(context), context.cursor


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_outbox_gets_one_digest_per_failing_department_and_each_only_once(home):
    result, cursor = tick()
    files = sorted((home / "outbox").glob("*.eml"))
    assert [f.name.split("_", 2)[2] for f in files] == ["人事处.eml", "学生工作处.eml"]
    assert "2 digest(s) for 2025-2026 through outbox" in result.skip_message
    student = parse(files[1].read_bytes())
    body = student.get_body(("plain",)).get_content()
    assert "学生工作处 2025-2026：1 条规则未通过" in student["Subject"]
    assert "R-XS-013" in body and "对照学生身份证原件更正身份证号" in body and "2025001" in body
    page = next(student.iter_attachments()).get_content()
    assert "110101***********3" in page and ID not in page and ID not in body  # masked
    again, cursor2 = tick(cursor)
    assert "no rule evaluated" in again.skip_message and cursor2 == cursor
    assert len(list((home / "outbox").glob("*.eml"))) == 2
    with db.connect(home / "warehouse.duckdb") as con:  # the next night's evaluation finds the same failures
        record(con, "run-2", results())
    same, cursor = tick(cursor)
    assert "0 digest(s)" in same.skip_message and "2 unchanged" in same.skip_message
    assert len(list((home / "outbox").glob("*.eml"))) == 2  # not sent again

    fixed = results()  # 人事处 fixed one of its two rows; 学生工作处's failure is unchanged
    fixed[1].failing, fixed[1].failures = 1, fixed[1].failures[:1]
    with db.connect(home / "warehouse.duckdb") as con:
        record(con, "run-3", fixed)
    _, cursor = tick(cursor)
    new = sorted(set((home / "outbox").glob("*.eml")) - set(files))
    assert [f.name.split("_", 2)[2] for f in new] == ["人事处.eml"]
    assert "1 条规则未通过" in parse(new[0].read_bytes())["Subject"]

    passing = results()  # then 学生工作处's rule passes, and a night later fails again: a digest again
    passing[0].failing, passing[0].failures = 0, []
    with db.connect(home / "warehouse.duckdb") as con:
        record(con, "run-4", passing)
    _, cursor = tick(cursor)
    with db.connect(home / "warehouse.duckdb") as con:
        record(con, "run-5", results())
    tick(cursor)
    assert sum(f.name.endswith("学生工作处.eml") for f in (home / "outbox").glob("*.eml")) == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, parse(envelope.content)))
        return "250 OK"


def test_smtp_delivers_to_each_department_address(home, monkeypatch):
    inbox = Inbox()
    port = free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        monkeypatch.setenv("STATEDATA_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("STATEDATA_SMTP_PORT", str(port))
        to = "人事处=hr@example.edu.cn;学生工作处=xsc@example.edu.cn,xj@example.edu.cn"
        monkeypatch.setenv("STATEDATA_DIGEST_TO", to)
        monkeypatch.setenv("STATEDATA_DIGEST_FROM", "statedata@example.edu.cn")
        result, cursor = tick()
    finally:
        server.stop()
    assert sorted(rcpt for rcpt, _ in inbox.messages) == [
        ["hr@example.edu.cn"],
        ["xsc@example.edu.cn", "xj@example.edu.cn"],
    ]
    assert all(m["From"] == "statedata@example.edu.cn" for _, m in inbox.messages)
    assert not (home / "outbox").exists()  # mail is the channel now
    assert datetime.fromisoformat(json.loads(cursor)["since"]) > datetime.now(timezone.utc) - timedelta(minutes=5)
    assert "through smtp://127.0.0.1" in result.skip_message


def test_a_warehouse_locked_by_a_run_is_tried_again_at_the_next_tick(home):
    holder = subprocess.Popen(  # another process holds the write lock, as a nightly run does
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(60)", str(home / "warehouse.duckdb")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        result, cursor = tick()
    finally:
        holder.kill()
        holder.wait()
    assert "warehouse not readable now" in result.skip_message and cursor is None
    assert not (home / "outbox").exists()
    assert "2 digest(s)" in tick()[0].skip_message  # lock released: the digests go out
