"""The ranked home feed's figures, in one run against the local cloud (issue 13):
- sequential DynamoDB rounds of a ranked first page (cold: the first of a session; and a refresh, which reuses the
  standings its last ranking read seconds before), a ranked later page and a chronological first page, for a
  reader following 500 accounts of which 100 are celebrities (counted by a botocore hook from the calls' own
  start and end times: the longest chain of calls each starting after the previous ended), and which calls
  make each round. In that pass the hook holds every DynamoDB call for 250 ms before sending it, as a network
  would: on a loaded machine a thread can start its call only after another's ended, which would count a
  round that is not one; with the delay, calls issued together overlap whatever the scheduler does;
- the CPU time of ranking 500 candidates (pinhole.feed.ranking.rank, this thread's CPU time);
- the local ranked first pages (cold, refresh) against the chronological first page, interleaved in the same run;
- the CPU each page costs its function as it would on AWS (AwsSideCpu): the handler's invocation, minus what the
  local cloud did to answer its DynamoDB calls, plus botocore's own JSON parser on each answer;
- a heavy viewer's 24,000 impressions read as a first page reads them, packed by the hour and one item each;
- the latency model of docs/SCALING.md ("The ranked feed's latency"): each round's calls at DynamoDB's
  assumed per-call p99, plus that measured CPU and Lambda's warm overhead, for both orders.
The recent-posts cache is off (every page reads DynamoDB), so the rounds are those of a cache miss."""

import base64
import gc
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.feed import CallLog, _percentile, _reader_account, _summary

ROOT = Path(__file__).resolve().parent.parent
FOLLOWED, CELEBRITIES, POSTS_EACH, PAGE = 500, 100, 5, 20
AFFINITIES, SEEN = 50, 100
READS, WARMUP, RANK_RUNS, ROUND_READS, CPU_READS = 15, 2, 200, 5, 15
INJECTED_LATENCY_S = 0.25

# The latency model's assumptions (docs/SCALING.md): DynamoDB promises single-digit-millisecond reads and
# writes; these p99s per call, same region, are assumed from that, a BatchGetItem paying for its 100 items.
P99_MS = {"Query": 10.0, "GetItem": 10.0, "PutItem": 10.0, "BatchWriteItem": 15.0, "BatchGetItem": 15.0}
LAMBDA_WARM_OVERHEAD_MS = 15.0  # API Gateway HTTP API + a warm Lambda invoke, assumed
FULL_VCPU_MB = 1769  # Lambda gives a function CPU in proportion to its memory, one full vCPU at 1,769 MB (AWS)
# The function's CPU measured here is scaled by FULL_VCPU_MB / its memory: a vCPU is assumed as fast as one core of
# this machine.
T = TypeVar("T")
R = TypeVar("R")


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


class SerialPool:
    """A pool that runs what it is given at once, in the caller's thread: the same calls, one after the other, so
    that one thread's CPU clock (or cProfile) sees all of a page's work."""

    def submit(self, call: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(call(*args))
        return future

    def map(self, call: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return [call(item) for item in items]


def _cold(stores: Any) -> Any:
    """The same stores, but a first page finds no ranking of the caller's recent enough to reuse its standings (the
    same Query, asked for snapshots made from a second ahead on): the first page of a session, not a refresh."""
    from dataclasses import replace
    from datetime import timedelta

    from pinhole.feed.ranking_dal import SnapshotStore
    from pinhole.shared.clock import utc_now

    class NoRecentSnapshot(SnapshotStore):
        def recent_standings(self, viewer_id: str, since: Any) -> Any:
            return super().recent_standings(viewer_id, utc_now() + timedelta(seconds=1))

    return replace(stores, snapshots=NoRecentSnapshot())


def _wire_json(parsed: dict[str, Any]) -> bytes:
    """A parsed DynamoDB answer as DynamoDB's JSON sends it (binary values in base64)."""
    body = {key: value for key, value in parsed.items() if key != "ResponseMetadata"}
    return json.dumps(body, default=lambda value: base64.b64encode(value).decode()).encode()


class AwsSideCpu:
    """The CPU a page costs its function on AWS, measured here: the handler's invocation in this thread (the feed's
    pools made serial), minus what the local cloud spent answering its DynamoDB calls (moto's handler, the engine,
    the compiled response parser that stands for botocore's: local/direct_calls.py) and what this measurement spent
    keeping each answer as DynamoDB's JSON (counted as the function's until 2026-12-06), plus botocore's own JSON
    parser on each answer, timed afterwards on the same answers as DynamoDB would send them. Not counted: TLS and
    HTTP per call, which the in-process transport skips."""

    def __init__(self) -> None:
        self.answering_s = 0.0
        self.answers: list[tuple[Any, bytes]] = []

    def install(self) -> None:
        from local import direct_calls

        original = direct_calls.answer

        def answer(service_id: str, operation_model: Any, *args: Any) -> Any:
            started = time.thread_time()
            try:
                answered = original(service_id, operation_model, *args)
                # the answer kept as DynamoDB would send it: this measurement's own work, not the function's
                if answered is not None and service_id == "dynamodb":
                    self.answers.append((operation_model.output_shape, _wire_json(answered[1])))
            finally:
                self.answering_s += time.thread_time() - started
            return answered

        direct_calls.answer = answer  # type: ignore[assignment]

    def measure(self, invoke: Callable[[], T]) -> tuple[dict[str, float], T]:
        from botocore import parsers

        self.answering_s, self.answers = 0.0, []
        started = time.thread_time()
        result = invoke()
        page_s = time.thread_time() - started
        parser = parsers.create_parser("json")
        parse_started = time.thread_time()
        for shape, body in self.answers:
            parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
        botocore_s = time.thread_time() - parse_started
        parts = {"invocation": page_s, "local_answers": self.answering_s, "botocore_parse": botocore_s}
        parts["on_aws"] = page_s - self.answering_s + botocore_s
        return {name: seconds * 1000 for name, seconds in parts.items()}, result


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


def _modelled_p99_ms(rounds: list[dict[str, int]], cpu_ms: float, memory_mb: int) -> float:
    """Each round costs its slowest call's p99; then the function's CPU (its worst page measured), stretched to the
    share of a vCPU its memory buys, and the warm overhead."""
    cpu_wall_ms = cpu_ms * max(1.0, FULL_VCPU_MB / memory_mb)
    return round(
        sum(max(P99_MS.get(op, 10.0) for op in found) for found in rounds) + cpu_wall_ms + LAMBDA_WARM_OVERHEAD_MS, 1
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


def _function_cpu(reader: str) -> dict[str, dict[str, float]]:
    """Each page through the feed_read handler, as API Gateway invokes it (the caller's claims already verified),
    CPU_READS times each after a warm-up, interleaved: AwsSideCpu's parts, p50, and the worst as the model's p99."""
    from urllib.parse import urlencode

    from functions.feed_read import handler as feed_read
    from pinhole.feed import logic
    from pinhole.shared import parallel
    from tests.support.events import FakeLambdaContext, http_event

    cpu = AwsSideCpu()
    cpu.install()

    def page(query: dict[str, str]) -> dict[str, Any]:
        event = http_event("GET", "/feed", claims={"sub": reader, "username": "reader"})
        event["queryStringParameters"], event["rawQueryString"] = query, urlencode(query)
        answer = feed_read.handler(event, FakeLambdaContext())
        assert answer["statusCode"] == 200, answer
        body: dict[str, Any] = json.loads(answer["body"])
        assert len(body["items"]) == PAGE, "pages short of items"
        return body

    names = ("ranked_first_cold", "ranked_first", "ranked_later", "chronological_first")
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    warm_stores = logic.default_stores()
    cold_stores = _cold(warm_stores)

    def cold_page() -> dict[str, Any]:
        logic._stores = cold_stores
        try:
            return page({})
        finally:
            logic._stores = warm_stores

    # The local cloud's objects (its tables, moto's backends) are frozen out of the garbage collector's reach: a
    # collection during a page then walks what the function's own heap holds, as it would on AWS, not the whole
    # cloud's (which made some pages 25 ms slower here).
    gc.collect()
    gc.freeze()
    pools = logic._pool, parallel._pool
    logic._pool = parallel._pool = SerialPool()  # type: ignore[assignment]
    try:
        for index in range(WARMUP + CPU_READS):
            cold, _ = cpu.measure(cold_page)
            first, body = cpu.measure(lambda: page({}))  # a refresh: the cold page's ranking is seconds old
            later, _ = cpu.measure(lambda cursor=body["next_cursor"]: page({"cursor": cursor}))
            chronological, _ = cpu.measure(lambda: page({"order": "chronological"}))
            if index >= WARMUP:
                for name, parts in zip(names, (cold, first, later, chronological), strict=True):
                    samples[name].append(parts)
    finally:
        logic._pool, parallel._pool = pools
        gc.unfreeze()
    return {
        name: {
            **{f"{part}_p50_ms": round(statistics.median(s[part] for s in found), 2) for part in found[0]},
            "on_aws_max_ms": round(max(s["on_aws"] for s in found), 2),
        }
        for name, found in samples.items()
    }


def _request_units(caller: Any, stores: Any) -> dict[str, Any]:
    """DynamoDB's read and write units of each page (a cold first page, then a refresh), and of the impressions of a
    page reported (`POST /feed/seen`), as DynamoDB bills them (benchmarks/request_units.py)."""
    from benchmarks.request_units import RequestUnitMeter, units
    from pinhole.feed import logic
    from pinhole.feed.models import FeedOrder
    from pinhole.shared import parallel

    meter = RequestUnitMeter()
    pools = logic._pool, parallel._pool
    logic._pool = parallel._pool = SerialPool()  # type: ignore[assignment]
    try:
        with meter.installed():
            with meter.metering() as calls:
                logic.read_feed(caller, PAGE, None, FeedOrder.RANKED, stores=_cold(stores))
            found = {"ranked_first_cold": units(calls)}
            with meter.metering() as calls:
                first = logic.read_feed(caller, PAGE, None, FeedOrder.RANKED, stores=stores)
            found["ranked_first"] = units(calls)
            with meter.metering() as calls:
                logic.read_feed(caller, PAGE, first.next_cursor, FeedOrder.RANKED, stores=stores)
            found["ranked_later"] = units(calls)
            with meter.metering() as calls:
                logic.read_feed(caller, PAGE, None, FeedOrder.CHRONOLOGICAL, stores=stores)
            found["chronological_first"] = units(calls)
            with meter.metering() as calls:
                logic.mark_seen(caller, [post.post_id for post in first.items], stores=stores)
            found["seen_one_page"] = units(calls)
    finally:
        logic._pool, parallel._pool = pools
    return found


HEAVY_IMPRESSIONS, REPORTS_A_DAY = 24_000, 8  # 30 days of 800 posts seen, reported 100 at a time


def _impressions_read() -> dict[str, dict[str, float]]:
    """A heavy viewer's impressions as a first page reads them: stored one item per hour (as POST /feed/seen stores
    them: all of them, and the hours of the last two days) and one item per impression (the format before, which the
    reader still reads until it expires), each under a viewer of its own; this thread's CPU per read (p50 of 7) and
    the read's units."""
    from datetime import timedelta

    from benchmarks.request_units import RequestUnitMeter, units
    from pinhole.feed.ranking_dal import SEEN, SEEN_LIFETIME, FeedStateModel, SeenStore
    from pinhole.shared.clock import utc_now
    from pinhole.shared.ids import new_id

    post_ids = [new_id() for _ in range(HEAVY_IMPRESSIONS)]
    hours, single = (f"{name:-<36}" for name in ("heavy-hours", "heavy-single"))  # as long as a Cognito sub
    start, per_report = utc_now() - timedelta(days=30), HEAVY_IMPRESSIONS // (30 * REPORTS_A_DAY)
    for report in range(30 * REPORTS_A_DAY):
        at = start + timedelta(hours=24 / REPORTS_A_DAY * report)
        SeenStore(clock=lambda at=at: at).record(hours, post_ids[report * per_report : (report + 1) * per_report])
    with FeedStateModel.batch_write() as batch:
        for post_id in post_ids:
            batch.save(FeedStateModel(user_id=single, sk=f"{SEEN}{post_id}", expires_at=start + SEEN_LIFETIME))
    meter, found, store = RequestUnitMeter(), {}, SeenStore()
    reads = {
        "hour_items": lambda: store.of_viewer(hours),
        # a first page whose oldest pushed post is two days old asks only for the hours since
        "hour_items_since_2_days": lambda: store.of_viewer(hours, utc_now() - timedelta(days=2)),
        "one_item_each": lambda: store.single_impressions(single),
    }
    for name, read in reads.items():
        samples = []
        for _ in range(7):
            started = time.thread_time()
            seen = read()
            samples.append((time.thread_time() - started) * 1000)
        with meter.installed(), meter.metering() as calls:
            read()
        found[name] = {
            "impressions_read": len(seen),
            "cpu_p50_ms": round(statistics.median(samples), 2),
            "read_units": units(calls)["read_units"],
        }
    return found


def _figures(cloud: Any, log: DelayedCallLog, memory_mb: int) -> dict[str, Any]:
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

    cold_stores = _cold(stores)

    def four_pages() -> list[tuple[float, list[dict[str, int]], Any]]:
        # interleaved, so that the machine's load falls on both orders alike
        cold = measured(lambda: logic.read_feed(caller, PAGE, None, FeedOrder.RANKED, stores=cold_stores))
        ranked = measured(lambda: logic.read_feed(caller, PAGE, None, FeedOrder.RANKED, stores=stores))
        later = measured(
            lambda cursor=ranked[2].next_cursor: logic.read_feed(caller, PAGE, cursor, FeedOrder.RANKED, stores=stores)
        )
        chronological = measured(lambda: logic.read_feed(caller, PAGE, None, FeedOrder.CHRONOLOGICAL, stores=stores))
        assert len(ranked[2].items) == PAGE and len(later[2].items) == PAGE, "pages short of items"
        assert len(chronological[2].items) == PAGE and len(cold[2].items) == PAGE
        return [cold, ranked, later, chronological]

    names = ("ranked_first_cold", "ranked_first", "ranked_later", "chronological_first")
    timings: dict[str, list[float]] = {name: [] for name in names}
    rounds: dict[str, list[list[dict[str, int]]]] = {name: [] for name in names}
    for index in range(WARMUP + READS):
        for name, (elapsed, _, _) in zip(names, four_pages(), strict=True):
            if index >= WARMUP:
                timings[name].append(elapsed)
    _progress("timed; counting rounds with the injected latency")
    log.delayed = True
    for _ in range(ROUND_READS):
        for name, (_, found, _) in zip(names, four_pages(), strict=True):
            rounds[name].append(found)
    log.delayed = False
    _progress("counted; the function's CPU per page")
    function_cpu = _function_cpu(reader)
    cpu = _ranking_cpu_ms()
    _progress("the request units of each page")
    request_units = _request_units(caller, stores)
    _progress("a heavy viewer's impressions")
    impressions = _impressions_read()
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
        # the first page of a session: no ranking of the caller's recent enough to reuse
        "ranked_over_chronological_first_page_p50": round(
            statistics.median(timings["ranked_first_cold"]) / statistics.median(timings["chronological_first"]), 2
        ),
        # a refresh within standings_reuse_s of the last first page
        "ranked_refresh_over_chronological_first_page_p50": round(
            statistics.median(timings["ranked_first"]) / statistics.median(timings["chronological_first"]), 2
        ),
        "ranking_500_candidates_cpu": cpu,
        "request_units_per_page": request_units,
        f"impressions_read_{HEAVY_IMPRESSIONS}": impressions,
        "function_cpu_per_page": function_cpu,
        "latency_model_p99_ms": {
            "assumed_call_p99_ms": P99_MS,
            "lambda_warm_overhead_ms": LAMBDA_WARM_OVERHEAD_MS,
            "function_cpu_ms": {name: function_cpu[name]["on_aws_max_ms"] for name in worst},
            "function_memory_mb": memory_mb,
            "cpu_stretch_at_that_memory": round(max(1.0, FULL_VCPU_MB / memory_mb), 2),
            **{
                name: _modelled_p99_ms(found, function_cpu[name]["on_aws_max_ms"], memory_mb)
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
        function = next(f for f in cloud.runner.functions.values() if f.logical_id.startswith("FeedReadApiFunction"))
        os.environ.update(function.environment)  # table names, the ranking's settings
        return _figures(cloud, log, function.memory_mb)
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
