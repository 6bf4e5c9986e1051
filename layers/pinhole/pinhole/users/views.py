"""How a profile shows inside another context's answer (a post's author, a comment's, a message's sender):
kept apart from the users' use cases so that a reader of posts (the feed) imports no account machinery."""

from pinhole.media.limits import AVATAR_URL_RENDITION
from pinhole.shared.settings import get_settings
from pinhole.users.models import Avatar, AvatarRendition, Profile, StoredAvatar, UserSummary


def avatar_view(stored: StoredAvatar | None) -> Avatar | None:
    if stored is None:
        return None
    base = get_settings().media_base_url.rstrip("/")
    renditions = {
        name: AvatarRendition(url=f"{base}/{r.key}", width=r.width, height=r.height, content_type=r.content_type)
        for name, r in stored.renditions.items()
    }
    shown = renditions[AVATAR_URL_RENDITION]
    return Avatar(
        url=shown.url,
        width=shown.width,  # the picture at `url`: a square crop, whatever the uploaded picture's shape
        height=shown.height,
        blurhash=stored.blurhash,
        renditions=renditions,
    )


def summary_of(profile: Profile) -> UserSummary:
    avatar = avatar_view(profile.avatar)
    return UserSummary(
        user_id=profile.user_id,
        username=profile.username,
        display_name=profile.display_name,
        avatar_url=avatar.url if avatar else None,
        avatar=avatar,
    )
