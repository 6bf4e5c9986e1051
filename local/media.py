"""CloudFront in front of the media bucket: GET/HEAD of objects with the headers CloudFront adds."""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.exceptions import ClientError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from local.errors import error_response

CACHE_CONTROL = "public, max-age=31536000, immutable"


class MediaEndpoint:
    def __init__(self, s3_client: Any, bucket: str | None) -> None:
        self.s3 = s3_client
        self.bucket = bucket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        key = scope["path"].removeprefix(scope.get("root_path", "")).lstrip("/")
        response = await self._respond(request.method, key)
        await response(scope, receive, send)

    async def _respond(self, method: str, key: str) -> Response:
        if method not in ("GET", "HEAD"):
            return error_response(405, "method_not_allowed", "Media is read-only.", {"Allow": "GET, HEAD"})
        if not key or self.bucket is None:
            return error_response(404, "not_found", "No such media.")
        try:
            obj = await asyncio.to_thread(self._get if method == "GET" else self._head, key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return error_response(404, "not_found", "No such media.")
            raise
        headers = {
            "Cache-Control": obj.get("CacheControl") or CACHE_CONTROL,
            "X-Content-Type-Options": "nosniff",
            "ETag": obj["ETag"],
            "Content-Length": str(obj["ContentLength"]),
            "X-Cache": "Miss from cloudfront",
            # as the distribution's response headers policy (stacks/stateless/media_construct.py) adds them
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "Content-Length, Content-Range",
        }
        body = obj["Body"] if method == "GET" else b""
        return Response(body, status_code=200, media_type=obj.get("ContentType"), headers=headers)

    def _get(self, key: str) -> dict[str, Any]:
        obj = self.s3.get_object(Bucket=self.bucket, Key=key)
        return {**obj, "Body": obj["Body"].read()}

    def _head(self, key: str) -> dict[str, Any]:
        return dict(self.s3.head_object(Bucket=self.bucket, Key=key))
