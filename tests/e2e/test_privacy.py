"""Deleting an account and downloading one's data through the local cloud: HTTP API, the privacy table's stream,
its TTL sweeper, the purge and export queues, S3 and Cognito, as a client and the pumps see them.

The grace period (30 days) is not waited for: the test moves the deletion marker's TTL into the past in the
local cloud's DynamoDB, as time would, and the local TTL sweeper removes it as DynamoDB's TTL does."""

import io
import json
import re
import time
import zipfile
from typing import Any

import boto3
import httpx
import pytest

from tests.e2e.conftest import RunningLocalCloud
from tests.e2e.test_accounts import picture, published_post
from tests.e2e.test_moderation import moderator
from tests.support.api_client import PASSWORD, Member, eventually
from tests.support.traces import item_text

pytestmark = pytest.mark.e2e
PURGE_TIMEOUT_S = 120


def aws(local_cloud: RunningLocalCloud, service: str) -> Any:
    moto_url = re.search(r"moto at (http://\S+)", local_cloud.output())
    assert moto_url, local_cloud.output()
    return boto3.client(service, endpoint_url=moto_url.group(1), region_name="us-east-1")


def table_named(dynamodb: Any, part: str) -> str:
    return next(name for name in dynamodb.list_tables()["TableNames"] if part in name)


def everything(local_cloud: RunningLocalCloud) -> list[tuple[str, str]]:
    """Every item of every table and every object version of every bucket, as text."""
    dynamodb, s3 = aws(local_cloud, "dynamodb"), aws(local_cloud, "s3")
    found = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            found += [(table, item_text(item)) for item in page["Items"]]
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket["Name"]):
            found += [
                (bucket["Name"], version["Key"])
                for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
    return found


def unchanged_by_others(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`everything`, sorted, without what the session's shared cloud changes on its own meanwhile: rate-limit
    counters (a window's counter expires within minutes, and the local cloud's TTL deletes it), and feed entries'
    expiry (a follow of an earlier test puts the followee's posts in the follower's feed again 10 s later, the
    second backfill, which refreshes their expiry and nothing else)."""
    return sorted(
        (table, json.dumps({k: v for k, v in json.loads(text).items() if k != "expires_at"}, sort_keys=True))
        if "Feeds" in table
        else (table, text)
        for table, text in found
        if "RateLimits" not in table
    )


def settled(member: Member, kinds: set[str]) -> None:
    eventually(
        lambda: {n["type"] for n in member.http.get("/notifications").json()["items"]},
        lambda seen: kinds <= seen,
    )


def log_in(local_cloud: RunningLocalCloud, username: str) -> httpx.Response:
    assert local_cloud.http is not None
    return local_cloud.http.post("/auth/login", json={"username": username, "password": PASSWORD})


def test_a_deleted_account_vanishes_and_comes_back_by_logging_in(local_cloud: RunningLocalCloud) -> None:
    assert local_cloud.http is not None
    ann, zed = Member(local_cloud.http), Member(local_cloud.http)
    post = published_post(ann, "first light")
    assert zed.http.post(f"/posts/{post['post_id']}/comments", json={"text": "stunning"}).status_code == 201
    assert zed.http.post(f"/posts/{post['post_id']}/like").status_code == 200
    # When zed deletes the account
    deleted = zed.http.request("DELETE", "/me", json={"password": PASSWORD})
    assert deleted.status_code == 202, deleted.text
    assert deleted.json()["purge_after"] > time.strftime("%Y-%m-%dT", time.gmtime())
    # Then zed is gone for ann: profile, comment, like
    assert ann.http.get(f"/users/{zed.username}").status_code == 404
    comments = ann.http.get(f"/posts/{post['post_id']}/comments").json()["items"]
    assert comments == []
    assert ann.http.get(f"/posts/{post['post_id']}/likes").json()["items"] == []
    # and asked again with the same access token, the same date comes back
    again = zed.http.request("DELETE", "/me", json={"password": PASSWORD})
    assert (again.status_code, again.json()) == (202, deleted.json())
    # and zed's sessions are over (refresh token revoked)
    # When zed logs in within the grace period
    assert log_in(local_cloud, zed.username).status_code == 200
    # Then everything is back
    assert ann.http.get(f"/users/{zed.username}").status_code == 200
    assert [c["text"] for c in ann.http.get(f"/posts/{post['post_id']}/comments").json()["items"]] == ["stunning"]
    assert [u["username"] for u in ann.http.get(f"/posts/{post['post_id']}/likes").json()["items"]] == [zed.username]


def test_after_the_grace_period_the_purge_leaves_nothing_and_a_redelivery_changes_nothing(
    local_cloud: RunningLocalCloud,
) -> None:
    assert local_cloud.http is not None
    ann, zed = Member(local_cloud.http), Member(local_cloud.http)
    ann_post = published_post(ann, "harbour")
    zed_post = published_post(zed, "zed's #privacytest")
    assert zed.http.post(f"/posts/{ann_post['post_id']}/comments", json={"text": "wow"}).status_code == 201
    assert zed.http.post(f"/posts/{ann_post['post_id']}/like").status_code == 200
    assert zed.http.post(f"/users/{ann.username}/follow").status_code == 200
    assert ann.http.post(f"/users/{zed.username}/follow").status_code == 200
    assert ann.http.post(f"/posts/{zed_post['post_id']}/like").status_code == 200
    assert zed.http.post("/messages", json={"to": ann.username, "text": "from zed"}).status_code == 201
    assert ann.http.post("/messages", json={"to": zed.username, "text": "from ann"}).status_code == 201
    # a group zed created, with zed's message and ann's
    ben = Member(local_cloud.http)
    created = zed.http.post("/conversations", json={"members": [ann.username, ben.username], "title": "zed's"})
    assert created.status_code == 201, created.text
    group = created.json()["conversation_id"]
    for member, text in ((zed, "zed in the group"), (ann, "ann in the group")):
        sent = member.http.post("/messages", json={"conversation_id": group, "text": text})
        assert sent.status_code == 201, sent.text
    # reports by and about zed, and a moderator's decision on zed's post
    about_zed = {"target_type": "post", "target_id": zed_post["post_id"], "reason": "spam", "note": f"{zed.username}!"}
    assert ann.http.post("/reports", json=about_zed).status_code == 202
    by_zed = {"target_type": "post", "target_id": ann_post["post_id"], "reason": "other", "note": "not spam really"}
    assert zed.http.post("/reports", json=by_zed).status_code == 202
    mod = moderator(local_cloud)
    case = next(c for c in mod.http.get("/moderation/queue").json()["items"] if c["target_id"] == zed_post["post_id"])
    dismissed = mod.http.post(
        f"/moderation/cases/{case['case_id']}/actions", json={"action": "dismiss", "note": f"{zed.username} is fine"}
    )
    assert dismissed.status_code == 200, dismissed.text
    # The grace period is 30 days: long before it ends, the notifications these actions cause have been written
    settled(ann, {"comment", "like", "follow"})
    settled(zed, {"like", "follow"})
    assert zed.http.request("DELETE", "/me", json={"password": PASSWORD}).status_code == 202
    # When the grace period ends: the deletion's purge_after passes (on the marker and the profile alike, as 30 days
    # would make it), and so does the marker's TTL
    dynamodb = aws(local_cloud, "dynamodb")
    past = time.time() - 1
    purge_after = {"S": time.strftime("%Y-%m-%dT%H:%M:%S.000000+0000", time.gmtime(past))}
    dynamodb.update_item(
        TableName=table_named(dynamodb, "UsersTable"),
        Key={"user_id": {"S": zed.user_id}},
        UpdateExpression="SET purge_after = :purge_after",
        ExpressionAttributeValues={":purge_after": purge_after},
    )
    dynamodb.update_item(
        TableName=table_named(dynamodb, "Privacy"),
        Key={"user_id": {"S": zed.user_id}, "sk": {"S": "deletion"}},
        UpdateExpression="SET expires_at = :past, purge_after = :purge_after",
        ExpressionAttributeValues={":past": {"N": str(int(past))}, ":purge_after": purge_after},
    )
    # Then the purge removes every item and object that names zed, Cognito's user last
    eventually(
        lambda: [entry for entry in everything(local_cloud) if zed.user_id in entry[1] or zed.username in entry[1]],
        lambda traces: traces == [],
        timeout_s=PURGE_TIMEOUT_S,
    )
    assert log_in(local_cloud, zed.username).status_code == 401
    # and ann's counts are exact
    me = ann.http.get("/me").json()
    assert (me["follower_count"], me["following_count"], me["post_count"]) == (0, 0, 1)
    post = ann.http.get(f"/posts/{ann_post['post_id']}").json()
    assert (post["like_count"], post["comment_count"]) == (0, 0)
    # and ann keeps her side of the conversation, without zed's message
    conversations = [c for c in ann.http.get("/conversations").json()["items"] if c["kind"] == "direct"]
    assert [c["with"]["display_name"] for c in conversations] == ["Deleted account"]
    messages = ann.http.get(f"/conversations/{conversations[0]['conversation_id']}/messages").json()["items"]
    assert [m["text"] for m in messages] == ["from ann"]
    # and ann and ben keep the group, without zed, zed's message or the creation message naming zed
    [kept] = [c for c in ann.http.get("/conversations").json()["items"] if c["conversation_id"] == group]
    assert sorted(m["username"] for m in kept["members"]) == sorted([ann.username, ben.username])
    history = ann.http.get(f"/conversations/{group}/messages").json()["items"]
    assert [m["text"] for m in history] == ["ann in the group"]
    assert ben.http.get("/conversations").json()["items"][0]["unread_count"] == 1
    # and the moderation audit keeps the decision, its note about zed dropped, its moderator named
    log = mod.http.get("/moderation/log").json()["items"]
    decision = next(entry for entry in log if entry["case_id"] == case["case_id"])
    assert (decision["action"], decision["note"], decision["moderator"]["username"]) == (
        "dismiss",
        "(removed with a deleted account)",
        mod.username,
    )
    # When the purge message is delivered again
    before = unchanged_by_others(everything(local_cloud))
    sqs = aws(local_cloud, "sqs")
    queue = next(url for url in sqs.list_queues()["QueueUrls"] if "PurgeQueue" in url)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"user_id": zed.user_id}))
    eventually(
        lambda: sqs.get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"],
        lambda attributes: (
            attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
        ),
    )
    # Then nothing changed
    assert unchanged_by_others(everything(local_cloud)) == before


def test_an_export_is_a_zip_of_my_data_and_originals(local_cloud: RunningLocalCloud) -> None:
    assert local_cloud.http is not None
    zed = Member(local_cloud.http)
    post = published_post(zed, "my #export")
    original = picture("JPEG")  # what published_post uploaded
    assert zed.http.post("/me/export").status_code == 202
    assert zed.http.post("/me/export").status_code == 429  # once a day
    ready = eventually(lambda: zed.http.get("/me/export").json(), lambda view: view["status"] == "ready", 60)
    assert ready["expires_at"] > ready["requested_at"]
    archive = zipfile.ZipFile(io.BytesIO(httpx.get(ready["url"], timeout=30).content))
    posts = json.loads(archive.read("posts.json"))
    assert [(p["post_id"], p["caption"]) for p in posts] == [(post["post_id"], "my #export")]
    assert json.loads(archive.read("profile.json"))["email"] == f"{zed.username}@example.com"
    media = [name for name in archive.namelist() if name.startswith(f"media/posts/{post['post_id']}/")]
    assert [archive.read(name) for name in media] == [original]
    notifications = zed.http.get("/notifications").json()["items"]
    assert "export_ready" in [n["type"] for n in notifications]
