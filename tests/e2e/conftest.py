"""The local cloud as a real subprocess (`python -m local`), for tests that drive it over sockets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from local.iam.authorizer import DENIED_MARKER
from tests.support.ci import skip_unless_ci

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_OUT = Path(os.environ.get("PINHOLE_CDK_OUT", REPO_ROOT / "cdk.out"))
STARTUP_TIMEOUT_S = 60
SHUTDOWN_TIMEOUT_S = 30  # an idle local cloud took 9.2 s to exit at load average 17 on 2 cores


@dataclass
class RunningLocalCloud:
    process: subprocess.Popen[str]
    outputs_path: Path
    log_path: Path
    outputs: dict[str, str] = field(default_factory=dict)
    http: httpx.Client | None = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> tuple[int, str]:
        """SIGINT (Ctrl-C), then the exit code and everything it printed."""
        if self.http is not None:
            self.http.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"local cloud ignored SIGINT for {SHUTDOWN_TIMEOUT_S} s:\n{self.output()}") from None
        return self.process.returncode, self.output()


def start_local_cloud(
    workdir: Path,
    port: int = 0,
    cdk_out: Path = CDK_OUT,
    state_dir: Path | None = None,
    extra_args: tuple[str, ...] = (),
) -> RunningLocalCloud:
    """Start `python -m local` and wait until it has written its outputs (it does so only when ready).
    Its saved state lives in `workdir/state` unless `state_dir` says otherwise: a test never sees
    another's state, nor the developer's `.local/state`."""
    if not (cdk_out / "manifest.json").is_file():
        skip_unless_ci(f"{cdk_out} has no manifest.json: synthesize with `make synth`")
    workdir.mkdir(parents=True, exist_ok=True)
    outputs_path, log_path = workdir / "outputs.json", workdir / "local-cloud.log"
    # Its output goes to a file, not a pipe: a pipe nobody reads fills up and blocks the server.
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local",
                "--port",
                str(port),
                "--outputs",
                str(outputs_path),
                "--cdk-out",
                str(cdk_out),
                "--state-dir",
                str(state_dir or workdir / "state"),
                *extra_args,
            ],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not outputs_path.is_file():
        if process.poll() is not None:
            raise AssertionError(f"local cloud exited with {process.returncode}:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"local cloud not ready within {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()}")
        time.sleep(0.05)
    running = RunningLocalCloud(process=process, outputs_path=outputs_path, log_path=log_path)
    running.outputs = json.loads(outputs_path.read_text())
    running.http = httpx.Client(base_url=running.outputs["HttpApiUrl"], timeout=30)
    return running


@pytest.fixture(scope="session")
def local_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalCloud]:
    running = start_local_cloud(tmp_path_factory.mktemp("local-cloud"))
    yield running
    returncode, output = running.stop()
    assert returncode == 0, f"local cloud did not exit cleanly ({returncode}):\n{output}"
    assert "Traceback" not in output, output
    # Every path the tests drove ran under IAM enforcement: no call was refused to the role that made it.
    assert DENIED_MARKER not in output, output
