"""The ranked feed's formula (pinhole.feed.ranking): each term, the diversity rule, the caught-up sections."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from pinhole.feed.ranking import (
    Candidate,
    ViewerSignals,
    chronological,
    decayed,
    diversity_multiplier,
    engagement_rate,
    rank,
    score_parts,
)
from pinhole.shared.settings import FeedRankingSettings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WEIGHTS = FeedRankingSettings()
VIEWER = "viewer"


def post(post_id: str, author: str, hours_ago: float = 1.0, likes: int = 0, comments: int = 0) -> Candidate:
    return Candidate(post_id, author, NOW - timedelta(hours=hours_ago), likes, comments)


def order(candidates: list[Candidate], signals: ViewerSignals | None = None, **weights: float) -> list[str]:
    settings = WEIGHTS.model_copy(update=weights)
    return rank(candidates, VIEWER, signals or ViewerSignals(), NOW, settings).post_ids


def test_decay_halves_the_value_every_half_life() -> None:
    assert decayed(8.0, 0, 10) == 8.0
    assert decayed(8.0, 10, 10) == pytest.approx(4.0)
    assert decayed(8.0, 30, 10) == pytest.approx(1.0)


def test_engagement_is_log_scaled_per_hour_with_comments_weighted() -> None:
    # 2 hours, 10 likes and 5 comments weighted 2: (10 + 10) / 2 = 10 an hour
    assert engagement_rate(10, 5, 7200, comment_weight=2.0) == pytest.approx(math.log1p(10))
    # a post younger than an hour counts as an hour old (no division blow-up)
    assert engagement_rate(3, 0, 60, comment_weight=2.0) == pytest.approx(math.log1p(3))
    assert engagement_rate(0, 0, 3600, comment_weight=2.0) == 0.0


def test_score_parts_name_each_term() -> None:
    signals = ViewerSignals(affinities={"friend": 3.0}, seen=frozenset({"p1"}))
    parts = score_parts(post("p1", "friend", hours_ago=24, likes=48), VIEWER, signals, NOW, WEIGHTS)
    assert parts.affinity == 3.0
    assert parts.recency == pytest.approx(0.5)  # one half-life (24 h) old
    assert parts.engagement == pytest.approx(math.log1p(2))  # 48 likes in 24 hours
    assert parts.own_post == 0.0 and parts.seen is True
    expected = math.log1p(3.0) + 0.5 + 0.3 * math.log1p(2)
    assert parts.score(WEIGHTS) == pytest.approx(expected)


def test_a_friend_the_viewer_interacts_with_rises_above_newer_posts() -> None:
    candidates = [post("a", "stranger", hours_ago=1), post("b", "friend", hours_ago=5)]
    assert order(candidates) == ["a", "b"]
    assert order(candidates, ViewerSignals(affinities={"friend": 5.0})) == ["b", "a"]


def test_engagement_lifts_a_post_and_the_weight_controls_how_much() -> None:
    candidates = [post("quiet", "x", hours_ago=2), post("viral", "y", hours_ago=3, likes=500)]
    assert order(candidates) == ["viral", "quiet"]
    assert order(candidates, engagement=0.0) == ["quiet", "viral"]


def test_own_posts_get_their_bonus() -> None:
    candidates = [post("mine", VIEWER, hours_ago=6), post("theirs", "x", hours_ago=1)]
    assert order(candidates) == ["mine", "theirs"]
    assert order(candidates, own_post=0.0) == ["theirs", "mine"]


def test_diversity_multiplier_is_the_home_mixers() -> None:
    assert [diversity_multiplier(n, WEIGHTS) for n in range(4)] == pytest.approx([1.0, 0.625, 0.4375, 0.34375])


def test_one_authors_posts_are_not_shown_back_to_back() -> None:
    prolific = [post(f"p{index}", "prolific", hours_ago=1 + index * 0.1) for index in range(3)]
    others = [post("o1", "other1", hours_ago=4), post("o2", "other2", hours_ago=5)]
    ranked = order([*prolific, *others])
    assert ranked[0] == "p0"
    authors = ["prolific" if post_id.startswith("p") else "other" for post_id in ranked]
    assert authors[:2] != ["prolific", "prolific"]


def test_seen_posts_sink_below_every_unseen_one_and_the_first_section_is_the_unseen_recent() -> None:
    candidates = [post("seen-new", "friend", hours_ago=1), post("unseen", "x", hours_ago=30)]
    candidates.append(post("unseen-old", "x", hours_ago=24 * 20))
    signals = ViewerSignals(affinities={"friend": 50.0}, seen=frozenset({"seen-new"}))
    ranking = rank(candidates, VIEWER, signals, NOW, WEIGHTS)
    assert ranking.post_ids == ["unseen", "unseen-old", "seen-new"]
    assert ranking.unseen_recent == 1


def test_older_posts_follow_the_unseen_recent_ones_whatever_their_score() -> None:
    candidates = [post("old-viral", "x", hours_ago=72, likes=100_000), post("fresh", "y", hours_ago=47)]
    ranking = rank(candidates, VIEWER, ViewerSignals(), NOW, WEIGHTS)
    assert ranking.post_ids == ["fresh", "old-viral"]
    assert ranking.unseen_recent == 1


def test_everything_seen_means_caught_up_from_the_start() -> None:
    candidates = [post("a", "x"), post("b", "y")]
    ranking = rank(candidates, VIEWER, ViewerSignals(seen=frozenset({"a", "b"})), NOW, WEIGHTS)
    assert ranking.unseen_recent == 0 and sorted(ranking.post_ids) == ["a", "b"]


def test_duplicate_candidates_rank_once_and_ties_go_to_the_newer_post() -> None:
    same = [post("01B", "x", hours_ago=2), post("01A", "y", hours_ago=2), post("01B", "x", hours_ago=2)]
    assert order(same) == ["01B", "01A"]
    assert chronological(same) == ["01B", "01A"]


def test_weights_come_from_settings_with_bounds() -> None:
    with pytest.raises(ValueError, match="diversity_floor"):
        FeedRankingSettings(diversity_floor=2.0)
    assert FeedRankingSettings.model_validate_json('{"affinity": 2}').affinity == 2.0
