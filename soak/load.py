"""Load: a mixed workload (80 % reads, 20 % writes) from locust against the local cloud, then an audit.

1. starts the local cloud (`python -m local`) and seeds a world through the API: accounts, follows, posts with real
   photo uploads, each published by the resize pipeline;
2. runs `soak/locustfile.py` in a locust process of its own (locust patches the standard library with gevent),
   one account per virtual user, for SOAK_LOAD_DURATION_S;
3. lets the event pumps drain and audits (`soak/load_audit.py`): every post's like_count and comment_count equal
   the likes and comments stored and what the clients' answered writes imply; every user's follower and following
   counts equal the graph; every home feed holds exactly the posts of the accounts followed (and one's own);
   saved posts and conversations hold exactly what was saved and sent. Feeds are filled asynchronously, so the audit
   is repeated until it is clean or SOAK_LOAD_SETTLE_S has passed; the first round's findings are reported too.

Figures: requests, sustained requests per second, p50/p99 per route, statuses, mismatches (must be 0).
Settings (environment): SOAK_LOAD_DURATION_S (300), SOAK_LOAD_USERS (20), SOAK_LOAD_SPAWN_RATE (5),
SOAK_LOAD_ACCOUNTS (users + 10), SOAK_LOAD_POSTS_EACH (2), SOAK_LOAD_FOLLOWS_EACH (5), SOAK_LOAD_WAIT_S ("0,0"),
SOAK_LOAD_PROCESSES (1), SOAK_LOAD_SETTLE_S (90), SOAK_LOAD_SEED (random).

The users do not think between requests (SOAK_LOAD_WAIT_S "0,0", closed-loop): the soak measures what the cloud
serves. With think time, 20 users who think 0.3 s on average make at most 20 / 0.3 = 66.7 requests a second
whatever the cloud does (the default was "0.1,0.5" until 2026-12-06; docs/RELIABILITY.md).

`python -m soak load` writes soak/results/load.json; `python -m soak.load --out FILE` writes FILE (the e2e smoke).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soak.load_audit import Mismatch, compare, observe
from soak.load_ledger import Ledger
from soak.load_world import World, log_in, seed
from soak.local_cloud import ROOT, cpu_seconds, local_cloud

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
STOP_TIMEOUT_S = 60
AUDIT_PAUSE_S = 2.0
TRACEBACK = "Traceback (most recent call last):"


@dataclass(frozen=True)
class LoadSettings:
    duration_s: int
    users: int
    spawn_rate: float
    accounts: int
    posts_each: int
    follows_each: int
    wait_s: str
    processes: int
    settle_s: float
    seed: int

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LoadSettings:
        env = os.environ if environ is None else environ
        users = int(env.get("SOAK_LOAD_USERS", "20"))
        return cls(
            duration_s=int(env.get("SOAK_LOAD_DURATION_S", "300")),
            users=users,
            spawn_rate=float(env.get("SOAK_LOAD_SPAWN_RATE", "5")),
            accounts=int(env.get("SOAK_LOAD_ACCOUNTS", str(users + 10))),
            posts_each=int(env.get("SOAK_LOAD_POSTS_EACH", "2")),
            follows_each=int(env.get("SOAK_LOAD_FOLLOWS_EACH", "5")),
            wait_s=env.get("SOAK_LOAD_WAIT_S", "0,0"),
            processes=int(env.get("SOAK_LOAD_PROCESSES", "1")),
            settle_s=float(env.get("SOAK_LOAD_SETTLE_S", "90")),
            seed=int(env.get("SOAK_LOAD_SEED", str(random.randrange(2**31)))),  # noqa: S311 - not security
        )


def _percentile(samples: list[float], fraction: float) -> float:
    """Nearest rank: the smallest sample with at least `fraction` of all samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, int(-(-fraction * len(ordered) // 1)) - 1))]


def run_locust(settings: LoadSettings, base_url: str, workdir: Path) -> Ledger:
    ledgers = workdir / "ledgers"
    ledgers.mkdir()
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--users",
        str(settings.users),
        "--spawn-rate",
        str(settings.spawn_rate),
        "--run-time",
        f"{settings.duration_s}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--host",
        base_url.rstrip("/"),
        "--csv",
        str(workdir / "locust"),
    ]
    if settings.processes > 1:
        command += ["--processes", str(settings.processes)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "SOAK_LOAD_WORLD": str(workdir / "world.json"),
        "SOAK_LOAD_LEDGERS": str(ledgers),
        "SOAK_LOAD_WAIT_S": settings.wait_s,
    }
    log_path = workdir / "locust.log"
    with log_path.open("w") as log:
        # locust exits 1 when any request failed; the ledger, not the exit code, says what happened
        subprocess.run(  # noqa: S603 - our own interpreter and locustfile
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=settings.duration_s + STOP_TIMEOUT_S + 120,
            check=False,
        )
    if not any(ledgers.glob("ledger-*.json")):
        raise RuntimeError(f"locust wrote no ledger:\n{log_path.read_text()[-4000:]}")
    return Ledger.read_all(ledgers)


def audit_until_settled(world: World, ledger: Ledger, settle_s: float) -> dict[str, Any]:
    """Audits again while anything differs, up to `settle_s`: the feed fan-out runs behind the writes."""
    tokens = {username: log_in(world.base_url, username) for username in world.usernames}
    started = time.monotonic()
    rounds: list[list[Mismatch]] = []
    while True:
        observed = observe(world, tokens)
        rounds.append(compare(world, ledger, observed))
        if not rounds[-1] or time.monotonic() - started > settle_s:
            break
        time.sleep(AUDIT_PAUSE_S)
    final = rounds[-1]
    return {
        "rounds": len(rounds),
        "clean_after_s": round(time.monotonic() - started, 1) if not final else None,
        "first_round_mismatches_by_kind": dict(Counter(mismatch.kind for mismatch in rounds[0])),
        "count_mismatches": len(final),
        "mismatches_by_kind": dict(Counter(mismatch.kind for mismatch in final)),
        "mismatch_examples": [str(mismatch) for mismatch in final[:20]],
        "checked": {
            "posts": len(observed.posts),
            "users": len(observed.users),
            "likes_stored": sum(len(post.likers) for post in observed.posts.values()),
            "comments_stored": sum(len(post.comment_ids) for post in observed.posts.values()),
            "follow_edges": sum(len(user.following) for user in observed.users.values()),
            "feed_entries": sum(len(user.feed) for user in observed.users.values()),
            "saved_posts": sum(len(user.saved) for user in observed.users.values()),
            "messages_stored": sum(
                len(texts) for user in observed.users.values() for texts in user.conversations.values()
            )
            // 2,
        },
    }


def traffic_figures(ledger: Ledger) -> dict[str, Any]:
    started = [moment for samples in ledger.routes.values() for moment in samples.started]
    statuses = Counter(status for samples in ledger.routes.values() for status in samples.statuses)
    first, last = min(started), max(started)
    per_10s = Counter(int((moment - first) // 10) for moment in started)
    full_windows = [count / 10 for window, count in per_10s.items() if window < int((last - first) // 10)]
    return {
        "requests": len(started),
        "window_s": round(last - first, 1),
        "mean_rps": round(len(started) / max(last - first, 1e-9), 1),
        "rps_per_10s_window": {
            "windows": len(full_windows),
            "min": min(full_windows, default=None),
            "median": _percentile(full_windows, 0.5) if full_windows else None,
            "max": max(full_windows, default=None),
        },
        "status_counts": {str(status): count for status, count in sorted(statuses.items())},
        "errors_5xx": sum(count for status, count in statuses.items() if status >= 500),
        "network_errors": statuses.get(0, 0),
        "rate_limited_429": statuses.get(429, 0),
        "unexpected_4xx": sum(count for status, count in statuses.items() if 400 <= status < 500 and status != 429),
        "routes": {
            name: {
                "requests": len(samples.ms),
                "p50_ms": _percentile(samples.ms, 0.50),
                "p99_ms": _percentile(samples.ms, 0.99),
                "max_ms": max(samples.ms),
                "statuses": dict(Counter(str(status) for status in samples.statuses)),
            }
            for name, samples in sorted(ledger.routes.items())
        },
        "task_errors": len(ledger.task_errors),
        "task_error_examples": ledger.task_errors[:10],
    }


def writes_seen(ledger: Ledger) -> dict[str, int]:
    toggles = ledger.toggles
    return {
        "likes_standing": sum(state is True for targets in toggles["like"].values() for state in targets.values()),
        "saves_standing": sum(state is True for targets in toggles["save"].values() for state in targets.values()),
        "comments_standing": sum(comment["state"] == "present" for comment in ledger.comments.values()),
        "messages_sent": sum(message["state"] == "sent" for message in ledger.messages.values()),
        "unknown_outcomes": sum(
            state is None for kind in toggles.values() for t in kind.values() for state in t.values()
        )
        + sum(comment["state"] == "unknown" for comment in ledger.comments.values())
        + sum(ledger.unanswered_comments.values())
        + sum(message["state"] == "unknown" for message in ledger.messages.values()),
    }


def errors_logged(log: str) -> dict[str, int]:
    """Each traceback in the local cloud's log, by the exception that ended it (its first unindented line)."""
    errors: Counter[str] = Counter()
    for block in log.split(TRACEBACK)[1:]:
        ending = next((line for line in block.splitlines()[1:] if line and not line[0].isspace()), "?")
        errors[ending.split(" timed out after")[0][:160]] += 1
    return dict(errors)


def run(settings: LoadSettings | None = None) -> dict[str, Any]:
    settings = settings or LoadSettings.from_env()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pinhole-load-") as temporary:
        workdir = Path(temporary)
        with local_cloud(workdir) as (outputs, cloud_log, cloud_pid):
            seeding = time.monotonic()
            world = seed(
                outputs["HttpApiUrl"],
                settings.accounts,
                settings.posts_each,
                settings.follows_each,
                random.Random(settings.seed),  # noqa: S311 - not security
            )
            seed_s = time.monotonic() - seeding
            world.write(workdir / "world.json")
            cloud_cpu_before = cpu_seconds(cloud_pid)
            ledger = run_locust(settings, outputs["HttpApiUrl"], workdir)
            cloud_cpu_s = cpu_seconds(cloud_pid) - cloud_cpu_before
            load_after = os.getloadavg()
            audit = audit_until_settled(world, ledger, settings.settle_s)
            log = cloud_log.read_text(errors="replace")
    traffic = traffic_figures(ledger)
    return {
        "conditions": {
            **vars(settings),
            "cpus": os.cpu_count(),
            "loadavg_1m_before": round(load_before[0], 2),
            "loadavg_1m_after_load": round(load_after[0], 2),
            "seed_s": round(seed_s, 1),
        },
        **traffic,
        # CPU per request, which load disturbs least: the requests per second follow it once the cloud is saturated
        "local_cloud_cpu_s_during_load": round(cloud_cpu_s, 2),
        "local_cloud_cpu_ms_per_request": round(cloud_cpu_s * 1000 / max(traffic["requests"], 1), 2),
        "local_cloud_share_of_a_core": round(cloud_cpu_s / max(traffic["window_s"], 1e-9), 2),
        "writes_seen_by_clients": writes_seen(ledger),
        "audit": audit,
        "count_mismatches": audit["count_mismatches"],
        # a handler past its timeout (504, or a stream batch retried) is logged too: on a starved machine it happens
        "local_cloud_errors": errors_logged(log),
        "local_cloud_first_traceback": log[log.find(TRACEBACK) :][:3000] if TRACEBACK in log else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m soak.load", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the figures here as JSON (default: stdout only)")
    out = parser.parse_args(argv).out
    text = json.dumps(run(), indent=2)
    if out is not None:
        out.write_text(text + "\n")
    print(text, flush=True)


if __name__ == "__main__":
    main()
