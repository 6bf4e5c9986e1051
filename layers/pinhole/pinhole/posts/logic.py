"""Use cases of the posts context: create a post (and sign its uploads), read, list, delete; and the
state machine the media pipeline drives: a post is published when every media item is ready, failed
as soon as one is rejected or its upload never arrives — each exactly once. Stories (`pinhole.stories`)
ride the same machine: publishing one lists it until it expires instead of counting a post."""

from collections.abc import Callable, Sequence
from datetime import datetime

from pinhole.graph.logic import can_view, privacy_allows
from pinhole.media.limits import MediaRejected, RejectionCode, check_upload, max_upload_bytes
from pinhole.posts.caption import extract_mentions, extract_tags
from pinhole.posts.dal import PostRepository
from pinhole.posts.models import (
    CreatePostRequest,
    CreatePostResponse,
    EditPostRequest,
    MediaDeclaration,
    MediaStatus,
    Post,
    PostKind,
    PostRecord,
    PostStatus,
    Processing,
    StoredMedia,
    Upload,
)
from pinhole.posts.views import to_post
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import (
    Conflict,
    FirstResultGone,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from pinhole.shared.ids import new_id
from pinhole.shared.pages import next_cursor, start_after
from pinhole.social.dal import NOT_MARKED, ViewerFlags, viewer_flags
from pinhole.transcode.models import TRANSCODE_STEPS, UNPROCESSABLE_REASON
from pinhole.upload.keys import UploadKey
from pinhole.upload.signer import UPLOAD_GRACE, UPLOAD_WINDOW, UploadSigner
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import active_profile, find_visible
from pinhole.users.models import Profile

UPLOAD_MISSING = "upload_missing"
UPLOAD_MISSING_REASON = "The upload never arrived: post again."

_posts = PostRepository()
_profiles = ProfileRepository()
_signer = UploadSigner()


def posts_seen_by(
    viewer_id: str, shown: Sequence[tuple[PostRecord, Profile]], flags: ViewerFlags = viewer_flags
) -> list[Post]:
    """A page of posts as the viewer sees them: their own like and save flags read for the whole page in
    one batched lookup (not one call per post)."""
    marks = flags(viewer_id, [record.post_id for record, _ in shown])
    return [to_post(record, author, marks) for record, author in shown]


def checked_media(declared: MediaDeclaration, field: str) -> StoredMedia:
    """A declared upload accepted (type and size, as `POST /posts` and `POST /stories` both check) as a
    pending media item; 413 or 422 naming `field` otherwise."""
    try:
        media_type = check_upload(declared.content_type, declared.size_bytes)
    except MediaRejected as rejected:
        if rejected.code == RejectionCode.TOO_LARGE:
            raise PayloadTooLarge(rejected.reason, [{"field": f"{field}.size_bytes"}]) from rejected
        raise ValidationFailed(rejected.reason, [{"field": f"{field}.content_type"}]) from rejected
    return StoredMedia(
        media_id=new_id(),
        type=media_type,
        content_type=declared.content_type,
        size_bytes=declared.size_bytes,
        processing=Processing(done=0, total=TRANSCODE_STEPS) if media_type == "video" else None,
    )


def sign_upload(post_id: str, media: StoredMedia, signer: UploadSigner = _signer) -> Upload:
    key = str(UploadKey(post_id=post_id, media_id=media.media_id))
    signed = signer.sign(key, media.content_type, min(media.size_bytes, max_upload_bytes(media.content_type)))
    return Upload(media_id=media.media_id, url=signed.url, fields=signed.fields, expires_at=to_iso(signed.expires_at))


def create_post(
    caller: Caller,
    request: CreatePostRequest,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    signer: UploadSigner = _signer,
) -> CreatePostResponse:
    media = [checked_media(declared, f"media.{index}") for index, declared in enumerate(request.media)]
    rate_limits.enforce(caller.user_id, "post")
    author = active_profile(caller.user_id, profiles)
    now = utc_now()
    record = PostRecord(
        post_id=new_id(),
        author_id=caller.user_id,
        caption=request.caption,
        tags=extract_tags(request.caption),
        mentions=extract_mentions(request.caption),
        created_at=now,
        status=PostStatus.PENDING,
        media={m.media_id: m for m in media},
        media_order=[m.media_id for m in media],
        upload_expires_at=now + UPLOAD_WINDOW,
    )
    posts.create(record, fail_after=record.upload_expires_at + UPLOAD_GRACE)
    uploads = [sign_upload(record.post_id, item, signer) for item in media]
    # Nobody can have liked or saved a post that did not exist a moment ago.
    return CreatePostResponse(post=to_post(record, author, NOT_MARKED), uploads=uploads)


def readable_post(
    caller: Caller, post_id: str, posts: PostRepository = _posts, profiles: ProfileRepository = _profiles
) -> tuple[PostRecord, Profile]:
    """The post and its author, if the caller may see it: not deleted, published (or their own), by
    nobody in a block with them, and not behind a private account they don't follow. NotFound
    otherwise, whichever the reason. A story is not a post: its id is not found here either."""
    record = posts.get(post_id)
    if record.kind != PostKind.POST:
        raise NotFound("No such post.")
    if record.status != PostStatus.PUBLISHED and record.author_id != caller.user_id:
        raise NotFound("No such post.")
    try:
        author = profiles.get(record.author_id)
    except NotFound:
        raise NotFound("No such post.") from None  # its author gone (or going): nothing says the post was there
    if not can_view(caller.user_id, author):
        raise NotFound("No such post.")
    return record, author


def open_post(
    caller: Caller, post_id: str, posts: PostRepository = _posts, profiles: ProfileRepository = _profiles
) -> tuple[PostRecord, Profile]:
    """The post and its author, if the caller may like, comment on or save it: readable, and published. The
    author's own post that is not (pending, failed, held for review or removed by a moderator) is theirs to see
    and delete, not to act on: Conflict."""
    record, author = readable_post(caller, post_id, posts, profiles)
    if record.status != PostStatus.PUBLISHED:
        raise Conflict(f"This post is {record.status.value.replace('_', ' ')}: it cannot be liked, commented or saved.")
    return record, author


def _visible_record(caller: Caller, post_id: str, posts: PostRepository) -> PostRecord:
    return readable_post(caller, post_id, posts)[0]


def get_post(
    caller: Caller, post_id: str, posts: PostRepository = _posts, profiles: ProfileRepository = _profiles
) -> Post:
    return posts_seen_by(caller.user_id, [readable_post(caller, post_id, posts, profiles)])[0]


def edit_caption(
    caller: Caller,
    post_id: str,
    request: EditPostRequest,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
) -> Post:
    """PATCH /posts/{post_id}: the author's new caption, tags and mentions re-extracted. Someone who may see
    the post but is not its author gets 403; someone who may not see it, 404 as for any post."""
    record, author = readable_post(caller, post_id, posts, profiles)
    if record.author_id != caller.user_id:
        raise Forbidden("Only the author can edit a post's caption.")
    if record.status in (PostStatus.IN_REVIEW, PostStatus.REMOVED):
        raise Conflict("A post a moderator holds or removed cannot be edited: what they review stays as it is.")
    edited = posts.edit_caption(
        post_id,
        caller.user_id,
        request.caption,
        extract_tags(request.caption),
        extract_mentions(request.caption),
        utc_now(),
    )
    if edited is None:
        raise NotFound("No such post.")  # deleted meanwhile
    return posts_seen_by(caller.user_id, [(edited, author)])[0]


def delete_post(caller: Caller, post_id: str, posts: PostRepository = _posts) -> None:
    record = _visible_record(caller, post_id, posts)
    if record.author_id != caller.user_id:
        raise Forbidden("Only the author can delete a post.")
    if not posts.delete(record):
        raise NotFound("No such post.")  # deleted meanwhile, by a request of the author's that got there first


def ensure_still_there(post_id: str, made: str = "post", posts: PostRepository = _posts) -> None:
    """A retried creation (the same Idempotency-Key) is answered with its first result only while that post or story
    stands: once deleted, its answer would hand out upload URLs for nothing (FirstResultGone)."""
    if not posts.exists(post_id):
        raise FirstResultGone(made=made, again="post again")


def list_user_posts(
    caller: Caller,
    username: str,
    limit: int,
    cursor: str | None,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
) -> tuple[list[Post], str | None]:
    author = find_visible(caller, username, profiles)
    if not privacy_allows(caller.user_id, author):
        raise Forbidden(f"{author.username}'s posts are private.")
    scope = f"user-posts:{author.user_id}"
    records, last_key = posts.list_published_by(author.user_id, limit, start_after(cursor, scope))
    return posts_seen_by(caller.user_id, [(record, author) for record in records]), next_cursor(last_key, scope)


def record_media_ready(
    key: UploadKey,
    processed: StoredMedia,
    posts: PostRepository = _posts,
    before_hold: Callable[[PostRecord], None] = lambda record: None,
) -> PostStatus:
    """The media pipeline made every rendition of one item: publish the post if it was the last one — or, if
    automatic screening flagged any of its items, hold it `in_review` after `before_hold` (which opens its
    moderation case: first, so that a retry after a failure in between still finds a case to open)."""
    record = posts.mark_media(key.post_id, processed) or posts.get(key.post_id)
    if record.status == PostStatus.PENDING and all(m.status == MediaStatus.READY for m in record.media.values()):
        if any(m.flagged for m in record.media.values()):
            before_hold(record)
            posts.hold_for_review(record.post_id)
            return PostStatus.IN_REVIEW
        if record.kind == PostKind.STORY:
            posts.publish_story(record)
        else:
            posts.publish(record)
        return PostStatus.PUBLISHED
    return record.status


def take_down(record: PostRecord, posts: PostRepository = _posts) -> bool:
    """A moderator's removal of a post or a story: gone from every surface, like a delete, but restorable."""
    return posts.take_down(record)


def reinstate(record: PostRecord, posts: PostRepository = _posts) -> bool:
    """A moderator's restore of a removed or held post or story: published again (a held one for the first time), once
    whoever else restores it at the same moment. A story keeps the expiry it was created with: restored late, it
    shows for what is left of its day, or not at all."""
    if record.kind == PostKind.STORY:
        return posts.publish_story(record, held=record.status)
    return posts.publish(record, held=record.status)


def record_media_rejected(key: UploadKey, rejected: StoredMedia, posts: PostRepository = _posts) -> PostStatus:
    posts.mark_media(key.post_id, rejected)
    posts.fail(key.post_id, rejected.reason_code or "rejected")
    return PostStatus.FAILED


def _fail_for_missing_upload(post_id: str, posts: PostRepository) -> bool:
    """A pending item whose transcode had started (it holds a claim) failed there; any other never arrived."""
    record = posts.get(post_id)
    reasons = []
    for media in record.media.values():
        if media.status == MediaStatus.PENDING:
            if media.claim is None:
                reason, code = UPLOAD_MISSING_REASON, UPLOAD_MISSING
            else:
                reason, code = UNPROCESSABLE_REASON, RejectionCode.UNPROCESSABLE.value
            update = {"status": MediaStatus.REJECTED, "reason": reason, "reason_code": code, "claim": None}
            posts.mark_media(post_id, media.model_copy(update=update))
            reasons.append(code)
    return posts.fail(post_id, reasons[0] if reasons else UPLOAD_MISSING)


def fail_overdue_posts(now: datetime | None = None, posts: PostRepository = _posts) -> int:
    """The sweep: posts whose upload never arrived fail with `upload_missing`; returns how many."""
    return sum(_fail_for_missing_upload(post_id, posts) for post_id in posts.overdue(now or utc_now()))
