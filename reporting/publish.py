"""Publishing a folder of output files all at once: one rename switches what readers see.

``out/<name>`` is a symbolic link to a version folder, ``out/.versions/<name>.<stamp>``. A writer fills a new
version folder under a ``.partial`` name, renames it into place, and then switches the link by renaming a
fresh link over it (``os.replace``, atomic on POSIX). Whatever moment a crash hits, ``out/<name>`` is the old
version whole or the new one whole; a package's zip sits inside its version folder (``out/<name>.zip`` is a
fixed link into it), so the folder, its manifest and its zip always switch together.

Leftovers of a crash (``.partial`` folders, version folders no link points to, temporary links, and the
``.tmp-``/``.old-`` folders of earlier releases) are removed by `clean_leftovers`, which every publish runs
first; the callers hold the working folder's run lock, so no other writer is half-way.
"""

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

VERSIONS = ".versions"
T = TypeVar("T")


def _step(name: str) -> None:
    """Called after each step of a publish; tests replace it to crash the publish between two steps."""


def publish(out_dir: Path, name: str, fill: Callable[[Path], T], zip_name: str | None = None) -> T:
    """Make ``out_dir/name`` show what ``fill(folder)`` writes into an empty folder, switching in one rename.
    ``zip_name``: a file ``fill`` writes into the folder, also shown as ``out_dir/<zip_name>``."""
    out_dir = Path(out_dir)
    clean_leftovers(out_dir)
    versions = out_dir / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.time_ns()}-{os.getpid()}"
    work = versions / f"{name}.{stamp}.partial"
    work.mkdir()
    try:
        result = fill(work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _step("filled")
    version = work.with_name(f"{name}.{stamp}")
    work.rename(version)
    _step("versioned")
    link = out_dir / f".{name}.link-{stamp}"
    link.symlink_to(Path(VERSIONS) / version.name)
    _step("linked")
    target = out_dir / name
    if target.is_dir() and not target.is_symlink():  # a folder an earlier release wrote: make it a version
        legacy = versions / f"{name}.legacy-{stamp}"
        target.rename(legacy)
        _step("legacy moved")
    os.replace(link, target)  # the publish: one rename
    _step("switched")
    if zip_name:
        _link(out_dir / zip_name, Path(name) / zip_name, stamp)
    clean_leftovers(out_dir)  # the version it replaced
    return result


def unpublish(out_dir: Path, name: str) -> None:
    """Withdraw ``out_dir/name`` (and the version it shows)."""
    target = Path(out_dir) / name
    if target.is_symlink():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    clean_leftovers(Path(out_dir))


def _link(path: Path, to: Path, stamp: str) -> None:
    """Point ``path`` at ``to`` (a file a release before this one wrote there is replaced, in one rename)."""
    if path.is_symlink() and Path(os.readlink(path)) == to:
        return
    tmp = path.with_name(f".{path.name}.link-{stamp}")
    tmp.symlink_to(to)
    os.replace(tmp, path)


def clean_leftovers(out_dir: Path) -> list[Path]:
    """Remove what an interrupted publish left in ``out_dir``; a folder moved aside from an earlier release
    that no link shows yet is put back first. Returns what was removed."""
    out_dir = Path(out_dir)
    versions = out_dir / VERSIONS
    if not out_dir.is_dir():
        return []
    removed = []
    for p in out_dir.iterdir():
        n = p.name
        if n.startswith(".") and (".link-" in n or ".tmp-" in n or ".old-" in n):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    if not versions.is_dir():
        return removed
    shown = {
        (out_dir / os.readlink(p)).resolve()
        for p in out_dir.iterdir()
        if p.is_symlink() and os.readlink(p).startswith(VERSIONS + os.sep)
    }
    for v in sorted(versions.iterdir()):
        if v.resolve() in shown:
            continue
        if ".legacy-" in v.name:  # crashed between moving it aside and switching: it is still the last good one
            name = v.name.split(".legacy-")[0]
            if not (out_dir / name).exists():
                tmp = out_dir / f".{name}.link-restore"
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(Path(VERSIONS) / v.name)
                os.replace(tmp, out_dir / name)
                continue
        shutil.rmtree(v, ignore_errors=True)
        removed.append(v)
    return removed
