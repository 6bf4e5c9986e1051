"""Two people following each other see each other's posts in GET /feed within seconds of publishing,
through the local cloud's stream pumps and the fan-out, exactly as on AWS."""

import io
from typing import Any

import pytest
from PIL import Image

from tests.support.api_client import Member, eventually, upload

pytestmark = pytest.mark.e2e


def post_photo(member: Member, caption: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 40)).save(buffer, "JPEG")
    content = buffer.getvalue()
    created = member.http.post(
        "/posts", json={"caption": caption, "media": [{"content_type": "image/jpeg", "size_bytes": len(content)}]}
    ).json()
    assert upload(created["uploads"][0], content).status_code == 204
    return str(created["post"]["post_id"])


def feed_ids(member: Member) -> list[str]:
    """The feed newest first (ranking is tested in test_feed_ranked.py)."""
    response = member.http.get("/feed", params={"order": "chronological"})
    assert response.status_code == 200, response.text
    return [post["post_id"] for post in response.json()["items"]]


def test_mutual_followers_see_each_others_posts(local_cloud: Any) -> None:
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    assert ann.http.post(f"/users/{ben.username}/follow").json() == {"status": "following"}
    assert ben.http.post(f"/users/{ann.username}/follow").json() == {"status": "following"}

    from_ann = post_photo(ann, "hello from ann")
    from_ben = post_photo(ben, "hello from ben")

    eventually(lambda: feed_ids(ben), lambda ids: ids[:2] == [from_ben, from_ann])
    eventually(lambda: feed_ids(ann), lambda ids: ids[:2] == [from_ben, from_ann])


def test_private_account_request_approve_then_posts_flow(local_cloud: Any) -> None:
    owner, fan = Member(local_cloud.http), Member(local_cloud.http)
    owner.http.patch("/me", json={"is_private": True})
    secret = post_photo(owner, "for followers only")
    eventually(lambda: owner.http.get(f"/posts/{secret}").json()["status"], lambda status: status == "published")

    assert fan.http.post(f"/users/{owner.username}/follow").json() == {"status": "requested"}
    assert fan.http.get(f"/posts/{secret}").status_code == 404
    assert fan.http.get(f"/users/{owner.username}/posts").status_code == 403
    assert owner.http.post(f"/me/follow-requests/{fan.username}", json={"approve": True}).status_code == 204

    assert fan.http.get(f"/posts/{secret}").status_code == 200
    eventually(lambda: feed_ids(fan), lambda ids: secret in ids)  # backfilled on follow


def test_unfollow_removes_posts_from_the_feed(local_cloud: Any) -> None:
    author, reader = Member(local_cloud.http), Member(local_cloud.http)
    reader.http.post(f"/users/{author.username}/follow")
    post_id = post_photo(author, "soon gone from your feed")
    eventually(lambda: feed_ids(reader), lambda ids: post_id in ids)

    assert reader.http.delete(f"/users/{author.username}/follow").status_code == 204

    assert post_id not in feed_ids(reader)


def test_likes_and_comments_show_on_the_posts_in_the_feed(local_cloud: Any) -> None:
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    ann.http.post(f"/users/{ben.username}/follow")
    post_id = post_photo(ben, "like me")
    eventually(lambda: feed_ids(ann), lambda ids: post_id in ids)

    assert ann.http.post(f"/posts/{post_id}/like").json() == {"liked": True, "like_count": 1}
    comment = ann.http.post(f"/posts/{post_id}/comments", json={"text": "Lovely light"})
    assert comment.status_code == 201, comment.text

    seen_by_ann = ann.http.get("/feed").json()["items"][0]
    assert (seen_by_ann["post_id"], seen_by_ann["like_count"], seen_by_ann["comment_count"]) == (post_id, 1, 1)
    assert seen_by_ann["liked_by_me"] is True
    comments = ben.http.get(f"/posts/{post_id}/comments").json()["items"]
    assert [(c["author"]["username"], c["text"]) for c in comments] == [(ann.username, "Lovely light")]


def test_concurrent_likes_over_http_give_an_exact_count(local_cloud: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    author = Member(local_cloud.http)
    fans = [Member(local_cloud.http) for _ in range(8)]
    post_id = post_photo(author, "popular")
    eventually(lambda: author.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")

    def like_twice(fan: Member) -> list[int]:
        return [fan.http.post(f"/posts/{post_id}/like").status_code for _ in range(2)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [status for result in pool.map(like_twice, fans) for status in result]

    assert set(statuses) == {200}
    assert author.http.get(f"/posts/{post_id}").json()["like_count"] == len(fans)
    likers = author.http.get(f"/posts/{post_id}/likes", params={"limit": 50}).json()["items"]
    assert sorted(u["username"] for u in likers) == sorted(fan.username for fan in fans)


def test_deleted_post_leaves_every_feed(local_cloud: Any) -> None:
    author, reader = Member(local_cloud.http), Member(local_cloud.http)
    reader.http.post(f"/users/{author.username}/follow")
    kept, deleted = post_photo(author, "stays"), post_photo(author, "goes")
    eventually(lambda: feed_ids(reader), lambda ids: {kept, deleted} <= set(ids))

    assert author.http.delete(f"/posts/{deleted}").status_code == 204

    assert deleted not in feed_ids(reader) and kept in feed_ids(reader)
    assert deleted not in feed_ids(author)
