"""`python -m local` run by hand warns when cdk.out is older than the code it would serve (local.staleness)."""

import os
from pathlib import Path

from local.staleness import sources_newer_than, staleness_warning


def _app(root: Path) -> Path:
    """An app folder as `make synth` leaves it: sources, then cdk.out synthesized a minute after them."""
    for name in ("app.py", "cdk.json", "stacks/api.py", "functions/feed_read/handler.py", "layers/requirements.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    (root / "functions/feed_read/notes.md").write_text("")
    (root / "functions/feed_read/__pycache__").mkdir()
    (root / "functions/feed_read/__pycache__/handler.cpython-311.pyc").write_text("")
    cdk_out = root / "cdk.out"
    cdk_out.mkdir()
    (cdk_out / "manifest.json").write_text("{}")
    synthesized_at = (root / "app.py").stat().st_mtime + 60
    os.utime(cdk_out / "manifest.json", (synthesized_at, synthesized_at))
    return cdk_out


def _touch_later(path: Path, than: Path) -> None:
    later = than.stat().st_mtime + 5
    os.utime(path, (later, later))


def test_an_assembly_synthesized_after_every_source_is_current(tmp_path: Path) -> None:
    cdk_out = _app(tmp_path)

    assert sources_newer_than(cdk_out) == []
    assert staleness_warning(cdk_out) is None


def test_a_source_edited_after_the_synth_is_named_in_the_warning(tmp_path: Path) -> None:
    cdk_out = _app(tmp_path)
    _touch_later(tmp_path / "functions/feed_read/handler.py", cdk_out / "manifest.json")
    _touch_later(tmp_path / "cdk.json", cdk_out / "manifest.json")

    assert sources_newer_than(cdk_out) == [Path("cdk.json"), Path("functions/feed_read/handler.py")]
    warning = staleness_warning(cdk_out)
    assert warning is not None
    assert "older than 2 source file(s) (cdk.json, functions/feed_read/handler.py)" in warning
    assert "make run" in warning


def test_files_synth_does_not_read_never_make_it_stale(tmp_path: Path) -> None:
    cdk_out = _app(tmp_path)
    for name in ("functions/feed_read/notes.md", "functions/feed_read/__pycache__/handler.cpython-311.pyc"):
        _touch_later(tmp_path / name, cdk_out / "manifest.json")

    assert sources_newer_than(cdk_out) == []


def test_many_stale_sources_are_summed_up_after_three(tmp_path: Path) -> None:
    cdk_out = _app(tmp_path)
    for name in ("app.py", "cdk.json", "stacks/api.py", "functions/feed_read/handler.py", "layers/requirements.txt"):
        _touch_later(tmp_path / name, cdk_out / "manifest.json")

    warning = staleness_warning(cdk_out)
    assert warning is not None
    assert "(app.py, cdk.json, functions/feed_read/handler.py and 2 more)" in warning


def test_an_assembly_outside_an_app_folder_is_never_judged(tmp_path: Path) -> None:
    cdk_out = tmp_path / "cdk.out.push"
    cdk_out.mkdir()
    (cdk_out / "manifest.json").write_text("{}")

    assert sources_newer_than(cdk_out) == []
