"""A story from a phone, end to end through the local cloud: POST /stories, the pre-signed upload, the
S3 notification to resize (a 1080×1920 story rendition served at MediaBaseUrl), the posts stream to the
fan-out, and a follower's GET /stories/feed."""

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support.api_client import Member, eventually, upload
from tests.support.video_checks import decode
from tests.support.video_corpus import H264, ffmpeg

pytestmark = pytest.mark.e2e


def photo(size: tuple[int, int] = (1600, 1200)) -> bytes:
    buffer = io.BytesIO()
    Image.radial_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def post_story(member: Member) -> str:
    content = photo()
    created = member.http.post("/stories", json={"media": {"content_type": "image/jpeg", "size_bytes": len(content)}})
    assert created.status_code == 201, created.text
    assert upload(created.json()["upload"], content).status_code == 204
    return str(created.json()["story"]["story_id"])


def stories_feed(member: Member) -> list[dict[str, Any]]:
    response = member.http.get("/stories/feed")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def story_ids(member: Member) -> dict[str, list[str]]:
    return {
        item["author"]["username"]: [story["story_id"] for story in item["stories"]] for item in stories_feed(member)
    }


def test_a_follower_sees_a_new_story_at_full_screen_size(local_cloud: Any) -> None:
    # Given bob follows alice
    alice, bob = Member(local_cloud.http), Member(local_cloud.http)
    assert bob.http.post(f"/users/{alice.username}/follow").json() == {"status": "following"}

    # When alice posts a story
    story_id = post_story(alice)

    # Then bob sees it in his stories feed, under alice, once its media is ready
    seen = eventually(lambda: story_ids(bob), lambda ids: ids.get(alice.username) == [story_id])
    assert list(seen) == [alice.username]
    (story,) = stories_feed(bob)[0]["stories"]
    assert story["media"]["status"] == "ready"
    # And its story rendition is served, 1080×1920
    rendition = story["media"]["renditions"]["story"]
    assert rendition["url"].startswith(local_cloud.outputs["MediaBaseUrl"])
    served = httpx.get(rendition["url"], timeout=30)
    assert served.status_code == 200
    assert Image.open(io.BytesIO(served.content)).size == (1080, 1920)
    # And alice sees her own; a stranger sees nothing; it is no post
    assert story_ids(alice) == {alice.username: [story_id]}
    assert stories_feed(Member(local_cloud.http)) == []
    assert alice.http.get(f"/posts/{story_id}").status_code == 404


def test_following_later_shows_the_live_stories_at_once(local_cloud: Any) -> None:
    # Given alice's published story
    alice, carol = Member(local_cloud.http), Member(local_cloud.http)
    story_id = post_story(alice)
    eventually(lambda: story_ids(alice), lambda ids: ids.get(alice.username) == [story_id])

    # When carol follows her, the follow backfills it
    assert carol.http.post(f"/users/{alice.username}/follow").json() == {"status": "following"}

    eventually(lambda: story_ids(carol), lambda ids: ids.get(alice.username) == [story_id])


def test_a_video_story_is_transcoded_before_followers_see_it(local_cloud: Any) -> None:
    # Given bob follows alice, who records a 1 s portrait clip without sound
    alice, bob = Member(local_cloud.http), Member(local_cloud.http)
    assert bob.http.post(f"/users/{alice.username}/follow").json() == {"status": "following"}
    clip = ffmpeg("-f", "lavfi", "-i", "testsrc=size=180x320:rate=10:duration=1", *H264)

    # When she posts it as a story
    created = alice.http.post("/stories", json={"media": {"content_type": "video/mp4", "size_bytes": len(clip)}})
    assert created.status_code == 201, created.text
    assert upload(created.json()["upload"], clip, "story.mp4", "video/mp4").status_code == 204

    # Then bob sees it once transcoded: an MP4 and an HLS playlist that plays, a poster and a thumb
    story_id = created.json()["story"]["story_id"]
    eventually(lambda: story_ids(bob), lambda ids: ids.get(alice.username) == [story_id], timeout_s=60)
    (story,) = stories_feed(bob)[0]["stories"]
    renditions = story["media"]["renditions"]
    assert {"video", "hls", "mp4_480p", "poster", "thumb"} <= set(renditions)
    played = decode(renditions["hls"]["url"])
    assert (played.width, played.height) == (180, 320)
    assert httpx.get(renditions["thumb"]["url"], timeout=30).status_code == 200
