"""The feed-sizing aggregates against brute force on tiny seeded graphs (benchmarks/feed_simulation.py)."""

import itertools
import math
import random

import pytest

from benchmarks import feed_simulation as sim

INF = math.inf


@pytest.fixture(scope="module")
def tiny() -> tuple[list[list[int]], list[int], list[float]]:
    """300 users, every edge materialised: followee lists, in-degrees, post rates."""
    rng = random.Random(7)
    users = 300
    popularity = [rng.paretovariate(1.1) for _ in range(users)]
    follows = []
    for reader in range(users):
        k = min(users - 1, int(rng.lognormvariate(2.5, 0.8)))
        chosen: set[int] = set()
        while len(chosen) < k:
            (target,) = rng.choices(range(users), weights=popularity)
            if target != reader:
                chosen.add(target)
        follows.append(sorted(chosen))
    in_degree = [0] * users
    for followees in follows:
        for target in followees:
            in_degree[target] += 1
    rates = [rng.uniform(0.05, 2.0) for _ in range(users)]
    return follows, in_degree, rates


def _thresholds(in_degree: list[int]) -> list[float]:
    return [0, 2, 5, 10, 20, 40, 80, max(in_degree), max(in_degree) + 1, INF]


def _brute_writes(in_degree: list[int], rates: list[float], t: float) -> tuple[float, int, int]:
    values = [(d if d < t else 0, r) for d, r in zip(in_degree, rates, strict=True)]
    mean = sum(v * r for v, r in values) / sum(rates)
    cumulative, p99 = 0.0, 0
    for v, r in sorted(values):
        cumulative += r
        if cumulative >= 0.99 * sum(rates):
            p99 = v
            break
    largest = max((d for d in in_degree if d < t), default=0)
    return mean, p99, largest


def test_write_amplification_matches_brute_force(tiny):
    _, in_degree, rates = tiny
    writes = sim.WriteSide.build(in_degree, rates)
    for t in _thresholds(in_degree):
        mean, p99, largest = _brute_writes(in_degree, rates, t)
        got = writes.per_post(t)
        assert got["writes_mean"] == pytest.approx(mean, rel=1e-9, abs=1e-12), t
        assert got["writes_p99"] == p99, t
        assert got["largest_pushed"] == largest, t


def test_pure_push_writes_every_follower_and_pure_pull_writes_nothing(tiny):
    follows, in_degree, rates = tiny
    writes = sim.WriteSide.build(in_degree, rates)
    # T = inf: every post lands in every follower's feed: total followers per post, post-weighted
    edges = sum(len(f) for f in follows)
    assert sum(in_degree) == edges
    assert writes.per_post(INF)["writes_mean"] == pytest.approx(
        sum(r * d for r, d in zip(rates, in_degree, strict=True)) / sum(rates)
    )
    assert writes.per_post(INF)["pushed_post_share"] == pytest.approx(1.0)
    assert writes.per_post(0) == {
        "writes_mean": 0.0,
        "writes_p99": 0,
        "largest_pushed": 0,
        "chunks_mean": 0.0,
        "follower_pages_mean": 0.0,
        "pushed_post_share": 0.0,
    }


def test_celebrities_followed_per_reader_is_exact(tiny):
    follows, in_degree, _ = tiny
    thresholds = _thresholds(in_degree)
    edges = sim.band_edges(1, max(in_degree), thresholds, per_decade=5)
    for followees in follows:
        degrees = [in_degree[i] for i in followees]
        counts = sim.band_counts(degrees, edges)
        for t in thresholds:
            expected = len(followees) if t == 0 else sum(1 for d in degrees if d >= t)
            assert sim.celebrities_followed(counts, edges, t, len(followees)) == expected, t


def test_threshold_off_the_band_edges_is_refused():
    edges = sim.band_edges(1_000, 100_000, [10_000])
    with pytest.raises(ValueError):
        sim.celebrities_followed([0] * len(edges), edges, 1_234, 10)
    with pytest.raises(ValueError):
        sim.celebrities_followed([0] * len(edges), edges, 500, 10)


@pytest.fixture(scope="module")
def swept() -> list[dict[str, object]]:
    graph = sim.generate(users=10_000, readers=1_500, seed=3)
    return sim.sweep(graph)


def _number(value: object) -> float:
    return INF if value == "inf" else float(value)  # type: ignore[arg-type]


def test_monotone_in_threshold(swept):
    thresholds = [_number(r["threshold"]) for r in swept]
    assert thresholds == sorted(thresholds)
    for low, high in itertools.pairwise(swept):
        assert _number(low["writes_per_post_mean"]) <= _number(high["writes_per_post_mean"])
        assert _number(low["writes_per_post_p99"]) <= _number(high["writes_per_post_p99"])
        assert _number(low["largest_pushed_followers"]) <= _number(high["largest_pushed_followers"])
        assert _number(low["celebs_followed_p99"]) >= _number(high["celebs_followed_p99"])
        assert _number(low["celebs_followed_mean"]) >= _number(high["celebs_followed_mean"])
        assert _number(low["fanout_seconds_worst"]) <= _number(high["fanout_seconds_worst"])
    assert swept[0]["writes_per_post_mean"] == 0.0
    assert swept[-1]["celebs_followed_p99"] == 0


def test_read_side_and_write_side_agree(swept):
    """Pushed arrivals per sampled reader (read side) estimate feed writes per user (write side)."""
    for row in swept[1:]:
        arrivals, writes = _number(row["arrivals_per_reader_day"]), _number(row["feed_writes_per_user_day"])
        assert arrivals == pytest.approx(writes, rel=0.15), row["threshold"]


def test_seeded_and_reproducible():
    a = sim.generate(users=5_000, readers=300, seed=11)
    b = sim.generate(users=5_000, readers=300, seed=11)
    assert a.followers == b.followers
    assert a.readers_bands == b.readers_bands
    assert a.readers_following == b.readers_following


def test_binomial_sampler_is_unbiased():
    rng = random.Random(5)
    for n, p in ((100, 0.03), (100, 0.3), (40, 0.8), (10, 1.0), (10, 0.0)):
        draws = [sim.binomial(rng, n, p) for _ in range(3_000)]
        assert all(0 <= d <= n for d in draws)
        assert sum(draws) / len(draws) == pytest.approx(n * p, abs=4 * math.sqrt(n * p * (1 - p) / 3_000) + 1e-9)


def test_fanout_model():
    assert sim.fanout_seconds(0) == 0.0
    times = [sim.fanout_seconds(d) for d in (1, 999, 10_000, 100_000, 1_000_000, 10_000_000)]
    assert times == sorted(times)
    assert sim.fanout_seconds(1_000_000) == pytest.approx(25.0)  # bound by the 40,000 WRU/s budget
    assert sim.fanout_seconds(1_000) == pytest.approx(0.03 + 5 * 0.015 + 0.02)
    assert sim.max_followers_within(60.0) == 2_400_000


def test_choice_rule():
    def row(t, celebs, seconds, cost):
        return {
            "threshold": t,
            "sequential_round_trips_p99": 3,
            "celebs_followed_p99": celebs,
            "fanout_seconds_worst": seconds,
            "cost_usd_per_day_total": cost,
        }

    rows = [row(10, 400, 1, 90), row(100, 40, 5, 100), row(1_000, 10, 30, 100.5), row("inf", 0, 90, 50)]
    assert sim.choose(rows)["threshold"] == 100  # cheapest feasible, ties within 1 % to the lower T
    assert sim.choose(rows, "batch")["threshold"] == 10
