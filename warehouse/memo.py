"""The contents of warehouse tables known without measuring them again: what warehouse/builds.py ``content`` measured,
while nothing has written the table since.

A run of the whole graph (assets/resources.py) and a night with nothing changed (pipelines/nochange.py) hold the
memo. It starts with what the last of them recorded at its end, when the warehouse file is as it left it (size and
modification time); otherwise empty. The holder records it again when it ends without a failure. So a run with a
small change measures the tables it writes, not every table it reads.

Every function that writes a table of the memoized layers says so (``wrote``), which drops what was known of the table
and of every view that reads it, directly or through another view (what each view reads is taken from its SQL when
it is measured: warehouse/builds.py); a rollback drops everything (what was measured inside the transaction may be
undone), and so does a step that fails. A writer that does not say so would serve a stale content: with
``STATEDATA_CHECK_CONTENTS=1`` (the test suite sets it) every content served from the memo is measured again, and a
difference raises ``StaleContent`` naming the table.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from model.settings import check_contents

LAYERS = ("raw", "staging", "core", "platform")  # those the builds and the rules fingerprint; audit is not kept

Key = tuple[str, str, tuple[str, ...]]  # layer, table, academic years (none: the whole table)
# what a content depends on: a table, itself; a view, itself and the tables it reads ('' as the layer: a name its SQL
# does not qualify, of any layer); None: not known, any write
Depends = frozenset[tuple[str, str]] | None
FORMAT = 2  # of the record: a file of another format is not read

_known: dict[Key, str] | None = None  # None: no holder, nothing is kept
_depends: dict[Key, Depends] = {}
_database = ""  # the warehouse file the holder's contents are of: another database's tables are measured


class StaleContent(RuntimeError):
    """A content served from the memo differs from the table's: a write that did not say so."""


def checking() -> bool:
    return check_contents()


def held_for() -> str:
    """The warehouse file whose contents a holder holds ('' when none does): another database's are measured."""
    return _database


def get(layer: str, name: str, years: tuple[str, ...]) -> str | None:
    return None if _known is None else _known.get((layer, name, years))


def put(layer: str, name: str, years: tuple[str, ...], value: str, depends: Depends) -> None:
    if _known is not None and layer in LAYERS:
        _known[(layer, name, years)] = value
        _depends[(layer, name, years)] = depends


def wrote(layer: str, name: str) -> None:
    """``layer.name`` was written (or replaced, or dropped): its contents are measured anew, and those of every view
    that reads it."""
    if _known:
        for key in [k for k, d in _depends.items() if d is None or (layer, name) in d or ("", name) in d]:
            del _known[key], _depends[key]


def forget() -> None:
    """A transaction was rolled back, or a step failed: nothing known is trusted any more."""
    if _known is not None:
        _known.clear()
        _depends.clear()


@contextmanager
def held(path: Path, warehouse: Path, stamp: list[int] | None) -> Iterator[None]:
    """Hold the memo in this process for the block, for the ``warehouse`` file, starting from what ``path``
    recorded when the file had the ``stamp`` it has now (warehouse/db.py file_stamp), measured by this DuckDB (its
    ``hash`` may change between versions)."""
    global _known, _database
    if _known is not None:  # a holder inside a holder: the outer one holds it
        yield
        return
    _known, _database = {}, str(Path(warehouse).resolve())
    _depends.clear()
    try:
        recorded = json.loads(Path(path).read_text(encoding="utf-8"))
        same = (recorded["format"], recorded["stamp"], recorded["duckdb"]) == (FORMAT, stamp, duckdb.__version__)
        for layer, name, years, value, depends in recorded["tables"] if same and stamp is not None else []:
            put(layer, name, tuple(years), value, None if depends is None else frozenset(map(tuple, depends)))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        yield
    finally:
        _known, _database = None, ""
        _depends.clear()


def record(path: Path, stamp: list[int] | None) -> None:
    """Record what is known, for the next holder, with the warehouse file's ``stamp`` after the holder's last write;
    nothing (and nothing kept from before) when there is no holder or no stamp."""
    path = Path(path)
    if _known is None or stamp is None:
        path.unlink(missing_ok=True)
        return
    depends = {k: None if d is None else sorted(d) for k, d in _depends.items()}
    tables = [
        [layer, name, list(years), value, depends[(layer, name, years)]]
        for (layer, name, years), value in _known.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    recorded = {"format": FORMAT, "stamp": stamp, "duckdb": duckdb.__version__, "tables": tables}
    tmp.write_text(json.dumps(recorded, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
