"""Persistence of what the ranked feed reads: in the feeds table, beside the pushed entries (feed/dal.py).
PynamoDB objects never leave this module.

In the viewer's partition (user_id = viewer):
    sk = affinity#<author>     score (decayed to as_of), as_of (epoch s), version: kept by the interactions and
                               messaging streams (pinhole.feed.signals), never computed at read time
    sk = seen#@<yyyymmddhh>    the impressions reported in that hour (POST /feed/seen): `post_ids`, a string
                               set that each report ADDs to; expires_at = 30 days on. (`seen#<post_id>`, one
                               item per impression, was the format before: still read until it expires.)
    sk = snapshot#<id>         a first page's ranked list (zlib JSON), expires_at = 1 h on (TTL); later pages
                               read it and never rank again
In the author's partition (user_id = author):
    sk = recent#<copy>         the author's newest N published posts with times and engagement counts
                               (copies 0..k-1: each read of a celebrity's item picks one at random, so no one
                               item takes millions of readers; docs/SCALING.md, "Hot keys"); version; copy 0
                               also holds k (`copies`), which every change writes (pinhole.feed.hot_keys)
"""

import json
import random
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from pinhole.feed.ranking import Candidate, RankedPost, ScoreParts, accumulate, decayed
from pinhole.shared.clock import utc_now
from pinhole.shared.ids import first_id_at
from pinhole.shared.parallel import gather_dict
from pinhole.shared.raw_items import RawItem, batch_get_raw, query_raw
from pinhole.shared.settings import get_settings

_settings = get_settings()

AFFINITY = "affinity#"
SEEN = "seen#"
SEEN_HOUR = f"{SEEN}@"  # sorts after every `seen#<ULID>` of the old format (a ULID starts with a digit)
SNAPSHOT = "snapshot#"
RECENT = "recent#"
SEEN_LIFETIME = timedelta(days=30)
SEEN_READ_MAX = 20_000  # items: hours of impressions, or single ones of the format before (~20,000 in 1 MB)
AFFINITIES_READ_MAX = 10_000  # ~1 MB of affinity items: one Query page
MAX_CONDITIONAL_ATTEMPTS = 16


class FeedStateModel(Model):
    class Meta:
        table_name = _settings.feeds_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    user_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    score = NumberAttribute(null=True)
    as_of = NumberAttribute(null=True)
    posts = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    copies = NumberAttribute(null=True)
    data = BinaryAttribute(null=True, legacy_encoding=False)
    post_ids = UnicodeSetAttribute(null=True)
    expires_at = TTLAttribute(null=True)


def _number(item: RawItem, name: str, default: float) -> float:
    value = item.get(name)
    return float(value["N"]) if value else default


def _conditional_failure(error: PutError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


# -- affinity --


class AffinityStore:
    def __init__(self, half_life_days: float | None = None) -> None:
        self._half_life_s = (half_life_days or _settings.feed_ranking.affinity_half_life_days) * 86_400

    def add(self, viewer_id: str, author_id: str, weight: float, at: datetime) -> float:
        """Adds one interaction's weight to the viewer's affinity for the author, decaying what was there to
        `at` first; a conditional write, repeated if another interaction landed meanwhile. The new score."""
        sk = f"{AFFINITY}{author_id}"
        moment = at.timestamp()
        for _ in range(MAX_CONDITIONAL_ATTEMPTS):
            found = list(FeedStateModel.query(viewer_id, FeedStateModel.sk == sk, consistent_read=True))
            version = int(found[0].version or 0) if found else 0
            if found and found[0].as_of is not None:
                score, as_of = accumulate(
                    float(found[0].score or 0), float(found[0].as_of), weight, moment, self._half_life_s
                )
            else:
                as_of, score = moment, weight
            condition: Any = FeedStateModel.version == version if found else FeedStateModel.sk.does_not_exist()
            try:
                FeedStateModel(user_id=viewer_id, sk=sk, score=score, as_of=as_of, version=version + 1).save(
                    condition=condition
                )
                return score
            except PutError as error:
                if not _conditional_failure(error):
                    raise
        raise RuntimeError(f"affinity of {viewer_id} for {author_id}: too many concurrent updates")

    def of_viewer(self, viewer_id: str, now: datetime) -> dict[str, float]:
        """Every author the viewer has an affinity for, decayed to `now`: one Query page (~60 B an author), raw
        items (a ranked first page reads them all)."""
        moment = now.timestamp()
        items = query_raw(
            FeedStateModel,
            viewer_id,
            FeedStateModel.sk.startswith(AFFINITY),
            AFFINITIES_READ_MAX,
            ["sk", "score", "as_of"],
        )
        return {
            item["sk"]["S"].removeprefix(AFFINITY): decayed(
                _number(item, "score", 0.0), moment - (_number(item, "as_of", 0.0) or moment), self._half_life_s
            )
            for item in items
        }


# -- impressions --


class SeenStore:
    """A viewer's impressions, packed by the hour they were reported in: one UpdateItem per report ADDs its ids to
    that hour's string set (set semantics: reporting again changes nothing), so a report of a page is billed by
    the hour's item (~27 B an id) instead of one write unit per post, and a first page reads a few items, not
    one per impression (docs/SCALING.md, "Request units of the ranked feed")."""

    def __init__(self, clock: Any = utc_now) -> None:
        self._clock = clock

    def record(self, viewer_id: str, post_ids: list[str]) -> None:
        ids = set(post_ids)
        if not ids:
            return
        now = self._clock()
        actions = [FeedStateModel.post_ids.add(ids), FeedStateModel.expires_at.set(now + SEEN_LIFETIME)]
        # An hour's item stops at DynamoDB's 400 KB (~15,000 ids, far past what rate limits let a client report):
        # the rest go to the minute's.
        for sk in (f"{SEEN_HOUR}{now:%Y%m%d%H}", f"{SEEN_HOUR}{now:%Y%m%d%H%M}"):
            try:
                # not Model.update, which asks for the whole item back (ALL_NEW)
                FeedStateModel._get_connection().update_item(viewer_id, sk, actions=actions)
                return
            except UpdateError as error:
                if error.cause_response_code != "ValidationException" or "size" not in str(error.cause).lower():
                    raise
        raise RuntimeError(f"impressions of {viewer_id}: the hour's and the minute's items are full")

    def of_viewer(self, viewer_id: str, since: datetime | None = None) -> frozenset[str]:
        """The impressions the viewer reported since `since` (None: whenever), the newest hours first: one Query
        page of hour items (DynamoDB stops it at 1 MB). A post is reported after it was made, so the impressions
        of posts made since `since` are all in these hours (one more hour read for the servers' clocks)."""
        lowest = f"{SEEN_HOUR}{since - timedelta(hours=1):%Y%m%d%H}" if since else SEEN_HOUR
        items = query_raw(
            FeedStateModel,
            viewer_id,
            FeedStateModel.sk.between(lowest, f"{SEEN_HOUR}~"),
            SEEN_READ_MAX,
            ["post_ids"],
            scan_index_forward=False,
            pages=1,
        )
        return frozenset(post_id for item in items for post_id in item.get("post_ids", {}).get("SS", ()))

    def single_impressions(self, viewer_id: str) -> frozenset[str]:
        """Impressions of the format before the hours (`seen#<post_id>`, written until 2026-12-06): the last expire
        on 2027-01-05, and this read can go then. One Query page."""
        items = query_raw(
            FeedStateModel,
            viewer_id,
            FeedStateModel.sk.between(SEEN, SEEN_HOUR),
            SEEN_READ_MAX,
            ["sk"],
            scan_index_forward=False,
            pages=1,
        )
        return frozenset(item["sk"]["S"].removeprefix(SEEN) for item in items)


# -- snapshots --


@dataclass(frozen=True)
class Snapshot:
    """A first page's ranking, as later pages read it."""

    post_ids: list[str]
    author_ids: list[str]
    unseen_recent: int
    scores: list[float] | None = None
    parts: list[ScoreParts] | None = None


@dataclass(frozen=True)
class Standings:
    """What a ranking scored its posts on: their times and counts, by post id, as read at `as_of` (a refresh that
    reuses them passes their `as_of` on, so no count is reused past `standings_reuse_s` after it was read)."""

    as_of: datetime
    posts: dict[str, Candidate]


def _encode(ranked: list[RankedPost], unseen_recent: int, explain: bool, standings: Standings) -> bytes:
    authors = list(dict.fromkeys(post.author_id for post in ranked))
    index = {author: position for position, author in enumerate(authors)}
    body: dict[str, Any] = {
        "ids": [post.post_id for post in ranked],
        "authors": authors,
        "by": [index[post.author_id] for post in ranked],
        "unseen_recent": unseen_recent,
        # what each post's score was made of: the viewer's next first page may reuse it (`recent_standings`)
        "standings": [
            [int(c.created_at.timestamp()), c.like_count, c.comment_count]
            for c in (standings.posts[post.post_id] for post in ranked)
        ],
        "standings_as_of": standings.as_of.timestamp(),
    }
    if explain:
        body["explain"] = [
            [
                *(round(value, 6) for value in (p.score, p.parts.affinity, p.parts.recency, p.parts.engagement)),
                p.parts.own_post,
                int(p.parts.seen),
                round(p.parts.diversity, 6),
            ]
            for p in ranked
        ]
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode(), level=6)


def _decode(data: bytes) -> Snapshot:
    body = json.loads(zlib.decompress(data))
    authors = body["authors"]
    explained = body.get("explain")
    return Snapshot(
        post_ids=body["ids"],
        author_ids=[authors[position] for position in body["by"]],
        unseen_recent=body["unseen_recent"],
        scores=[row[0] for row in explained] if explained else None,
        parts=[
            ScoreParts(
                affinity=row[1], recency=row[2], engagement=row[3], own_post=row[4], seen=bool(row[5]), diversity=row[6]
            )
            for row in explained
        ]
        if explained
        else None,
    )


def _standings(data: bytes, since: datetime) -> Standings | None:
    body = json.loads(zlib.decompress(data))
    as_of = body.get("standings_as_of")
    if as_of is None or as_of < since.timestamp():
        return None
    authors = body["authors"]
    return Standings(
        datetime.fromtimestamp(as_of, UTC),
        {
            post_id: Candidate(post_id, authors[by], datetime.fromtimestamp(created, UTC), likes, comments)
            for post_id, by, (created, likes, comments) in zip(body["ids"], body["by"], body["standings"], strict=True)
        },
    )


def snapshot_lists_author(data: bytes, author_id: str) -> bool:
    """Whether a stored snapshot (its `data`) lists a post of this author: the purge of the author drops it."""
    return author_id in _decode(data).author_ids


class SnapshotStore:
    def put(
        self,
        viewer_id: str,
        snapshot_id: str,
        ranked: list[RankedPost],
        unseen_recent: int,
        explain: bool,
        standings: Standings,
    ) -> None:
        """`standings`: what `ranked` was scored on (every one of its posts)."""
        expires_at = utc_now() + timedelta(seconds=_settings.feed_ranking.snapshot_ttl_s)
        FeedStateModel(
            user_id=viewer_id,
            sk=f"{SNAPSHOT}{snapshot_id}",
            data=_encode(ranked, unseen_recent, explain, standings),
            expires_at=expires_at,
        ).save()

    def recent_standings(self, viewer_id: str, since: datetime) -> Standings | None:
        """What the viewer's newest snapshot made since `since` scored its posts on, if read since `since`; None
        otherwise. One Query of at most one item (snapshot ids are ULIDs: they sort by the time they were made)."""
        found = query_raw(
            FeedStateModel,
            viewer_id,
            FeedStateModel.sk.between(f"{SNAPSHOT}{first_id_at(since)}", f"{SNAPSHOT}~"),
            1,
            ["data"],
            scan_index_forward=False,
        )
        return _standings(found[0]["data"]["B"], since) if found and "data" in found[0] else None

    def get(self, viewer_id: str, snapshot_id: str, now: datetime) -> Snapshot | None:
        """The snapshot, or None once expired (TTL deletes lag by up to days: the expiry is checked here)."""
        found = list(
            FeedStateModel.query(viewer_id, FeedStateModel.sk == f"{SNAPSHOT}{snapshot_id}", consistent_read=True)
        )
        if not found or found[0].data is None or found[0].expires_at is None or found[0].expires_at <= now:
            return None
        return _decode(found[0].data)


# -- authors' recent posts --


@dataclass(frozen=True)
class RecentPost:
    post_id: str
    created_at: float
    like_count: int = 0
    comment_count: int = 0

    def as_candidate(self, author_id: str) -> Candidate:
        return Candidate(
            self.post_id, author_id, datetime.fromtimestamp(self.created_at, UTC), self.like_count, self.comment_count
        )


def _posts_of(item: FeedStateModel) -> list[RecentPost]:
    return _parsed_posts(item.posts)


def _parsed_posts(posts: str | None) -> list[RecentPost]:
    return [RecentPost(*row) for row in json.loads(posts or "[]")]


def _dumps(posts: list[RecentPost]) -> str:
    return json.dumps([[p.post_id, p.created_at, p.like_count, p.comment_count] for p in posts], separators=(",", ":"))


class RecentPostsStore:
    """Each author's newest posts in k copies of one small item: a feed reads every followed celebrity's in
    one BatchGetItem round (100 keys a call, calls in parallel) instead of one Query each. k is 1 until the
    author's follower count calls for more (pinhole.feed.hot_keys, applied by the fan-out through `spread`);
    copy 0 holds it, so every change writes every copy a reader may pick."""

    def __init__(
        self,
        keep: int | None = None,
        cache_s: float | None = None,
        clock: Any = time.monotonic,
    ) -> None:
        ranking = _settings.feed_ranking
        self.keep = keep or ranking.recent_posts_per_author
        self.cache_s = ranking.recent_posts_cache_s if cache_s is None else cache_s
        self._clock = clock
        self._cache: dict[str, tuple[float, list[RecentPost]]] = {}

    # writes (the posts stream, pinhole.feed.signals): copy 0 is the primary, conditioned on its version

    def change(self, author_id: str, edit: Any, copies: int = 1) -> None:
        """Applies `edit` (the list of RecentPost → the new list, or None for no change) to copy 0 under a
        version condition, then writes every other copy unless a newer version is already there. `copies`
        raises k (never lowers it): the new copies are written even if `edit` changes nothing."""
        for _ in range(MAX_CONDITIONAL_ATTEMPTS):
            found = list(FeedStateModel.query(author_id, FeedStateModel.sk == f"{RECENT}0", consistent_read=True))
            version = int(found[0].version or 0) if found else 0
            current = _posts_of(found[0]) if found else []
            stored_copies = int(found[0].copies or 1) if found else 1
            total = max(stored_copies, copies)
            changed = edit(current)
            if changed is None and total == stored_copies:
                return
            posts = sorted(current if changed is None else changed, key=lambda p: p.post_id, reverse=True)
            posts = posts[: self.keep]
            condition = FeedStateModel.version == version if found else FeedStateModel.sk.does_not_exist()
            try:
                self._save(author_id, 0, posts, version + 1, condition, total)
                break
            except PutError as error:
                if not _conditional_failure(error):
                    raise
        else:
            raise RuntimeError(f"recent posts of {author_id}: too many concurrent updates")
        for copy in range(1, total):
            newer_or_absent = FeedStateModel.sk.does_not_exist() | (FeedStateModel.version < version + 1)
            try:
                self._save(author_id, copy, posts, version + 1, newer_or_absent)
            except PutError as error:
                if not _conditional_failure(error):
                    raise

    @staticmethod
    def _save(
        author_id: str, copy: int, posts: list[RecentPost], version: int, condition: Any, copies: int | None = None
    ) -> None:
        FeedStateModel(
            user_id=author_id, sk=f"{RECENT}{copy}", posts=_dumps(posts), version=version, copies=copies
        ).save(condition=condition)

    def spread(self, author_id: str, copies: int) -> None:
        """Makes the item k = `copies` copies (if it has fewer), before any reader is told to pick among them."""
        self.change(author_id, lambda _current: None, copies)

    def copies_of(self, author_id: str) -> int:
        found = list(FeedStateModel.query(author_id, FeedStateModel.sk == f"{RECENT}0", consistent_read=True))
        return int(found[0].copies or 1) if found else 1

    def published(self, author_id: str, post: RecentPost) -> None:
        def add(current: list[RecentPost]) -> list[RecentPost] | None:
            if any(p.post_id == post.post_id for p in current):
                return None
            return [*current, post]

        self.change(author_id, add)

    def removed(self, author_id: str, post_id: str) -> None:
        def drop(current: list[RecentPost]) -> list[RecentPost] | None:
            kept = [p for p in current if p.post_id != post_id]
            return kept if len(kept) < len(current) else None

        self.change(author_id, drop)

    def engaged(self, author_id: str, post_id: str, like_count: int, comment_count: int) -> None:
        def count(current: list[RecentPost]) -> list[RecentPost] | None:
            if not any(p.post_id == post_id for p in current):
                return None
            return [
                RecentPost(p.post_id, p.created_at, like_count, comment_count) if p.post_id == post_id else p
                for p in current
            ]

        self.change(author_id, count)

    # reads (the feed): a random copy each among the author's k (the reader's follow edge carries k), one
    # BatchGetItem per 100 authors, all at once; a short cache

    @staticmethod
    def _fetch(keys: list[tuple[str, str]]) -> dict[str, list[RecentPost]]:
        """Raw items (every feed page reads up to 100 a call: no model each)."""
        return {
            item["user_id"]["S"]: _parsed_posts(item["posts"]["S"] if "posts" in item else None)
            for item in batch_get_raw(FeedStateModel, keys, ["user_id", "posts"])
        }

    def of_authors(self, copies_by_author: Mapping[str, int]) -> dict[str, list[RecentPost]]:
        """The recent posts of these authors (author → the k their item has, from the reader's edges)."""
        now = self._clock()
        cached = {a: self._cache[a][1] for a in copies_by_author if a in self._cache and self._cache[a][0] > now}
        missing = [a for a in copies_by_author if a not in cached]
        keys = [(a, f"{RECENT}{random.randrange(max(1, copies_by_author[a]))}") for a in missing]  # noqa: S311
        fetched = gather_dict(self._fetch, keys)
        if self.cache_s > 0:
            for author in missing:
                self._cache[author] = (now + self.cache_s, fetched.get(author, []))
        return {**cached, **fetched}
