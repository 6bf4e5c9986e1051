"""Ranking quality of the home feed, on a seeded simulated population (issue 13, docs/BENCHMARKS.md).

The world (hidden from the ranker):
- USERS people; who follows whom is power-law (each account's popularity is Pareto-distributed, each
  person's following count log-normal, followees drawn in proportion to popularity);
- every follow edge has a hidden affinity a(viewer, author) (log-normal: most people barely care about most
  accounts they follow, a few are close friends), every post a hidden appeal q (log-normal);
- a viewer shown a post engages with probability P = 1 - exp(-BASE_RATE · a · q): the ground truth.

Week 1 generates behaviour: each viewer sees each followee's post with probability SEEN_SHARE, likes it with
probability P and comments with P · COMMENT_SHARE; sends DMs to and visits the profiles of the accounts they
care about (Poisson in a). Every one of these goes through the feed's real stream logic
(`pinhole.feed.signals.FeedSignals`, the code feed_signals runs) into an in-memory affinity store that applies
the same decay arithmetic (`pinhole.feed.ranking.accumulate`) as the DynamoDB one. Posts gather likes and
comments over time from the same draws, which is what the engagement term and the popularity baseline see.

Week 2 is scored: at SESSION_DAY every user's candidates (followees' posts of the last CANDIDATE_DAYS, at most
500) are ordered three ways — chronological, popularity-only (engagement per hour, the formula's engagement
term alone) and ranked (`pinhole.feed.ranking.rank` with the production weights) — and each order's first 20
slots are scored by the engagements the ground truth expects there (Σ P) and by NDCG@20 against the ideal
order by P. Own posts are left out of the candidates (nobody engages with their own post)."""

import math
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SEED = 20261213
USERS = 2_000
DAYS = 14
SESSION_DAY = 10.5  # week 2: the scored session
CANDIDATE_DAYS = 7
TOP = 20
CANDIDATES_MAX = 500
POPULARITY_ALPHA = 1.2  # Pareto tail of an account's popularity
FOLLOWING_MEDIAN, FOLLOWING_SIGMA, FOLLOWING_CAP = 60, 0.8, 400
AFFINITY_MU, AFFINITY_SIGMA = -1.0, 1.2
APPEAL_MU, APPEAL_SIGMA = 0.0, 0.7
BASE_RATE = 0.15
POSTS_PER_DAY = 0.5  # mean; ∝ (1 + followers)^0.25 as in feed_simulation
SEEN_SHARE = 0.6
COMMENT_SHARE = 0.25
DMS_PER_AFFINITY = 0.4  # over the week
VISITS_PER_AFFINITY = 0.3
START = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SimPost:
    post_id: str
    author_id: str
    created_at: datetime
    appeal: float


class InMemoryAffinity:
    """AffinityStore's interface over a dict, with the same arithmetic."""

    def __init__(self, half_life_s: float) -> None:
        self.half_life_s = half_life_s
        self.items: dict[tuple[str, str], tuple[float, float]] = {}
        self.writes = 0

    def add(self, viewer_id: str, author_id: str, weight: float, at: datetime) -> float:
        from pinhole.feed.ranking import accumulate

        score, as_of = self.items.get((viewer_id, author_id), (0.0, at.timestamp()))
        self.items[(viewer_id, author_id)] = accumulate(score, as_of, weight, at.timestamp(), self.half_life_s)
        self.writes += 1
        return self.items[(viewer_id, author_id)][0]

    def of_viewer(self, viewer_id: str, now: datetime) -> dict[str, float]:
        from pinhole.feed.ranking import decayed

        moment = now.timestamp()
        return {
            author: decayed(score, moment - as_of, self.half_life_s)
            for (viewer, author), (score, as_of) in self.items.items()
            if viewer == viewer_id
        }


class PostsById:
    """PostRepository.get_many over the simulated posts (FeedSignals reads a liked post's author)."""

    def __init__(self, posts: dict[str, SimPost]) -> None:
        self.posts = posts

    def get_many(self, post_ids: list[str]) -> dict[str, Any]:
        return {post_id: self.posts[post_id] for post_id in post_ids if post_id in self.posts}


def _moment(day: float) -> datetime:
    return START + timedelta(days=day)


def _post_id(rng: random.Random, created: datetime) -> str:
    from ulid import ULID

    return str(ULID.from_timestamp(created.timestamp()))[:10] + "".join(
        rng.choices("0123456789ABCDEFGHJKMNPQRSTVWXYZ", k=16)
    )


def _world(rng: random.Random) -> tuple[dict[str, list[str]], dict[tuple[str, str], float], list[SimPost]]:
    users = [f"u{index:05d}" for index in range(USERS)]
    popularity = [rng.paretovariate(POPULARITY_ALPHA) for _ in users]
    following: dict[str, list[str]] = {}
    for user in users:
        count = min(FOLLOWING_CAP, max(1, round(FOLLOWING_MEDIAN * math.exp(rng.gauss(0, FOLLOWING_SIGMA)))))
        chosen: set[str] = set()
        while len(chosen) < count:
            for followee in rng.choices(users, weights=popularity, k=count - len(chosen)):
                if followee != user:
                    chosen.add(followee)
        following[user] = sorted(chosen)
    affinity = {
        (viewer, author): math.exp(rng.gauss(AFFINITY_MU, AFFINITY_SIGMA))
        for viewer, followees in following.items()
        for author in followees
    }
    followers = {user: 0 for user in users}
    for followees in following.values():
        for author in followees:
            followers[author] += 1
    rates = {user: (1 + followers[user]) ** 0.25 for user in users}
    scale = POSTS_PER_DAY * len(users) / sum(rates.values())
    posts = []
    for user in users:
        day = rng.expovariate(rates[user] * scale)
        while day < DAYS:
            created = _moment(day)
            posts.append(SimPost(_post_id(rng, created), user, created, math.exp(rng.gauss(APPEAL_MU, APPEAL_SIGMA))))
            day += rng.expovariate(rates[user] * scale)
    return following, affinity, posts


def _engaged(affinity: float, appeal: float) -> float:
    return 1.0 - math.exp(-BASE_RATE * affinity * appeal)


def _ndcg(gains: list[float], ideal: list[float]) -> float:
    def dcg(values: list[float]) -> float:
        return sum(value / math.log2(rank + 2) for rank, value in enumerate(values[:TOP]))

    best = dcg(sorted(ideal, reverse=True))
    return dcg(gains) / best if best > 0 else 0.0


def _placeholder_settings() -> None:
    """FeedSignals' modules read the settings at import; nothing here reaches AWS, so any table name will do."""
    import os

    from pinhole.shared.settings import Settings, get_settings

    for field in Settings.model_fields.values():
        if field.is_required() and field.alias:
            os.environ.setdefault(field.alias, "simulated")
    get_settings.cache_clear()


def run() -> dict[str, Any]:
    _placeholder_settings()
    from pinhole.feed.ranking import Candidate, ViewerSignals, engagement_rate, rank
    from pinhole.feed.signals import FeedSignals
    from pinhole.shared.settings import FeedRankingSettings

    started = time.perf_counter()
    rng = random.Random(SEED)
    weights = FeedRankingSettings()
    following, hidden_affinity, posts = _world(rng)
    by_id = {post.post_id: post for post in posts}
    followers_of: dict[str, list[str]] = {}
    for viewer, followees in following.items():
        for author in followees:
            followers_of.setdefault(author, []).append(viewer)
    store = InMemoryAffinity(weights.affinity_half_life_days * 86_400)
    signals = FeedSignals(affinity=store, recent=None, posts=PostsById(by_id), weights=weights)  # type: ignore[arg-type]

    # Every exposure of every post, whenever it happens (week 1 feeds the signals; both weeks feed the counts).
    likes_at: dict[str, list[float]] = {post.post_id: [] for post in posts}
    comments_at: dict[str, list[float]] = {post.post_id: [] for post in posts}
    session = _moment(SESSION_DAY)
    counts = {"likes": 0, "comments": 0, "messages": 0, "visits": 0}
    for post in posts:
        for viewer in followers_of.get(post.author_id, []):
            if rng.random() >= SEEN_SHARE:
                continue
            seen_at = post.created_at + timedelta(hours=rng.expovariate(1 / 8))
            probability = _engaged(hidden_affinity[(viewer, post.author_id)], post.appeal)
            if rng.random() < probability:
                likes_at[post.post_id].append(seen_at.timestamp())
                if seen_at < _moment(7):
                    item = {"sk": f"like#{viewer}", "user_id": viewer, "post_id": post.post_id}
                    signals.interaction_changed("INSERT", {}, {**item, "created_at": seen_at.isoformat()})
                    counts["likes"] += 1
            if rng.random() < probability * COMMENT_SHARE:
                comments_at[post.post_id].append(seen_at.timestamp())
                if seen_at < _moment(7):
                    item = {"sk": "comment#x", "author_id": viewer, "post_id": post.post_id}
                    signals.interaction_changed("INSERT", {}, {**item, "created_at": seen_at.isoformat()})
                    counts["comments"] += 1
    for (viewer, author), care in hidden_affinity.items():
        for _ in range(_poisson(rng, care * DMS_PER_AFFINITY)):
            at = _moment(rng.uniform(0, 7)).isoformat()
            inbox = {"sk": "conv#c", "user_id": viewer, "with_id": author, "last_sender_id": viewer}
            signals.inbox_changed(
                "MODIFY", {**inbox, "last_message_id": "0"}, {**inbox, "last_message_id": "1", "last_created_at": at}
            )
            counts["messages"] += 1
        for _ in range(_poisson(rng, care * VISITS_PER_AFFINITY)):
            visit = {"sk": f"visit#{author}", "user_id": viewer, "visited_at": _moment(rng.uniform(0, 7)).isoformat()}
            signals.interaction_changed("MODIFY", {}, visit)
            counts["visits"] += 1

    # Week 2: one session per user, scored three ways.
    window_start = session - timedelta(days=CANDIDATE_DAYS)
    recent_by_author: dict[str, list[SimPost]] = {}
    for post in posts:
        if window_start <= post.created_at < session:
            recent_by_author.setdefault(post.author_id, []).append(post)
    now_s = session.timestamp()
    scores: dict[str, list[float]] = {name: [] for name in ("chronological", "popularity", "ranked")}
    ndcg: dict[str, list[float]] = {name: [] for name in scores}
    for viewer, followees in following.items():
        pool = sorted(
            (post for author in followees for post in recent_by_author.get(author, [])),
            key=lambda post: post.post_id,
            reverse=True,
        )[:CANDIDATES_MAX]
        if not pool:
            continue
        candidates = [
            Candidate(
                post.post_id,
                post.author_id,
                post.created_at,
                sum(1 for at in likes_at[post.post_id] if at < now_s),
                sum(1 for at in comments_at[post.post_id] if at < now_s),
            )
            for post in pool
        ]
        truth = {post.post_id: _engaged(hidden_affinity[(viewer, post.author_id)], post.appeal) for post in pool}
        orders = {
            "chronological": [c.post_id for c in candidates],
            "popularity": [
                c.post_id
                for c in sorted(
                    candidates,
                    key=lambda c: (
                        engagement_rate(
                            c.like_count, c.comment_count, now_s - c.created_at.timestamp(), weights.comment_weight
                        ),
                        c.post_id,
                    ),
                    reverse=True,
                )
            ],
            "ranked": rank(
                candidates, viewer, ViewerSignals(store.of_viewer(viewer, session)), session, weights
            ).post_ids,
        }
        for name, order in orders.items():
            gains = [truth[post_id] for post_id in order[:TOP]]
            scores[name].append(sum(gains))
            ndcg[name].append(_ndcg(gains, list(truth.values())))

    mean = {name: statistics.fmean(values) for name, values in scores.items()}
    return {
        "seed": SEED,
        "users": USERS,
        "follow_edges": len(hidden_affinity),
        "posts": len(posts),
        "week1_signals": counts,
        "affinity_writes": store.writes,
        "scored_sessions": len(scores["ranked"]),
        "expected_engagements_top20_mean": {name: round(value, 4) for name, value in mean.items()},
        "ndcg_at_20_mean": {name: round(statistics.fmean(values), 4) for name, values in ndcg.items()},
        "ranked_over_chronological": round(mean["ranked"] / mean["chronological"], 3),
        "ranked_over_popularity": round(mean["ranked"] / mean["popularity"], 3),
        "weights": weights.model_dump(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _poisson(rng: random.Random, mean: float) -> int:
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
