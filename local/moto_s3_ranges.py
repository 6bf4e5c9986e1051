"""S3's answer to an unsatisfiable `Range`, which moto 5.2.5 gives without its `Content-Range`.

moto answers a ranged GetObject/HeadObject as S3 does (`S3Response._handle_range_header`): 206 with
`Content-Range: bytes a-b/size` for one range, `bytes=a-`, `bytes=-n` (clamped to the object); the whole object,
200, for several ranges or a header it cannot read (S3 ignores both); 416 `InvalidRange` for a range starting
past the end. S3's 416 also says how large the object is, `Content-Range: bytes */size` (RFC 9110 §15.5.17), so a
player that asked past the end can ask again; moto's has no `Content-Range`. This wraps moto's range handling to
add it, to the GET's error (through the headers moto's error answer is built with) and to the HEAD's empty 416.
Both the S3 front (`/_aws/s3`, proxied to moto) and the media CDN (`/media`, boto3 to moto) answer with it.

The wrapped method is fingerprinted against the source it was written against: another moto stops the start
with `MotoChanged`."""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from typing import Any

from moto.s3.exceptions import InvalidRange
from moto.s3.responses import S3Response

FINGERPRINT = "d6480a54a4dff374"
_MOTOS = S3Response._handle_range_header  # as moto wrote it, before install


class MotoChanged(RuntimeError):
    """moto's range handling is not the one local/moto_s3_ranges.py was written against."""


def _telling_the_size(handle_range: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handle_range)
    def handled(self: S3Response, request: Any, response_headers: dict[str, Any], response_content: Any) -> Any:
        try:
            status, headers, content = handle_range(self, request, response_headers, response_content)
        except InvalidRange as unsatisfiable:
            # moto's caller serializes the error with `self.response_headers` (core/responses.py `serialized`)
            self.response_headers["content-range"] = f"bytes */{unsatisfiable.actual_object_size}"
            raise
        if status == 416:  # a HEAD's, without a body to say why
            headers["content-range"] = f"bytes */{response_headers['content-length']}"
        return status, headers, content

    handled.__wrapped_by_pinhole__ = True  # type: ignore[attr-defined]
    return handled


def current_fingerprint() -> str:
    return hashlib.sha256(inspect.getsource(_MOTOS).encode()).hexdigest()[:16]


def install() -> None:
    """Idempotent; process-wide (every moto S3 backend of this process, served or mocked)."""
    if getattr(S3Response._handle_range_header, "__wrapped_by_pinhole__", False):
        return
    if current_fingerprint() != FINGERPRINT:
        raise MotoChanged("local/moto_s3_ranges.py was written against another S3Response._handle_range_header")
    S3Response._handle_range_header = _telling_the_size(_MOTOS)  # type: ignore[method-assign]


if __name__ == "__main__":
    print(f"FINGERPRINT = {current_fingerprint()!r}")
