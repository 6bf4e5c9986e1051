"""The ranked home feed's figures, in one run against the local cloud (issue 13):
- sequential DynamoDB rounds of a ranked first page, a ranked later page and a chronological first page, for a
  reader following 500 accounts of which 100 are celebrities (counted by a botocore hook from the calls' own
  start and end times: the longest chain of calls each starting after the previous ended), and which calls
  make each round. In that pass the hook holds every DynamoDB call for 250 ms before sending it, as a network
  would: on a loaded machine a thread can start its call only after another's ended, which would count a
  round that is not one; with the delay, calls issued together overlap whatever the scheduler does;
- the CPU time of ranking 500 candidates (pinhole.feed.ranking.rank, this thread's CPU time);
- the local ranked first page against the chronological first page, interleaved in the same run;
- the latency model of docs/SCALING.md ("The ranked feed's latency"): each round's calls at DynamoDB's
  assumed per-call p99, plus the measured ranking CPU and Lambda's warm overhead, for both orders.
The recent-posts cache is off (every page reads DynamoDB), so the rounds are those of a cache miss."""

import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.feed import CallLog, _percentile, _reader_account, _summary

ROOT = Path(__file__).resolve().parent.parent
FOLLOWED, CELEBRITIES, POSTS_EACH, PAGE = 500, 100, 5, 20
AFFINITIES, SEEN = 50, 100
READS, WARMUP, RANK_RUNS, ROUND_READS = 15, 2, 200, 5
INJECTED_LATENCY_S = 0.25

# The latency model's assumptions (docs/SCALING.md): DynamoDB promises single-digit-millisecond reads and
# writes; these p99s per call, same region, are assumed from that, a BatchGetItem paying for its 100 items.
P99_MS = {"Query": 10.0, "GetItem": 10.0, "PutItem": 10.0, "BatchWriteItem": 15.0, "BatchGetItem": 15.0}
LAMBDA_WARM_OVERHEAD_MS = 15.0  # API Gateway HTTP API + a warm Lambda invoke, assumed
HANDLER_CPU_MS = 10.0  # JSON, pydantic and botocore parsing of a page besides ranking, assumed


def _progress(message: str) -> None:
    print(f"[feed_ranked] {message}", file=sys.stderr, flush=True)


class DelayedCallLog(CallLog):
    """CallLog whose DynamoDB calls, while `delayed`, wait INJECTED_LATENCY_S once started (counted inside)."""

    delayed = False

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        log = self

        def timed(client: Any, operation: str, params: Any) -> Any:
            started = time.perf_counter()
            dynamodb = client.meta.service_model.service_name == "dynamodb"
            try:
                if log.delayed and dynamodb:
                    time.sleep(INJECTED_LATENCY_S)
                return original(client, operation, params)
            finally:
                if log.recording and dynamodb:
                    with log._lock:
                        log.calls.append((operation, started, time.perf_counter()))

        BaseClient._make_api_call = timed  # type: ignore[method-assign]


def _rounds(log: CallLog) -> list[dict[str, int]]:
    """The calls of each round: a call's round is 1 + the deepest round that ended before it started."""
    calls = sorted(log.calls, key=lambda call: call[1])
    depth: list[int] = []
    for index, (_, start, _) in enumerate(calls):
        depth.append(1 + max((depth[j] for j in range(index) if calls[j][2] <= start), default=0))
    rounds: list[Counter[str]] = [Counter() for _ in range(max(depth, default=0))]
    for (operation, _, _), level in zip(calls, depth, strict=True):
        rounds[level - 1][operation] += 1
    return [dict(sorted(found.items())) for found in rounds]


def _modelled_p99_ms(rounds: list[dict[str, int]], cpu_ms: float) -> float:
    """Each round costs its slowest call's p99; then the CPU and the warm overhead."""
    return round(
        sum(max(P99_MS.get(op, 10.0) for op in found) for found in rounds) + cpu_ms + LAMBDA_WARM_OVERHEAD_MS, 1
    )


def _seed(reader: str) -> None:
    """500 followed accounts (100 celebrities) with 5 published posts each; the reader's pushed feed holds the
    newest 800 entries of the 400 others, as the fan-out leaves it; each celebrity's recent-posts item (in its
    k copies) as the posts stream leaves it; affinities for 50 authors; 100 posts seen."""
    from datetime import timedelta

    from pinhole.feed.dal import FeedModel, entry_key
    from pinhole.feed.ranking_dal import AffinityStore, RecentPost, RecentPostsStore, SeenStore
    from pinhole.graph.dal import EdgeModel, follow_edge
    from pinhole.posts.dal import PostModel
    from pinhole.shared.clock import utc_now
    from pinhole.shared.ids import new_id
    from pinhole.users.dal import UserModel

    authors = [f"author{index:03d}" for index in range(FOLLOWED)]
    celebrities = authors[:CELEBRITIES]
    now = utc_now()
    with UserModel.batch_write() as users:
        for user_id in authors:
            users.save(
                UserModel(
                    user_id=user_id,
                    username=user_id,
                    email=f"{user_id}@example.com",
                    display_name=user_id,
                    created_at=now,
                )
            )
    with EdgeModel.batch_write() as edges:
        for author in authors:
            edges.save(follow_edge(reader, author))
    pushed: list[tuple[str, str]] = []
    recent: dict[str, list[RecentPost]] = {celebrity: [] for celebrity in celebrities}
    with PostModel.batch_write() as posts:
        for round_index in range(POSTS_EACH):
            for index, author in enumerate(authors):
                created = now - timedelta(minutes=5 * (round_index * FOLLOWED + index) / FOLLOWED)
                post_id = new_id()
                posts.save(
                    PostModel(
                        post_id=post_id,
                        author_id=author,
                        caption="",
                        created_at=created,
                        status="published",
                        media={},
                        media_order=[],
                        upload_expires_at=now,
                        published_by=author,
                        like_count=index % 37,
                        comment_count=index % 5,
                    )
                )
                if author in recent:
                    recent[author].append(RecentPost(post_id, created.timestamp(), index % 37, index % 5))
                else:
                    pushed.append((post_id, author))
    with FeedModel.batch_write() as feed:
        for post_id, author in sorted(pushed, reverse=True)[:800]:
            feed.save(FeedModel(user_id=reader, sk=entry_key(post_id), author_id=author))
        for celebrity in celebrities:
            feed.save(FeedModel(user_id=reader, sk=f"celeb#{celebrity}"))
    store = RecentPostsStore(cache_s=0)
    for celebrity, posts_of in recent.items():
        store.change(celebrity, lambda _current, posts_of=posts_of: posts_of)
    affinity = AffinityStore()
    for author in authors[CELEBRITIES - 10 : CELEBRITIES + AFFINITIES - 10]:
        affinity.add(reader, author, 3.0, now)
    SeenStore().record(reader, [post_id for post_id, _ in sorted(pushed, reverse=True)[:SEEN]])


def _ranking_cpu_ms() -> dict[str, float]:
    """rank() of 500 candidates by 500 authors, with affinities and impressions: pure CPU in this process."""
    import random
    from datetime import timedelta

    from pinhole.feed.ranking import Candidate, ViewerSignals, rank
    from pinhole.shared.clock import utc_now
    from pinhole.shared.settings import FeedRankingSettings

    rng = random.Random(13)
    now = utc_now()
    candidates = [
        Candidate(
            f"{index:026d}", f"a{rng.randrange(400)}", now - timedelta(hours=rng.uniform(0, 96)), rng.randrange(500)
        )
        for index in range(500)
    ]
    signals = ViewerSignals(
        {f"a{i}": rng.uniform(0, 10) for i in range(50)}, frozenset(f"{i:026d}" for i in range(100))
    )
    samples = []
    for _ in range(RANK_RUNS):
        started = time.thread_time()  # CPU time of this thread: the machine's load does not count
        rank(candidates, "viewer", signals, now, FeedRankingSettings())
        samples.append((time.thread_time() - started) * 1000)
    return {"p50_ms": round(statistics.median(samples), 3), "p99_ms": round(_percentile(samples, 0.99), 3)}


def _figures(cloud: Any, log: DelayedCallLog) -> dict[str, Any]:
    from pinhole.feed import logic
    from pinhole.feed.models import FeedOrder
    from pinhole.feed.ranking_dal import RecentPostsStore
    from pinhole.shared.caller import Caller

    reader, _ = _reader_account(cloud)
    _seed(reader)
    _progress("seeded 500 follows (100 celebrities); reading")
    stores = logic.default_stores()
    stores.recent = RecentPostsStore(cache_s=0)
    caller = Caller(user_id=reader, username="reader")

    def measured(read: Any) -> tuple[float, list[dict[str, int]], Any]:
        log.calls.clear()
        log.recording = True
        started = time.perf_counter()
        result = read()
        elapsed = (time.perf_counter() - started) * 1000
        log.recording = False
        return elapsed, _rounds(log), result

    def three_pages() -> list[tuple[float, list[dict[str, int]], Any]]:
        # interleaved, so that the machine's load falls on both orders alike
        ranked = measured(lambda: logic.read_feed(caller, PAGE, None, FeedOrder.RANKED, stores=stores))
        later = measured(
            lambda cursor=ranked[2].next_cursor: logic.read_feed(caller, PAGE, cursor, FeedOrder.RANKED, stores=stores)
        )
        chronological = measured(lambda: logic.read_feed(caller, PAGE, None, FeedOrder.CHRONOLOGICAL, stores=stores))
        assert len(ranked[2].items) == PAGE and len(later[2].items) == PAGE, "pages short of items"
        assert len(chronological[2].items) == PAGE
        return [ranked, later, chronological]

    names = ("ranked_first", "ranked_later", "chronological_first")
    timings: dict[str, list[float]] = {name: [] for name in names}
    rounds: dict[str, list[list[dict[str, int]]]] = {name: [] for name in names}
    for index in range(WARMUP + READS):
        for name, (elapsed, _, _) in zip(names, three_pages(), strict=True):
            if index >= WARMUP:
                timings[name].append(elapsed)
    _progress("timed; counting rounds with the injected latency")
    log.delayed = True
    for _ in range(ROUND_READS):
        for name, (_, found, _) in zip(names, three_pages(), strict=True):
            rounds[name].append(found)
    log.delayed = False
    cpu = _ranking_cpu_ms()
    cpu_ms = cpu["p99_ms"] + HANDLER_CPU_MS
    worst = {name: max(found, key=len) for name, found in rounds.items()}
    return {
        "followed": FOLLOWED,
        "celebrities": CELEBRITIES,
        "page_size": PAGE,
        "reads_each": READS,
        "sequential_rounds": {
            name: {"max": max(map(len, found)), "min": min(map(len, found))} for name, found in rounds.items()
        },
        "injected_latency_ms": INJECTED_LATENCY_S * 1000,
        "calls_per_round_worst": worst,
        "in_process_ms": {name: _summary(samples) for name, samples in timings.items()},
        "ranked_over_chronological_first_page_p50": round(
            statistics.median(timings["ranked_first"]) / statistics.median(timings["chronological_first"]), 2
        ),
        "ranking_500_candidates_cpu": cpu,
        "latency_model_p99_ms": {
            "assumed_call_p99_ms": P99_MS,
            "lambda_warm_overhead_ms": LAMBDA_WARM_OVERHEAD_MS,
            "handler_cpu_ms_besides_ranking": HANDLER_CPU_MS,
            **{
                name: _modelled_p99_ms(found, cpu_ms if name == "ranked_first" else HANDLER_CPU_MS)
                for name, found in worst.items()
            },
        },
    }


def _phase() -> dict[str, Any]:
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from local.server import BackgroundCloud

    log = DelayedCallLog()
    log.install()
    background = BackgroundCloud.start(Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out")), start_pumps=False)
    try:
        cloud = background.cloud
        function = next(f for f in cloud.runner.functions.values() if "FEED_RANKING" in f.environment)
        os.environ.update(function.environment)  # table names, the ranking's settings
        return _figures(cloud, log)
    finally:
        background.stop()


def run() -> dict[str, Any]:
    import json
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as workdir:
        # A fresh interpreter: moto's backends and PynamoDB's connections are process-wide. The result comes
        # back in a file: the handlers' own logs share the phase's stdout.
        result = Path(workdir) / "feed_ranked.json"
        subprocess.run([sys.executable, "-m", "benchmarks.feed_ranked", str(result)], cwd=ROOT, check=True)
        return dict(json.loads(result.read_text()))


if __name__ == "__main__":
    import json

    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(_phase()))
    else:
        print(json.dumps(run(), indent=2))
