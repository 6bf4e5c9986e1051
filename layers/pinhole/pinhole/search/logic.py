"""Use cases of search: people by username or name, hashtags by prefix, a hashtag's posts, and the
index upkeep the users and posts tables' streams drive.

Reads never scan. A people search is two rounds of parallel calls: the index partition of the query's
prefix and the index entry of the exact username, then the candidates' profiles and the blocks either
way; the ranking is then exact (follower counts from the profiles), and each candidate is matched again
against its current profile, so an entry left by a rename not yet indexed shows nobody.
A tag's page is two rounds too: its eight shards, then the posts, authors, follows, blocks and the
viewer's likes and saves. What the viewer may not see is left out: posts deleted or not published,
authors in a block with the viewer (either way), private accounts the viewer does not follow.

The index is eventually consistent: the stream consumer catches up within seconds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pinhole.graph.dal import GraphRepository
from pinhole.posts.dal import PostRepository
from pinhole.posts.logic import to_post
from pinhole.posts.models import Post, PostStatus
from pinhole.search.dal import SearchIndex, user_entries
from pinhole.search.models import IndexedPost, IndexedUser, TagCount, TagEntry
from pinhole.search.terms import PREFIX_MAX, UserQuery, bucket, is_power_of_two, normalise, tag_shard, valid_tag
from pinhole.shared.caller import Caller
from pinhole.shared.cursor import decode_cursor, encode_cursor
from pinhole.shared.errors import ValidationFailed
from pinhole.shared.observability import logger
from pinhole.shared.secrets import cursor_secret
from pinhole.social.dal import ViewerFlags, viewer_flags
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import summary_of
from pinhole.users.models import UserSummary

if TYPE_CHECKING:  # the index's stream records, for a signature only: the search API need not load Powertools'
    # event-source models (its consumer, functions/search/consumers.py, does)
    from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel

CANDIDATES_PER_RESULT = 3
"""A search keeps this many index entries per result asked for: room for the exact ranking, for
entries of blocked users and for stale ones."""
NARROWED_READ = 500
"""Entries read per partition when the query's other words (or its characters past the indexed
prefix) leave only some of them: one Query page of ~55 KB, filtered on the entries' own terms."""
RANK_ATTEMPTS = 5
USERNAME_LENGTHS = range(3, 31)
BATCH_GET_KEYS = 100


_index = SearchIndex()
_posts = PostRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()
_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="search")


# People


def _chunks(ids: list[str], size: int) -> list[list[str]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def search_users(
    caller: Caller,
    text: str,
    limit: int,
    index: SearchIndex = _index,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
) -> list[UserSummary]:
    """Users whose username, or a word of whose display name, starts with the text (accents and case
    aside): the exact username first, then by follower count; none in a block with the caller."""
    query = UserQuery.parse(text)
    if query.is_empty:
        return []
    # Round 1: the index partitions of the query and the exact username's entry, in parallel.
    kept = CANDIDATES_PER_RESULT * limit
    read = NARROWED_READ if query.is_narrowed else kept
    lookups = [_pool.submit(index.users_with_prefix, prefix, read) for prefix in sorted(query.lookups())]
    named = (
        _pool.submit(index.users_named, query.text)
        if query.could_be_username and len(query.text) in USERNAME_LENGTHS
        else None
    )
    found_ids = named.result() if named else []
    for lookup in lookups:
        found_ids += [user_id for user_id, terms in lookup.result() if query.matches_terms(terms)][:kept]
    candidates = list(dict.fromkeys(found_ids))
    # Round 2: the candidates' profiles (for the exact follower counts) and the blocks either way, each
    # BatchGetItem of at most 100 keys in flight at once.
    found_calls = [_pool.submit(profiles.get_many, chunk) for chunk in _chunks(candidates, BATCH_GET_KEYS)]
    blocked_calls = [
        _pool.submit(graph.blocked_among, caller.user_id, chunk) for chunk in _chunks(candidates, BATCH_GET_KEYS // 2)
    ]
    found = {user_id: profile for call in found_calls for user_id, profile in call.result().items()}
    blocked = {user_id for call in blocked_calls for user_id in call.result()}
    shown = [
        profile
        for profile in found.values()
        if profile.user_id not in blocked and query.matches(profile.username, profile.display_name)
    ]
    shown.sort(key=lambda profile: (not query.is_exact(profile.username), -profile.follower_count, profile.username))
    return [summary_of(profile) for profile in shown[:limit]]


# Hashtags


def search_tags(text: str, limit: int, index: SearchIndex = _index) -> list[TagCount]:
    """Tags starting with the text (a leading # aside; accents and case aside), with their post
    counts: the exact tag first, then the most used. Tags whose posts are all gone are left out."""
    folded = normalise(text.strip().removeprefix("#"))
    if not folded:
        return []
    exact = valid_tag(text)
    listed = index.tags_with_prefix(folded[:PREFIX_MAX], CANDIDATES_PER_RESULT * limit)
    candidates = list(dict.fromkeys([*([exact] if exact else []), *listed]))
    candidates = [tag for tag in candidates if normalise(tag).startswith(folded)]
    counts = index.post_counts(candidates)
    items = [TagCount(tag=tag, post_count=counts[tag]) for tag in candidates if counts.get(tag, 0) > 0]
    items.sort(key=lambda item: (item.tag != exact, -item.post_count, item.tag))
    return items[:limit]


def _tag_of(text: str) -> str:
    tag = valid_tag(unquote(text))  # API Gateway passes the path segment percent-encoded
    if tag is None:
        raise ValidationFailed("This is not a hashtag: letters, digits and underscores only.", [{"field": "tag"}])
    return tag


def _position(cursor: str | None, scope: str) -> str | None:
    if not cursor:
        return None
    before = decode_cursor(cursor, scope, cursor_secret()).get("before")
    if not isinstance(before, str):
        raise ValidationFailed("The cursor is not valid for this list.", [{"field": "cursor"}])
    return before


def tag_posts(
    caller: Caller,
    tag_text: str,
    limit: int,
    cursor: str | None,
    index: SearchIndex = _index,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    flags: ViewerFlags = viewer_flags,
) -> tuple[list[Post], str | None]:
    """The tag's published posts the caller may see, newest first. The cursor is the post id the page
    ended at: the next page starts strictly below it, so posts arriving meanwhile never shift a page."""
    tag = _tag_of(tag_text)
    scope = f"tag:{tag}"
    # Round 1: every shard of the tag, in parallel.
    entries, has_more = index.tag_page(tag, _position(cursor, scope), limit)
    # Round 2: hydrate and check, in parallel.
    post_ids = [entry.post_id for entry in entries]
    authors = list(dict.fromkeys(entry.author_id for entry in entries))
    records_call = _pool.submit(posts.get_many, post_ids)
    profiles_call = _pool.submit(profiles.get_many, authors)
    blocked_call = _pool.submit(graph.blocked_among, caller.user_id, authors)
    following_call = _pool.submit(graph.following_among, caller.user_id, authors)
    flags_call = _pool.submit(flags, caller.user_id, post_ids)
    records, found = records_call.result(), profiles_call.result()
    blocked, following, marks = blocked_call.result(), following_call.result(), flags_call.result()

    page = []
    for entry in entries:
        record = records.get(entry.post_id)
        author = found.get(record.author_id) if record else None
        if record is None or author is None or record.status != PostStatus.PUBLISHED:
            continue  # deleted since it was listed: the stream takes it off the tag shortly
        if author.user_id != caller.user_id and (
            author.user_id in blocked or (author.is_private and author.user_id not in following)
        ):
            continue
        page.append(to_post(record, author, marks))
    next_cursor = (
        encode_cursor({"before": entries[-1].post_id}, scope, cursor_secret()) if has_more and entries else None
    )
    return page, next_cursor


# Index upkeep, from the users and posts tables' streams


def _image(image: Any) -> dict[str, Any] | None:
    return image if isinstance(image, dict) and image else None


class SearchIndexer:
    """Keeps the index in step with the users and posts tables. Every write is idempotent (a put or
    delete of a fixed key, or a transaction conditioned on the entry), so a redelivered record changes
    nothing; a record that changes nothing the index uses (a post count, a bio) writes nothing."""

    def __init__(self, index: SearchIndex = _index) -> None:
        self.index = index

    def apply(self, record: DynamoDBStreamRecordModel) -> int:
        """Brings the index in line with one stream record; how many index entries it changed."""
        change = record.dynamodb
        old, new = _image(change.OldImage), _image(change.NewImage)
        if "user_id" in change.Keys:
            return self.user_changed(
                IndexedUser.model_validate(old) if old else None, IndexedUser.model_validate(new) if new else None
            )
        if "post_id" in change.Keys:
            return self.post_changed(
                IndexedPost.model_validate(old) if old else None, IndexedPost.model_validate(new) if new else None
            )
        return 0

    def user_changed(self, old: IndexedUser | None, new: IndexedUser | None) -> int:
        """Deletes the entries the user no longer has and puts those new or changed (a rename changes
        the terms every entry carries)."""
        before = user_entries(old) if old else {}
        after = user_entries(new) if new else {}
        deletes = sorted(before.keys() - after.keys())
        puts = sorted((key, terms) for key, terms in after.items() if before.get(key) != terms)
        if deletes or puts:
            self.index.rewrite(deletes, puts)
        return len(deletes) + len(puts)

    def post_changed(self, old: IndexedPost | None, new: IndexedPost | None) -> int:
        """A post published is listed under each of its tags; one deleted (or no longer published) is
        taken off them. How many (post, tag) entries changed: none for a redelivered record."""
        listed = set(old.tags) if old and old.status == PostStatus.PUBLISHED else set()
        wanted = set(new.tags) if new and new.status == PostStatus.PUBLISHED else set()
        changed = 0
        if new is not None:
            for tag in sorted(wanted - listed):
                changed += self.index.add_to_tag(tag, TagEntry(post_id=new.post_id, author_id=new.author_id))
                self._rerank(tag, new.post_id, added=True)
        if old is not None:
            for tag in sorted(listed - wanted):
                changed += self.index.remove_from_tag(tag, old.post_id)
                self._rerank(tag, old.post_id, added=False)
        return changed

    def _rerank(self, tag: str, post_id: str, *, added: bool) -> None:
        """Moves the tag's prefix items to the bucket of its post count, when it may have changed: each
        time the shard just counted reaches a power of two (up) or leaves one (down), so O(log n) times
        over a tag's life. Run even when the count did not move now, so a redelivered record finishes
        what a failed attempt began. Moving before recording the move keeps items and record in step
        whichever of two concurrent writers wins."""
        shard_count = self.index.shard_count(tag, tag_shard(post_id))
        if not is_power_of_two(shard_count if added else shard_count + 1):
            return
        new = bucket(self.index.post_counts([tag])[tag])
        for _ in range(RANK_ATTEMPTS):
            current = self.index.tag_rank(tag)
            if current == new:
                return
            self.index.move_tag(tag, current, new)
            if self.index.claim_rank(tag, current, new):
                return
        logger.warning("Tag rank kept moving under us; the next count change settles it", extra={"tag": tag})
