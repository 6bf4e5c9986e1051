"""CloudFront in front of the media bucket: GET/HEAD of objects with the headers CloudFront adds.

The distribution reads the bucket through Origin Access Control, and the bucket policy grants CloudFront
`s3:GetObject` only (not `s3:ListBucket`). S3 then answers a key that does not exist with 403 AccessDenied —
it may not say whether the key exists to a reader who cannot list — and CloudFront passes S3's XML through
(the distribution has no custom error responses). So a deleted rendition is 403 with S3's AccessDenied XML,
not 404; clients cannot tell "gone" from "never existed", as on AWS.

A `Range` goes to S3 with the request, as CloudFront forwards it to an origin that serves ranges (S3 does; the
local CDN caches nothing, so every range is the origin's answer): 206 with `Content-Range` for one range, the
whole object for several (S3 serves no multi-range) or for a header S3 cannot read, 416 with S3's InvalidRange
and `Content-Range: bytes */size` for a range past the end. Safari's and AVPlayer's progressive MP4 playback
asks for ranges first and plays nothing without them.

Conditional requests are answered as CloudFront answers them (from its cache, or S3's own answer to the request it
forwards): `Last-Modified` (S3's) on every object, and 304 Not Modified — no body; ETag, Last-Modified, Cache-Control
and the CORS headers kept — to a GET or HEAD whose `If-None-Match` names the object's ETag (or `*`; weak tags compare
weakly), or, without `If-None-Match`, whose `If-Modified-Since` is not before `Last-Modified` (RFC 9110 13.2.2: an
If-None-Match decides alone, and before any Range). A client revalidating a rendition it holds gets 304, not the
whole file again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from botocore.exceptions import ClientError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from local.errors import error_response
from local.upload_policy import S3Error

CACHE_CONTROL = "public, max-age=31536000, immutable"
_MISSING = ("NoSuchKey", "404", "NotFound")


def access_denied(method: str) -> Response:
    """S3's answer to a reader without s3:ListBucket asking for a key that is not there, as CloudFront relays it
    (no body to a HEAD)."""
    headers = {"X-Cache": "Error from cloudfront"}
    if method == "HEAD":
        return Response(status_code=403, media_type="application/xml", headers=headers)
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>{request_id}</RequestId>"
        f"<HostId>{uuid.uuid4().hex}</HostId></Error>"
    )
    return Response(body, status_code=403, media_type="application/xml", headers=headers)


class MediaEndpoint:
    def __init__(self, s3_client: Any, bucket: str | None) -> None:
        self.s3 = s3_client
        self.bucket = bucket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        key = scope["path"].removeprefix(scope.get("root_path", "")).lstrip("/")
        response = await self._respond(request.method, key, request.headers.get("range"), request.headers)
        await response(scope, receive, send)

    async def _respond(self, method: str, key: str, byte_range: str | None, conditions: Mapping[str, str]) -> Response:
        if method not in ("GET", "HEAD"):
            return error_response(405, "method_not_allowed", "Media is read-only.", {"Allow": "GET, HEAD"})
        if not key or self.bucket is None:
            return access_denied(method)
        ranged = {"Range": byte_range} if byte_range else {}
        try:
            obj = await asyncio.to_thread(self._get if method == "GET" else self._head, key, ranged)
        except ClientError as error:
            if error.response["Error"]["Code"] in _MISSING:
                return access_denied(method)
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 416:
                return range_not_satisfiable(method, error.response)
            raise
        last_modified = obj["LastModified"].astimezone(UTC)  # botocore's tzutc is not the UTC format_datetime wants
        validators = {
            "Cache-Control": obj.get("CacheControl") or CACHE_CONTROL,
            "ETag": obj["ETag"],
            "Last-Modified": format_datetime(last_modified, usegmt=True),
            "X-Cache": "Miss from cloudfront",
            # as the distribution's response headers policy (stacks/stateless/media_construct.py) adds them
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "Content-Length, Content-Range",
        }
        if not_modified(conditions, obj["ETag"], last_modified):
            return Response(status_code=304, headers=validators)
        headers = {
            **validators,
            "X-Content-Type-Options": "nosniff",
            "Content-Length": str(obj["ContentLength"]),
            "Accept-Ranges": obj.get("AcceptRanges") or "bytes",
        }
        if "ContentRange" in obj:
            headers["Content-Range"] = obj["ContentRange"]
        body = obj["Body"] if method == "GET" else b""
        status = obj["ResponseMetadata"]["HTTPStatusCode"]
        return Response(body, status_code=status, media_type=obj.get("ContentType"), headers=headers)

    def _get(self, key: str, ranged: dict[str, str]) -> dict[str, Any]:
        obj = self.s3.get_object(Bucket=self.bucket, Key=key, **ranged)
        return {**obj, "Body": obj["Body"].read()}

    def _head(self, key: str, ranged: dict[str, str]) -> dict[str, Any]:
        return dict(self.s3.head_object(Bucket=self.bucket, Key=key, **ranged))


def not_modified(conditions: Mapping[str, str], etag: str, last_modified: datetime) -> bool:
    """Whether a GET or HEAD with these request headers is answered 304 (RFC 9110 13.1.2, 13.1.3, 13.2.2)."""
    if_none_match = conditions.get("if-none-match")
    if if_none_match is not None:
        listed = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in listed or etag.removeprefix("W/") in listed
    if_modified_since = conditions.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):  # an unreadable date is ignored, as S3 and CloudFront ignore it
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since


def range_not_satisfiable(method: str, answer: dict[str, Any]) -> Response:
    """S3's 416 as CloudFront relays it: `Content-Range: bytes */size` and, to a GET, S3's InvalidRange XML."""
    headers = {
        "Content-Range": answer["ResponseMetadata"]["HTTPHeaders"]["content-range"],
        "X-Cache": "Error from cloudfront",
    }
    if method == "HEAD":
        return Response(status_code=416, media_type="application/xml", headers=headers)
    error = answer["Error"]
    refusal = S3Error(
        416,
        error["Code"],
        error["Message"],
        {"RangeRequested": error["RangeRequested"], "ActualObjectSize": error["ActualObjectSize"]},
    )
    request_id = uuid.uuid4().hex[:16].upper()
    return Response(refusal.xml(request_id), status_code=416, media_type="application/xml", headers=headers)
