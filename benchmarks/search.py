"""People search through the local cloud: GET /search/users over HTTP with a real token, against an
index of 100,000 users, for a mix of queries: one letter, two or three letters,
a name word with its accents, two words, an exact username, and a prefix nobody has. Reports latency
p50/p99 per kind and overall, over HTTP and in process, and the DynamoDB calls and sequential round
trips each search takes (counted from the calls' own start and end times).

The world is seeded in bulk, not by 100,000 sign-ups and not through the API or the users table's stream:
profiles and index entries go straight into the tables' storage (`local.state.backends.put_items_held`),
the entries being the items the product's indexer writes for a user first indexed, made by its own code
(`pinhole.search.dal.user_entry_items`); tests/integration/test_search_bench_seeding.py checks that this world
is the one the stream and the indexer make. The first SAMPLE_USERS users' entries are written alternately
through the indexer itself (`SearchIndexer.user_changed`, BatchWriteItem) and in bulk, and both costs per
entry are reported side by side (`indexed.write_paths_side_by_side`): the indexer's write path stays measured.

Measured on both DynamoDBs side by side (benchmarks/engines.py): moto as the local cloud ran it before
the fast path, and the fast path. moto 5.2.5 answers a Query on a table by sorting *every* item of the
table and keeping the queried partition's: O(table) per call, where DynamoDB reads the partition only.
With 100,000 users the index holds ~2 million items and each search would time out, so on moto this
benchmark makes the base-table Query start from the queried partition (`_queries_read_one_partition`;
same results, partition-sized cost). The fast path needs no such help (local/fast_dynamodb/reads.py).
Uses cdk.out (or $PINHOLE_CDK_OUT); prints JSON to stdout.
"""

import gc
import os
import random
import statistics
import sys
import time
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
USERS = int(os.environ.get("PINHOLE_SEARCH_BENCH_USERS", 100_000))  # fewer for a quick try
SEED_CHUNK = 500
SAMPLE_USERS, SAMPLE_CHUNK = 2_000, 100  # the index entries written both ways, side by side
BULK_PROGRESS = 10_000
REQUESTS_PER_KIND, IN_PROCESS_PER_KIND, WARMUP = 50, 20, 10
# fmt: off
FIRST_NAMES = [
    "José", "María", "Ana", "Juan", "Luis", "Carmen", "Élodie", "Zoë", "Søren", "Björn", "Mia", "Noah", "Emma",
    "Liam", "Olivia", "Lucas", "Chloé", "Hugo", "Léa", "Mateo", "Sofía", "Iñigo", "Ayşe", "Mehmet", "Yuki",
    "Hiroshi", "Aarav", "Priya", "Chen", "Wei", "Ola", "Kofi", "Amara", "Fatima", "Omar", "Sven", "Ingrid", "Pablo",
    "Lucía", "Andrés", "Joël", "Anaïs", "Çağla", "Ren", "Dara", "Nadia", "Tomás", "Agnès", "Jorge", "Marta",
]
LAST_NAMES = [
    "Álvarez", "García", "Núñez", "Müller", "Schröder", "Dubois", "Lefèvre", "Rossi", "Bianchi", "Kowalski", "Novák",
    "Nielsen", "Svensson", "Smith", "Johnson", "Brown", "Tanaka", "Sato", "Kim", "Nguyen", "Singh", "Patel",
    "Okafor", "Mensah", "Yılmaz", "Öztürk", "Ivanova", "Petrov", "Costa", "Silva", "Santos", "Ferreira", "Martín",
    "López", "Pérez", "Gómez", "Díaz", "Hernández", "Moreno", "Jiménez", "Ruiz", "Navarro", "Håkansson", "Łukasik",
]
# fmt: on
QUERIES = {
    "one_letter": ["a", "m", "j", "s", "l", "n", "c", "p"],
    "two_or_three_letters": ["jo", "mar", "alv", "gar", "sv", "ch", "ni", "sa"],
    "name_word_with_accents": ["José", "MARÍA", "Núñez", "Søren", "Élodie", "Björn", "Öztürk", "Lucía"],
    "two_words": ["maria gar", "jose alv", "emma sm", "luis pe", "ana ro", "omar ok"],
    "no_match": ["zzqx", "qxj", "xwv.k"],
}


def _progress(message: str) -> None:
    print(f"[search] {message}", file=sys.stderr, flush=True)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples), 2), "p99_ms": round(_percentile(samples, 0.99), 2)}


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("ł", "l").replace("ı", "i"))
    return "".join(char for char in folded if char.isascii() and char.isalnum()).lower()


def make_people(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """`count` profiles with realistic names and a heavy-tailed follower count (lognormal, median ~20)."""
    people, taken = [], set()
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{_ascii(first)}{rng.choice(['', '.', '_'])}{_ascii(last)}{rng.randrange(10_000)}"[:30]
        if username in taken:
            continue
        taken.add(username)
        people.append(
            {
                "user_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "username": username,
                "display_name": f"{first} {last}",
                "follower_count": min(int(rng.lognormvariate(3, 2.2)), 50_000_000),
            }
        )
    return people


def _profile(person: dict[str, Any], now: datetime) -> Any:
    from pinhole.users.dal import UserModel

    return UserModel(**person, email=f"{person['username']}@example.com", created_at=now)


def seed_through_indexer(people: list[dict[str, Any]]) -> dict[str, Any]:
    """Profiles into the users table and their entries into the search index, both by BatchWriteItem: the
    entries through the indexer's own use case (`SearchIndexer.user_changed`, what the users table's stream
    drives), each request through PynamoDB, botocore and moto's handler (benchmarks/dynamodb_profile.py
    measures DynamoDB's share of this)."""
    from pinhole.search.logic import SearchIndexer
    from pinhole.search.models import IndexedUser
    from pinhole.shared.clock import utc_now
    from pinhole.users.dal import UserModel

    indexer, now = SearchIndexer(), utc_now()
    entries = 0

    def write(chunk: list[dict[str, Any]]) -> int:
        with UserModel.batch_write() as users:
            for person in chunk:
                users.save(_profile(person, now))
        return sum(indexer.user_changed(None, IndexedUser(**person)) for person in chunk)

    started = time.perf_counter()
    chunks = [people[start : start + SEED_CHUNK] for start in range(0, len(people), SEED_CHUNK)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for done, written in enumerate(pool.map(write, chunks), start=1):
            entries += written
            if done % 20 == 0:
                _progress(f"seeded {done * SEED_CHUNK:,} users, {entries:,} index entries")
    return {"users": len(people), "index_entries": entries, "seconds": round(time.perf_counter() - started, 1)}


def seed_profiles(people: list[dict[str, Any]], now: datetime) -> int:
    """The people's profiles, created at `now`, put straight into the users table (no stream record: nobody is
    new)."""
    from local.state.backends import put_items_held
    from pinhole.users.dal import UserModel

    return put_items_held(UserModel.Meta.table_name, (_profile(person, now).serialize() for person in people))


def seed_index(people: Iterable[dict[str, Any]]) -> int:
    """The people's index entries put straight into the search table: the items the indexer writes for a user
    first indexed (`pinhole.search.dal.user_entry_items`, the product's own code), without the BatchWriteItem
    requests and without a stream record (tests/integration/test_search_bench_seeding.py compares this world
    with the one the users table's stream and the indexer make). How many entries were put."""
    from local.state.backends import put_items_held
    from pinhole.search.dal import SearchModel, user_entry_items
    from pinhole.search.models import IndexedUser

    items = (item for person in people for item in user_entry_items(IndexedUser(**person)))
    return put_items_held(SearchModel.Meta.table_name, items)


def _write_paths_side_by_side(people: list[dict[str, Any]]) -> dict[str, Any]:
    """Index entries written through the indexer (`SearchIndexer.user_changed`: BatchWriteItem through PynamoDB,
    botocore, the in-process hop and moto) and in bulk (`seed_index`), chunk by chunk alternately (ABBA), for
    the same kind of people: microseconds of wall time per entry of each."""
    from pinhole.search.logic import SearchIndexer
    from pinhole.search.models import IndexedUser

    indexer = SearchIndexer()
    paths = {
        "indexer_batch_write_item": lambda chunk: sum(
            indexer.user_changed(None, IndexedUser(**person)) for person in chunk
        ),
        "bulk": seed_index,
    }
    seconds, entries = dict.fromkeys(paths, 0.0), dict.fromkeys(paths, 0)
    chunks = [people[start : start + SAMPLE_CHUNK] for start in range(0, len(people), SAMPLE_CHUNK)]
    for number, chunk in enumerate(chunks):
        name = list(paths)[(number + number // 2) % 2]
        started = time.perf_counter()
        entries[name] += paths[name](chunk)
        seconds[name] += time.perf_counter() - started
    per_entry = {name: round(seconds[name] / max(entries[name], 1) * 1e6, 1) for name in paths}
    return {
        "entries": entries,
        "microseconds_per_entry": per_entry,
        "indexer_over_bulk": round(per_entry["indexer_batch_write_item"] / max(per_entry["bulk"], 0.1), 1),
    }


def _reporting(people: list[dict[str, Any]], start: int) -> Iterator[dict[str, Any]]:
    for number, person in enumerate(people[start:], start=start + 1):
        if number % BULK_PROGRESS == 0:
            _progress(f"seeding user {number:,}")
        yield person


def _seed(people: list[dict[str, Any]]) -> dict[str, Any]:
    """Every profile, and the index entries of all but the first SAMPLE_USERS, in bulk, with the cyclic collector
    paused: the bulk seeding allocates tens of millions of objects that all live on, and each full collection on
    the way walked all of them again (~40 % of its time). Then, as a local cloud does with a restored world at
    start (local/cloud.py), the seeded heap is frozen: the searches' collections walk only what came after.
    Frozen without a collection first: the bulk seeding leaves no cyclic garbage (a collection after seeding
    20,000 users' entries found none, and walked 4 million objects for 1.4 s). Last, the first SAMPLE_USERS'
    entries alternately through the indexer and in bulk (timed side by side, the collector on as ever), into
    partitions already sorted, as a live index's are."""
    from pinhole.shared.clock import utc_now

    started, cpu_started = time.perf_counter(), time.process_time()
    gc.disable()
    try:
        seed_profiles(people, utc_now())
        entries = seed_index(_reporting(people, SAMPLE_USERS))
    finally:
        gc.freeze()
        gc.enable()
    sample = _write_paths_side_by_side(people[:SAMPLE_USERS])
    entries += sum(sample["entries"].values())
    return {
        "users": len(people),
        "index_entries": entries,
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "write_paths_side_by_side": sample,
    }


def _searcher(cloud: Any) -> str:
    """A real Cognito account, and its access token."""
    import boto3

    cognito = boto3.client("cognito-idp")
    pool, client = cloud.outputs["UserPoolId"], cloud.outputs["UserPoolClientId"]
    password = "Bench-Password-1"  # noqa: S105 - a throwaway local account
    cognito.admin_create_user(
        UserPoolId=pool,
        Username="searcher",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "searcher@example.com"}],
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username="searcher", Password=password, Permanent=True)
    tokens = cognito.initiate_auth(
        ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "searcher", "PASSWORD": password}
    )
    return str(tokens["AuthenticationResult"]["AccessToken"])


class CollectorPauses:
    """The cyclic garbage collector's pauses while recording, by generation: with ~2 million index entries held
    in the process (tens of millions of objects), a collection of the oldest generation walks all of them."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0
        self.recording = False

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.recording:
            self.pauses[info["generation"]].append((time.perf_counter() - self._started) * 1000)

    def summary(self) -> dict[str, Any]:
        return {
            f"generation_{generation}": {"count": len(pauses), "max_ms": round(max(pauses, default=0.0), 1)}
            for generation, pauses in self.pauses.items()
        }


def _partition_sizes(prefixes: list[str]) -> dict[str, int]:
    from pinhole.search.dal import SearchModel, user_prefix_key

    return {prefix: SearchModel.count(user_prefix_key(prefix)) for prefix in prefixes}


def _figures(cloud: Any, log: Any) -> dict[str, Any]:
    from pinhole.search.logic import search_users
    from pinhole.shared.caller import Caller

    rng = random.Random(20261122)
    people = make_people(rng, USERS)
    _progress(f"seeding {USERS:,} users")
    seeded = _seed(people)
    followers = sorted(person["follower_count"] for person in people)
    queries = dict(QUERIES, exact_username=[person["username"] for person in rng.sample(people, 8)])
    token = _searcher(cloud)
    caller = Caller(user_id="searcher-sub", username="searcher")

    _progress("timing GET /search/users over HTTP")
    collector = CollectorPauses()
    gc.callbacks.append(collector)
    collector.recording = True
    http: dict[str, list[float]] = {kind: [] for kind in queries}
    results: dict[str, list[int]] = {kind: [] for kind in queries}
    calls, trips, cpu = [], [], []
    schedule = [(kind, texts[i % len(texts)]) for kind, texts in queries.items() for i in range(REQUESTS_PER_KIND)]
    rng.shuffle(schedule)
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=cloud.outputs["HttpApiUrl"], headers=headers, timeout=60) as client:
        for _, query in schedule[:WARMUP]:
            assert client.get("/search/users", params={"q": query}).status_code == 200
        for kind, query in schedule:
            log.calls.clear()
            log.recording = True
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get("/search/users", params={"q": query})
            http[kind].append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            log.recording = False
            assert response.status_code == 200, response.text[:300]
            results[kind].append(len(response.json()["items"]))
            calls.append(len(log.calls))
            trips.append(log.sequential_round_trips())

    collector.recording = False
    _progress("timing search_users in process")
    in_process: list[float] = []
    for texts in queries.values():
        for index in range(IN_PROCESS_PER_KIND):
            started = time.perf_counter()
            search_users(caller, texts[index % len(texts)], 20)
            in_process.append((time.perf_counter() - started) * 1000)

    return {
        "indexed": seeded,
        "followers": {"median": followers[len(followers) // 2], "p99": followers[int(0.99 * len(followers))]},
        "largest_one_letter_partitions": dict(
            sorted(_partition_sizes(list("ajmslcnp")).items(), key=lambda item: -item[1])[:3]
        ),
        "requests_per_kind": REQUESTS_PER_KIND,
        "over_http": {
            "all": _summary([sample for samples in http.values() for sample in samples]),
            **{
                kind: {**_summary(samples), "mean_results": round(statistics.mean(results[kind]), 1)}
                for kind, samples in http.items()
            },
        },
        # The whole process's CPU time during each request (nothing else runs in it: no pumps): wall time above
        # it is time the request's threads waited for a core (the machine's load) or for one another.
        "process_cpu_per_http_search": _summary(cpu),
        "in_process_all": _summary(in_process),
        "garbage_collector_pauses_during_the_http_searches": collector.summary(),
        "dynamodb_per_search": {
            "calls_median": statistics.median(calls),
            "sequential_round_trips": {"min": min(trips), "max": max(trips), "median": statistics.median(trips)},
        },
    }


def _queries_read_one_partition() -> None:
    """moto's Table.query on the table itself (no index) reads only the hash key's items, as DynamoDB does."""
    import inspect

    from moto.dynamodb.models.table import Table

    original = Table.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        hash_key, index_name = bound.arguments.get("hash_key"), bound.arguments.get("index_name")
        if index_name is not None or hash_key is None:
            return original(self, *args, **kwargs)
        partition = self.items.get(hash_key, {})
        self.all_items = lambda: list(partition.values()) if self.range_key_attr else [partition]
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]


def _phase() -> dict[str, Any]:
    """On a local cloud of its own, in a fresh interpreter (moto's backends are process-wide), with no
    pumps: the seeded profiles must not set the indexer working again while the searches are timed."""
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "pinhole")]
    from benchmarks.feed import CallLog
    from local.dynamodb_engine import MOTO, engine
    from local.server import BackgroundCloud

    log = CallLog()
    log.install()
    if engine() == MOTO:
        _queries_read_one_partition()
    background = BackgroundCloud.start(Path(os.environ.get("PINHOLE_CDK_OUT", ROOT / "cdk.out")), start_pumps=False)
    try:
        cloud = background.cloud
        os.environ.update(next(iter(cloud.runner.functions.values())).environment)  # table names etc.
        return _figures(cloud, log)
    finally:
        background.stop()


def run() -> dict[str, Any]:
    import json
    import subprocess
    import tempfile

    from benchmarks.engines import ENGINE_VARIABLE, engines, side_by_side

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in engines():
            _progress(f"on DynamoDB '{name}'")
            # The result comes back in a file: the handlers' own logs share the phase's stdout.
            result = Path(workdir) / f"search-{name}.json"
            subprocess.run(
                [sys.executable, "-m", "benchmarks.search", str(result)],
                cwd=ROOT,
                check=True,
                env={**os.environ, ENGINE_VARIABLE: name},
            )
            figures[name] = json.loads(result.read_text())
    figures["fast_over_moto"] = side_by_side(
        figures,
        {
            "seeding_seconds": ("indexed", "seconds"),
            "search_over_http_p50_ms": ("over_http", "all", "p50_ms"),
            "search_over_http_p99_ms": ("over_http", "all", "p99_ms"),
        },
    )
    if "fast" in figures:
        seeding, p99 = figures["fast"]["indexed"]["seconds"], figures["fast"]["over_http"]["all"]["p99_ms"]
        figures["targets"] = {
            "search_over_http_p99_ms": {"measured": p99, "target": 100, "met": p99 <= 100},
            "seeding_seconds": {"measured": seeding, "target": 120, "met": seeding <= 120},
        }
    return figures


if __name__ == "__main__":
    import json

    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(_phase()))
    else:
        print(json.dumps(run(), indent=2))
