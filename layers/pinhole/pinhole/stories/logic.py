"""Use cases of stories: `POST /stories`, `DELETE /me/stories/{story_id}`, and who may see a story.

A story is a record of the posts table with `kind = story`: it is created pending, uploaded and
resized by the posts' pipeline (`pinhole.posts.logic` publishes it when its media is ready), listed on
`stories-by-author-index` once published and deleted by the table's TTL 24 hours later. Followers get
it like a post: pushed into their feeds as a `story#` entry expiring with it, or, from a celebrity,
pulled at read time.

The stories feed a client reads, `GET /stories/feed`, is pinhole.stories.feed."""

from datetime import datetime

from pinhole.graph.dal import GraphRepository
from pinhole.graph.logic import can_view
from pinhole.posts.dal import PostRepository
from pinhole.posts.logic import checked_media, sign_upload
from pinhole.posts.models import PostKind, PostRecord, PostStatus
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import utc_now
from pinhole.shared.errors import NotFound
from pinhole.shared.ids import new_id
from pinhole.stories.feed import is_live, to_story
from pinhole.stories.models import CreateStoryRequest, CreateStoryResponse, expiry_of
from pinhole.upload.signer import UPLOAD_GRACE, UPLOAD_WINDOW, UploadSigner
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import active_profile
from pinhole.users.models import Profile

_posts = PostRepository()
_profiles = ProfileRepository()
_graph = GraphRepository()
_signer = UploadSigner()


def create_story(
    caller: Caller,
    request: CreateStoryRequest,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    signer: UploadSigner = _signer,
) -> CreateStoryResponse:
    media = checked_media(request.media, "media")
    rate_limits.enforce(caller.user_id, "story")
    author = active_profile(caller.user_id, profiles)
    now = utc_now()
    record = PostRecord(
        post_id=new_id(),
        author_id=caller.user_id,
        caption="",
        tags=[],
        mentions=[],
        created_at=now,
        status=PostStatus.PENDING,
        media={media.media_id: media},
        media_order=[media.media_id],
        upload_expires_at=now + UPLOAD_WINDOW,
        kind=PostKind.STORY,
        # Fixed now, whenever it is published: a story that never is goes with the TTL too.
        expires_at=expiry_of(now),
    )
    posts.create(record, fail_after=record.upload_expires_at + UPLOAD_GRACE)
    return CreateStoryResponse(story=to_story(record, author), upload=sign_upload(record.post_id, media, signer))


def _story(story_id: str, posts: PostRepository) -> PostRecord:
    try:
        record = posts.get(story_id)
    except NotFound:
        raise NotFound("No such story.") from None
    if record.kind != PostKind.STORY:
        raise NotFound("No such story.")  # a post's id names no story
    return record


def readable_story(
    caller: Caller,
    story_id: str,
    posts: PostRepository = _posts,
    profiles: ProfileRepository = _profiles,
    graph: GraphRepository = _graph,
    now: datetime | None = None,
) -> tuple[PostRecord, Profile]:
    """The story and its author, if the caller may see it now: published, not expired (the TTL's deletion lags),
    by someone they may view (no block either way, not a private account they do not follow, not suspended).
    NotFound otherwise, whichever the reason."""
    record = _story(story_id, posts)
    if not is_live(record, now or utc_now()):
        raise NotFound("No such story.")
    try:
        author = profiles.get(record.author_id)  # NotFound for a deactivated author
    except NotFound:
        raise NotFound("No such story.") from None
    if not can_view(caller.user_id, author, graph):
        raise NotFound("No such story.")
    return record, author


def delete_story(caller: Caller, story_id: str, posts: PostRepository = _posts) -> None:
    """`DELETE /me/stories/{story_id}`: the caller's story goes now, whatever its state (pending, live, held for
    review, expired and not yet deleted by the TTL), as a TTL deletion takes it: the posts stream's REMOVE purges
    its renditions, and the stories feed, which reads the story itself, no longer shows it (followers' pushed
    entries expire with it). Anyone else's story is not among the caller's: 404, as for one that does not
    exist. (Under /me: `/stories/{story_id}` would take `/stories/feed` for a story's path.)"""
    record = _story(story_id, posts)
    if record.author_id != caller.user_id:
        raise NotFound("No such story.")
    if not posts.delete(record):
        raise NotFound("No such story.")  # deleted meanwhile, by a request of the author's that got there first
