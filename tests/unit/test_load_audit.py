"""The load soak's audit finds every kind of difference it claims to look for, and forgives only what no client
could know (a write whose answer never came)."""

from soak.load import errors_logged
from soak.load_audit import Observed, PostView, UserView, compare
from soak.load_ledger import Ledger
from soak.load_world import World

ANN, BEN, CAT = "ann", "ben", "cat"
ANNS_POST, BENS_POST = "p-ann", "p-ben"


def world() -> World:
    """Ann follows Ben; Ben and Cat follow nobody; Ann and Ben have a post each."""
    return World(
        base_url="http://local",
        usernames=[ANN, BEN, CAT],
        follows={ANN: [BEN], BEN: [], CAT: []},
        posts={ANNS_POST: ANN, BENS_POST: BEN},
    )


def user(
    *,
    followers: list[str] | None = None,
    following: list[str] | None = None,
    grid: list[str] | None = None,
    feed: list[str] | None = None,
    saved: list[str] | None = None,
    conversations: dict[str, list[str]] | None = None,
) -> UserView:
    followers, following, grid = followers or [], following or [], grid or []
    return UserView(
        follower_count=len(followers),
        following_count=len(following),
        post_count=len(grid),
        followers=followers,
        following=following,
        grid=grid,
        feed=feed or [],
        saved=saved or [],
        conversations=conversations or {},
    )


def consistent_view() -> Observed:
    """What the server should show for world() and an empty ledger."""
    return Observed(
        posts={ANNS_POST: PostView(0, 0, [], []), BENS_POST: PostView(0, 0, [], [])},
        users={
            ANN: user(following=[BEN], grid=[ANNS_POST], feed=[ANNS_POST, BENS_POST]),
            BEN: user(followers=[ANN], grid=[BENS_POST], feed=[BENS_POST]),
            CAT: user(),
        },
    )


def kinds(found: list) -> list[str]:
    return sorted(mismatch.kind for mismatch in found)


def test_a_server_that_shows_the_seed_and_nothing_else_is_clean() -> None:
    assert compare(world(), Ledger(), consistent_view()) == []


def test_a_like_count_that_disagrees_with_the_likers_is_found() -> None:
    # Given Cat liked Ben's post and the server lists her, but counts two likes
    ledger = Ledger()
    ledger.settle_toggle("like", CAT, BENS_POST, 200, True, ledger.begin_toggle("like", CAT, BENS_POST))
    observed = consistent_view()
    observed.posts[BENS_POST] = PostView(like_count=2, comment_count=0, likers=[CAT], comment_ids=[])

    # When / Then
    assert kinds(compare(world(), ledger, observed)) == ["like_count"]


def test_a_like_a_client_saw_succeed_but_the_server_lost_is_found() -> None:
    # Given Cat's like was answered 200, but the post shows no like, consistently
    ledger = Ledger()
    ledger.settle_toggle("like", CAT, BENS_POST, 200, True, ledger.begin_toggle("like", CAT, BENS_POST))

    # When the server shows no likes
    found = compare(world(), ledger, consistent_view())

    # Then the missing liker is reported
    assert kinds(found) == ["likers"]
    assert CAT in found[0].detail


def test_a_write_refused_with_a_4xx_counts_as_not_done_and_one_never_answered_as_either() -> None:
    # Given Cat's like was refused (429) and Ben's like of Ann's post never answered (a 502)
    ledger = Ledger()
    ledger.settle_toggle("like", CAT, BENS_POST, 429, True, ledger.begin_toggle("like", CAT, BENS_POST))
    ledger.settle_toggle("like", BEN, ANNS_POST, 502, True, ledger.begin_toggle("like", BEN, ANNS_POST))

    # When the server shows Ben's like, or not
    with_bens_like = consistent_view()
    with_bens_like.posts[ANNS_POST] = PostView(1, 0, [BEN], [])

    # Then both are accepted, and Cat's like would not be
    assert compare(world(), ledger, consistent_view()) == []
    assert compare(world(), ledger, with_bens_like) == []
    with_cats_like = consistent_view()
    with_cats_like.posts[BENS_POST] = PostView(1, 0, [CAT], [])
    assert kinds(compare(world(), ledger, with_cats_like)) == ["likers"]


def test_a_feed_missing_a_followed_authors_post_or_holding_an_unfollowed_one_is_found() -> None:
    # Given Ann unfollowed Ben and Cat followed Ben, both answered
    ledger = Ledger()
    ledger.toggles["follow"][ANN] = {BEN: True}
    ledger.settle_toggle("follow", ANN, BEN, 204, False, ledger.begin_toggle("follow", ANN, BEN))
    ledger.settle_toggle("follow", CAT, BEN, 200, True, ledger.begin_toggle("follow", CAT, BEN))

    # When the graph is right but the feeds were not updated
    observed = consistent_view()
    observed.users[ANN] = user(grid=[ANNS_POST], feed=[ANNS_POST, BENS_POST])
    observed.users[BEN] = user(followers=[CAT], grid=[BENS_POST], feed=[BENS_POST])
    observed.users[CAT] = user(following=[BEN])

    # Then both feeds are reported, and nothing else
    found = compare(world(), ledger, observed)
    assert [(mismatch.kind, mismatch.subject) for mismatch in found] == [("feed", ANN), ("feed", CAT)]


def test_a_post_listed_twice_in_a_feed_is_found() -> None:
    observed = consistent_view()
    observed.users[ANN].feed = [ANNS_POST, BENS_POST, BENS_POST]

    assert kinds(compare(world(), Ledger(), observed)) == ["feed"]


def test_a_follower_count_that_disagrees_with_the_followers_list_is_found() -> None:
    observed = consistent_view()
    observed.users[BEN].follower_count = 0

    assert kinds(compare(world(), Ledger(), observed)) == ["follower_count"]


def test_a_comment_never_answered_may_exist_once_but_not_twice() -> None:
    # Given one comment on Ann's post answered 201 and one whose answer never came
    ledger = Ledger()
    ledger.begin_comment(ANNS_POST)
    ledger.comment_posted(ANNS_POST, CAT, 201, "c1")
    ledger.begin_comment(ANNS_POST)
    ledger.comment_posted(ANNS_POST, CAT, 0, None)

    # When the server stores the known one and one more, or two more
    one_more, two_more = consistent_view(), consistent_view()
    one_more.posts[ANNS_POST] = PostView(0, 2, [], ["c1", "c2"])
    two_more.posts[ANNS_POST] = PostView(0, 3, [], ["c1", "c2", "c3"])

    # Then one more is possible, two more are not
    assert compare(world(), ledger, one_more) == []
    assert kinds(compare(world(), ledger, two_more)) == ["comments"]


def test_a_sent_message_missing_on_one_side_of_the_conversation_is_found() -> None:
    # Given Cat sent Ben a message, answered 201
    ledger = Ledger()
    ledger.begin_message("hello", CAT, BEN)
    ledger.message_sent("hello", 201)

    # When Ben sees it but Cat's side of the conversation does not hold it
    observed = consistent_view()
    observed.users[BEN].conversations = {CAT: ["hello"]}

    # Then Cat's side is reported
    found = compare(world(), ledger, observed)
    assert [(mismatch.kind, mismatch.subject) for mismatch in found] == [("messages", f"{CAT} with {BEN}")]


def test_ledgers_of_several_processes_merge_into_one() -> None:
    # Given two locust processes, each with its own account and requests
    first, second = Ledger(), Ledger()
    first.settle_toggle("save", ANN, BENS_POST, 204, True, first.begin_toggle("save", ANN, BENS_POST))
    first.record("GET /feed", 1.0, 12.5, 200)
    second.settle_toggle("save", CAT, ANNS_POST, 204, True, second.begin_toggle("save", CAT, ANNS_POST))
    second.record("GET /feed", 2.0, 30.0, 503)

    # When merged
    merged = Ledger.merged([first.to_json(), second.to_json()])

    # Then nothing of either is lost
    assert merged.toggles["save"] == {ANN: {BENS_POST: True}, CAT: {ANNS_POST: True}}
    assert merged.routes["GET /feed"].statuses == [200, 503]


def test_errors_in_the_local_cloud_log_are_counted_by_the_exception_that_ended_them() -> None:
    # Given a log with two timeouts of one function and one crash
    timeout = (
        'Traceback (most recent call last):\n  File "x.py", line 1, in f\n'
        "local.lambda_runner.HandlerTimeout: Fn timed out after 10 s\n"
    )
    crash = "ERROR local.pumps: Fn failed\nTraceback (most recent call last):\n  File \"y.py\"\nKeyError: 'sk'\n"

    # When counted / Then
    assert errors_logged("ready\n" + timeout + timeout + crash) == {
        "local.lambda_runner.HandlerTimeout: Fn": 2,
        "KeyError: 'sk'": 1,
    }
