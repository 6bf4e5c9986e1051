"""Published posts on moto without the media pipeline: the outcome resize would record."""

from pinhole.posts import logic
from pinhole.posts.models import CreatePostRequest, MediaDeclaration, MediaStatus, StoredMedia, StoredRendition
from pinhole.shared.caller import Caller
from pinhole.upload.keys import UploadKey


def publish(user: dict[str, str], caption: str = "") -> str:
    """Creates and publishes a one-photo post by `user` (claims as in tests/support/users.py); its id."""
    post_id, media_id = create_pending(user, caption)
    make_ready(post_id, media_id)
    return post_id


def create_pending(user: dict[str, str], caption: str = "") -> tuple[str, str]:
    """A one-photo post by `user`, created and waiting for its upload: its id and its media's."""
    caller = Caller(user_id=user["sub"], username=user["username"])
    request = CreatePostRequest(caption=caption, media=[MediaDeclaration(content_type="image/jpeg", size_bytes=1)])
    post = logic.create_post(caller, request).post
    return post.post_id, post.media[0].media_id


def make_ready(post_id: str, media_id: str) -> None:
    """What resize records once the photo's renditions are made: the post is published."""
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
                key=f"posts/{post_id}/{media_id}/large.jpg", width=1080, height=720, content_type="image/jpeg"
            )
        },
    )
    logic.record_media_ready(UploadKey(post_id, media_id), ready)
