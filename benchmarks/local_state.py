"""Saving and restoring a tester's data across a restart of the local cloud, as a tester lives it.

A real `python -m local` with a state directory gets a realistic dataset through the API (50 users who
follow each other, 200 posts each with an uploaded and resized photo, 1000 likes); then Ctrl-C, and
a second start on the same state. Figures: what the cloud itself reports (snapshot write time and
size, restore time) and the wall-clock times a tester waits (Ctrl-C to exit, start to ready).

    .venv/bin/python -m benchmarks.local_state     (JSON on stdout; also part of `make bench`)

`BENCH_LOCAL_STATE_DIR=<dir>` keeps the run's files in <dir> instead of a temporary directory; when <dir> already
holds a saved world, the populating is skipped and only the restart is measured again (the world is the one a
previous run saved: populating it takes minutes).
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.support.api_client import from_own_address

ROOT = Path(__file__).resolve().parent.parent
USERS, POSTS, LIKES, FOLLOWS_EACH = 50, 200, 1000, 5
PASSWORD = "Correct-Horse-9"  # noqa: S105 - the benchmark testers' password
WORKERS = 2
RETRIES_OF_IDEMPOTENT_CALLS = 3  # a 504 under load (a cold start past the function timeout) is retried
_SAVED = re.compile(r"Saved (?P<summary>.+?) to .+ \((?P<mb>[\d.]+) MB, (?P<seconds>[\d.]+) s\)")
_RESTORED = re.compile(r"restored (?P<summary>.+?) from .+ in (?P<seconds>[\d.]+) s")


def _photo(seed: int) -> bytes:
    from PIL import Image

    image = Image.radial_gradient("L").resize((640, 480)).convert("RGB")
    image.putpixel((seed % 640, seed % 480), (255, 0, 0))  # distinct bytes per post
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class _Cloud:
    def __init__(self, workdir: Path, state: Path, port: int) -> None:
        self.outputs_path = workdir / "outputs.json"
        self.log_path = workdir / "local-cloud.log"
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "local", "--port", str(port)),
                    *("--outputs", str(self.outputs_path), "--state-dir", str(state)),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'pinhole'}:{ROOT}"},
            )
        while not self.outputs_path.exists():
            if self.process.poll() is not None or time.perf_counter() - started > 180:
                raise RuntimeError(f"local cloud did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)
        self.ready_s = time.perf_counter() - started
        self.outputs: dict[str, str] = json.loads(self.outputs_path.read_text())

    def stop(self) -> float:
        started = time.perf_counter()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=120)
        return time.perf_counter() - started

    def output(self) -> str:
        return self.log_path.read_text()


def _idempotent(client: httpx.Client, url: str, retried: list[str]) -> None:
    for attempt in range(RETRIES_OF_IDEMPOTENT_CALLS):
        try:
            response = client.post(url)
        except httpx.ReadError:
            # The server closed this kept-alive connection as the request went out (uvicorn drops a connection
            # idle for 5 s; one client of 50 waits that long between its calls): the call is idempotent.
            if attempt + 1 == RETRIES_OF_IDEMPOTENT_CALLS:
                raise
            retried.append(url)
            continue
        if response.status_code != 504:
            break
        retried.append(url)
    if response.is_error:
        raise RuntimeError(f"POST {url}: {response.status_code} {response.text}")


def _wait_until_resized(client: httpx.Client, post_ids: list[str]) -> None:
    """Every upload resized and its post published (a pending post cannot be liked yet)."""
    pending, deadline = set(post_ids), time.monotonic() + 600
    while pending:
        pending = {
            post_id for post_id in pending if client.get(f"/posts/{post_id}").json().get("status") != "published"
        }
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} posts still not published")
        time.sleep(1 if pending else 0)


def _populate(api: str) -> dict[str, int]:
    retried: list[str] = []
    with httpx.Client(base_url=api, timeout=60) as anonymous:

        def sign_up(index: int) -> httpx.Client:
            name = f"tester{index:03d}"
            created = anonymous.post(
                "/auth/signup",
                json={"username": name, "password": PASSWORD, "email": f"{name}@example.com"},
                headers=from_own_address(),
            )
            created.raise_for_status()
            token = anonymous.post("/auth/login", json={"username": name, "password": PASSWORD}).json()
            return httpx.Client(base_url=api, timeout=60, headers={"authorization": f"Bearer {token['access_token']}"})

        with ThreadPoolExecutor(WORKERS) as pool:
            members = list(pool.map(sign_up, range(USERS)))

            def follow(index: int) -> None:
                for step in range(1, FOLLOWS_EACH + 1):
                    _idempotent(members[index], f"/users/tester{(index + step) % USERS:03d}/follow", retried)

            list(pool.map(follow, range(USERS)))

            def post(index: int) -> str:
                author, content = members[index % USERS], _photo(index)
                created = author.post(
                    "/posts",
                    json={
                        "caption": f"#bench {index}",
                        "media": [{"content_type": "image/jpeg", "size_bytes": len(content)}],
                    },
                ).json()
                target = created["uploads"][0]
                httpx.post(
                    target["url"], data=target["fields"], files={"file": ("p.jpg", content, "image/jpeg")}, timeout=60
                )
                return str(created["post"]["post_id"])

            post_ids = list(pool.map(post, range(POSTS)))
            _wait_until_resized(members[0], post_ids)

            def like(index: int) -> None:
                liker = members[(index * 7 + index // POSTS) % USERS]
                _idempotent(liker, f"/posts/{post_ids[index % POSTS]}/like", retried)

            list(pool.map(like, range(LIKES)))
        for member in members:
            member.close()
    return {
        "users": USERS,
        "posts": POSTS,
        "likes": LIKES,
        "follows": USERS * FOLLOWS_EACH,
        "calls_retried_after_504_or_reset": len(retried),
    }


def run() -> dict[str, Any]:
    kept = os.environ.get("BENCH_LOCAL_STATE_DIR")
    if kept:
        return _measure(Path(kept))
    with tempfile.TemporaryDirectory() as workdir:
        return _measure(Path(workdir))


def _restart(workdir: Path, state: Path, port: int) -> dict[str, Any]:
    """A start on the saved world, to ready, then Ctrl-C."""
    second = _Cloud(workdir / "second", state, port)
    restored = _RESTORED.search(second.output())
    second_stop_s = second.stop()
    if restored is None:
        raise RuntimeError(f"no restore line:\n{second.output()}")
    return {
        "contents": restored["summary"],
        "restore_s": float(restored["seconds"]),
        "start_to_ready_s": round(second.ready_s, 2),
        "ctrl_c_to_exit_s": round(second_stop_s, 2),
    }


def _measure(workdir: Path) -> dict[str, Any]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = workdir / "state"
    machine = f"{os.cpu_count()} cores, shared"
    if (state / "snapshot.json").is_file():
        return {"dataset": "saved by an earlier run", "restore": _restart(workdir, state, port), "machine": machine}
    first = _Cloud(workdir / "first", state, port)
    populate_started = time.perf_counter()
    try:
        dataset = _populate(first.outputs["HttpApiUrl"])
    finally:
        populate_s = time.perf_counter() - populate_started
        stop_s = first.stop()
    saved = _SAVED.search(first.output())
    if saved is None:
        raise RuntimeError(f"no snapshot line:\n{first.output()}")
    files = [path for path in state.rglob("*") if path.is_file()]
    restore = _restart(workdir, state, port)
    return {
        "dataset": dataset,
        "populate_s": round(populate_s, 1),
        "snapshot": {
            "contents": saved["summary"],
            "write_s": float(saved["seconds"]),
            "size_mb": float(saved["mb"]),
            "files": len(files),
            "ctrl_c_to_exit_s": round(stop_s, 2),
        },
        "restore": {**restore, "start_to_ready_without_state_s": round(first.ready_s, 2)},
        "machine": machine,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
