"""Every bad input a user can give ends in a message and exit code 1 or 2, never a traceback (issue 14).

Each case is a real `statedata` process (`python -m pipelines.cli`) in an environment holding no STATEDATA_* or
DAGSTER_* variable but the case's own: a bad value of every settings variable, bad arguments of every command,
and bad states of the working folder. Its message must name what is wrong (the variable, file or argument) and
what was expected; a password in a URL never appears. The processes run two at a time, once for the module.

docs/bad-input.md is generated from these cases and their messages: `STATEDATA_UPDATE_GOLDEN=1` rewrites it,
otherwise the test compares it.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from model.settings import DEMO_MAPPINGS
from warehouse import db

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "bad-input.md"
PASSWORD = "s3cr@t-pw"  # holds an unencoded @: the URL parser must not take the rest for the host


@dataclass(frozen=True)
class Case:
    id: str
    what: str  # the bad input, in words
    cmd: str  # the command line after `statedata` (shell words); {name} is a folder of FOLDERS
    code: int  # 2: bad usage or settings; 1: an operation that failed
    expect: str  # a fragment of the message: the variable, file or argument named and what was expected
    before: str = ""  # how it ended before issue 14's fixes: '' clean, else a word of BEFORE: what was wrong
    env: dict[str, str] = field(default_factory=dict)  # the variables set

    @property
    def args(self) -> list[str]:
        return shlex.split(self.cmd)


def setting(var: str, value: str, cmd: str, code: int, expect: str, before: str = "", mappings: str = "") -> Case:
    """A settings variable with a bad value (for a college whose mapping folder is ``mappings``: its source is
    the only one read); the case is named by the variable, the value and the command."""
    name = f"{var.removeprefix('STATEDATA_').lower()}={re.sub(r'[{}]', '', value)}-{cmd.split()[0]}"
    env = {var: value} | ({"STATEDATA_MAPPINGS": mappings} if mappings else {})
    return Case(name, f"{var}={value}", cmd, code, expect, before, env)


# The folders the cases work in (made once per module by the `folders` fixture), as docs/bad-input.md names them.
FOLDERS = {
    "bare": "an empty working folder: no demo, no warehouse",
    "demo": "a working folder with the small demo campus generated, never run",
    "demo_empty": "the small demo campus generated and an empty warehouse",
    "empty": "a warehouse with its schemas and code tables but no data (what a refused first package leaves)",
    "notduck": "a warehouse.duckdb that is a text file, not a DuckDB database",
    "tables": "a warehouse holding only national table A1 for 2024-2025 and one failing rule result (R-XS-001)",
    "file": "a plain file (and `<file>.zip`, a text file)",
    "ro": "/sys/statedata-bad-input: a folder that cannot be created, even by root",
    "badyaml": "a college folder whose college.yaml is not valid YAML",
    "types": "a college folder whose college.yaml has owners and default_owner as lists",
    "notmap": "a college folder whose college.yaml is a list, not key: value pairs",
    "opens": "a college folder whose college.yaml has collection_opens: 13-01",
    "nomaps": "a college folder without mapping files",
    "hr_only": "a college's mapping folder holding only the demo's hr.yaml (its one source)",
    "forms_only": "a college's mapping folder holding only the demo's forms.yaml (its one source)",
    "tmp": "a temporary folder (the commands' current folder); what is named below it does not exist",
}
BEFORE = {"traceback": "tracebacks", "accepted": "bad values accepted", "unclear": "unclear messages",
          "late": "found only after a run had started"}  # fmt: skip
WRITERS = ("run", "package", "backup", "restore")  # commands that may open a folder's warehouse for writing
HR = "STATEDATA_HR_URL"
FORMS = "STATEDATA_FORMS_DIR"
CELL = "A1 4141099999 学校名称"  # a cell of the national tables: table, row key, column

# fmt: off
CASES = [
    # --- settings: every variable with a bad value ------------------------------------------------------------
    setting("STATEDATA_SOURCE_RETRIES", "many", "backup --home {bare}", 2,
            "STATEDATA_SOURCE_RETRIES='many': expected a whole number of at least 0"),
    setting("STATEDATA_SOURCE_RETRIES", "-1", "failures --home {bare}", 2,
            "STATEDATA_SOURCE_RETRIES='-1': expected a whole number of at least 0"),
    setting("STATEDATA_SOURCE_RETRY_DELAY", "nan", "failures --home {bare}", 2,
            "STATEDATA_SOURCE_RETRY_DELAY='nan': expected a number of at least 0"),
    setting("STATEDATA_FILE_SETTLE_SECONDS", "inf", "failures --home {bare}", 2,
            "STATEDATA_FILE_SETTLE_SECONDS='inf': expected a number of at least 0"),
    setting("STATEDATA_BACKUP_KEEP", "0", "backup --home {empty}", 2,
            "STATEDATA_BACKUP_KEEP='0': expected a whole number of at least 1"),
    setting("STATEDATA_EQUIPMENT_MIN_UNIT_PRICE", "1千", "failures --home {bare}", 2,
            "STATEDATA_EQUIPMENT_MIN_UNIT_PRICE='1千': expected a number"),
    setting("STATEDATA_COLLECTION_MONTHS", "13", "failures --home {bare}", 2,
            "STATEDATA_COLLECTION_MONTHS='13': months are 1 to 12"),
    setting("STATEDATA_COLLECTION_MONTHS", "a-b", "failures --home {bare}", 2,
            "STATEDATA_COLLECTION_MONTHS='a-b': expected months such as 9-12"),
    setting("STATEDATA_COLLECTION_MONTHS", "12-9", "failures --home {bare}", 2,
            "STATEDATA_COLLECTION_MONTHS='12-9': expected months such as 9-12", "accepted: no month at all"),
    setting("STATEDATA_COLLECTION_OPENS", "02-30", "failures --home {bare}", 2,
            "STATEDATA_COLLECTION_OPENS='02-30': expected month-day"),
    setting("STATEDATA_COLLECTION_OPENS", "9/24", "failures --home {bare}", 2,
            "STATEDATA_COLLECTION_OPENS='9/24': expected month-day"),
    setting("STATEDATA_MAX_SOURCE_AGE_HOURS", "1.5", "failures --home {bare}", 2,
            "STATEDATA_MAX_SOURCE_AGE_HOURS='1.5': expected a whole number"),
    setting("STATEDATA_MAX_ROW_DROP", "150", "failures --home {bare}", 2,
            "STATEDATA_MAX_ROW_DROP='150': expected a number from 0 to 100", "accepted: read as 100 %"),
    setting("STATEDATA_MAX_ROW_DROP", "-5", "failures --home {bare}", 2,
            "STATEDATA_MAX_ROW_DROP='-5': expected a number from 0 to 100"),
    setting("STATEDATA_RECONCILE_DAYS", "-1", "failures --home {bare}", 2,
            "STATEDATA_RECONCILE_DAYS='-1': expected a number of at least 0"),
    setting("STATEDATA_SCHOOL_TYPE", "火星", "failures --home {bare}", 2,
            "STATEDATA_SCHOOL_TYPE='火星': expected one of", "accepted: checked only when a run computes indicators"),
    setting("STATEDATA_DIGEST_TO", "人事处", "failures --home {bare}", 2,
            "STATEDATA_DIGEST_TO: '人事处' is not 部门=address"),
    setting("STATEDATA_DIGEST_TO", "人事处=hr-office", "failures --home {bare}", 2,
            "STATEDATA_DIGEST_TO: 'hr-office' is not a mail address", "accepted"),
    setting("STATEDATA_DIGEST_DEFAULT_TO", "nobody", "failures --home {bare}", 2,
            "STATEDATA_DIGEST_DEFAULT_TO: 'nobody' is not a mail address", "accepted"),
    setting("STATEDATA_DIGEST_FROM", "statedata", "failures --home {bare}", 2,
            "STATEDATA_DIGEST_FROM: 'statedata' is not a mail address", "accepted"),
    setting("STATEDATA_SMTP_PORT", "smtp", "failures --home {bare}", 2,
            "STATEDATA_SMTP_PORT='smtp': expected a whole number from 1 to 65535"),
    setting("STATEDATA_SMTP_PORT", "70000", "failures --home {bare}", 2,
            "STATEDATA_SMTP_PORT='70000': expected a whole number from 1 to 65535", "accepted"),
    setting("STATEDATA_SMTP_STARTTLS", "maybe", "failures --home {bare}", 2,
            "STATEDATA_SMTP_STARTTLS='maybe': expected 1 or 0", "accepted: read as 0"),
    setting("STATEDATA_HOME", "{file}", "failures", 2, "<file> is a file, not a folder",
            "unclear: 'warehouse <file>/warehouse.duckdb does not exist yet'"),
    setting("STATEDATA_COLLEGE", "{tmp}/no-such-college", "failures --home {bare}", 2,
            "STATEDATA_COLLEGE='<tmp>/no-such-college': no such folder"),
    setting("STATEDATA_COLLEGE", "{badyaml}", "failures --home {bare}", 2, "<badyaml>/college.yaml: not valid YAML"),
    setting("STATEDATA_COLLEGE", "{types}", "failures --home {bare}", 2,
            "<types>/college.yaml: owners: expected table: department pairs",
            "unclear: 'unknown key(s) [], or owners / departments not name: name pairs'"),
    setting("STATEDATA_COLLEGE", "{notmap}", "failures --home {bare}", 2,
            "<notmap>/college.yaml: expected key: value pairs", "unclear: 'unknown key(s) ['(not a mapping)']'"),
    setting("STATEDATA_COLLEGE", "{opens}", "failures --home {bare}", 2,
            "<opens>/college.yaml collection_opens='13-01': expected month-day",
            "unclear: named STATEDATA_COLLECTION_OPENS, which was not set"),
    setting("STATEDATA_COLLEGE", "{nomaps}", "failures --home {bare}", 2,
            "<nomaps>/mappings: no mapping files (*.yaml) found"),
    setting("STATEDATA_MAPPINGS", "{tmp}/no-such-mappings", "failures --home {bare}", 2,
            "STATEDATA_MAPPINGS='<tmp>/no-such-mappings': no such folder"),
    setting(HR, "hr-db.campus", "doctor --home {demo}", 2, f"{HR}: not a SQLAlchemy URL", "traceback: in doctor"),
    setting(HR, "postgresql://etl@hr-db:pg/hr", "doctor --home {demo}", 2,
            f"{HR}: port 'pg' of hr-db is not a number from 1 to 65535", "traceback: in doctor"),
    setting(HR, "nosuchdb://hr-db/hr", "doctor --home {demo}", 2,
            f"{HR}: SQLAlchemy knows no database 'nosuchdb'", "traceback: in doctor"),
    setting(HR, "postgresql+psycopg2cffi://etl@hr-db/hr", "doctor --home {demo}", 2,
            f"{HR}: the driver of postgresql+psycopg2cffi is not installed", "traceback: in doctor"),
    Case("hr_url=password-with-@-doctor", f"{HR} whose password holds an unencoded @ (a server that refuses)",
         "doctor --home {bare}", 1, "hr: cannot read postgresql://etl:***@127.0.0.1:9/hr",
         env={HR: f"postgresql://etl:{PASSWORD}@127.0.0.1:9/hr", "STATEDATA_MAPPINGS": "{hr_only}"}),
    setting(HR, "sqlite:///{tmp}/no-such-hr.sqlite", "doctor --home {bare}", 1,
            "source database for system 'hr' not found: <tmp>/no-such-hr.sqlite (set STATEDATA_HR_URL",
            mappings="{hr_only}"),
    setting(FORMS, "{tmp}/no-such-drop", "run --year 2024-2025 --home {demo}", 2,
            f"{FORMS}='<tmp>/no-such-drop': no such folder",
            "late: the run started, and failed ~30 s later in its extract_forms step"),
    setting(FORMS, "{tmp}/no-such-drop", "doctor --home {bare}", 1, f"{FORMS}='<tmp>/no-such-drop': no such folder",
            mappings="{forms_only}"),
    # --- arguments --------------------------------------------------------------------------------------------
    Case("run-year-form", "--year 2026", "run --year 2026 --home {bare}", 2,
         "academic year '2026' is not of the form 2026-2027"),
    Case("forms-year-span", "--year 2026-2028", "forms --year 2026-2028 --home {bare}", 2,
         "academic year '2026-2028' is not of the form"),
    Case("run-year-past", "--year before the first academic year", "run --year 1990-1991 --home {bare}", 2,
         "1990-1991 is not one of the academic years"),
    Case("run-year-future", "--year far ahead", "run --year 3000-3001 --home {bare}", 2,
         "3000-3001 is not one of the academic years"),
    Case("package-year-form", "--year 26-27", "package --year 26-27 --home {empty}", 2,
         "academic year '26-27' is not of the form"),
    Case("package-year-past", "--year no template pack covers", "package --year 1990-1991 --home {empty}", 1,
         "no template pack in <repo>/reporting/templates applies to 1990-1991"),
    Case("package-out-file", "--out a file", "package --out {file} --home {empty}", 2,
         "Invalid value for '--out': Directory '<file>' is a file"),
    Case("package-out-below-file", "--out below a file", "package --out {file}/packages --home {tables}", 2,
         "--out <file>/packages: <file> is a file, not a folder",
         "unclear: refused for the rules; --out was not checked"),
    Case("failures-year-form", "--year 2026/27", "failures --year 2026/27 --home {tables}", 2,
         "academic year '2026/27' is not of the form"),
    Case("failures-dept", "--dept no rule names", "failures --dept 火星处 --home {tables}", 2,
         "no rule is owned by '火星处'; departments:"),
    Case("failures-limit", "--limit -1", "failures --limit -1 --home {tables}", 2,
         "Invalid value for '--limit': -1 is not in the range x>=0", "accepted"),
    Case("failures-out-below-file", "--out below a file", "failures --format xlsx --out {file}/reports --home {tables}",
         2, "--out <file>/reports: <file> is a file, not a folder", "traceback"),
    Case("forms-year-form", "--year 2026", "forms --year 2026 --home {bare}", 2,
         "academic year '2026' is not of the form"),
    Case("forms-out-file", "--out a file", "forms --out {file} --home {bare}", 2,
         "Invalid value for '--out': Directory '<file>' is a file"),
    Case("forms-out-below-file", "--out below a file", "forms --out {file}/forms --home {bare}", 2,
         "--out <file>/forms: <file> is a file, not a folder", "traceback"),
    Case("trace-year-form", "--year 2026", f"trace {CELL} --year 2026 --home {{tables}}", 2,
         "academic year '2026' is not of the form"),
    Case("trace-args", "TABLE without ROW_KEY and COLUMN", "trace A1 --home {tables}", 2,
         "give TABLE ROW_KEY COLUMN"),
    Case("trace-table", "a table that does not exist", "trace Z9 4141099999 学校名称 --home {tables}", 1,
         "no national table 'Z9'"),
    Case("trace-row", "a row that does not exist", "trace A1 9999999999 学校名称 --home {tables}", 1,
         "has no row '9999999999' in 2024-2025"),
    Case("trace-column", "a column that does not exist", "trace A1 4141099999 校长 --home {tables}", 1,
         "A1 has no column '校长'; columns:"),
    Case("trace-indicator", "--indicator that does not exist", "trace --indicator 火星比 --home {tables}", 1,
         "no core indicator '火星比'; indicators:"),
    Case("trace-html-indicator", "--format html with --indicator",
         "trace --indicator 生师比 --format html --home {tables}", 2, "--format html explains a cell"),
    Case("trace-out-no-folder", "--out in a folder that does not exist",
         f"trace {CELL} --format html --out {{tmp}}/no-such-folder/cell.html --home {{tables}}", 2,
         "--out <tmp>/no-such-folder/cell.html: no folder <tmp>/no-such-folder", "traceback"),
    Case("trace-limit", "--limit -5", f"trace {CELL} --limit -5 --home {{tables}}", 2,
         "Invalid value for '--limit': -5 is not in the range x>=0", "accepted"),
    Case("trace-snapshot-missing", "--snapshot of a file that does not exist",
         f"trace {CELL} --snapshot {{tmp}}/no-such.duckdb --home {{bare}}", 1, "no snapshot '<tmp>/no-such.duckdb'"),
    Case("trace-snapshot-not-zip", "--snapshot of a .zip that is not a zip",
         f"trace {CELL} --snapshot {{file}}.zip --home {{bare}}", 1, "--snapshot <file>.zip: not a package",
         "traceback"),
    Case("restore-no-backups", "restore with no backups", "restore --home {empty}", 1,
         "no readable backup in <empty>/backups"),
    Case("backup-keep", "--keep 0", "backup --keep 0 --home {empty}", 2,
         "Invalid value for '--keep': 0 is not in the range x>=1", "accepted: kept one backup"),
    Case("demo-year", "--year 1800", "demo --year 1800 --scale small --home {tmp}/demo-1800", 2,
         "--year 1800: expected", "traceback"),
    Case("demo-out-file", "--out a file", "demo --out {file} --home {bare}", 2,
         "Invalid value for '--out': Directory '<file>' is a file"),
    Case("doctor-home-file", "--home a file", "doctor --home {file}", 2,
         "Invalid value for '--home': Directory '<file>' is a file"),
    Case("home-below-file", "--home below a file", "failures --home {file}/home", 2,
         "(STATEDATA_HOME or --home): <file> is a file, not a folder",
         "unclear: 'warehouse <file>/home/warehouse.duckdb does not exist yet'"),
    Case("run-home-unwritable", "--home that cannot be created", "run --year 2024-2025 --home {ro}", 2,
         "cannot create the working folder <ro>", "traceback"),
    Case("package-home-unwritable", "--home that cannot be created", "package --home {ro}", 2,
         "cannot create the working folder <ro>", "traceback"),
    Case("demo-home-unwritable", "--home that cannot be created", "demo --scale small --home {ro}", 2,
         "cannot create the working folder <ro>", "traceback"),
    Case("init-from-missing", "--from a folder that does not exist",
         "init --from {tmp}/no-such-drops --system hr --home {bare}", 2,
         "--from '<tmp>/no-such-drops': no such folder, and not a SQLAlchemy URL",
         "unclear: 'cannot read <tmp>/no-such-drops://…: ArgumentError'"),
    Case("init-from-sqlite-missing", "--from a SQLite file that does not exist",
         "init --from sqlite:///{tmp}/no-such.sqlite --system hr --home {bare}", 2,
         "--from sqlite:///<tmp>/no-such.sqlite: no such SQLite file",
         "unclear: 'has no tables', and an empty database file was created"),
    Case("init-from-password-with-@", "--from a URL whose password holds an unencoded @ (a server that refuses)",
         f"init --from postgresql://etl:{PASSWORD}@127.0.0.1:9/hr --system hr --home {{bare}}", 1,
         "cannot read postgresql://etl:***@127.0.0.1:9/hr"),
    Case("init-from-no-drops", "--from a folder without drops", "init --from {bare} --system hr --home {bare}", 1,
         "<bare>: no .xlsx, .xls or .csv files"),
    Case("init-system", "--system HR", "init --from {bare} --system HR --home {bare}", 2,
         "--system 'HR': expected a short lowercase name"),
    # --- states of the working folder -------------------------------------------------------------------------
    Case("failures-no-warehouse", "no warehouse yet", "failures --home {bare}", 1,
         "warehouse <bare>/warehouse.duckdb does not exist yet: run `statedata run` first"),
    Case("trace-no-warehouse", "no warehouse yet", f"trace {CELL} --home {{bare}}", 1,
         "warehouse <bare>/warehouse.duckdb does not exist yet"),
    Case("score-no-warehouse", "no warehouse yet", "score --home {demo}", 1,
         "warehouse <demo>/warehouse.duckdb does not exist yet"),
    Case("score-no-demo", "no demo campus", "score --home {bare}", 1,
         "<bare>/demo/manifest.json: no demo manifest"),
    Case("backup-no-warehouse", "no warehouse yet", "backup --home {bare}", 1,
         "nothing to back up: <bare>/warehouse.duckdb does not exist"),
    Case("failures-not-duckdb", "a warehouse that is not a DuckDB file", "failures --home {notduck}", 1,
         "cannot open warehouse <notduck>/warehouse.duckdb"),
    Case("package-not-duckdb", "a warehouse that is not a DuckDB file", "package --home {notduck}", 1,
         "cannot open warehouse <notduck>/warehouse.duckdb"),
    Case("backup-not-duckdb", "a warehouse that is not a DuckDB file", "backup --home {notduck}", 1,
         "cannot open warehouse <notduck>/warehouse.duckdb"),
    Case("run-not-duckdb", "a warehouse that is not a DuckDB file", "run --year 2024-2025 --home {notduck}", 1,
         "<notduck>/warehouse.duckdb"),
    Case("failures-empty", "an empty warehouse", "failures --home {empty}", 1,
         "no rule has been evaluated yet: run `statedata run` first"),
    Case("package-empty", "an empty warehouse", "package --year 2024-2025 --home {empty}", 1,
         "no rule has been evaluated for 2024-2025"),
    Case("trace-empty", "an empty warehouse", f"trace {CELL} --home {{empty}}", 1,
         "holds no national table yet: run `statedata run` first"),
    Case("trace-empty-year", "an empty warehouse, --year given", f"trace {CELL} --year 2024-2025 --home {{empty}}", 1,
         "A1 for 2024-2025 is not in the warehouse yet", "traceback"),
    Case("trace-indicator-empty", "an empty warehouse", "trace --indicator 生师比 --home {empty}", 1,
         "no core indicator has been computed yet: run `statedata run` first", "traceback"),
    Case("score-empty", "an empty warehouse", "score --home {demo_empty}", 1,
         "no rule has been evaluated yet: run `statedata run` first"),
]
# fmt: on


def _make_folders(root: Path, demo_src: Path) -> dict[str, Path]:
    f = {name: root / name for name in FOLDERS}
    f["ro"] = Path("/sys/statedata-bad-input")
    f["tmp"].mkdir()
    f["bare"].mkdir()
    for name in ("demo", "demo_empty"):
        shutil.copytree(demo_src, f[name] / "demo")
    for name in ("empty", "tables", "demo_empty"):
        with db.connect(f[name] / "warehouse.duckdb") as con:
            db.init(con)
    with db.connect(f["tables"] / "warehouse.duckdb") as con:
        con.execute(
            "create table platform.school_basic (academic_year varchar, school_code varchar, school_name varchar, "
            "_raw_ids varchar[])"
        )
        con.execute("insert into platform.school_basic values ('2024-2025', '4141099999', '示例职业技术学院', [])")
        con.execute(
            "insert into audit.rule_result values ('r1', '2024-2025', 'R-XS-001', 'platform.student', 'error', false, "
            "1, 9, '0', now(), null)"
        )
    f["notduck"].mkdir()
    (f["notduck"] / "warehouse.duckdb").write_text("not a database\n", encoding="utf-8")
    f["file"].write_text("a plain file\n", encoding="utf-8")
    Path(f"{f['file']}.zip").write_text("not a zip\n", encoding="utf-8")
    colleges = {
        "badyaml": "name: [示例\n",
        "types": "name: 示例\nowners: [人事处, 教务处]\ndefault_owner: [质量管理办公室]\n",
        "notmap": "- name\n- 示例\n",
        "opens": "name: 示例\ncollection_opens: 13-01\n",
        "nomaps": "name: 示例\n",
    }
    for name, text in colleges.items():
        f[name].mkdir()
        (f[name] / "college.yaml").write_text(text, encoding="utf-8")
    for name in ("hr", "forms"):
        f[f"{name}_only"].mkdir()
        shutil.copy(DEMO_MAPPINGS / f"{name}.yaml", f[f"{name}_only"])
    return f


def _fill(text: str, folders: dict[str, Path]) -> str:
    return text.format(**{k: str(v) for k, v in folders.items()})


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("STATEDATA_", "DAGSTER_"))}


def _run(case: Case, folders: dict[str, Path]) -> dict:
    env = _clean_env() | {k: _fill(v, folders) for k, v in case.env.items()}
    args = [_fill(a, folders) for a in case.args]
    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], env=env, cwd=folders["tmp"], capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    return {"code": res.returncode, "out": res.stderr + res.stdout}


def _stable(text: str, folders: dict[str, Path]) -> str:
    """A message as docs/bad-input.md shows it: folders by their names, year lists cut (they grow each year), and
    the reason the system gives for a folder it will not make (it differs between machines and users)."""
    for name, path in sorted(folders.items(), key=lambda kv: -len(str(kv[1]))):
        text = text.replace(str(path), f"<{name}>")
    text = text.replace(str(ROOT), "<repo>")
    text = re.sub(r"Operation not permitted|Permission denied|Read-only file system", "<not writable>", text)
    return re.sub(r"(\d{4}-\d{4})(, \d{4}-\d{4})+", r"\1, …", text)


def message(case: Case, result: dict, folders: dict[str, Path]) -> str:
    """The line of the output that says what is wrong: the first holding the expected fragment, else the first."""
    lines = [line.strip() for line in _stable(result["out"], folders).splitlines() if line.strip()]
    line = next((x for x in lines if case.expect in x), lines[0] if lines else "(no output)")
    return line if len(line) <= 160 else line[:157] + "…"


@pytest.fixture(scope="module")
def folders(tmp_path_factory, demo_src) -> dict[str, Path]:
    return _make_folders(tmp_path_factory.mktemp("bad-input"), demo_src)


@pytest.fixture(scope="module")
def results(request, folders) -> dict[str, dict]:
    """Every case selected in this session (all of them when the doc is checked), two processes at a time."""
    chosen = {
        item.callspec.params["case"].id
        for item in request.session.items
        if hasattr(item, "callspec") and "case" in item.callspec.params
    }
    if any(item.name == "test_docs_bad_input_md_lists_every_case" for item in request.session.items):
        chosen = {c.id for c in CASES}
    todo = [c for c in CASES if c.id in chosen]
    writers = [c for c in todo if c.cmd.split()[0] in WRITERS]
    readers = [c for c in todo if c not in writers]
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = dict(zip([c.id for c in readers], pool.map(lambda c: _run(c, folders), readers)))
    # one at a time: beside a command that opens a shared folder's warehouse for writing, a reader finds it locked
    return found | {c.id: _run(c, folders) for c in writers}


def test_case_ids_are_unique_and_before_says_what_was_wrong():
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.before.split(":")[0] in BEFORE for c in CASES if c.before)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_ends_in_its_message_not_a_traceback(case, results, folders):
    r = results[case.id]
    out = _stable(r["out"], folders)
    assert "Traceback" not in out, out[-3000:]
    assert r["code"] == case.code, out[-3000:]
    assert case.expect in out, out[-3000:]
    assert PASSWORD not in r["out"]


def _named(text: str) -> str:
    return re.sub(r"\{(\w+)\}", r"<\1>", text)


def render(results: dict[str, dict], folders: dict[str, Path]) -> str:
    clean = sum(
        "Traceback" not in r["out"] and r["code"] == c.code and c.expect in _stable(r["out"], folders)
        for c, r in ((c, results[c.id]) for c in CASES)
    )
    unclean = [c for c in CASES if c.before]
    kinds = ", ".join(f"{sum(c.before.startswith(k) for c in unclean)} {what}" for k, what in BEFORE.items())
    lines = [
        "# Bad input: what statedata says",
        "",
        "<!-- generated from the cases of tests/e2e/test_bad_inputs.py; to rewrite it: "
        "STATEDATA_UPDATE_GOLDEN=1 pytest tests/e2e/test_bad_inputs.py -->",
        "",
        "Every bad input ends in one message that names the variable, file or argument and what was expected, and an "
        "exit code: 2 for bad usage or settings (nothing was started), 1 for an operation that failed. No traceback "
        "reaches a user; a password in a URL is never shown. Each row is a test case run as a real `statedata` "
        "process (tests/e2e/test_bad_inputs.py); the message is the line that says what is wrong.",
        "",
        f"**{len(CASES)} cases, {clean} clean.** Before issue 14's fixes {len(CASES) - len(unclean)} of them were "
        f"clean; {len(unclean)} were not ({kinds}):",
        "",
        *[f"- `{c.id}`: {c.before}" for c in unclean],
        "",
        "Folders the commands name:",
        "",
        *[f"- `<{name}>`: {what}" for name, what in FOLDERS.items()],
        "",
        "| Bad input | Command | Exit | Message |",
        "|---|---|---|---|",
    ]
    for c in CASES:
        env = " ".join(f"{k}={_named(v)}" for k, v in c.env.items())
        row = [_named(c.what), f"`{env} statedata {_named(c.cmd)}`".replace("` ", "`"), str(results[c.id]["code"]),
               message(c, results[c.id], folders)]  # fmt: skip
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in row) + " |")
    return "\n".join(lines) + "\n"


def test_docs_bad_input_md_lists_every_case(results, folders):
    text = render(results, folders)
    if os.environ.get("STATEDATA_UPDATE_GOLDEN") == "1":
        DOC.write_text(text, encoding="utf-8")
    assert DOC.exists() and DOC.read_text(encoding="utf-8") == text, (
        "docs/bad-input.md is out of step with the cases: STATEDATA_UPDATE_GOLDEN=1 pytest tests/e2e/test_bad_inputs.py"
    )
