from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from pynamodb.connection import Connection

from functions.social import consumers as social_consumers
from functions.social import handler as social
from functions.upload import handler as upload
from functions.users import handler as users
from pinhole.posts import logic as posts
from pinhole.posts.dal import PostModel, PostRepository
from pinhole.posts.models import MediaStatus, PostStatus, StoredMedia, StoredRendition
from pinhole.privacy.dal import AccountRepository, PrivacyModel
from pinhole.privacy.models import UserRef
from pinhole.shared.caller import Caller
from pinhole.shared.clock import utc_now
from pinhole.shared.settings import get_settings
from pinhole.social import logic
from pinhole.social.dal import InteractionModel, viewer_flags
from pinhole.upload.keys import UploadKey
from pinhole.users.dal import ProfileRepository
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.streams import StreamTap, routed_event
from tests.support.users import sign_up_claims

JPEG = {"content_type": "image/jpeg", "size_bytes": 2_000_000}


@pytest.fixture
def tables(aws: dict[str, str]) -> dict[str, str]:
    for model in (InteractionModel, PrivacyModel):
        if not model.exists():  # the shared `aws` fixture may come to create them
            model.create_table(wait=True)
    return aws


@pytest.fixture
def people(tables: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: sign_up_claims(name) for name in ("alice", "bob", "carol")}


def call(
    method: str,
    path: str,
    claims: dict[str, str],
    route: str,
    params: dict[str, str] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    handler: Any = social.handler,
) -> tuple[int, Any]:
    event = http_event(method, path, claims=claims, body=body, route_key=f"{method} {route}", path_parameters=params)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def on_post(method: str, post_id: str, claims: dict[str, str], what: str, **kwargs: Any) -> tuple[int, Any]:
    """A call to /posts/{post_id}/<what>."""
    return call(
        method, f"/posts/{post_id}/{what}", claims, f"/posts/{{post_id}}/{what}", {"post_id": post_id}, **kwargs
    )


def publish(claims: dict[str, str], caption: str = "Dawn") -> str:
    """Creates a post and marks its media processed, as the resize pipeline would: it is published."""
    status, created = call(
        "POST", "/posts", claims, "/posts", body={"caption": caption, "media": [JPEG]}, handler=upload.handler
    )
    assert status == 201, created
    post = created["post"]
    for media in post["media"]:
        ready = StoredMedia(
            media_id=media["media_id"],
            type="image",
            content_type="image/jpeg",
            size_bytes=1,
            status=MediaStatus.READY,
            width=1080,
            height=720,
            rendition_keys={
                "large": StoredRendition(
                    key=f"posts/{post['post_id']}/{media['media_id']}/large.jpg",
                    width=1080,
                    height=720,
                    content_type="image/jpeg",
                )
            },
        )
        posts.record_media_ready(UploadKey(post["post_id"], media["media_id"]), ready)
    return str(post["post_id"])


def get_post(post_id: str, claims: dict[str, str]) -> tuple[int, Any]:
    return call("GET", f"/posts/{post_id}", claims, "/posts/{post_id}", {"post_id": post_id}, handler=upload.handler)


def delete_post(post_id: str, claims: dict[str, str]) -> tuple[int, Any]:
    return call("DELETE", f"/posts/{post_id}", claims, "/posts/{post_id}", {"post_id": post_id}, handler=upload.handler)


def comment(post_id: str, claims: dict[str, str], text: str) -> tuple[int, Any]:
    return on_post("POST", post_id, claims, "comments", body={"text": text})


def delete_comment(post_id: str, comment_id: str, claims: dict[str, str]) -> tuple[int, Any]:
    return call(
        "DELETE",
        f"/posts/{post_id}/comments/{comment_id}",
        claims,
        "/posts/{post_id}/comments/{comment_id}",
        {"post_id": post_id, "comment_id": comment_id},
    )


def every_page(fetch: Any, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        status, page = fetch(query={"limit": str(limit), **({"cursor": cursor} if cursor else {})})
        assert status == 200, page
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


def save(post_id: str, claims: dict[str, str], collection: str | None = None, method: str = "POST") -> int:
    body = {"collection": collection} if collection is not None else None
    return on_post(method, post_id, claims, "save", body=body)[0]


def saved(claims: dict[str, str], **query: str) -> tuple[int, Any]:
    return call("GET", "/me/saved", claims, "/me/saved", query=query or None)


def collections(claims: dict[str, str]) -> list[dict[str, Any]]:
    status, body = call("GET", "/me/collections", claims, "/me/collections")
    assert status == 200
    return list(body["items"])


def make_private(claims: dict[str, str]) -> None:
    users.handler(http_event("PATCH", "/me", claims=claims, body={"is_private": True}), FakeLambdaContext())


def caller(claims: dict[str, str]) -> Caller:
    return Caller(user_id=claims["sub"], username=claims["username"])


# Likes


def test_like_and_unlike_are_idempotent_and_counted_exactly(people: dict[str, dict[str, str]]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)

    assert on_post("POST", post_id, bob, "like") == (200, {"liked": True, "like_count": 1})
    assert on_post("POST", post_id, bob, "like") == (200, {"liked": True, "like_count": 1})
    assert on_post("POST", post_id, carol, "like") == (200, {"liked": True, "like_count": 2})
    assert on_post("DELETE", post_id, bob, "like") == (200, {"liked": False, "like_count": 1})
    assert on_post("DELETE", post_id, bob, "like") == (200, {"liked": False, "like_count": 1})

    seen_by_carol, seen_by_bob = get_post(post_id, carol)[1], get_post(post_id, bob)[1]
    assert seen_by_carol["like_count"] == 1
    assert viewer_flags(carol["sub"], [post_id]) == {post_id: (True, False)}
    assert viewer_flags(bob["sub"], [post_id]) == {post_id: (False, False)}
    assert seen_by_bob["like_count"] == 1


def test_concurrent_likes_and_unlikes_keep_the_count_exact(tables: dict[str, str]) -> None:
    # On the use cases, not the handler: a handler module serves one request at a time, as a Lambda
    # execution environment does; DynamoDB's conditions are what must keep the count exact.
    author = sign_up_claims("author")
    post_id = publish(author)
    fans = [sign_up_claims(f"fan{index}") for index in range(12)]

    def churn(fan: dict[str, str]) -> None:
        for _ in range(3):
            logic.like(caller(fan), post_id)
        if fan["username"] in ("fan1", "fan4", "fan7"):
            logic.unlike(caller(fan), post_id)
            logic.unlike(caller(fan), post_id)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(churn, fans))

    likers = every_page(lambda **kw: on_post("GET", post_id, author, "likes", **kw), limit=50)
    assert get_post(post_id, author)[1]["like_count"] == len(likers) == 9


def test_who_liked_pages_without_duplicates_or_gaps(tables: dict[str, str]) -> None:
    author = sign_up_claims("author")
    post_id = publish(author)
    fans = [sign_up_claims(f"fan{index}") for index in range(7)]
    for fan in fans:
        on_post("POST", post_id, fan, "like")

    likers = every_page(lambda **kw: on_post("GET", post_id, author, "likes", **kw), limit=3)

    assert sorted(user["username"] for user in likers) == [f"fan{index}" for index in range(7)]
    assert set(likers[0]) == {"user_id", "username", "display_name", "avatar_url", "avatar"}


def test_liking_a_deleted_or_unknown_post_is_404(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)
    on_post("POST", post_id, bob, "like")
    assert delete_post(post_id, alice)[0] == 204

    status, body = on_post("POST", post_id, bob, "like")
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert on_post("POST", "01UNKNOWNPOST0000000000000", bob, "like")[0] == 404
    assert on_post("GET", post_id, bob, "likes")[0] == 404


def test_a_post_still_uploading_is_404_to_others(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    _, created = call("POST", "/posts", alice, "/posts", body={"media": [JPEG]}, handler=upload.handler)
    pending = created["post"]["post_id"]

    assert on_post("POST", pending, bob, "like")[0] == 404
    assert comment(pending, bob, "first!")[0] == 404
    assert save(pending, bob) == 404


def test_the_author_sees_a_post_not_published_but_cannot_like_comment_save_or_edit_one_removed(
    people: dict[str, dict[str, str]],
) -> None:
    alice = people["alice"]
    _, created = call("POST", "/posts", alice, "/posts", body={"media": [JPEG]}, handler=upload.handler)
    pending = created["post"]["post_id"]
    removed = publish(alice)
    assert on_post("POST", removed, alice, "like")[0] == 200  # liked while it was published
    PostModel(post_id=removed).update(actions=[PostModel.status.set(PostStatus.REMOVED.value)])  # by a moderator

    for post_id, status in ((pending, "pending"), (removed, "removed")):
        assert get_post(post_id, alice)[1]["status"] == status
        answers = [
            on_post("POST", post_id, alice, "like"),
            comment(post_id, alice, "mine"),
            on_post("POST", post_id, alice, "save"),
        ]
        assert [(code, body["error"]["code"]) for code, body in answers] == [(409, "conflict")] * 3, answers
    edit = {"caption": "what the moderator saw is gone"}
    path = f"/posts/{removed}"
    status, body = call("PATCH", path, alice, "/posts/{post_id}", {"post_id": removed}, edit, handler=upload.handler)
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert get_post(removed, alice)[1]["caption"] == "Dawn"
    assert on_post("DELETE", removed, alice, "like")[1] == {"liked": False, "like_count": 0}  # undoing stays open
    status, body = call(
        "PATCH", f"/posts/{pending}", alice, "/posts/{post_id}", {"post_id": pending}, edit, handler=upload.handler
    )
    assert status == 200  # a pending post's caption is the author's to change until it is published


# Comments


def test_comments_list_oldest_first_in_pages_and_are_counted(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)

    status, first = comment(post_id, bob, "  Lovely light  ")
    for index in range(4):
        comment(post_id, alice if index % 2 else bob, f"reply {index}")

    assert status == 201
    assert first["text"] == "Lovely light"
    assert (first["post_id"], first["author"]["username"]) == (post_id, "bob")
    assert first["created_at"].endswith("Z")
    listed = every_page(lambda **kw: on_post("GET", post_id, bob, "comments", **kw), limit=2)
    assert [c["text"] for c in listed] == ["Lovely light", "reply 0", "reply 1", "reply 2", "reply 3"]
    assert [c["author"]["username"] for c in listed] == ["bob", "bob", "alice", "bob", "alice"]
    assert listed[0] == first
    assert get_post(post_id, bob)[1]["comment_count"] == 5


def test_comment_author_and_post_author_may_delete_a_comment_no_one_else(people: dict[str, dict[str, str]]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    by_bob = comment(post_id, bob, "from bob")[1]["comment_id"]
    also_by_bob = comment(post_id, bob, "bob again")[1]["comment_id"]

    status, refused = delete_comment(post_id, by_bob, carol)
    assert (status, refused["error"]["code"]) == (403, "forbidden")
    assert delete_comment(post_id, by_bob, bob)[0] == 204
    assert delete_comment(post_id, also_by_bob, alice)[0] == 204

    assert delete_comment(post_id, by_bob, bob)[0] == 404
    assert on_post("GET", post_id, carol, "comments")[1]["items"] == []
    assert get_post(post_id, carol)[1]["comment_count"] == 0


@pytest.mark.parametrize("text", ["", "   ", "x" * 2201], ids=["empty", "blank", "2201-chars"])
def test_comment_text_outside_1_to_2200_characters_is_refused(people: dict[str, dict[str, str]], text: str) -> None:
    post_id = publish(people["alice"])

    status, body = comment(post_id, people["bob"], text)

    assert (status, body["error"]["code"]) == (422, "validation_error")
    assert body["error"]["details"][0]["field"] == "text"
    assert get_post(post_id, people["bob"])[1]["comment_count"] == 0


def test_a_comment_that_is_not_utf8_is_refused_and_nothing_is_stored(people: dict[str, dict[str, str]]) -> None:
    # Given a post
    post_id = publish(people["alice"])

    # When Bob's comment arrives in Latin-1 (as the local cloud passes a body that is not UTF-8: base64-encoded)
    event = http_event(
        "POST",
        f"/posts/{post_id}/comments",
        claims=people["bob"],
        route_key="POST /posts/{post_id}/comments",
        path_parameters={"post_id": post_id},
        raw_body=b'{"text": "caf\xe9"}',
    )
    response = social.handler(event, FakeLambdaContext())

    # Then it is refused as JSON that cannot be read, and no comment exists
    error = response_json(response)["error"]
    assert (response["statusCode"], error["code"]) == (422, "validation_error")
    (detail,) = error["details"]
    assert (detail["field"], detail["type"]) == ("body", "json_invalid")
    assert detail["message"].startswith("The body is not valid UTF-8")
    assert get_post(post_id, people["bob"])[1]["comment_count"] == 0
    assert on_post("GET", post_id, people["bob"], "comments")[1]["items"] == []


@pytest.mark.parametrize(
    "text",
    ["\u200b", "\u200b\u200c\u200d\u2060", "\u3164", "\u2800", "\ufeff", "\u200e\u200f", "\u115f\u1160"],
)
def test_a_comment_that_shows_nothing_is_refused_as_a_blank_one_is(
    people: dict[str, dict[str, str]], text: str
) -> None:
    # Given a published post and the answer to a blank comment on it
    post_id = publish(people["alice"])
    blank = comment(post_id, people["bob"], "   ")

    # When bob comments with characters that draw nothing (zero-width, fillers, the braille blank, marks)
    status, body = comment(post_id, people["bob"], text)

    # Then it is refused as the blank one is (the pattern says why: it holds nothing shown), nothing stored or counted
    [detail] = body["error"]["details"]
    assert (
        (status, body["error"]["code"], detail["field"])
        == (blank[0], blank[1]["error"]["code"], "text")
        == (
            422,
            "validation_error",
            "text",
        )
    )
    assert detail.keys() == blank[1]["error"]["details"][0].keys()
    assert detail["type"] == "string_pattern_mismatch"
    assert on_post("GET", post_id, people["bob"], "comments")[1]["items"] == []
    assert get_post(post_id, people["bob"])[1]["comment_count"] == 0


def test_comment_of_2200_characters_is_accepted(people: dict[str, dict[str, str]]) -> None:
    post_id = publish(people["alice"])

    assert comment(post_id, people["bob"], "x" * 2200)[0] == 201


def test_comment_with_an_extra_field_is_refused(people: dict[str, dict[str, str]]) -> None:
    post_id = publish(people["alice"])

    status, body = on_post("POST", post_id, people["bob"], "comments", body={"text": "hi", "author_id": "someone"})

    assert (status, body["error"]["code"]) == (422, "validation_error")
    assert body["error"]["details"][0]["field"] == "author_id"


# Saved posts


def test_saving_into_collections_is_idempotent_and_counted(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    older, newer = publish(alice, "older"), publish(alice, "newer")

    assert save(older, bob) == 204
    assert save(older, bob) == 204
    assert save(older, bob, "  Trips ") == 204
    assert save(newer, bob, "Trips") == 204

    assert collections(bob) == [{"name": "Trips", "post_count": 2}, {"name": "saved", "post_count": 1}]
    status, default = saved(bob)
    assert status == 200
    assert [(p["post_id"], p["saved_by_me"], p["liked_by_me"]) for p in default["items"]] == [(older, True, False)]
    trips = every_page(lambda **kw: saved(bob, collection="Trips", **kw["query"]), limit=1)
    assert [p["post_id"] for p in trips] == [newer, older]
    assert trips[0]["author"]["username"] == "alice"
    assert collections(alice) == []


def test_unsaving_is_idempotent_and_keeps_other_collections(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)
    save(post_id, bob)
    save(post_id, bob, "Trips")

    assert save(post_id, bob, method="DELETE") == 204
    assert save(post_id, bob, method="DELETE") == 204
    assert collections(bob) == [{"name": "Trips", "post_count": 1}]
    assert viewer_flags(bob["sub"], [post_id]) == {post_id: (False, True)}  # still in Trips

    assert save(post_id, bob, "Trips", method="DELETE") == 204
    assert collections(bob) == []
    assert saved(bob, collection="Trips")[1]["items"] == []
    assert viewer_flags(bob["sub"], [post_id]) == {post_id: (False, False)}


def test_a_saved_list_whose_last_page_is_exactly_full_says_it_ends(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    for post_id in (publish(alice), publish(alice)):
        assert save(post_id, bob) == 204

    first = saved(bob, limit="1")[1]
    last = saved(bob, limit="1", cursor=first["next_cursor"])[1]

    assert (len(first["items"]), len(last["items"]), last["next_cursor"]) == (1, 1, None)  # no empty page to read
    assert saved(bob, limit="2")[1]["next_cursor"] is None


def test_saved_list_skips_posts_deleted_or_hidden_since(people: dict[str, dict[str, str]]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    kept, deleted, hidden = publish(alice, "kept"), publish(alice, "deleted"), publish(carol, "hidden")
    for post_id in (kept, deleted, hidden):
        save(post_id, bob)
    on_post("POST", kept, bob, "like")

    delete_post(deleted, alice)
    make_private(carol)

    items = saved(bob)[1]["items"]
    assert [(p["post_id"], p["liked_by_me"], p["saved_by_me"]) for p in items] == [(kept, True, True)]
    assert items[0]["like_count"] == 1


def test_a_deleted_post_leaves_every_collection_it_was_saved_in_and_their_counts(
    people: dict[str, dict[str, str]],
) -> None:
    # Given Bob's and Carol's collections holding Alice's post, and another post of hers Bob keeps
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    deleted, kept = publish(alice, "deleted"), publish(alice, "kept")
    for who, collection in ((bob, None), (bob, "Trips"), (carol, "Trips")):
        assert save(deleted, who, collection) == 204
    assert save(kept, bob, "Trips") == 204
    posts_stream = StreamTap([get_settings().posts_table_name])
    posts_stream.new_records()  # what came before the deletion

    # When she deletes it, and the posts table's stream reaches the consumer (twice: a redelivery)
    assert delete_post(deleted, alice)[0] == 204
    batch = routed_event(posts_stream.new_records())
    for _ in range(2):
        assert social_consumers.on_post_deleted(batch, FakeLambdaContext()) == {"batchItemFailures": []}

    # Then it is in no collection, and each collection counts what it shows (an empty one is gone)
    assert collections(bob) == [{"name": "Trips", "post_count": 1}]
    assert collections(carol) == []
    assert [p["post_id"] for p in saved(bob, collection="Trips")[1]["items"]] == [kept]
    assert viewer_flags(bob["sub"], [deleted]) == {deleted: (False, False)}


def test_a_saved_post_s_other_changes_leave_it_saved(people: dict[str, dict[str, str]]) -> None:
    # Given a saved post (the router sends the consumer deletions only; the consumer checks for itself)
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    assert save(post_id, bob) == 204
    posts_stream = StreamTap([get_settings().posts_table_name])
    posts_stream.new_records()

    # When its record changes without being deleted (a like)
    assert on_post("POST", post_id, carol, "like")[0] == 200
    batch = routed_event(posts_stream.new_records())
    assert social_consumers.on_post_deleted(batch, FakeLambdaContext()) == {"batchItemFailures": []}

    # Then the save stays
    assert collections(bob) == [{"name": "saved", "post_count": 1}]


def on_user(method: str, claims: dict[str, str], username: str, what: str, body: Any = None) -> None:
    """A call to /users/{username}/<what> that must succeed (follow, block and their undoing)."""
    path, route = f"/users/{username}/{what}", f"/users/{{username}}/{what}"
    status, answer = call(method, path, claims, route, {"username": username}, body=body, handler=users.handler)
    assert status in (200, 204), answer


def set_private(claims: dict[str, str], private: bool) -> None:
    users.handler(http_event("PATCH", "/me", claims=claims, body={"is_private": private}), FakeLambdaContext())


def follow_approved(follower: dict[str, str], author: dict[str, str]) -> None:
    """The follower asks to follow the (private) author, who approves."""
    on_user("POST", follower, author["username"], "follow")
    route, path = "/me/follow-requests/{username}", f"/me/follow-requests/{follower['username']}"
    status, _ = call(
        "POST", path, author, route, {"username": follower["username"]}, body={"approve": True}, handler=users.handler
    )
    assert status == 204


def deactivated(claims: dict[str, str], deactivate: bool) -> None:
    """DELETE /me's deactivation (Cognito's password check aside), or POST /me/reactivate's."""
    accounts, now = AccountRepository(), utc_now()
    if deactivate:
        assert accounts.deactivate(UserRef(user_id=claims["sub"], username=claims["username"]), now, now + timedelta(1))
    else:
        assert accounts.reactivate(claims["sub"], now)


def taken_down(post_id: str, removed: bool) -> None:
    """A moderator's removal of the post, or its restore."""
    record = PostRepository().get(post_id)
    assert posts.take_down(record) if removed else posts.reinstate(record)


def suspended(claims: dict[str, str], suspend: bool) -> None:
    assert ProfileRepository().set_suspended(claims["sub"], suspend)


Change = Callable[[dict[str, str], dict[str, str], str], None]
"""Something done about the author, the viewer or the post (in that order)."""


def _nothing(author: dict[str, str], viewer: dict[str, str], post_id: str) -> None:
    pass


def _followed_privately(author: dict[str, str], viewer: dict[str, str], post_id: str) -> None:
    set_private(author, True)
    follow_approved(viewer, author)


# What hides a saved post from the one who saved it, and what shows it again: (before saving, hide, show).
VISIBILITY_CHANGES: dict[str, tuple[Change, Change, Change]] = {
    "the viewer unfollows the private author, and follows again": (
        _followed_privately,
        lambda author, viewer, _: on_user("DELETE", viewer, author["username"], "follow"),
        lambda author, viewer, _: follow_approved(viewer, author),
    ),
    "the author blocks the viewer, and unblocks": (
        _nothing,
        lambda author, viewer, _: on_user("POST", author, viewer["username"], "block"),
        lambda author, viewer, _: on_user("DELETE", author, viewer["username"], "block"),
    ),
    "the viewer blocks the author, and unblocks": (
        _nothing,
        lambda author, viewer, _: on_user("POST", viewer, author["username"], "block"),
        lambda author, viewer, _: on_user("DELETE", viewer, author["username"], "block"),
    ),
    "the author deactivates, and reactivates": (
        _nothing,
        lambda author, _, __: deactivated(author, True),
        lambda author, _, __: deactivated(author, False),
    ),
    "the public author turns private, and the viewer follows": (
        _nothing,
        lambda author, _, __: set_private(author, True),
        lambda author, viewer, _: follow_approved(viewer, author),
    ),
    "a moderator removes the post, and restores it": (
        _nothing,
        lambda _, __, post_id: taken_down(post_id, True),
        lambda _, __, post_id: taken_down(post_id, False),
    ),
    "a moderator suspends the author, and lifts it": (
        _nothing,
        lambda author, _, __: suspended(author, True),
        lambda author, _, __: suspended(author, False),
    ),
}


@pytest.mark.parametrize("change", list(VISIBILITY_CHANGES))
def test_collections_count_only_the_saved_posts_the_saved_list_shows(
    people: dict[str, dict[str, str]], change: str
) -> None:
    # Given Bob's saves: Alice's post in "saved" and "Priv", Carol's in "saved"
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    before, hide, show = VISIBILITY_CHANGES[change]
    hidden, other = publish(alice, "hidden"), publish(carol, "other")
    before(alice, bob, hidden)
    for post_id, collection in ((hidden, None), (hidden, "Priv"), (other, None)):
        assert save(post_id, bob, collection) == 204
    assert collections(bob) == [{"name": "Priv", "post_count": 1}, {"name": "saved", "post_count": 2}]

    # When Alice's post becomes invisible to Bob
    hide(alice, bob, hidden)

    # Then the collections count what the lists show: "Priv" shows nothing and is not listed
    assert [p["post_id"] for p in saved(bob)[1]["items"]] == [other]
    assert saved(bob, collection="Priv")[1]["items"] == []
    assert collections(bob) == [{"name": "saved", "post_count": 1}]

    # And when it shows again, it counts again
    show(alice, bob, hidden)
    assert [p["post_id"] for p in saved(bob)[1]["items"]] == [other, hidden]
    assert [p["post_id"] for p in saved(bob, collection="Priv")[1]["items"]] == [hidden]
    assert collections(bob) == [{"name": "Priv", "post_count": 1}, {"name": "saved", "post_count": 2}]


def test_collections_count_the_caller_s_own_saved_posts_whatever_their_status(
    people: dict[str, dict[str, str]],
) -> None:
    # Given Alice's own post in her collection, which a moderator then removes
    alice = people["alice"]
    post_id = publish(alice)
    set_private(alice, True)
    assert save(post_id, alice, "Mine") == 204
    taken_down(post_id, True)

    # Then she still sees it, and it counts (readable_post lets the author see her own post)
    assert [p["post_id"] for p in saved(alice, collection="Mine")[1]["items"]] == [post_id]
    assert collections(alice) == [{"name": "Mine", "post_count": 1}]


def test_collections_read_each_saved_post_and_author_once_whatever_the_collections(
    people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three posts of Alice's, each saved by Bob into three collections
    alice, bob = people["alice"], people["bob"]
    post_ids = [publish(alice, f"post {index}") for index in range(3)]
    for post_id in post_ids:
        for collection in ("A", "B", "C"):
            save(post_id, bob, collection)
    reads: list[tuple[str, int]] = []
    original = Connection.batch_get_item

    def counting(self: Connection, table_name: str, keys: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append((table_name, len(keys)))
        return original(self, table_name, keys, *args, **kwargs)

    monkeypatch.setattr(Connection, "batch_get_item", counting)

    # When Bob lists his collections
    listed = collections(bob)

    # Then each post was read once, and its author once
    assert listed == [{"name": name, "post_count": 3} for name in ("A", "B", "C")]
    settings = get_settings()
    assert [read for read in reads if read[0] == settings.posts_table_name] == [(settings.posts_table_name, 3)]
    assert [read for read in reads if read[0] == settings.users_table_name] == [(settings.users_table_name, 1)]


@pytest.mark.parametrize("collection", ["", "   ", "a#b", "x" * 51], ids=["empty", "blank", "hash", "51-chars"])
def test_bad_collection_names_are_refused(people: dict[str, dict[str, str]], collection: str) -> None:
    post_id = publish(people["alice"])

    assert save(post_id, people["bob"], collection) == 422
    assert saved(people["bob"], collection=collection)[0] == 422
    assert collections(people["bob"]) == []


def test_a_collection_name_is_one_collection_however_its_accent_was_typed(people: dict[str, dict[str, str]]) -> None:
    # Given two posts saved into "Café", typed once precomposed (U+00E9) and once with a combining accent
    alice, bob = people["alice"], people["bob"]
    first, second = publish(alice, "first"), publish(alice, "second")
    assert save(first, bob, "Caf\u00e9") == 204
    assert save(second, bob, "Cafe\u0301") == 204

    # Then they are one collection, named in NFC, read and emptied under either spelling
    assert collections(bob) == [{"name": "Caf\u00e9", "post_count": 2}]
    assert [p["post_id"] for p in saved(bob, collection="Cafe\u0301")[1]["items"]] == [second, first]
    assert save(first, bob, "Cafe\u0301", method="DELETE") == 204
    assert save(second, bob, "Caf\u00e9", method="DELETE") == 204
    assert collections(bob) == []


def test_collection_names_are_case_sensitive(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)

    assert save(post_id, bob, "Trips") == 204
    assert save(post_id, bob, "trips") == 204

    assert collections(bob) == [{"name": "Trips", "post_count": 1}, {"name": "trips", "post_count": 1}]


def test_save_with_an_extra_field_is_refused(people: dict[str, dict[str, str]]) -> None:
    post_id = publish(people["alice"])

    status, body = on_post("POST", post_id, people["bob"], "save", body={"collection": "Trips", "pinned": True})

    assert (status, body["error"]["code"]) == (422, "validation_error")


# Visibility and cursors


def test_private_accounts_post_is_404_to_a_non_follower(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)
    make_private(alice)

    for status, body in (
        on_post("POST", post_id, bob, "like"),
        on_post("DELETE", post_id, bob, "like"),
        on_post("GET", post_id, bob, "likes"),
        comment(post_id, bob, "hello?"),
        on_post("GET", post_id, bob, "comments"),
        on_post("POST", post_id, bob, "save"),
    ):
        assert (status, body["error"]["code"]) == (404, "not_found")
    assert on_post("POST", post_id, alice, "like")[1] == {"liked": True, "like_count": 1}
    assert comment(post_id, alice, "mine")[0] == 201


def test_approved_follower_may_like_and_comment_on_a_private_post(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)
    make_private(alice)
    follow = "/users/{username}/follow"
    call("POST", "/users/alice/follow", bob, follow, {"username": "alice"}, handler=users.handler)
    call(
        "POST",
        "/me/follow-requests/bob",
        alice,
        "/me/follow-requests/{username}",
        {"username": "bob"},
        body={"approve": True},
        handler=users.handler,
    )

    assert on_post("POST", post_id, bob, "like") == (200, {"liked": True, "like_count": 1})
    assert comment(post_id, bob, "let me in")[0] == 201


def test_tampered_or_foreign_cursor_is_refused(people: dict[str, dict[str, str]]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id, other_post = publish(alice), publish(alice)
    for fan in (alice, bob, carol):
        on_post("POST", post_id, fan, "like")
        comment(post_id, fan, "hi")
    cursor = on_post("GET", post_id, bob, "likes", query={"limit": "1"})[1]["next_cursor"]
    comments_cursor = on_post("GET", post_id, bob, "comments", query={"limit": "1"})[1]["next_cursor"]

    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    status, body = on_post("GET", post_id, bob, "likes", query={"limit": "1", "cursor": tampered})
    assert (status, body["error"]["code"]) == (422, "validation_error")
    assert on_post("GET", other_post, bob, "likes", query={"limit": "1", "cursor": cursor})[0] == 422
    assert on_post("GET", post_id, bob, "comments", query={"limit": "1", "cursor": cursor})[0] == 422
    assert on_post("GET", post_id, bob, "comments", query={"limit": "1", "cursor": comments_cursor})[0] == 200


def test_page_size_is_1_to_50(people: dict[str, dict[str, str]]) -> None:
    post_id = publish(people["alice"])

    for limit in ("0", "51"):
        assert on_post("GET", post_id, people["bob"], "comments", query={"limit": limit})[0] == 422
        assert saved(people["bob"], limit=limit)[0] == 422


# Flags for a page of posts (the feed)


def test_viewer_flags_read_a_page_of_posts_in_one_batch_per_100_keys(
    people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = people["alice"], people["bob"]
    liked, saved_one, both = publish(alice), publish(alice), publish(alice)
    for post_id in (liked, both):
        on_post("POST", post_id, bob, "like")
    for post_id in (saved_one, both):
        save(post_id, bob, "Later")
    others = [f"01NOTAPOST{index:016d}" for index in range(57)]
    batches: list[int] = []
    original = Connection.batch_get_item

    def counting(self: Connection, table_name: str, keys: Any, *args: Any, **kwargs: Any) -> Any:
        batches.append(len(keys))
        return original(self, table_name, keys, *args, **kwargs)

    monkeypatch.setattr(Connection, "batch_get_item", counting)

    flags = viewer_flags(bob["sub"], [liked, saved_one, both, *others])

    assert (flags[liked], flags[saved_one], flags[both]) == ((True, False), (False, True), (True, True))
    assert all(flags[post_id] == (False, False) for post_id in others)
    assert batches == [100, 20]
    assert viewer_flags(bob["sub"], []) == {}
