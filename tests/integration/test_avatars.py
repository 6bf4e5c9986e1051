"""An avatar from `POST /me/avatar` to `GET /me`: the upload through resize (the real decoder, on moto's buckets),
and what the profile then says about it."""

import io
from datetime import datetime, timedelta
from typing import Any

import blurhash
import boto3
import pytest
from PIL import Image

from functions.upload import handler as upload
from functions.users import handler as users
from pinhole.resize.logic import process_avatar_upload
from pinhole.resize.models import RESIZE_MAX_RECEIVES
from pinhole.shared.settings import get_settings
from pinhole.upload.signer import UPLOAD_GRACE
from pinhole.users import logic as users_logic
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.users import sign_up_claims

RED, GREEN, BLUE = (255, 0, 0), (0, 160, 0), (0, 0, 255)
TOLERANCE = 16  # a blurhash of a flat colour comes back within a few steps


@pytest.fixture
def alice(aws: dict[str, str]) -> dict[str, str]:
    return sign_up_claims("alice")


def me(claims: dict[str, str]) -> dict[str, Any]:
    response = users.handler(http_event("GET", "/me", claims=claims), FakeLambdaContext())
    assert response["statusCode"] == 200, response
    return dict(response_json(response))


def request_avatar(claims: dict[str, str], size_bytes: int) -> dict[str, Any]:
    body = {"content_type": "image/jpeg", "size_bytes": size_bytes}
    response = upload.handler(http_event("POST", "/me/avatar", claims=claims, body=body), FakeLambdaContext())
    assert response["statusCode"] == 201, response
    return dict(response_json(response)["upload"])


def upload_and_resize(claims: dict[str, str], data: bytes) -> None:
    """What the client does with the pre-signed POST, and resize with the S3 event it causes."""
    signed = request_avatar(claims, len(data))
    key = signed["fields"]["key"]
    uploads = get_settings().uploads_bucket_name
    boto3.client("s3").put_object(Bucket=uploads, Key=key, Body=data, ContentType="image/jpeg")
    assert process_avatar_upload(uploads, key) is not None


def served(url: str) -> Image.Image:
    """The picture the CDN serves at a rendition URL (the media bucket's object under the same key)."""
    key = url.removeprefix(get_settings().media_base_url.rstrip("/") + "/")
    body = boto3.client("s3").get_object(Bucket=get_settings().media_bucket_name, Key=key)["Body"].read()
    image = Image.open(io.BytesIO(body))
    image.load()
    return image.convert("RGB")


def distance(pixel: Any, expected: tuple[int, int, int]) -> int:
    return max(abs(a - b) for a, b in zip(pixel, expected, strict=True))


def test_the_avatar_blurhash_paints_the_square_at_its_url_not_the_whole_upload(alice: dict[str, str]) -> None:
    # Given a 400×1600 portrait: red top, green middle, blue bottom (the avatar is its green centre square)
    picture = Image.new("RGB", (400, 1600), GREEN)
    picture.paste(RED, (0, 0, 400, 600))
    picture.paste(BLUE, (0, 1000, 400, 1600))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=95)

    # When it is uploaded as the avatar and resize has made it
    upload_and_resize(alice, buffer.getvalue())

    # Then GET /me describes the 150×150 picture at avatar.url, all green
    avatar = me(alice)["avatar"]
    assert (avatar["width"], avatar["height"]) == (150, 150)
    shown = served(avatar["url"])
    assert shown.size == (150, 150)
    assert all(distance(shown.getpixel((x, y)), GREEN) <= TOLERANCE for x in (5, 75, 144) for y in (5, 75, 144))
    # And its blurhash paints that same square: green from top to bottom, no red or blue stripe
    painted = blurhash.decode(avatar["blurhash"], 15, 15)
    for y in (0, 7, 14):
        assert distance(painted.getpixel((7, y)), GREEN) <= TOLERANCE, (y, painted.getpixel((7, y)))


def a_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), GREEN).save(buffer, "JPEG")
    return buffer.getvalue()


def me_at(claims: dict[str, str], monkeypatch: pytest.MonkeyPatch, moment: datetime) -> dict[str, Any]:
    """GET /me as if it were `moment`."""
    with monkeypatch.context() as patch:
        patch.setattr(users_logic, "utc_now", lambda: moment)
        return me(claims)


def test_an_avatar_upload_that_never_arrives_ends_upload_missing_and_the_previous_avatar_stays(
    alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alice's avatar, and a new upload she asked for whose file never reaches storage
    upload_and_resize(alice, a_photo())
    previous = me(alice)["avatar"]
    signed = request_avatar(alice, 1000)
    expired = datetime.fromisoformat(signed["expires_at"])

    # When she reads her profile while the link is valid, and in the 15 minutes of grace after it expired
    # Then the upload is pending
    for moment in (expired - timedelta(minutes=1), expired + UPLOAD_GRACE - timedelta(seconds=1)):
        assert me_at(alice, monkeypatch, moment)["avatar_upload"] == {
            "avatar_id": signed["media_id"],
            "status": "pending",
            "reason": None,
            "reason_code": None,
        }

    # When she reads it past the grace (15, 20 and 35 minutes after the link expired)
    # Then it never arrived: rejected `upload_missing` with a sentence for her, and her avatar is the previous one
    for after_expiry in (15, 20, 35):
        shown = me_at(alice, monkeypatch, expired + timedelta(minutes=after_expiry))
        assert shown["avatar_upload"] == {
            "avatar_id": signed["media_id"],
            "status": "rejected",
            "reason": "The picture never arrived: upload it again.",
            "reason_code": "upload_missing",
        }
        assert shown["avatar"] == previous and shown["avatar_url"] == previous["url"]

    # When she asks for another upload then
    again = request_avatar(alice, 1000)

    # Then that one is pending while its own link and grace last
    later = me_at(alice, monkeypatch, datetime.fromisoformat(again["expires_at"]) + UPLOAD_GRACE - timedelta(seconds=1))
    assert later["avatar_upload"]["avatar_id"] == again["media_id"]
    assert later["avatar_upload"]["status"] == "pending"


def test_an_avatar_resize_keeps_retrying_is_not_called_missing_and_ends_unprocessable(
    alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an avatar whose file arrived but whose WebP encode fails on every attempt
    from pinhole.media import imaging

    def encode(image: Any, content_type: str) -> bytes:
        raise ValueError("encoding error 5: Image size exceeds WebP limit of 16383 pixels")

    monkeypatch.setattr(imaging, "_encode", encode)
    data = a_photo()
    signed = request_avatar(alice, len(data))
    uploads = get_settings().uploads_bucket_name
    key = signed["fields"]["key"]
    boto3.client("s3").put_object(Bucket=uploads, Key=key, Body=data, ContentType="image/jpeg")

    # When resize's first attempts fail
    for receive_count in range(1, RESIZE_MAX_RECEIVES):
        with pytest.raises(ValueError, match="WebP limit"):
            process_avatar_upload(uploads, key, receive_count=receive_count)

    # Then past the upload link's expiry and grace the upload is still pending: it arrived and is being retried
    expired = datetime.fromisoformat(signed["expires_at"])
    assert me_at(alice, monkeypatch, expired + UPLOAD_GRACE + timedelta(minutes=1))["avatar_upload"]["status"] == (
        "pending"
    )

    # When the last attempt fails too
    assert process_avatar_upload(uploads, key, receive_count=RESIZE_MAX_RECEIVES) == "rejected"

    # Then it is rejected `unprocessable`, and there is still no avatar
    shown = me(alice)
    assert shown["avatar_upload"] == {
        "avatar_id": signed["media_id"],
        "status": "rejected",
        "reason": "The picture could not be processed. Try another photo.",
        "reason_code": "unprocessable",
    }
    assert (shown["avatar"], shown["avatar_url"]) == (None, None)
