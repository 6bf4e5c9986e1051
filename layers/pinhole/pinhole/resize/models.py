"""What waits in the media invalidations queue: CDN paths of renditions already deleted."""

from pydantic import BaseModel, Field


class InvalidationRequest(BaseModel):
    paths: list[str] = Field(min_length=1)
    """Absolute CDN paths (/posts/<post>/<media>/<rendition>.<ext>): files, never wildcards, whose quota
    (15 in progress per distribution) a burst would exhaust at once."""
    attempt: int = 0
    """How many times CloudFront has refused these paths for now (each wait is longer)."""
