"""Search on moto, the whole way: writes of the other contexts → the users and posts tables' streams →
`on_change` (as Lambda would deliver the records) → the search table → the search routes."""

from typing import Any

import pytest

from functions.auth import handler as auth
from functions.search import consumers as search_index
from functions.search import handler as search
from pinhole.graph import logic as graph_logic
from pinhole.graph.dal import GraphRepository
from pinhole.posts.dal import PostRepository
from pinhole.search.dal import SearchIndex, SearchModel, tag_rank_key
from pinhole.search.logic import SearchIndexer, search_tags
from pinhole.search.models import IndexedPost
from pinhole.search.terms import TAG_SHARDS, bucket, tag_shard
from pinhole.shared.caller import Caller
from pinhole.shared.settings import get_settings
from pinhole.users import logic as users_logic
from pinhole.users.models import ProfileUpdate
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.posts import publish
from tests.support.streams import StreamTap, routed_event
from tests.support.users import PASSWORD

Claims = dict[str, str]


class Indexer:
    """What Lambda runs after the writes: the new records of both streams, routed, into `on_change`."""

    def __init__(self) -> None:
        settings = get_settings()
        self.tap = StreamTap([settings.users_table_name, settings.posts_table_name])
        self.last_batch: dict[str, Any] = {"Records": []}

    def flush(self) -> None:
        batch = {"Records": self.tap.new_records()}
        if batch["Records"]:
            answer = search_index.on_change(routed_event(batch["Records"]), FakeLambdaContext())
            assert answer == {"batchItemFailures": []}
        self.last_batch = batch


@pytest.fixture
def indexer(aws: dict[str, str]) -> Indexer:
    return Indexer()


def sign_up(username: str, display_name: str | None = None) -> Claims:
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    if display_name is not None:
        body["display_name"] = display_name
    response = auth.handler(http_event("POST", "/auth/signup", body=body), FakeLambdaContext())
    assert response["statusCode"] == 201, response
    user = response_json(response)["user"]
    return {"sub": user["user_id"], "username": user["username"]}


def caller(claims: Claims) -> Caller:
    return Caller(user_id=claims["sub"], username=claims["username"])


def get(claims: Claims, path: str, route_key: str | None = None, **query: Any) -> dict[str, Any]:
    event = http_event("GET", path, route_key=route_key, claims=claims)
    if query:
        event["queryStringParameters"] = {name: str(value) for name, value in query.items()}
        event["rawQueryString"] = "&".join(f"{name}={value}" for name, value in query.items())
    if route_key and "{tag}" in route_key:
        event["pathParameters"] = {"tag": path.split("/")[2]}
    return search.handler(event, FakeLambdaContext())


def find_users(claims: Claims, q: str, **query: Any) -> list[str]:
    response = get(claims, "/search/users", q=q, **query)
    assert response["statusCode"] == 200, response
    return [user["username"] for user in response_json(response)["items"]]


def find_tags(claims: Claims, q: str, **query: Any) -> list[tuple[str, int]]:
    response = get(claims, "/search/tags", q=q, **query)
    assert response["statusCode"] == 200, response
    return [(item["tag"], item["post_count"]) for item in response_json(response)["items"]]


def tag_page(claims: Claims, tag: str, **query: Any) -> dict[str, Any]:
    response = get(claims, f"/tags/{tag}/posts", route_key="GET /tags/{tag}/posts", **query)
    assert response["statusCode"] == 200, response
    return dict(response_json(response))


def tag_post_ids(claims: Claims, tag: str, **query: Any) -> list[str]:
    return [post["post_id"] for post in tag_page(claims, tag, **query)["items"]]


def follow(follower: Claims, followee: Claims) -> None:
    assert GraphRepository().follow(follower["sub"], followee["sub"])


def rename(claims: Claims, display_name: str) -> None:
    users_logic.update_me(caller(claims), ProfileUpdate(display_name=display_name))


def make_private(claims: Claims) -> None:
    users_logic.update_me(caller(claims), ProfileUpdate(is_private=True))


def delete_post(post_id: str) -> None:
    posts = PostRepository()
    posts.delete(posts.get(post_id))


# People


def test_names_are_found_whatever_the_accents_and_case(indexer: Indexer) -> None:
    # Given José Álvarez and someone else
    jose = sign_up("pepe_a", "José Álvarez")
    sign_up("maria", "María Núñez")
    indexer.flush()

    # Then plain, accented and capitalised forms of either name word find him, and only him
    for query in ("jose", "JOSÉ", "Jos", "alv", "ÁLVAREZ", "José Álv"):
        assert find_users(jose, query) == ["pepe_a"], query
    assert find_users(jose, "nunez") == ["maria"]
    assert find_users(jose, "jose martin") == []
    # And letters whose mark Unicode does not decompose read as their plain letters too
    sign_up("lucja_k", "Łucja Søren")
    indexer.flush()
    for query in ("lucja", "Łucja", "soren", "SØREN"):
        assert find_users(jose, query) == ["lucja_k"], query


def test_username_prefixes_find_users_too(indexer: Indexer) -> None:
    viewer = sign_up("viewer")
    sign_up("pepe.alvarez", "Pepe")
    indexer.flush()

    assert find_users(viewer, "pepe.al") == ["pepe.alvarez"]
    assert find_users(viewer, "PEPE.ALVAREZ") == ["pepe.alvarez"]


def test_exact_username_first_then_by_follower_count(indexer: Indexer) -> None:
    # Given "ann" (no followers), "annabel" (3) and "anna" (1)
    ann, anna, annabel = sign_up("ann"), sign_up("anna"), sign_up("annabel")
    fans = [sign_up(f"fan{index}") for index in range(3)]
    for fan in fans:
        follow(fan, annabel)
    follow(fans[0], anna)
    indexer.flush()

    # Then "ann" finds the exact username first, then the others by followers
    assert find_users(fans[0], "ann") == ["ann", "annabel", "anna"]
    # And a prefix that is nobody's username ranks by followers alone
    assert find_users(fans[0], "an") == ["annabel", "anna", "ann"]
    assert find_users(ann, "an", limit=1) == ["annabel"]


def test_block_hides_each_side_from_the_other(indexer: Indexer) -> None:
    # Given Bea, Bob and Beatriz, and Bea blocks Bob
    bea, bob = sign_up("bea"), sign_up("bob", "Bobby Beaumont")
    sign_up("beatriz")
    graph_logic.block(caller(bea), "bob")
    indexer.flush()

    # Then neither finds the other, while others still find both
    assert "bob" not in find_users(bea, "bo")
    assert "bob" not in find_users(bea, "beau")
    assert find_users(bob, "bea") == ["beatriz", "bob"]  # Bob finds himself (Beaumont), not Bea
    bystander = sign_up("carla")
    assert set(find_users(bystander, "b")) == {"bea", "bob", "beatriz"}


def test_display_name_words_are_each_searchable(indexer: Indexer) -> None:
    viewer = sign_up("viewer")
    sign_up("mjw", "Mary Jane Watson")
    sign_up("jsm", "Jane Smith")
    indexer.flush()

    assert find_users(viewer, "wat") == ["mjw"]
    assert sorted(find_users(viewer, "jane")) == ["jsm", "mjw"]
    assert find_users(viewer, "mary wat") == ["mjw"]
    assert find_users(viewer, "jane smi") == ["jsm"]


def test_a_rename_moves_the_user_in_the_index(indexer: Indexer) -> None:
    # Given a user found by their name
    user = sign_up("renamed", "Oldfield Person")
    indexer.flush()
    assert find_users(user, "oldf") == ["renamed"]

    # When they change it
    rename(user, "Newman Person")
    indexer.flush()

    # Then the new name finds them, the old one does not, and no entry is left under the old name
    assert find_users(user, "newm") == ["renamed"]
    assert find_users(user, "oldf") == []
    assert list(SearchModel.query("user#oldf")) == []
    assert find_users(user, "person") == ["renamed"]


def test_follower_count_moves_entries_only_when_its_bucket_changes(indexer: Indexer) -> None:
    # Given a user and the sort key of one of their entries
    star = sign_up("star")
    indexer.flush()

    def entry_keys() -> list[str]:
        return [item.sk for item in SearchModel.query("user#star")]

    assert entry_keys() == [f"63#{star['sub']}"]  # bucket 0
    fans = [sign_up(f"fan{index}") for index in range(3)]
    indexer.flush()

    # When followers arrive one by one, Then the entry moves at 1 (bucket 1) and 3 (bucket 2), not at 2
    seen = []
    for fan in fans:
        follow(fan, star)
        indexer.flush()
        seen.append(entry_keys())
    assert seen == [[f"62#{star['sub']}"], [f"62#{star['sub']}"], [f"61#{star['sub']}"]]


def test_a_private_account_can_still_be_found(indexer: Indexer) -> None:
    viewer, hidden = sign_up("viewer"), sign_up("hidden_one", "Private Person")
    make_private(hidden)
    indexer.flush()

    assert find_users(viewer, "private") == ["hidden_one"]


def test_bad_requests_are_refused_in_the_envelope(indexer: Indexer) -> None:
    viewer = sign_up("viewer")

    for query in ({}, {"q": "a", "limit": 0}, {"q": "a", "limit": 51}, {"q": "a" * 101}):
        response = get(viewer, "/search/users", **query)
        assert response["statusCode"] == 422, query
        assert response_json(response)["error"]["code"] == "validation_error"
    assert find_users(viewer, "!!!") == []


# Hashtags


def test_tags_by_prefix_with_post_counts_exact_first(indexer: Indexer) -> None:
    # Given posts tagged #sunset (3), #sunrise (1), #sun (1) and #café (1)
    author = sign_up("author")
    for caption in ("#Sunset #sun", "#sunset again", "#SUNSET #sunrise", "#café"):
        publish(author, caption)
    indexer.flush()

    # Then a prefix lists its tags by post count, the exact tag first
    assert find_tags(author, "sun") == [("sun", 1), ("sunset", 3), ("sunrise", 1)]
    assert find_tags(author, "#SUNS") == [("sunset", 3)]
    assert find_tags(author, "sun", limit=1) == [("sun", 1)]
    # And accents do not matter to the prefix
    assert find_tags(author, "cafe") == [("café", 1)]
    assert find_tags(author, "moon") == []


def test_tag_page_is_newest_first_with_a_stable_cursor(indexer: Indexer) -> None:
    # Given five posts tagged #paging
    author = sign_up("author")
    posts = [publish(author, f"number {index} #paging") for index in range(5)]
    indexer.flush()

    # When the pages are read two at a time, with a new post published between pages
    first = tag_page(author, "paging", limit=2)
    newer = publish(author, "late #paging")
    indexer.flush()
    second = tag_page(author, "paging", limit=2, cursor=first["next_cursor"])
    third = tag_page(author, "paging", limit=2, cursor=second["next_cursor"])

    # Then every post comes once, newest first, and the late one does not shift the pages
    pages = [[post["post_id"] for post in page["items"]] for page in (first, second, third)]
    assert pages == [posts[:2:-1], posts[2:0:-1], posts[:1]]
    assert third["next_cursor"] is None
    assert tag_post_ids(author, "PAGING", limit=1) == [newer]
    assert first["items"][0]["tags"] == ["paging"]
    assert first["items"][0]["author"]["username"] == "author"


def test_a_tampered_or_foreign_cursor_is_refused(indexer: Indexer) -> None:
    author = sign_up("author")
    for caption in ("#one", "#one", "#two", "#two"):
        publish(author, caption)
    indexer.flush()
    cursor = tag_page(author, "one", limit=1)["next_cursor"]
    assert cursor

    for tag, bad in (("one", cursor[:-2] + "xx"), ("two", cursor)):
        response = get(author, f"/tags/{tag}/posts", route_key="GET /tags/{tag}/posts", limit=1, cursor=bad)
        assert response["statusCode"] == 422
        assert response_json(response)["error"]["code"] == "validation_error"


def test_a_tag_page_opens_with_its_hash_and_with_combining_marks(indexer: Indexer) -> None:
    # Given a post whose tags hold combining marks (Devanagari vowel signs, an accent typed apart)
    author = sign_up("author")
    post_id = publish(author, "#plain #xxहिन्दी #cafe\u0301")
    indexer.flush()

    # Then each tag's page opens as GET /search/tags offers it, and with the `#` API Gateway decodes from %23
    for tag in ("plain", "#plain", "xxहिन्दी", "#xxहिन्दी", "café", "cafe\u0301"):
        assert tag_post_ids(author, tag) == [post_id], tag


def test_not_a_tag_is_refused(indexer: Indexer) -> None:
    viewer = sign_up("viewer")
    response = get(viewer, "/tags/new york/posts", route_key="GET /tags/{tag}/posts")

    assert response["statusCode"] == 422


def test_a_deleted_post_leaves_its_tags(indexer: Indexer) -> None:
    # Given two posts tagged #gone, one of them also #lonely
    author = sign_up("author")
    kept, deleted = publish(author, "#gone"), publish(author, "#gone #lonely")
    indexer.flush()
    assert find_tags(author, "lonely") == [("lonely", 1)]

    # When the second one is deleted
    delete_post(deleted)
    indexer.flush()

    # Then it is off both tags, and a tag with no post left is no longer offered
    assert tag_post_ids(author, "gone") == [kept]
    assert find_tags(author, "gone") == [("gone", 1)]
    assert find_tags(author, "lonely") == []
    assert tag_post_ids(author, "lonely") == []


def test_private_accounts_posts_show_to_followers_and_themselves_only(indexer: Indexer) -> None:
    # Given a private account's post and a public one under #mixed
    private, public = sign_up("private_acc"), sign_up("public_acc")
    follower, stranger = sign_up("follower"), sign_up("stranger")
    hidden, shown = publish(private, "#mixed"), publish(public, "#mixed")
    follow(follower, private)
    make_private(private)
    indexer.flush()

    # Then strangers see only the public post; the follower and the author see both
    assert tag_post_ids(stranger, "mixed") == [shown]
    assert tag_post_ids(follower, "mixed") == [shown, hidden]
    assert tag_post_ids(private, "mixed") == [shown, hidden]
    # And counts are the tag's, whoever asks
    assert find_tags(stranger, "mixed") == [("mixed", 2)]


def test_posts_of_users_in_a_block_either_way_are_left_out(indexer: Indexer) -> None:
    blocker, blocked, other = sign_up("blocker"), sign_up("blocked"), sign_up("other")
    by_blocker, by_blocked, by_other = (publish(user, "#feud") for user in (blocker, blocked, other))
    graph_logic.block(caller(blocker), "blocked")
    indexer.flush()

    assert tag_post_ids(blocker, "feud") == [by_other, by_blocker]
    assert tag_post_ids(blocked, "feud") == [by_other, by_blocked]
    assert tag_post_ids(other, "feud") == [by_other, by_blocked, by_blocker]


def test_liked_and_saved_flags_are_the_viewers(indexer: Indexer) -> None:
    from pinhole.social.dal import InteractionRepository

    author, fan = sign_up("author"), sign_up("fan")
    post_id = publish(author, "#flags")
    InteractionRepository().like(post_id, fan["sub"])
    indexer.flush()

    (seen_by_fan,) = tag_page(fan, "flags")["items"]
    (seen_by_author,) = tag_page(author, "flags")["items"]
    assert (seen_by_fan["liked_by_me"], seen_by_fan["like_count"]) == (True, 1)
    assert seen_by_author["liked_by_me"] is False


def test_redelivered_records_change_nothing(indexer: Indexer) -> None:
    # Given a post indexed once
    author = sign_up("author")
    publish(author, "#twice")
    indexer.flush()

    # When the same records are delivered again (a replay of the stream)
    replay = routed_event(indexer.last_batch["Records"])
    assert search_index.on_change(replay, FakeLambdaContext()) == {"batchItemFailures": []}

    # Then the count is still one
    assert find_tags(author, "twice") == [("twice", 1)]


def test_a_hot_tag_is_spread_over_its_shards(indexer: Indexer) -> None:
    author = sign_up("author")
    posts = [publish(author, "#hot") for _ in range(24)]
    indexer.flush()

    used = {index for index in range(TAG_SHARDS) if list(SearchModel.query(f"tag#hot#{index}"))}
    assert used == {tag_shard(post_id) for post_id in posts}
    assert len(used) > 1
    assert find_tags(author, "hot") == [("hot", 24)]
    assert len(tag_post_ids(author, "hot", limit=50)) == 24


def test_the_most_used_tags_of_a_prefix_are_read_first(aws: dict[str, str]) -> None:
    # Given five tags under "tg", #tg5 on four posts (one per shard, so each post re-ranks it)
    indexer = SearchIndexer()
    post_ids = {}
    for number in range(20_000):
        post_id = f"01JTEST{number:019d}"
        post_ids.setdefault(tag_shard(post_id), post_id)
        if len(post_ids) == TAG_SHARDS:
            break
    for index, post_id in enumerate(list(post_ids.values())[:4]):
        indexer.post_changed(None, IndexedPost(post_id=post_id, author_id="a", status="published", tags=["tg5"]))
        indexer.post_changed(
            None, IndexedPost(post_id=f"{post_id}X", author_id="a", status="published", tags=[f"tg{index}"])
        )

    # Then tg5 carries the bucket of four posts, and leads a search that reads three entries only
    assert SearchModel.get(tag_rank_key("tg5"), "rank").bucket == bucket(4)
    assert SearchIndex().tags_with_prefix("tg", 3)[0] == "tg5"
    assert [item.tag for item in search_tags("tg", 1)] == ["tg5"]
