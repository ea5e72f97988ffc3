"""Shared fixtures. Nothing is written into the working tree: every test works below tmp_path."""

import os
import shutil
from pathlib import Path

import pytest

from demo_campus.generator import GeneratorConfig, generate

# Retries of a dropped source wait 0.2 s (doubling) in tests instead of 10 s. Set before the
# definitions are first imported, and inherited by the CLI processes the tests start.
os.environ.setdefault("STATEDATA_SOURCE_RETRY_DELAY", "0.2")

YEAR = 2026  # the demo's current academic year in tests: 2026-2027 (fixed, so results do not depend on today)
ACADEMIC_YEAR = f"{YEAR}-{YEAR + 1}"


TIERS = {"unit": "unit", "assets": "asset", "sql": "sql", "e2e": "e2e", "integration": "integration"}


def pytest_collection_modifyitems(config, items):
    """Each test's tier is its folder (tests/unit, tests/assets, tests/sql, tests/e2e, tests/integration);
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


@pytest.fixture
def home(demo, monkeypatch) -> Path:
    """STATEDATA_HOME with the demo campus in it; DAGSTER_HOME below it; no source variables set."""
    home = demo.parent
    monkeypatch.setenv("STATEDATA_HOME", str(home))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("STATEDATA_MAPPINGS", raising=False)
    for var in ("ACADEMIC", "HR", "FINANCE", "ASSETS", "LIBRARY"):
        monkeypatch.delenv(f"STATEDATA_{var}_URL", raising=False)
    for var in ("ADMISSIONS", "OFFICE"):
        monkeypatch.delenv(f"STATEDATA_{var}_DIR", raising=False)
    return home
