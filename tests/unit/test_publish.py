"""Publishing by one rename: a crash between any two steps leaves the last good version whole or the new one
whole, never a mix; the next publish removes what the crash left."""

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

from reporting import publish as pub
from reporting.package import _zip

STEPS = ["filled", "versioned", "linked", "legacy moved", "switched"]


class Crash(Exception):
    pass


def fill_with(content: str):
    """A package-like folder: two files, a manifest of their hashes, and a zip of them inside."""

    def fill(folder: Path) -> str:
        files = {"A1.xlsx": f"a1 {content}", "A2.xlsx": f"a2 {content}"}
        for n, text in files.items():
            (folder / n).write_text(text, encoding="utf-8")
        manifest = {n: hashlib.sha256(t.encode()).hexdigest() for n, t in files.items()}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        _zip(folder, folder / "pkg.zip", "pkg")
        return content

    return fill


def shown(out: Path) -> str | None:
    """The version readers see, after checking that the folder, its manifest and its zip agree."""
    folder = out / "pkg"
    if not folder.exists():
        return None
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for n, digest in manifest.items():
        assert hashlib.sha256((folder / n).read_bytes()).hexdigest() == digest
    with zipfile.ZipFile(out / "pkg.zip") as z:
        for n in manifest:
            assert z.read(f"pkg/{n}") == (folder / n).read_bytes(), "the zip is not of the folder shown"
    contents = {(folder / n).read_text(encoding="utf-8").split(" ", 1)[1] for n in manifest}
    assert len(contents) == 1, "files of two versions mixed"
    return contents.pop()


def crash_at(monkeypatch, step: str):
    def _step(name):
        if name == step:
            raise Crash(name)

    monkeypatch.setattr(pub, "_step", _step)


@pytest.mark.parametrize("step", [s for s in STEPS if s != "legacy moved"])
def test_a_crash_between_any_two_steps_shows_the_old_version_or_the_new_one_whole(tmp_path, monkeypatch, step):
    out = tmp_path / "out"
    pub.publish(out, "pkg", fill_with("v1"), zip_name="pkg.zip")
    assert shown(out) == "v1"
    crash_at(monkeypatch, step)
    with pytest.raises(Crash):
        pub.publish(out, "pkg", fill_with("v2"), zip_name="pkg.zip")
    assert shown(out) == ("v2" if step == "switched" else "v1")
    monkeypatch.setattr(pub, "_step", lambda name: None)
    pub.publish(out, "pkg", fill_with("v3"), zip_name="pkg.zip")  # the next start cleans what the crash left
    assert shown(out) == "v3"
    assert [p.name for p in (out / ".versions").iterdir()] == [os.readlink(out / "pkg").split("/")[-1]]
    assert sorted(p.name for p in out.iterdir()) == [".versions", "pkg", "pkg.zip"]


def test_a_failing_fill_changes_nothing_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    pub.publish(out, "pkg", fill_with("v1"), zip_name="pkg.zip")

    def broken(folder):
        (folder / "A1.xlsx").write_text("half", encoding="utf-8")
        raise RuntimeError("template error")

    with pytest.raises(RuntimeError):
        pub.publish(out, "pkg", broken, zip_name="pkg.zip")
    assert shown(out) == "v1" and len(list((out / ".versions").iterdir())) == 1


@pytest.mark.parametrize("step", ["linked", "legacy moved", "switched"])
def test_a_folder_and_zip_an_earlier_release_wrote_are_taken_over_and_survive_a_crash(tmp_path, monkeypatch, step):
    out = tmp_path / "out"
    (out / "pkg").mkdir(parents=True)  # the old layout: a real folder, a zip beside it, crash leftovers
    fill_with("v0")(out / "pkg")
    (out / "pkg" / "pkg.zip").rename(out / "pkg.zip")
    (out / ".pkg.tmp-123").mkdir()
    (out / ".pkg.zip.tmp-123").write_bytes(b"x")
    crash_at(monkeypatch, step)
    with pytest.raises(Crash):
        pub.publish(out, "pkg", fill_with("v1"), zip_name="pkg.zip")
    if step == "legacy moved":  # the one moment the old layout is not shown: the next start puts it back
        assert not (out / "pkg").exists()
        pub.clean_leftovers(out)
    assert (out / "pkg" / "manifest.json").exists()  # the last good folder is still shown
    monkeypatch.setattr(pub, "_step", lambda name: None)
    pub.publish(out, "pkg", fill_with("v2"), zip_name="pkg.zip")
    assert shown(out) == "v2" and (out / "pkg").is_symlink() and (out / "pkg.zip").is_symlink()
    assert sorted(p.name for p in out.iterdir()) == [".versions", "pkg", "pkg.zip"]


def test_unpublish_withdraws_the_folder_and_its_version(tmp_path):
    out = tmp_path / "out"
    pub.publish(out, "pkg_draft", fill_with("v1"))
    pub.publish(out, "pkg", fill_with("v1"))
    pub.unpublish(out, "pkg_draft")
    assert not (out / "pkg_draft").exists() and (out / "pkg").exists()
    assert len(list((out / ".versions").iterdir())) == 1
