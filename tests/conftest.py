"""Shared fixtures. Nothing is written into the working tree: every test works below tmp_path."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from demo_campus.generator import GeneratorConfig, generate

# Retries of a dropped source wait 0.2 s (doubling) in tests instead of 10 s. Set before the
# definitions are first imported, and inherited by the CLI processes the tests start.
os.environ.setdefault("STATEDATA_SOURCE_RETRY_DELAY", "0.2")
# Every table content served from what a run already knew is measured again, and a difference fails the test
# (warehouse/memo.py): a function that writes a table without saying so is found here, not in a college's outputs.
os.environ.setdefault("STATEDATA_CHECK_CONTENTS", "1")

YEAR = 2026  # the demo's current academic year in tests: 2026-2027 (fixed, so results do not depend on today)
ACADEMIC_YEAR = f"{YEAR}-{YEAR + 1}"


TIERS = {"unit": "unit", "assets": "asset", "sql": "sql", "e2e": "e2e", "integration": "integration",
         "portal": "portal"}  # fmt: skip


def pytest_collection_modifyitems(config, items):
    """Each test's tier is its folder (tests/unit, tests/assets, tests/sql, tests/e2e, tests/integration, tests/portal);
    the smoke tests at the top of tests/ are unit tests. `make test-fast` deselects e2e and integration."""
    here = Path(__file__).parent
    for item in items:
        folder = Path(item.path).relative_to(here).parts[0]
        item.add_marker(TIERS.get(folder, "unit"))


@pytest.fixture(scope="session")
def demo_src(tmp_path_factory) -> Path:
    """A small demo campus with defects, generated once per session (treat as read-only)."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    generate(GeneratorConfig(out_dir=out, scale="small", year=YEAR))
    return out


@pytest.fixture
def demo(tmp_path, demo_src) -> Path:
    """A private copy of the small demo campus that a test may change."""
    dst = tmp_path / "home" / "demo"
    shutil.copytree(demo_src, dst)
    return dst


def use_home(home: Path, monkeypatch) -> Path:
    """STATEDATA_HOME = home; DAGSTER_HOME below it; no source variables set (the demo college's sources)."""
    monkeypatch.setenv("STATEDATA_HOME", str(home))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    for name in [v for v in os.environ if v.startswith("STATEDATA_") and v.endswith(("_URL", "_DIR"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("STATEDATA_MAPPINGS", raising=False)
    monkeypatch.delenv("STATEDATA_COLLEGE", raising=False)
    return home


@pytest.fixture
def home(demo, monkeypatch) -> Path:
    """STATEDATA_HOME with the demo campus in it, nothing run yet."""
    return use_home(demo.parent, monkeypatch)


def cli_env(home: Path) -> dict[str, str]:
    """The environment of a `statedata` process working in ``home`` on the demo college."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STATEDATA_HOME", "STATEDATA_MAPPINGS", "STATEDATA_COLLEGE", "DAGSTER_"))
    }
    env = {k: v for k, v in env.items() if not (k.startswith("STATEDATA_") and k.endswith(("_URL", "_DIR")))}
    return env | {"STATEDATA_HOME": str(home)}


@pytest.fixture(scope="session")
def ran_src(tmp_path_factory, demo_src) -> tuple[Path, subprocess.CompletedProcess]:
    """A working folder after one whole `statedata run --json --quiet` of the small demo for ACADEMIC_YEAR, in its
    own process, once per session (treat as read-only), and what that process printed."""
    home = tmp_path_factory.mktemp("ran") / "home"
    shutil.copytree(demo_src, home / "demo")
    res = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--year", ACADEMIC_YEAR, "--json", "--quiet"],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return home, res


@pytest.fixture
def ran(tmp_path, ran_src, monkeypatch) -> Path:
    """A private copy of the working folder after that run: sources, warehouse, outputs, the nightly backup and
    the run history, as a second night would find them."""
    home = tmp_path / "home"
    shutil.copytree(ran_src[0], home, symlinks=True)  # the published folders are links (reporting/publish.py)
    return use_home(home, monkeypatch)


@pytest.fixture
def ran_summary(ran_src) -> dict:
    """The run summary (`--json`) of that run; its file paths name the session's folder, not the copy."""
    return json.loads(ran_src[1].stdout)


def sign_all(home: Path, academic_year: str) -> list[str]:
    """Every department that owns a national table signs its 上报确认书 in the review portal, on the data the
    last run published (what `statedata package` requires). Returns the departments."""
    import portal
    from model.settings import Settings

    settings = Settings.from_env({"STATEDATA_HOME": str(home)})
    portal.setup(settings)
    from portal import data, review
    from portal.models import Department
    from portal.users import add_user

    snap = data.latest(settings)
    owners = sorted({data.owner(settings, t) for t in data.tables_of(settings, academic_year)})
    for dept in owners:
        head = add_user(f"head-{dept}", None, "head", dept)
        review.sign(settings, snap.con, snap.name, academic_year, Department.objects.get(name=dept), head)
    return owners
