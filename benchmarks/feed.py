"""The home feed through the local cloud, in one run:
- a page of GET /feed for a user following 500 accounts, 20 of them celebrities (50 items): the
  sequential DynamoDB round trips (counted from the calls' own start and end times) and latency, next
  to a naive fan-out-on-read baseline (query every followee's posts and merge) on the same data;
- the fan-out of one post to 1,000 and 10,000 followers: time until every feed holds it, and the
  write requests it took (the floor is one BatchWriteItem per 25 followers, plus the author's own feed).
"""

import json
import math
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
FOLLOWED, CELEBRITIES, POSTS_EACH, PAGE = 500, 20, 5, 50
READS, NAIVE_READS, WARMUP = 30, 5, 2
FANOUT_SIZES = tuple(int(size) for size in os.environ.get("FEED_BENCH_FANOUT_SIZES", "1000,10000").split(","))
SETTLE_TIMEOUT_S = 1200


class CallLog:
    """Every AWS API call made in this process, with its start and end (a botocore-level hook)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float]] = []
        self.batch_writes: list[list[tuple[str, str]]] = []  # each feeds BatchWriteItem's (user_id, sk) items
        self._lock = threading.Lock()
        self.recording = False

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        log = self

        def timed(client: Any, operation: str, params: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                if log.recording and client.meta.service_model.service_name == "dynamodb":
                    with log._lock:
                        log.calls.append((operation, started, time.perf_counter()))
                        if operation == "BatchWriteItem" and os.environ["FEEDS_TABLE_NAME"] in params["RequestItems"]:
                            log.batch_writes.append(_written_keys(params))

        BaseClient._make_api_call = timed  # type: ignore[method-assign]

    def sequential_round_trips(self) -> int:
        """The longest chain of calls each starting after the previous ended: the critical path."""
        calls = sorted(self.calls, key=lambda call: call[1])
        depth: list[int] = []
        for index, (_, start, _) in enumerate(calls):
            depth.append(1 + max((depth[j] for j in range(index) if calls[j][2] <= start), default=0))
        return max(depth, default=0)


def _written_keys(params: Any) -> list[tuple[str, str]]:
    keys = []
    for requests in params.get("RequestItems", {}).values():
        for request in requests:
            item = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key", {})
            keys.append((item.get("user_id", {}).get("S", "?"), item.get("sk", {}).get("S", "?")))
    return keys


def _progress(message: str) -> None:
    print(f"[feed] {message}", file=sys.stderr, flush=True)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples), 2), "p99_ms": round(_percentile(samples, 0.99), 2)}


def _seed_reader(reader: str) -> None:
    """A reader following 500 accounts (20 celebrities), each with 5 published posts; the reader's
    pushed feed holds the newest 800 entries of the 480 others, as the fan-out would have left it."""
    from pinhole.feed.dal import FeedModel, entry_key
    from pinhole.graph.dal import EdgeModel, follow_edge
    from pinhole.posts.dal import PostModel
    from pinhole.shared.clock import utc_now
    from pinhole.shared.ids import new_id
    from pinhole.users.dal import UserModel

    authors = [f"author{index:03d}" for index in range(FOLLOWED)]
    celebrities = set(authors[:CELEBRITIES])
    now = utc_now()
    pushed: list[tuple[str, str]] = []
    with UserModel.batch_write() as users:
        for user_id in [reader, *authors]:
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
    with PostModel.batch_write() as posts:
        for _ in range(POSTS_EACH):
            for author in authors:
                post_id = new_id()
                posts.save(
                    PostModel(
                        post_id=post_id,
                        author_id=author,
                        caption="",
                        created_at=now,
                        status="published",
                        media={},
                        media_order=[],
                        upload_expires_at=now,
                        published_by=author,
                    )
                )
                if author not in celebrities:
                    pushed.append((post_id, author))
    with FeedModel.batch_write() as feed:
        for post_id, author in sorted(pushed, reverse=True)[:800]:
            feed.save(FeedModel(user_id=reader, sk=entry_key(post_id), author_id=author))
        for celebrity in celebrities:
            feed.save(FeedModel(user_id=reader, sk=f"celeb#{celebrity}"))


def _naive_read(reader: str, pool: ThreadPoolExecutor) -> list[Any]:
    """Fan-out on read: every followee's recent posts, merged, then the same hydration as the feed."""
    from pinhole.graph.dal import GraphRepository
    from pinhole.posts.dal import PostRepository
    from pinhole.social.dal import viewer_flags
    from pinhole.users.dal import ProfileRepository

    graph, posts, profiles = GraphRepository(), PostRepository(), ProfileRepository()
    followees, after = [], None
    while True:
        page, after = graph.following(reader, 1000, after)
        followees.extend(listed.user_id for listed in page)
        if not after:
            break
    recent = [
        record for found, _ in pool.map(lambda a: posts.published_before(a, None, PAGE), followees) for record in found
    ]
    newest = sorted(recent, key=lambda record: record.post_id, reverse=True)[:PAGE]
    found_profiles = pool.submit(profiles.get_many, [r.author_id for r in newest])
    flags = pool.submit(viewer_flags, reader, [r.post_id for r in newest])
    found_profiles.result(), flags.result()
    return newest


def _feed_read_figures(cloud: Any, log: CallLog) -> dict[str, Any]:
    from pinhole.feed.logic import read_feed
    from pinhole.feed.models import FeedOrder
    from pinhole.shared.caller import Caller

    reader, token = _reader_account(cloud)
    _seed_reader(reader)
    _progress("seeded the reader's graph; timing the hybrid read")
    caller = Caller(user_id=reader, username="reader")
    hybrid, naive, http, trips = [], [], [], []
    with ThreadPoolExecutor(max_workers=16) as pool:
        for index in range(WARMUP + READS):
            log.calls.clear()
            log.recording = True
            started = time.perf_counter()
            # the chronological order: the one the naive fan-out on read below computes too
            items = read_feed(caller, PAGE, None, FeedOrder.CHRONOLOGICAL).items
            elapsed = (time.perf_counter() - started) * 1000
            log.recording = False
            if index >= WARMUP:
                hybrid.append(elapsed)
                trips.append(log.sequential_round_trips())
        _progress("timing the naive fan-out-on-read baseline")
        for index in range(WARMUP + NAIVE_READS):
            started = time.perf_counter()
            baseline = _naive_read(reader, pool)
            if index >= WARMUP:
                naive.append((time.perf_counter() - started) * 1000)
    assert [p.post_id for p in items] == [r.post_id for r in baseline], "hybrid and naive pages differ"
    _progress("timing GET /feed over HTTP, handlers reaching moto in process and over HTTP, alternately")
    from local.in_process import transport

    moto_over_http: list[float] = []
    with httpx.Client(base_url=cloud.outputs["HttpApiUrl"], headers={"authorization": f"Bearer {token}"}) as client:
        for index in range(2 * (WARMUP + READS)):
            transport.enabled = index % 2 == 0
            started = time.perf_counter()
            response = client.get("/feed", params={"limit": PAGE})
            if index >= 2 * WARMUP:
                (http if transport.enabled else moto_over_http).append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and len(response.json()["items"]) == PAGE, response.text[:300]
        transport.enabled = True
    return {
        "followed": FOLLOWED,
        "celebrities": CELEBRITIES,
        "page_size": PAGE,
        "sequential_round_trips": {"max": max(trips), "min": min(trips)},
        "hybrid_in_process": _summary(hybrid),
        "naive_fan_out_on_read_in_process": _summary(naive),
        "naive_over_hybrid_p50": round(statistics.median(naive) / statistics.median(hybrid), 1),
        "hybrid_over_http": _summary(http),
        "hybrid_over_http_handlers_reaching_moto_over_http": _summary(moto_over_http),
    }


def _reader_account(cloud: Any) -> tuple[str, str]:
    """A real Cognito account for the reader: its id (`sub`) and an access token."""
    import boto3

    cognito = boto3.client("cognito-idp")
    pool, client = cloud.outputs["UserPoolId"], cloud.outputs["UserPoolClientId"]
    password = "Bench-Password-1"  # noqa: S105 - a throwaway local account
    created = cognito.admin_create_user(
        UserPoolId=pool,
        Username="reader",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "reader@example.com"}],
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username="reader", Password=password, Permanent=True)
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    tokens = cognito.initiate_auth(
        ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "reader", "PASSWORD": password}
    )
    return sub, str(tokens["AuthenticationResult"]["AccessToken"])


def _settle_feed_work(cloud: Any) -> bool:
    """Whether every event already caused that can write a feed has been handled (bounded wait). The
    notifications' pumps are left out: under load their function times out on the seeding's follow
    notifications and retries for many minutes, and it writes no feed."""
    from local.pumps.base import settled

    pumps = [pump for pump in cloud.pumps if "Notifications" not in pump.name]
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not settled(pumps):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def seed_followers(author: str, fans: list[str]) -> None:
    """`fans` following `author` as long-established follows: every item the follow API
    (`GraphRepository.follow`) would have left — the edge, the follower's `following_count` and the author's
    `follower_count` — put straight into the tables, without stream records, so that no follow is handled
    as news (backfills, threshold checks) while the fan-out is set up. Below the celebrity threshold (300,000)
    the follow API leaves nothing else: no celebrity marker, no recent-posts copies, and a backfill of an
    author with no posts writes no feed entry (tests/integration/test_feed_bench_seeding.py compares this
    world with the API's)."""
    from local.state.backends import put_items_unrecorded
    from pinhole.graph.dal import EdgeModel, follow_edge
    from pinhole.shared.clock import utc_now
    from pinhole.users.dal import UserModel

    now = utc_now()
    users = [UserModel(user_id=author, username=author, email=f"{author}@example.com", created_at=now)]
    users[0].follower_count = len(fans)
    for fan in fans:
        user = UserModel(user_id=fan, username=fan, email=f"{fan}@example.com", created_at=now)
        user.following_count = 1
        users.append(user)
    put_items_unrecorded(UserModel.Meta.table_name, (user.serialize() for user in users))
    put_items_unrecorded(EdgeModel.Meta.table_name, (follow_edge(fan, author).serialize() for fan in fans))


def _fanout_figures(cloud: Any, log: CallLog, followers: int) -> dict[str, Any]:
    from pinhole.feed.dal import FeedModel, entry_key
    from pinhole.posts.dal import PostRepository
    from pinhole.posts.models import PostRecord, PostStatus
    from pinhole.shared.clock import utc_now
    from pinhole.shared.ids import new_id

    author = f"author-of-{followers}"
    fans = [f"fan{followers}-{index:05d}" for index in range(followers)]
    seeding_started = time.perf_counter()
    seed_followers(author, fans)
    seed_s = time.perf_counter() - seeding_started
    now = utc_now()
    posts = PostRepository()
    record = PostRecord(
        post_id=new_id(),
        author_id=author,
        caption="",
        tags=[],
        mentions=[],
        created_at=now,
        status=PostStatus.PENDING,
        media={},
        media_order=[],
        upload_expires_at=now,
    )
    posts.create(record, fail_after=now)
    _progress(f"seeded {followers} followers in {seed_s:.1f} s; waiting until the cloud is quiet")
    settle_started = time.perf_counter()
    cloud.settle_pumps(600)  # the pending post's own record; the seeded follows made none
    settle_s = time.perf_counter() - settle_started
    _progress(f"quiet after {settle_s:.1f} s; publishing")
    log.calls.clear()
    log.batch_writes.clear()
    log.recording = True
    started = time.perf_counter()
    posts.publish(record)  # the transition the stream carries to feed_fanout
    key = entry_key(record.post_id)
    deadline = started + SETTLE_TIMEOUT_S
    while time.perf_counter() < deadline:
        if FeedModel.count(fans[-1], FeedModel.sk == key) and FeedModel.count(fans[0], FeedModel.sk == key):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    settled = _settle_feed_work(cloud)  # every write the publish caused, retries and redeliveries too
    log.recording = False
    delivered = sum(1 for fan in fans[:: max(1, followers // 200)] if FeedModel.count(fan, FeedModel.sk == key))
    own = [batch for batch in log.batch_writes if any(sk == key for _, sk in batch)]
    distinct = {frozenset(batch) for batch in log.batch_writes}
    sizes: dict[int, int] = {}
    for batch in own:
        sizes[len(batch)] = sizes.get(len(batch), 0) + 1
    others: dict[str, int] = {}
    for batch in log.batch_writes:
        if batch not in own:
            for _, sk in batch:
                kind = sk.split("#", 1)[0]
                others[kind] = others.get(kind, 0) + 1
    return {
        "followers": followers,
        "seconds_to_last_feed": round(elapsed, 2),
        "seconds_to_seed_the_follows": round(seed_s, 1),
        "seconds_until_quiet_before_the_publish": round(settle_s, 1),
        "batch_write_requests": len(log.batch_writes),
        "floor": math.ceil(followers / 25) + 1,
        "within_floor_plus_2_percent": len(log.batch_writes) <= math.ceil(math.ceil(followers / 25) * 1.02) + 1,
        "requests_carrying_this_post_by_size": dict(sorted(sizes.items())),
        "repeated_requests": len(log.batch_writes) - len(distinct),
        "all_events_handled": settled,
        "other_requests": len(log.batch_writes) - len(own),
        "other_requests_items_by_kind": others,
        "sampled_feeds_holding_the_post": f"{delivered}/{len(fans[:: max(1, followers // 200)])}",
    }


def _phase(name: str) -> Any:
    """One phase on a local cloud of its own. moto's backends and PynamoDB's cached connections are
    process-wide, so each phase runs in a fresh interpreter (see run())."""
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from local.server import BackgroundCloud

    log = CallLog()
    log.install()
    # Reads on a quiet cloud (no pumps: seeding the graph must not set the fan-out working meanwhile);
    # the fan-out on one whose pumps deliver the streams as Lambda would.
    background = BackgroundCloud.start(
        Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out")), start_pumps=name == "fan_out"
    )
    try:
        cloud = background.cloud
        os.environ.update(next(iter(cloud.runner.functions.values())).environment)  # table names etc.
        if name == "feed_read":
            return _feed_read_figures(cloud, log)
        results = []
        for size in FANOUT_SIZES:
            results.append(_fanout_figures(cloud, log, size))
            _progress(json.dumps(results[-1]))  # each size as it completes: the 10,000 one can take long
        return results
    finally:
        background.stop()


def run() -> dict[str, Any]:
    import json
    import subprocess
    import tempfile

    from benchmarks.engines import ENGINE_VARIABLE, engines, side_by_side

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for engine in engines():
            for name in ("feed_read", "fan_out"):
                _progress(f"{name} on DynamoDB '{engine}'")
                # The result comes back in a file: the handlers' own logs share the phase's stdout.
                result = Path(workdir) / f"{engine}-{name}.json"
                subprocess.run(
                    [sys.executable, "-m", "benchmarks.feed", name, str(result)],
                    cwd=ROOT,
                    check=True,
                    env={**os.environ, ENGINE_VARIABLE: engine},
                )
                figures.setdefault(engine, {})[name] = json.loads(result.read_text())
    figures["fast_over_moto"] = side_by_side(
        figures,
        {
            "hybrid_in_process_p50_ms": ("feed_read", "hybrid_in_process", "p50_ms"),
            "hybrid_over_http_p50_ms": ("feed_read", "hybrid_over_http", "p50_ms"),
            "naive_in_process_p50_ms": ("feed_read", "naive_fan_out_on_read_in_process", "p50_ms"),
            "fan_out_10000_seconds_to_last_feed": ("fan_out", -1, "seconds_to_last_feed"),
        },
    )
    if "fast" in figures:
        http_p50 = figures["fast"]["feed_read"]["hybrid_over_http"]["p50_ms"]
        fan_out = figures["fast"]["fan_out"][-1]["seconds_to_last_feed"]
        figures["targets"] = {
            "feed_page_over_http_p50_ms": {"measured": http_p50, "target": 100, "met": http_p50 <= 100},
            "fan_out_10000_seconds": {"measured": fan_out, "target": 5, "met": fan_out <= 5},
        }
    return figures


if __name__ == "__main__":
    import json

    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(json.dumps(_phase(sys.argv[1])))
    else:
        print(json.dumps(run(), indent=2))
