"""Search without AWS: how names, tags and queries are normalised and cut into prefixes, how results
are ranked and filtered (in-memory collaborators), and which stream records touch the index."""

from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel

from pinhole.search import logic
from pinhole.search.dal import user_entries
from pinhole.search.models import IndexedUser, TagEntry
from pinhole.search.terms import (
    PREFIX_MAX,
    TAG_SHARDS,
    UserQuery,
    bucket,
    normalise,
    prefixes,
    ranked_key,
    tag_shard,
    user_prefixes,
    user_terms,
    valid_tag,
    words,
)
from pinhole.shared.caller import Caller
from pinhole.users.models import Profile
from tests.support.streams import stream_record

VIEWER = Caller(user_id="viewer", username="viewer")


# Normalisation and prefixes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("José", "jose"),
        ("ÁLVAREZ", "alvarez"),
        ("Straße", "strasse"),
        ("Ｊｏｓé", "jose"),  # full-width letters
        ("İstanbul", "istanbul"),
        ("Zoë Œuvre", "zoe oeuvre"),
        ("Łucja Søren Đorđe Æsa", "lucja soren dorde aesa"),  # Latin marks Unicode does not decompose
        ("Þóra Ðóra ıskender", "thora dora iskender"),
        ("東京", "東京"),
        ("Иван Łódź", "иван lodz"),  # other scripts stay as written
    ],
)
def test_normalise_ignores_accents_case_and_compatibility_forms(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_words_split_a_display_name_on_anything_but_letters_and_digits() -> None:
    assert words("José Álvarez-Pérez (Pepe_2)") == ["jose", "alvarez", "perez", "pepe", "2"]
    assert words("  ·  ") == []


def test_prefixes_stop_at_the_indexed_length() -> None:
    assert prefixes("jose") == ["j", "jo", "jos", "jose"]
    long_term = "a" * 40
    assert prefixes(long_term)[-1] == "a" * PREFIX_MAX
    assert len(prefixes(long_term)) == PREFIX_MAX


def test_a_user_is_indexed_under_prefixes_of_username_and_each_name_word() -> None:
    found = user_prefixes("pepe.a", "José Álvarez")

    assert {"p", "pe", "pepe.", "pepe.a", "j", "jose", "a", "alvarez"} <= found
    assert "álvarez" not in found and "pepe a" not in found


def test_a_prefix_shared_by_username_and_name_makes_one_entry() -> None:
    # Given a user whose username and first name start alike
    user = IndexedUser(user_id="u1", username="jose", display_name="Jose Luis")

    # Then each prefix is one item, whatever the terms it comes from, beside the exact username's
    entries = user_entries(user)
    assert len(entries) == len(user_prefixes("jose", "Jose Luis")) + 1
    assert ("user#jo", ranked_key(0, "u1")) in entries
    assert ("username#jose", "u1") in entries


@pytest.mark.parametrize(
    ("count", "expected"), [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2), (7, 3), (1023, 10), (1_000_000, 19)]
)
def test_bucket_is_the_floor_of_log2_of_count_plus_one(count: int, expected: int) -> None:
    assert bucket(count) == expected


def test_ranked_keys_list_higher_buckets_first() -> None:
    keys = [ranked_key(bucket(count), "x") for count in (0, 5, 5000, 50)]

    assert sorted(keys) == [ranked_key(bucket(count), "x") for count in (5000, 50, 5, 0)]


def test_tag_shard_is_fixed_by_the_post_id_and_spreads_posts() -> None:
    ids = [f"01J{index:023d}" for index in range(400)]

    assert tag_shard(ids[0]) == tag_shard(ids[0])
    assert {tag_shard(post_id) for post_id in ids} == set(range(TAG_SHARDS))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("#Café", "café"), ("東京", "東京"), ("sunset_2026", "sunset_2026"), ("new york", None), ("#", None), ("", None)],
)
def test_valid_tag_is_what_a_caption_would_extract(text: str, expected: str | None) -> None:
    assert valid_tag(text) == expected


# Queries


def test_query_reads_the_username_prefix_and_each_words() -> None:
    assert UserQuery.parse("José").lookups() == {"jose"}
    assert UserQuery.parse("jose.alv").lookups() == {"jose.alv", "jose", "alv"}
    assert UserQuery.parse("María José Ál").lookups() == {"maria", "jose", "al"}
    assert UserQuery.parse("ab cde fghi j").lookups() == {"fghi", "cde", "ab"}
    assert UserQuery.parse("x" * 40).lookups() == {"x" * PREFIX_MAX}


def test_query_matches_username_prefix_or_every_word_against_name_words() -> None:
    query = UserQuery.parse("jose alv")

    assert query.matches("someone", "José Álvarez")
    assert query.matches("someone", "Álvaro José")
    assert not query.matches("someone", "José Martín")
    assert UserQuery.parse("pepe.").matches("pepe.alvarez", "")
    assert not UserQuery.parse("alvarez").matches("pepe.alvarez", "")
    assert query.matches_terms(["alvarez", "jose", "pepe.a"])
    assert not query.matches_terms(["jose", "martin", "pepe.a"])


def test_query_of_nothing_searchable_is_empty() -> None:
    assert UserQuery.parse("  !!  ").is_empty
    assert not UserQuery.parse("a").is_empty


# Ranking and filtering, with in-memory collaborators


def profile(user_id: str, username: str, display_name: str = "", followers: int = 0) -> Profile:
    return Profile(
        user_id=user_id,
        username=username,
        email=f"{username}@example.com",
        display_name=display_name,
        follower_count=followers,
        created_at=datetime(2026, 11, 22, tzinfo=UTC),
    )


Entry = tuple[str, list[str]]


def entries(*profiles: Profile) -> list[Entry]:
    """Index entries as the indexer writes them: each user's id with their terms."""
    return [(p.user_id, sorted(user_terms(p.username, p.display_name))) for p in profiles]


class FakeIndex:
    def __init__(self, partitions: dict[str, list[Entry]], named: dict[str, list[str]] | None = None) -> None:
        self.partitions, self.named = partitions, named or {}
        self.asked: list[tuple[str, int]] = []

    def users_with_prefix(self, prefix: str, limit: int) -> list[Entry]:
        self.asked.append((prefix, limit))
        return self.partitions.get(prefix, [])[:limit]

    def users_named(self, username: str) -> list[str]:
        return self.named.get(username, [])


class FakeProfiles:
    def __init__(self, *profiles: Profile) -> None:
        self.by_id = {p.user_id: p for p in profiles}

    def get_many(self, user_ids: list[str]) -> dict[str, Profile]:
        return {user_id: self.by_id[user_id] for user_id in user_ids if user_id in self.by_id}


class FakeGraph:
    def __init__(self, blocked: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.blocked = blocked

    def blocked_among(self, viewer_id: str, candidate_ids: list[str]) -> set[str]:
        return self.blocked & set(candidate_ids)


def search(text: str, index: FakeIndex, profiles: FakeProfiles, graph: FakeGraph | None = None, limit: int = 20):
    found = logic.search_users(VIEWER, text, limit, index, profiles, graph or FakeGraph())  # type: ignore[arg-type]
    return [summary.username for summary in found]


def test_exact_username_comes_first_then_most_followed() -> None:
    # Given three users found under "ann", the exact match the least followed and outside the index page
    ann, anna, annie = profile("1", "ann", followers=2), profile("2", "anna", followers=900), profile("3", "annie")
    users = FakeProfiles(ann, anna, annie.model_copy(update={"follower_count": 30}))
    index = FakeIndex({"ann": entries(anna, annie)}, named={"ann": ["1"]})

    # Then the exact username leads, and the others follow by exact follower count
    assert search("Ann", index, users) == ["ann", "anna", "annie"]


def test_index_is_read_three_entries_per_result() -> None:
    index = FakeIndex({})
    search("zed", index, FakeProfiles(), limit=7)

    assert index.asked == [("zed", 21)]


def test_a_query_of_several_words_reads_deeper_and_filters_on_the_entries_terms() -> None:
    # Given many Marías ahead of the one María García in the "maria" partition
    others = [profile(str(i), f"maria{i}", f"María Núñez{i}", followers=1000 - i) for i in range(100)]
    garcia = profile("g", "mg", "María García", followers=1)
    index = FakeIndex({"maria": entries(*others, garcia)})

    # Then she is found, though 99 more followed Marías come first in the index
    assert search("maria gar", index, FakeProfiles(*others, garcia), limit=5) == ["mg"]
    assert sorted(index.asked) == [("gar", logic.NARROWED_READ), ("maria", logic.NARROWED_READ)]


def test_users_in_a_block_with_the_viewer_are_left_out() -> None:
    bea, beatriz = profile("1", "bea"), profile("2", "beatriz")
    users = FakeProfiles(bea, beatriz)
    index = FakeIndex({"bea": entries(bea, beatriz)})

    assert search("bea", index, users, FakeGraph(blocked={"1"})) == ["beatriz"]


def test_stale_entries_show_nobody() -> None:
    # Given an entry left under "old" by a rename the index has not caught up with
    renamed = profile("1", "someone", "New Name")
    before = profile("1", "someone", "Old Name")
    users = FakeProfiles(renamed)
    index = FakeIndex({"old": entries(before), "new": entries(renamed)})

    # Then the old name finds nobody and the new one finds the user
    assert search("old", index, users) == []
    assert search("new", index, users) == ["someone"]


def test_results_stop_at_the_limit() -> None:
    cats = [profile(str(i), f"cat{i}", followers=i) for i in reversed(range(10))]  # most followed first
    users = FakeProfiles(*cats)
    index = FakeIndex({"cat": entries(*cats)})

    assert search("cat", index, users, limit=3) == ["cat9", "cat8", "cat7"]


# The index follows the streams


class SpyIndex:
    def __init__(self) -> None:
        self.rewrites: list[tuple[list[Any], list[Any]]] = []
        self.added: list[tuple[str, TagEntry]] = []

    def rewrite(self, deletes: list[Any], puts: list[Any]) -> None:
        self.rewrites.append((list(deletes), list(puts)))

    def add_to_tag(self, tag: str, entry: TagEntry) -> bool:
        self.added.append((tag, entry))
        return True

    def shard_count(self, tag: str, shard: int) -> int:
        return 3  # not a power of two: no re-ranking in these tests


def user_image(**changes: Any) -> dict[str, Any]:
    image = {
        "user_id": "u1",
        "username": "jose",
        "email": "jose@example.com",
        "display_name": "José Álvarez",
        "bio": "",
        "follower_count": 4,
        "post_count": 0,
        "created_at": "2026-11-22T10:00:00.000000+0000",
    }
    return {**image, **changes}


def user_record(old: dict[str, Any] | None, new: dict[str, Any] | None) -> DynamoDBStreamRecordModel:
    event = "MODIFY" if old and new else "INSERT" if new else "REMOVE"
    return DynamoDBStreamRecordModel.model_validate(stream_record(event, {"user_id": "u1"}, old=old, new=new))


def test_a_new_user_is_indexed_under_every_prefix() -> None:
    index = SpyIndex()
    changed = logic.SearchIndexer(index).apply(user_record(None, user_image()))  # type: ignore[arg-type]

    ((deletes, puts),) = index.rewrites
    assert deletes == []
    prefix_keys = {f"user#{prefix}" for prefix in user_prefixes("jose", "José Álvarez")}
    assert {pk for (pk, _), _ in puts} == prefix_keys | {"username#jose"}
    assert {terms for _, terms in puts} == {"alvarez jose"}
    assert changed == len(puts)


@pytest.mark.parametrize(
    "changes",
    [{"post_count": 5}, {"bio": "Photographer"}, {"follower_count": 6}, {"display_name": "JOSE ALVAREZ"}],
    ids=["post count", "bio", "followers within the bucket", "same words"],
)
def test_a_change_the_index_does_not_use_writes_nothing(changes: dict[str, Any]) -> None:
    index = SpyIndex()
    changed = logic.SearchIndexer(index).apply(user_record(user_image(), user_image(**changes)))  # type: ignore[arg-type]

    assert changed == 0
    assert index.rewrites == []


def test_a_rename_drops_the_old_words_prefixes_and_rewrites_the_rest_with_the_new_terms() -> None:
    index = SpyIndex()
    logic.SearchIndexer(index).apply(user_record(user_image(), user_image(display_name="José Bravo")))  # type: ignore[arg-type]

    ((deletes, puts),) = index.rewrites
    assert {pk for pk, _ in deletes} == {f"user#{p}" for p in prefixes("alvarez")}
    assert {pk for (pk, _), _ in puts} == {f"user#{p}" for p in user_prefixes("jose", "Bravo")} | {"username#jose"}
    assert {terms for _, terms in puts} == {"bravo jose"}


def test_a_follower_count_crossing_a_bucket_rewrites_every_entry() -> None:
    index = SpyIndex()
    logic.SearchIndexer(index).apply(user_record(user_image(), user_image(follower_count=7)))  # type: ignore[arg-type]

    ((deletes, puts),) = index.rewrites
    assert {pk for pk, _ in deletes} == {pk for (pk, _), _ in puts}
    assert {sk for _, sk in deletes} == {ranked_key(2, "u1")}
    assert {sk for (_, sk), _ in puts} == {ranked_key(3, "u1")}


def test_a_deleted_user_leaves_the_index() -> None:
    index = SpyIndex()
    logic.SearchIndexer(index).apply(user_record(user_image(), None))  # type: ignore[arg-type]

    ((deletes, puts),) = index.rewrites
    assert puts == [] and len(deletes) == len(user_prefixes("jose", "José Álvarez")) + 1


def test_a_published_post_is_listed_under_each_of_its_tags() -> None:
    index = SpyIndex()
    post = {"post_id": "01JPOST", "author_id": "u1", "tags": ["sunset", "café"], "caption": "#sunset #café"}
    record = stream_record(
        "MODIFY", {"post_id": "01JPOST"}, old={**post, "status": "pending"}, new={**post, "status": "published"}
    )

    logic.SearchIndexer(index).apply(DynamoDBStreamRecordModel.model_validate(record))  # type: ignore[arg-type]

    assert index.added == [
        ("café", TagEntry(post_id="01JPOST", author_id="u1")),
        ("sunset", TagEntry(post_id="01JPOST", author_id="u1")),
    ]
