"""The local cloud as a subprocess (`python -m local`) for soaks, stopped with Ctrl-C (SIGINT) as a person would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CDK_OUT = Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out"))
STARTUP_TIMEOUT_S = 120
SHUTDOWN_TIMEOUT_S = 15


@contextmanager
def local_cloud(workdir: Path, cdk_out: Path = CDK_OUT) -> Iterator[tuple[dict[str, str], Path, int]]:
    """Yields the outputs (API.md's keys), the log file and the process id once the cloud is ready, which it says
    by writing them."""
    if not (cdk_out / "manifest.json").is_file():
        raise RuntimeError(f"{cdk_out} has no manifest.json: run `make synth` first")
    outputs_path, log_path = workdir / "outputs.json", workdir / "local-cloud.log"
    with log_path.open("w") as log:  # a file, not a pipe: a pipe nobody reads fills up and blocks the server
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            # a state of its own: never the developer's .local/state, never what an earlier run left behind
            [
                *(sys.executable, "-m", "local", "--port", "0", "--outputs", str(outputs_path)),
                *("--cdk-out", str(cdk_out), "--state-dir", str(workdir / "state"), "--reset"),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not outputs_path.is_file():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"local cloud not ready (exit {process.poll()}):\n{log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        yield json.loads(outputs_path.read_text()), log_path, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system, all its threads), which the machine's load does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
