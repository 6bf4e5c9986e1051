"""Use cases of stories: `POST /stories`.

A story is a record of the posts table with `kind = story`: it is created pending, uploaded and
resized by the posts' pipeline (`pinhole.posts.logic` publishes it when its media is ready), listed on
`stories-by-author-index` once published and deleted by the table's TTL 24 hours later. Followers get
it like a post: pushed into their feeds as a `story#` entry expiring with it, or, from a celebrity,
pulled at read time.

The stories feed a client reads, `GET /stories/feed`, is pinhole.stories.feed."""

from pinhole.posts.dal import PostRepository
from pinhole.posts.logic import checked_media, sign_upload
from pinhole.posts.models import PostKind, PostRecord, PostStatus
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.clock import utc_now
from pinhole.shared.ids import new_id
from pinhole.stories.feed import to_story
from pinhole.stories.models import STORY_LIFETIME, CreateStoryRequest, CreateStoryResponse
from pinhole.upload.signer import UPLOAD_GRACE, UPLOAD_WINDOW, UploadSigner
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import active_profile

_posts = PostRepository()
_profiles = ProfileRepository()
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
        # Until it is published: a story that never is goes with the TTL a day later, like one that was.
        expires_at=now + STORY_LIFETIME,
    )
    posts.create(record, fail_after=record.upload_expires_at + UPLOAD_GRACE)
    return CreateStoryResponse(story=to_story(record, author), upload=sign_upload(record.post_id, media, signer))
