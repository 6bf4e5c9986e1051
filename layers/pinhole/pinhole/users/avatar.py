"""The avatar use cases: sign an upload (POST /me/avatar), make the uploaded picture the avatar once resize
has rendered it (or record why it was refused, keeping the old one), and remove it (DELETE /me/avatar).

The picture goes through the pipeline of post photos: a pre-signed POST to the uploads bucket under
`avatars/<user>/<avatar_id>`, the bucket's notification, resize. Renditions are written under the same path
in the media bucket; the users item names the current avatar (`avatar`) and the latest upload
(`avatar_upload`, `avatar_upload_id`). Only the latest upload may settle: one started later, or a removal,
wins, and renditions made for a loser are deleted again. The previous avatar's renditions are deleted, and
invalidated on the CDN, once the new one is in place (`pinhole.resize.purge.purge_prefix`, the one path that
deletes renditions).

Every profile, and so every UserSummary, is read fresh from the users table where it is shown (posts,
comments, likes, search, notifications, conversations, stories): nothing holds a copy of the avatar to
update, so a new one shows everywhere as soon as this module records it."""

from collections.abc import Callable
from datetime import datetime

from pinhole.media.limits import MediaRejected, RejectionCode, check_avatar_upload
from pinhole.media.models import ImageRenditions
from pinhole.resize.purge import purge_prefix
from pinhole.resize.storage import MediaStorage
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso
from pinhole.shared.errors import Conflict, PayloadTooLarge, ValidationFailed
from pinhole.shared.ids import new_id
from pinhole.shared.observability import logger
from pinhole.upload.keys import AvatarKey
from pinhole.upload.models import Upload
from pinhole.upload.signer import UPLOAD_GRACE, UploadSigner
from pinhole.users.dal import ProfileRepository
from pinhole.users.models import (
    AvatarStatus,
    AvatarUpload,
    AvatarUploadRequest,
    StoredAvatar,
    StoredAvatarRendition,
)

_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp"}
REMOVE_ATTEMPTS = 3

_profiles = ProfileRepository()
_signer = UploadSigner()
_storage = MediaStorage()


def request_upload(
    caller: Caller,
    request: AvatarUploadRequest,
    profiles: ProfileRepository = _profiles,
    signer: UploadSigner = _signer,
) -> Upload:
    try:
        check_avatar_upload(request.content_type, request.size_bytes)
    except MediaRejected as rejected:
        if rejected.code == RejectionCode.TOO_LARGE:
            raise PayloadTooLarge(rejected.reason, [{"field": "size_bytes"}]) from rejected
        raise ValidationFailed(rejected.reason, [{"field": "content_type"}]) from rejected
    rate_limits.enforce(caller.user_id, "avatar")
    key = AvatarKey(user_id=caller.user_id, avatar_id=new_id())
    signed = signer.sign(str(key), request.content_type, request.size_bytes)
    expires_at = to_iso(signed.expires_at)  # the millisecond the client is told: its deadline is counted from it
    upload = AvatarUpload(
        avatar_id=key.avatar_id,
        status=AvatarStatus.PENDING,
        content_type=request.content_type,
        fail_after=datetime.fromisoformat(expires_at) + UPLOAD_GRACE,
    )
    profiles.start_avatar_upload(caller.user_id, upload)
    return Upload(media_id=key.avatar_id, url=signed.url, fields=signed.fields, expires_at=expires_at)


def keep_pending(
    key: AvatarKey, upload: AvatarUpload, until: datetime, profiles: ProfileRepository = _profiles
) -> None:
    """resize failed to render this upload and will try again: `GET /me` keeps it pending (not `upload_missing`)
    until `until`, unless it was settled or replaced meanwhile."""
    profiles.keep_avatar_upload_pending(key.user_id, upload, upload.model_copy(update={"fail_after": until}))


def pending_upload(key: AvatarKey, profiles: ProfileRepository = _profiles) -> AvatarUpload | None:
    """The upload this object is for, if it still waits for its renditions; None for a stale or repeated event."""
    upload = profiles.get_consistent(key.user_id).avatar_upload
    if upload is None or upload.avatar_id != key.avatar_id or upload.status != AvatarStatus.PENDING:
        return None
    return upload


def _store(key: AvatarKey, image: ImageRenditions, storage: MediaStorage) -> StoredAvatar:
    stored = {}
    for name, rendition in image.renditions.items():
        object_key = key.rendition_key(name, _EXTENSIONS[rendition.content_type])
        storage.write_rendition(object_key, rendition.data, rendition.content_type)
        stored[name] = StoredAvatarRendition(
            key=object_key, width=rendition.width, height=rendition.height, content_type=rendition.content_type
        )
    return StoredAvatar(
        avatar_id=key.avatar_id, width=image.width, height=image.height, blurhash=image.blurhash, renditions=stored
    )


def process_upload(
    key: AvatarKey,
    render: Callable[[AvatarUpload], ImageRenditions],
    profiles: ProfileRepository = _profiles,
    storage: MediaStorage = _storage,
) -> AvatarStatus | None:
    """resize's part for an avatar original: `render` decodes it (or raises MediaRejected). The outcome, or
    None when there was nothing to do (not the latest upload, or already settled)."""
    upload = pending_upload(key, profiles)
    if upload is None:
        logger.info("Avatar upload not awaited; ignored", extra={"key": str(key)})
        return None
    try:
        image = render(upload)
    except MediaRejected as rejected:
        refused = upload.model_copy(
            update={"status": AvatarStatus.REJECTED, "reason": rejected.reason, "reason_code": rejected.code.value}
        )
        profiles.settle_avatar_upload(key.user_id, refused, None)  # the previous avatar stays
        return AvatarStatus.REJECTED
    previous = profiles.get_consistent(key.user_id).avatar
    avatar = _store(key, image, storage)
    if not profiles.settle_avatar_upload(key.user_id, upload.model_copy(update={"status": AvatarStatus.READY}), avatar):
        purge_prefix(key.rendition_prefix, storage=storage)  # a newer upload or a removal came first
        return None
    if previous is not None and previous.avatar_id != avatar.avatar_id:
        purge_prefix(AvatarKey(key.user_id, previous.avatar_id).rendition_prefix, storage=storage)
    return AvatarStatus.READY


def remove(caller: Caller, profiles: ProfileRepository = _profiles, storage: MediaStorage = _storage) -> None:
    """DELETE /me/avatar: no avatar any more, renditions deleted and invalidated; an upload still in flight
    will not settle. Idempotent."""
    for _ in range(REMOVE_ATTEMPTS):
        profile = profiles.get_consistent(caller.user_id)
        upload_id = profiles.avatar_upload_id(caller.user_id)
        if profiles.remove_avatar(caller.user_id, upload_id):
            for avatar_id in {profile.avatar.avatar_id if profile.avatar else None, upload_id} - {None}:
                purge_prefix(AvatarKey(caller.user_id, str(avatar_id)).rendition_prefix, storage=storage)
            return
    raise Conflict("The avatar is changing right now: try again.")
