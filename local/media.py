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
asks for ranges first and plays nothing without them."""

from __future__ import annotations

import asyncio
import uuid
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
        response = await self._respond(request.method, key, request.headers.get("range"))
        await response(scope, receive, send)

    async def _respond(self, method: str, key: str, byte_range: str | None) -> Response:
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
        headers = {
            "Cache-Control": obj.get("CacheControl") or CACHE_CONTROL,
            "X-Content-Type-Options": "nosniff",
            "ETag": obj["ETag"],
            "Content-Length": str(obj["ContentLength"]),
            "Accept-Ranges": obj.get("AcceptRanges") or "bytes",
            "X-Cache": "Miss from cloudfront",
            # as the distribution's response headers policy (stacks/stateless/media_construct.py) adds them
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "Content-Length, Content-Range",
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
