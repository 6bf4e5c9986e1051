"""Deleting an account (deactivate, reactivate, purge with crashes and redeliveries) and exporting one's data,
handler → logic → PynamoDB on moto. The stream consumers do not run here (tests/e2e/test_privacy.py has the
whole pipeline): the purge is driven directly, and the audit scans every table and bucket of the account."""

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import jwt
import pytest
from PIL import Image

from functions.auth import handler as auth
from functions.privacy import handler as privacy_handler
from functions.users import handler as users_handler
from pinhole.feed.ranking import Candidate, RankedPost, ScoreParts
from pinhole.feed.ranking_dal import AffinityStore, SnapshotStore, Standings
from pinhole.graph import logic as graph
from pinhole.messaging import logic as messaging
from pinhole.messaging.media import MessageUploadKey
from pinhole.messaging.models import CreateConversationRequest, SendMessageRequest
from pinhole.moderation import logic as moderation
from pinhole.moderation.dal import ModerationRepository
from pinhole.moderation.models import Action, ActionRequest, Reason, ReportRequest, TargetType, case_id_of
from pinhole.notifications.dal import NotificationModel, NotificationRepository
from pinhole.notifications.models import NotificationRecord, NotificationType
from pinhole.posts.models import MediaDeclaration
from pinhole.privacy import logic
from pinhole.privacy.dal import AccountRepository, ExportRepository, PrivacyModel, PurgeRepository
from pinhole.privacy.models import ExportRequest, ExportStatus
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
from pinhole.social.dal import InteractionRepository
from pinhole.social.models import CreateCommentRequest
from pinhole.users import logic as users
from pinhole.users.dal import ProfileRepository
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.posts import publish
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
    social.add_comment(zed, ann_post, CreateCommentRequest(text="lovely"))
    social.add_comment(ben, ann_post, CreateCommentRequest(text="agreed"))
    social.add_comment(ann, zed_posts[1], CreateCommentRequest(text="nice one"))
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
    s3.put_object(Bucket=settings.uploads_bucket_name, Key=f"posts/{zed_posts[0]}/m1", Body=b"original photo")
    s3.put_object(Bucket=settings.uploads_bucket_name, Key=f"avatars/{zed.user_id}/a1", Body=b"avatar original")
    s3.put_object(Bucket=settings.media_bucket_name, Key=f"avatars/{zed.user_id}/a1/small.jpg", Body=b"r")
    s3.put_object(Bucket=settings.uploads_bucket_name, Key=f"posts/{ann_post}/m1", Body=b"ann's photo")
    # Notifications as delivery stores them (the stream consumers do not run here): each one's like of the other's post
    for recipient, actor, post_id in ((ann, zed, ann_post), (zed, ann, zed_posts[0])):
        like = NotificationRecord(
            notification_id=new_id(),
            user_id=recipient.user_id,
            type=NotificationType.LIKE,
            actor_id=actor.user_id,
            post_id=post_id,
            created_at=to_iso(utc_now()),
        )
        assert NotificationRepository().create(like, f"post#{post_id}/like#{actor.user_id}") is not None
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
    account["cases"] = build_moderation(account, caller(people["mod"], MODERATORS_GROUP))
    return account


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


def delete_and_expire(account: dict[str, Any]) -> None:
    """DELETE /me, then the grace period ends: the marker's TTL removal starts the purge."""
    zed = account["zed"]
    logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    assert logic.deletion_due(zed.user_id, zed.username)


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
    logic.delete_account(zed, PASSWORD, identity=_NoRevoke())
    logic.reactivate(zed)
    # The reactivation removed the marker: its REMOVE record reaches the consumer too
    assert not logic.deletion_due(zed.user_id, DELETED)
    assert purge_account(zed.user_id)
    assert users.get_me(zed).username == DELETED
    assert AccountRepository().state(zed.user_id) is not None


def test_no_reactivation_once_the_purge_began(world: dict[str, Any]) -> None:
    account = build_account(world["people"])
    delete_and_expire(account)
    with pytest.raises(NotFound):
        logic.reactivate(account["zed"])


# Export


def test_an_export_holds_every_kind_of_data_and_the_originals(world: dict[str, Any]) -> None:
    account = build_account(world["people"])
    zed = account["zed"]
    # When zed asks for an export and the queue runs it
    started = logic.request_export(zed)
    assert started.status == ExportStatus.PENDING
    job = ExportRepository().get(zed.user_id)
    assert job is not None and job.requested_at is not None
    assert logic.run_export(ExportRequest(user_id=zed.user_id, requested_at=job.requested_at))
    # Then GET /me/export has a link to a zip with every part
    view = logic.export_status(zed)
    assert view.status == ExportStatus.READY and view.url and view.expires_at
    key = ExportRepository().get(zed.user_id).object_key  # type: ignore[union-attr]
    body = boto3.client("s3").get_object(Bucket=get_settings().uploads_bucket_name, Key=key)["Body"].read()
    archive = zipfile.ZipFile(io.BytesIO(body))
    parts = {name: archive.read(name) for name in archive.namelist()}
    data = {name: json.loads(content) for name, content in parts.items() if name.endswith(".json")}
    assert data["profile.json"]["username"] == DELETED and "email" in data["profile.json"]
    assert sorted(post["caption"] for post in data["posts.json"]) == [f"#sunset number {n}" for n in range(3)]
    assert [c["text"] for c in data["comments.json"]] == ["lovely"]
    assert [like["post_id"] for like in data["likes.json"]] == [account["ann_post"]]
    assert any(item.get("collection") == "trips" for item in data["saved.json"])
    assert [visit["user_id"] for visit in data["profile_visits.json"]] == [account["ann"].user_id]
    assert not any(item["sk"].startswith("visit#") for item in data["saved.json"])
    assert [edge["target_id"] for edge in data["following.json"]] == [account["ann"].user_id]
    assert [edge["source_id"] for edge in data["followers.json"]] == [account["ann"].user_id]
    assert [edge["target_id"] for edge in data["mutes.json"]] == [account["ben"].user_id]
    direct = ["hello ann", "hi zed, here is my number", "call me", "my cat", "my dog"]
    in_by_zed = ["zed.gone created the group", "hi all", "zed here", "zed's view"]
    in_by_zed += ["zed.gone named the group zed's trip", "ben too"]
    in_left = ["ben created the group", "bye", "zed.gone left"]  # up to leaving; nothing of the group removed from
    assert sorted(m["text"] for m in data["messages.json"]) == sorted([*direct, *in_by_zed, *in_left])
    photos = [m for m in data["messages.json"] if m["kind"] == "media"]
    assert sorted((m["text"], m["sent_by_me"], m["media"]["type"]) for m in photos) == [
        ("my cat", True, "image"),
        ("my dog", False, "image"),
        ("zed's view", True, "image"),
    ]
    groups = {g["conversation_id"]: g for g in data["groups.json"]}
    assert sorted(groups) == sorted([account["groups"]["by_zed"], account["groups"]["left"]])
    assert groups[account["groups"]["by_zed"]]["title"] == "zed's trip"
    assert groups[account["groups"]["by_zed"]]["created_by_me"] is True
    assert groups[account["groups"]["left"]]["left_at_message"] is not None
    assert [(d["platform"], sorted(d)) for d in data["devices.json"]] == [
        ("fcm", ["created_at", "device_id", "platform"])  # never the token or the SNS endpoint
    ]
    assert ZED_PHONE not in json.dumps(data) and "arn:aws:sns" not in json.dumps(data)
    assert json.loads(parts["notification_settings.json"])["likes"] is False
    assert [(r["reason"], r["note"]) for r in data["reports.json"]] == [("spam", "sells pills")]
    media_originals = [name for name in parts if name.startswith("media/messages/")]
    assert len(media_originals) == 2  # zed's two photo messages; ann's photo is hers
    assert [(n["type"], n["actor_id"]) for n in data["notifications.json"]] == [("like", account["ann"].user_id)]
    assert parts[f"media/posts/{account['zed_posts'][0]}/m1"] == b"original photo"
    assert parts[f"media/avatars/{zed.user_id}/a1"] == b"avatar original"
    assert not any(account["ann_post"] in name for name in parts)  # ann's photo is not zed's
    # and a notification says it is ready
    items, _ = NotificationModel.query(zed.user_id), None
    assert "export_ready" in {item.type for item in items}


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
