"""Stories on moto: POST /stories through the upload handler, the real resize on a small JPEG, the posts
and graph streams delivered to the fan-out handlers as Lambda would, and GET /stories/feed through its
handler (or its use case, with the clock moved forward instead of waited for)."""

import io
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from PIL import Image

from functions.feed_fanout import handler as feed_fanout
from functions.feed_read import handler as feed_read
from functions.social import handler as social
from functions.upload import handler as upload
from functions.users import handler as users
from pinhole.feed.dal import FeedModel, FeedRepository
from pinhole.graph.dal import GraphRepository
from pinhole.posts import logic as posts_logic
from pinhole.posts.dal import PostModel, PostRepository
from pinhole.posts.models import MediaStatus, PostKind, PostStatus, StoredLabel
from pinhole.resize.cdn import InvalidationQueue
from pinhole.resize.logic import process_upload
from pinhole.resize.models import InvalidationRequest
from pinhole.resize.purge import purge_removed
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import NotFound
from pinhole.shared.settings import get_settings
from pinhole.stories import feed as stories
from pinhole.stories import logic as stories_logic
from pinhole.upload.keys import UploadKey
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.posts import create_pending, make_ready, publish
from tests.support.streams import StreamTap, routed_event
from tests.support.users import sign_up_claims

Claims = dict[str, str]
JPEG = "image/jpeg"
WANTED = {"posts": ("MODIFY", "REMOVE"), "graph": ("INSERT", "REMOVE")}  # the fan-out's event filters


class Streams:
    """What Lambda runs after the writes: the posts and graph tables' new stream records, each into its
    fan-out entry point, with the event filters of stacks/stateless/feed_construct.py (WANTED) applied."""

    def __init__(self) -> None:
        settings = get_settings()
        self.tables = {"posts": settings.posts_table_name, "graph": settings.graph_table_name}
        self.taps = {source: StreamTap([table]) for source, table in self.tables.items()}
        self.entry_points = {"posts": feed_fanout.on_post_change, "graph": feed_fanout.on_follow_change}
        self.delivered: list[dict[str, Any]] = []
        # where a follow queues its second backfill (pinhole.feed.fanout.BACKFILL_AGAIN_AFTER_S), left undelivered
        boto3.client("sqs").create_queue(QueueName=settings.fanout_queue_url.rsplit("/", 1)[1])

    def deliver(self) -> None:
        for source, tap in self.taps.items():
            records = [record for record in tap.new_records() if record["eventName"] in WANTED[source]]
            if records:
                result = self.entry_points[source](routed_event(records), FakeLambdaContext())
                assert result == {"batchItemFailures": []}
                self.delivered.extend(records)


@pytest.fixture
def streams(aws: dict[str, str]) -> Streams:
    return Streams()


@pytest.fixture
def people(aws: dict[str, str]) -> dict[str, Claims]:
    return {name: sign_up_claims(name) for name in ("alice", "bob", "carol", "dave")}


def call(handler: Any, method: str, route: str, claims: Claims, body: Any = None, **params: str) -> Any:
    event = http_event(
        method, route.format(**params), claims=claims, body=body, route_key=f"{method} {route}", path_parameters=params
    )
    return handler(event, FakeLambdaContext())


def create_story(claims: Claims, media: Any = None) -> tuple[int, Any]:
    response = call(
        upload.handler, "POST", "/stories", claims, {"media": media or {"content_type": JPEG, "size_bytes": 1}}
    )
    return response["statusCode"], response_json(response)


def jpeg(size: tuple[int, int] = (400, 300), colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def upload_and_resize(created: Any, content: bytes) -> PostStatus | None:
    """What the client and the pipeline do next: the file lands under the signed key, then resize runs."""
    key = created["upload"]["fields"]["key"]
    bucket = get_settings().uploads_bucket_name
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=content, ContentType=JPEG)
    return process_upload(bucket, key)


def post_story(claims: Claims, streams: Streams) -> str:
    """A photo story by `claims`, created, uploaded, resized, published and fanned out; its id."""
    status, created = create_story(claims)
    assert status == 201, created
    assert upload_and_resize(created, jpeg()) == PostStatus.PUBLISHED
    streams.deliver()
    return str(created["story"]["story_id"])


def follow(follower: Claims, followee: Claims, streams: Streams) -> Any:
    response = call(users.handler, "POST", "/users/{username}/follow", follower, username=followee["username"])
    assert response["statusCode"] == 200, response
    streams.deliver()
    return response_json(response)["status"]


def stories_feed(claims: Claims) -> Any:
    response = call(feed_read.handler, "GET", "/stories/feed", claims)
    assert response["statusCode"] == 200, response
    return response_json(response)


def tray(claims: Claims, later: timedelta | None = None, at: datetime | None = None) -> list[tuple[str, list[str]]]:
    """(author, story ids) as the caller sees them now, or `later` from now, or at the moment `at`."""
    if later is None and at is None:
        items = stories_feed(claims)["items"]
    else:
        caller = Caller(user_id=claims["sub"], username=claims["username"])
        items = stories.read_stories_feed(caller, now=at or utc_now() + (later or timedelta())).model_dump()["items"]
    return [(item["author"]["username"], [story["story_id"] for story in item["stories"]]) for item in items]


def story_entries(claims: Claims) -> list[str]:
    return [item.sk for item in FeedModel.query(claims["sub"], FeedModel.sk.startswith("story#"))]


# -- creating one --


def test_a_story_starts_pending_with_one_signed_upload(people: dict[str, Claims]) -> None:
    # When alice creates a story
    status, body = create_story(people["alice"], {"content_type": JPEG, "size_bytes": 2_000_000})

    # Then it is pending, hers, expiring in a day, with one upload under a key naming it
    assert status == 201, body
    story, target = body["story"], body["upload"]
    assert story["author"]["username"] == "alice"
    assert (story["media"]["type"], story["media"]["status"]) == ("image", "pending")
    assert story["created_at"].endswith("Z") and story["expires_at"].endswith("Z")
    assert story["expires_at"] > story["created_at"]
    assert target["media_id"] == story["media"]["media_id"]
    assert target["fields"]["key"] == f"posts/{story['story_id']}/{target['media_id']}"
    assert target["fields"]["Content-Type"] == JPEG


@pytest.mark.parametrize(
    ("media", "status"),
    [
        ({"content_type": "image/gif", "size_bytes": 10}, 422),
        ({"content_type": JPEG, "size_bytes": 31 * 1024 * 1024}, 413),
        ({"content_type": "video/mp4", "size_bytes": 201 * 1024 * 1024}, 413),
        ({"content_type": JPEG, "size_bytes": 0}, 422),
        ([{"content_type": JPEG, "size_bytes": 10}], 422),
        ({"content_type": JPEG, "size_bytes": 10, "caption": "no"}, 422),
    ],
    ids=["gif", "image-too-big", "video-too-big", "empty", "a-list", "unknown-field"],
)
def test_story_media_is_checked_as_a_posts_is(people: dict[str, Claims], media: Any, status: int) -> None:
    code, body = create_story(people["alice"], media)

    assert code == status
    assert body["error"]["code"] == ("payload_too_large" if status == 413 else "validation_error")


def test_a_video_story_is_accepted(people: dict[str, Claims]) -> None:
    status, body = create_story(people["alice"], {"content_type": "video/mp4", "size_bytes": 50_000_000})

    assert status == 201, body
    assert body["story"]["media"]["type"] == "video"


def test_stories_are_rate_limited_per_user(
    people: dict[str, Claims], monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> None:
    # Given at most two stories an hour
    monkeypatch.setenv("RATE_LIMITS", '{"story": {"limit": 2, "per_seconds": 3600}}')
    get_settings.cache_clear()

    # When alice creates three, and bob one
    codes = [create_story(people["alice"])[0] for _ in range(3)]
    refused = call(
        upload.handler, "POST", "/stories", people["alice"], {"media": {"content_type": JPEG, "size_bytes": 1}}
    )

    # Then the third (and the next) is refused with a Retry-After, and nobody else is held back
    assert codes == [201, 201, 429]
    assert refused["statusCode"] == 429 and int(refused["headers"]["Retry-After"]) > 0
    assert response_json(refused)["error"]["code"] == "rate_limited"
    assert create_story(people["bob"])[0] == 201


def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_story(people: dict[str, Claims]) -> None:
    def create_with_key(key: str) -> Any:
        event = http_event(
            "POST", "/stories", claims=people["alice"], body={"media": {"content_type": JPEG, "size_bytes": 1}}
        )
        event["headers"]["idempotency-key"] = key
        response = upload.handler(event, FakeLambdaContext())
        assert response["statusCode"] == 201, response
        return response_json(response)

    first, retry, other = create_with_key("s-1"), create_with_key("s-1"), create_with_key("s-2")

    assert retry == first
    assert other["story"]["story_id"] != first["story"]["story_id"]


# -- the media pipeline --


STORY_RENDITIONS = {  # name: (width, height, content type) of a 2000×1500 photo's
    "story": (1080, 1920, JPEG),
    "story_webp": (1080, 1920, "image/webp"),
    "large": (1080, 810, JPEG),
    "large_webp": (1080, 810, "image/webp"),
    "medium": (640, 480, JPEG),
    "medium_webp": (640, 480, "image/webp"),
    "thumb": (150, 150, JPEG),
    "thumb_webp": (150, 150, "image/webp"),
}


def test_the_uploaded_photo_becomes_a_story_with_a_posts_renditions_and_the_full_screen_one(
    people: dict[str, Claims],
) -> None:
    # Given a story whose 2000×1500 photo arrives
    _, created = create_story(people["alice"])
    story_id = created["story"]["story_id"]

    # When resize processes it
    status = upload_and_resize(created, jpeg((2000, 1500)))

    # Then the story is published for a day, listed among alice's stories and nowhere else
    assert status == PostStatus.PUBLISHED
    record = PostRepository().get(story_id)
    assert (record.kind, record.status) == (PostKind.STORY, PostStatus.PUBLISHED)
    assert record.expires_at is not None
    assert PostModel.get(story_id).published_at is not None  # as a post's (the export shows it)
    assert timedelta(hours=23, minutes=59) < record.expires_at - utc_now() <= timedelta(hours=24, seconds=1)
    # And her tray shows it with API.md's Media renditions (large, medium, thumb, each also WebP) and the
    # 1080×1920 full-screen crop, each a file of that size in the media bucket
    [group] = stories_feed(people["alice"])["items"]
    [story] = group["stories"]
    media = story["media"]
    assert (media["type"], media["status"], media["reason"]) == ("image", "ready", None)
    assert (media["width"], media["height"]) == (2000, 1500) and media["blurhash"]
    renditions = media["renditions"]
    assert {name: (r["width"], r["height"], r["content_type"]) for name, r in renditions.items()} == STORY_RENDITIONS
    stored = record.media[record.media_order[0]].rendition_keys
    s3 = boto3.client("s3")
    for name, (width, height, content_type) in STORY_RENDITIONS.items():
        assert renditions[name]["url"] == f"https://media.example.com/{stored[name].key}"
        data = s3.get_object(Bucket=get_settings().media_bucket_name, Key=stored[name].key)["Body"].read()
        picture = Image.open(io.BytesIO(data))
        assert (picture.size, Image.MIME[picture.format or ""]) == ((width, height), content_type), name


def test_a_story_is_not_a_post(people: dict[str, Claims], streams: Streams) -> None:
    # Given alice's published story, followed by bob
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    story_id = post_story(alice, streams)
    me = response_json(call(users.handler, "GET", "/me", alice))

    # Then no post route, list or feed knows it, and alice's post count did not move
    assert me["post_count"] == 0
    assert call(upload.handler, "GET", "/posts/{post_id}", alice, post_id=story_id)["statusCode"] == 404
    assert call(upload.handler, "DELETE", "/posts/{post_id}", alice, post_id=story_id)["statusCode"] == 404
    assert call(social.handler, "POST", "/posts/{post_id}/like", bob, post_id=story_id)["statusCode"] == 404
    listed = call(upload.handler, "GET", "/users/{username}/posts", bob, username="alice")
    assert response_json(listed)["items"] == []
    assert response_json(call(feed_read.handler, "GET", "/feed", bob))["items"] == []
    # And the story is where stories are
    assert tray(bob) == [("alice", [story_id])]


# -- when it expires --


def create_story_at(claims: Claims, created: datetime, monkeypatch: pytest.MonkeyPatch) -> Any:
    """POST /stories as if the clock read `created` at that moment."""
    with monkeypatch.context() as clock:
        clock.setattr(stories_logic, "utc_now", lambda: created)
        status, body = create_story(claims)
    assert status == 201, body
    return body["story"]


def test_expires_at_is_created_at_plus_a_day_to_the_millisecond_on_every_route(
    people: dict[str, Claims], streams: Streams, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given bob follows alice, who creates a story at hh:mm:ss.922 (and some microseconds), published a moment later
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    created = utc_now().replace(microsecond=922_400) - timedelta(seconds=1)
    answered = create_story_at(alice, created, monkeypatch)
    key = answered["media"]["media_id"]
    upload_key = f"posts/{answered['story_id']}/{key}"
    boto3.client("s3").put_object(Bucket=get_settings().uploads_bucket_name, Key=upload_key, Body=jpeg())
    assert process_upload(get_settings().uploads_bucket_name, upload_key) == PostStatus.PUBLISHED
    streams.deliver()

    # Then POST /stories answered created_at + 24 h to the millisecond
    expires = created + timedelta(hours=24)
    assert (answered["created_at"], answered["expires_at"]) == (to_iso(created), to_iso(expires))
    assert answered["expires_at"].endswith(".922Z")
    # And both trays show that story with the same fields: id, author, media item, created_at and expires_at
    for reader in (alice, bob):
        [group] = stories_feed(reader)["items"]
        [shown] = group["stories"]
        assert shown["story_id"] == answered["story_id"]
        assert shown["author"] == answered["author"] == group["author"]
        assert (shown["media"]["media_id"], shown["media"]["type"]) == (key, "image")
        assert shown["created_at"] == answered["created_at"]
        assert shown["expires_at"] == answered["expires_at"]
    # And it shows until that millisecond and not from it, whatever the TTL's whole second says
    before_expiry = expires - timedelta(milliseconds=1)
    assert tray(bob, at=before_expiry) == tray(alice, at=before_expiry) == [("alice", [answered["story_id"]])]
    assert tray(bob, at=expires) == tray(alice, at=expires) == []
    # And the TTL DynamoDB deletes by is that instant rounded up to the second: never before it
    record = PostRepository().get(answered["story_id"])
    assert record.expires_at == expires.replace(microsecond=0) + timedelta(seconds=1)


def test_a_held_story_a_moderator_restores_keeps_the_expiry_it_was_created_with(
    people: dict[str, Claims], streams: Streams, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alice's story created an hour ago, held by automatic screening
    alice = people["alice"]
    created = utc_now().replace(microsecond=125_000) - timedelta(hours=1)
    answered = create_story_at(alice, created, monkeypatch)
    story_id, media_id = answered["story_id"], answered["media"]["media_id"]
    flagged = (
        PostRepository()
        .get(story_id)
        .media[media_id]
        .model_copy(update={"status": MediaStatus.READY, "flagged": [StoredLabel(name="Violence", confidence=91.0)]})
    )
    assert posts_logic.record_media_ready(UploadKey(story_id, media_id), flagged) == PostStatus.IN_REVIEW

    # When a moderator restores it now
    assert posts_logic.reinstate(PostRepository().get(story_id))

    # Then it shows for what is left of its day, with the expires_at POST /stories answered
    [group] = stories_feed(alice)["items"]
    assert [story["expires_at"] for story in group["stories"]] == [to_iso(created + timedelta(hours=24))]
    assert tray(alice, later=timedelta(hours=22, minutes=59)) == [("alice", [story_id])]
    assert tray(alice, later=timedelta(hours=23)) == []


# -- the stories feed --


def test_stories_feed_groups_by_author_newest_author_first_each_oldest_first(
    people: dict[str, Claims], streams: Streams
) -> None:
    # Given dave follows alice and bob, not carol
    alice, bob, carol, dave = people["alice"], people["bob"], people["carol"], people["dave"]
    follow(dave, alice, streams)
    follow(dave, bob, streams)

    # When they post stories in this order, dave too
    first_of_alice = post_story(alice, streams)
    of_bob = post_story(bob, streams)
    of_dave = post_story(dave, streams)
    second_of_alice = post_story(alice, streams)
    post_story(carol, streams)

    # Then dave sees alice (newest story) first with both of hers in posting order, then himself, then bob
    assert tray(dave) == [("alice", [first_of_alice, second_of_alice]), ("dave", [of_dave]), ("bob", [of_bob])]
    # And a Story has what API.md promises
    story = stories_feed(dave)["items"][0]["stories"][0]
    assert set(story) == {"story_id", "author", "media", "created_at", "expires_at"}
    assert story["author"]["username"] == "alice"
    assert story["media"]["status"] == "ready"
    assert story["media"]["renditions"]["story"]["url"].startswith("https://media.example.com/posts/")
    assert (story["media"]["renditions"]["story"]["width"], story["media"]["renditions"]["story"]["height"]) == (
        1080,
        1920,
    )
    # And alice sees her own, but not dave's (she does not follow him)
    assert tray(alice) == [("alice", [first_of_alice, second_of_alice])]


def test_the_author_sees_her_story_as_soon_as_it_is_published_before_any_fan_out(
    people: dict[str, Claims], streams: Streams
) -> None:
    # Given alice's story, published, with the posts stream not yet delivered to the fan-out
    alice = people["alice"]
    status, created = create_story(alice)
    assert status == 201, created
    assert upload_and_resize(created, jpeg()) == PostStatus.PUBLISHED
    assert story_entries(alice) == []

    # Then she sees it in her own tray already (a follower sees it once the fan-out or a backfill pushes it)
    story_id = created["story"]["story_id"]
    assert tray(alice) == [("alice", [story_id])]
    # And once the fan-out has pushed it to her feed too, it shows once
    streams.deliver()
    assert story_entries(alice) == [f"story#{story_id}"]
    assert tray(alice) == [("alice", [story_id])]


def test_a_story_is_seen_before_its_expiry_and_not_after(people: dict[str, Claims], streams: Streams) -> None:
    # Given bob follows alice, who posts a story now
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    story_id = post_story(alice, streams)

    # Then it shows for a day, to both, and not a minute longer, even before the TTL deletes anything
    assert tray(bob, later=timedelta(hours=23, minutes=58)) == [("alice", [story_id])]
    assert tray(alice, later=timedelta(hours=23, minutes=58)) == [("alice", [story_id])]
    assert tray(bob, later=timedelta(hours=24, minutes=1)) == []
    assert tray(alice, later=timedelta(hours=24, minutes=1)) == []


def test_an_expired_story_goes_with_its_renditions_and_nothing_is_retracted(
    people: dict[str, Claims], streams: Streams
) -> None:
    # Given bob sees alice's story
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    story_id = post_story(alice, streams)
    assert story_entries(bob) == [f"story#{story_id}"]

    # When the TTL deletes it (a REMOVE on the posts stream, as a delete)
    PostRepository().delete(PostRepository().get(story_id))
    streams.deliver()

    # Then it is gone from the stories feed; the feed entries expire on their own TTL, not retracted
    assert tray(bob) == []
    assert story_entries(bob) == [f"story#{story_id}"]
    # And the resize cleanup, given that REMOVE, deletes every rendition of it, the story one included, and
    # queues the invalidation of each
    [removal] = [record for record in streams.delivered if record["eventName"] == "REMOVE"]
    invalidations = FakeInvalidationsQueue()
    removed = purge_removed(DynamoDBStreamRecordModel.model_validate(removal), queue=invalidations)
    assert removed == len(STORY_RENDITIONS)
    media_bucket = get_settings().media_bucket_name
    assert boto3.client("s3").list_objects_v2(Bucket=media_bucket, Prefix=f"posts/{story_id}/").get("Contents") is None
    [request] = invalidations.requests
    assert len(request.paths) == len(STORY_RENDITIONS)
    assert all(path.startswith(f"/posts/{story_id}/") for path in request.paths)


class FakeInvalidationsQueue(InvalidationQueue):
    def __init__(self) -> None:
        super().__init__(queue_url="unused")
        self.requests: list[InvalidationRequest] = []

    def send(self, requests: Any, delay_s: int = 0) -> None:
        self.requests.extend(requests)


def test_a_private_account_not_followed_shows_no_story_until_the_request_is_approved(
    people: dict[str, Claims], streams: Streams
) -> None:
    # Given private alice's story, and bob's pending request to follow her
    alice, bob = people["alice"], people["bob"]
    assert call(users.handler, "PATCH", "/me", alice, body={"is_private": True})["statusCode"] == 200
    story_id = post_story(alice, streams)
    assert follow(bob, alice, streams) == "requested"

    # Then bob does not see it
    assert tray(bob) == []

    # When alice approves him, his feed is backfilled with her live story
    approved = call(users.handler, "POST", "/me/follow-requests/{username}", alice, {"approve": True}, username="bob")
    assert approved["statusCode"] == 204
    streams.deliver()
    assert tray(bob) == [("alice", [story_id])]


def test_unfollow_removes_the_authors_stories(people: dict[str, Claims], streams: Streams) -> None:
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    post_story(alice, streams)

    assert call(users.handler, "DELETE", "/users/{username}/follow", bob, username="alice")["statusCode"] == 204

    assert tray(bob) == []  # at once, before the stream is delivered
    streams.deliver()
    assert story_entries(bob) == []


@pytest.mark.parametrize("blocker", ["reader", "author"])
def test_a_block_hides_stories_both_ways_at_once(people: dict[str, Claims], streams: Streams, blocker: str) -> None:
    # Given alice and bob follow each other and each has a story
    alice, bob = people["alice"], people["bob"]
    follow(alice, bob, streams)
    follow(bob, alice, streams)
    of_alice, of_bob = post_story(alice, streams), post_story(bob, streams)
    assert tray(alice) == [("bob", [of_bob]), ("alice", [of_alice])]

    # When one blocks the other
    blocking, blocked = (alice, bob) if blocker == "reader" else (bob, alice)
    response = call(users.handler, "POST", "/users/{username}/block", blocking, username=blocked["username"])
    assert response["statusCode"] == 204

    # Then neither sees the other's stories, before and after the fan-out cleans the feeds
    assert tray(alice) == [("alice", [of_alice])] and tray(bob) == [("bob", [of_bob])]
    streams.deliver()
    assert story_entries(alice) == [f"story#{of_alice}"] and story_entries(bob) == [f"story#{of_bob}"]


def test_a_block_hides_stories_even_while_a_follow_remains(people: dict[str, Claims], streams: Streams) -> None:
    # A block whose clean-up stopped half-way: the block edge written, the follow not yet removed
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    post_story(alice, streams)

    GraphRepository().block(alice["sub"], bob["sub"])

    assert GraphRepository().is_following(bob["sub"], alice["sub"])
    assert tray(bob) == []


def test_celebrity_stories_are_pulled_not_pushed(people: dict[str, Claims], streams: Streams) -> None:
    # Given a celebrity and a friend, both followed by the fan
    star, friend, fan = people["alice"], people["bob"], people["carol"]
    FeedRepository().mark_celebrity(star["sub"], 10**6)
    follow(fan, star, streams)
    follow(fan, friend, streams)

    # When both post a story
    starred = post_story(star, streams)
    friendly = post_story(friend, streams)

    # Then only the friend's was pushed to the fan, yet the fan sees both, the newest author first
    assert story_entries(fan) == [f"story#{friendly}"]
    assert story_entries(star) == [f"story#{starred}"]  # one's own, as for posts
    assert tray(fan) == [("bob", [friendly]), ("alice", [starred])]
    assert tray(fan, later=timedelta(hours=25)) == []


def test_stories_and_posts_do_not_mix_in_a_feed(people: dict[str, Claims], streams: Streams) -> None:
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    post_id = publish(alice)
    streams.deliver()
    story_id = post_story(alice, streams)

    feed = response_json(call(feed_read.handler, "GET", "/feed", bob))["items"]
    assert [post["post_id"] for post in feed] == [post_id]
    assert tray(bob) == [("alice", [story_id])]


def own_stories(claims: Claims) -> list[Any]:
    """The stories of the caller's own group in her tray."""
    groups = [group for group in stories_feed(claims)["items"] if group["author"]["user_id"] == claims["sub"]]
    return [story for group in groups for story in group["stories"]]


def test_a_story_still_processing_is_in_its_authors_tray_only(people: dict[str, Claims], streams: Streams) -> None:
    # Given bob follows alice, who has a live story and then creates one whose photo has not arrived yet
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    live = post_story(alice, streams)
    _, created = create_story(alice)
    streams.deliver()
    answered = created["story"]

    # Then alice's tray shows it after her live one, exactly as POST /stories answered it: pending, no renditions
    [before, pending] = own_stories(alice)
    assert before["story_id"] == live and before["media"]["status"] == "ready"
    assert pending == answered
    assert (pending["media"]["status"], pending["media"]["reason"], pending["media"]["renditions"]) == (
        "pending",
        None,
        {},
    )
    # And bob sees only the live one, and nothing of it was pushed to his feed, nor to carol's, who follows now
    assert tray(bob) == [("alice", [live])]
    assert story_entries(bob) == [f"story#{live}"]
    follow(people["carol"], alice, streams)
    assert story_entries(people["carol"]) == [f"story#{live}"]
    assert tray(people["carol"]) == [("alice", [live])]

    # When its photo arrives, it is the published story in both trays
    assert upload_and_resize(created, jpeg()) == PostStatus.PUBLISHED
    streams.deliver()
    assert tray(alice) == tray(bob) == [("alice", [live, answered["story_id"]])]
    assert own_stories(alice)[1]["media"]["status"] == "ready"


def test_a_story_that_fails_is_shown_to_its_author_only_with_the_reason(
    people: dict[str, Claims], streams: Streams
) -> None:
    # Given bob follows alice, who creates a story and uploads garbage for its photo
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    _, created = create_story(alice)
    answered = created["story"]

    status = upload_and_resize(created, b"<html>" * 100)
    streams.deliver()

    # Then the story failed, and alice's tray shows it rejected with why, until it would have expired
    assert status == PostStatus.FAILED
    [failed] = own_stories(alice)
    assert {name: failed[name] for name in ("story_id", "author", "created_at", "expires_at")} == {
        name: answered[name] for name in ("story_id", "author", "created_at", "expires_at")
    }
    media = failed["media"]
    assert (media["media_id"], media["type"], media["status"]) == (answered["media"]["media_id"], "image", "rejected")
    assert media["reason"] == "The file is not the JPEG image it claims to be: it is not a supported picture format."
    assert (media["reason_code"], media["renditions"]) == ("type_mismatch", {})
    assert tray(alice, later=timedelta(hours=23, minutes=59)) == [("alice", [answered["story_id"]])]
    assert tray(alice, later=timedelta(hours=24)) == []
    # And bob never sees it, and nothing of it reaches his feed
    assert tray(bob) == []
    assert story_entries(bob) == []
    # And alice can delete it, after which it is gone from her tray
    assert delete_story(alice, answered["story_id"]) == (204, None)
    assert tray(alice) == []


def test_a_story_whose_upload_never_arrives_is_shown_to_its_author_as_refused(
    people: dict[str, Claims], streams: Streams
) -> None:
    # Given bob follows alice, whose story's upload never comes
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    _, created = create_story(alice)

    # When the sweep runs after the upload window and its grace
    assert posts_logic.fail_overdue_posts(now=utc_now() + timedelta(minutes=31)) == 1

    # Then alice's tray shows it rejected `upload_missing`; bob's shows nothing
    [refused] = own_stories(alice)
    assert refused["story_id"] == created["story"]["story_id"]
    assert (refused["media"]["status"], refused["media"]["reason_code"]) == ("rejected", "upload_missing")
    assert refused["media"]["reason"]
    assert tray(bob) == []


def test_a_story_held_for_review_is_in_no_tray(people: dict[str, Claims], streams: Streams) -> None:
    # Given bob follows alice, whose story automatic screening holds for review
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    _, created = create_story(alice)
    story_id, media_id = created["story"]["story_id"], created["story"]["media"]["media_id"]
    flagged = (
        PostRepository()
        .get(story_id)
        .media[media_id]
        .model_copy(update={"status": MediaStatus.READY, "flagged": [StoredLabel(name="Violence", confidence=91.0)]})
    )
    assert posts_logic.record_media_ready(UploadKey(story_id, media_id), flagged) == PostStatus.IN_REVIEW

    # Then neither sees it (a moderator decides; a removal is told to alice by a notification)
    assert tray(alice) == tray(bob) == []


# -- deleting one --


def delete_story(claims: Claims, story_id: str) -> tuple[int, Any]:
    response = call(upload.handler, "DELETE", "/me/stories/{story_id}", claims, story_id=story_id)
    return response["statusCode"], response_json(response) if response.get("body") else None


def test_the_author_deletes_a_live_story_and_it_goes_with_its_renditions(
    people: dict[str, Claims], streams: Streams
) -> None:
    # Given bob sees two stories of alice's
    alice, bob = people["alice"], people["bob"]
    follow(bob, alice, streams)
    first, second = post_story(alice, streams), post_story(alice, streams)
    assert tray(bob) == [("alice", [first, second])]

    # When alice deletes the first
    assert delete_story(alice, first) == (204, None)
    streams.deliver()

    # Then nobody sees it any more, at once, while the other stays; her post count never moved
    assert tray(bob) == [("alice", [second])] and tray(alice) == [("alice", [second])]
    assert response_json(call(users.handler, "GET", "/me", alice))["post_count"] == 0
    # And the posts stream's REMOVE purges every rendition of it, as the TTL's would
    [removal] = [record for record in streams.delivered if record["eventName"] == "REMOVE"]
    removed = purge_removed(DynamoDBStreamRecordModel.model_validate(removal), queue=FakeInvalidationsQueue())
    assert removed == len(STORY_RENDITIONS)
    media_bucket = get_settings().media_bucket_name
    assert boto3.client("s3").list_objects_v2(Bucket=media_bucket, Prefix=f"posts/{first}/").get("Contents") is None
    # And deleting it again finds nothing
    status, error = delete_story(alice, first)
    assert status == 404 and error["error"]["code"] == "not_found"


def test_a_published_posts_count_is_left_alone_when_a_story_goes(people: dict[str, Claims], streams: Streams) -> None:
    alice = people["alice"]
    publish(alice)
    story_id = post_story(alice, streams)

    assert delete_story(alice, story_id) == (204, None)

    assert response_json(call(users.handler, "GET", "/me", alice))["post_count"] == 1


def test_the_author_deletes_a_story_still_waiting_for_its_upload(people: dict[str, Claims]) -> None:
    alice = people["alice"]
    _, created = create_story(alice)

    assert delete_story(alice, created["story"]["story_id"]) == (204, None)

    # its upload, arriving after, has nothing to publish
    assert upload_and_resize(created, jpeg()) is None
    assert tray(alice) == []


def test_only_the_author_deletes_a_story(people: dict[str, Claims], streams: Streams) -> None:
    # Given alice's story, seen by her follower bob
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    follow(bob, alice, streams)
    story_id = post_story(alice, streams)

    # Then it is among nobody's stories but hers: bob, who sees it, and carol, who follows nobody, find none
    for other in (bob, carol):
        status, error = delete_story(other, story_id)
        assert status == 404 and error["error"] == {"code": "not_found", "message": "No such story."}
    assert tray(bob) == [("alice", [story_id])]


def test_who_may_see_a_story(people: dict[str, Claims], streams: Streams) -> None:
    # Given alice's story, followed by bob; alice then goes private
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    follow(bob, alice, streams)
    story_id = post_story(alice, streams)
    assert call(users.handler, "PATCH", "/me", alice, {"is_private": True})["statusCode"] == 200

    def sees(claims: Claims, later: timedelta = timedelta()) -> bool:
        caller = Caller(user_id=claims["sub"], username=claims["username"])
        try:
            stories_logic.readable_story(caller, story_id, now=utc_now() + later)
        except NotFound:
            return False
        return True

    # Then her follower and she see it, until it expires (before the TTL deletes it); a stranger never does
    assert sees(bob) and sees(alice) and not sees(carol)
    assert not sees(bob, timedelta(hours=25)) and not sees(alice, timedelta(hours=25))


def test_a_post_is_not_a_story_to_delete(people: dict[str, Claims]) -> None:
    alice = people["alice"]
    post_id = publish(alice)

    status, error = delete_story(alice, post_id)

    assert status == 404 and error["error"]["message"] == "No such story."
    assert call(upload.handler, "GET", "/posts/{post_id}", alice, post_id=post_id)["statusCode"] == 200


class StaleReads(PostRepository):
    """Reads the item as it was before another request deleted it: the loser of two deletes at once."""

    def __init__(self, before: Any) -> None:
        super().__init__()
        self.before = before

    def get(self, post_id: str) -> Any:
        return self.before


@pytest.mark.parametrize("kind", ["post", "story"])
def test_the_second_of_two_deletes_at_once_finds_nothing(
    people: dict[str, Claims], streams: Streams, kind: str
) -> None:
    # Given two deletes of the same item that both read it before either deleted it
    alice = people["alice"]
    item_id = publish(alice) if kind == "post" else post_story(alice, streams)
    caller = Caller(user_id=alice["sub"], username="alice")
    stale = StaleReads(PostRepository().get(item_id))
    delete = posts_logic.delete_post if kind == "post" else stories_logic.delete_story
    delete(caller, item_id)

    # Then the second is 404, not a failed transaction (a 500), and the post count moved once
    with pytest.raises(NotFound):
        delete(caller, item_id, stale)
    assert response_json(call(users.handler, "GET", "/me", alice))["post_count"] == 0


def test_a_delete_racing_the_publication_takes_the_post_count_back(people: dict[str, Claims]) -> None:
    # Given alice's post, read pending by her delete, and published by the pipeline before the delete is written
    alice = people["alice"]
    post_id, media_id = create_pending(alice)
    read_pending = PostRepository().get(post_id)
    make_ready(post_id, media_id)
    assert response_json(call(users.handler, "GET", "/me", alice))["post_count"] == 1

    # When the delete goes on with what it read
    assert PostRepository().delete(read_pending)

    # Then the post is gone and the count with it: the delete saw the post had moved, and read it again
    assert PostRepository().get_many([post_id]) == {}
    assert response_json(call(users.handler, "GET", "/me", alice))["post_count"] == 0
