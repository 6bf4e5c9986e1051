"""A photo posted from a phone, end to end through the local cloud: create the post, upload with a plain
multipart client to the pre-signed POST, the S3 notification reaches resize, the post is published and
its renditions are served at MediaBaseUrl — and every kind of bad upload is refused or rejected."""

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support.api_client import Member, eventually, upload
from tests.support.video_checks import decode, master_variants, streams
from tests.support.video_corpus import ffmpeg, remuxed

pytestmark = pytest.mark.e2e


def photo(size: tuple[int, int] = (1600, 1200)) -> bytes:
    image = Image.radial_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def create_post(member: Member, content: bytes, content_type: str = "image/jpeg") -> dict[str, Any]:
    response = member.http.post(
        "/posts",
        json={"caption": "First light #dawn", "media": [{"content_type": content_type, "size_bytes": len(content)}]},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def settled(member: Member, post_id: str, timeout_s: float = 30) -> dict[str, Any]:
    return dict(
        eventually(
            lambda: member.http.get(f"/posts/{post_id}").json(), lambda post: post["status"] != "pending", timeout_s
        )
    )


@pytest.fixture(scope="module")
def alice(local_cloud: Any) -> Member:
    return Member(local_cloud.http)


def test_photo_is_published_and_its_renditions_are_served(local_cloud: Any, alice: Member) -> None:
    content = photo()
    created = create_post(alice, content)

    uploaded = upload(created["uploads"][0], content)
    post = settled(alice, created["post"]["post_id"])

    assert uploaded.status_code == 204, uploaded.text
    assert post["status"] == "published"
    media = post["media"][0]
    assert (media["status"], media["width"], media["height"]) == ("ready", 1600, 1200)
    assert media["blurhash"]
    expected = {"large": (1080, 810), "medium": (640, 480), "thumb": (150, 150)}
    for name, size in expected.items():
        for variant, content_type in ((name, "image/jpeg"), (f"{name}_webp", "image/webp")):
            rendition = media["renditions"][variant]
            assert rendition["url"].startswith(local_cloud.outputs["MediaBaseUrl"])
            served = httpx.get(rendition["url"])
            assert served.status_code == 200
            assert served.headers["content-type"] == content_type
            assert Image.open(io.BytesIO(served.content)).size == size == (rendition["width"], rendition["height"])
    listed = alice.http.get(f"/users/{alice.username}/posts").json()
    assert [p["post_id"] for p in listed["items"]] == [post["post_id"]]
    assert alice.http.get("/me").json()["post_count"] == 1


def test_file_that_is_not_what_it_claims_is_rejected_with_a_reason(alice: Member) -> None:
    html = b"<!doctype html><html><script>alert(1)</script></html>"
    created = create_post(alice, html)

    uploaded = upload(created["uploads"][0], html)
    post = settled(alice, created["post"]["post_id"])

    assert uploaded.status_code == 204
    assert post["status"] == "failed"
    assert post["media"][0]["status"] == "rejected"
    assert post["media"][0]["reason_code"] == "type_mismatch"
    assert "JPEG" in post["media"][0]["reason"]


@pytest.mark.parametrize(
    ("content", "filename", "content_type", "s3_code"),
    [
        (photo() + b"x" * 10, "photo.jpg", "image/jpeg", "EntityTooLarge"),
        (photo(), "photo.png", "image/png", "AccessDenied"),
    ],
    ids=["bigger-than-declared", "other-content-type"],
)
def test_upload_outside_the_signed_policy_is_refused_like_s3(
    alice: Member, content: bytes, filename: str, content_type: str, s3_code: str
) -> None:
    created = create_post(alice, photo())
    target = created["uploads"][0]
    fields = dict(target["fields"])
    if content_type != "image/jpeg":
        fields["Content-Type"] = content_type

    refused = httpx.post(target["url"], data=fields, files={"file": (filename, content, content_type)})

    assert 400 <= refused.status_code < 500
    assert f"<Code>{s3_code}</Code>" in refused.text
    assert alice.http.get(f"/posts/{created['post']['post_id']}").json()["status"] == "pending"


def test_another_key_cannot_be_written_with_a_signed_policy(alice: Member) -> None:
    created = create_post(alice, photo())
    target = created["uploads"][0]
    fields = {**target["fields"], "key": "posts/someone-else/overwrite"}

    refused = httpx.post(target["url"], data=fields, files={"file": ("photo.jpg", photo(), "image/jpeg")})

    assert refused.status_code == 403
    assert "<Code>AccessDenied</Code>" in refused.text


def test_deleted_post_is_gone_for_everyone(local_cloud: Any, alice: Member) -> None:
    bob = Member(local_cloud.http)
    content = photo((800, 600))
    created = create_post(alice, content)
    upload(created["uploads"][0], content)
    post = settled(alice, created["post"]["post_id"])
    post_id, urls = post["post_id"], [r["url"] for r in post["media"][0]["renditions"].values()]
    assert bob.http.get(f"/posts/{post_id}").status_code == 200
    assert all(httpx.get(url).status_code == 200 for url in urls)

    assert bob.http.delete(f"/posts/{post_id}").status_code == 403
    assert alice.http.delete(f"/posts/{post_id}").status_code == 204

    assert bob.http.get(f"/posts/{post_id}").status_code == 404
    assert alice.http.get(f"/posts/{post_id}").status_code == 404
    # the renditions stop being served (the cleanup follows the posts table's stream): 403, as CloudFront with
    # OAC answers for a key that is not there
    eventually(lambda: [httpx.get(url).status_code for url in urls], lambda codes: set(codes) == {403})


def test_video_is_transcoded_and_its_hls_ladder_plays_through_the_media_endpoint(
    local_cloud: Any, alice: Member, tmp_path: Any
) -> None:
    # Given a phone clip: 2 s, 640×360 landscape with sound, held upright (a 90° display matrix), so shown 360×640
    stored = ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=640x360:rate=10:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", suffix=".mov",
    )  # fmt: skip
    content = remuxed(stored, "-c", "copy", suffix=".mov", input_options=("-display_rotation", "90"))
    created = create_post(alice, content, content_type="video/quicktime")

    # When it is uploaded, and the post is read while it is processed, then once it is settled
    assert upload(created["uploads"][0], content, "clip.mov", "video/quicktime").status_code == 204
    pending = created["post"]["media"][0]
    post = settled(alice, created["post"]["post_id"], timeout_s=120)

    # Then, while pending, the video said how far it had come; published, it has the ladder, HLS, poster and thumb
    assert pending["processing"] == {"done": 0, "total": 4}
    media = post["media"][0]
    assert (post["status"], media["type"], media["status"]) == ("published", "video", "ready")
    assert media["processing"] is None
    assert (media["width"], media["height"]) == (360, 640)
    assert media["duration_s"] == pytest.approx(2.0, abs=0.1)
    renditions = media["renditions"]
    assert set(renditions) == {"video", "hls", "mp4_480p", "poster", "poster_webp", "thumb", "thumb_webp"}
    base = local_cloud.outputs["MediaBaseUrl"]
    assert all(rendition["url"].startswith(base) for rendition in renditions.values())
    # And the MP4 for old clients is an upright H.264/AAC file, not the upload
    video = httpx.get(renditions["video"]["url"], timeout=30)
    assert (video.status_code, video.headers["content-type"]) == (200, "video/mp4")
    assert video.content != content
    path = tmp_path / "video.mp4"
    path.write_bytes(video.content)
    decoded = decode(path)
    assert (decoded.width, decoded.height) == (360, 640)
    assert "h264 (High)" in streams(path, "Video")[0] and "aac (LC)" in streams(path, "Audio")[0]
    # And the HLS master playlist plays end to end when ffmpeg reads it from the media endpoint
    master = httpx.get(renditions["hls"]["url"], timeout=30)
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert master.headers["access-control-allow-origin"] == "*"  # a web player (hls.js) may fetch it
    (variant,) = master_variants(master.text)
    assert variant["RESOLUTION"] == "360x640" and variant["CODECS"].endswith(",mp4a.40.2")
    played = decode(renditions["hls"]["url"])
    assert (played.width, played.height) == (360, 640)
    assert played.duration_s == pytest.approx(2.0, abs=0.15)
    # And the poster and thumb are pictures of it
    poster = httpx.get(renditions["poster"]["url"], timeout=30)
    thumb = httpx.get(renditions["thumb"]["url"], timeout=30)
    assert Image.open(io.BytesIO(poster.content)).size == (360, 640)
    assert Image.open(io.BytesIO(thumb.content)).size == (150, 150)
    # And deleting the post stops every rendition being served, the HLS segments too
    segment = renditions["hls"]["url"].rsplit("/", 1)[0] + "/480p/segment0.m4s"
    assert httpx.get(segment, timeout=30).status_code == 200
    assert alice.http.delete(f"/posts/{post['post_id']}").status_code == 204
    urls = [renditions["video"]["url"], renditions["hls"]["url"], segment]
    eventually(lambda: [httpx.get(url, timeout=30).status_code for url in urls], lambda codes: set(codes) == {403})
