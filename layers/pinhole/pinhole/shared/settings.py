"""Runtime configuration: one model, read from the environment once.

The CDK function factory (`stacks/function_factory.py`) gives every function the same variables,
and the local cloud takes them from the synthesized template, so these names are a contract.
"""

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, Json, PositiveInt


class RateLimit(BaseModel):
    """At most `limit` writes of one kind per user (per account for log-ins, per source address for sign-ups) in
    each window of `per_seconds`."""

    model_config = ConfigDict(frozen=True)

    limit: PositiveInt
    per_seconds: PositiveInt


DEFAULT_RATE_LIMITS = {
    "post": RateLimit(limit=30, per_seconds=3600),
    "story": RateLimit(limit=50, per_seconds=3600),
    "comment": RateLimit(limit=60, per_seconds=300),
    "like": RateLimit(limit=300, per_seconds=300),
    "follow": RateLimit(limit=100, per_seconds=3600),
    "message": RateLimit(limit=60, per_seconds=60),
    # reports filed by one user (docs/SECURITY.md, "Abuse of reports")
    "report": RateLimit(limit=20, per_seconds=3600),
    # typing notices per person and conversation: clients send one per keystroke burst, others hear one
    "typing": RateLimit(limit=1, per_seconds=3),
    # failed log-ins into one account from one source address (docs/SECURITY.md, "Log-in guessing")
    "login_failures_per_source": RateLimit(limit=5, per_seconds=900),
    # failed log-ins into one account from anywhere: past this the account is under attack, and sources it
    # was never logged into from are slowed to `login_pace_under_attack`
    "login_failures_per_account": RateLimit(limit=20, per_seconds=900),
    "login_pace_under_attack": RateLimit(limit=1, per_seconds=60),
    # sign-up attempts per source address (an IPv6 /64): a script's account farm, not a family or a campus
    # behind one NAT (docs/SECURITY.md, API6)
    "signup": RateLimit(limit=20, per_seconds=3600),
    # accounts (issue 14): codes and passwords per account, and per source address where no account is known
    "avatar": RateLimit(limit=20, per_seconds=3600),
    "password_change": RateLimit(limit=10, per_seconds=3600),
    "password_check": RateLimit(limit=10, per_seconds=300),
    "password_forgot": RateLimit(limit=5, per_seconds=3600),
    "password_forgot_source": RateLimit(limit=20, per_seconds=3600),
    "password_reset": RateLimit(limit=10, per_seconds=900),
    "password_reset_source": RateLimit(limit=30, per_seconds=900),
    "verify_email": RateLimit(limit=10, per_seconds=900),
    "verify_email_send": RateLimit(limit=5, per_seconds=3600),
    "totp": RateLimit(limit=10, per_seconds=300),
    "totp_source": RateLimit(limit=30, per_seconds=300),
    # log-ins with a recovery code per account and source network (never per account alone: a lock-out of the owner)
    "recovery_login": RateLimit(limit=10, per_seconds=3600),
    # privacy (issue 14): one data export a day (GDPR Art. 20 lets a controller refuse excessive requests)
    "export": RateLimit(limit=1, per_seconds=86400),
}


class FeedRankingSettings(BaseModel):
    """The ranked feed's weights and constants (cdk.json's `feed_ranking`; the formula: pinhole.feed.ranking,
    why these values: docs/DATA_MODEL.md, "Ranking")."""

    model_config = ConfigDict(frozen=True)

    affinity: float = Field(default=1.0, ge=0)
    recency: float = Field(default=1.0, ge=0)
    engagement: float = Field(default=0.3, ge=0)
    own_post: float = Field(default=0.5, ge=0)
    comment_weight: float = Field(default=2.0, ge=0)
    recency_half_life_hours: float = Field(default=24.0, gt=0)
    affinity_half_life_days: float = Field(default=14.0, gt=0)
    # affinity added by one interaction with the author
    like_affinity: float = Field(default=1.0, ge=0)
    comment_affinity: float = Field(default=2.0, ge=0)
    message_affinity: float = Field(default=3.0, ge=0)
    visit_affinity: float = Field(default=0.5, ge=0)
    diversity_decay: float = Field(default=0.5, gt=0, le=1)
    diversity_floor: float = Field(default=0.25, ge=0, le=1)
    caught_up_window_hours: float = Field(default=48.0, gt=0)
    candidates: int = Field(default=500, gt=0, le=1000)
    snapshot_ttl_s: int = Field(default=3600, gt=0)
    # a first page within this long of the caller's last one reuses the standings that one read (docs/DATA_MODEL.md)
    standings_reuse_s: float = Field(default=300.0, ge=0)
    recent_posts_per_author: int = Field(default=10, gt=0, le=100)
    # copies k of a celebrity's recent-posts item, each read at random, from the follower count
    # (pinhole.feed.hot_keys; the arithmetic: docs/SCALING.md, "Hot keys"): first pages a follower reads a day
    # (share of followers active a day × sessions each), the peak over the day's mean, and the RCU a copy may
    # take (a partition's 3,000 with headroom)
    recent_posts_reads_per_follower_day: float = Field(default=4.0, gt=0)
    recent_posts_peak_factor: float = Field(default=3.0, ge=1)
    recent_posts_rcu_per_copy: float = Field(default=1500.0, gt=0, le=3000)
    recent_posts_max_copies: int = Field(default=64, gt=0, le=256)
    # how long a function keeps a celebrity's recent-posts item in memory
    recent_posts_cache_s: float = Field(default=10.0, ge=0)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    region: str = Field(default="us-east-1", alias="AWS_REGION")
    users_table_name: str = Field(alias="USERS_TABLE_NAME")
    user_pool_id: str = Field(alias="USER_POOL_ID")
    user_pool_client_id: str = Field(alias="USER_POOL_CLIENT_ID")
    posts_table_name: str = Field(alias="POSTS_TABLE_NAME")
    graph_table_name: str = Field(alias="GRAPH_TABLE_NAME")
    interactions_table_name: str = Field(alias="INTERACTIONS_TABLE_NAME")
    feeds_table_name: str = Field(alias="FEEDS_TABLE_NAME")
    fanout_queue_url: str = Field(alias="FANOUT_QUEUE_URL")
    # docs/SCALING.md: the cheapest threshold that keeps p99 feed reads within budget on a 1M-user graph
    celebrity_threshold: int = Field(default=300_000, alias="CELEBRITY_THRESHOLD", gt=0)
    feed_cap: int = Field(default=800, alias="FEED_CAP", gt=0)
    uploads_bucket_name: str = Field(alias="UPLOADS_BUCKET_NAME")
    media_bucket_name: str = Field(alias="MEDIA_BUCKET_NAME")
    media_base_url: str = Field(alias="MEDIA_BASE_URL")
    media_distribution_id: str = Field(alias="MEDIA_DISTRIBUTION_ID")
    message_media_bucket_name: str = Field(alias="MESSAGE_MEDIA_BUCKET_NAME")
    media_invalidations_queue_url: str = Field(alias="MEDIA_INVALIDATIONS_QUEUE_URL")
    cursor_secret_arn: str = Field(alias="CURSOR_SECRET_ARN")
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME")
    messages_table_name: str = Field(alias="MESSAGES_TABLE_NAME")
    connections_table_name: str = Field(alias="CONNECTIONS_TABLE_NAME")
    notifications_table_name: str = Field(alias="NOTIFICATIONS_TABLE_NAME")
    notifications_queue_url: str = Field(alias="NOTIFICATIONS_QUEUE_URL")
    transcode_queue_url: str = Field(alias="TRANSCODE_QUEUE_URL")
    rate_limits_table_name: str = Field(alias="RATE_LIMITS_TABLE_NAME")
    search_table_name: str = Field(alias="SEARCH_TABLE_NAME")
    # {"message": {"limit": 60, "per_seconds": 60}, ...}; cdk.json's `rate_limits`, over these defaults
    rate_limits: Json[dict[str, RateLimit]] = Field(default=DEFAULT_RATE_LIMITS, alias="RATE_LIMITS")
    websocket_callback_url: str = Field(alias="WEBSOCKET_CALLBACK_URL")
    # given to the feed's functions only (Lambda's 4 KB of variables): cdk.json's `feed_ranking`
    feed_ranking: Json[FeedRankingSettings] = Field(default=FeedRankingSettings(), alias="FEED_RANKING")
    moderation_table_name: str = Field(alias="MODERATION_TABLE_NAME")
    # context `image_moderation`: the resize worker asks Rekognition about every image (docs/SECURITY.md)
    image_moderation: bool = Field(default=False, alias="IMAGE_MODERATION")
    # context `image_moderation_min_confidence`: a label this sure (0-100) holds the post for review
    image_moderation_min_confidence: float = Field(default=80.0, alias="IMAGE_MODERATION_MIN_CONFIDENCE", ge=0, le=100)
    # likes (or comments) on one post within this many seconds become one notification (context
    # `notification_group_window_minutes`)
    notification_group_window_s: int = Field(default=86_400, alias="NOTIFICATION_GROUP_WINDOW_S", gt=0)
    # the queue of pushes to phones; the SNS platform application of each platform with credentials
    # ({"apns": arn, "fcm": arn}; none: push is off)
    push_queue_url: str = Field(default="", alias="PUSH_QUEUE_URL")
    push_platform_applications: Json[dict[str, str]] = Field(default_factory=dict, alias="PUSH_PLATFORM_APPLICATIONS")
    # privacy (issue 14): deletion and export jobs, their queues, and cdk.json's `account_deletion_grace_days`
    privacy_table_name: str = Field(alias="PRIVACY_TABLE_NAME")
    purge_queue_url: str = Field(alias="PURGE_QUEUE_URL")
    export_queue_url: str = Field(alias="EXPORT_QUEUE_URL")
    account_deletion_grace_days: int = Field(default=30, alias="ACCOUNT_DELETION_GRACE_DAYS", ge=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
