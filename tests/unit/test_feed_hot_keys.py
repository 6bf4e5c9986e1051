"""k, the copies of a celebrity's recent-posts item, from the follower count (pinhole.feed.hot_keys): the
arithmetic of docs/SCALING.md, "Hot keys"."""

import math

import pytest

from pinhole.feed.hot_keys import recent_posts_copies, recent_posts_reads_per_s
from pinhole.shared.settings import FeedRankingSettings

SETTINGS = FeedRankingSettings()
PARTITION_RCU = 3000


def test_the_largest_account_of_the_production_model_takes_16_copies() -> None:
    # 333M followers: 333M × 4 / 86,400 × 3 = 46,250 reads/s = 23,125 RCU; / 1,500 a copy = 15.4 → 16
    assert recent_posts_reads_per_s(333_000_000, SETTINGS) == pytest.approx(46_250)
    assert recent_posts_copies(333_000_000, SETTINGS) == 16


@pytest.mark.parametrize("followers", [0, 1, 300_000, 1_000_000, 21_600_000])
def test_accounts_up_to_21_6m_followers_keep_one_copy(followers: int) -> None:
    assert recent_posts_copies(followers, SETTINGS) == 1


@pytest.mark.parametrize(("followers", "copies"), [(21_600_001, 2), (43_200_000, 2), (43_200_001, 4), (10**9, 64)])
def test_copies_double_when_the_follower_count_doubles(followers: int, copies: int) -> None:
    assert recent_posts_copies(followers, SETTINGS) == copies


def test_no_copy_takes_more_than_its_budget_up_to_the_maximum() -> None:
    for followers in (10**5, 3 * 10**6, 3 * 10**7, 10**8, 3 * 10**8, 8 * 10**8):
        copies = recent_posts_copies(followers, SETTINGS)
        rcu_per_copy = recent_posts_reads_per_s(followers, SETTINGS) * 0.5 / copies
        assert rcu_per_copy <= SETTINGS.recent_posts_rcu_per_copy < PARTITION_RCU
        assert copies == 1 or rcu_per_copy * 2 > SETTINGS.recent_posts_rcu_per_copy  # half as many would not do
        assert copies & (copies - 1) == 0


def test_the_maximum_caps_k_and_a_smaller_budget_raises_it() -> None:
    assert recent_posts_copies(10**10, SETTINGS) == SETTINGS.recent_posts_max_copies
    tight = FeedRankingSettings(recent_posts_rcu_per_copy=100, recent_posts_max_copies=8)
    assert recent_posts_copies(10**7, tight) == 8  # ⌈10⁷ × 4 / 86,400 × 3 × 0.5 / 100⌉ = 7 → 8
    assert recent_posts_copies(10**6, tight) == 1 << (math.ceil(10**6 * 4 / 86_400 * 3 * 0.5 / 100) - 1).bit_length()
