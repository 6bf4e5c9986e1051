"""The contracts of the home feed: its page (API.md "Next wave", Home feed), the order, the explanation of a
ranked item, and the impressions a client reports."""

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pinhole.posts.models import Post

SEEN_PER_REQUEST_MAX = 50


class FeedOrder(StrEnum):
    RANKED = "ranked"
    CHRONOLOGICAL = "chronological"


class ScoreExplanation(BaseModel):
    """The terms of the formula (docs/DATA_MODEL.md, "Ranking") for one item, as they were when its
    first page was ranked."""

    affinity: float = Field(description="The caller's decayed affinity for the author (before the log)")
    recency: float = Field(description="2^(-age / half-life), 1 for a post of now")
    engagement: float = Field(description="ln(1 + (likes + w·comments) per hour since publish)")
    own_post: float = Field(description="1 for the caller's own post")
    seen: bool = Field(description="Already seen (POST /feed/seen): ranked after every unseen post")
    diversity: float = Field(description="0.75·0.5ⁿ + 0.25 for the author's n-th post above it")


class Ranking(BaseModel):
    score: float
    parts: ScoreExplanation


class FeedPost(Post):
    ranking: Ranking | None = Field(
        default=None, description="With ?explain=true on a ranked feed: the item's score and its parts"
    )


class FeedPage(BaseModel):
    items: list[FeedPost]
    next_cursor: str | None
    caught_up: bool = Field(
        description="Ranked: every post of the last 48 hours was seen (POST /feed/seen) or shown on an earlier "
        "page, so this page goes on with older or seen posts. Chronological: this page starts past the last 48 hours"
    )


PostId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class SeenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    post_ids: list[PostId] = Field(min_length=1, max_length=SEEN_PER_REQUEST_MAX)
