"""An avatar from `POST /me/avatar` to `GET /me`: the upload through resize (the real decoder, on moto's buckets),
and what the profile then says about it."""

import io
from typing import Any

import blurhash
import boto3
import pytest
from PIL import Image

from functions.upload import handler as upload
from functions.users import handler as users
from pinhole.resize.logic import process_avatar_upload
from pinhole.shared.settings import get_settings
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
