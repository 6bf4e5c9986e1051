"""Blocking on moto, through the handlers: a block hides each side from the other on every surface
(profile, posts, likes, comments, follower lists, saved posts, the home feed) and ends the follows
and requests between them with exact counts."""

import base64
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from functions.feed_read import handler as feed_read
from functions.social import handler as social
from functions.upload import handler as upload
from functions.users import handler as users
from pinhole.feed.dal import FeedModel, FeedRepository
from pinhole.feed.fanout import FanOut
from pinhole.graph import logic as graph
from pinhole.graph.dal import EdgeModel, GraphRepository, user_key
from pinhole.shared.caller import Caller
from pinhole.shared.errors import NotFound
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.feed import CapturingQueue
from tests.support.feed_signals import signal_published
from tests.support.posts import publish
from tests.support.users import sign_up_claims

Claims = dict[str, str]


@pytest.fixture
def people(aws: dict[str, str]) -> dict[str, Claims]:
    return {name: sign_up_claims(name) for name in ("alice", "bob", "carol")}


def call(
    handler: Any,
    method: str,
    route: str,
    claims: Claims,
    body: Any = None,
    query: dict[str, str] | None = None,
    **params: str,
) -> tuple[int, Any]:
    event = http_event(
        method,
        route.format(**params),
        claims=claims,
        body=body,
        route_key=f"{method} {route}",
        path_parameters=params,
    )
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def block(claims: Claims, username: str) -> tuple[int, Any]:
    return call(users.handler, "POST", "/users/{username}/block", claims, username=username)


def unblock(claims: Claims, username: str) -> tuple[int, Any]:
    return call(users.handler, "DELETE", "/users/{username}/block", claims, username=username)


def follow(claims: Claims, username: str) -> tuple[int, Any]:
    return call(users.handler, "POST", "/users/{username}/follow", claims, username=username)


def undo(claims: Claims, username: str, what: str) -> tuple[int, Any]:
    """DELETE /users/{username}/<what>: unfollow (or withdraw a request), unmute or unblock."""
    return call(users.handler, "DELETE", f"/users/{{username}}/{what}", claims, username=username)


def decide(claims: Claims, username: str, approve: bool) -> tuple[int, Any]:
    """POST /me/follow-requests/{username}: the caller approves (or declines) the request of `username`."""
    return call(
        users.handler, "POST", "/me/follow-requests/{username}", claims, body={"approve": approve}, username=username
    )


def nobody_called(username: str) -> tuple[int, Any]:
    """The answer about a name nobody has."""
    return 404, {"error": {"code": "not_found", "message": f"No user is called {username}."}}


def profile(claims: Claims, username: str) -> tuple[int, Any]:
    return call(users.handler, "GET", "/users/{username}", claims, username=username)


def me(claims: Claims) -> dict[str, Any]:
    return dict(call(users.handler, "GET", "/me", claims)[1])


def counts(claims: Claims) -> tuple[int, int]:
    mine = me(claims)
    return mine["follower_count"], mine["following_count"]


def usernames(page: dict[str, Any]) -> list[str]:
    return [user["username"] for user in page["items"]]


def make_private(claims: Claims) -> None:
    assert call(users.handler, "PATCH", "/me", claims, body={"is_private": True})[0] == 200


def follow_requests(claims: Claims) -> list[str]:
    return usernames(call(users.handler, "GET", "/me/follow-requests", claims)[1])


def feed_ids(claims: Claims) -> list[str]:
    status, page = call(feed_read.handler, "GET", "/feed", claims)
    assert status == 200, page
    return [post["post_id"] for post in page["items"]]


def edges_between(a: Claims, b: Claims) -> list[tuple[str, str]]:
    """Every follow or request edge either way, read straight from the table."""
    found = []
    for source, target in ((a, b), (b, a)):
        for prefix in ("follows#", "requested#"):
            if EdgeModel.count(user_key(source["sub"]), EdgeModel.sk == f"{prefix}{target['sub']}") > 0:
                found.append((source["username"], f"{prefix}{target['username']}"))
    return found


# -- the block itself --


def test_block_ends_follows_both_ways_and_counts_stay_exact(people: dict[str, Claims]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    for who, whom in ((alice, "bob"), (bob, "alice"), (carol, "alice"), (carol, "bob"), (alice, "carol")):
        assert follow(who, whom)[0] == 200
    assert (counts(alice), counts(bob)) == ((2, 2), (2, 1))

    status, body = block(alice, "bob")

    assert (status, body) == (204, None)
    assert counts(alice) == (1, 1)  # carol follows her; she follows carol
    assert counts(bob) == (1, 0)  # carol follows him
    assert counts(carol) == (1, 2)
    assert edges_between(alice, bob) == []


def test_block_withdraws_pending_requests_both_ways(people: dict[str, Claims]) -> None:
    alice, bob = people["alice"], people["bob"]
    make_private(alice)
    make_private(bob)
    assert follow(alice, "bob")[1] == {"status": "requested"}
    assert follow(bob, "alice")[1] == {"status": "requested"}

    assert block(bob, "alice")[0] == 204

    assert follow_requests(alice) == [] and follow_requests(bob) == []
    assert edges_between(alice, bob) == []
    approve = call(
        users.handler, "POST", "/me/follow-requests/{username}", bob, body={"approve": True}, username="alice"
    )
    assert approve[0] == 404
    assert counts(alice) == counts(bob) == (0, 0)


def test_block_and_unblock_are_idempotent(people: dict[str, Claims]) -> None:
    alice, bob = people["alice"], people["bob"]
    follow(bob, "alice")

    assert [block(alice, "bob")[0], block(alice, "Bob")[0]] == [204, 204]
    assert (counts(alice), counts(bob)) == ((0, 0), (0, 0))
    assert profile(bob, "alice")[0] == 404

    assert [unblock(alice, "bob")[0], unblock(alice, "bob")[0]] == [204, 204]
    assert profile(bob, "alice")[0] == 200


def test_blocking_yourself_is_refused(people: dict[str, Claims]) -> None:
    status, body = block(people["alice"], "alice")

    assert (status, body["error"]["code"]) == (422, "cannot_block_self")


def test_blocking_or_unblocking_nobody_is_404(people: dict[str, Claims]) -> None:
    assert block(people["alice"], "nobody")[0] == 404
    assert unblock(people["alice"], "nobody")[0] == 404


def test_unblock_shows_each_side_again_but_does_not_restore_follows(people: dict[str, Claims]) -> None:
    alice, bob = people["alice"], people["bob"]
    follow(alice, "bob")
    block(bob, "alice")

    assert unblock(bob, "alice")[0] == 204

    status, seen = profile(alice, "bob")
    assert (status, seen["followed_by_me"], seen["follower_count"]) == (200, False, 0)
    assert follow(alice, "bob") == (200, {"status": "following"})
    assert counts(bob) == (1, 0)


def test_a_block_from_each_side_stands_until_its_own_author_lifts_it(people: dict[str, Claims]) -> None:
    alice, bob = people["alice"], people["bob"]
    block(alice, "bob")

    assert block(bob, "alice")[0] == 204  # someone who blocked you can be blocked back
    assert unblock(alice, "bob")[0] == 204

    assert profile(alice, "bob")[0] == 404 and profile(bob, "alice")[0] == 404
    assert unblock(bob, "alice")[0] == 204
    assert profile(alice, "bob")[0] == 200 and profile(bob, "alice")[0] == 200


# -- undoing while blocked --


@pytest.mark.parametrize("what", ["follow", "mute", "block"])
def test_undoing_anything_on_someone_who_blocked_you_is_the_answer_about_nobody(
    people: dict[str, Claims], what: str
) -> None:
    # Given bob followed and muted alice, and alice then blocked him (which ended the follow)
    alice, bob = people["alice"], people["bob"]
    assert follow(bob, "alice")[0] == 200
    assert call(users.handler, "POST", "/users/{username}/mute", bob, username="alice")[0] == 204
    assert block(alice, "bob")[0] == 204

    # When bob tries to undo his follow, his mute or a block of his own on her
    answers = [undo(bob, "alice", what), undo(bob, "alice", what)]

    # Then alice looks like a name nobody has, not like someone he has nothing left to undo on
    assert answers == [nobody_called("alice"), nobody_called("alice")]
    assert undo(bob, "zzznobody9", what) == nobody_called("zzznobody9")


@pytest.mark.parametrize("blocked_back", [False, True], ids=["alone", "blocked-back"])
@pytest.mark.parametrize("what", ["follow", "mute"])
def test_the_blocker_undoes_a_follow_or_mute_alike_whether_or_not_she_was_blocked_back(
    people: dict[str, Claims], what: str, blocked_back: bool
) -> None:
    # Given alice muted and blocked bob (which ended her follow), and he may have blocked her back
    alice, bob = people["alice"], people["bob"]
    assert follow(alice, "bob")[0] == 200
    assert call(users.handler, "POST", "/users/{username}/mute", alice, username="bob")[0] == 204
    assert block(alice, "bob")[0] == 204
    if blocked_back:
        assert block(bob, "alice")[0] == 204

    # When she undoes her follow (gone already) or her mute, twice
    answers = [undo(alice, "bob", what), undo(alice, "bob", what)]

    # Then each is done and idempotent, and says nothing of bob's own block
    assert answers == [(204, None), (204, None)]


@pytest.mark.parametrize("blocked_back", [False, True], ids=["alone", "blocked-back"])
def test_the_blocker_lifts_her_block_alike_whether_or_not_she_was_blocked_back(
    people: dict[str, Claims], blocked_back: bool
) -> None:
    # Given alice blocked bob, and he may have blocked her back
    alice, bob = people["alice"], people["bob"]
    assert block(alice, "bob")[0] == 204
    if blocked_back:
        assert block(bob, "alice")[0] == 204

    # When she lifts her block
    lifted = unblock(alice, "bob")

    # Then it is lifted either way; what she sees of bob next is what his own block, if any, shows her
    assert lifted == (204, None)
    if blocked_back:
        assert profile(alice, "bob") == unblock(alice, "bob") == nobody_called("bob")
    else:
        assert profile(alice, "bob")[0] == 200 and unblock(alice, "bob") == (204, None)


@pytest.mark.parametrize("approve", [True, False])
@pytest.mark.parametrize("blocker", ["alice", "bob"])
def test_answering_the_request_of_someone_in_a_block_either_way_is_the_answer_about_nobody(
    people: dict[str, Claims], blocker: str, approve: bool
) -> None:
    # Given bob asked to follow the private alice, and then one of them blocked the other
    alice, bob = people["alice"], people["bob"]
    make_private(alice)
    assert follow(bob, "alice") == (200, {"status": "requested"})
    assert block(people[blocker], "bob" if blocker == "alice" else "alice")[0] == 204

    # When alice answers his request
    answer = decide(alice, "bob", approve)

    # Then bob looks like a name nobody has, not like someone who did not ask
    assert answer == nobody_called("bob")
    assert decide(alice, "zzznobody9", approve) == nobody_called("zzznobody9")
    assert (counts(alice), counts(bob)) == ((0, 0), (0, 0))


# -- following while blocked --


@pytest.mark.parametrize("blocker", ["alice", "bob"])
def test_neither_side_can_follow_the_other_while_blocked(people: dict[str, Claims], blocker: str) -> None:
    alice, bob = people["alice"], people["bob"]
    block(people[blocker], "bob" if blocker == "alice" else "alice")

    for who, whom in ((alice, "bob"), (bob, "alice")):
        assert follow(who, whom) == (404, {"error": {"code": "not_found", "message": f"No user is called {whom}."}})
    assert edges_between(alice, bob) == []
    assert (counts(alice), counts(bob)) == ((0, 0), (0, 0))


def test_neither_side_can_ask_to_follow_a_private_account_while_blocked(people: dict[str, Claims]) -> None:
    alice, bob = people["alice"], people["bob"]
    make_private(alice)
    make_private(bob)
    block(alice, "bob")

    assert follow(alice, "bob")[0] == 404 and follow(bob, "alice")[0] == 404
    assert follow_requests(alice) == [] and follow_requests(bob) == []


def test_no_follow_or_request_can_be_stored_beside_a_block(people: dict[str, Claims]) -> None:
    # The storage itself refuses, whatever the logic checked before: a follow racing a block loses.
    alice, bob = people["alice"], people["bob"]
    repository = GraphRepository()
    assert repository.block(alice["sub"], bob["sub"]) is True

    for source, target in ((alice, bob), (bob, alice)):
        with pytest.raises(NotFound):
            repository.follow(source["sub"], target["sub"])
        with pytest.raises(NotFound):
            repository.request(source["sub"], target["sub"])

    assert edges_between(alice, bob) == []
    assert (counts(alice), counts(bob)) == ((0, 0), (0, 0))


def test_follows_racing_a_block_never_outlive_it(people: dict[str, Claims]) -> None:
    alice, bob = people["alice"], people["bob"]

    def keep_following(claims: Claims, username: str) -> None:
        caller = Caller(user_id=claims["sub"], username=claims["username"])
        for _ in range(6):
            with contextlib.suppress(NotFound):  # once the block is in, every follow is refused
                graph.follow(caller, username)

    def block_once() -> None:
        graph.block(Caller(user_id=alice["sub"], username="alice"), "bob")

    with ThreadPoolExecutor(max_workers=3) as pool:
        running = [pool.submit(keep_following, bob, "alice"), pool.submit(keep_following, alice, "bob")]
        running.append(pool.submit(block_once))
        for future in running:
            future.result()

    assert edges_between(alice, bob) == []
    assert (counts(alice), counts(bob)) == ((0, 0), (0, 0))


# -- what each side sees of the other --


@pytest.mark.parametrize("blocker", ["alice", "bob"])
def test_profiles_are_hidden_both_ways_as_if_nobody_had_the_name(people: dict[str, Claims], blocker: str) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    block(people[blocker], "bob" if blocker == "alice" else "alice")

    assert profile(alice, "bob") == (404, {"error": {"code": "not_found", "message": "No user is called bob."}})
    assert profile(bob, "alice") == (404, {"error": {"code": "not_found", "message": "No user is called alice."}})
    assert profile(carol, "alice")[0] == profile(carol, "bob")[0] == 200
    assert me(alice)["username"] == "alice"


@pytest.mark.parametrize("blocker", ["alice", "bob"])
def test_posts_are_hidden_both_ways(people: dict[str, Claims], blocker: str) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    by_alice, by_bob = publish(alice), publish(bob)
    block(people[blocker], "bob" if blocker == "alice" else "alice")

    for viewer, author, post_id in ((alice, "bob", by_bob), (bob, "alice", by_alice)):
        grid = call(upload.handler, "GET", "/users/{username}/posts", viewer, username=author)
        assert (grid[0], grid[1]["error"]["code"]) == (404, "not_found")
        assert call(upload.handler, "GET", "/posts/{post_id}", viewer, post_id=post_id)[0] == 404
        for method, what in (("POST", "like"), ("DELETE", "like"), ("GET", "likes"), ("GET", "comments")):
            route = f"/posts/{{post_id}}/{what}"
            assert call(social.handler, method, route, viewer, post_id=post_id)[0] == 404, (method, what)
        comment = call(social.handler, "POST", "/posts/{post_id}/comments", viewer, {"text": "hi"}, post_id=post_id)
        assert comment[0] == 404
        saved = call(social.handler, "POST", "/posts/{post_id}/save", viewer, {}, post_id=post_id)
        assert saved[0] == 404
    assert call(upload.handler, "GET", "/posts/{post_id}", carol, post_id=by_alice)[0] == 200
    assert call(upload.handler, "GET", "/posts/{post_id}", carol, post_id=by_bob)[0] == 200
    assert call(upload.handler, "GET", "/posts/{post_id}", alice, post_id=by_alice)[0] == 200


def test_likes_and_comments_lists_leave_out_users_in_a_block_with_the_reader(people: dict[str, Claims]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(carol)
    for who in (alice, bob, carol):
        assert call(social.handler, "POST", "/posts/{post_id}/like", who, post_id=post_id)[0] == 200
        posted = call(
            social.handler, "POST", "/posts/{post_id}/comments", who, {"text": f"by {who['username']}"}, post_id=post_id
        )
        assert posted[0] == 201

    block(alice, "bob")

    def likers(viewer: Claims) -> list[str]:
        return sorted(usernames(call(social.handler, "GET", "/posts/{post_id}/likes", viewer, post_id=post_id)[1]))

    def commenters(viewer: Claims) -> list[str]:
        page = call(social.handler, "GET", "/posts/{post_id}/comments", viewer, post_id=post_id)[1]
        return [comment["author"]["username"] for comment in page["items"]]

    assert (likers(alice), commenters(alice)) == (["alice", "carol"], ["alice", "carol"])
    assert (likers(bob), commenters(bob)) == (["bob", "carol"], ["bob", "carol"])
    assert (likers(carol), commenters(carol)) == (["alice", "bob", "carol"], ["alice", "bob", "carol"])
    seen_by_alice = call(upload.handler, "GET", "/posts/{post_id}", alice, post_id=post_id)[1]
    assert (seen_by_alice["like_count"], seen_by_alice["comment_count"]) == (3, 3)  # the post's own counts


def test_follower_lists_leave_out_users_in_a_block_with_the_reader(people: dict[str, Claims]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    for who, whom in ((alice, "carol"), (bob, "carol"), (carol, "alice"), (carol, "bob")):
        follow(who, whom)

    block(bob, "alice")

    def listing(viewer: Claims, username: str, which: str) -> tuple[int, Any]:
        return call(users.handler, "GET", f"/users/{{username}}/{which}", viewer, username=username)

    for which in ("followers", "following"):
        assert set(usernames(listing(carol, "carol", which)[1])) == {"alice", "bob"}
    assert usernames(listing(alice, "carol", "followers")[1]) == ["alice"]
    assert usernames(listing(bob, "carol", "followers")[1]) == ["bob"]
    assert usernames(listing(alice, "carol", "following")[1]) == ["alice"]
    assert usernames(listing(bob, "carol", "following")[1]) == ["bob"]
    assert listing(alice, "bob", "followers")[0] == 404
    assert listing(bob, "alice", "following")[0] == 404


def test_a_follower_lists_cursors_name_nobody_the_block_hides(people: dict[str, Claims]) -> None:
    # Given olga followed by bob and carol, and bob, who blocked alice
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    olga = sign_up_claims("olga")
    for who in (bob, carol):
        follow(who, "olga")
    block(bob, "alice")

    # When alice walks olga's followers one at a time (a page whose one row is bob's comes back empty, with a
    # cursor made from bob's row)
    shown: list[str] = []
    cursors: list[str] = []
    cursor = None
    while len(cursors) < 10:
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        status, page = call(users.handler, "GET", "/users/{username}/followers", alice, query=query, username="olga")
        assert status == 200, page
        shown += usernames(page)
        if not (cursor := page["next_cursor"]):
            break
        cursors.append(cursor)

    # Then she is shown carol alone, and no cursor holds anyone's id, bob's above all, nor any of the key
    assert shown == ["carol"] and cursors
    for cursor in cursors:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        for hidden in (bob["sub"], carol["sub"], olga["sub"], "user#", "follow"):
            assert hidden.encode() not in raw and hidden not in cursor


def test_saved_posts_of_an_author_in_a_block_are_left_out(people: dict[str, Claims]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    by_bob, by_carol = publish(bob), publish(carol)
    for post_id in (by_bob, by_carol):
        assert call(social.handler, "POST", "/posts/{post_id}/save", alice, {}, post_id=post_id)[0] == 204

    block(bob, "alice")

    saved = call(social.handler, "GET", "/me/saved", alice)[1]
    assert [post["post_id"] for post in saved["items"]] == [by_carol]


# -- the home feed --


@pytest.fixture
def fanout(aws: dict[str, str]) -> FanOut:
    return FanOut(sqs=CapturingQueue())


def stored_entries(user: Claims) -> list[str]:
    return [item.sk for item in FeedModel.query(user["sub"], FeedModel.sk.startswith("post#"))]


@pytest.mark.parametrize("blocker", ["reader", "author"])
def test_feed_drops_a_pushed_author_in_a_block_and_the_fan_out_cleans_it(
    people: dict[str, Claims], fanout: FanOut, blocker: str
) -> None:
    reader, author = people["alice"], people["bob"]
    follow(reader, "bob")
    fanout.followed(reader["sub"], author["sub"])  # what the graph stream triggers
    post_id = publish(author)
    fanout.post_published(post_id, author["sub"])
    assert feed_ids(reader) == [post_id]

    if blocker == "reader":
        block(reader, "bob")
    else:
        block(author, "alice")

    assert feed_ids(reader) == []  # at once, before the stream is delivered
    fanout.unfollowed(reader["sub"], author["sub"])  # the stream's REMOVE of the follow
    assert stored_entries(reader) == []
    assert feed_ids(author) == [post_id]  # one's own posts stay


def test_feed_drops_a_pulled_celebrity_in_a_block(people: dict[str, Claims], fanout: FanOut) -> None:
    reader, star, friend = people["alice"], people["bob"], people["carol"]
    FeedRepository().mark_celebrity(star["sub"], 10**6)
    for followee in ("bob", "carol"):
        follow(reader, followee)
    fanout.followed(reader["sub"], star["sub"])
    fanout.followed(reader["sub"], friend["sub"])
    starred = publish(star)
    fanout.post_published(starred, star["sub"])
    signal_published(starred)  # the celebrity's recent-posts item, which the ranked feed reads
    friendly = publish(friend)
    fanout.post_published(friendly, friend["sub"])
    assert feed_ids(reader) == [friendly, starred]

    block(star, "alice")

    assert feed_ids(reader) == [friendly]
    fanout.unfollowed(reader["sub"], star["sub"])
    assert FeedRepository().followed_celebrities(reader["sub"]) == {}


def test_feed_hides_an_author_in_a_block_even_while_a_follow_remains(people: dict[str, Claims], fanout: FanOut) -> None:
    # A block whose clean-up stopped half-way (the edge written, the follows not yet removed).
    reader, author = people["alice"], people["bob"]
    follow(reader, "bob")
    fanout.followed(reader["sub"], author["sub"])
    post_id = publish(author)
    fanout.post_published(post_id, author["sub"])

    GraphRepository().block(author["sub"], reader["sub"])

    assert GraphRepository().is_following(reader["sub"], author["sub"])
    assert feed_ids(reader) == []


# -- the bulk check --


def test_blocked_among_finds_both_directions_across_batches(aws: dict[str, str]) -> None:
    viewer = "viewer"
    candidates = [f"user{index:03}" for index in range(130)]  # 260 keys: three BatchGetItem pages
    repository = GraphRepository()
    blocked_by_viewer = set(candidates[::7])
    blocking_viewer = set(candidates[3::11])
    for other in blocked_by_viewer:
        repository.block(viewer, other)
    for other in blocking_viewer:
        repository.block(other, viewer)
    repository.block("user001", "user002")  # a block between others is none of the viewer's business

    found = repository.blocked_among(viewer, [*candidates, viewer, candidates[0]])

    assert found == blocked_by_viewer | blocking_viewer
    assert repository.blocked_among(viewer, []) == set()


def pages_of(viewer: Claims, route: str, limit: int, **params: str) -> list[tuple[list[Any], str | None]]:
    """Every page of a list, walked as a client walks it: the items of each, and its next_cursor."""
    pages: list[tuple[list[Any], str | None]] = []
    cursor = None
    while len(pages) < 20:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        status, page = call(social.handler, "GET", route, viewer, query=query, **params)
        assert status == 200, page
        pages.append((page["items"], page["next_cursor"]))
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the list did not end")


def test_a_comments_page_is_filled_past_comments_hidden_by_a_block(people: dict[str, Claims]) -> None:
    # Given nine comments on carol's post, carol's and bob's: C B B C B B C B B; alice blocks bob
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(carol)
    for n, who in enumerate([carol, bob, bob] * 3):
        body = {"text": f"{n} by {who['username']}"}
        assert call(social.handler, "POST", "/posts/{post_id}/comments", who, body, post_id=post_id)[0] == 201
    block(alice, "bob")

    # When alice reads the comments a page of one at a time
    pages = pages_of(alice, "/posts/{post_id}/comments", 1, post_id=post_id)

    # Then each page with a cursor holds carol's next comment, never nothing; the list ends with its last one
    assert [([c["text"] for c in items], cursor is not None) for items, cursor in pages] == [
        (["0 by carol"], True),
        (["3 by carol"], True),
        (["6 by carol"], True),
        ([], False),  # what follows carol's last comment is bob's: nothing shown, and the list says it ends
    ]
    # and bob, from whom nothing is hidden, reads all nine in full pages
    seen_by_bob = pages_of(bob, "/posts/{post_id}/comments", 4, post_id=post_id)
    assert [(len(items), cursor is not None) for items, cursor in seen_by_bob] == [(4, True), (4, True), (1, False)]


def test_a_comments_page_hidden_past_its_reads_is_short_with_a_cursor_and_the_next_goes_on(
    people: dict[str, Claims],
) -> None:
    # Given carol's comment, then more of bob's than a page reads (5 reads of limit + 1), then carol's again
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(carol)
    for n, who in enumerate([carol, *[bob] * 11, carol]):
        body = {"text": f"{n} by {who['username']}"}
        assert call(social.handler, "POST", "/posts/{post_id}/comments", who, body, post_id=post_id)[0] == 201
    block(alice, "bob")

    # When alice reads them a page of one at a time
    pages = pages_of(alice, "/posts/{post_id}/comments", 1, post_id=post_id)

    # Then the page that reads only bob's (up to its bound) is empty with a cursor, and the next finds carol's
    assert [([c["text"] for c in items], cursor is not None) for items, cursor in pages] == [
        (["0 by carol"], True),
        ([], True),
        (["12 by carol"], False),
    ]


def test_a_likes_page_is_filled_past_likers_hidden_by_a_block(people: dict[str, Claims]) -> None:
    # Given carol's post liked by six people, listed in id order; alice blocks the 2nd, 3rd, 5th and 6th of them
    alice, carol = people["alice"], people["carol"]
    post_id = publish(carol)
    likers = sorted((sign_up_claims(f"liker{n}") for n in range(6)), key=lambda claims: claims["sub"])
    for who in likers:
        assert call(social.handler, "POST", "/posts/{post_id}/like", who, post_id=post_id)[0] == 200
    for hidden in (1, 2, 4, 5):
        assert block(alice, likers[hidden]["username"])[0] == 204

    # When alice reads who likes it a page of one at a time
    pages = pages_of(alice, "/posts/{post_id}/likes", 1, post_id=post_id)

    # Then each page with a cursor holds the next one she may see, never nothing
    assert [(usernames({"items": items}), cursor is not None) for items, cursor in pages] == [
        ([likers[0]["username"]], True),
        ([likers[3]["username"]], True),
        ([], False),
    ]


def test_a_saved_posts_page_is_filled_past_posts_hidden_by_a_block(people: dict[str, Claims]) -> None:
    # Given nine posts alice saved, carol's and bob's, newest first: C B B C B B C B B; then alice blocks bob
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    posts = [publish(who) for who in [bob, bob, carol] * 3]
    for post_id in posts:
        assert call(social.handler, "POST", "/posts/{post_id}/save", alice, {}, post_id=post_id)[0] == 204
    block(alice, "bob")

    # When alice reads her saved posts a page of one at a time
    pages = pages_of(alice, "/me/saved", 1)

    # Then each page with a cursor holds carol's next post, never nothing; the list ends after her last one
    assert [([post["post_id"] for post in items], cursor is not None) for items, cursor in pages] == [
        ([posts[8]], True),
        ([posts[5]], True),
        ([posts[2]], True),
        ([], False),
    ]
