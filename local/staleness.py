"""Whether a synthesized assembly is older than the code it was made from.

The local cloud imports each handler from its asset staged in `cdk.out/`, not from the source tree: an edit
made since the last synth is not what runs. `make run` synthesizes again first; `python -m local` run by hand
does not, and without this warning serves the old code in silence."""

from __future__ import annotations

from pathlib import Path

# What `make synth` reads (the Makefile's SYNTH_INPUTS, the web client aside: it is served from web/dist).
SOURCE_FILES = ("app.py", "cdk.json")
SOURCE_FOLDERS = ("stacks", "functions", "layers")
SOURCE_SUFFIXES = frozenset({".py", ".txt"})


def sources_newer_than(cdk_out: Path) -> list[Path]:
    """The source files changed after `cdk_out` was synthesized, relative to the app's folder (the one holding
    `cdk_out`); none for an assembly kept outside an app's folder (a test's fixture, the push variant)."""
    root = cdk_out.resolve().parent
    manifest = cdk_out / "manifest.json"
    if not manifest.is_file() or not (root / "app.py").is_file():
        return []
    synthesized_at = manifest.stat().st_mtime
    candidates = [root / name for name in SOURCE_FILES if (root / name).is_file()]
    for folder in SOURCE_FOLDERS:
        candidates.extend(
            path
            for path in (root / folder).rglob("*")
            if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts and path.is_file()
        )
    return sorted(path.relative_to(root) for path in candidates if path.stat().st_mtime > synthesized_at)


def staleness_warning(cdk_out: Path) -> str | None:
    """One line for the terminal when `cdk_out` is older than its sources, naming a few of them."""
    newer = sources_newer_than(cdk_out)
    if not newer:
        return None
    named = ", ".join(str(path) for path in newer[:3]) + (f" and {len(newer) - 3} more" if len(newer) > 3 else "")
    return (
        f"local cloud: {cdk_out}/ is older than {len(newer)} source file(s) ({named}): it serves the code as it "
        "was at the last synth. `make run` synthesizes again first (or `make synth`, then restart)."
    )
