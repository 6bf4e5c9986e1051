"""The push half of the hybrid feed: what `feed_fanout` does when a post or a story is published, a
post deleted, someone follows or unfollows, or an author crosses the celebrity threshold (or, as a
celebrity, a follower count that calls for more copies of their recent-posts item: pinhole.feed.hot_keys).

A post of an author below the threshold is written into every follower's feed (and the author's
own); above it, nothing is pushed and readers pull the author's recent posts instead. Every write
here is idempotent (a put or delete of a fixed key), so redelivered events change nothing.

Stories go the same way, with entries that expire with the story (TTL): nothing is retracted when a
story expires, and the stories feed checks expiry itself since TTL deletion lags."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import boto3

from pinhole.feed.dal import FeedEntry, FeedRepository, StoryEntry, WriteReport
from pinhole.feed.hot_keys import recent_posts_copies
from pinhole.feed.ranking_dal import RecentPostsStore
from pinhole.graph.dal import GraphRepository
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import PostStatus
from pinhole.shared.clock import utc_now
from pinhole.shared.observability import logger
from pinhole.shared.settings import get_settings
from pinhole.users.dal import ProfileRepository

INLINE_FOLLOWERS = 1000
"""Up to this many followers are written by the stream handler itself; more go out as SQS chunks
that workers deliver concurrently."""
CHUNK_FOLLOWERS = 1000
SQS_BATCH = 10
BACKFILL_POSTS = 20
"""How many recent posts of a newly followed account (or an ex-celebrity) land in a feed."""
BACKFILL_STORIES = 100
"""How many live stories of a newly followed account land in a feed (the stories feed shows no more)."""
LEAVE_RATIO = 0.9
"""A celebrity becomes pushed again only below 90% of the threshold, so an account hovering at
the threshold does not flip (each flip rewrites the state of every follower)."""
TRIM_ONE_IN = 50
"""Each delivery trims a feed back to the cap with probability 1/50: amortised, cheap, bounded."""
BACKFILL_AGAIN_AFTER_S = 10
"""A follow backfills at once and again this long after. Both the backfill (the author's posts) and a
post's fan-out (the author's followers) read a GSI, and a GSI lags the table (under a second on
DynamoDB): a post published in the moments around a follow is in neither, and would never reach the
new follower's feed. The second backfill, once the indexes have caught up, puts it there (puts are
idempotent; an unfollow meanwhile cancels it). tests/e2e/test_eventual_consistency.py shows the race."""

_feeds = FeedRepository()
_graph = GraphRepository()
_posts = PostRepository()
_profiles = ProfileRepository()
_recent = RecentPostsStore(cache_s=0)


def _trim_due(post_id: str, user_id: str, one_in: int) -> bool:
    digest = hashlib.blake2b(f"{post_id}:{user_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest) % one_in == 0


class FanOut:
    """The fan-out use cases, with their collaborators as parameters (tests pass their own)."""

    def __init__(
        self,
        feeds: FeedRepository = _feeds,
        graph: GraphRepository = _graph,
        posts: PostRepository = _posts,
        profiles: ProfileRepository = _profiles,
        sqs: Any = None,
        trim_one_in: int = TRIM_ONE_IN,
        recent: RecentPostsStore = _recent,
    ) -> None:
        self.feeds, self.graph, self.posts, self.profiles, self._sqs = feeds, graph, posts, profiles, sqs
        self.recent = recent
        self.trim_one_in = trim_one_in

    @property
    def sqs(self) -> Any:
        if self._sqs is None:  # made on the first fan-out large enough to be chunked, not at import
            self._sqs = boto3.client("sqs", region_name=get_settings().region)
        return self._sqs

    # -- posts --

    def post_published(self, post_id: str, author_id: str) -> WriteReport:
        report = self.feeds.push(post_id, author_id, [author_id])  # your own posts are in your feed
        if self.feeds.is_celebrity(author_id):
            logger.info("Celebrity post: pulled at read time, not pushed", extra={"post_id": post_id})
            return report
        report.add(self._to_followers("push", post_id, author_id))
        return report

    def story_published(self, story_id: str, author_id: str, expires_at: datetime) -> WriteReport:
        """Pushed like a post (a celebrity's is pulled), as entries that expire with the story."""
        report = self.feeds.push_story(StoryEntry(story_id, author_id, expires_at), [author_id])
        if self.feeds.is_celebrity(author_id):
            return report
        report.add(self._to_followers("push_story", story_id, author_id, expires_at=int(expires_at.timestamp())))
        return report

    def post_deleted(self, post_id: str, author_id: str) -> WriteReport:
        report = self.feeds.retract(post_id, [author_id])
        if not self.feeds.is_celebrity(author_id):
            # A celebrity's post was never pushed; older pushed copies are filtered at read time.
            report.add(self._to_followers("retract", post_id, author_id))
        return report

    def _to_followers(
        self,
        operation: str,
        post_id: str,
        author_id: str,
        expires_at: int | None = None,
        copies: int | None = None,
    ) -> WriteReport:
        followers = self.graph.all_follower_ids(author_id)
        if len(followers) <= INLINE_FOLLOWERS:
            return self.deliver(operation, post_id, author_id, followers, expires_at, copies)
        chunks = [followers[i : i + CHUNK_FOLLOWERS] for i in range(0, len(followers), CHUNK_FOLLOWERS)]
        optional = {"expires_at": expires_at, "copies": copies}
        extra = {key: value for key, value in optional.items() if value is not None}
        self._queue(
            [
                {"op": operation, "post_id": post_id, "author_id": author_id, "followers": chunk, **extra}
                for chunk in chunks
            ]
        )
        logger.info("Fan-out split into chunks", extra={"post_id": post_id, "chunks": len(chunks)})
        return WriteReport()

    def _queue(self, messages: list[dict[str, Any]], delay_s: int = 0) -> None:
        delay = {"DelaySeconds": delay_s} if delay_s else {}
        for start in range(0, len(messages), SQS_BATCH):
            entries = [
                {"Id": str(index), "MessageBody": json.dumps(message), **delay}
                for index, message in enumerate(messages[start : start + SQS_BATCH])
            ]
            response = self.sqs.send_message_batch(QueueUrl=get_settings().fanout_queue_url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"{len(response['Failed'])} fan-out messages could not be queued")

    def deliver(
        self,
        operation: str,
        post_id: str,
        author_id: str,
        followers: list[str],
        expires_at: int | None = None,
        copies: int | None = None,
    ) -> WriteReport:
        """One chunk: writes (or deletes) the post in these followers' feeds, then trims a few feeds; or
        writes a story (`expires_at`: its epoch second) in them; or the edges to a celebrity (`copies`: the k
        of their recent-posts item)."""
        if operation == "push":
            report = self.feeds.push(post_id, author_id, followers)
            for follower in followers:
                if _trim_due(post_id, follower, self.trim_one_in):
                    report.add(self.feeds.trim(follower, get_settings().feed_cap))
            return report
        if operation == "retract":
            return self.feeds.retract(post_id, followers)
        if operation == "push_story":
            if expires_at is None:
                raise ValueError("a story chunk must carry the story's expires_at")
            entry = StoryEntry(post_id, author_id, datetime.fromtimestamp(expires_at, UTC))
            return self.feeds.push_story(entry, followers)
        if operation == "follow_celebrity":
            return self.feeds.follow_celebrity(followers, author_id, copies or 1)
        if operation == "unfollow_celebrity":
            report = self.feeds.unfollow_celebrity(followers, author_id)
            for follower in followers:
                report.add(self._backfill(follower, author_id))
            return report
        if operation == "backfill":  # again, after a follow (BACKFILL_AGAIN_AFTER_S)
            report = WriteReport()
            for follower in followers:
                if self.graph.is_following(follower, author_id):
                    report.add(self._backfill(follower, author_id))
            return report
        raise ValueError(f"unknown fan-out operation {operation!r}")

    # -- the graph --

    def followed(self, follower_id: str, followee_id: str) -> WriteReport:
        copies = self.feeds.celebrity_copies(followee_id)
        if copies is not None:
            return self.feeds.follow_celebrity([follower_id], followee_id, copies)
        report = self._backfill(follower_id, followee_id)
        self._queue(
            [{"op": "backfill", "post_id": "", "author_id": followee_id, "followers": [follower_id]}],
            delay_s=BACKFILL_AGAIN_AFTER_S,
        )
        return report

    def unfollowed(self, follower_id: str, followee_id: str) -> WriteReport:
        report = self.feeds.unfollow_celebrity([follower_id], followee_id)
        report.add(self.feeds.remove_author(follower_id, followee_id))
        return report

    def _backfill(self, follower_id: str, author_id: str) -> WriteReport:
        recent, _ = self.posts.list_published_by(author_id, BACKFILL_POSTS, None)
        report = self.feeds.push_entries(follower_id, [FeedEntry(r.post_id, r.author_id) for r in recent])
        stories = self.posts.unexpired_stories(author_id, utc_now(), BACKFILL_STORIES)
        live = [
            StoryEntry(s.post_id, s.author_id, s.expires_at)
            for s in stories
            if s.status == PostStatus.PUBLISHED and s.expires_at  # only the author's tray shows the others
        ]
        report.add(self.feeds.push_story_entries(follower_id, live))
        return report

    # -- the threshold --

    def follower_count_changed(self, user_id: str, follower_count: int) -> WriteReport:
        """Crossing the threshold either way; and, above it, k growing with the follower count: the new copies
        are written first, then one delivery (the marker's condition) gives every follower's edge the new k.
        k never shrinks while the user stays a celebrity (pinhole.feed.hot_keys)."""
        settings = get_settings()
        threshold = settings.celebrity_threshold
        if follower_count >= threshold:
            copies = recent_posts_copies(follower_count, settings.feed_ranking)
            if copies > 1:
                self.recent.spread(user_id, copies)  # every copy exists before an edge names it
            if self.feeds.mark_celebrity(user_id, follower_count, copies):
                logger.info("Became a celebrity", extra={"user_id": user_id, "followers": follower_count})
                return self._to_followers("follow_celebrity", "", user_id, copies=copies)
            if copies > 1 and self.feeds.raise_celebrity_copies(user_id, follower_count, copies):
                logger.info("Recent posts in more copies", extra={"user_id": user_id, "copies": copies})
                return self._to_followers("follow_celebrity", "", user_id, copies=copies)
            return WriteReport()
        if follower_count < threshold * LEAVE_RATIO and self.feeds.unmark_celebrity(user_id):
            logger.info("No longer a celebrity", extra={"user_id": user_id, "followers": follower_count})
            return self._to_followers("unfollow_celebrity", "", user_id)
        return WriteReport()
