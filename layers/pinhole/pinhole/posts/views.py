"""How a stored post shows in the API: kept apart from the posts' use cases so that a reader of posts (the
feed) imports no upload, privacy or account machinery."""

from pinhole.posts.models import Media, MediaStatus, Post, PostRecord, Rendition, StoredMedia
from pinhole.shared.clock import to_iso
from pinhole.shared.settings import get_settings
from pinhole.social.dal import ViewerMarks
from pinhole.users.models import Profile
from pinhole.users.views import summary_of


def media_view(media: StoredMedia) -> Media:
    base = get_settings().media_base_url.rstrip("/")
    renditions = {
        name: Rendition(url=f"{base}/{r.key}", width=r.width, height=r.height, content_type=r.content_type)
        for name, r in media.rendition_keys.items()
    }
    return Media(
        media_id=media.media_id,
        type=media.type,
        status=media.status,
        reason=media.reason,
        reason_code=media.reason_code,
        width=media.width,
        height=media.height,
        blurhash=media.blurhash,
        duration_s=media.duration_s,
        processing=media.processing if media.status == MediaStatus.PENDING else None,
        renditions=renditions,
    )


def to_post(record: PostRecord, author: Profile, marks: ViewerMarks) -> Post:
    """The API's Post, with the viewer's liked_by_me and saved_by_me from `marks` (viewer_flags' answer
    for the page this post is on): required, so no route can forget the viewer's flags."""
    liked, saved = marks.get(record.post_id, (False, False))
    return Post(
        post_id=record.post_id,
        author=summary_of(author),
        caption=record.caption,
        tags=record.tags,
        mentions=record.mentions,
        created_at=to_iso(record.created_at),
        status=record.status,
        media=[media_view(record.media[media_id]) for media_id in record.media_order],
        like_count=record.like_count,
        comment_count=record.comment_count,
        liked_by_me=liked,
        saved_by_me=saved,
        edited_at=to_iso(record.edited_at) if record.edited_at else None,
    )
