"""The ranked home feed's score: a documented formula over cheap signals (docs/DATA_MODEL.md, "Ranking").

    base      = w_affinity · ln(1 + affinity) + w_recency · 2^(-age / recency_half_life)
              + w_engagement · ln(1 + (likes + comment_weight · comments) / max(age in hours, 1))
              + w_own · [the viewer's own post]
    score     = base · diversity(n)
    diversity = (1 - floor) · decay^n + floor, n = how many posts of the same author rank above it

`affinity` is the viewer's decayed interest in the author (likes, comments, DMs, profile visits; each
interaction's weight halves every `affinity_half_life`), read from the affinity item the streams keep.

Seen posts sink below every unseen one: the ranked list is three sections, each by score — the unseen posts
of the last `caught_up_window`, then older unseen posts, then the posts already seen. The viewer is caught up
once past the first section. Pure: no I/O, so the tests and the ranking-quality benchmark call exactly what
the feed runs."""

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pinhole.shared.settings import FeedRankingSettings

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Candidate:
    """A post that may show in a viewer's feed, with what scoring it needs."""

    post_id: str
    author_id: str
    created_at: datetime
    like_count: int = 0
    comment_count: int = 0


@dataclass(frozen=True)
class ScoreParts:
    """Each term of the formula for one post, as `?explain=true` returns them."""

    affinity: float
    recency: float
    engagement: float
    own_post: float
    seen: bool
    diversity: float = 1.0

    def base(self, weights: FeedRankingSettings) -> float:
        return (
            weights.affinity * math.log1p(self.affinity)
            + weights.recency * self.recency
            + weights.engagement * self.engagement
            + weights.own_post * self.own_post
        )

    def score(self, weights: FeedRankingSettings) -> float:
        return self.base(weights) * self.diversity


@dataclass(frozen=True)
class RankedPost:
    post_id: str
    author_id: str
    score: float
    parts: ScoreParts


@dataclass(frozen=True)
class Ranking:
    """The ranked ids, and how many of the first ones are the unseen posts of the caught-up window."""

    posts: list[RankedPost]
    unseen_recent: int

    @property
    def post_ids(self) -> list[str]:
        return [post.post_id for post in self.posts]


@dataclass(frozen=True)
class ViewerSignals:
    """What the viewer's own partition says about them: affinity per author (decayed to now) and seen posts."""

    affinities: dict[str, float] = field(default_factory=dict)
    seen: frozenset[str] = frozenset()


def decayed(value: float, since_s: float, half_life_s: float) -> float:
    """`value` after `since_s` seconds of exponential decay with this half-life."""
    return value * 2.0 ** (-max(since_s, 0.0) / half_life_s)


def accumulate(score: float, as_of: float, weight: float, at: float, half_life_s: float) -> tuple[float, float]:
    """An affinity (`score` as of epoch second `as_of`) after one more interaction of `weight` at `at`: what was
    there decays to the later of the two times, and the interaction too if it is the older (a late record)."""
    later = max(as_of, at)
    return decayed(score, later - as_of, half_life_s) + decayed(weight, later - at, half_life_s), later


def engagement_rate(like_count: int, comment_count: int, age_s: float, comment_weight: float) -> float:
    hours = max(age_s / SECONDS_PER_HOUR, 1.0)
    return math.log1p((like_count + comment_weight * comment_count) / hours)


def _terms(
    candidate: Candidate, viewer_id: str, signals: ViewerSignals, now_s: float, weights: FeedRankingSettings
) -> tuple[float, float, float, float, bool]:
    age_s = now_s - candidate.created_at.timestamp()
    return (
        signals.affinities.get(candidate.author_id, 0.0),
        decayed(1.0, age_s, weights.recency_half_life_hours * SECONDS_PER_HOUR),
        engagement_rate(candidate.like_count, candidate.comment_count, age_s, weights.comment_weight),
        1.0 if candidate.author_id == viewer_id else 0.0,
        candidate.post_id in signals.seen,
    )


def score_parts(
    candidate: Candidate, viewer_id: str, signals: ViewerSignals, now: datetime, weights: FeedRankingSettings
) -> ScoreParts:
    return ScoreParts(*_terms(candidate, viewer_id, signals, now.timestamp(), weights))


def diversity_multiplier(n: int, weights: FeedRankingSettings) -> float:
    """X's home mixer: an author's n-th post (0 for the first) is multiplied by (1 - floor)·decay^n + floor."""
    return (1.0 - weights.diversity_floor) * weights.diversity_decay**n + weights.diversity_floor


Scored = tuple[float, Candidate, tuple[float, float, float, float, bool]]


def _diversified(scored: list[Scored], weights: FeedRankingSettings) -> list[RankedPost]:
    """By the formula's base, then each author's n-th post in that order multiplied down (one pass, as the
    mixer does), then ordered by the result; ties go to the newer post."""
    scored.sort(key=lambda item: (item[0], item[1].post_id), reverse=True)
    shown: Counter[str] = Counter()
    ranked = []
    for base, candidate, terms in scored:
        n = shown[candidate.author_id]
        shown[candidate.author_id] = n + 1
        multiplier = diversity_multiplier(n, weights)
        parts = ScoreParts(*terms, diversity=multiplier)
        ranked.append(RankedPost(candidate.post_id, candidate.author_id, base * multiplier, parts))
    ranked.sort(key=lambda post: (post.score, post.post_id), reverse=True)
    return ranked


def rank(
    candidates: Iterable[Candidate],
    viewer_id: str,
    signals: ViewerSignals,
    now: datetime,
    weights: FeedRankingSettings,
) -> Ranking:
    now_s = now.timestamp()
    window_s = weights.caught_up_window_hours * SECONDS_PER_HOUR
    log_affinity: dict[str, float] = {}
    fresh: list[Scored] = []
    older: list[Scored] = []
    seen: list[Scored] = []
    for candidate in {c.post_id: c for c in candidates}.values():
        terms = _terms(candidate, viewer_id, signals, now_s, weights)
        affinity, recency, engagement, own, is_seen = terms
        if candidate.author_id not in log_affinity:
            log_affinity[candidate.author_id] = math.log1p(affinity)
        base = (
            weights.affinity * log_affinity[candidate.author_id]
            + weights.recency * recency
            + weights.engagement * engagement
            + weights.own_post * own
        )
        if is_seen:
            seen.append((base, candidate, terms))
        elif now_s - candidate.created_at.timestamp() <= window_s:
            fresh.append((base, candidate, terms))
        else:
            older.append((base, candidate, terms))
    first = _diversified(fresh, weights)
    return Ranking(posts=first + _diversified(older, weights) + _diversified(seen, weights), unseen_recent=len(first))


def chronological(candidates: Iterable[Candidate]) -> list[str]:
    """The same candidates newest first (ids are ULIDs): the order of ?order=chronological."""
    return sorted({c.post_id for c in candidates}, reverse=True)
