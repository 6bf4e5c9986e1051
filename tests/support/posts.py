"""Published posts on moto without the media pipeline: the outcome resize would record."""

from pinhole.posts import logic
from pinhole.posts.models import CreatePostRequest, MediaDeclaration, MediaStatus, StoredMedia, StoredRendition
from pinhole.shared.caller import Caller
from pinhole.upload.keys import UploadKey


def publish(user: dict[str, str], caption: str = "") -> str:
    """Creates and publishes a one-photo post by `user` (claims as in tests/support/users.py); its id."""
    caller = Caller(user_id=user["sub"], username=user["username"])
    request = CreatePostRequest(caption=caption, media=[MediaDeclaration(content_type="image/jpeg", size_bytes=1)])
    post = logic.create_post(caller, request).post
    media_id = post.media[0].media_id
    ready = StoredMedia(
        media_id=media_id,
        type="image",
        content_type="image/jpeg",
        size_bytes=1,
        status=MediaStatus.READY,
        width=1080,
        height=720,
        rendition_keys={
            "large": StoredRendition(
                key=f"posts/{post.post_id}/{media_id}/large.jpg", width=1080, height=720, content_type="image/jpeg"
            )
        },
    )
    logic.record_media_ready(UploadKey(post.post_id, media_id), ready)
    return post.post_id
