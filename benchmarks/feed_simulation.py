"""Sizing the hybrid push/pull home feed on a seeded power-law follower graph of 1,000,000 users.

Pure Python (the benchmark runs with the project's requirements only). `run()` returns the figures
`docs/SCALING.md` is written from; `python -m benchmarks feed_simulation` stores them as JSON.

The graph (all of it seeded; see docs/SCALING.md for the reasoning):
- follower counts d_i (in-degrees) of all N users, materialised: a Lomax (Pareto II) tail,
  P(d > x) ~ x^-ALPHA, median ~40, truncated at N/3 (the largest account is followed by a third of
  the users, as Instagram's largest is by about a third of its users);
- following propensity f_j (expected following count): log-normal, median ~100, mean = mean d,
  capped at 7,500 (Instagram's follow limit);
- edges: j follows i independently with probability min(1, lambda_i * w_j), w_j = f_j / sum(f),
  lambda_i = d_i unless saturated, then solved so that the expected in-degree is exactly d_i
  (a directed Chung-Lu graph).
What is exact and what is sampled:
- the write side (feed writes per post, fan-out sizes, SQS chunks) uses the materialised d_i: exact;
- the read side samples READERS users uniformly and draws, for each, how many accounts it follows in
  each follower-count band [lo, hi) above CELEB_FLOOR (Binomial(n_band, min(1, lambda_band * w_j)))
  and how many below (Poisson); thresholds are band edges, so "celebrities followed" per sampled
  reader is exact for the graph model, the distribution over readers is a sample.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

SEED = 20261122
USERS = 1_000_000
READERS = 50_000  # sampled readers (5 %); p99 rests on 500 samples above it
ALPHA = 1.06  # tail exponent of P(followers > x)
SCALE = 45.0  # Lomax scale: median followers = SCALE * (2^(1/ALPHA) - 1) ~ 41.5
CAP_FRACTION = 1 / 3  # largest account: a third of all users
FOLLOW_SIGMA = 1.0  # log-normal sigma of the following count
FOLLOW_CAP = 7_500
WEIGHT_SAMPLE = 200_000  # following propensities used to calibrate saturated bands
CELEB_FLOOR = 1_000  # read-side bands start here (smallest positive threshold)
BANDS_PER_DECADE = 20
POST_EXPONENT = 0.25  # post rate ~ (1 + followers)^POST_EXPONENT (creators post more); 0 = independent
INF = math.inf
THRESHOLDS: list[float] = [0, 1_000, 5_000, 10_000, 50_000, 100_000, 200_000, 300_000, 500_000, 1_000_000, INF]
# The same model at production size: 1B accounts (500M DAU), write side from a 1M-user sample of the
# degree distribution, read-side band sizes from its closed form. Fan-out there gets more workers
# and a raised table quota (assumptions, see docs/SCALING.md).
POPULATION = 1_000_000_000
DAILY_ACTIVE = 500_000_000  # of the population; posts and feed pages per day scale with these
POPULATION_THRESHOLDS: list[float] = [
    0,
    10_000,
    100_000,
    1_000_000,
    5_000_000,
    10_000_000,
    30_000_000,
    60_000_000,
    100_000_000,
    INF,
]
POPULATION_WORKERS = 250
POPULATION_WCU_BUDGET = 1_000_000
POPULATION_WALK_SHARDS = 16  # follower edges of big accounts spread over 16 GSI key shards, walked in parallel
CELEB_ITEMS_PER_BATCH = 100  # BatchGetItem keys per call (read design B: one "recent posts" item per celebrity)

# --- workload per simulated user per day (assumptions, see docs/SCALING.md) ---
POSTS_PER_USER_DAY = 0.2
PAGES_PER_USER_DAY = 16.0
FEED_CAP = 800
FEED_TTL_DAYS = 30
FEED_ITEM_BYTES = 150
DYNAMO_ITEM_OVERHEAD = 100  # bytes billed per item on top of its attributes
EDGE_BYTES = 100
PAGE_SIZE = 50
POST_ITEM_BYTES = 1_024  # a post item in the published-by-author GSI (ALL projection)
HYDRATE_ITEMS = 175  # 50 posts + ~25 distinct authors + 50 liked + 50 saved flags
# --- fan-out concurrency model (assumed, not measured on AWS; moto's ~4 ms says nothing about AWS) ---
CHUNK = 1_000  # followers per SQS chunk message
WORKERS = 50  # concurrent fan-out Lambda workers
IN_FLIGHT = 8  # BatchWriteItem calls in flight per worker
BATCH_LATENCY = 0.015  # seconds per 25-item BatchWriteItem (AWS, same region)
INVOKE_OVERHEAD = 0.020  # seconds per chunk: SQS receive + Lambda dispatch + delete
PAGE_LATENCY = 0.030  # seconds per 1 MB page of the followers GSI (~10,000 edges)
FOLLOWERS_PER_PAGE = 1_000_000 // EDGE_BYTES
WCU_BUDGET = 40_000  # WRU/s the feed table grants one fan-out (default on-demand table quota)
FANOUT_BUDGET_S = 60.0
P99_CELEB_BUDGET = 50
# --- Lambda cost model (assumed) ---
READ_MEMORY_GB = 0.5
READ_BASE_S = 0.050  # feed_read: 3 round trips + hydrate + JSON
READ_PER_QUERY_S = 0.002  # botocore signing/parsing per extra parallel query
FANOUT_MEMORY_GB = 0.5
# --- prices, us-east-1, USD (sources in docs/SCALING.md) ---
PRICE_WRU = 0.625 / 1e6
PRICE_RRU = 0.125 / 1e6
PRICE_STORAGE_GB_MONTH = 0.25
PRICE_LAMBDA_GB_S = 0.0000133334
PRICE_LAMBDA_REQUEST = 0.20 / 1e6
PRICE_SQS_REQUEST = 0.40 / 1e6


# ----------------------------------------------------------------------------------------------
# aggregates (pure functions, tested against brute force in tests/unit/test_feed_simulation.py)
# ----------------------------------------------------------------------------------------------


def band_edges(floor: int, top: int, thresholds: Sequence[float], per_decade: int = BANDS_PER_DECADE) -> list[int]:
    """Lower edges of the follower-count bands: a log grid from `floor` to `top`, plus every finite
    positive threshold, so that "followers >= T" is a union of whole bands."""
    edges = {floor}
    k = 1
    while (edge := round(floor * 10 ** (k / per_decade))) <= top:
        edges.add(edge)
        k += 1
    edges.update(int(t) for t in thresholds if 0 < t < INF and t >= floor)
    return sorted(edges)


def band_counts(followee_followers: Sequence[int], edges: Sequence[int]) -> list[int]:
    """How many of a reader's followees fall into each band (followers >= edges[0] only)."""
    counts = [0] * len(edges)
    for d in followee_followers:
        if d >= edges[0]:
            counts[bisect.bisect_right(edges, d) - 1] += 1
    return counts


def celebrities_followed(counts: Sequence[int], edges: Sequence[int], threshold: float, following: int) -> int:
    """Followees with followers >= threshold; threshold 0 means all of them (pure pull)."""
    if threshold <= 0:
        return following
    if threshold == INF:
        return 0
    if threshold < edges[0]:
        raise ValueError(f"threshold {threshold} is below the lowest band edge {edges[0]}")
    start = bisect.bisect_left(edges, threshold)
    if start < len(edges) and edges[start] != threshold:
        raise ValueError(f"threshold {threshold} is not a band edge")
    return sum(counts[start:])


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of an ascending sequence."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class WriteSide:
    """Prefix sums over users sorted by follower count: every write-side aggregate for any T in O(log N)."""

    followers: list[int]  # ascending
    rates: list[float]  # post rate of the same users
    cum_rate: list[float] = field(init=False)
    cum_writes: list[float] = field(init=False)
    cum_chunks: list[float] = field(init=False)
    cum_pages: list[float] = field(init=False)

    @classmethod
    def build(cls, followers: Sequence[int], rates: Sequence[float]) -> WriteSide:
        order = sorted(range(len(followers)), key=followers.__getitem__)
        return cls([followers[i] for i in order], [rates[i] for i in order])

    def __post_init__(self) -> None:
        self.cum_rate, self.cum_writes, self.cum_chunks, self.cum_pages = [0.0], [0.0], [0.0], [0.0]
        r_sum = w_sum = c_sum = p_sum = 0.0
        for d, r in zip(self.followers, self.rates, strict=True):
            r_sum += r
            w_sum += r * d
            c_sum += r * (-(-d // CHUNK) if d else 0)
            p_sum += r * (-(-d // FOLLOWERS_PER_PAGE) if d else 0)
            self.cum_rate.append(r_sum)
            self.cum_writes.append(w_sum)
            self.cum_chunks.append(c_sum)
            self.cum_pages.append(p_sum)

    def pushed(self, threshold: float) -> int:
        """Number of users whose posts are pushed (followers < threshold)."""
        if threshold == INF:
            return len(self.followers)
        return bisect.bisect_left(self.followers, threshold)

    def per_post(self, threshold: float) -> dict[str, float]:
        """Feed writes per post (post-rate weighted), SQS chunks and follower pages per post."""
        k = self.pushed(threshold)
        total = self.cum_rate[-1]
        # p99 of writes per post: posts of celebrities write nothing, so they sit at 0
        celeb_mass = total - self.cum_rate[k]
        target = 0.99 * total
        if celeb_mass >= target or k == 0:
            p99 = 0
        else:
            i = bisect.bisect_left(self.cum_rate, target - celeb_mass, 0, k + 1)
            p99 = self.followers[max(0, i - 1)]
        return {
            "writes_mean": self.cum_writes[k] / total,
            "writes_p99": p99,
            "largest_pushed": self.followers[k - 1] if k else 0,
            "chunks_mean": self.cum_chunks[k] / total,
            "follower_pages_mean": self.cum_pages[k] / total,
            "pushed_post_share": self.cum_rate[k] / total,
        }


def fanout_seconds(
    followers: int,
    *,
    chunk: int = CHUNK,
    workers: int = WORKERS,
    in_flight: int = IN_FLIGHT,
    batch_latency: float = BATCH_LATENCY,
    wcu_budget: float = WCU_BUDGET,
    walk_shards: int = 1,
) -> float:
    """Wall time to push one post to `followers` feeds: a dispatcher walks the followers GSI page by
    page and enqueues chunk messages; `workers` Lambdas each write a chunk with `in_flight`
    concurrent 25-item BatchWriteItem calls; the table grants the fan-out `wcu_budget` WRU/s."""
    if followers <= 0:
        return 0.0
    chunk_s = math.ceil(math.ceil(chunk / 25) / in_flight) * batch_latency + INVOKE_OVERHEAD
    walk_s = math.ceil(math.ceil(followers / FOLLOWERS_PER_PAGE) / walk_shards) * PAGE_LATENCY
    work_s = math.ceil(math.ceil(followers / chunk) / workers) * chunk_s
    return max(walk_s + chunk_s, PAGE_LATENCY + work_s, followers / wcu_budget)


def read_page_cost(celebs: int, following: int, threshold: float) -> dict[str, float]:
    """DynamoDB work of one feed page. Pure pull (T=0) reads the whole follow list and queries every
    followee; otherwise own feed || celebrity edges, then one Query per celebrity, then hydrate."""
    rru_edges = 0.5 * max(1, math.ceil((following if threshold <= 0 else celebs) * EDGE_BYTES / 4096))
    rru_own = 0.0 if threshold <= 0 else 0.5 * math.ceil(PAGE_SIZE * FEED_ITEM_BYTES / 4096)
    return {
        "sequential_round_trips": 3 if celebs > 0 else 2,
        "parallel_queries": celebs + (1 if threshold <= 0 else 2),
        "rru_windowed": rru_own + rru_edges + 0.5 * celebs,
        "rru_limit_page": rru_own + rru_edges + celebs * 0.5 * math.ceil(PAGE_SIZE * POST_ITEM_BYTES / 4096),
    }


# ----------------------------------------------------------------------------------------------
# the graph
# ----------------------------------------------------------------------------------------------


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Exact Binomial(n, p) by geometric skipping: O(successes) random draws."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        return n - binomial(rng, n, 1.0 - p)
    log_q = math.log1p(-p)
    count, position = 0, 0
    while True:
        position += int(math.log(1.0 - rng.random()) / log_q) + 1
        if position > n:
            return count
        count += 1


def poisson(rng: random.Random, mean: float) -> int:
    """Poisson(mean): Knuth below 30, normal approximation (continuity-corrected) above."""
    if mean <= 0:
        return 0
    if mean < 30:
        limit, k, product = math.exp(-mean), 0, rng.random()
        while product > limit:
            k += 1
            product *= rng.random()
        return k
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


def follower_counts(rng: random.Random, users: int, population: int | None = None) -> list[int]:
    """`users` draws of a Lomax(ALPHA, SCALE) truncated at CAP_FRACTION of `population` (inverse CDF)."""
    cap = int((population or users) * CAP_FRACTION)
    u_min = survival(cap)
    exponent = -1.0 / ALPHA
    return [int(SCALE * ((u_min + (1.0 - u_min) * (1.0 - rng.random())) ** exponent - 1.0)) for _ in range(users)]


def survival(x: float) -> float:
    """P(followers > x) of the untruncated Lomax."""
    return (1.0 + x / SCALE) ** -ALPHA


@dataclass
class Graph:
    users: int
    followers: list[int]
    post_rates: list[float]
    edges: list[int]  # band lower edges
    band_sizes: list[int]
    band_mean_followers: list[float]
    readers_following: list[int]  # realised following count of each sampled reader
    readers_bands: list[list[int]]  # followees per band of each sampled reader
    below_floor_rate: float  # mean post rate of a followee below CELEB_FLOOR (edge-weighted)
    band_rates: list[float]  # mean post rate of an account in each band
    saturated_bands: int
    weight: float = 1.0  # users represented by each entry of `followers` (1 = every user materialised)
    workers: int = WORKERS
    wcu_budget: float = WCU_BUDGET
    walk_shards: int = 1
    active: int | None = None  # daily active users (None: every user)
    writes: WriteSide | None = None  # set for a population: the closed-form write side

    def largest_below(self, threshold: float, sampled: int) -> int:
        """Largest follower count whose posts are pushed. Exact when every user is materialised;
        otherwise the top of the highest populated band below the threshold."""
        if self.weight == 1.0:
            return sampled
        best = sampled
        tops = [*self.edges[1:], self.cap + 1]
        for lo, hi, n in zip(self.edges, tops, self.band_sizes, strict=True):
            if n > 0 and lo < threshold:
                best = max(best, int(min(hi - 1, threshold - 1, self.cap)))
        return best

    @property
    def cap(self) -> int:
        return int(self.users * CAP_FRACTION)


def generate(
    users: int = USERS,
    readers: int = READERS,
    seed: int = SEED,
    thresholds: Sequence[float] = THRESHOLDS,
    population: int | None = None,
) -> Graph:
    """`population` None: every user materialised (exact write side, band sizes counted).
    Otherwise `users` is a sample of a population of that size: band sizes and means come from the
    truncated Lomax in closed form, and every sampled user stands for population/users users."""
    rng = random.Random(seed)
    followers = follower_counts(rng, users, population)
    sample_size = users
    weight = 1.0
    if population is not None:
        weight, users = population / users, population
    mean_followers = sum(followers) / sample_size if population is None else truncated_mean(users)
    post_rates = [(1.0 + d) ** POST_EXPONENT for d in followers]
    norm = POSTS_PER_USER_DAY * sample_size / sum(post_rates)
    post_rates = [r * norm for r in post_rates]

    # following propensities: log-normal, scaled so the mean following count equals mean followers
    sample = min(WEIGHT_SAMPLE, max(10_000, sample_size // 5))
    raw = sorted(rng.lognormvariate(0.0, FOLLOW_SIGMA) for _ in range(sample))
    scale = mean_followers / (sum(raw) / len(raw))
    for _ in range(8):  # the cap removes mass; rescale until the capped mean matches
        scale *= mean_followers / (sum(min(FOLLOW_CAP, x * scale) for x in raw) / len(raw))
    propensity = [min(FOLLOW_CAP, x * scale) for x in raw]
    total_propensity = sum(propensity) / len(propensity) * users  # sum over the whole population
    weights = [f / total_propensity for f in propensity]
    prefix = [0.0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    per_sample = users / len(weights)

    def expected_in_degree(lam: float) -> float:
        """sum over all users j of min(1, lam * w_j), estimated from the weight sample."""
        k = bisect.bisect_left(weights, 1.0 / lam)
        return per_sample * (lam * prefix[k] + (len(weights) - k))

    ordered = sorted(followers)
    cum_d = [0]
    for d in ordered:
        cum_d.append(cum_d[-1] + d)
    top = ordered[-1] if population is None else int(users * CAP_FRACTION)
    edges = band_edges(CELEB_FLOOR, top, thresholds)
    band_sizes, band_means, lambdas, band_rates = [], [], [], []
    saturated = 0
    bounds = [*edges, top + 1]
    for lo, hi in itertools.pairwise(bounds):
        if population is None:
            a, b = bisect.bisect_left(ordered, lo), bisect.bisect_left(ordered, hi)
            n = b - a
            mean_d = (cum_d[b] - cum_d[a]) / n if n else 0.0
        else:
            n = accounts_at_least(lo, users) - accounts_at_least(hi, users)
            mean_d = band_mean(lo, hi)
        band_sizes.append(n)
        band_means.append(mean_d)
        band_rates.append(norm * (1.0 + mean_d) ** POST_EXPONENT)
        lam = mean_d
        if n and mean_d * weights[-1] > 1.0:  # saturated: solve expected_in_degree(lam) = mean_d
            saturated += 1
            low, high = mean_d, mean_d
            while expected_in_degree(high) < mean_d and high < 1e15:
                high *= 2
            for _ in range(60):
                mid = (low + high) / 2
                low, high = (mid, high) if expected_in_degree(mid) < mean_d else (low, mid)
            lam = high
        lambdas.append(lam)

    floor_index = bisect.bisect_left(ordered, CELEB_FLOOR)
    below_mass = cum_d[floor_index] * weight  # follower edges into accounts below the floor
    below_rate = sum(d * post_rates_of(d, norm) for d in ordered[:floor_index]) * weight / below_mass

    readers_following, readers_bands = [], []
    for _ in range(readers):
        f = min(FOLLOW_CAP, rng.lognormvariate(0.0, FOLLOW_SIGMA) * scale)
        w = f / total_propensity
        counts = [binomial(rng, n, lam * w) for n, lam in zip(band_sizes, lambdas, strict=True)]
        readers_bands.append(counts)
        readers_following.append(poisson(rng, w * below_mass) + sum(counts))
    return Graph(
        users,
        followers,
        post_rates,
        edges,
        band_sizes,
        band_means,
        readers_following,
        readers_bands,
        below_rate,
        band_rates,
        saturated,
        weight,
    )


def population_write_side(population: int, per_decade: int = 400) -> WriteSide:
    """The write side of a population in closed form: follower-count bins (every integer up to 100,
    then `per_decade` log bins up to the cap), each weighted by its probability mass; a bin stands
    for its mean follower count. Same prefix sums as for a materialised graph."""
    cap = population * CAP_FRACTION
    cuts = [float(x) for x in range(101)]
    k = 1
    while (edge := 100 * 10 ** (k / per_decade)) < cap:
        cuts.append(edge)
        k += 1
    cuts.append(cap + 1)
    followers, rates = [], []
    norm = 1.0 - survival(cap)
    for lo, hi in itertools.pairwise(cuts):
        mass = (survival(lo) - survival(min(hi, cap))) / norm
        if mass <= 0:
            continue
        d = int(lo) if hi - lo <= 1 else int(band_mean(lo, min(hi, cap)))
        followers.append(d)
        rates.append(mass * (1.0 + d) ** POST_EXPONENT)  # post mass of the bin (normalised away)
    return WriteSide(followers, rates)


def truncated_survival(x: float, population: int) -> float:
    """P(followers >= x) under the Lomax truncated at CAP_FRACTION * population."""
    cap = population * CAP_FRACTION
    if x >= cap:
        return 0.0
    return (survival(x) - survival(cap)) / (1.0 - survival(cap))


def accounts_at_least(x: float, population: int) -> int:
    return round(population * truncated_survival(x, population))


def _partial_integral(x: float) -> float:
    """Antiderivative of the Lomax survival function."""
    return SCALE / (1.0 - ALPHA) * (1.0 + x / SCALE) ** (1.0 - ALPHA)


def band_mean(lo: float, hi: float) -> float:
    """E[X | lo <= X < hi] for the Lomax (truncation does not change a conditional band mean)."""
    mass = survival(lo) - survival(hi)
    if mass <= 0:
        return float(lo)
    partial = _partial_integral(hi) - _partial_integral(lo) + lo * survival(lo) - hi * survival(hi)
    return partial / mass


def truncated_mean(population: int) -> float:
    cap = population * CAP_FRACTION
    return (_partial_integral(cap) - _partial_integral(0) - cap * survival(cap)) / (1.0 - survival(cap))


def post_rates_of(d: int, norm: float) -> float:
    return norm * (1.0 + d) ** POST_EXPONENT


# ----------------------------------------------------------------------------------------------
# the sweep over thresholds
# ----------------------------------------------------------------------------------------------


def sweep(graph: Graph, thresholds: Sequence[float] = THRESHOLDS) -> list[dict[str, object]]:
    writes = graph.writes or WriteSide.build(graph.followers, graph.post_rates)
    active = graph.active or graph.users
    posts_day = POSTS_PER_USER_DAY * active
    pages_day = PAGES_PER_USER_DAY * active
    rows: list[dict[str, object]] = []
    for t in thresholds:
        w = writes.per_post(t)
        per_reader = [
            celebrities_followed(c, graph.edges, t, f)
            for c, f in zip(graph.readers_bands, graph.readers_following, strict=True)
        ]
        celebs = sorted(per_reader)
        costs = [read_page_cost(c, f, t) for c, f in zip(per_reader, graph.readers_following, strict=True)]
        rru_windowed = sum(c["rru_windowed"] for c in costs) / len(costs)
        rru_limit = sum(c["rru_limit_page"] for c in costs) / len(costs)
        trips = sorted(c["sequential_round_trips"] for c in costs)
        parallel = sorted(c["parallel_queries"] for c in costs)
        mean_celebs = sum(celebs) / len(celebs)

        # feed items held per user: min(cap, 30 days of pushed arrivals)
        held = arrivals = 0.0
        for counts, following in zip(graph.readers_bands, graph.readers_following, strict=True):
            pushed_rate = (following - sum(counts)) * graph.below_floor_rate if t > 0 else 0.0
            for lo, n_b, r_b in zip(graph.edges, counts, graph.band_rates, strict=True):
                if lo < t:
                    pushed_rate += n_b * r_b
            pushed_rate *= active / graph.users  # only active users post
            held += min(FEED_CAP, FEED_TTL_DAYS * pushed_rate)
            arrivals += pushed_rate
        held /= len(graph.readers_bands)
        arrivals /= len(graph.readers_bands)
        largest = graph.largest_below(t, int(w["largest_pushed"]))
        storage_gb = held * graph.users * (FEED_ITEM_BYTES + DYNAMO_ITEM_OVERHEAD) / 1e9

        # daily cost at simulation scale (every simulated user active)
        write_day = posts_day * w["writes_mean"]
        chunks_day = posts_day * w["chunks_mean"]
        fanout_rru_day = posts_day * w["follower_pages_mean"] * 0.5 * 256
        read_rru_day = pages_day * rru_windowed
        lambda_read_gbs = pages_day * READ_MEMORY_GB * (READ_BASE_S + READ_PER_QUERY_S * mean_celebs)
        chunk_s = math.ceil(math.ceil(CHUNK / 25) / IN_FLIGHT) * BATCH_LATENCY + INVOKE_OVERHEAD
        lambda_fanout_gbs = chunks_day * FANOUT_MEMORY_GB * chunk_s
        cost = {
            "dynamodb_writes": write_day * PRICE_WRU,
            "dynamodb_reads": (read_rru_day + fanout_rru_day) * PRICE_RRU,
            "lambda": (lambda_read_gbs + lambda_fanout_gbs) * PRICE_LAMBDA_GB_S + chunks_day * PRICE_LAMBDA_REQUEST,
            "sqs": chunks_day * 3 * PRICE_SQS_REQUEST,
            "feed_storage": storage_gb * PRICE_STORAGE_GB_MONTH / 30,
        }
        rows.append(
            {
                "threshold": "inf" if t == INF else int(t),
                "pushed_post_share": round(w["pushed_post_share"], 5),
                "writes_per_post_mean": round(w["writes_mean"], 1),
                "writes_per_post_p99": w["writes_p99"],
                "largest_pushed_followers": largest,
                "fanout_seconds_worst": round(
                    fanout_seconds(
                        largest, workers=graph.workers, wcu_budget=graph.wcu_budget, walk_shards=graph.walk_shards
                    ),
                    2,
                ),
                "celebs_followed_mean": round(mean_celebs, 2),
                "celebs_followed_p50": quantile(celebs, 0.50),
                "celebs_followed_p99": quantile(celebs, 0.99),
                "celebs_followed_max": celebs[-1],
                "parallel_queries_p99": quantile(parallel, 0.99),
                "sequential_round_trips_p99": quantile(trips, 0.99),
                "rru_per_page_mean": round(rru_windowed, 3),
                "rru_per_page_mean_if_limit_50": round(rru_limit, 2),
                "rru_per_page_hydrate_constant": 0.5 * HYDRATE_ITEMS,
                "feed_items_per_user_mean": round(held, 1),
                "feed_storage_gb": round(storage_gb, 2),
                "feed_writes_per_day": round(write_day),
                # model check: pushed arrivals per reader (read side) = feed writes per user (write side)
                "arrivals_per_reader_day": round(arrivals, 2),
                "feed_writes_per_user_day": round(write_day / graph.users, 2),
                "cost_usd_per_day": {k: round(v, 2) for k, v in cost.items()},
                "cost_usd_per_day_total": round(sum(cost.values()), 2),
            }
        )
    return rows


def choose(rows: Sequence[dict[str, object]], design: str = "query") -> dict[str, object]:
    """The rule: among thresholds meeting every budget -- p99 sequential round trips <= 3, p99
    parallel celebrity reads <= P99_CELEB_BUDGET, worst fan-out <= FANOUT_BUDGET_S -- the cheapest
    in total cost per day; ties (within 1 %) go to the lower threshold (shorter fan-outs, fewer
    writes to undo on delete/unfollow).
    design "query": one Query per followed celebrity (the design as specified), so the parallel
    reads are the celebrities followed. design "batch": one small "recent posts" item per celebrity,
    read with BatchGetItem, CELEB_ITEMS_PER_BATCH keys per call, so the parallel reads are
    ceil(celebrities / 100) -- the remedy docs/SCALING.md proposes at production size."""

    def parallel(r: dict[str, object]) -> float:
        celebs = float(r["celebs_followed_p99"])  # type: ignore[arg-type]
        return celebs if design == "query" else math.ceil(celebs / CELEB_ITEMS_PER_BATCH)

    feasible = [
        r
        for r in rows
        if float(r["sequential_round_trips_p99"]) <= 3  # type: ignore[arg-type]
        and parallel(r) <= P99_CELEB_BUDGET
        and float(r["fanout_seconds_worst"]) <= FANOUT_BUDGET_S  # type: ignore[arg-type]
    ]
    if not feasible:
        return {"design": design, "threshold": None, "reason": "no threshold meets every budget"}
    cheapest = min(float(r["cost_usd_per_day_total"]) for r in feasible)  # type: ignore[arg-type]
    near = [r for r in feasible if float(r["cost_usd_per_day_total"]) <= cheapest * 1.01]  # type: ignore[arg-type]
    pick = min(near, key=lambda r: INF if r["threshold"] == "inf" else float(r["threshold"]))  # type: ignore[arg-type]
    return {
        "design": design,
        "threshold": pick["threshold"],
        "feasible": [r["threshold"] for r in feasible],
        "cost_usd_per_day_total": pick["cost_usd_per_day_total"],
    }


def _summary(graph: Graph, rows: list[dict[str, object]]) -> dict[str, object]:
    followers = sorted(graph.followers)
    following = sorted(graph.readers_following)
    n = len(followers)
    return {
        "users": graph.users,
        "daily_active": graph.active or graph.users,
        "materialised_users": n,
        "sampled_readers": len(graph.readers_following),
        "bands": len(graph.edges),
        "saturated_bands": graph.saturated_bands,
        "fanout": {"workers": graph.workers, "wcu_budget": graph.wcu_budget},
        "graph": {
            "follower_edges": round(
                sum(followers) if graph.weight == 1.0 else truncated_mean(graph.users) * graph.users
            ),
            "followers_mean": round(sum(followers) / n if graph.weight == 1.0 else truncated_mean(graph.users), 1),
            "followers_p50": quantile(followers, 0.5),
            "followers_p90": quantile(followers, 0.9),
            "followers_p99": quantile(followers, 0.99),
            "followers_p9999": quantile(followers, 0.9999),
            "followers_max": followers[-1] if graph.weight == 1.0 else graph.cap,
            "accounts_at_least": {
                str(t): (n - bisect.bisect_left(followers, t))
                if graph.weight == 1.0
                else accounts_at_least(t, graph.users)
                for t in (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
            },
            "following_mean": round(sum(following) / len(following), 1),
            "following_p50": quantile(following, 0.5),
            "following_p99": quantile(following, 0.99),
            "following_max": following[-1],
        },
        "thresholds": rows,
        "choice": choose(rows),
        "choice_batched_celebrity_items": choose(rows, "batch"),
    }


def run(users: int = USERS, readers: int = READERS, seed: int = SEED) -> dict[str, object]:
    started = time.perf_counter()
    graph = generate(users, readers, seed)
    generated = time.perf_counter()
    simulated = _summary(graph, sweep(graph))
    swept = time.perf_counter()
    del graph
    big = generate(users, readers, seed + 1, POPULATION_THRESHOLDS, population=POPULATION)
    big.workers, big.wcu_budget, big.walk_shards = POPULATION_WORKERS, POPULATION_WCU_BUDGET, POPULATION_WALK_SHARDS
    big.writes = population_write_side(POPULATION)
    big.active = DAILY_ACTIVE
    population = _summary(big, sweep(big, POPULATION_THRESHOLDS))
    finished = time.perf_counter()
    return {
        "seed": seed,
        "model": {
            "alpha": ALPHA,
            "lomax_scale": SCALE,
            "cap_fraction": CAP_FRACTION,
            "follow_sigma": FOLLOW_SIGMA,
            "follow_cap": FOLLOW_CAP,
            "post_exponent": POST_EXPONENT,
            "posts_per_user_day": POSTS_PER_USER_DAY,
            "pages_per_user_day": PAGES_PER_USER_DAY,
            "celeb_floor": CELEB_FLOOR,
            "bands_per_decade": BANDS_PER_DECADE,
        },
        "fanout_model": {
            "chunk": CHUNK,
            "workers": WORKERS,
            "in_flight": IN_FLIGHT,
            "batch_latency_s": BATCH_LATENCY,
            "invoke_overhead_s": INVOKE_OVERHEAD,
            "page_latency_s": PAGE_LATENCY,
            "followers_per_page": FOLLOWERS_PER_PAGE,
            "wcu_budget": WCU_BUDGET,
            "followers_within_60s": max_followers_within(FANOUT_BUDGET_S),
            "seconds_for_1M_followers": round(fanout_seconds(1_000_000), 2),
            "population_workers": POPULATION_WORKERS,
            "population_wcu_budget": POPULATION_WCU_BUDGET,
            "population_walk_shards": POPULATION_WALK_SHARDS,
            "population_followers_within_60s": max_followers_within(
                FANOUT_BUDGET_S,
                workers=POPULATION_WORKERS,
                wcu_budget=POPULATION_WCU_BUDGET,
                walk_shards=POPULATION_WALK_SHARDS,
            ),
        },
        "simulated": simulated,
        "population": population,
        "seconds": {
            "generate_1M": round(generated - started, 2),
            "sweep_1M": round(swept - generated, 2),
            "population_scenario": round(finished - swept, 2),
            "total": round(finished - started, 2),
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def max_followers_within(budget_s: float, **model: float) -> int:
    """Largest follower count whose fan-out fits in budget_s (bisection on the monotone model)."""
    low, high = 0, 10**10
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fanout_seconds(mid, **model) <= budget_s else (low, mid - 1)  # type: ignore[arg-type]
    return low


if __name__ == "__main__":
    json.dump(run(), sys.stdout, indent=2)
    print()
