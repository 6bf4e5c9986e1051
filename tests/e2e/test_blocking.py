"""A block through the local cloud: the blocked person vanishes from every surface of the one who
blocked them, and the other way round — profile, posts, feed, likes and comments lists, search,
stories, messages and conversations."""

from typing import Any

import pytest

from tests.e2e.test_feed import feed_ids, post_photo
from tests.support.api_client import Member, eventually

pytestmark = pytest.mark.e2e


def published(member: Member, post_id: str) -> bool:
    return bool(member.http.get(f"/posts/{post_id}").json().get("status") == "published")


def test_a_blocked_user_vanishes_from_every_surface(local_cloud: Any) -> None:
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    assert ann.http.post(f"/users/{ben.username}/follow").status_code == 200
    assert ben.http.post(f"/users/{ann.username}/follow").status_code == 200
    anns_post, bens_post = post_photo(ann, "ann's dawn"), post_photo(ben, "ben's dusk")
    eventually(lambda: published(ann, anns_post) and published(ben, bens_post), bool)
    assert ben.http.post(f"/posts/{anns_post}/like").status_code == 200
    assert ben.http.post(f"/posts/{anns_post}/comments", json={"text": "lovely"}).status_code == 201
    assert ben.http.post("/messages", json={"to": ann.username, "text": "hi"}).status_code == 201
    eventually(lambda: feed_ids(ann), lambda ids: bens_post in ids)
    eventually(
        lambda: ann.http.get("/search/users", params={"q": ben.username}).json()["items"],
        lambda found: [user["username"] for user in found] == [ben.username],
    )

    assert ann.http.post(f"/users/{ben.username}/block").status_code == 204

    for viewer, other, others_post in ((ann, ben, bens_post), (ben, ann, anns_post)):
        assert viewer.http.get(f"/users/{other.username}").status_code == 404
        assert viewer.http.get(f"/users/{other.username}/posts").status_code == 404
        assert viewer.http.get(f"/posts/{others_post}").status_code == 404
        assert viewer.http.post(f"/users/{other.username}/follow").status_code == 404
        assert viewer.http.post("/messages", json={"to": other.username, "text": "?"}).status_code == 403
        assert viewer.http.get("/conversations").json()["items"] == []
        assert viewer.http.get("/search/users", params={"q": other.username}).json()["items"] == []
        stories = viewer.http.get("/stories/feed").json()["items"]
        assert other.username not in [group["author"]["username"] for group in stories]
    assert ann.http.get(f"/posts/{anns_post}/likes").json()["items"] == []
    assert ann.http.get(f"/posts/{anns_post}/comments").json()["items"] == []
    assert bens_post not in feed_ids(ann)
    me = ann.http.get("/me").json()
    assert (me["follower_count"], me["following_count"]) == (0, 0)  # follows removed both ways

    assert ann.http.delete(f"/users/{ben.username}/block").status_code == 204
    assert ann.http.get(f"/users/{ben.username}").status_code == 200
