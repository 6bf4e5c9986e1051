"""The contract of a signed upload, shared by posts, stories and avatars."""

from pydantic import BaseModel


class Upload(BaseModel):
    """Where and how to upload one media file: an S3 pre-signed POST (send every field, then `file`)."""

    media_id: str
    url: str
    fields: dict[str, str]
    expires_at: str
