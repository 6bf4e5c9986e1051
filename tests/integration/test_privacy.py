"""Deleting an account (deactivate, reactivate, purge with crashes and redeliveries) and exporting one's data,
handler → logic → PynamoDB on moto. The purge starts as on AWS: the local cloud's TTL sweeper deletes the expired
deletion marker (its REMOVE record says DynamoDB's TTL did) and the privacy table's records reach
`on_deletion_due`; the purge queue's message is then driven directly (tests/e2e/test_privacy.py has the whole
pipeline), and the audit scans every table and bucket of the account."""

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import jwt
import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from PIL import Image

from functions.auth import handler as auth
from functions.privacy import handler as privacy_handler
from functions.social import handler as social_handler
from functions.users import handler as users_handler
from local.provision import Table
from local.pumps.ttl_sweeper import TtlSweeper
from pinhole.feed.ranking import Candidate, RankedPost, ScoreParts
from pinhole.feed.ranking_dal import AffinityStore, SnapshotStore, Standings
from pinhole.graph import logic as graph
from pinhole.media.limits import AVATAR_URL_RENDITION
from pinhole.messaging import logic as messaging
from pinhole.messaging.dal import MESSAGE, MessagingModel, conversation_key
from pinhole.messaging.media import MessageUploadKey
from pinhole.messaging.models import CreateConversationRequest, SendMessageRequest
from pinhole.moderation import logic as moderation
from pinhole.moderation.dal import ModerationRepository
from pinhole.moderation.models import Action, ActionRequest, Reason, ReportRequest, TargetType, case_id_of
from pinhole.notifications import logic as notifications
from pinhole.notifications.dal import NotificationModel, NotificationRepository
from pinhole.notifications.models import MODERATION_NOTICES, MODERATORS_ACTOR, NotificationRecord, NotificationType
from pinhole.posts import logic as posts_logic
from pinhole.posts.models import MediaDeclaration
from pinhole.privacy import logic
from pinhole.privacy.dal import AccountRepository, ExportRepository, PrivacyModel, PurgeRepository
from pinhole.privacy.models import ExportRequest, ExportStatus, UserRef
from pinhole.privacy.purge import DELETED_USERNAME, NOTE_REMOVED, Purge, purge_account, stand_in_id
from pinhole.push import logic as push
from pinhole.push.models import DeviceRegistration, NotificationSettingsPatch, Platform
from pinhole.resize.message_media import process_message_upload
from pinhole.shared.caller import MODERATORS_GROUP, Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import InvalidCredentials, NotFound
from pinhole.shared.ids import new_id
from pinhole.shared.settings import get_settings
from pinhole.social import logic as social
from pinhole.social.dal import InteractionModel, InteractionRepository
from pinhole.social.models import CreateCommentRequest
from pinhole.streams.models import TTL_DELETER
from pinhole.users import logic as users
from pinhole.users.dal import ProfileRepository
from pinhole.users.models import AvatarStatus, AvatarUpload, StoredAvatar, StoredAvatarRendition
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.posts import publish
from tests.support.streams import StreamTap, routed_event
from tests.support.traces import item_text
from tests.support.users import PASSWORD, sign_up_claims

DELETED = "zed.gone"


class Crash(Exception):
    """A purge dying mid-step (a timeout, an out-of-memory kill)."""


ZED_PHONE = "fcm-token:" + "Zed_" * 12
ANN_PHONE = "fcm-token:" + "Ann_" * 12


@pytest.fixture
def world(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    PrivacyModel.create_table(wait=True)
    # Push on (an FCM platform application in moto's SNS): the purge deletes the deleted user's endpoints
    fcm = boto3.client("sns").create_platform_application(Name="pinhole-fcm", Platform="GCM", Attributes={})
    monkeypatch.setenv("PUSH_PLATFORM_APPLICATIONS", json.dumps({"fcm": fcm["PlatformApplicationArn"]}))
    get_settings.cache_clear()
    sqs = boto3.client("sqs")
    for url in (
        get_settings().purge_queue_url,
        get_settings().export_queue_url,
        get_settings().media_invalidations_queue_url,  # the purge has the CDN forget the avatar's renditions
    ):
        sqs.create_queue(QueueName=url.rsplit("/", 1)[1])
    people = {name: sign_up_claims(name) for name in (DELETED, "ann", "ben", "mod")}
    yield {"people": people, "fcm": fcm["PlatformApplicationArn"], **aws}
    get_settings.cache_clear()


def caller(claims: dict[str, str], *groups: str) -> Caller:
    return Caller(user_id=claims["sub"], username=claims["username"], groups=frozenset(groups))


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def send_photo(sender: Caller, text: str, **destination: str) -> str:
    """A photo message, uploaded and processed into renditions (the resize pipeline's message path)."""
    picture = _jpeg()
    media = MediaDeclaration(content_type="image/jpeg", size_bytes=len(picture))
    sent = messaging.send(sender, SendMessageRequest(text=text, media=media, **destination))
    assert sent.media is not None
    key = MessageUploadKey(sent.conversation_id, sent.message_id, sent.media.media_id)
    uploads = get_settings().uploads_bucket_name
    boto3.client("s3").put_object(Bucket=uploads, Key=str(key), Body=picture, ContentType="image/jpeg")
    assert process_message_upload(uploads, key) == "ready"
    return sent.message_id


def build_groups(zed: Caller, ann: Caller, ben: Caller) -> dict[str, str]:
    """Three groups: one zed created and writes in (a photo too), one ann removed zed from, one zed left."""
    by_zed = messaging.create_group(
        zed, CreateConversationRequest(members=["ann", "ben"], title="trip")
    ).conversation_id
    messaging.send(ann, SendMessageRequest(conversation_id=by_zed, text="hi all"))
    messaging.send(zed, SendMessageRequest(conversation_id=by_zed, text="zed here"))
    send_photo(zed, "zed's view", conversation_id=by_zed)
    messaging.rename_group(zed, by_zed, "zed's trip")
    messaging.send(ben, SendMessageRequest(conversation_id=by_zed, text="ben too"))
    removed_from = messaging.create_group(ann, CreateConversationRequest(members=["ben", DELETED])).conversation_id
    messaging.send(zed, SendMessageRequest(conversation_id=removed_from, text="before I go"))
    messaging.remove_member(ann, removed_from, DELETED)
    messaging.send(ben, SendMessageRequest(conversation_id=removed_from, text="just us"))
    left = messaging.create_group(ben, CreateConversationRequest(members=["ann", DELETED])).conversation_id
    messaging.send(zed, SendMessageRequest(conversation_id=left, text="bye"))
    messaging.remove_member(zed, left, DELETED)
    return {"by_zed": by_zed, "removed_from": removed_from, "left": left}


def build_moderation(account: dict[str, Any], mod: Caller) -> dict[str, str]:
    """Reports about zed and by zed, a moderator's removal of zed's post, and zed as a moderator."""
    zed, ann, ben = account["zed"], account["ann"], account["ben"]
    zed_post, ann_post = account["zed_posts"][2], account["ann_post"]
    moderation.file_report(
        ann, ReportRequest(target_type=TargetType.POST, target_id=zed_post, reason=Reason.SPAM, note=f"{DELETED} spams")
    )
    moderation.file_report(ben, ReportRequest(target_type=TargetType.USER, target_id=zed.user_id, reason=Reason.HATE))
    moderation.file_report(
        zed, ReportRequest(target_type=TargetType.USER, target_id=ben.user_id, reason=Reason.SPAM, note="sells pills")
    )
    moderation.file_report(ben, ReportRequest(target_type=TargetType.POST, target_id=ann_post, reason=Reason.OTHER))
    moderator = moderation.Moderator(notify=lambda *args, **kwargs: True)
    about_zed = case_id_of(TargetType.POST, zed_post)
    moderator.act(mod, about_zed, ActionRequest(action=Action.REMOVE, note=f"spam by {DELETED}"))
    zed_as_moderator = Caller(user_id=zed.user_id, username=zed.username, groups=frozenset({MODERATORS_GROUP}))
    about_ann = case_id_of(TargetType.POST, ann_post)
    moderator.act(zed_as_moderator, about_ann, ActionRequest(action=Action.DISMISS, note="a sunset, not spam"))
    return {
        "about_zed": about_zed,
        "about_zed_user": case_id_of(TargetType.USER, zed.user_id),
        "by_zed": case_id_of(TargetType.USER, ben.user_id),
        "about_ann": about_ann,
    }


def build_account(people: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The deleted user's life: posts, likes and comments both ways, follows both ways, a pending request,
    blocks, mutes, saves, messages both ways (a photo each way), groups (created, removed from, left),
    phones and push settings, reports by and about them and moderators' actions (one by them), notifications
    both ways, objects in every bucket."""
    zed, ann, ben = (caller(people[name]) for name in (DELETED, "ann", "ben"))
    zed_posts = [publish(people[DELETED], caption=f"#sunset number {n}") for n in range(3)]
    ann_post = publish(people["ann"], caption="#sunset by ann")
    ben_post = publish(people["ben"], caption="ben's")
    social.like(zed, ann_post)
    social.like(ann, ann_post)
    social.like(ann, zed_posts[0])
    zed_comment = social.add_comment(zed, ann_post, CreateCommentRequest(text="lovely"))
    social.add_comment(ben, ann_post, CreateCommentRequest(text="agreed"))
    ann_comment = social.add_comment(ann, zed_posts[1], CreateCommentRequest(text="nice one")).comment_id
    social.save(zed, ann_post, "trips")
    social.save(ann, zed_posts[0], "saved")
    graph.follow(zed, "ann")
    graph.follow(ann, DELETED)
    graph.follow(ben, "ann")
    graph.mute(zed, "ben")
    graph.mute(ben, DELETED)
    ProfileRepository().update(ben.user_id, {"is_private": True})
    graph.follow(zed, "ben")  # a pending request to a private account
    messaging.send(zed, SendMessageRequest(to="ann", text="hello ann"))
    messaging.send(ann, SendMessageRequest(to=DELETED, text="hi zed, here is my number"))
    messaging.send(ann, SendMessageRequest(to=DELETED, text="call me"))
    send_photo(zed, "my cat", to="ann")
    send_photo(ann, "my dog", to=DELETED)
    groups = build_groups(zed, ann, ben)
    push.register_device(zed, DeviceRegistration(platform=Platform.FCM, token=ZED_PHONE))
    push.register_device(ann, DeviceRegistration(platform=Platform.FCM, token=ANN_PHONE))
    push.change_settings(zed, NotificationSettingsPatch(likes=False))
    AffinityStore().add(zed.user_id, ann.user_id, 1.0, utc_now())  # zed's own affinity for ann
    s3 = boto3.client("s3")
    settings = get_settings()
    for n, post_id in enumerate([*zed_posts, ann_post]):
        original = f"posts/{post_id}/{users_post(post_id).media_order[0]}"
        s3.put_object(Bucket=settings.uploads_bucket_name, Key=original, Body=f"original photo {n}".encode())
    s3.put_object(Bucket=settings.uploads_bucket_name, Key=f"avatars/{zed.user_id}/a1", Body=b"avatar original")
    s3.put_object(Bucket=settings.media_bucket_name, Key=f"avatars/{zed.user_id}/a1/small.jpg", Body=b"r")
    give_avatar(zed.user_id, "a1")
    # Notifications as delivery stores them (the stream consumers do not run here): ann's like, follow and
    # comment for zed, a moderator's removal of zed's post, and zed's like for ann
    notify(zed, NotificationType.LIKE, ann.user_id, f"post#{zed_posts[0]}/like#{ann.user_id}", post_id=zed_posts[0])
    notify(zed, NotificationType.FOLLOW, ann.user_id, f"user#{ann.user_id}/follows#{zed.user_id}")
    comment_source = f"post#{zed_posts[1]}/comment#{ann_comment}"
    notify(zed, NotificationType.COMMENT, ann.user_id, comment_source, post_id=zed_posts[1], comment_id=ann_comment)
    notify(zed, NotificationType.CONTENT_REMOVED, MODERATORS_ACTOR, f"post#{zed_posts[2]}", post_id=zed_posts[2])
    notify(ann, NotificationType.LIKE, zed.user_id, f"post#{ann_post}/like#{zed.user_id}", post_id=ann_post)
    InteractionRepository().record_visit(ann.user_id, zed.user_id)
    InteractionRepository().record_visit(zed.user_id, ann.user_id)
    # ann's ranked feed: her affinity for zed, and a first page's snapshot listing zed's post; ben's lists ann's only
    AffinityStore().add(ann.user_id, zed.user_id, 1.0, utc_now())
    parts = ScoreParts(affinity=1.0, recency=1.0, engagement=0.0, own_post=0.0, seen=False)
    for viewer, name, (post_id, author) in (
        (ann, "with-zed", (zed_posts[0], zed.user_id)),
        (ben, "without-zed", (ann_post, ann.user_id)),
    ):
        ranked, standing = RankedPost(post_id, author, 1.0, parts), Candidate(post_id, author, utc_now())
        SnapshotStore().put(viewer.user_id, name, [ranked], 0, False, Standings(utc_now(), {post_id: standing}))
    account = {"zed": zed, "ann": ann, "ben": ben, "zed_posts": zed_posts, "ann_post": ann_post, "ben_post": ben_post}
    account["groups"] = groups
    account["zed_comment"] = zed_comment
    account["cases"] = build_moderation(account, caller(people["mod"], MODERATORS_GROUP))
    graph.block(zed, "mod")
    return account


def notify(
    recipient: Caller,
    kind: NotificationType,
    actor_id: str,
    source: str,
    post_id: str | None = None,
    comment_id: str | None = None,
) -> str:
    """A notification stored as delivery stores it (`source`: the key of the item that caused it); its id."""
    record = NotificationRecord(
        notification_id=new_id(),
        user_id=recipient.user_id,
        type=kind,
        actor_id=actor_id,
        post_id=post_id,
        comment_id=comment_id,
        reason="spam" if kind in MODERATION_NOTICES else None,
        created_at=to_iso(utc_now()),
    )
    assert NotificationRepository().create(record, source) is not None
    return record.notification_id


def give_avatar(user_id: str, avatar_id: str) -> None:
    """What resize records once an avatar's renditions are made."""
    upload = AvatarUpload(avatar_id=avatar_id, status=AvatarStatus.READY, content_type="image/jpeg")
    rendition = StoredAvatarRendition(
        key=f"avatars/{user_id}/{avatar_id}/{AVATAR_URL_RENDITION}.jpg",
        width=150,
        height=150,
        content_type="image/jpeg",
    )
    avatar = StoredAvatar(
        avatar_id=avatar_id, width=640, height=480, blurhash="LEHV6n", renditions={AVATAR_URL_RENDITION: rendition}
    )
    ProfileRepository().start_avatar_upload(user_id, upload)
    assert ProfileRepository().settle_avatar_upload(user_id, upload, avatar)


def everything() -> Iterator[tuple[str, str]]:
    """Every item of every table and every object version of every bucket, as text, with where it is."""
    dynamodb = boto3.client("dynamodb")
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                yield table, item_text(item)
    s3 = boto3.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket["Name"]):
            for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                body = b""
                if "Size" in version:
                    body = s3.get_object(Bucket=bucket["Name"], Key=version["Key"], VersionId=version["VersionId"])[
                        "Body"
                    ].read()
                yield bucket["Name"], f"{version['Key']} {body!r}"


def traces_of(user_id: str, username: str) -> list[tuple[str, str]]:
    return [(where, text) for where, text in everything() if user_id in text or username in text]


def counts(account: dict[str, Any]) -> dict[str, Any]:
    profiles = ProfileRepository()
    ann, ben = (profiles.get_consistent(account[name].user_id) for name in ("ann", "ben"))
    post = users_post(account["ann_post"])
    found = {
        "ann": (ann.follower_count, ann.following_count, ann.post_count),
        "ben": (ben.follower_count, ben.following_count, ben.post_count),
        "ann_post": (post.like_count, post.comment_count),
        "devices": (len(push.devices_of(account["ann"])), len(push.devices_of(account["ben"]))),
    }
    for name, conversation_id in account["groups"].items():
        views = {
            who: messaging.conversation_messages(account[who], conversation_id, 50, None)[0] for who in ("ann", "ben")
        }
        inbox = {
            who: next(
                c for c in messaging.conversations(account[who], 50, None)[0] if c.conversation_id == conversation_id
            )
            for who in ("ann", "ben")
        }
        found[name] = {
            who: (
                sorted(member.username for member in inbox[who].members),
                [message.text for message in views[who]],
                inbox[who].unread_count,
                inbox[who].last_message.text if inbox[who].last_message else None,
            )
            for who in ("ann", "ben")
        }
    store = ModerationRepository()
    for name, case_id in account["cases"].items():
        case = store.case(case_id)
        assert case is not None
        found[f"case {name}"] = (case.report_count, case.reasons, case.status.value)
    return found


def users_post(post_id: str) -> Any:
    from pinhole.posts.dal import PostRepository

    return PostRepository().get(post_id)


def privacy_stream() -> StreamTap:
    return StreamTap([get_settings().privacy_table_name])


def ttl_expiry() -> int:
    """DynamoDB's TTL comes to the privacy table: the local cloud's sweeper deletes every expired item (its
    REMOVE records say DynamoDB's TTL did); how many."""
    table = Table(
        resource=None,  # type: ignore[arg-type]
        name=get_settings().privacy_table_name,
        arn="",
        stream_arn=None,
        ttl_attribute="expires_at",
        key_names=["user_id", "sk"],
    )
    return TtlSweeper([table], boto3.client("dynamodb")).sweep(table)


def deliver(records: list[dict[str, Any]]) -> None:
    """The privacy table's records reach `on_deletion_due`, every one of them (the route's filter would
    drop all but TTL removals of markers: the consumer must not depend on it)."""
    response = privacy_handler.on_deletion_due(routed_event(records, table="privacy"), FakeLambdaContext())
    assert response == {"batchItemFailures": []}


def purge_messages() -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=get_settings().purge_queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def past_grace() -> Any:
    """A deletion made this long ago is due now."""
    return utc_now() - logic.grace_period() - timedelta(minutes=1)


def delete_and_expire(account: dict[str, Any]) -> None:
    """DELETE /me, then the grace period ends: the marker's TTL removal starts the purge."""
    zed = account["zed"]
    stream = privacy_stream()
    logic.delete_account(zed, PASSWORD, now=past_grace(), identity=_NoRevoke())
    assert ttl_expiry() == 1
    deliver(stream.new_records())
    assert purge_messages() == [{"user_id": zed.user_id}]


class _NoRevoke(logic.CognitoIdentity):
    """moto in-process has no RevokeToken (the local cloud adds it: tests/e2e/test_privacy.py goes through it)."""

    def revoke(self, refresh_token: str) -> None:
        self.revoked = refresh_token


EXPECTED_AFTER_PURGE = {
    # ann: followed by zed (gone) and by ben → 1 follower; follows zed (gone) → 0; one post
    "ann": (1, 0, 1),
    # ben: zed's request never counted, ben follows ann → following 1
    "ben": (0, 1, 1),
    # ann's post: zed's like and comment taken back → ann's like, ben's comment
    "ann_post": (1, 1),
    # ann's phone stays; zed's went
    "devices": (1, 0),
    # (members, messages each reads, unread count, preview): zed's messages and every system message naming zed
    # are erased, the others keep the group; unread counts are counted from each one's read mark
    "by_zed": {
        "ann": (["ann", "ben"], ["ben too", "hi all"], 1, "ben too"),  # her own send marked "hi all" read
        "ben": (["ann", "ben"], ["ben too", "hi all"], 0, "ben too"),
    },
    "removed_from": {
        "ann": (["ann", "ben"], ["just us"], 1, "just us"),
        "ben": (["ann", "ben"], ["just us"], 0, "just us"),
    },
    # ben's "created" message named zed among its members: erased with zed's "bye" and "left"
    "left": {"ann": (["ann", "ben"], [], 0, None), "ben": (["ann", "ben"], [], 0, None)},
    # moderation: every case and its counts are kept (records pseudonymised, not deleted)
    "case about_zed": (0, {}, "actioned"),
    "case about_zed_user": (1, {"hate": 1}, "open"),
    "case by_zed": (1, {"spam": 1}, "open"),
    "case about_ann": (0, {}, "dismissed"),
}


def test_a_deleted_account_is_absent_for_everyone_until_it_is_reactivated(world: dict[str, Any]) -> None:
    # Given zed with posts, a comment on ann's post and a follower
    account = build_account(world["people"])
    zed, ann = account["zed"], account["ann"]
    # When zed deletes the account
    scheduled = logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    # Then zed's profile, posts and comment are gone for ann, as a block would hide them
    with pytest.raises(NotFound):
        users.get_user(ann, DELETED)
    with pytest.raises(NotFound, match="No such post"):  # as any post that is not there: not "No such user"
        posts_logic.get_post(ann, account["zed_posts"][0])
    assert [c.text for c in social.comments(ann, account["ann_post"], 20, None)[0]] == ["agreed"]
    assert DELETED not in {u.username for u in social.likers(ann, account["ann_post"], 20, None)[0]}
    conversations = messaging.conversations(ann, 20, None)[0]
    assert [c for c in conversations if c.kind == "direct"] == []  # their direct conversation is hidden
    by_zed = next(c for c in conversations if c.conversation_id == account["groups"]["by_zed"])
    assert DELETED not in {member.username for member in by_zed.members}  # and they are out of the group's members
    # and the purge is 30 days away (the default grace period)
    assert scheduled.purge_after.startswith((utc_now() + timedelta(days=30)).date().isoformat())
    # When zed reactivates
    me = logic.reactivate(zed)
    # Then everything is back, counts unchanged
    assert me.username == DELETED
    assert users.get_user(ann, DELETED).post_count == 2  # 3, one removed by a moderator
    assert [c.text for c in social.comments(ann, account["ann_post"], 20, None)[0]] == ["lovely", "agreed"]
    assert PrivacyModel.count(zed.user_id) == 0  # the deletion marker went with the reactivation


def test_logging_in_within_the_grace_period_cancels_the_deletion(world: dict[str, Any]) -> None:
    zed = caller(world["people"][DELETED])
    logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    response = auth.handler(
        http_event("POST", "/auth/login", body={"username": DELETED, "password": PASSWORD}), FakeLambdaContext()
    )
    assert response["statusCode"] == 200, response
    assert users.get_me(zed).username == DELETED


def test_logging_in_after_the_grace_period_is_refused(world: dict[str, Any]) -> None:
    zed = caller(world["people"][DELETED])
    logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    with pytest.raises(InvalidCredentials):
        logic.restore_on_login(DELETED, now=utc_now() + timedelta(days=31))
    with pytest.raises(NotFound):
        logic.reactivate(zed, now=utc_now() + timedelta(days=31))


def _auth(path: str, body: Any) -> tuple[int, Any]:
    response = auth.handler(http_event("POST", path, body=body), FakeLambdaContext())
    return response["statusCode"], response_json(response)


def _as_the_token(method: str, path: str, access_token: str, body: Any = None) -> tuple[int, Any]:
    """A request to the privacy function with a real access token, as the JWT authorizer passes it."""
    decoded = jwt.decode(access_token, options={"verify_signature": False})
    claims = {name: str(decoded[name]) for name in ("sub", "username", "iat", "origin_jti")}
    event = http_event(method, path, claims=claims, body=body, route_key=f"{method} {path}")
    event["headers"]["authorization"] = f"Bearer {access_token}"
    response = privacy_handler.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def test_asked_again_with_the_same_token_deleting_answers_the_same_date_and_reactivating_works(
    world: dict[str, Any], strict_cognito: Any
) -> None:
    # Given zed logged in, who deletes the account
    status, tokens = _auth("/auth/login", {"username": DELETED, "password": PASSWORD})
    assert status == 200, tokens
    first = _as_the_token("DELETE", "/me", tokens["access_token"], {"password": PASSWORD})
    assert first[0] == 202, first
    # Then the refresh token is revoked, while the access token lives on for the deletion's own routes
    assert _auth("/auth/refresh", {"refresh_token": tokens["refresh_token"]})[0] == 401
    assert (
        users_handler.handler(
            http_event("GET", "/me", claims=world["people"][DELETED], route_key="GET /me"), FakeLambdaContext()
        )["statusCode"]
        == 404
    )
    # And acts on nothing else: a like, a follow, a block would move others' counts for an account nobody sees
    zed, ann = world["people"][DELETED], world["people"]["ann"]
    ann_post = publish(ann)
    acts = [
        (social_handler, "POST", f"/posts/{ann_post}/like", "/posts/{post_id}/like", {"post_id": ann_post}),
        (users_handler, "POST", "/users/ann/follow", "/users/{username}/follow", {"username": "ann"}),
        (users_handler, "POST", "/users/ann/block", "/users/{username}/block", {"username": "ann"}),
    ]
    for function, method, path, route, params in acts:
        event = http_event(method, path, claims=zed, route_key=f"{method} {route}", path_parameters=params)
        response = function.handler(event, FakeLambdaContext())
        assert (response["statusCode"], response_json(response)["error"]["code"]) == (404, "not_found"), path
    assert ProfileRepository().get(ann["sub"]).follower_count == 0
    # When zed asks again with the same token: the same date (a wrong password: 401, as the first time)
    assert _as_the_token("DELETE", "/me", tokens["access_token"], {"password": PASSWORD}) == first
    wrong = _as_the_token("DELETE", "/me", tokens["access_token"], {"password": "Wrong-Horse-9"})
    assert (wrong[0], wrong[1]["error"]["code"]) == (401, "invalid_credentials")
    # And the same token reactivates the account
    status, me = _as_the_token("POST", "/me/reactivate", tokens["access_token"])
    assert (status, me["username"]) == (200, DELETED)


def test_deleting_with_a_wrong_password_is_401_and_changes_nothing(world: dict[str, Any]) -> None:
    claims = world["people"][DELETED]
    event = http_event("DELETE", "/me", claims=claims, body={"password": "Wrong-Horse-9"}, route_key="DELETE /me")
    event["headers"]["authorization"] = "Bearer access-token"
    response = privacy_handler.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 401, response
    assert response_json(response)["error"]["code"] == "invalid_credentials"
    assert users.get_me(caller(claims)).username == DELETED


def test_a_purge_leaves_no_trace_and_exact_counts(world: dict[str, Any]) -> None:
    # Given zed's whole life, deleted and past the grace period
    account = build_account(world["people"])
    zed = account["zed"]
    delete_and_expire(account)
    # When the purge runs
    assert purge_account(zed.user_id)
    # Then no item or object names zed, others' counts are exact, and ann keeps her side of the conversation
    assert traces_of(zed.user_id, DELETED) == []
    assert counts(account) == EXPECTED_AFTER_PURGE
    assert SnapshotStore().get(account["ben"].user_id, "without-zed", utc_now()) is not None  # others' stay
    conversations, _ = messaging.conversations(account["ann"], 20, None)
    direct = [c for c in conversations if c.kind == "direct"]
    assert [c.with_.display_name for c in direct if c.with_] == ["Deleted account"]
    kept, _ = messaging.conversation_messages(account["ann"], direct[0].conversation_id, 20, None)
    # zed's own "hello ann" and photo are erased; ann's photo moved with her side, its renditions readable
    assert [m.text for m in kept] == ["my dog", "call me", "hi zed, here is my number"]
    assert direct[0].unread_count == 0
    photo = kept[0].media
    assert photo is not None and photo.renditions
    for rendition in photo.renditions.values():
        assert direct[0].conversation_id in rendition.url
        assert httpx_free_get(rendition.url) > 0
    with pytest.raises(Exception, match="User does not exist"):
        boto3.client("cognito-idp").admin_get_user(UserPoolId=world["user_pool_id"], Username=DELETED)


def httpx_free_get(url: str) -> int:
    """The size of the object a signed rendition URL names (read through boto3: the test has no HTTP S3)."""
    from urllib.parse import urlparse

    key = urlparse(url).path.lstrip("/").removeprefix(f"{get_settings().message_media_bucket_name}/")
    bucket = get_settings().message_media_bucket_name
    return int(boto3.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"])


def test_a_purge_deletes_their_phones_endpoints_through_the_push_context(world: dict[str, Any]) -> None:
    account = build_account(world["people"])
    sns = boto3.client("sns")

    def tokens() -> list[str]:
        endpoints = sns.list_endpoints_by_platform_application(PlatformApplicationArn=world["fcm"])["Endpoints"]
        return sorted(endpoint["Attributes"]["Token"] for endpoint in endpoints)

    assert tokens() == sorted([ZED_PHONE, ANN_PHONE])
    delete_and_expire(account)
    assert purge_account(account["zed"].user_id)
    assert tokens() == [ANN_PHONE]


def test_a_purge_keeps_the_moderation_audit_pseudonymised(world: dict[str, Any]) -> None:
    # Given reports by and about zed, a moderator's removal of zed's post, and zed's own decision as a moderator
    account = build_account(world["people"])
    zed, cases = account["zed"], account["cases"]
    store = ModerationRepository()
    mod = caller(world["people"]["mod"], MODERATORS_GROUP)
    log_before, _ = store.log(50, None)
    delete_and_expire(account)
    # When the purge runs
    assert purge_account(zed.user_id)
    # Then every case, report and log entry is still there, zed's id replaced by one stand-in everywhere
    stand_in = stand_in_id(zed.user_id)
    assert store.case(cases["about_zed"]).author_id == stand_in  # type: ignore[union-attr]
    assert store.case(cases["about_zed_user"]).target_id == stand_in  # type: ignore[union-attr]
    [by_zed] = store.reports(cases["by_zed"])
    assert (by_zed.reporter_id, by_zed.reason.value, by_zed.note) == (stand_in, "spam", NOTE_REMOVED)
    [about_zed] = store.reports(cases["about_zed"])
    assert (about_zed.reporter_id, about_zed.note) == (account["ann"].user_id, NOTE_REMOVED)  # it named zed
    log_after, _ = store.log(50, None)
    assert [entry.entry_id for entry in log_after] == [entry.entry_id for entry in log_before]
    decisions = {entry.case_id: entry for entry in log_after}
    removal = decisions[cases["about_zed"]]
    assert (removal.action.value, removal.note) == ("remove", NOTE_REMOVED)  # a note about zed's content
    assert (removal.moderator_id, removal.moderator_username) == (world["people"]["mod"]["sub"], "mod")
    dismissal = decisions[cases["about_ann"]]
    assert (dismissal.moderator_id, dismissal.moderator_username) == (stand_in, DELETED_USERNAME)
    assert dismissal.note == "a sunset, not spam"  # zed's reason for a decision on ann's post stays
    # and moderators read the log with zed's decision by "deleted.account"
    view, _ = moderation.moderation_log(mod, 50, None)
    assert {entry.moderator.username for entry in view} == {"mod", DELETED_USERNAME}
    assert traces_of(zed.user_id, DELETED) == []


def test_a_redelivered_purge_message_changes_nothing(world: dict[str, Any]) -> None:
    account = build_account(world["people"])
    delete_and_expire(account)
    assert purge_account(account["zed"].user_id)
    before = sorted(everything())
    # When the queue delivers the same message again
    assert purge_account(account["zed"].user_id)
    # Then not one item or object changed
    assert sorted(everything()) == before
    assert counts(account) == EXPECTED_AFTER_PURGE


def _crashing_at(step_name: str, after_work: bool) -> type[Purge]:
    """A purge that dies in `step_name`: before doing anything, or after doing a page's work but before
    its progress was saved (the page is then done twice)."""

    class Crashing(Purge):
        def steps(self) -> list[tuple[str, Any]]:
            def crash(purge: Purge, cursor: str | None, original: Any) -> str | None:
                if after_work:
                    original(purge, cursor)
                raise Crash(step_name)

            return [
                (name, (lambda p, c, s=step: crash(p, c, s)) if name == step_name else step)
                for name, step in super().steps()
            ]

    return Crashing


STEP_NAMES = [name for name, _ in Purge.steps(None)]  # type: ignore[arg-type]


@pytest.mark.parametrize("after_work", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("step_name", STEP_NAMES)
def test_a_purge_that_crashes_in_any_step_resumes_to_the_same_end(
    world: dict[str, Any], step_name: str, after_work: bool
) -> None:
    # Given a purge that crashes in this step
    account = build_account(world["people"])
    zed = account["zed"]
    delete_and_expire(account)
    progress = PurgeRepository().get(zed.user_id)
    assert progress is not None
    with pytest.raises(Crash):
        _crashing_at(step_name, after_work)(progress).run()
    # When the message is delivered again
    assert purge_account(zed.user_id)
    # Then the end is the same as without the crash
    assert traces_of(zed.user_id, DELETED) == []
    assert counts(account) == EXPECTED_AFTER_PURGE


def test_a_reactivated_account_is_never_purged(world: dict[str, Any]) -> None:
    zed = caller(world["people"][DELETED])
    stream = privacy_stream()
    logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    logic.reactivate(zed)
    # The reactivation removed the marker: its REMOVE record reaches the consumer too
    deliver(stream.new_records())
    assert PurgeRepository().get(zed.user_id) is None
    assert purge_messages() == []
    assert purge_account(zed.user_id)
    assert users.get_me(zed).username == DELETED
    assert AccountRepository().state(zed.user_id) is not None


def _log_in(username: str) -> int:
    response = auth.handler(
        http_event("POST", "/auth/login", body={"username": username, "password": PASSWORD}), FakeLambdaContext()
    )
    return int(response["statusCode"])


def test_deleting_again_right_after_reactivating_is_not_purged_by_the_reactivations_late_record(
    world: dict[str, Any],
) -> None:
    # Given zed, who deletes the account, logs in (which reactivates it) and at once deletes it again
    zed = caller(world["people"][DELETED])
    stream = privacy_stream()
    logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    assert _log_in(DELETED) == 200
    again = logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    # When the privacy table's records reach the consumer only now: the reactivation's REMOVE of the first
    # marker after the second deletion wrote its own
    records = stream.new_records()
    assert [(r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"]) for r in records] == [
        ("INSERT", "deletion"),
        ("REMOVE", "deletion"),
        ("INSERT", "deletion"),
    ]
    deliver(records)
    # Then nothing is purged: no purge began, none is queued, and the second deletion waits its 30 days
    assert PurgeRepository().get(zed.user_id) is None
    assert purge_messages() == []
    who, purge_after, purging = AccountRepository().state(zed.user_id) or (None, None, None)
    assert (who, purging) == (UserRef(user_id=zed.user_id, username=DELETED), False)
    assert purge_after is not None and to_iso(purge_after) == again.purge_after
    assert again.purge_after.startswith((utc_now() + timedelta(days=30)).date().isoformat())
    marker = PrivacyModel.get(zed.user_id, "deletion", consistent_read=True)
    assert marker.purge_after == purge_after
    # and zed can still come back: a log-in restores everything
    assert _log_in(DELETED) == 200
    assert users.get_me(zed).username == DELETED


def test_an_earlier_deletions_expiry_never_purges_the_account_deleted_again(world: dict[str, Any]) -> None:
    # Given zed deleted, reactivated and deleted again, and the first marker's REMOVE as if its TTL had made it
    zed = caller(world["people"][DELETED])
    stream = privacy_stream()
    first = logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    logic.reactivate(zed)
    second = logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    removal = next(r for r in stream.new_records() if r["eventName"] == "REMOVE")
    assert to_iso(PrivacyModel.purge_after.deserialize(removal["dynamodb"]["OldImage"]["purge_after"]["S"])) == (
        first.purge_after
    )
    expired = DynamoDBStreamRecordModel.model_validate(removal | {"userIdentity": TTL_DELETER})
    # When it is read even after both grace periods ended
    after_both = utc_now() + timedelta(days=61)
    started = logic.marker_removed(expired, now=after_both)
    # Then it starts nothing: the account's deletion is the second one, whose own marker's expiry will come
    assert not started
    assert PurgeRepository().get(zed.user_id) is None
    assert purge_messages() == []
    state = AccountRepository().state(zed.user_id)
    assert state is not None and to_iso(state[1]) == second.purge_after and not state[2]


def test_a_marker_removed_by_its_ttl_once_due_starts_the_purge(world: dict[str, Any]) -> None:
    # Given zed's deletion whose grace period is over
    zed = caller(world["people"][DELETED])
    stream = privacy_stream()
    logic.delete_account(zed, PASSWORD, now=past_grace(), identity=_NoRevoke())
    # When DynamoDB's TTL removes the marker and its record reaches the consumer
    assert ttl_expiry() == 1
    records = stream.new_records()
    assert records[-1]["eventName"] == "REMOVE" and records[-1]["userIdentity"] == TTL_DELETER
    deliver(records)
    # Then the purge began: no way back, and the purge queue has its message
    progress = PurgeRepository().get(zed.user_id)
    assert progress is not None and (progress.user, progress.step) == (
        UserRef(user_id=zed.user_id, username=DELETED),
        "",
    )
    assert purge_messages() == [{"user_id": zed.user_id}]
    state = AccountRepository().state(zed.user_id)
    assert state is not None and state[2]  # purging
    with pytest.raises(NotFound):
        logic.reactivate(zed)
    # and the same record redelivered only queues the purge again
    deliver(records)
    assert purge_messages() == [{"user_id": zed.user_id}]


def test_a_marker_removed_by_anyone_but_its_ttl_never_starts_a_purge(world: dict[str, Any]) -> None:
    # Given zed's deletion whose grace period is over, and its marker deleted by a client (not by DynamoDB's TTL)
    zed = caller(world["people"][DELETED])
    stream = privacy_stream()
    logic.delete_account(zed, PASSWORD, now=past_grace(), identity=_NoRevoke())
    PrivacyModel(zed.user_id, "deletion").delete()
    # When its REMOVE reaches the consumer
    records = stream.new_records()
    assert records[-1]["eventName"] == "REMOVE" and "userIdentity" not in records[-1]
    deliver(records)
    # Then no purge begins
    assert PurgeRepository().get(zed.user_id) is None
    assert purge_messages() == []
    state = AccountRepository().state(zed.user_id)
    assert state is not None and state[1] is not None and not state[2]


def test_no_reactivation_once_the_purge_began(world: dict[str, Any]) -> None:
    account = build_account(world["people"])
    delete_and_expire(account)
    with pytest.raises(NotFound):
        logic.reactivate(account["zed"])


# Export


class _Matching:
    """Equal to any string the pattern matches: a time or an id the test cannot know, in a whole-row comparison."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.pattern.fullmatch(other) is not None

    def __repr__(self) -> str:
        return f"<matching {self.pattern.pattern}>"


AN_ISO_TIME = _Matching(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # API.md's format, nothing else
A_ULID = _Matching(r"[0-9A-HJKMNP-TV-Z]{26}")
INTERNAL_NAMES = re.compile(r"pk|sk|gsi.*|.*shard.*|version|.*_key|.*_keys|expires_at|source|group_key")
TABLE_KEY = re.compile(r"(user|post|conv|sent|token|collection|saved|savedpost|like|comment|follows|n|src|grp)#")


def export_of(user: Caller) -> dict[str, bytes]:
    """What the user downloads: POST /me/export, the queue's run, the zip at GET /me/export's link, by name."""
    logic.request_export(user)
    job = ExportRepository().get(user.user_id)
    assert job is not None and job.requested_at is not None
    assert logic.run_export(ExportRequest(user_id=user.user_id, requested_at=job.requested_at))
    view = logic.export_status(user)
    assert view.status == ExportStatus.READY and view.url and view.expires_at
    key = ExportRepository().get(user.user_id).object_key  # type: ignore[union-attr]
    body = boto3.client("s3").get_object(Bucket=get_settings().uploads_bucket_name, Key=key)["Body"].read()
    archive = zipfile.ZipFile(io.BytesIO(body))
    return {name: archive.read(name) for name in archive.namelist()}


def person(user: Caller) -> dict[str, str]:
    return {"user_id": user.user_id, "username": user.username, "display_name": user.username}


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) of a JSON document, nested ones too."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield path, key, inner
            yield from walk(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from walk(inner, f"{path}[{index}]")


def people_in(document: Any) -> Iterator[dict[str, Any]]:
    """Every person a JSON document names (an object with a user_id and a username), nested ones too."""
    if isinstance(document, dict):
        if {"user_id", "username"} <= document.keys():
            yield document
        for inner in document.values():
            yield from people_in(inner)
    elif isinstance(document, list):
        for inner in document:
            yield from people_in(inner)


EXPORT_FILES = [
    "profile.json",
    "posts.json",
    "comments.json",
    "likes.json",
    "saved.json",
    "profile_visits.json",
    "following.json",
    "followers.json",
    "follow_requests_sent.json",
    "follow_requests_received.json",
    "blocks.json",
    "mutes.json",
    "messages.json",
    "groups.json",
    "notifications.json",
    "devices.json",
    "notification_settings.json",
    "reports.json",
]


def test_an_export_holds_every_kind_of_data_and_the_originals(world: dict[str, Any]) -> None:
    # Given zed's whole life on Pinhole
    account = build_account(world["people"])
    zed, ann, ben = account["zed"], account["ann"], account["ben"]
    mod = caller(world["people"]["mod"])
    # When zed asks for an export and the queue runs it
    parts = export_of(zed)
    # Then the zip holds every file, as documented in docs/PRIVACY.md, and the originals
    assert sorted(name for name in parts if not name.startswith("media/")) == sorted(EXPORT_FILES)
    data = {name: json.loads(parts[name]) for name in EXPORT_FILES}
    stored = ProfileRepository().get_consistent(zed.user_id)
    assert data["profile.json"] == {
        "user_id": zed.user_id,
        "username": DELETED,
        "email": f"{DELETED}@example.com",
        "email_verified": stored.email_verified,
        "mfa_enabled": False,
        "display_name": DELETED,
        "bio": "",
        "is_private": False,
        "follower_count": 1,  # ann (ben's follow of ann is not zed's; zed's request to ben is pending)
        "following_count": 1,
        "post_count": 2,  # the third was removed by a moderator
        "created_at": to_iso(stored.created_at),
        "avatar": {"avatar_id": "a1", "width": 640, "height": 480, "file": f"media/avatars/{zed.user_id}/a1"},
        "avatar_upload": {"avatar_id": "a1", "status": "ready", "reason": None},
        "deactivated_at": None,
        "purge_after": None,
    }
    posts = sorted(data["posts.json"], key=lambda post: post["caption"])
    assert posts == [
        {
            "post_id": post_id,
            "kind": "post",
            "caption": f"#sunset number {n}",
            "tags": ["sunset"],
            "mentions": [],
            "status": "removed" if n == 2 else "published",
            "created_at": to_iso(users_post(post_id).created_at),
            "published_at": AN_ISO_TIME,
            "edited_at": None,
            "media": [
                {
                    "media_id": users_post(post_id).media_order[0],
                    "type": "image",
                    "status": "ready",
                    "file": f"media/posts/{post_id}/{users_post(post_id).media_order[0]}",
                }
            ],
        }
        for n, post_id in enumerate(account["zed_posts"])
    ]
    comment = account["zed_comment"]
    assert data["comments.json"] == [
        {
            "comment_id": comment.comment_id,
            "post_id": account["ann_post"],
            "text": "lovely",
            "removed": False,
            "created_at": AN_ISO_TIME,
        }
    ]
    assert data["likes.json"] == [{"post_id": account["ann_post"], "created_at": AN_ISO_TIME}]
    assert data["saved.json"] == [{"post_id": account["ann_post"], "collection": "trips", "created_at": AN_ISO_TIME}]
    assert data["profile_visits.json"] == [{"user": person(ann), "visited_at": AN_ISO_TIME}]
    assert data["following.json"] == [{"user": person(ann), "created_at": AN_ISO_TIME}]
    assert data["followers.json"] == [{"user": person(ann), "created_at": AN_ISO_TIME}]
    assert data["follow_requests_sent.json"] == [{"user": person(ben), "created_at": AN_ISO_TIME}]
    assert data["follow_requests_received.json"] == []
    assert data["blocks.json"] == [{"user": person(mod), "created_at": AN_ISO_TIME}]
    assert data["mutes.json"] == [{"user": person(ben), "created_at": AN_ISO_TIME}]  # not ben's mute of zed
    direct = "_".join(sorted([zed.user_id, ann.user_id]))
    messages = {message["text"]: message for message in data["messages.json"]}
    in_direct = ["hello ann", "hi zed, here is my number", "call me", "my cat", "my dog"]
    in_by_zed = ["zed.gone created the group", "hi all", "zed here", "zed's view"]
    in_by_zed += ["zed.gone named the group zed's trip", "ben too"]
    in_left = ["ben created the group", "bye", "zed.gone left"]  # up to leaving; nothing of the group removed from
    assert sorted(messages) == sorted([*in_direct, *in_by_zed, *in_left])
    assert messages["hello ann"] == {
        "conversation_id": direct,
        "with_user": person(ann),
        "message_id": A_ULID,
        "sender": person(zed),
        "sent_by_me": True,
        "kind": "text",
        "text": "hello ann",
        "media": None,
        "event": None,
        "removed": False,
        "created_at": AN_ISO_TIME,
    }
    assert messages["call me"] == {
        **messages["hello ann"],
        "message_id": A_ULID,
        "sender": person(ann),
        "sent_by_me": False,
        "text": "call me",
        "created_at": AN_ISO_TIME,
    }
    mine, theirs = messages["my cat"], messages["my dog"]
    assert (mine["kind"], mine["sent_by_me"], theirs["kind"], theirs["sent_by_me"]) == ("media", True, "media", False)
    assert mine["media"] == {
        "media_id": A_ULID,
        "type": "image",
        "file": f"media/messages/{direct}/{mine['message_id']}/{mine['media']['media_id']}",
    }
    assert theirs["media"] == {"media_id": A_ULID, "type": "image", "file": None}  # ann's original is hers
    by_zed, left = account["groups"]["by_zed"], account["groups"]["left"]
    assert messages["zed.gone created the group"] == {
        "conversation_id": by_zed,
        "with_user": None,
        "message_id": A_ULID,
        "sender": person(zed),
        "sent_by_me": True,
        "kind": "system",
        "text": "zed.gone created the group",
        "media": None,
        "event": {"type": "created", "usernames": ["ann", "ben"], "title": "trip"},
        "removed": False,
        "created_at": AN_ISO_TIME,
    }
    assert messages["ben too"]["sender"] == person(ben) and messages["ben too"]["with_user"] is None
    by_id = lambda people: sorted(people, key=lambda someone: someone["user_id"])  # noqa: E731
    assert sorted(data["groups.json"], key=lambda group: group["conversation_id"] != by_zed) == [
        {
            "conversation_id": by_zed,
            "title": "zed's trip",
            "created_at": AN_ISO_TIME,
            "created_by_me": True,
            "members": by_id([person(zed), person(ann), person(ben)]),
            "joined_at_message": A_ULID,
            "left_at_message": None,
        },
        {
            "conversation_id": left,
            "title": None,
            "created_at": AN_ISO_TIME,
            "created_by_me": False,
            "members": by_id([person(ann), person(ben)]),
            "joined_at_message": A_ULID,
            "left_at_message": A_ULID,
        },
    ]
    [device] = push.devices_of(zed)
    assert data["devices.json"] == [{"device_id": device.device_id, "platform": "fcm", "created_at": AN_ISO_TIME}]
    assert data["notification_settings.json"] == {
        "likes": False,
        "comments": True,
        "follows": True,
        "mentions": True,
        "messages": True,
    }
    assert data["reports.json"] == [
        {
            "report_id": A_ULID,
            "target_type": "user",
            "target_id": ben.user_id,
            "target_user": person(ben),
            "reason": "spam",
            "note": "sells pills",
            "status": "open",
            "created_at": AN_ISO_TIME,
        }
    ]
    # and the originals: their posts', their avatar, their photo messages (two); never another's
    assert parts[f"media/avatars/{zed.user_id}/a1"] == b"avatar original"
    for n, post in enumerate(posts):
        assert parts[post["media"][0]["file"]] == f"original photo {n}".encode()
    assert len([name for name in parts if name.startswith("media/messages/")]) == 2
    assert not any(account["ann_post"] in name for name in parts)
    # and a notification says it is ready
    assert "export_ready" in {item.type for item in NotificationModel.query(zed.user_id)}


def test_every_file_of_an_export_is_plain_data_without_table_internals_or_secrets(world: dict[str, Any]) -> None:
    # Given zed's whole life on Pinhole
    account = build_account(world["people"])
    # When zed exports it
    parts = export_of(account["zed"])
    # Then no file holds a key, an index or a version attribute, a key's text, a storage key of S3, a number as a
    # string, a time in another format than API.md's, a file that is not in the zip, or a secret of a phone
    for name in EXPORT_FILES:
        for path, key, value in walk(json.loads(parts[name]), name):
            where = f"{path}.{key}"
            assert not INTERNAL_NAMES.fullmatch(key), where
            if key.endswith("_at"):
                assert value is None or value == AN_ISO_TIME, (where, value)
            if key.endswith("_count"):
                assert isinstance(value, int) and not isinstance(value, bool), (where, value)
            if key == "file" and value is not None:
                assert value in parts, where
            if isinstance(value, str):
                assert not TABLE_KEY.match(value), (where, value)
                assert not re.search(r"\.(jpg|webp|m3u8)$|^(posts|avatars|messages)/", value), (where, value)
                assert value not in (ZED_PHONE,) and not value.startswith("arn:"), where


def test_an_export_holds_the_notifications_the_user_is_shown(world: dict[str, Any]) -> None:
    # Given zed's notifications (a like, a follow, a comment by ann, a moderator's removal), two of them read
    account = build_account(world["people"])
    zed = account["zed"]
    shown, _ = notifications.notifications(zed, 50, None)
    assert [item.type for item in shown] == ["content_removed", "comment", "follow", "like"]
    notifications.mark_read(zed, shown[2].notification_id)
    shown, _ = notifications.notifications(zed, 50, None)
    # When zed exports their data
    exported = json.loads(export_of(zed)["notifications.json"])
    # Then notifications.json has each of them, field by field as GET /notifications shows it
    assert sorted(exported, key=lambda row: row["notification_id"], reverse=True) == [
        {
            "notification_id": item.notification_id,
            "type": item.type.value,
            "actors": [
                {"user_id": actor.user_id, "username": actor.username, "display_name": actor.display_name}
                for actor in item.actors
            ],
            "actor_count": item.actor_count,
            "post_id": item.post_id,
            "comment_id": item.comment_id,
            "reason": item.reason,
            "created_at": item.created_at,
            "read": item.read,
        }
        for item in shown
    ]
    assert [row["read"] for row in sorted(exported, key=lambda row: row["notification_id"])] == [
        True,
        True,
        False,
        False,
    ]
    assert [row["actors"] for row in exported if row["type"] == "content_removed"] == [[]]  # never a moderator


def test_an_export_names_no_one_whose_account_is_being_deleted(world: dict[str, Any]) -> None:
    # Given zed follows ann, who then deletes her account (deactivated: absent to everyone for its grace period)
    account = build_account(world["people"])
    zed, ann = account["zed"], account["ann"]
    logic.delete_account(ann, PASSWORD, identity=_NoRevoke())
    # When zed exports their data
    parts = export_of(zed)
    # Then ann is named by her id alone, wherever she appears
    anonymous = {"user_id": ann.user_id, "username": None, "display_name": None}
    assert json.loads(parts["following.json"]) == [{"user": anonymous, "created_at": AN_ISO_TIME}]
    messages = json.loads(parts["messages.json"])
    assert {row["sender"]["username"] for row in messages if row["sender"]["user_id"] == ann.user_id} == {None}
    named = [found for name in EXPORT_FILES for found in people_in(json.loads(parts[name]))]
    hers = [found for found in named if found["user_id"] == ann.user_id]  # a follow, a visit, messages, groups...
    assert len(hers) > 10 and all(found == anonymous for found in hers)
    assert {found["username"] for found in named} == {DELETED, "ben", "mod", None}


def test_an_export_whose_ready_notification_failed_is_told_on_redelivery_once(world: dict[str, Any]) -> None:
    # Given an export built and marked ready, whose notification then failed (the queue will deliver it again)
    claims = world["people"][DELETED]
    zed = Caller(user_id=claims["sub"], username=claims["username"])
    logic.request_export(zed)
    job = ExportRepository().get(zed.user_id)
    assert job is not None and job.requested_at is not None
    request = ExportRequest(user_id=zed.user_id, requested_at=job.requested_at)

    class Unavailable(NotificationRepository):
        def create(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("the notifications table did not answer")

    with pytest.raises(ConnectionError):
        logic.run_export(request, notifications=Unavailable())
    assert logic.export_status(zed).status == ExportStatus.READY

    # When the message is delivered again, twice
    assert logic.run_export(request) and logic.run_export(request)

    # Then zed is told it is ready, once (it was lost: the redelivery saw `ready` and returned)
    told = [item for item in NotificationModel.query(zed.user_id) if item.type == "export_ready"]
    assert len(told) == 1


def test_a_second_export_the_same_day_is_429(world: dict[str, Any]) -> None:
    claims = world["people"][DELETED]
    first = privacy_handler.handler(
        http_event("POST", "/me/export", claims=claims, route_key="POST /me/export"), FakeLambdaContext()
    )
    second = privacy_handler.handler(
        http_event("POST", "/me/export", claims=claims, route_key="POST /me/export"), FakeLambdaContext()
    )
    assert first["statusCode"] == 202, first
    assert second["statusCode"] == 429, second
    assert "Retry-After" in second["headers"] or "retry-after" in second["headers"]


def test_export_status_before_any_request_is_404(world: dict[str, Any]) -> None:
    claims = world["people"][DELETED]
    response = privacy_handler.handler(
        http_event("GET", "/me/export", claims=claims, route_key="GET /me/export"), FakeLambdaContext()
    )
    assert response["statusCode"] == 404
    assert response_json(response)["error"]["code"] == "not_found"


def test_an_export_keeps_their_own_removed_messages_and_comments_flagged_and_not_others_removed_ones(
    world: dict[str, Any],
) -> None:
    # Given zed's message to ann, ann's to zed and zed's comment on ann's post, all three removed by a moderator
    zed, ann = caller(world["people"][DELETED]), caller(world["people"]["ann"])
    ann_post = publish(world["people"]["ann"], caption="ann's")
    mine = messaging.send(zed, SendMessageRequest(to="ann", text="mine"))
    theirs = messaging.send(ann, SendMessageRequest(to=DELETED, text="theirs"))
    comment = social.add_comment(zed, ann_post, CreateCommentRequest(text="rude"))
    for message in (mine, theirs):
        MessagingModel(conversation_key(message.conversation_id), f"{MESSAGE}{message.message_id}").update(
            actions=[MessagingModel.removed.set(True)]
        )
    InteractionModel(f"post#{ann_post}", f"comment#{comment.comment_id}").update(
        actions=[InteractionModel.removed.set(True)]
    )
    # When zed exports their data
    parts = export_of(zed)
    # Then their own removed message and comment are there, flagged; ann's removed message (hidden from zed) is not
    assert [(m["text"], m["removed"]) for m in json.loads(parts["messages.json"])] == [("mine", True)]
    assert [(c["text"], c["removed"]) for c in json.loads(parts["comments.json"])] == [("rude", True)]
