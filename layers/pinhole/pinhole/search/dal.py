"""Persistence of the search index: one table, written only by the stream consumer (`on_change`) and read
by the search routes. PynamoDB objects never leave this module.

    pk = user#<prefix>           sk = <inverted bucket>#<user_id>  a user under one prefix of one of their terms:
                                                                   terms (all of them, to filter by the others)
    pk = username#<username>     sk = <user_id>                    the user of that exact username: terms
    pk = tag#<tag>#<shard>       sk = <post_id>                    a published post with the tag: author_id
    pk = tagcount#<tag>#<shard>  sk = count                        post_count: the posts of the tag in that shard
    pk = tagprefix#<prefix>      sk = <inverted bucket>#<tag>      a known tag under one prefix: tag
    pk = tagrank#<tag>           sk = rank                         bucket: the one the tag's prefix items carry

A query reads one partition in sort-key order, so the most followed users (the most used tags) of a
prefix come first; the bucket is floor(log2(count + 1)), so an item moves only when its count doubles
or halves. A tag's posts and its counter are spread over TAG_SHARDS keys by the post id: a hot tag is
written on eight partitions, and a page reads the eight in parallel and merges them (docs/SCALING.md)."""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.search.models import IndexedUser, TagEntry
from pinhole.search.terms import (
    TAG_SHARDS,
    bucket,
    name_of_ranked_key,
    normalise,
    prefixes,
    ranked_key,
    tag_shard,
    user_prefixes,
    user_terms,
)
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import commit

_settings = get_settings()

COUNT = "count"
RANK = "rank"
Key = tuple[str, str]

# One query per shard of a tag, all at once.
_pool = ThreadPoolExecutor(max_workers=TAG_SHARDS * 4, thread_name_prefix="search-dal")


class SearchModel(Model):
    class Meta:
        table_name = _settings.search_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    author_id = UnicodeAttribute(null=True)
    post_count = NumberAttribute(null=True)
    bucket = NumberAttribute(null=True)
    tag = UnicodeAttribute(null=True)
    terms = UnicodeAttribute(null=True)


def user_prefix_key(prefix: str) -> str:
    return f"user#{prefix}"


def username_key(username: str) -> str:
    return f"username#{username}"


def tag_key(tag: str, shard: int) -> str:
    return f"tag#{tag}#{shard}"


def tag_count_key(tag: str, shard: int) -> str:
    return f"tagcount#{tag}#{shard}"


def tag_prefix_key(prefix: str) -> str:
    return f"tagprefix#{prefix}"


def tag_rank_key(tag: str) -> str:
    return f"tagrank#{tag}"


def user_entries(user: IndexedUser) -> dict[Key, str]:
    """The keys under which the user is found — one per prefix of each term, ranked by follower bucket
    (a username and a name word sharing a prefix make one item), and their exact username — each with
    the user's terms, space-separated."""
    sort_key = ranked_key(bucket(user.follower_count), user.user_id)
    terms = " ".join(sorted(user_terms(user.username, user.display_name)))
    entries = {(user_prefix_key(prefix), sort_key): terms for prefix in user_prefixes(user.username, user.display_name)}
    return entries | {(username_key(user.username), user.user_id): terms}


def _user_entry(key: Key, terms: str) -> SearchModel:
    pk, sk = key
    return SearchModel(pk, sk, terms=terms)


def user_entry_items(user: IndexedUser) -> list[dict[str, Any]]:
    """The items a new user's entries are, as the low-level API writes them (what `rewrite` puts for a user
    first indexed; a benchmark's bulk seeding writes these)."""
    return [_user_entry(key, terms).serialize() for key, terms in user_entries(user).items()]


def _tag_prefix_entries(tag: str, rank: int) -> list[SearchModel]:
    sort_key = ranked_key(rank, tag)
    return [SearchModel(tag_prefix_key(prefix), sort_key, tag=tag) for prefix in prefixes(normalise(tag))]


class SearchIndex:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    # Users

    def rewrite(self, deletes: Iterable[Key], puts: Iterable[tuple[Key, str]]) -> None:
        """Deletes user entries by key and puts others with their terms, 25 to a BatchWriteItem (both
        idempotent)."""
        with SearchModel.batch_write() as batch:
            for pk, sk in deletes:
                batch.delete(SearchModel(pk, sk))
            for key, terms in puts:
                batch.save(_user_entry(key, terms))

    def users_with_prefix(self, prefix: str, limit: int) -> list[tuple[str, list[str]]]:
        """Up to `limit` users under the prefix, most followed bucket first: each id with the terms the
        user was indexed by."""
        return [
            (name_of_ranked_key(item.sk), (item.terms or "").split())
            for item in SearchModel.query(user_prefix_key(prefix), limit=limit)
        ]

    def users_named(self, username: str) -> list[str]:
        """Ids under the exact username: one, or briefly two while a freed username's old entry awaits
        its stream record."""
        return [item.sk for item in SearchModel.query(username_key(username), limit=2, attributes_to_get=["sk"])]

    # Tags: posts and counts

    def add_to_tag(self, tag: str, entry: TagEntry) -> bool:
        """Lists the post under the tag and counts it, atomically; False if it was listed already."""
        shard = tag_shard(entry.post_id)
        listed = SearchModel(tag_key(tag, shard), entry.post_id, author_id=entry.author_id)

        def build(transaction: TransactWrite) -> None:
            transaction.save(listed, condition=SearchModel.pk.does_not_exist())
            transaction.update(SearchModel(tag_count_key(tag, shard), COUNT), actions=[SearchModel.post_count.add(1)])

        return commit(build, self._connection)

    def remove_from_tag(self, tag: str, post_id: str) -> bool:
        """Takes the post off the tag and out of its count, atomically; False if it was not listed."""
        shard = tag_shard(post_id)

        def build(transaction: TransactWrite) -> None:
            transaction.delete(SearchModel(tag_key(tag, shard), post_id), condition=SearchModel.pk.exists())
            transaction.update(SearchModel(tag_count_key(tag, shard), COUNT), actions=[SearchModel.post_count.add(-1)])

        return commit(build, self._connection)

    def shard_count(self, tag: str, shard: int) -> int:
        try:
            item = SearchModel.get(tag_count_key(tag, shard), COUNT, consistent_read=True)
        except DoesNotExist:
            return 0
        return int(item.post_count or 0)

    def post_counts(self, tags: list[str]) -> dict[str, int]:
        """Each tag's post count, the sum of its shards' counters: one BatchGetItem per 12 tags, in parallel."""
        unique = list(dict.fromkeys(tags))
        per_call = 100 // TAG_SHARDS

        def read(chunk: list[str]) -> list[SearchModel]:
            keys = [(tag_count_key(tag, shard), COUNT) for tag in chunk for shard in range(TAG_SHARDS)]
            return list(SearchModel.batch_get(keys, attributes_to_get=["pk", "post_count"]))

        counts = dict.fromkeys(unique, 0)
        chunks = [unique[start : start + per_call] for start in range(0, len(unique), per_call)]
        for items in _pool.map(read, chunks):
            for item in items:
                tag = item.pk.removeprefix("tagcount#").rsplit("#", 1)[0]
                counts[tag] += int(item.post_count or 0)
        return counts

    def tag_page(self, tag: str, before: str | None, limit: int) -> tuple[list[TagEntry], bool]:
        """The tag's newest posts older than `before` (a post id), merged from every shard; and whether
        more exist. Each shard is asked for limit + 1: the page may come from any one of them."""

        def shard_page(shard: int) -> list[TagEntry]:
            condition = SearchModel.sk < before if before else None
            results = SearchModel.query(tag_key(tag, shard), condition, scan_index_forward=False, limit=limit + 1)
            return [TagEntry(post_id=item.sk, author_id=item.author_id or "") for item in results]

        merged = sorted(
            (entry for page in _pool.map(shard_page, range(TAG_SHARDS)) for entry in page),
            key=lambda entry: entry.post_id,
            reverse=True,
        )
        return merged[:limit], len(merged) > limit

    # Tags: the prefix index, ranked by post count

    def tags_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` tags under the prefix, most used bucket first (a tag caught between two buckets
        by a concurrent move is listed once)."""
        items = SearchModel.query(tag_prefix_key(prefix), limit=limit)
        return list(dict.fromkeys(item.tag or name_of_ranked_key(item.sk) for item in items))

    def tag_rank(self, tag: str) -> int | None:
        """The bucket the tag's prefix items carry; None for a tag never ranked (not yet in the prefix index)."""
        try:
            item = SearchModel.get(tag_rank_key(tag), RANK, consistent_read=True)
        except DoesNotExist:
            return None
        return None if item.bucket is None else int(item.bucket)

    def claim_rank(self, tag: str, current: int | None, new: int) -> bool:
        """Records that the tag's prefix items move to `new`, if they still carry `current` (False if
        another writer moved them first)."""
        condition = SearchModel.pk.does_not_exist() if current is None else SearchModel.bucket == current
        try:
            SearchModel(tag_rank_key(tag), RANK, bucket=new).save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def move_tag(self, tag: str, current: int | None, new: int) -> None:
        """Puts the tag under each of its prefixes with the `new` bucket, then drops the `current` ones."""
        with SearchModel.batch_write() as batch:
            for item in _tag_prefix_entries(tag, new):
                batch.save(item)
        if current is not None and current != new:
            with SearchModel.batch_write() as batch:
                for item in _tag_prefix_entries(tag, current):
                    batch.delete(item)
