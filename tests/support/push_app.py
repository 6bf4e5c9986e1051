"""The app with push credentials named (context `push_apns_secret`, `push_fcm_secret`), synthesized into
.local/cdk.out.push for tests/e2e/test_push.py. `make test` builds it beside mypy, before pytest starts
(`python -m tests.support.push_app`); the test builds it itself when it is missing or older than cdk.out.

The layers' bundles are the ones cdk.out staged (linked, not rebuilt): their asset hashes are of their
sources, which the context does not change, and CDK does not bundle an asset whose staged folder exists."""

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_OUT = REPO_ROOT / "cdk.out"
PUSH_CDK_OUT = REPO_ROOT / ".local" / "cdk.out.push"
PUSH_CONTEXT = {"push_apns_secret": "pinhole/push/apns", "push_fcm_secret": "pinhole/push/fcm"}
SYNTH_TIMEOUT_S = 600


def synthesized_with_push() -> Path:
    """The push app's cloud assembly, synthesized again only when cdk.out is newer. One process synthesizes,
    another (a second pytest worker) waits for it."""
    PUSH_CDK_OUT.parent.mkdir(parents=True, exist_ok=True)
    with (PUSH_CDK_OUT.parent / "cdk.out.push.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _synthesize_if_stale()


def _synthesize_if_stale() -> Path:
    manifest = PUSH_CDK_OUT / "manifest.json"
    default = CDK_OUT / "manifest.json"
    if manifest.is_file() and default.is_file() and manifest.stat().st_mtime >= default.stat().st_mtime:
        return PUSH_CDK_OUT
    _link_staged_assets()
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(PUSH_CDK_OUT),
        "CDK_CONTEXT_JSON": json.dumps(PUSH_CONTEXT),
        "PYTHONPATH": f"{REPO_ROOT / 'layers' / 'pinhole'}:{REPO_ROOT}",
    }
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return PUSH_CDK_OUT


def _link_staged_assets() -> None:
    PUSH_CDK_OUT.mkdir(parents=True, exist_ok=True)
    for staged in CDK_OUT.glob("asset.*"):
        link = PUSH_CDK_OUT / staged.name
        if not link.exists():
            link.unlink(missing_ok=True)  # a link left behind by an asset cdk.out no longer has
            link.symlink_to(staged.resolve(), target_is_directory=staged.is_dir())


if __name__ == "__main__":
    print(f"synthesized with push credentials named: {synthesized_with_push().relative_to(REPO_ROOT)}")
