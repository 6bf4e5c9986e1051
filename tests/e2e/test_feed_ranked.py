"""The ranked home feed through the local cloud, as a tester under `make run` would try it: likes go through
the interactions stream to the affinity items, so a friend whose posts one likes rises on the next refresh;
the chronological switch; paging through a snapshot while someone else posts; caught up; the cursors that
must be refused; and who must never show."""

import re
import time
from typing import Any

import boto3
import pytest

from tests.e2e.test_feed import post_photo
from tests.support.api_client import Member, eventually

pytestmark = pytest.mark.e2e


def page(member: Member, **params: str) -> dict[str, Any]:
    response = member.http.get("/feed", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def ids(found: dict[str, Any]) -> list[str]:
    return [post["post_id"] for post in found["items"]]


def follow(follower: Member, followee: Member) -> None:
    assert follower.http.post(f"/users/{followee.username}/follow").json() == {"status": "following"}


def all_pages(member: Member, limit: str, between_pages: Any = None) -> list[str]:
    found = page(member, limit=limit)
    seen = ids(found)
    while found["next_cursor"]:
        if between_pages:
            between_pages()
        found = page(member, limit=limit, cursor=found["next_cursor"])
        seen += ids(found)
    return seen


@pytest.fixture(scope="module")
def world(local_cloud: Any) -> dict[str, Any]:
    """Rae follows Fay (a friend) and Ola (another); each has shared posts, the friend's older ones first."""
    rae, fay, ola = (Member(local_cloud.http) for _ in range(3))
    follow(rae, fay)
    follow(rae, ola)
    friend_posts = [post_photo(fay, f"fay {index}") for index in range(2)]
    other_posts = [post_photo(ola, f"ola {index}") for index in range(3)]
    everything = set(friend_posts + other_posts)
    eventually(lambda: set(ids(page(rae, order="chronological"))), lambda found: found == everything)
    return {"rae": rae, "fay": fay, "ola": ola, "friend_posts": friend_posts, "other_posts": other_posts}


def test_liking_a_friends_posts_makes_the_friend_rise_after_a_refresh(world: dict[str, Any]) -> None:
    rae, friend_posts, other_posts = world["rae"], world["friend_posts"], world["other_posts"]
    assert ids(page(rae))[0] == other_posts[-1]  # nothing known yet: the newest first

    for post_id in friend_posts:
        assert rae.http.post(f"/posts/{post_id}/like").json()["liked"] is True

    # The likes raise the posts' engagement at once, and the affinity once the interactions stream has passed
    # them to feed_signals: wait for both likes' affinity (weight 1 each).
    top = eventually(
        lambda: page(rae, explain="true")["items"][0],
        lambda item: item["post_id"] in friend_posts and item["ranking"]["parts"]["affinity"] >= 1.99,
    )
    assert top["ranking"]["parts"]["affinity"] == pytest.approx(2.0, rel=0.01)
    assert top["liked_by_me"] is True
    # the Following view keeps the newest first
    assert ids(page(rae, order="chronological"))[:3] == list(reversed(other_posts))


def test_paging_repeats_nothing_while_someone_else_posts(world: dict[str, Any]) -> None:
    rae, ola = world["rae"], world["ola"]
    before = set(world["friend_posts"] + world["other_posts"])
    arrived: list[str] = []

    seen = all_pages(rae, "2", between_pages=lambda: arrived.append(post_photo(ola, "meanwhile")))

    assert len(seen) == len(set(seen))
    assert before <= set(seen) and not set(arrived) & set(seen)  # the snapshot: new posts wait for a refresh
    eventually(lambda: set(ids(page(rae, limit="50"))), lambda found: set(arrived) <= found)


def test_seeing_everything_new_means_caught_up(local_cloud: Any) -> None:
    ivy, kai = Member(local_cloud.http), Member(local_cloud.http)
    follow(ivy, kai)
    shared = [post_photo(kai, f"kai {index}") for index in range(3)]
    eventually(lambda: set(ids(page(ivy))), lambda found: found == set(shared))
    assert page(ivy)["caught_up"] is False

    response = ivy.http.post("/feed/seen", json={"post_ids": [*shared, "01NOSUCHPOST00000000000000"]})
    assert response.status_code == 204 and not response.content
    assert ivy.http.post("/feed/seen", json={"post_ids": shared}).status_code == 204  # again: nothing changes

    refreshed = page(ivy)
    assert refreshed["caught_up"] is True and set(ids(refreshed)) == set(shared)  # seen posts still follow


def test_someone_following_no_one_gets_their_own_posts(local_cloud: Any) -> None:
    solo = Member(local_cloud.http)
    assert page(solo) == {"items": [], "next_cursor": None, "caught_up": True}
    own = post_photo(solo, "just me")
    eventually(lambda: ids(page(solo)), lambda found: found == [own])
    assert ids(page(solo, order="chronological")) == [own]


class _FeedsTable:
    """The local cloud's feeds table, straight through its moto endpoint (to age a snapshot past its hour)."""

    def __init__(self, local_cloud: Any) -> None:
        moto_url = re.search(r"moto at (http://\S+)", local_cloud.output())
        assert moto_url, local_cloud.output()
        self.client = boto3.client("dynamodb", endpoint_url=moto_url.group(1), region_name="us-east-1")
        [self.table] = [name for name in self.client.list_tables()["TableNames"] if "FeedsTable" in name]

    def expire_snapshots(self, user_id: str) -> int:
        found = self.client.query(
            TableName=self.table,
            KeyConditionExpression="user_id = :u AND begins_with(sk, :s)",
            ExpressionAttributeValues={":u": {"S": user_id}, ":s": {"S": "snapshot#"}},
            ProjectionExpression="user_id, sk",
        )["Items"]
        for key in found:
            self.client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="SET expires_at = :past",
                ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
            )
        return len(found)


def test_cursors_of_an_expired_snapshot_another_user_or_another_order_are_refused(
    local_cloud: Any, world: dict[str, Any]
) -> None:
    rae, fay = world["rae"], world["fay"]
    ranked = page(rae, limit="1")["next_cursor"]
    chronological = page(rae, limit="1", order="chronological")["next_cursor"]

    for member, params in (
        (fay, {"cursor": ranked}),
        (rae, {"cursor": ranked, "order": "chronological"}),
        (rae, {"cursor": chronological}),
    ):
        response = member.http.get("/feed", params=params)
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error", params

    assert _FeedsTable(local_cloud).expire_snapshots(rae.user_id) >= 1
    response = rae.http.get("/feed", params={"cursor": ranked})
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "cursor_expired"


def test_deleted_blocked_muted_and_unfollowed_authors_never_show_in_either_order(local_cloud: Any) -> None:
    reader, keeper, blocker, leaver, bore = (Member(local_cloud.http) for _ in range(5))
    for author in (keeper, blocker, leaver, bore):
        follow(reader, author)
    kept, deleted = post_photo(keeper, "kept"), post_photo(keeper, "deleted")
    blocked, unfollowed = post_photo(blocker, "blocked"), post_photo(leaver, "left")
    muted = post_photo(bore, "muted")
    everything = {kept, deleted, blocked, unfollowed, muted}
    eventually(lambda: set(ids(page(reader))), lambda found: found == everything)
    snapshot = page(reader, limit="1")  # ranked before any of the changes below

    assert keeper.http.delete(f"/posts/{deleted}").status_code == 204
    assert blocker.http.post(f"/users/{reader.username}/block").status_code == 204
    assert reader.http.delete(f"/users/{leaver.username}/follow").status_code == 204
    assert reader.http.post(f"/users/{bore.username}/mute").status_code == 204

    for order in ("ranked", "chronological"):
        assert ids(page(reader, order=order)) == [kept], order
    later = []  # the snapshot's later pages check who may show when served
    cursor = snapshot["next_cursor"]
    while cursor:
        found = page(reader, limit="1", cursor=cursor)
        later += ids(found)
        cursor = found["next_cursor"]
    assert set(later) <= {kept}

    # A mute hides without unfollowing: unmuted, the author's post is back in either order
    assert reader.http.delete(f"/users/{bore.username}/mute").status_code == 204
    for order in ("ranked", "chronological"):
        assert set(ids(page(reader, order=order))) == {kept, muted}, order
