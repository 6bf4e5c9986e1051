from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import pytest

from functions.users import consumers as users_consumers
from functions.users import handler as users
from pinhole.graph import logic as graph
from pinhole.shared.caller import Caller
from pinhole.shared.settings import get_settings
from pinhole.streams.patterns import wanted
from pinhole.users.dal import ProfileRepository
from stacks.stateless.users_construct import _MADE_PUBLIC
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.streams import StreamTap, routed_event
from tests.support.users import sign_up_claims


@pytest.fixture
def people(aws: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: sign_up_claims(name) for name in ("alice", "bob", "carol")}


def call(
    method: str,
    path: str,
    claims: dict[str, str],
    route: str,
    params: dict[str, str] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    event = http_event(method, path, claims=claims, body=body, route_key=f"{method} {route}", path_parameters=params)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    response = users.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def follow(claims: dict[str, str], username: str) -> tuple[int, Any]:
    return call("POST", f"/users/{username}/follow", claims, "/users/{username}/follow", {"username": username})


def unfollow(claims: dict[str, str], username: str) -> tuple[int, Any]:
    return call("DELETE", f"/users/{username}/follow", claims, "/users/{username}/follow", {"username": username})


def decide(claims: dict[str, str], username: str, approve: Any) -> tuple[int, Any]:
    """POST /me/follow-requests/{username}: the caller approves (or declines) the request of `username`."""
    route, path = "/me/follow-requests/{username}", f"/me/follow-requests/{username}"
    return call("POST", path, claims, route, {"username": username}, body={"approve": approve})


def profile(claims: dict[str, str], username: str) -> dict[str, Any]:
    return call("GET", f"/users/{username}", claims, "/users/{username}", {"username": username})[1]


def listing(claims: dict[str, str], username: str, which: str, **query: str) -> tuple[int, Any]:
    return call(
        "GET",
        f"/users/{username}/{which}",
        claims,
        f"/users/{{username}}/{which}",
        {"username": username},
        query=query or None,
    )


def make_private(claims: dict[str, str], private: bool = True) -> None:
    users.handler(http_event("PATCH", "/me", claims=claims, body={"is_private": private}), FakeLambdaContext())


def follow_requests(claims: dict[str, str]) -> list[str]:
    status, page = call("GET", "/me/follow-requests", claims, "/me/follow-requests", query={"limit": "50"})
    assert status == 200
    return [user["username"] for user in page["items"]]


def followers_of(claims: dict[str, str], username: str) -> list[str]:
    return [user["username"] for user in listing(claims, username, "followers", limit="50")[1]["items"]]


class UsersStream:
    """The users table's stream records since the last look, as its router sends them to `on_made_public`: only
    those matching the consumer's pattern (the filter must match the records DynamoDB really writes)."""

    def __init__(self) -> None:
        self.tap = StreamTap([get_settings().users_table_name])
        self.tap.new_records()

    def deliver(self, times: int = 1) -> int:
        """Runs the consumer on the routed records (`times` over: redeliveries); how many there were."""
        records = [record for record in self.tap.new_records() if wanted(record, [_MADE_PUBLIC])]
        for _ in range(times if records else 0):
            response = users_consumers.on_made_public(routed_event(records), FakeLambdaContext())
            assert response == {"batchItemFailures": []}
        return len(records)


def test_follow_public_account_is_immediate_idempotent_and_counted(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]

    first, again = follow(alice, "bob"), follow(alice, "Bob")

    assert first == (200, {"status": "following"}) and again == (200, {"status": "following"})
    seen_by_alice = profile(alice, "bob")
    assert (seen_by_alice["follower_count"], seen_by_alice["followed_by_me"]) == (1, True)
    assert profile(bob, "alice")["following_count"] == 1


def test_unfollow_is_idempotent_and_restores_counts(people: dict[str, dict[str, str]]) -> None:
    alice = people["alice"]
    follow(alice, "bob")

    assert unfollow(alice, "bob")[0] == 204
    assert unfollow(alice, "bob")[0] == 204

    assert (profile(alice, "bob")["follower_count"], profile(alice, "alice")["following_count"]) == (0, 0)


def test_following_yourself_is_refused(people: dict[str, dict[str, str]]) -> None:
    status, body = follow(people["alice"], "alice")

    assert (status, body["error"]["code"]) == (422, "cannot_follow_self")


def test_unfollowing_yourself_is_a_harmless_no_op(people: dict[str, dict[str, str]]) -> None:
    # Found by the API fuzzer: the unfollow transaction updated the same user item twice (a 500)
    alice = people["alice"]

    assert unfollow(alice, "alice")[0] == 204
    assert (profile(alice, "alice")["follower_count"], profile(alice, "alice")["following_count"]) == (0, 0)


def test_following_nobody_is_404(people: dict[str, dict[str, str]]) -> None:
    assert follow(people["alice"], "nobody")[0] == 404


def test_private_account_gets_a_request_that_it_can_approve(people: dict[str, dict[str, str]]) -> None:
    alice, bob = people["alice"], people["bob"]
    make_private(bob)

    requested = follow(alice, "bob")
    assert requested == (200, {"status": "requested"})
    assert profile(alice, "bob")["follow_requested_by_me"] is True
    assert profile(alice, "bob")["follower_count"] == 0
    assert listing(alice, "bob", "followers")[0] == 403
    requests = call("GET", "/me/follow-requests", bob, "/me/follow-requests")[1]
    assert [u["username"] for u in requests["items"]] == ["alice"]

    approved = decide(bob, "alice", True)

    assert approved[0] == 204
    assert profile(alice, "bob")["followed_by_me"] is True
    assert profile(alice, "bob")["follower_count"] == 1
    assert listing(alice, "bob", "followers")[0] == 200
    assert call("GET", "/me/follow-requests", bob, "/me/follow-requests")[1]["items"] == []


def test_approving_a_request_withdrawn_meanwhile_is_404_not_a_follow_that_never_happened(
    people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alice's request to follow private bob, withdrawn by alice just after bob's approval read it
    alice, bob = people["alice"], people["bob"]
    make_private(bob)
    follow(alice, "bob")
    checked = graph._graph.has_requested

    def read_then_withdrawn(requester_id: str, target_id: str) -> bool:
        answer = checked(requester_id, target_id)
        graph._graph.withdraw_request(requester_id, target_id)  # alice's DELETE /users/bob/follow, in between
        return answer

    monkeypatch.setattr(graph._graph, "has_requested", read_then_withdrawn)

    # When bob approves it
    status, body = decide(bob, "alice", True)

    # Then he is told there is no request (it answered 204, and nobody followed anybody)
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert profile(alice, "bob")["followed_by_me"] is False


def test_denied_or_withdrawn_request_leaves_no_trace(people: dict[str, dict[str, str]]) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    make_private(bob)
    follow(alice, "bob")
    follow(carol, "bob")

    denied = decide(bob, "alice", False)
    withdrawn = unfollow(carol, "bob")

    assert (denied[0], withdrawn[0]) == (204, 204)
    assert call("GET", "/me/follow-requests", bob, "/me/follow-requests")[1]["items"] == []
    assert profile(bob, "bob")["follower_count"] == 0
    again = decide(bob, "alice", True)
    assert again[0] == 404


def test_request_decision_must_be_a_boolean(people: dict[str, dict[str, str]]) -> None:
    status, _ = decide(people["bob"], "alice", "yes")

    assert status == 422


def test_follower_lists_page_without_duplicates_or_gaps(aws: dict[str, str]) -> None:
    star = sign_up_claims("star")
    fans = [sign_up_claims(f"fan{index}") for index in range(7)]
    for fan in fans:
        follow(fan, "star")

    seen, cursor = [], None
    while True:
        _, page = listing(star, "star", "followers", limit="3", **({"cursor": cursor} if cursor else {}))
        seen.extend(user["username"] for user in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert seen == [f"fan{index}" for index in reversed(range(7))]  # newest follower first
    assert listing(fans[0], "fan0", "following")[1]["items"][0]["username"] == "star"


def test_concurrent_follows_and_unfollows_keep_counts_exact(aws: dict[str, str]) -> None:
    # Concurrency is exercised on the use cases (a handler module serves one request at a time, as
    # a Lambda execution environment does); DynamoDB's conditions are what must keep the counts exact.
    sign_up_claims("target")
    fans = [sign_up_claims(f"fan{index}") for index in range(12)]

    def churn(fan: dict[str, str]) -> None:
        caller = Caller(user_id=fan["sub"], username=fan["username"])
        for _ in range(4):
            graph.follow(caller, "target")
        if fan["username"] in ("fan1", "fan3", "fan5"):
            graph.unfollow(caller, "target")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(churn, fans))

    edges = []
    cursor = None
    while True:
        _, page = listing(fans[0], "target", "followers", limit="50", **({"cursor": cursor} if cursor else {}))
        edges.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert profile(fans[0], "target")["follower_count"] == len(edges) == 9


def test_a_cursor_works_only_on_the_list_it_came_from(people: dict[str, dict[str, str]]) -> None:
    # Given alice and bob, each with a first page of followers and of followings that has a next page
    carol = people["carol"]
    for fan in (sign_up_claims(f"fan{index}") for index in range(3)):
        follow(fan, "alice")
        follow(fan, "bob")
        follow(people["alice"], fan["username"])
        follow(people["bob"], fan["username"])
    lists = [(owner, which) for owner in ("alice", "bob") for which in ("followers", "following")]
    first_pages = {key: listing(carol, key[0], key[1], limit="2")[1] for key in lists}

    for origin in lists:
        cursor = first_pages[origin]["next_cursor"]
        assert cursor
        for target in lists:
            # When the cursor is used on every list
            status, body = listing(carol, target[0], target[1], limit="2", cursor=cursor)

            # Then only its own list takes it, and goes on where it stopped; the others refuse it
            if target == origin:
                seen = {user["user_id"] for user in first_pages[origin]["items"]}
                assert status == 200 and not seen & {user["user_id"] for user in body["items"]}
            else:
                assert (status, body["error"]["code"], body["error"]["details"]) == (
                    422,
                    "validation_error",
                    [{"field": "cursor"}],
                ), (origin, target)


def test_a_cursor_is_bound_to_the_reader_only_on_the_readers_own_lists(people: dict[str, dict[str, str]]) -> None:
    # Given five people who followed carol one after the other (her followers list, newest first: fan4 … fan0), bob's
    # first page of it, with its cursor; alice, who blocked fan2 and muted fan3 and fan4, and her first page of mutes
    alice, bob = people["alice"], people["bob"]
    for fan in [sign_up_claims(f"fan{n}") for n in range(5)]:
        follow(fan, "carol")
    _, bobs_first = listing(bob, "carol", "followers", limit="2")
    act(alice, "POST", "/users/{username}/block", "fan2")
    for fan in ("fan3", "fan4"):
        act(alice, "POST", "/users/{username}/mute", fan)
    _, alices_mutes = call("GET", "/me/muted", alice, "/me/muted", query={"limit": "1"})

    # When alice goes on with bob's cursor on carol's followers, and bob with alice's cursor on his own mutes
    status, alices_next = listing(alice, "carol", "followers", limit="2", cursor=bobs_first["next_cursor"])
    refused = call("GET", "/me/muted", bob, "/me/muted", query={"limit": "1", "cursor": alices_mutes["next_cursor"]})

    # Then the list everyone reads alike goes on after bob's page, with what alice is shown (not fan2, whom she
    # blocked); the list of alice's own is hers alone
    assert [user["username"] for user in bobs_first["items"]] == ["fan4", "fan3"]
    assert (status, [user["username"] for user in alices_next["items"]]) == (200, ["fan1", "fan0"])
    assert refused == (
        422,
        {
            "error": {
                "code": "validation_error",
                "message": "The cursor is not valid for this list.",
                "details": [{"field": "cursor"}],
            }
        },
    )


# Requests and the account going public


def test_going_public_makes_every_pending_request_a_follow(
    people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given private Bob with five pending requests (read two at a time: the approval pages through them)
    alice, bob = people["alice"], people["bob"]
    monkeypatch.setattr(graph, "REQUESTS_APPROVED_PER_PAGE", 2)
    make_private(bob)
    requesters = [alice, people["carol"], *(sign_up_claims(f"fan{index}") for index in range(3))]
    for requester in requesters:
        assert follow(requester, "bob") == (200, {"status": "requested"})
    stream = UsersStream()

    # When Bob switches to public, and the users stream reaches the consumer (twice: a redelivery)
    make_private(bob, False)
    assert stream.deliver(times=2) == 1

    # Then every requester follows him, counted, and no request is left
    assert follow_requests(bob) == []
    assert sorted(followers_of(alice, "bob")) == sorted(requester["username"] for requester in requesters)
    seen_by_alice = profile(alice, "bob")
    assert (seen_by_alice["is_private"], seen_by_alice["follower_count"]) == (False, 5)
    assert (seen_by_alice["followed_by_me"], seen_by_alice["follow_requested_by_me"]) == (True, False)
    assert profile(alice, "alice")["following_count"] == 1


def test_only_a_switch_from_private_to_public_approves_requests(people: dict[str, dict[str, str]]) -> None:
    # Given private Bob with Alice's request
    alice, bob = people["alice"], people["bob"]
    make_private(bob)
    follow(alice, "bob")
    stream = UsersStream()

    # When his profile changes otherwise (private again, a new bio)
    make_private(bob)
    call("PATCH", "/me", bob, "/me", body={"bio": "still private"})

    # Then no record reaches the consumer, and the request waits
    assert stream.deliver() == 0
    assert follow_requests(bob) == ["alice"]


def test_an_account_private_again_before_the_approvals_keeps_its_requests(people: dict[str, dict[str, str]]) -> None:
    # Given private Bob with Alice's request, who goes public and at once private again
    alice, bob = people["alice"], people["bob"]
    make_private(bob)
    follow(alice, "bob")
    stream = UsersStream()
    make_private(bob, False)
    make_private(bob)

    # When the consumer gets the switch to public
    assert stream.deliver() == 1

    # Then nothing is approved: the request waits for Bob's answer
    assert follow_requests(bob) == ["alice"]
    assert profile(bob, "bob")["follower_count"] == 0


def test_following_an_account_gone_public_clears_the_request(people: dict[str, dict[str, str]]) -> None:
    # Given Alice's request to private Bob, who goes public (before the approvals run)
    alice, bob = people["alice"], people["bob"]
    make_private(bob)
    follow(alice, "bob")
    make_private(bob, False)

    # When Alice follows him
    assert follow(alice, "bob") == (200, {"status": "following"})

    # Then she follows, and her request is gone
    seen_by_alice = profile(alice, "bob")
    assert (seen_by_alice["followed_by_me"], seen_by_alice["follow_requested_by_me"]) == (True, False)
    assert seen_by_alice["follower_count"] == 1
    assert follow_requests(bob) == []


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "denied"])
def test_answering_the_request_of_a_follower_clears_it_and_keeps_the_follow(
    people: dict[str, dict[str, str]], approve: bool
) -> None:
    # Given Alice following Bob with a request of hers still standing (as a race with his going public leaves)
    alice, bob = people["alice"], people["bob"]
    follow(alice, "bob")
    assert graph._graph.request(alice["sub"], bob["sub"])
    assert follow_requests(bob) == ["alice"]

    # When Bob answers it
    assert decide(bob, "alice", approve)[0] == 204

    # Then the request is gone and the follow stays, counted once
    assert follow_requests(bob) == []
    seen_by_alice = profile(alice, "bob")
    assert (seen_by_alice["followed_by_me"], seen_by_alice["follow_requested_by_me"]) == (True, False)
    assert seen_by_alice["follower_count"] == 1
    assert decide(bob, "alice", approve)[0] == 404


# -- pages filled past the people the reader is not shown --


def act(claims: dict[str, str], method: str, route: str, username: str) -> None:
    """A POST to a route of one user (`/users/{username}/...`), which must succeed."""
    status, body = call(method, route.format(username=username), claims, route, {"username": username})
    assert status in (200, 204), body


def suspend(claims: dict[str, str]) -> None:
    assert ProfileRepository().set_suspended(claims["sub"], True)


def pages_of(reader: dict[str, str], path: str, route: str, limit: int, **params: str) -> list[tuple[list[str], bool]]:
    """Every page of a user list, walked as a client walks it: the usernames of each, and whether it has a cursor."""
    pages: list[tuple[list[str], bool]] = []
    cursor = None
    while len(pages) < 20:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        status, page = call("GET", path, reader, route, params or None, query=query)
        assert status == 200, page
        cursor = page["next_cursor"]
        pages.append(([user["username"] for user in page["items"]], cursor is not None))
        if cursor is None:
            return pages
    raise AssertionError("the list did not end")


class UserList(NamedTuple):
    """One user list of the graph, seen by alice: how nine people get on it, how one is then hidden from her."""

    path: str
    route: str
    params: dict[str, str]
    listed: Callable[[dict[str, str], dict[str, str], dict[str, str]], None]  # (alice, carol, someone)
    hidden: Callable[[dict[str, str], dict[str, str]], None]  # (alice, someone)


def blocked_by_alice(alice: dict[str, str], someone: dict[str, str]) -> None:
    act(alice, "POST", "/users/{username}/block", someone["username"])


USER_LISTS = {
    "followers": UserList(
        "/users/carol/followers",
        "/users/{username}/followers",
        {"username": "carol"},
        lambda alice, carol, someone: act(someone, "POST", "/users/{username}/follow", "carol"),
        blocked_by_alice,
    ),
    "following": UserList(
        "/users/carol/following",
        "/users/{username}/following",
        {"username": "carol"},
        lambda alice, carol, someone: act(carol, "POST", "/users/{username}/follow", someone["username"]),
        blocked_by_alice,
    ),
    "follow requests": UserList(
        "/me/follow-requests",
        "/me/follow-requests",
        {},
        lambda alice, carol, someone: act(someone, "POST", "/users/{username}/follow", "alice"),
        lambda alice, someone: suspend(someone),
    ),
    "blocked": UserList(
        "/me/blocked",
        "/me/blocked",
        {},
        lambda alice, carol, someone: blocked_by_alice(alice, someone),
        lambda alice, someone: suspend(someone),
    ),
    "muted": UserList(
        "/me/muted",
        "/me/muted",
        {},
        lambda alice, carol, someone: act(alice, "POST", "/users/{username}/mute", someone["username"]),
        blocked_by_alice,
    ),
}


@pytest.mark.parametrize("name", list(USER_LISTS))
def test_a_user_list_page_is_filled_past_people_the_reader_is_not_shown(
    people: dict[str, dict[str, str]], name: str
) -> None:
    # Given nine people on one of the lists alice reads (her follow requests come to her as a private account)
    alice, carol, user_list = people["alice"], people["carol"], USER_LISTS[name]
    make_private(alice)
    for someone in [sign_up_claims(f"person{n}") for n in range(9)]:
        user_list.listed(alice, carol, someone)
    everyone = pages_of(alice, user_list.path, user_list.route, 50, **user_list.params)[0][0]
    assert len(everyone) == 9
    # and all but every third of them, in the list's order, since hidden from her: S H H S H H S H H
    for position, username in enumerate(everyone):
        if position % 3:
            user_list.hidden(alice, {"username": username, "sub": profile(carol, username)["user_id"]})

    # When alice reads the list a page of one at a time
    pages = pages_of(alice, user_list.path, user_list.route, 1, **user_list.params)

    # Then each page with a cursor holds the next person she is shown, never nothing, none twice or skipped
    assert pages == [([everyone[0]], True), ([everyone[3]], True), ([everyone[6]], True), ([], False)]
