"""The S3 endpoint handlers and clients talk to: pre-signed POSTs and URLs are checked, the rest goes to moto.

Handlers get `AWS_ENDPOINT_URL_S3` pointing here, so the URLs of `generate_presigned_post` (and
pre-signed GETs) point here too.

Every bucket of the template blocks all public access (`protected_bucket`, stacks/stateful/media_construct.py),
so S3 refuses an anonymous request (neither an `Authorization` header nor a pre-signed URL's signature) with
403 AccessDenied: moto would answer it (an unsigned `GET /<bucket>` listed every upload's key). A browser's POST
to a bucket is not anonymous, its form carries the signed policy; a CORS preflight (`OPTIONS`) is never signed.

moto verifies no signature: a pre-signed URL's is checked here as S3 checks it (local/presigned_url.py), so a URL
whose signature, date, expiry or path was changed, or which has expired, is refused before moto sees it.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import threading
import uuid
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from local.iam.authorizer import Authorizer
from local.iam.identity import Identity
from local.iam.operations import Access
from local.presigned_url import ReceivedRequest, check_presigned, is_presigned
from local.template import REGION
from local.upload_policy import AcceptedUpload, S3Error, check_post_upload

log = logging.getLogger("local.s3")
# Far above any upload limit in API.md: the policy's content-length-range decides, as on S3.
MAX_POST_BYTES = 5 * 1024 * 1024 * 1024
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}
_ANONYMOUS = S3Error(403, "AccessDenied", "Access Denied")
# S3's answer to a POST to a bucket that is not a browser form (a form sent url-encoded, a bare body).
_NOT_A_FORM = S3Error(
    412,
    "PreconditionFailed",
    "At least one of the pre-conditions you specified did not hold",
    {"Condition": "Bucket POST must be of the enclosure-type multipart/form-data"},
)


class PostedObjects:
    """Objects stored through a browser POST: moto saw a PutObject, but S3 would notify ObjectCreated:Post."""

    def __init__(self) -> None:
        self._etags: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def add(self, bucket: str, key: str, etag: str) -> None:
        with self._lock:
            self._etags[(bucket, key)] = etag.strip('"')

    def was_posted(self, bucket: str, key: str, etag: str) -> bool:
        with self._lock:
            return self._etags.get((bucket, key)) == etag.strip('"')


class S3Front:
    def __init__(
        self,
        moto_url: str,
        s3_client: Any,
        secrets: dict[str, str],
        public_url: str,
        posted: PostedObjects,
        authorizer: Authorizer | None = None,
    ) -> None:
        self.posted = posted
        self.moto_url = moto_url.rstrip("/")
        self.s3 = s3_client
        # A pre-signed request is authorized with its signer's permissions when used: each function signs
        # with its own access key (local/iam), so the key names the role to check.
        self.signers: dict[str, Identity] = dict(authorizer.identities_by_access_key) if authorizer else {}
        self.secrets = {**secrets, **{key: who.secret_access_key for key, who in self.signers.items()}}
        self.public_url = public_url.rstrip("/")
        self._http = httpx.AsyncClient(timeout=60)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        parts = [part for part in path.split("/") if part]
        content_type = request.headers.get("content-type", "").lower()
        is_form = content_type.startswith("multipart/form-data")
        if request.method == "POST" and len(parts) == 1 and is_form:
            response = await self._post_upload(request, parts[0])
        elif request.method == "POST" and len(parts) == 1 and not request.url.query:
            response = _xml_error(_NOT_A_FORM, _request_id())  # S3's PostObject, without its form
        elif request.method != "OPTIONS" and is_presigned(set(request.query_params)):
            response = await self._presigned(request, path)
        elif request.method != "OPTIONS" and "authorization" not in request.headers:
            response = _xml_error(_ANONYMOUS, _request_id(), with_body=request.method != "HEAD")
        else:
            response = await self._proxy(request, path)
        await response(scope, receive, send)

    async def _post_upload(self, request: Request, bucket: str) -> Response:
        request_id = _request_id()
        body = await request.body()
        mimetype, options = parse_options_header(request.headers["content-type"])
        _, form, files = FormDataParser(max_content_length=MAX_POST_BYTES).parse(
            io.BytesIO(body), mimetype, len(body), options
        )
        upload = files.get("file")
        if upload is None:
            return _xml_error(
                S3Error(400, "InvalidArgument", "POST requires exactly one file upload per request."), request_id
            )
        content = upload.read()
        try:
            accepted = check_post_upload(
                bucket=bucket,
                form=list(form.items(multi=True)),
                file_size=len(content),
                filename=upload.filename,
                secrets=self.secrets,
            )
            self._authorize(accepted.access_key_id, "s3:PutObject", accepted.bucket, accepted.key)
        except S3Error as error:
            log.info("upload to %s refused: %s %s", bucket, error.code, error.message)
            return _xml_error(error, request_id)
        # Recorded before storing: the notification may be read before put_object returns.
        self.posted.add(accepted.bucket, accepted.key, hashlib.md5(content).hexdigest())  # noqa: S324 - S3's ETag
        etag = await asyncio.to_thread(self._store, accepted, content)
        return self._success(accepted, etag, request_id)

    def _store(self, upload: AcceptedUpload, content: bytes) -> str:
        result = self.s3.put_object(
            Bucket=upload.bucket,
            Key=upload.key,
            Body=content,
            ContentType=upload.content_type,
            Metadata=upload.metadata,
        )
        return str(result["ETag"])

    def _success(self, upload: AcceptedUpload, etag: str, request_id: str) -> Response:
        location = f"{self.public_url}/{upload.bucket}/{upload.key}"
        headers = {"ETag": etag, "Location": location, "x-amz-request-id": request_id}
        if upload.success_action_status == 201:
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<PostResponse><Location>{escape(location)}</Location><Bucket>{escape(upload.bucket)}</Bucket>"
                f"<Key>{escape(upload.key)}</Key><ETag>{escape(etag)}</ETag></PostResponse>"
            )
            return Response(xml, status_code=201, media_type="application/xml", headers=headers)
        return Response(status_code=upload.success_action_status, headers=headers)

    def _authorize(self, access_key_id: str, action: str, bucket: str, key: str) -> None:
        """Refuses (403 AccessDenied) a pre-signed request its signing function's role may not make."""
        signer = self.signers.get(access_key_id)
        if signer is None:
            return  # signed by the local cloud's or a test's own credentials: not a function's
        denial = signer.authorizer.check(signer, "s3", [Access(action, f"arn:aws:s3:::{bucket}/{key}")])
        if denial is not None:
            raise S3Error(403, "AccessDenied", denial.message)

    async def _presigned(self, request: Request, path: str) -> Response:
        """A pre-signed URL S3 would honour, with its signer's permissions, goes to moto; else S3's refusal."""
        try:
            signer = check_presigned(_received(request), self.secrets, REGION)
            object_action = _presigned_object_action(request.method, path)
            if object_action is not None:
                self._authorize(signer, *object_action)
        except S3Error as error:
            log.info("pre-signed %s %s refused: %s %s", request.method, path, error.code, error.message)
            return _xml_error(error, _request_id(), with_body=request.method != "HEAD")
        return await self._proxy(request, path)

    async def _proxy(self, request: Request, path: str) -> Response:
        headers = [(key, value) for key, value in request.headers.items() if key.lower() not in _HOP_HEADERS]
        upstream = await self._http.request(
            request.method,
            f"{self.moto_url}{path}",
            params=request.url.query or None,
            headers=headers,
            content=await request.body(),
        )
        response_headers = {
            key: value
            for key, value in upstream.headers.items()
            if key.lower() not in _HOP_HEADERS | {"content-encoding"}
        }
        return Response(upstream.content, status_code=upstream.status_code, headers=response_headers)

    async def aclose(self) -> None:
        await self._http.aclose()


_PRESIGNED_ACTIONS = {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject", "DELETE": "s3:DeleteObject"}


def _presigned_object_action(method: str, path: str) -> tuple[str, str, str] | None:
    """(action, bucket, key) of a pre-signed object request."""
    action = _PRESIGNED_ACTIONS.get(method)
    bucket, _, key = path.lstrip("/").partition("/")
    if action is None or not key:
        return None
    return action, bucket, unquote(key)


def _received(request: Request) -> ReceivedRequest:
    """The request as its signer saw it: the path as sent (servers also hand it decoded), the query undecoded."""
    raw_path = request.scope.get("raw_path")
    return ReceivedRequest.of(
        request.method,
        raw_path.decode("latin-1") if raw_path else quote(request.scope["path"], safe="/~"),
        request.scope.get("query_string", b"").decode("latin-1"),
        request.headers,
        mount=request.scope.get("root_path", ""),
    )


def _request_id() -> str:
    return uuid.uuid4().hex[:16].upper()


def _xml_error(error: S3Error, request_id: str, *, with_body: bool = True) -> Response:
    """S3's error answer; a HEAD's has no body."""
    return Response(
        error.xml(request_id) if with_body else b"",
        status_code=error.status,
        media_type="application/xml",
        headers={"x-amz-request-id": request_id},
    )
