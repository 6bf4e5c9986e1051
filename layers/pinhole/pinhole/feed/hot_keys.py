"""How many copies k of an author's recent-posts item a celebrity needs so that no copy takes more read
capacity than its partition can serve (docs/SCALING.md, "Hot keys: a celebrity's recent-posts item").

Every follower's first page reads one copy, picked at random among k: a copy takes 1/k of the item's reads.

    reads/s of the item = followers × first pages a follower reads a day / 86,400 s × peak factor
    RCU/s of the item   = reads/s × 0.5         (an eventually consistent read of ≤ 4 KB)
    k                   = ⌈RCU/s / RCU a copy may take⌉, rounded up to a power of two, at most the maximum

Rounding to a power of two makes k change only when the follower count doubles, so an account hovering at a
boundary does not rewrite its followers' edges back and forth. k never shrinks while the author is a
celebrity (pinhole.feed.fanout): readers learn k from their follow edge, and a copy stops being written only
once no edge names it."""

import math

from pinhole.shared.settings import FeedRankingSettings

SECONDS_A_DAY = 86_400
RCU_PER_READ = 0.5  # eventually consistent, item ≤ 4 KB (the recent-posts item is ~1 KB)


def recent_posts_reads_per_s(follower_count: int, settings: FeedRankingSettings) -> float:
    """Reads a second of an author's recent-posts item at the day's peak."""
    daily = follower_count * settings.recent_posts_reads_per_follower_day
    return daily / SECONDS_A_DAY * settings.recent_posts_peak_factor


def recent_posts_copies(follower_count: int, settings: FeedRankingSettings) -> int:
    """k: the copies that keep each under `recent_posts_rcu_per_copy` at the peak (1 for most authors)."""
    rcu = recent_posts_reads_per_s(max(follower_count, 0), settings) * RCU_PER_READ
    needed = max(1, math.ceil(rcu / settings.recent_posts_rcu_per_copy))
    return min(1 << (needed - 1).bit_length(), settings.recent_posts_max_copies)
