"""Notifications on moto, the whole way: HTTP writes of the other contexts → the tables' streams →
`on_activity` → the FIFO queue → `deliver` → the notifications table and a live push → GET
/notifications. Lambda's part (event source mappings, partial batch failures, redrive) is played by
the `Pipeline` below; the WebSocket management API (which moto lacks) by a fake that keeps frames."""

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from functions.notifications import consumers
from functions.notifications import handler as notifications
from functions.social import handler as social
from functions.upload import handler as upload
from functions.users import consumers as users_consumers
from functions.users import handler as users
from local.pumps.sqs import sqs_record
from pinhole.graph.dal import EdgeModel, user_key
from pinhole.notifications import dal as notifications_dal
from pinhole.notifications.delivery import notify_moderation
from pinhole.notifications.intent_queue import IntentQueue
from pinhole.notifications.models import IntentAction, NotificationIntent, NotificationType
from pinhole.posts.dal import PostModel, PostRepository
from pinhole.posts.logic import reinstate, take_down
from pinhole.realtime.dal import ConnectionModel, ConnectionRepository
from pinhole.realtime.push import Pusher
from pinhole.shared.clock import to_iso
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import CONFLICT_ATTEMPTS
from pinhole.users.dal import ProfileRepository
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.posts import publish
from tests.support.realtime import FakeConnectionsApi
from tests.support.streams import StreamTap, routed_event
from tests.support.users import sign_up_claims

MAX_RECEIVES = 2  # the deployed queue gives up after 5; fewer rounds here


class Pipeline:
    """What Lambda runs after the writes: new stream records, routed, into `on_activity`, then the FIFO queue
    into `deliver` until it is empty, honouring reported failures as the SQS event source does."""

    def __init__(self, queue_url: str) -> None:
        settings = get_settings()
        self.tap = StreamTap([settings.interactions_table_name, settings.graph_table_name, settings.posts_table_name])
        self.sqs = boto3.client("sqs")
        self.queue_url = queue_url
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.failed_message_ids: list[str] = []

    def stream_batch(self) -> dict[str, Any]:
        return {"Records": self.tap.new_records()}

    def flush(self) -> None:
        batch = self.stream_batch()
        if batch["Records"]:
            assert consumers.on_activity(routed_event(batch["Records"]), FakeLambdaContext()) == {
                "batchItemFailures": []
            }
        self.drain()

    def drain(self, max_rounds: int = 20) -> None:
        for _ in range(max_rounds):
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return
            records = [sqs_record(message, self.queue_arn) for message in messages]
            try:
                response = consumers.deliver({"Records": records}, FakeLambdaContext())
                failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
            except BatchProcessingError:  # every message failed: Lambda returns them all to the queue
                failed = {record["messageId"] for record in records}
            self.failed_message_ids.extend(sorted(failed))
            done = [record for record in records if record["messageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(done)],
                )
        raise AssertionError(f"the queue did not drain in {max_rounds} rounds")


@pytest.fixture
def queues(aws: dict[str, str]) -> dict[str, str]:
    """The FIFO queue and its dead-letter queue, as the stateful stack makes them (failed messages come
    back at once here, and give up sooner)."""
    sqs = boto3.client("sqs")
    dead_letters = sqs.create_queue(QueueName="pinhole-notifications-dlq.fifo", Attributes={"FifoQueue": "true"})
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dead_letters["QueueUrl"], AttributeNames=["QueueArn"])
    queue = sqs.create_queue(
        QueueName=get_settings().notifications_queue_url.rsplit("/", 1)[1],
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": MAX_RECEIVES}
            ),
        },
    )
    assert queue["QueueUrl"] == get_settings().notifications_queue_url
    if not ConnectionModel.exists():  # the shared `aws` fixture may come to create it
        ConnectionModel.create_table(wait=True)
    return {"queue": queue["QueueUrl"], "dead_letters": dead_letters["QueueUrl"]}


@pytest.fixture
def api(queues: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> FakeConnectionsApi:
    fake = FakeConnectionsApi()
    monkeypatch.setattr(consumers.notifier, "pusher", Pusher(client=fake))
    return fake


@pytest.fixture
def pipeline(queues: dict[str, str], api: FakeConnectionsApi) -> Pipeline:
    return Pipeline(queues["queue"])


@pytest.fixture
def people(aws: dict[str, str]) -> dict[str, dict[str, str]]:
    people = {name: sign_up_claims(name) for name in ("alice", "bob", "carol")}
    for name, claims in people.items():
        ConnectionRepository().add(claims["sub"], f"{name}-phone")
    return people


def call(
    handler: Any,
    method: str,
    path: str,
    claims: dict[str, str],
    route: str,
    params: dict[str, str] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    event = http_event(method, path, claims=claims, body=body, route_key=f"{method} {route}", path_parameters=params)
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    response = handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def on_post(method: str, post_id: str, claims: dict[str, str], what: str, body: Any = None) -> Any:
    status, answer = call(
        social.handler,
        method,
        f"/posts/{post_id}/{what}",
        claims,
        f"/posts/{{post_id}}/{what}",
        {"post_id": post_id},
        body,
    )
    assert status in (200, 201, 204), answer
    return answer


def delete_comment(post_id: str, comment_id: str, claims: dict[str, str]) -> None:
    status, answer = call(
        social.handler,
        "DELETE",
        f"/posts/{post_id}/comments/{comment_id}",
        claims,
        "/posts/{post_id}/comments/{comment_id}",
        {"post_id": post_id, "comment_id": comment_id},
    )
    assert status == 204, answer


def follow(claims: dict[str, str], username: str, method: str = "POST") -> None:
    status, answer = call(
        users.handler, method, f"/users/{username}/follow", claims, "/users/{username}/follow", {"username": username}
    )
    assert status in (200, 204), answer


def decide(claims: dict[str, str], username: str, approve: bool) -> None:
    status, answer = call(
        users.handler,
        "POST",
        f"/me/follow-requests/{username}",
        claims,
        "/me/follow-requests/{username}",
        {"username": username},
        body={"approve": approve},
    )
    assert status == 204, answer


def make_private(claims: dict[str, str]) -> None:
    status, _ = call(users.handler, "PATCH", "/me", claims, "/me", body={"is_private": True})
    assert status == 200


def listed(claims: dict[str, str], **query: str) -> dict[str, Any]:
    status, page = call(notifications.handler, "GET", "/notifications", claims, "/notifications", query=query or None)
    assert status == 200, page
    return dict(page)


def items(claims: dict[str, str]) -> list[dict[str, Any]]:
    return list(listed(claims, limit="50")["items"])


def badge(claims: dict[str, str]) -> int:
    status, answer = call(
        notifications.handler, "GET", "/notifications/unread-count", claims, "/notifications/unread-count"
    )
    assert status == 200, answer
    return int(answer["count"])


def summary(items: list[dict[str, Any]]) -> list[tuple[str, str, str | None, str | None]]:
    return [(n["type"], n["actor"]["username"], n["post_id"], n["comment_id"]) for n in items]


def mark_read(claims: dict[str, str], body: Any = None) -> tuple[int, Any]:
    return call(notifications.handler, "POST", "/notifications/read", claims, "/notifications/read", body=body)


def block(blocker: dict[str, str], blocked: dict[str, str]) -> None:
    """The block edge as the graph keeps it (the block route is not what is under test here)."""
    EdgeModel(
        pk=user_key(blocker["sub"]),
        sk=f"blocks#{blocked['sub']}",
        gsi1pk=f"blockedby#{blocked['sub']}",
        gsi1sk="01JBLOCK000000000000000000",
        source_id=blocker["sub"],
        target_id=blocked["sub"],
        created_at="2026-11-22T10:00:00.000Z",
    ).save()


# Likes


def test_like_is_listed_and_pushed_and_unlike_takes_it_back(
    people: dict[str, dict[str, str]], pipeline: Pipeline, api: FakeConnectionsApi
) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)

    on_post("POST", post_id, bob, "like")
    pipeline.flush()

    [notification] = items(alice)
    assert summary([notification]) == [("like", "bob", post_id, None)]
    assert notification["read"] is False
    assert notification["actor"] == {
        "user_id": bob["sub"],
        "username": "bob",
        "display_name": "bob",
        "avatar_url": None,
        "avatar": None,
    }
    assert api.frames == {"alice-phone": [{"type": "notification", "notification": notification, "replaces": None}]}

    on_post("DELETE", post_id, bob, "like")
    pipeline.flush()

    assert items(alice) == []


def test_the_list_leaves_out_deleted_posts_and_people_blocked_since(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    kept, deleted = publish(alice), publish(alice)
    for post_id in (kept, deleted):
        on_post("POST", post_id, bob, "like")
    on_post("POST", kept, carol, "like")
    pipeline.flush()
    grouped = {n["post_id"]: (n["actor_count"], {a["username"] for a in n["actors"]}) for n in items(alice)}
    assert grouped == {kept: (2, {"bob", "carol"}), deleted: (1, {"bob"})}  # likes on one post: one notification
    assert badge(alice) == 2

    assert (
        call(upload.handler, "DELETE", f"/posts/{deleted}", alice, "/posts/{post_id}", {"post_id": deleted})[0] == 204
    )
    block(alice, carol)

    assert summary(items(alice)) == [("like", "bob", kept, None)]
    assert badge(alice) == 1  # the badge counts what the list shows, not what it leaves out
    block(alice, bob)
    assert (items(alice), badge(alice)) == ([], 0)


def test_a_moderation_notice_about_a_post_its_author_deleted_since_goes_from_the_list_and_the_badge(
    people: dict[str, dict[str, str]],
) -> None:
    # Given a post of alice's a moderator removed, and another removed then restored, each told to her
    alice = people["alice"]
    removed, restored = publish(alice), publish(alice)
    posts = PostRepository()
    for post_id in (removed, restored):
        assert take_down(posts.get(post_id), posts)
        notice = (alice["sub"], NotificationType.CONTENT_REMOVED, post_id, "spam", f"moderation#{post_id}")
        assert notify_moderation(*notice)
    assert reinstate(posts.get(restored), posts)
    assert notify_moderation(alice["sub"], NotificationType.CONTENT_RESTORED, restored, "ok", "moderation#again")
    assert badge(alice) == 3

    # When she deletes the removed one
    deleted = call(upload.handler, "DELETE", f"/posts/{removed}", alice, "/posts/{post_id}", {"post_id": removed})
    assert deleted[0] == 204

    # Then the notice about it goes, listed and counted alike; those about the post still there stay
    assert [(n["type"], n["post_id"]) for n in items(alice)] == [
        ("content_restored", restored),
        ("content_removed", restored),
    ]
    assert badge(alice) == 2
    # And once the restored one is deleted too, nothing points at a post that is no more
    assert (
        call(upload.handler, "DELETE", f"/posts/{restored}", alice, "/posts/{post_id}", {"post_id": restored})[0] == 204
    )
    assert (items(alice), badge(alice)) == ([], 0)


def test_the_frame_of_a_grouped_like_shows_the_actors_the_list_shows(
    people: dict[str, dict[str, str]], pipeline: Pipeline, api: FakeConnectionsApi
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    on_post("POST", post_id, bob, "like")
    pipeline.flush()
    block(alice, bob)  # after bob's like

    on_post("POST", post_id, carol, "like")
    pipeline.flush()

    [listed] = items(alice)
    assert ([a["username"] for a in listed["actors"]], listed["actor_count"]) == (["carol"], 1)
    assert api.frames["alice-phone"][-1]["notification"] == listed  # bob left out of the frame, too


def test_a_groups_actor_count_counts_only_the_people_its_reader_may_see(
    people: dict[str, dict[str, str]], pipeline: Pipeline, api: FakeConnectionsApi
) -> None:
    # Given bob, carol and dan's likes of alice's post: one notification of three
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    dan = sign_up_claims("dan")
    post_id = publish(alice)
    for liker in (bob, carol, dan):
        on_post("POST", post_id, liker, "like")
    pipeline.flush()
    [grouped] = items(alice)
    assert ([a["username"] for a in grouped["actors"]], grouped["actor_count"]) == (["dan", "carol", "bob"], 3)

    # When alice blocks bob, and a moderator suspends dan
    block(alice, bob)
    assert ProfileRepository().set_suspended(dan["sub"], True)

    # Then the notification is carol's alone: no "carol and 2 others" for two people alice may not see
    [grouped] = items(alice)
    assert ([a["username"] for a in grouped["actors"]], grouped["actor_count"]) == (["carol"], 1)

    # And when erin likes it too, the frame counts as the list does
    erin = sign_up_claims("erin")
    on_post("POST", post_id, erin, "like")
    pipeline.flush()
    [grouped] = items(alice)
    assert ([a["username"] for a in grouped["actors"]], grouped["actor_count"]) == (["erin", "carol"], 2)
    assert api.frames["alice-phone"][-1]["notification"] == grouped


def test_a_group_of_more_actors_than_it_keeps_counts_the_hidden_ones_it_still_names(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    # Given twelve likes of alice's post: the group keeps the latest ten likers' ids and counts twelve
    alice = people["alice"]
    likers = [sign_up_claims(f"liker{n:02d}") for n in range(12)]
    post_id = publish(alice)
    for liker in likers:
        on_post("POST", post_id, liker, "like")
    pipeline.flush()
    assert items(alice)[0]["actor_count"] == 12

    # When alice blocks the latest three and the earliest one (whose id the group no longer keeps)
    for liker in (*likers[-3:], likers[0]):
        block(alice, liker)

    # Then the three kept ones are taken off the count and shown no more; the earliest is still counted
    [grouped] = items(alice)
    assert [a["username"] for a in grouped["actors"]] == ["liker08", "liker07", "liker06"]
    assert grouped["actor_count"] == 9


def test_a_last_page_exactly_full_says_the_list_ends(people: dict[str, dict[str, str]], pipeline: Pipeline) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    follow(bob, "alice")
    follow(carol, "alice")
    pipeline.flush()

    first = listed(alice, limit="1")
    last = listed(alice, limit="1", cursor=first["next_cursor"])

    assert (len(first["items"]), len(last["items"]), last["next_cursor"]) == (1, 1, None)  # no empty page to read
    assert listed(alice, limit="2")["next_cursor"] is None


def test_the_badge_counts_what_the_list_shows_unread(people: dict[str, dict[str, str]], pipeline: Pipeline) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    # Given bob mentioned in two of alice's posts, and followed by carol
    first = publish(alice, caption="hi @bob")
    second = publish(alice, caption="again @bob")
    pipeline.flush()
    follow(carol, "bob")
    pipeline.flush()
    assert [n["type"] for n in items(bob)] == ["follow", "mention", "mention"] and badge(bob) == 3
    # When he reads up to the first mention, and alice deletes the second post
    oldest = items(bob)[-1]["notification_id"]
    assert mark_read(bob, {"up_to": oldest})[0] == 204
    assert badge(bob) == 2
    assert call(upload.handler, "DELETE", f"/posts/{second}", alice, "/posts/{post_id}", {"post_id": second})[0] == 204
    # Then the badge counts carol's follow only: the mention read stays read, the deleted post's is not shown
    shown = items(bob)
    assert [(n["type"], n["read"]) for n in shown] == [("follow", False), ("mention", True)]
    assert shown[1]["post_id"] == first
    assert badge(bob) == sum(not n["read"] for n in shown) == 1
    # And reading everything leaves nothing
    assert mark_read(bob)[0] == 204
    assert badge(bob) == 0


def test_a_mention_in_a_post_its_reader_may_no_longer_open_is_not_shown(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    # Given bob mentioned in alice's post, and followed by carol (public both)
    publish(alice := people["alice"], caption="hi @bob")
    pipeline.flush()
    bob = people["bob"]
    follow(people["carol"], "bob")
    pipeline.flush()
    assert [n["type"] for n in items(bob)] == ["follow", "mention"] and badge(bob) == 2

    # When alice makes her account private (bob does not follow her: her post is 404 to him)
    make_private(alice)

    # Then the mention is neither listed nor counted, as a deleted post's is not; carol's follow stays
    assert [n["type"] for n in items(bob)] == ["follow"] and badge(bob) == 1
    # And once bob follows her (approved), her post opens again and so does the mention
    follow(bob, "alice")
    decide(alice, "bob", approve=True)
    pipeline.flush()
    assert "mention" in [n["type"] for n in items(bob)]
    assert badge(bob) == sum(not n["read"] for n in items(bob))


def test_a_like_undone_at_once_leaves_no_notification(people: dict[str, dict[str, str]], pipeline: Pipeline) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)

    on_post("POST", post_id, bob, "like")
    on_post("DELETE", post_id, bob, "like")
    pipeline.flush()  # both in one stream batch, one message group: the undoing comes second

    assert items(alice) == []


def test_acting_on_your_own_content_notifies_nobody(
    people: dict[str, dict[str, str]], pipeline: Pipeline, api: FakeConnectionsApi
) -> None:
    alice = people["alice"]
    post_id = publish(alice, caption="me, @alice")

    on_post("POST", post_id, alice, "like")
    on_post("POST", post_id, alice, "comments", body={"text": "Me again, @alice"})
    pipeline.flush()

    assert items(alice) == []
    assert api.frames == {}


def test_nothing_passes_between_users_who_block_each_other(
    people: dict[str, dict[str, str]], pipeline: Pipeline, api: FakeConnectionsApi
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    on_post("POST", post_id, bob, "like")
    on_post("POST", post_id, carol, "like")
    block(alice, bob)

    pipeline.flush()

    assert summary(items(alice)) == [("like", "carol", post_id, None)]
    assert [frame["notification"]["actor"]["username"] for frame in api.frames["alice-phone"]] == ["carol"]


# Comments and mentions


def test_comment_notifies_the_author_and_the_people_it_mentions_until_deleted(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)

    comment = on_post("POST", post_id, bob, "comments", body={"text": "Look @carol, @alice and @nobody_here"})
    pipeline.flush()

    assert summary(items(alice)) == [("comment", "bob", post_id, comment["comment_id"])]  # no mention on top
    assert summary(items(carol)) == [("mention", "bob", post_id, comment["comment_id"])]

    delete_comment(post_id, comment["comment_id"], bob)
    pipeline.flush()

    assert items(alice) == [] and items(carol) == []


def test_a_deleted_comment_leaves_its_author_notified_of_another_comment_still_there(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    first = on_post("POST", post_id, bob, "comments", body={"text": "first"})
    on_post("POST", post_id, bob, "comments", body={"text": "second"})
    on_post("POST", post_id, carol, "comments", body={"text": "me too"})
    pipeline.flush()
    [grouped] = items(alice)
    assert (grouped["actor_count"], [a["username"] for a in grouped["actors"]]) == (2, ["carol", "bob"])

    delete_comment(post_id, first["comment_id"], bob)
    pipeline.flush()

    # bob still has a comment there: still one of the group's actors, counted once
    [grouped] = items(alice)
    assert (grouped["actor_count"], [a["username"] for a in grouped["actors"]]) == (2, ["carol", "bob"])
    assert badge(alice) == 1


def grouped_comment(claims: dict[str, str]) -> tuple[list[str], int, str | None, str]:
    """The one comment notification of `claims`: its actors, count, comment and time."""
    [notification] = items(claims)
    assert notification["type"] == "comment" and notification["actor"] == notification["actors"][0]
    usernames = [actor["username"] for actor in notification["actors"]]
    return usernames, notification["actor_count"], notification["comment_id"], notification["created_at"]


def test_a_grouped_comment_names_the_newest_comment_left_when_the_latest_is_deleted(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    # Given bob's then carol's comment on alice's post: one notification, carol's comment the latest
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    by_bob = on_post("POST", post_id, bob, "comments", body={"text": "first"})
    by_carol = on_post("POST", post_id, carol, "comments", body={"text": "second"})
    pipeline.flush()
    assert grouped_comment(alice) == (["carol", "bob"], 2, by_carol["comment_id"], by_carol["created_at"])

    # When carol deletes hers
    delete_comment(post_id, by_carol["comment_id"], carol)
    pipeline.flush()

    # Then the notification is bob's, and names his comment, at its time
    assert grouped_comment(alice) == (["bob"], 1, by_bob["comment_id"], by_bob["created_at"])
    assert badge(alice) == 1


def test_a_grouped_comment_names_an_actors_older_comment_when_their_newest_is_deleted(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    # Given bob's comment, carol's, then bob's again on alice's post
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    bob_first = on_post("POST", post_id, bob, "comments", body={"text": "first"})
    by_carol = on_post("POST", post_id, carol, "comments", body={"text": "second"})
    bob_again = on_post("POST", post_id, bob, "comments", body={"text": "third"})
    pipeline.flush()
    assert grouped_comment(alice) == (["bob", "carol"], 2, bob_again["comment_id"], bob_again["created_at"])

    # When bob deletes his newest comment, keeping the first
    delete_comment(post_id, bob_again["comment_id"], bob)
    pipeline.flush()

    # Then carol's comment is the newest left: she leads, bob stays (counted once), and it names hers
    assert grouped_comment(alice) == (["carol", "bob"], 2, by_carol["comment_id"], by_carol["created_at"])

    # And when carol deletes hers too, bob's first comment is what is left
    delete_comment(post_id, by_carol["comment_id"], carol)
    pipeline.flush()
    assert grouped_comment(alice) == (["bob"], 1, bob_first["comment_id"], bob_first["created_at"])


def test_a_grouped_comment_names_the_newest_comment_of_the_actors_the_reader_is_shown(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    # Given bob's then carol's comment on alice's post
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    by_bob = on_post("POST", post_id, bob, "comments", body={"text": "first"})
    on_post("POST", post_id, carol, "comments", body={"text": "second"})
    pipeline.flush()

    # When alice blocks carol (whose comment she can no longer open)
    block(alice, carol)

    # Then the notification is bob's alone: it names his comment, is dated by it, and counts only him (a person the
    # reader may not see is not counted either: "bob and 1 other" would point at nobody she can find)
    assert grouped_comment(alice) == (["bob"], 1, by_bob["comment_id"], by_bob["created_at"])


def test_a_grouped_like_is_dated_by_the_newest_like_left_when_the_latest_is_undone(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    # Given bob's like on alice's post, then carol's
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    on_post("POST", post_id, bob, "like")
    pipeline.flush()
    [alone] = items(alice)
    on_post("POST", post_id, carol, "like")
    pipeline.flush()
    assert items(alice)[0]["created_at"] > alone["created_at"]

    # When carol takes hers back
    on_post("DELETE", post_id, carol, "like")
    pipeline.flush()

    # Then the notification is bob's again, dated by his like (as a grouped comment is by the comment it names)
    [left] = items(alice)
    assert ([a["username"] for a in left["actors"]], left["actor_count"]) == (["bob"], 1)
    assert left["created_at"] == alone["created_at"]


def test_caption_mentions_notify_once_when_the_post_is_published(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]

    post_id = publish(alice, caption="Dawn with @bob and @Carol (and @ghost_user)")
    on_post("POST", post_id, bob, "like")  # another change of the post, which mentions nobody again
    pipeline.flush()

    assert summary(items(bob)) == [("mention", "alice", post_id, None)]
    assert summary(items(carol)) == [("mention", "alice", post_id, None)]
    # dated by the publication, to the millisecond (the stream's own time is whole seconds)
    [mention] = items(bob)
    stored = PostModel.get(post_id)
    assert stored.published_at is not None and mention["created_at"] == to_iso(stored.published_at)


def test_a_mention_in_a_private_post_reaches_only_those_who_may_see_it(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    make_private(alice)
    follow(carol, "alice")
    decide(alice, "carol", approve=True)

    post_id = publish(alice, caption="@bob @carol")
    pipeline.flush()

    assert summary(items(carol)) == [("mention", "alice", post_id, None)]
    assert items(bob) == []


# Follows and requests


def test_follow_notifies_and_unfollow_takes_it_back(people: dict[str, dict[str, str]], pipeline: Pipeline) -> None:
    alice, bob = people["alice"], people["bob"]

    follow(bob, "alice")
    pipeline.flush()
    assert summary(items(alice)) == [("follow", "bob", None, None)]

    follow(bob, "alice", method="DELETE")
    pipeline.flush()
    assert items(alice) == []


def test_a_request_is_notified_until_answered_and_approval_becomes_a_follow(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    make_private(alice)

    follow(bob, "alice")
    follow(carol, "alice")
    pipeline.flush()
    assert summary(items(alice)) == [("follow_request", "carol", None, None), ("follow_request", "bob", None, None)]

    decide(alice, "bob", approve=True)
    decide(alice, "carol", approve=False)
    pipeline.flush()

    assert summary(items(alice)) == [("follow", "bob", None, None)]


def test_going_public_turns_each_request_into_a_follow_notification(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    # Given Alice's pending requests from Bob and Carol, notified
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    make_private(alice)
    follow(bob, "alice")
    follow(carol, "alice")
    pipeline.flush()
    users_stream = StreamTap([get_settings().users_table_name])
    users_stream.new_records()

    # When she switches to public and the users stream reaches `on_made_public` (its approvals write to the graph)
    assert call(users.handler, "PATCH", "/me", alice, "/me", body={"is_private": False})[0] == 200
    made_public = routed_event(users_stream.new_records())
    assert users_consumers.on_made_public(made_public, FakeLambdaContext()) == {"batchItemFailures": []}
    pipeline.flush()

    # Then, as for approvals, each request's notification gives way to a follow's
    assert sorted(summary(items(alice))) == [("follow", "bob", None, None), ("follow", "carol", None, None)]


# Reading


def test_read_up_to_one_notification_or_all_and_never_back(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    alice, bob = people["alice"], people["bob"]
    for _ in range(3):
        on_post("POST", publish(alice), bob, "like")
    pipeline.flush()
    newest, middle, oldest = (n["notification_id"] for n in items(alice))

    assert mark_read(alice, {"up_to": middle}) == (204, None)
    assert [n["read"] for n in items(alice)] == [False, True, True]

    assert mark_read(alice) == (204, None)
    assert [n["read"] for n in items(alice)] == [True, True, True]

    on_post("POST", publish(alice), bob, "like")
    pipeline.flush()
    assert mark_read(alice, {"up_to": oldest}) == (204, None)  # an older watermark moves nothing back
    assert [n["read"] for n in items(alice)] == [False, True, True, True]
    assert newest == items(alice)[1]["notification_id"]


def activity(
    kind: NotificationType, actor: dict[str, str], at: str, post_id: str | None = None, to: str | None = None
) -> NotificationIntent:
    """An intent as the stream makes it, delivered here in whatever order the test says (a retry comes late)."""
    target = f"like#{actor['sub']}" if post_id else f"follows#{to}"
    return NotificationIntent(
        action=IntentAction.CREATE,
        type=kind,
        source=f"post#{post_id}/{target}" if post_id else f"user#{actor['sub']}/{target}",
        actor_id=actor["sub"],
        recipient_id=to,
        post_id=post_id,
        created_at=at,
    )


def test_notifications_are_listed_by_when_they_happened_and_one_delivered_late_below_the_watermark_is_read(
    people: dict[str, dict[str, str]], pipeline: Pipeline, api: FakeConnectionsApi
) -> None:
    # Given carol's like at 47.241, delivered before bob's follow (47.212) and like (47.232) that happened earlier
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    first, second, third = publish(alice), publish(alice), publish(alice)
    for intent in [
        activity(NotificationType.LIKE, carol, "2026-11-22T09:47:47.241Z", post_id=first),
        activity(NotificationType.FOLLOW, bob, "2026-11-22T09:47:47.212Z", to=alice["sub"]),
        activity(NotificationType.LIKE, bob, "2026-11-22T09:47:47.232Z", post_id=second),
    ]:
        consumers.notifier.deliver(intent)

    # Then the list is newest first by when each happened, not by when it was delivered
    listed_now = items(alice)
    assert [(n["type"], n["actor"]["username"], n["created_at"]) for n in listed_now] == [
        ("like", "carol", "2026-11-22T09:47:47.241Z"),
        ("like", "bob", "2026-11-22T09:47:47.232Z"),
        ("follow", "bob", "2026-11-22T09:47:47.212Z"),
    ]
    ids = [n["notification_id"] for n in listed_now]
    assert ids == sorted(ids, reverse=True)

    # When alice has read everything, and then a like of 47.100 reaches delivery late (a retry, a dead letter replayed)
    assert mark_read(alice) == (204, None)
    consumers.notifier.deliver(activity(NotificationType.LIKE, carol, "2026-11-22T09:47:47.100Z", post_id=third))

    # Then it is listed where it belongs, below what she read, and counts as read (an old event), badge and frame alike
    late = items(alice)[-1]
    assert (late["type"], late["post_id"], late["created_at"], late["read"]) == (
        "like",
        third,
        "2026-11-22T09:47:47.100Z",
        True,
    )
    assert [n["read"] for n in items(alice)] == [True] * 4
    assert badge(alice) == 0
    assert api.frames["alice-phone"][-1]["notification"] == late


def test_read_refuses_what_is_not_a_notification_id(people: dict[str, dict[str, str]]) -> None:
    status, body = mark_read(people["alice"], {"up_to": "zzz"})
    assert status == 422 and body["error"]["code"] == "validation_error"
    assert mark_read(people["alice"], {"up_to": "01JPOST0000000000000000000", "extra": 1})[0] == 422


def test_notifications_page_newest_first_without_duplicates(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    alice, bob = people["alice"], people["bob"]
    for _ in range(5):
        on_post("POST", publish(alice), bob, "like")
    pipeline.flush()

    pages, cursor = [], None
    while True:
        page = listed(alice, limit="2", **({"cursor": cursor} if cursor else {}))
        pages.append([n["notification_id"] for n in page["items"]])
        cursor = page["next_cursor"]
        if not cursor:
            break

    ids = [notification_id for page in pages for notification_id in page]
    assert [len(page) for page in pages if page] == [2, 2, 1]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    first_cursor = listed(alice, limit="2")["next_cursor"]
    status, _ = call(
        notifications.handler, "GET", "/notifications", bob, "/notifications", query={"cursor": first_cursor}
    )
    assert status == 422  # another user's cursor


def test_a_notifications_page_is_filled_past_notifications_hidden_by_a_block(
    people: dict[str, dict[str, str]], pipeline: Pipeline
) -> None:
    # Given likes on nine of alice's posts, carol's and bob's, newest first: C B B C B B C B B; then alice blocks bob
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    posts = [publish(alice) for _ in range(9)]
    for post_id, who in zip(posts, [bob, bob, carol] * 3, strict=True):
        on_post("POST", post_id, who, "like")
        pipeline.flush()
    block(alice, bob)

    # When alice reads her notifications a page of one at a time
    pages, cursor = [], None
    while len(pages) < 20:
        page = listed(alice, limit="1", **({"cursor": cursor} if cursor else {}))
        cursor = page["next_cursor"]
        pages.append(([n["post_id"] for n in page["items"]], cursor is not None))
        if cursor is None:
            break

    # Then each page with a cursor holds the next of carol's likes, never nothing; the list ends after her first
    assert pages == [([posts[8]], True), ([posts[5]], True), ([posts[2]], True), ([], False)]


# Redelivery and failures


def test_a_redelivered_stream_batch_or_message_makes_one_notification(
    people: dict[str, dict[str, str]], pipeline: Pipeline, api: FakeConnectionsApi
) -> None:
    alice, bob = people["alice"], people["bob"]
    post_id = publish(alice)
    on_post("POST", post_id, bob, "like")

    batch = routed_event(pipeline.stream_batch()["Records"])
    for _ in range(2):  # a record delivered twice: SQS drops the second send of each intent
        assert consumers.on_activity(batch, FakeLambdaContext()) == {"batchItemFailures": []}
    message = pipeline.sqs.receive_message(QueueUrl=pipeline.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
    event = {"Records": [sqs_record(m, pipeline.queue_arn) for m in message["Messages"]]}
    assert len(event["Records"]) == 1
    for _ in range(2):  # a message delivered twice (its deletion was lost): stored once
        assert consumers.deliver(event, FakeLambdaContext()) == {"batchItemFailures": []}

    assert summary(items(alice)) == [("like", "bob", post_id, None)]
    assert len(api.frames["alice-phone"]) == 1


class FlakySqs:
    """SQS that refuses every message of its n-th SendMessageBatch call, and sends the others."""

    def __init__(self, refused_call: int) -> None:
        self.sqs, self.refused_call, self.calls = boto3.client("sqs"), refused_call, 0

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.calls += 1
        if self.calls == self.refused_call:
            return {"Successful": [], "Failed": [{"Id": e["Id"], "Code": "ServiceUnavailable"} for e in Entries]}
        return dict(self.sqs.send_message_batch(QueueUrl=QueueUrl, Entries=Entries))


def test_a_record_that_cannot_be_queued_is_retried_with_the_later_records_of_its_item(
    people: dict[str, dict[str, str]], pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given carol's like, then bob's like and its undoing, in one batch of the routed queue
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post_id = publish(alice)
    pipeline.flush()
    for claims, method in ((carol, "POST"), (bob, "POST"), (bob, "DELETE")):
        on_post(method, post_id, claims, "like")
    likes = [
        record
        for record in pipeline.stream_batch()["Records"]
        if record["dynamodb"]["Keys"].get("sk", {}).get("S", "").startswith("like#")
    ]

    # When bob's like cannot be queued
    monkeypatch.setattr(consumers, "intent_queue", IntentQueue(sqs=FlakySqs(refused_call=2)))
    event = routed_event(likes)
    response = consumers.on_activity(event, FakeLambdaContext())

    # Then it is reported with its undoing (which must not overtake it), carol's like went on, and once the
    # queue has redelivered both, bob's like is taken back as it should be
    message_ids = [record["messageId"] for record in event["Records"]]
    assert response == {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in message_ids[1:]]}
    monkeypatch.setattr(consumers, "intent_queue", IntentQueue())
    redelivered = {"Records": event["Records"][1:]}
    assert consumers.on_activity(redelivered, FakeLambdaContext()) == {"batchItemFailures": []}
    pipeline.drain()
    assert summary(items(alice)) == [("like", "carol", post_id, None)]


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue_without_blocking_others(
    people: dict[str, dict[str, str]], pipeline: Pipeline, queues: dict[str, str]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]

    def follow_intent(actor: dict[str, str]) -> str:
        return NotificationIntent(
            action=IntentAction.CREATE,
            type=NotificationType.FOLLOW,
            source=f"user#{actor['sub']}/follows#{alice['sub']}",
            actor_id=actor["sub"],
            recipient_id=alice["sub"],
        ).model_dump_json()

    bob_group = f"user#{bob['sub']}/follows#{alice['sub']}"
    sent = pipeline.sqs.send_message_batch(
        QueueUrl=pipeline.queue_url,
        Entries=[
            {
                "Id": "poison",
                "MessageBody": '{"action": "poke"}',
                "MessageGroupId": bob_group,
                "MessageDeduplicationId": "poison",
            },
            {
                "Id": "after",
                "MessageBody": follow_intent(bob),
                "MessageGroupId": bob_group,
                "MessageDeduplicationId": "after",
            },
            {
                "Id": "other",
                "MessageBody": follow_intent(carol),
                "MessageGroupId": "another-group",
                "MessageDeduplicationId": "other",
            },
        ],
    )
    ids = {entry["Id"]: entry["MessageId"] for entry in sent["Successful"]}

    pipeline.drain()

    # The poison was reported each time it was received, and so was what followed it in its group
    # the first time (FIFO: nothing of a group overtakes a failed message); the other group went on.
    assert pipeline.failed_message_ids.count(ids["poison"]) == MAX_RECEIVES
    assert ids["after"] in pipeline.failed_message_ids and ids["other"] not in pipeline.failed_message_ids
    dead = boto3.client("sqs").receive_message(QueueUrl=queues["dead_letters"], MaxNumberOfMessages=10)
    assert [message["MessageId"] for message in dead["Messages"]] == [ids["poison"]]
    assert sorted(summary(items(alice))) == [("follow", "bob", None, None), ("follow", "carol", None, None)]


def test_marking_read_while_notifications_keep_arriving_is_retried_then_503(
    people: dict[str, dict[str, str]], pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given bob with a notification, and notifications arriving between every read and write of the watermark
    alice, bob = people["alice"], people["bob"]
    publish(alice, caption="hi @bob")
    pipeline.flush()
    assert badge(bob) == 1
    refused = ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "changed"}}, "UpdateItem")

    def always_changed(*args: Any, **kwargs: Any) -> Any:
        raise UpdateError("changed", cause=refused)

    pauses: list[int] = []
    monkeypatch.setattr(notifications_dal.NotificationModel, "update", always_changed)
    monkeypatch.setattr(notifications_dal, "pause_before_retry", pauses.append)

    # When he marks everything read
    event = http_event("POST", "/notifications/read", claims=bob, body={}, route_key="POST /notifications/read")
    response = notifications.handler(event, FakeLambdaContext())

    # Then every attempt after the first waited first, and he is told to retry shortly (not a 500)
    assert pauses == list(range(CONFLICT_ATTEMPTS - 1))
    assert response["statusCode"] == 503 and response["headers"]["Retry-After"] == "1"
    assert response_json(response)["error"]["code"] == "unavailable"
    monkeypatch.undo()
    assert badge(bob) == 1  # nothing was marked
