"""The layers of docs/architecture.md: imports point one way (import-linter), no function-local import hides a
cycle, and the page names the folders the code has."""

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Function-local imports of the project's own modules, each for a reason that is not a cycle.
LAZY_IMPORTS = {
    ("pipelines/cli/demo.py", "demo_campus.generator"),  # the demo extra (faker) is optional
    ("reporting/trace.py", "connectors.sources"),  # only `trace --verify` needs the source clients
    # the portal's entry functions: Django's models are importable only once Django is set up
    ("portal/__init__.py", "portal"),
    ("portal/__init__.py", "portal.evidence"),
    ("pipelines/cli/run.py", "pipelines.cli"),  # the nightly job's Dagster part, only when there is work to run
}


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_code(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, tree / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_import_contracts_hold(tmp_path):
    res = lint_imports(copy_of_the_code(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


@pytest.mark.parametrize(
    "module, line, contract",
    [
        ("model/years.py", "from warehouse import db", "Layers point one way"),
        ("warehouse/backup.py", "from reporting.export import export_year", "Layers point one way"),
        ("connectors/base.py", "import duckdb", "never touch the warehouse engine"),
        ("expectations/rules.py", "import dagster", "Only assets/ and pipelines/ import Dagster"),
    ],
)
def test_a_backward_import_breaks_the_build_and_is_named(tmp_path, module, line, contract):
    tree = copy_of_the_code(tmp_path)
    path = tree / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # deliberately backward\n", encoding="utf-8")
    res = lint_imports(tree)
    assert res.returncode != 0
    broken = res.stdout[res.stdout.index(contract) :]
    assert "BROKEN" in broken.splitlines()[0] or "BROKEN" in broken[:300]
    assert module.removesuffix(".py").replace("/", ".") in res.stdout


def function_local_imports() -> set[tuple[str, str]]:
    found = set()
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for fn in ast.walk(tree):
                if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(fn):
                    names = [node.module] if isinstance(node, ast.ImportFrom) else []
                    names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
                    for name in filter(None, names):
                        if name.split(".")[0] in PACKAGES:
                            found.add((path.relative_to(ROOT).as_posix(), name))
    return found


def test_no_function_local_import_of_our_own_code_but_the_lazy_ones():
    assert function_local_imports() == LAZY_IMPORTS


def test_the_page_names_every_folder_and_the_layer_order_the_contracts_enforce():
    table = DOC[DOC.index("## Folders") : DOC.index("## Where a new thing goes")]
    rows = re.findall(r"^\| `([a-z_]+)/` \| ([^|]+) \|", table, re.MULTILINE)
    named = {folder for folder, _ in rows}
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == set(PACKAGES), "pyproject's root_packages must list every package"
    assert named == packages | {"tests", "scripts", "docs"}
    for folder in named:
        assert (ROOT / folder).is_dir(), folder
    # layer numbers in the page, bottom (1) to top, against the contract's order (top first)
    number = {
        folder: int(re.match(r"\s*(\d+)", layer).group(1)) for folder, layer in rows if layer.strip()[0].isdigit()
    }
    order = [layer.split(" | ") for layer in CONFIG["contracts"][0]["layers"]]
    levels = [{number[f] for f in group} for group in reversed(order)]
    assert all(len(level) == 1 for level in levels), levels
    assert [level.pop() for level in levels] == sorted({number[f] for f in number})
