"""A photo posted from a phone, end to end through the local cloud: create the post, upload with a plain
multipart client to the pre-signed POST, the S3 notification reaches resize, the post is published and
its renditions are served at MediaBaseUrl — and every kind of bad upload is refused or rejected."""

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support.api_client import Member, eventually, upload

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


def settled(member: Member, post_id: str) -> dict[str, Any]:
    return dict(
        eventually(lambda: member.http.get(f"/posts/{post_id}").json(), lambda post: post["status"] != "pending")
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


def test_video_is_published_with_poster_and_duration(local_cloud: Any, alice: Member, tmp_path: Any) -> None:
    import subprocess

    import imageio_ffmpeg

    clip = tmp_path / "clip.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=10",
            "-t",
            "2",
            "-pix_fmt",
            "yuv420p",
            str(clip),
        ],
        check=True,
    )
    content = clip.read_bytes()
    created = create_post(alice, content, content_type="video/mp4")

    assert upload(created["uploads"][0], content, "clip.mp4", "video/mp4").status_code == 204
    post = settled(alice, created["post"]["post_id"])

    media = post["media"][0]
    assert (post["status"], media["type"], media["status"]) == ("published", "video", "ready")
    assert media["duration_s"] == pytest.approx(2.0, abs=0.2)
    video = httpx.get(media["renditions"]["video"]["url"])
    poster = httpx.get(media["renditions"]["poster"]["url"])
    assert (video.status_code, video.headers["content-type"], video.content) == (200, "video/mp4", content)
    assert poster.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(poster.content)).size == (320, 240)
