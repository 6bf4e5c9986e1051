"""What waits in the media invalidations queue (CDN paths of renditions already deleted), and how long resize keeps
trying a picture."""

from datetime import timedelta

from pydantic import BaseModel, Field

RESIZE_MAX_RECEIVES = 3
"""How many times the upload-events queue hands resize one upload (its redrive policy: stacks/stateful/
media_construct.py reads it from here). A picture whose rendering failed on every one of them is rejected
`unprocessable` on the last, never left pending for the sweep to call `upload_missing`."""
PENDING_WHILE_RETRIED = timedelta(minutes=45)
"""How long the sweep leaves a post (or message) alone once a resize attempt failed: past every later attempt
(receives × the queue's 12-minute visibility + the 2-minute timeout; tests/infrastructure checks it)."""
UNPROCESSABLE_PICTURE_REASON = "The picture could not be processed. Try another photo."


class InvalidationRequest(BaseModel):
    paths: list[str] = Field(min_length=1)
    """Absolute CDN paths (/posts/<post>/<media>/<rendition>.<ext>): files, never wildcards, whose quota
    (15 in progress per distribution) a burst would exhaust at once."""
    attempt: int = 0
    """How many times CloudFront has refused these paths for now (each wait is longer)."""
