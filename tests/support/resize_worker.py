"""One Lambda invocation of resize in a fresh process, so its time can be capped like Lambda caps it (the process
is killed at the function's Timeout) and its memory measured on its own (peak RSS against MemorySize). The videos
of the batch then go on through transcode, one invocation each (as its batch size of 1 has it), each timed.

The parent (`run_batch`) writes the files to disk and starts `python -m tests.support.resize_worker`; the worker
sets up a moto account and the pipeline (tests/support/resize_pipeline.py), uploads every file, says "ready",
then runs exactly one invocation of the handler on one batch — the clock and the kill start there — and prints
what a user and an operator would see as one JSON line.

Memory: `peak_rss_mb` is the worker's own peak (VmHWM: Python, Pillow, the moto account with the uploads in it,
so an overestimate of the function's) plus the largest peak of its children (ffmpeg), read from their VmHWM every
few milliseconds while they run; the two never run at once, so their sum bounds what the Lambda sandbox would
hold. Not ru_maxrss: Linux carries the parent's RSS at fork into a child's ru_maxrss across exec, so a worker
started by a process holding a large corpus would report that process's memory as its own (and ffmpeg's figure
would be the forked Python image's).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SETUP_TIMEOUT_S = 120.0  # imports and the moto account, before the clock starts; not the function's time
READY = "ready"


@dataclass(frozen=True)
class FileOutcome:
    name: str
    status: str  # the media item's: pending, ready, rejected
    reason_code: str | None
    reason: str | None
    post_status: str
    rendition_keys: list[str]
    payload_in_renditions: bool


@dataclass(frozen=True)
class BatchReport:
    files: dict[str, FileOutcome]
    batch_item_failures: list[Any]
    messages_left: int
    dead_letters: int
    elapsed_s: float
    transcode_elapsed_s: list[float]
    baseline_rss_mb: float
    peak_rss_mb: float
    peak_rss_self_mb: float
    peak_rss_children_mb: float


class InvocationTimedOut(AssertionError):
    """The invocation ran past the function's Timeout and was killed, as Lambda would kill it."""


def run_batch(
    files: list[tuple[str, str, bytes, bytes | None]], timeout_s: float, transcode_timeout_s: float = 0.0
) -> BatchReport:
    """Runs one invocation over `files` (name, content type, bytes, payload that no rendition may contain), in
    upload order, then a transcode invocation per video, and kills it all after `timeout_s` plus
    `transcode_timeout_s` per video."""
    videos = sum(content_type.startswith("video/") for _, content_type, _, _ in files)
    timeout_s += videos * transcode_timeout_s
    with tempfile.TemporaryDirectory() as workdir:
        specs = []
        for index, (name, content_type, data, payload) in enumerate(files):
            path = Path(workdir) / f"{index}"
            path.write_bytes(data)
            specs.append(
                {"name": name, "content_type": content_type, "path": str(path), "payload": (payload or b"").hex()}
            )
        environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'pinhole'}{os.pathsep}{ROOT}"}
        with subprocess.Popen(
            [sys.executable, "-m", "tests.support.resize_worker", json.dumps(specs)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as worker:
            assert worker.stdout is not None
            try:
                readable, _, _ = select.select([worker.stdout], [], [], SETUP_TIMEOUT_S)
                line = worker.stdout.readline() if readable else ""
                if line.strip() != READY:
                    worker.kill()
                    raise AssertionError(f"the worker did not get ready: {line!r} {worker.communicate()[1][-3000:]}")
                output, errors = worker.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired as error:
                worker.kill()
                worker.communicate()
                names = [name for name, *_ in files]
                raise InvocationTimedOut(f"resize ran past its {timeout_s:.0f} s timeout on {names}") from error
            if worker.returncode != 0:
                raise AssertionError(f"the worker failed ({worker.returncode}): {errors[-3000:]}")
    report = json.loads(output.strip().splitlines()[-1])
    report["files"] = {name: FileOutcome(**outcome) for name, outcome in report["files"].items()}
    return BatchReport(**report)


def high_water_mb(pid: int | str = "self") -> float:
    """The peak resident set of a process since it was started (or exec'd), from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class ChildrenPeak(threading.Thread):
    """Polls this process's children (ffmpeg) and keeps the largest peak RSS seen."""

    def __init__(self, interval_s: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.wait(self.interval_s):
            for child in me.children(recursive=True):
                try:
                    if child.name() != "python" and not child.name().startswith("python"):
                        self.peak_mb = max(self.peak_mb, high_water_mb(child.pid))
                except (psutil.Error, OSError):
                    continue  # it exited between listing and reading

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb


def main(specs: list[dict[str, str]]) -> None:
    import boto3
    import psutil
    from moto import mock_aws

    import tests.conftest  # noqa: F401 - the test settings: fake credentials, table and bucket names
    from local.fast_dynamodb import install as install_fast_dynamodb
    from tests.support.resize_pipeline import ResizePipeline, create_resize_tables, resize_wiring

    install_fast_dynamodb()
    with mock_aws():
        from pinhole.shared.settings import get_settings

        settings = get_settings()
        s3 = boto3.client("s3")
        for bucket in (settings.uploads_bucket_name, settings.media_bucket_name):
            s3.create_bucket(Bucket=bucket)
        create_resize_tables()
        pipeline = ResizePipeline(resize_wiring())
        keys = {spec["name"]: pipeline.upload(spec["content_type"], Path(spec["path"]).read_bytes()) for spec in specs}
        print(READY, flush=True)

        baseline_mb = psutil.Process().memory_info().rss / (1024 * 1024)
        children = ChildrenPeak()
        children.start()
        started = time.perf_counter()
        pipeline.deliver_once()
        elapsed = time.perf_counter() - started
        transcodes = []
        while True:
            started = time.perf_counter()
            if not pipeline.transcode_pump.poll_once():
                break
            transcodes.append(round(time.perf_counter() - started, 3))
        pipeline.dead_letter_pump.poll_once()
        peak_self, peak_children = high_water_mb(), children.stop()

        files = {}
        for spec in specs:
            key = keys[spec["name"]]
            media = pipeline.media(key)
            objects = pipeline.rendition_objects(key)
            payload = bytes.fromhex(spec["payload"])
            files[spec["name"]] = {
                "name": spec["name"],
                "status": media.status.value,
                "reason_code": media.reason_code,
                "reason": media.reason,
                "post_status": str(pipeline.status(key)),
                "rendition_keys": sorted(objects),
                "payload_in_renditions": bool(payload) and any(payload in data for data in objects.values()),
            }
        report = {
            "files": files,
            "batch_item_failures": [failed for invocation in pipeline.runner.calls for failed in invocation.failed_ids],
            "messages_left": pipeline.waiting(),
            "dead_letters": len(pipeline.dead_letters()),
            "elapsed_s": round(elapsed, 3),
            "transcode_elapsed_s": transcodes,
            "baseline_rss_mb": round(baseline_mb, 1),
            "peak_rss_mb": round(peak_self + peak_children, 1),
            "peak_rss_self_mb": round(peak_self, 1),
            "peak_rss_children_mb": round(peak_children, 1),
        }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
