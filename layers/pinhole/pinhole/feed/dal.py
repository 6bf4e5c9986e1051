"""Persistence of precomputed feeds. PynamoDB objects never leave this module.

One partition per user holds that user's feed state:
    sk = post#<post_id>     an entry pushed by the fan-out (author_id; expires_at for TTL)
    sk = story#<story_id>   a story pushed by the fan-out (author_id; expires_at = the story's own)
    sk = celeb#<user_id>    a followed celebrity, whose posts are pulled at read time; copies = the k copies of
                            their recent-posts item a reader picks among (pinhole.feed.hot_keys)
    sk = status#celebrity   present while the user *is* a celebrity (their posts are not pushed); copies = the
                            k their followers' edges were last given

Entries sort by post_id (story_id), a ULID, so a feed reads newest first with ScanIndexForward=False and a page
boundary (a post_id) stays put while newer posts arrive."""

import random
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.models import Model

from pinhole.shared import aws_clients
from pinhole.shared.clock import utc_now
from pinhole.shared.ids import first_id_at
from pinhole.shared.raw_items import RawItem, query_raw
from pinhole.shared.settings import get_settings
from pinhole.stories.models import STORY_LIFETIME

_settings = get_settings()

ENTRY = "post#"
STORY_ENTRY = "story#"
_AFTER_EVERY_ID = "~"  # sorts after every ULID character
CELEBRITY_FOLLOWED = "celeb#"
CELEBRITY_STATUS = "status#celebrity"
ENTRY_LIFETIME = timedelta(days=30)
BATCH_WRITE_MAX = 25  # DynamoDB refuses more (moto accepts 26: the limit is enforced here)
WRITE_PARALLELISM = 8
MAX_WRITE_ATTEMPTS = 8


class FeedModel(Model):
    class Meta:
        table_name = _settings.feeds_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    user_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    author_id = UnicodeAttribute(null=True)
    follower_count = NumberAttribute(null=True)
    copies = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


@dataclass(frozen=True)
class FeedEntry:
    post_id: str
    author_id: str


@dataclass(frozen=True)
class StoryEntry:
    story_id: str
    author_id: str
    expires_at: datetime


@dataclass
class WriteReport:
    """What delivering a batch of feed writes cost: requests sent, and how many were retries."""

    requests: int = 0
    retries: int = 0

    def add(self, other: "WriteReport") -> None:
        self.requests += other.requests
        self.retries += other.retries


def entry_key(post_id: str) -> str:
    return f"{ENTRY}{post_id}"


def _put(user_id: str, post_id: str, author_id: str, expires_at: int) -> dict[str, Any]:
    item = {
        "user_id": {"S": user_id},
        "sk": {"S": entry_key(post_id)},
        "author_id": {"S": author_id},
        "expires_at": {"N": str(expires_at)},
    }
    return {"PutRequest": {"Item": item}}


def story_key(story_id: str) -> str:
    return f"{STORY_ENTRY}{story_id}"


def _put_story(user_id: str, entry: StoryEntry) -> dict[str, Any]:
    item = {
        "user_id": {"S": user_id},
        "sk": {"S": story_key(entry.story_id)},
        "author_id": {"S": entry.author_id},
        "expires_at": {"N": str(int(entry.expires_at.timestamp()))},
    }
    return {"PutRequest": {"Item": item}}


def _text(item: RawItem, name: str) -> str:
    value = item.get(name)
    return str(value["S"]) if value else ""


def _delete(user_id: str, sk: str) -> dict[str, Any]:
    return {"DeleteRequest": {"Key": {"user_id": {"S": user_id}, "sk": {"S": sk}}}}


class FeedRepository:
    def __init__(self, client: Any = None, sleep: Any = time.sleep) -> None:
        self._client = client
        self._sleep = sleep

    @property
    def client(self) -> Any:
        if self._client is None:  # made on first write, not at import: feed_read never writes through it
            self._client = aws_clients.client("dynamodb", region_name=_settings.region)
        return self._client

    # -- writes, batched 25 at a time, several batches in flight, unprocessed items retried --

    def _write_batch(self, requests: list[dict[str, Any]]) -> WriteReport:
        report = WriteReport()
        pending = requests
        for attempt in range(MAX_WRITE_ATTEMPTS):
            report.requests += 1
            report.retries += attempt > 0
            response = self.client.batch_write_item(RequestItems={_settings.feeds_table_name: pending})
            pending = response.get("UnprocessedItems", {}).get(_settings.feeds_table_name, [])
            if not pending:
                return report
            # Exponential backoff with full jitter, as DynamoDB asks of throttled writers.
            self._sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not security
        raise RuntimeError(f"{len(pending)} feed writes still unprocessed after {MAX_WRITE_ATTEMPTS} attempts")

    def write(self, requests: list[dict[str, Any]]) -> WriteReport:
        batches = [requests[i : i + BATCH_WRITE_MAX] for i in range(0, len(requests), BATCH_WRITE_MAX)]
        report = WriteReport()
        if len(batches) == 1:
            report.add(self._write_batch(batches[0]))
            return report
        with ThreadPoolExecutor(max_workers=WRITE_PARALLELISM) as pool:
            for batch_report in pool.map(self._write_batch, batches):
                report.add(batch_report)
        return report

    def push(self, post_id: str, author_id: str, user_ids: Iterable[str]) -> WriteReport:
        expires_at = int((utc_now() + ENTRY_LIFETIME).timestamp())
        return self.write([_put(user_id, post_id, author_id, expires_at) for user_id in user_ids])

    def retract(self, post_id: str, user_ids: Iterable[str]) -> WriteReport:
        return self.write([_delete(user_id, entry_key(post_id)) for user_id in user_ids])

    def push_entries(self, user_id: str, entries: Iterable[FeedEntry]) -> WriteReport:
        expires_at = int((utc_now() + ENTRY_LIFETIME).timestamp())
        return self.write([_put(user_id, e.post_id, e.author_id, expires_at) for e in entries])

    def remove_author(self, user_id: str, author_id: str) -> WriteReport:
        """Drops every entry of one author, posts and stories, from one feed (after an unfollow)."""
        keys = [
            item.sk
            for prefix in (ENTRY, STORY_ENTRY)
            for item in FeedModel.query(
                user_id,
                FeedModel.sk.startswith(prefix),
                filter_condition=FeedModel.author_id == author_id,
                attributes_to_get=["user_id", "sk"],
            )
        ]
        return self.write([_delete(user_id, sk) for sk in keys])

    def push_story(self, entry: StoryEntry, user_ids: Iterable[str]) -> WriteReport:
        """The story into these feeds, each copy expiring with the story itself (TTL: no delete to pay)."""
        return self.write([_put_story(user_id, entry) for user_id in user_ids])

    def push_story_entries(self, user_id: str, entries: Iterable[StoryEntry]) -> WriteReport:
        return self.write([_put_story(user_id, entry) for entry in entries])

    def trim(self, user_id: str, keep: int) -> WriteReport:
        """Keeps the newest `keep` entries of a feed and deletes the rest."""
        entries = FeedModel.query(
            user_id, FeedModel.sk.startswith(ENTRY), scan_index_forward=False, attributes_to_get=["user_id", "sk"]
        )
        surplus = [item.sk for index, item in enumerate(entries) if index >= keep]
        return self.write([_delete(user_id, sk) for sk in surplus])

    # -- celebrities --

    def follow_celebrity(self, user_ids: Iterable[str], celebrity_id: str, copies: int = 1) -> WriteReport:
        """The edges that make these users' feeds pull the celebrity's posts, naming the k copies to pick among
        (put again with a larger k when the celebrity's item grows)."""
        sk = f"{CELEBRITY_FOLLOWED}{celebrity_id}"
        return self.write(
            [
                {"PutRequest": {"Item": {"user_id": {"S": u}, "sk": {"S": sk}, "copies": {"N": str(copies)}}}}
                for u in user_ids
            ]
        )

    def unfollow_celebrity(self, user_ids: Iterable[str], celebrity_id: str) -> WriteReport:
        return self.write([_delete(u, f"{CELEBRITY_FOLLOWED}{celebrity_id}") for u in user_ids])

    def followed_celebrities(self, user_id: str) -> dict[str, int]:
        """The celebrities the user follows, each with the k copies of their recent-posts item (1 on an edge
        written before k was kept: copy 0 always exists). Read raw (every feed page reads them all)."""
        edges = query_raw(FeedModel, user_id, FeedModel.sk.startswith(CELEBRITY_FOLLOWED), None, ["sk", "copies"])
        return {
            edge["sk"]["S"].removeprefix(CELEBRITY_FOLLOWED): (int(edge["copies"]["N"]) if "copies" in edge else 0) or 1
            for edge in edges
        }

    def is_celebrity(self, user_id: str) -> bool:
        return FeedModel.count(user_id, FeedModel.sk == CELEBRITY_STATUS, consistent_read=True) > 0

    def celebrity_copies(self, user_id: str) -> int | None:
        """The k a new follower's edge is given; None if the user is not a celebrity."""
        found = list(FeedModel.query(user_id, FeedModel.sk == CELEBRITY_STATUS, consistent_read=True))
        return int(found[0].copies or 1) if found else None

    def mark_celebrity(self, user_id: str, follower_count: int, copies: int = 1) -> bool:
        """Records that the user became a celebrity; False if already recorded (another delivery won)."""
        try:
            FeedModel(user_id=user_id, sk=CELEBRITY_STATUS, follower_count=follower_count, copies=copies).save(
                condition=FeedModel.sk.does_not_exist()
            )
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def raise_celebrity_copies(self, user_id: str, follower_count: int, copies: int) -> bool:
        """Raises the celebrity's k to `copies`; False if not a celebrity or k is already that high (another
        delivery won), so only one delivery rewrites the followers' edges."""
        try:
            FeedModel(user_id=user_id, sk=CELEBRITY_STATUS).update(
                actions=[FeedModel.copies.set(copies), FeedModel.follower_count.set(follower_count)],
                condition=FeedModel.sk.exists() & (FeedModel.copies.does_not_exist() | (FeedModel.copies < copies)),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def unmark_celebrity(self, user_id: str) -> bool:
        try:
            FeedModel(user_id=user_id, sk=CELEBRITY_STATUS).delete(condition=FeedModel.sk.exists())
        except DeleteError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- reads --

    def live_stories(self, user_id: str, now: datetime, limit: int) -> list[StoryEntry]:
        """Pushed stories not expired at `now`, newest first, at most `limit`: one Query page (~100 B an
        entry), bounded below by the oldest id a live story can have. The TTL lags: expiry is checked here."""
        oldest = first_id_at(now - STORY_LIFETIME)
        condition = FeedModel.sk.between(story_key(oldest), story_key(_AFTER_EVERY_ID))
        entries = [
            StoryEntry(item.sk.removeprefix(STORY_ENTRY), item.author_id or "", item.expires_at)
            for item in FeedModel.query(user_id, condition, scan_index_forward=False, limit=limit)
            if item.expires_at is not None
        ]
        return [entry for entry in entries if entry.expires_at > now]

    def page(self, user_id: str, before: str | None, limit: int) -> tuple[list[FeedEntry], bool]:
        """Pushed entries older than `before` (a post_id), newest first; and whether more exist. Raw items (a
        ranked first page reads 500: no model each)."""
        condition = FeedModel.sk.between(ENTRY, entry_key(before)) if before else FeedModel.sk.startswith(ENTRY)
        results = query_raw(FeedModel, user_id, condition, limit + 2, ["sk", "author_id"], scan_index_forward=False)
        entries = [FeedEntry(item["sk"]["S"].removeprefix(ENTRY), _text(item, "author_id")) for item in results]
        entries = [entry for entry in entries if entry.post_id != before]
        return entries[:limit], len(entries) > limit
