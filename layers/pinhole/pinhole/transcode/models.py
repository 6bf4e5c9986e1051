"""The contracts of the transcode context: what resize sends it, and the steps a client sees while it works."""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict

TRANSCODE_STEPS = 4
"""received and checked, encoded, packaged (HLS, poster, thumb), stored: `Media.processing.total` of a video."""

WATCHDOG_RESERVE_S = 60.0
"""ffmpeg is stopped this long before Lambda's timeout: time left to store what was made, or record the rejection."""

CLAIM_MARGIN = timedelta(minutes=1)
"""A claim outlives the invocation that made it by this much (the invocation cannot outlive Lambda's timeout)."""

PENDING_AFTER_UPLOAD = timedelta(hours=4)
"""Once a video's upload arrived, its post (or message) waits this long before the sweep may fail it: longer than every
transcode attempt the queue allows (stacks/stateful/media_construct.py, checked by an infrastructure test); the
dead-letter consumer normally fails it long before."""

UNPROCESSABLE_REASON = "The video could not be processed: it took too long or needed too much memory."


class TranscodeRequest(BaseModel):
    """One uploaded video to transcode: the uploads bucket's object (and version) that resize was told about."""

    model_config = ConfigDict(extra="forbid")

    bucket: str
    key: str
    version_id: str | None = None
