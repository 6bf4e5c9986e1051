from datetime import timedelta
from typing import Any

import pytest

from functions.upload import handler as upload
from functions.users import handler as users
from pinhole.posts import logic
from pinhole.posts.models import MediaStatus, StoredMedia, StoredRendition
from pinhole.shared.clock import utc_now
from pinhole.upload.keys import UploadKey
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.users import sign_up_claims

JPEG = {"content_type": "image/jpeg", "size_bytes": 2_000_000}


@pytest.fixture
def alice(aws: dict[str, str]) -> dict[str, str]:
    return sign_up_claims("alice")


@pytest.fixture
def bob(aws: dict[str, str]) -> dict[str, str]:
    return sign_up_claims("bob")


def call(
    method: str,
    path: str,
    claims: dict[str, str],
    body: Any = None,
    route: str | None = None,
    params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    event = http_event(method, path, claims=claims, body=body, route_key=route, path_parameters=params)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    response = upload.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def get_post(post_id: str, claims: dict[str, str]) -> tuple[int, Any]:
    return call("GET", f"/posts/{post_id}", claims, route="GET /posts/{post_id}", params={"post_id": post_id})


def create(claims: dict[str, str], caption: str = "Dawn #Sunrise with @Bob", media: list | None = None) -> Any:
    status, body = call("POST", "/posts", claims, {"caption": caption, "media": media or [JPEG]})
    assert status == 201, body
    return body


def finish_processing(post: Any) -> None:
    for media in post["media"]:
        ready = StoredMedia(
            media_id=media["media_id"],
            type="image",
            content_type="image/jpeg",
            size_bytes=1,
            status=MediaStatus.READY,
            width=1080,
            height=720,
            blurhash="LEHV6nWB2yk8",
            rendition_keys={
                "large": StoredRendition(
                    key=f"posts/{post['post_id']}/{media['media_id']}/large.jpg",
                    width=1080,
                    height=720,
                    content_type="image/jpeg",
                )
            },
        )
        logic.record_media_ready(UploadKey(post["post_id"], media["media_id"]), ready)


def post_count(claims: dict[str, str]) -> int:
    response = users.handler(http_event("GET", "/me", claims=claims), FakeLambdaContext())
    return int(response_json(response)["post_count"])


def test_create_post_returns_pending_post_and_one_signed_upload_per_media(alice: dict[str, str]) -> None:
    body = create(alice, media=[JPEG, {"content_type": "video/mp4", "size_bytes": 50_000_000}])

    post = body["post"]
    assert post["status"] == "pending"
    assert (post["tags"], post["mentions"]) == (["sunrise"], ["bob"])
    assert [m["status"] for m in post["media"]] == ["pending", "pending"]
    assert [m["type"] for m in post["media"]] == ["image", "video"]
    # the video says how far its processing has come (nothing yet, of 4 steps); a picture has no such state
    assert [m["processing"] for m in post["media"]] == [None, {"done": 0, "total": 4}]
    assert len(body["uploads"]) == 2
    first = body["uploads"][0]
    assert first["fields"]["key"] == f"posts/{post['post_id']}/{first['media_id']}"
    assert first["fields"]["Content-Type"] == "image/jpeg"
    assert first["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert {"policy", "x-amz-signature", "x-amz-credential", "x-amz-date"} <= set(first["fields"])
    assert first["expires_at"].endswith("Z")


@pytest.mark.parametrize(
    ("media", "status"),
    [
        ([{"content_type": "image/gif", "size_bytes": 10}], 422),
        ([{"content_type": "application/postscript", "size_bytes": 10}], 422),
        ([{"content_type": "image/jpeg", "size_bytes": 31 * 1024 * 1024}], 413),
        ([{"content_type": "video/mp4", "size_bytes": 201 * 1024 * 1024}], 413),
        ([{"content_type": "image/jpeg", "size_bytes": 0}], 422),
        ([], 422),
        ([JPEG] * 11, 422),
    ],
    ids=["gif", "eps", "image-too-big", "video-too-big", "empty", "no-media", "eleven"],
)
def test_create_post_refuses_bad_media_declarations(alice: dict[str, str], media: list, status: int) -> None:
    code, body = call("POST", "/posts", alice, {"caption": "x", "media": media})

    assert code == status
    assert body["error"]["code"] == ("payload_too_large" if status == 413 else "validation_error")


def test_create_post_refuses_a_caption_over_2200_characters(alice: dict[str, str]) -> None:
    code, body = call("POST", "/posts", alice, {"caption": "x" * 2201, "media": [JPEG]})

    assert (code, body["error"]["code"]) == (422, "validation_error")


def test_pending_post_is_visible_to_its_author_only(alice: dict[str, str], bob: dict[str, str]) -> None:
    post = create(alice)["post"]

    assert get_post(post["post_id"], alice)[0] == 200
    assert get_post(post["post_id"], bob)[0] == 404


def test_last_ready_media_publishes_the_post_exactly_once(alice: dict[str, str], bob: dict[str, str]) -> None:
    post = create(alice, media=[JPEG, JPEG])["post"]

    finish_processing({**post, "media": post["media"][:1]})
    assert get_post(post["post_id"], alice)[1]["status"] == "pending"
    finish_processing(post)
    finish_processing(post)  # a duplicated S3 event

    status, seen_by_bob = get_post(post["post_id"], bob)
    assert status == 200 and seen_by_bob["status"] == "published"
    assert seen_by_bob["media"][0]["renditions"]["large"]["url"].startswith("https://media.example.com/posts/")
    assert post_count(alice) == 1


def test_rejected_media_fails_the_post_with_its_reason(alice: dict[str, str]) -> None:
    post = create(alice)["post"]
    media = post["media"][0]

    logic.record_media_rejected(
        UploadKey(post["post_id"], media["media_id"]),
        StoredMedia(
            media_id=media["media_id"],
            type="image",
            content_type="image/jpeg",
            size_bytes=1,
            status=MediaStatus.REJECTED,
            reason="The file is not the JPEG image it claims to be.",
            reason_code="type_mismatch",
        ),
    )
    finish_processing(post)  # a late "ready" for the same item changes nothing

    failed = get_post(post["post_id"], alice)[1]
    assert failed["status"] == "failed"
    assert failed["media"][0]["status"] == "rejected"
    assert failed["media"][0]["reason"] == "The file is not the JPEG image it claims to be."
    assert post_count(alice) == 0


def test_sweep_fails_posts_whose_upload_never_arrived(alice: dict[str, str]) -> None:
    waiting = create(alice)["post"]

    assert logic.fail_overdue_posts(now=utc_now() + timedelta(minutes=29)) == 0
    assert logic.fail_overdue_posts(now=utc_now() + timedelta(minutes=31)) == 1

    failed = get_post(waiting["post_id"], alice)[1]
    assert failed["status"] == "failed"
    assert (failed["media"][0]["status"], failed["media"][0]["reason_code"]) == ("rejected", "upload_missing")


def test_only_the_author_deletes_a_post(alice: dict[str, str], bob: dict[str, str]) -> None:
    post = create(alice)["post"]
    finish_processing(post)
    path, route, params = f"/posts/{post['post_id']}", "DELETE /posts/{post_id}", {"post_id": post["post_id"]}

    assert call("DELETE", path, bob, route=route, params=params)[0] == 403
    assert call("DELETE", path, alice, route=route, params=params)[0] == 204

    assert get_post(post["post_id"], alice)[0] == 404
    assert post_count(alice) == 0


def list_posts(username: str, claims: dict[str, str], **query: str) -> tuple[int, Any]:
    return call(
        "GET",
        f"/users/{username}/posts",
        claims,
        route="GET /users/{username}/posts",
        params={"username": username},
        query=query or None,
    )


def test_user_posts_are_published_ones_newest_first_in_stable_pages(alice: dict[str, str], bob: dict[str, str]) -> None:
    published = []
    for index in range(5):
        post = create(alice, caption=f"post {index}")["post"]
        finish_processing(post)
        published.append(post["post_id"])
    create(alice, caption="still uploading")

    _, first = list_posts("alice", bob, limit="2")
    newer = create(alice, caption="arrives between pages")["post"]
    finish_processing(newer)
    _, second = list_posts("alice", bob, limit="2", cursor=first["next_cursor"])
    _, third = list_posts("alice", bob, limit="2", cursor=second["next_cursor"])

    seen = [p["post_id"] for page in (first, second, third) for p in page["items"]]
    assert seen == list(reversed(published))


def test_tampered_or_foreign_cursor_is_refused(alice: dict[str, str], bob: dict[str, str]) -> None:
    for _ in range(3):
        finish_processing(create(alice)["post"])
        finish_processing(create(bob)["post"])
    cursor = list_posts("alice", alice, limit="1")[1]["next_cursor"]

    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    assert list_posts("alice", alice, limit="1", cursor=tampered)[0] == 422
    assert list_posts("bob", alice, limit="1", cursor=cursor)[0] == 422


def test_private_account_posts_are_hidden_from_others(alice: dict[str, str], bob: dict[str, str]) -> None:
    post = create(alice)["post"]
    finish_processing(post)
    users.handler(http_event("PATCH", "/me", claims=alice, body={"is_private": True}), FakeLambdaContext())

    assert list_posts("alice", bob)[0] == 403
    assert get_post(post["post_id"], bob)[0] == 404
    assert list_posts("alice", alice)[0] == 200


def test_retried_create_with_the_same_idempotency_key_returns_the_first_post(
    alice: dict[str, str], bob: dict[str, str]
) -> None:
    def create_with_key(claims: dict[str, str], key: str) -> Any:
        event = http_event("POST", "/posts", claims=claims, body={"caption": "once", "media": [JPEG]})
        event["headers"]["idempotency-key"] = key
        response = upload.handler(event, FakeLambdaContext())
        assert response["statusCode"] == 201, response
        return response_json(response)

    first, retry = create_with_key(alice, "k-1"), create_with_key(alice, "k-1")
    other_key, other_user = create_with_key(alice, "k-2"), create_with_key(bob, "k-1")

    assert retry == first
    assert len({first["post"]["post_id"], other_key["post"]["post_id"], other_user["post"]["post_id"]}) == 3
