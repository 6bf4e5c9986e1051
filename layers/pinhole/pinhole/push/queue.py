"""Queueing pushes to phones: the jobs a notification stored or a message delivered makes, onto the push queue
that the worker (pinhole.push.logic) publishes from. What queues a push imports this module only, not the devices,
the platform endpoints or the worker: the messaging API sends a message's pushes, the notifications' delivery
a notification's. Nothing is queued while push is off (no platform application exists)."""

from collections.abc import Iterable
from typing import Any, cast

from pinhole.messaging.models import Message
from pinhole.notifications.models import Notification
from pinhole.push.models import PushJob, PushKind
from pinhole.shared import aws_clients
from pinhole.shared.settings import get_settings


class PushNotSent(Exception):
    """Some devices could not be reached for now: the job is to be delivered again (the devices that
    got it are not pushed twice)."""


def push_is_on() -> bool:
    return bool(get_settings().push_platform_applications)


class PushQueue:
    """Where pushes wait for the worker (standard SQS: retries with backoff, then the dead-letter queue)."""

    def __init__(self, sqs: Any = None, queue_url: str | None = None) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    @property
    def queue_url(self) -> str:
        return self._queue_url if self._queue_url is not None else get_settings().push_queue_url

    @property
    def sqs(self) -> Any:
        if self._sqs is None:
            self._sqs = aws_clients.client("sqs", get_settings().region)
        return self._sqs

    def enqueue(self, jobs: Iterable[PushJob]) -> int:
        """Queues the jobs (nothing when push is off); how many. Raises if SQS refused one: the caller's
        retry queues it again, and the worker pushes each job once per device whatever the duplicates."""
        wanted = list(jobs) if push_is_on() and self.queue_url else []
        for start in range(0, len(wanted), 10):
            batch = wanted[start : start + 10]
            response = self.sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "MessageBody": job.model_dump_json()} for n, job in enumerate(batch)],
            )
            if response.get("Failed"):
                raise PushNotSent(f"{len(response['Failed'])} pushes were not queued")
        return len(wanted)


_SAYS = {
    "like": "liked your post.",
    "comment": "commented on your post.",
    "follow": "started following you.",
    "follow_request": "asked to follow you.",
    "mention": "mentioned you.",
}


def notification_push(notification: Notification, recipient_id: str) -> PushJob:
    """The push of a stored notification: who did what (a group says how many), and the ids to open it."""
    actor = notification.actor
    # only notifications of people's activity are pushed; a moderation notice (no actor) is not
    assert actor is not None, notification.type
    others = notification.actor_count - 1
    who = actor.username + (f" and {others} other{'s' if others > 1 else ''}" if others > 0 else "")
    data = {"notification_id": notification.notification_id, "actor": actor.username}
    if notification.post_id:
        data["post_id"] = notification.post_id
    if notification.comment_id:
        data["comment_id"] = notification.comment_id
    return PushJob(
        push_id=f"n:{notification.notification_id}",
        user_id=recipient_id,
        kind=cast(PushKind, notification.type.value),
        title="Pinhole",
        body=f"{who} {_SAYS[notification.type.value]}"[:180],
        thread_id=f"post:{notification.post_id}" if notification.post_id else f"user:{actor.user_id}",
        data=data,
        actor_id=actor.user_id,
    )


def _message_says(message: Message) -> str:
    """What a message's push says: that one was sent (never its text), or, for a group's system message (pushed
    only to whom it adds), that they were added."""
    if message.event is None:
        return "sent you a message."
    group = f"“{message.event.title}”" if message.event.title else "a group"
    return f"added you to {group}."


def message_push(message: Message, recipient_ids: Iterable[str]) -> list[PushJob]:
    """The pushes of a delivered message, one per recipient: the sender and the ids, never its text."""
    sender = message.sender.display_name or message.sender.username
    return [
        PushJob(
            push_id=f"m:{message.message_id}:{recipient_id}",
            user_id=recipient_id,
            kind="message",
            title=sender[:100],
            body=_message_says(message)[:180],
            thread_id=f"conversation:{message.conversation_id}",
            data={
                "conversation_id": message.conversation_id,
                "message_id": message.message_id,
                "sender": message.sender.username,
            },
        )
        for recipient_id in recipient_ids
        if recipient_id != message.sender.user_id
    ]


_queue = PushQueue()


def push_message(message: Message, recipient_ids: Iterable[str], queue: PushQueue | None = None) -> int:
    """The one call a message delivery makes: queues a push of the message to each recipient's phones
    (their settings and devices are the worker's business). How many pushes were queued."""
    return (queue or _queue).enqueue(message_push(message, recipient_ids))
