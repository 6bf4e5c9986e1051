"""What the ranked feed learns from the tables' streams (functions/feed_signals), so that a feed page reads
small items and never scans history:
- affinity: a like, a comment, a DM sent, a profile visit adds its weight to the viewer's affinity item
  for the author (decayed exponentially, half-life a setting);
- recent posts: an author's post published or deleted changes their recent-posts item (every copy); a
  celebrity's counts follow the post's, rewritten only when the log-scaled count moves a step (about 10%), so
  a million likes cost ~150 writes of each copy, not a million. Other authors' items are never read by a
  feed (their posts are pushed and hydrated from the post), so their counts are not kept: an author who
  becomes a celebrity has them refreshed by the next step of each post.

Each function takes a record's event name and its two images as plain dicts (the consumer deserialises
them); a record that is none of these is ignored. Redelivery of a like or a message adds its weight again
(an affinity is a ranking signal, not a count: docs/DATA_MODEL.md, "Ranking")."""

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pinhole.feed.dal import FeedRepository
from pinhole.feed.ranking_dal import AffinityStore, RecentPost, RecentPostsStore
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import PostKind
from pinhole.shared.settings import FeedRankingSettings, get_settings
from pinhole.social.dal import COMMENT, LIKE, VISIT

PUBLISHED = "published"
ENGAGEMENT_STEP = 1.1
"""Counts are rewritten in the recent-posts item when log base 1.1 of (count + 1) reaches a new integer."""

Image = Mapping[str, Any]


def engagement_step(like_count: int, comment_count: int) -> tuple[int, int]:
    return (
        math.floor(math.log(like_count + 1, ENGAGEMENT_STEP)),
        math.floor(math.log(comment_count + 1, ENGAGEMENT_STEP)),
    )


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


class FeedSignals:
    def __init__(
        self,
        affinity: AffinityStore | None = None,
        recent: RecentPostsStore | None = None,
        posts: PostRepository | None = None,
        weights: FeedRankingSettings | None = None,
        feeds: FeedRepository | None = None,
    ) -> None:
        self.affinity = affinity or AffinityStore()
        self.recent = recent or RecentPostsStore()
        self.posts = posts or PostRepository()
        self.feeds = feeds or FeedRepository()
        self.weights = weights or get_settings().feed_ranking

    # -- the interactions table: likes, comments, profile visits --

    def interaction_changed(self, event_name: str, old: Image, new: Image) -> None:
        sk = str(new.get("sk", ""))
        if event_name == "INSERT" and sk.startswith(LIKE):
            self._engaged_with_post(str(new["user_id"]), str(new["post_id"]), self.weights.like_affinity, new)
        elif event_name == "INSERT" and sk.startswith(COMMENT):
            self._engaged_with_post(str(new["author_id"]), str(new["post_id"]), self.weights.comment_affinity, new)
        elif sk.startswith(VISIT) and new.get("visited_at") != old.get("visited_at"):
            viewer, author = str(new["user_id"]), sk.removeprefix(VISIT)
            if viewer != author:
                self.affinity.add(viewer, author, self.weights.visit_affinity, _moment(new["visited_at"]))

    def _engaged_with_post(self, viewer_id: str, post_id: str, weight: float, item: Image) -> None:
        post = self.posts.get_many([post_id]).get(post_id)
        if post is None or post.author_id == viewer_id:
            return  # deleted since, or one's own post
        self.affinity.add(viewer_id, post.author_id, weight, _moment(item.get("created_at") or datetime.now(UTC)))

    # -- the messages table: a DM sent (the sender's inbox entry takes the new message) --

    def inbox_changed(self, event_name: str, old: Image, new: Image) -> None:
        if event_name == "REMOVE" or not str(new.get("sk", "")).startswith("conv#"):
            return
        owner, other = new.get("user_id"), new.get("with_id")
        message_id = new.get("last_message_id")
        if not owner or not other or not message_id or message_id == old.get("last_message_id"):
            return  # read marks and other changes of the entry
        if new.get("last_sender_id") == owner:
            sent_at = _moment(new.get("last_created_at") or datetime.now(UTC))
            self.affinity.add(str(owner), str(other), self.weights.message_affinity, sent_at)

    # -- the posts table: the author's recent posts --

    def post_changed(self, event_name: str, old: Image, new: Image) -> None:
        if new.get("kind", PostKind.POST) == PostKind.STORY or old.get("kind", PostKind.POST) == PostKind.STORY:
            return
        if new.get("status") == PUBLISHED and old.get("status") != PUBLISHED:
            created = _moment(new["created_at"]).timestamp()
            post = RecentPost(
                str(new["post_id"]), created, int(new.get("like_count", 0)), int(new.get("comment_count", 0))
            )
            self.recent.published(str(new["author_id"]), post)
        elif old.get("status") == PUBLISHED and (event_name == "REMOVE" or new.get("status") != PUBLISHED):
            self.recent.removed(str(old["author_id"]), str(old["post_id"]))  # deleted, or taken down
        elif event_name == "MODIFY" and new.get("status") == PUBLISHED:
            before = engagement_step(int(old.get("like_count", 0)), int(old.get("comment_count", 0)))
            after = engagement_step(int(new.get("like_count", 0)), int(new.get("comment_count", 0)))
            if before != after and self.feeds.is_celebrity(str(new["author_id"])):
                self.recent.engaged(
                    str(new["author_id"]),
                    str(new["post_id"]),
                    int(new.get("like_count", 0)),
                    int(new.get("comment_count", 0)),
                )
