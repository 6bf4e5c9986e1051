"""Pre-signed POSTs: the client uploads straight to the uploads bucket, under a key the server chose,
with the content type and size range fixed by the signed policy (S3 refuses anything else)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.config import Config

from pinhole.shared import aws_clients
from pinhole.shared.clock import utc_now
from pinhole.shared.settings import get_settings

UPLOAD_WINDOW = timedelta(minutes=15)
UPLOAD_GRACE = timedelta(minutes=15)
"""An upload still missing this long after its window closed never comes (a slow one started in time has arrived):
its post fails, its message's photo or video is refused, with `upload_missing`."""


@dataclass(frozen=True)
class SignedUpload:
    url: str
    fields: dict[str, str]
    expires_at: datetime


class UploadSigner:
    def __init__(self, client: Any = None) -> None:
        self._s3 = client

    @property
    def s3(self) -> Any:
        if self._s3 is None:  # made on first use, not at import: most functions importing posts never sign
            # SigV4 explicitly: botocore would sign pre-signed POSTs with SigV2 in us-east-1 otherwise.
            self._s3 = aws_clients.client("s3", get_settings().region, Config(signature_version="s3v4"))
        return self._s3

    def sign(self, key: str, content_type: str, max_bytes: int) -> SignedUpload:
        expires_at = utc_now() + UPLOAD_WINDOW
        signed = self.s3.generate_presigned_post(
            Bucket=get_settings().uploads_bucket_name,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=int(UPLOAD_WINDOW.total_seconds()),
        )
        return SignedUpload(url=signed["url"], fields=dict(signed["fields"]), expires_at=expires_at)
