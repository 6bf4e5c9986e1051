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
from collections.abc import Iterable, Sequence
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


def engagement_rate(like_count: int, comment_count: int, age_s: float, comment_weight: float) -> float:
    hours = max(age_s / SECONDS_PER_HOUR, 1.0)
    return math.log1p((like_count + comment_weight * comment_count) / hours)


def score_parts(
    candidate: Candidate, viewer_id: str, signals: ViewerSignals, now: datetime, weights: FeedRankingSettings
) -> ScoreParts:
    age_s = (now - candidate.created_at).total_seconds()
    return ScoreParts(
        affinity=signals.affinities.get(candidate.author_id, 0.0),
        recency=decayed(1.0, age_s, weights.recency_half_life_hours * SECONDS_PER_HOUR),
        engagement=engagement_rate(candidate.like_count, candidate.comment_count, age_s, weights.comment_weight),
        own_post=1.0 if candidate.author_id == viewer_id else 0.0,
        seen=candidate.post_id in signals.seen,
    )


def diversity_multiplier(n: int, weights: FeedRankingSettings) -> float:
    """X's home mixer: an author's n-th post (0 for the first) is multiplied by (1 - floor)·decay^n + floor."""
    return (1.0 - weights.diversity_floor) * weights.diversity_decay**n + weights.diversity_floor


def _diversified(scored: Sequence[tuple[Candidate, ScoreParts]], weights: FeedRankingSettings) -> list[RankedPost]:
    """Scores by the formula, then each author's n-th post in that order multiplied down (one pass, as the
    mixer does), then ordered by the result; ties go to the newer post."""
    by_base = sorted(scored, key=lambda pair: (pair[1].score(weights), pair[0].post_id), reverse=True)
    shown: Counter[str] = Counter()
    ranked = []
    for candidate, parts in by_base:
        diversified = ScoreParts(
            affinity=parts.affinity,
            recency=parts.recency,
            engagement=parts.engagement,
            own_post=parts.own_post,
            seen=parts.seen,
            diversity=diversity_multiplier(shown[candidate.author_id], weights),
        )
        shown[candidate.author_id] += 1
        ranked.append(RankedPost(candidate.post_id, candidate.author_id, diversified.score(weights), diversified))
    return sorted(ranked, key=lambda post: (post.score, post.post_id), reverse=True)


def rank(
    candidates: Iterable[Candidate],
    viewer_id: str,
    signals: ViewerSignals,
    now: datetime,
    weights: FeedRankingSettings,
) -> Ranking:
    window_s = weights.caught_up_window_hours * SECONDS_PER_HOUR
    fresh: list[tuple[Candidate, ScoreParts]] = []
    older: list[tuple[Candidate, ScoreParts]] = []
    seen: list[tuple[Candidate, ScoreParts]] = []
    for candidate in {c.post_id: c for c in candidates}.values():
        parts = score_parts(candidate, viewer_id, signals, now, weights)
        if parts.seen:
            seen.append((candidate, parts))
        elif (now - candidate.created_at).total_seconds() <= window_s:
            fresh.append((candidate, parts))
        else:
            older.append((candidate, parts))
    first = _diversified(fresh, weights)
    return Ranking(posts=first + _diversified(older, weights) + _diversified(seen, weights), unseen_recent=len(first))


def chronological(candidates: Iterable[Candidate]) -> list[str]:
    """The same candidates newest first (ids are ULIDs): the order of ?order=chronological."""
    return sorted({c.post_id for c in candidates}, reverse=True)
