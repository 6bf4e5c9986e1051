"""What push to phones adds to a notification's delivery, in one run on moto in-process (DynamoDB, SQS and
SNS mobile push; local IAM enforcement off):
- `deliver` of a like notification (store, live push to WebSocket connections) with push off (no platform
  application: nothing is queued) against push on (the same, and the push job queued): the extra time
  the notifications consumer spends;
- the push worker's time for that job (settings, devices, badge, the per-device claim, the SNS publish and
  the sent mark) to a user with two phones (APNs and FCM): the time after which the phones have it.
Alternating rounds, after a warm-up; p50 of each. Prints JSON to stdout."""

import json
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

ROUNDS = 60
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's conventional fake credential
    "USERS_TABLE_NAME": "bench-users",
    "USER_POOL_ID": "us-east-1_bench",
    "USER_POOL_CLIENT_ID": "bench",
    "POSTS_TABLE_NAME": "bench-posts",
    "GRAPH_TABLE_NAME": "bench-graph",
    "INTERACTIONS_TABLE_NAME": "bench-interactions",
    "FEEDS_TABLE_NAME": "bench-feeds",
    "IDEMPOTENCY_TABLE_NAME": "bench-idempotency",
    "FANOUT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-fanout",
    "UPLOADS_BUCKET_NAME": "bench-uploads",
    "MEDIA_BUCKET_NAME": "bench-media",
    "MEDIA_BASE_URL": "https://media.example.com",
    "MEDIA_DISTRIBUTION_ID": "EBENCH",
    "CURSOR_SECRET_ARN": "bench-cursor",
    "MESSAGES_TABLE_NAME": "bench-messages",
    "CONNECTIONS_TABLE_NAME": "bench-connections",
    "NOTIFICATIONS_TABLE_NAME": "bench-notifications",
    "NOTIFICATIONS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-notifications.fifo",
    "RATE_LIMITS_TABLE_NAME": "bench-rate-limits",
    "SEARCH_TABLE_NAME": "bench-search",
    "WEBSOCKET_CALLBACK_URL": "https://bench.execute-api.us-east-1.amazonaws.com/prod",
}


class _Connections:
    """@connections stand-in: the recipient has no open connection (the app is closed)."""

    class exceptions:
        GoneException = KeyError

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> None:
        raise KeyError(ConnectionId)


def _p50(samples: list[float]) -> float:
    return round(statistics.median(samples), 2)


def run() -> dict[str, Any]:
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    import boto3
    from moto import mock_aws

    from pinhole.shared.settings import get_settings

    with mock_aws():
        get_settings.cache_clear()
        from pinhole.graph.dal import EdgeModel
        from pinhole.notifications.dal import NotificationModel
        from pinhole.notifications.delivery import Notifier
        from pinhole.notifications.models import IntentAction, NotificationIntent, NotificationType
        from pinhole.posts.dal import PostModel
        from pinhole.push import logic as push
        from pinhole.push.models import ApnsRegistration, FcmRegistration, Platform
        from pinhole.realtime.dal import ConnectionModel
        from pinhole.realtime.push import Pusher
        from pinhole.shared.caller import Caller
        from pinhole.users.dal import ProfileRepository, UserModel
        from pinhole.users.models import Profile

        for model in (UserModel, PostModel, EdgeModel, NotificationModel, ConnectionModel):
            model.create_table(wait=True)
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        apps = {
            "apns": sns.create_platform_application(Name="bench-apns", Platform="APNS", Attributes={}),
            "fcm": sns.create_platform_application(Name="bench-fcm", Platform="GCM", Attributes={}),
        }
        queue_url = sqs.create_queue(QueueName="bench-push")["QueueUrl"]
        os.environ["PUSH_QUEUE_URL"] = queue_url
        profiles = ProfileRepository()
        for name in ("ann", "ben"):
            profiles.create(
                Profile(
                    user_id=f"u-{name}",
                    username=name,
                    email=f"{name}@example.com",
                    created_at="2026-12-01T00:00:00.000Z",
                )
            )
        posted = datetime(2026, 12, 5, 10, tzinfo=UTC)
        PostModel(
            post_id="p1",
            author_id="u-ann",
            status="published",
            created_at=posted,
            upload_expires_at=posted,
            media={},
            media_order=[],
        ).save()

        def push_on(enabled: bool) -> None:
            applications = {platform: app["PlatformApplicationArn"] for platform, app in apps.items()}
            os.environ["PUSH_PLATFORM_APPLICATIONS"] = json.dumps(applications if enabled else {})
            get_settings.cache_clear()

        push_on(True)
        ann = Caller(user_id="u-ann", username="ann")
        push.register_device(ann, ApnsRegistration(platform=Platform.APNS, token="ab" * 32))
        push.register_device(ann, FcmRegistration(platform=Platform.FCM, token="fcm:" + "x" * 60))
        notifier = Notifier(pusher=Pusher(client=_Connections()))
        worker = push.PushWorker()
        timings: dict[str, list[float]] = {"off": [], "on": [], "worker": []}

        def like(index: int) -> NotificationIntent:
            return NotificationIntent(
                action=IntentAction.CREATE,
                type=NotificationType.LIKE,
                source=f"post#p{index}/like#u-ben",
                actor_id="u-ben",
                recipient_id="u-ann",
                post_id="p1",
                created_at=f"2026-12-05T10:{index // 60:02d}:{index % 60:02d}.000Z",
            )

        def deliver(index: int, enabled: bool) -> None:
            push_on(enabled)
            started = time.perf_counter()
            notifier.deliver(like(index))
            timings["on" if enabled else "off"].append((time.perf_counter() - started) * 1000)

        for index in range(4):  # warm-up
            deliver(index, index % 2 == 0)
        timings = {"off": [], "on": [], "worker": []}
        sqs.purge_queue(QueueUrl=queue_url)
        for index in range(4, 4 + 2 * ROUNDS):
            deliver(index, index % 2 == 0)
            if index % 2 == 0:
                [message] = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1)["Messages"]
                job = push.PushJob.model_validate_json(message["Body"])
                started = time.perf_counter()
                assert worker.deliver(job) == 2
                timings["worker"].append((time.perf_counter() - started) * 1000)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    off, on, work = _p50(timings["off"]), _p50(timings["on"]), _p50(timings["worker"])
    return {
        "rounds": ROUNDS,
        "deliver_push_off_p50_ms": off,
        "deliver_push_on_p50_ms": on,
        "deliver_extra_ratio": round(on / off, 3),
        "worker_two_devices_p50_ms": work,
        "notification_to_phones_ratio": round((on + work) / off, 3),
        "note": "moto in-process; the notification is grouped (one post): every round bumps one group",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
