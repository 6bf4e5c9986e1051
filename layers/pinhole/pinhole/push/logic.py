"""Use cases of push to phones: registering devices (one SNS platform endpoint per token), the
notification settings, queueing a push for what happened (a notification stored, a message sent), and
the worker that publishes each queued push to the recipient's devices.

Push is asynchronous: the request or consumer that caused it only queues a job (`PushQueue.enqueue`);
the worker publishes it, with the queue's retries and dead-letter queue behind it, and is idempotent per
device (`DeliveryMarks`). Push is off when no platform application exists (no credentials were given to
the stacks): registration answers `push_unavailable`, and nothing is queued."""

from collections.abc import Iterable
from typing import Any, cast

from pinhole.messaging.dal import MessageRepository
from pinhole.messaging.models import Message
from pinhole.notifications.dal import NotificationRepository
from pinhole.notifications.models import Notification
from pinhole.push.dal import DeliveryMarks, DeviceRepository, SettingsRepository, StoredDevice, device_id_of
from pinhole.push.endpoints import EndpointGone, PlatformEndpoints
from pinhole.push.models import (
    SETTING_OF,
    ApnsRegistration,
    Device,
    FcmRegistration,
    NotificationSettings,
    NotificationSettingsPatch,
    Platform,
    PushJob,
    PushKind,
)
from pinhole.push.payloads import sns_message
from pinhole.shared import aws_clients
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import Conflict, NotFound
from pinhole.shared.observability import logger
from pinhole.shared.settings import get_settings

_devices = DeviceRepository()
_settings_store = SettingsRepository()
_marks = DeliveryMarks()
_endpoints = PlatformEndpoints()
_notifications = NotificationRepository()
_conversations = MessageRepository()


class PushUnavailable(Conflict):
    """The server has no platform application for the platform (no credentials were given): a state of
    this deployment, not a fault of the request."""

    code = "push_unavailable"


class PushNotSent(Exception):
    """Some devices could not be reached for now: the job is to be delivered again (the devices that
    got it are not pushed twice)."""


def _application_of(platform: Platform) -> str:
    arn = get_settings().push_platform_applications.get(platform.value)
    if not arn:
        raise PushUnavailable(f"Push to {platform.value} is not set up on this server.", [{"field": "platform"}])
    return arn


def push_is_on() -> bool:
    return bool(get_settings().push_platform_applications)


REGISTRATION_ATTEMPTS = 3


def register_device(
    caller: Caller,
    request: ApnsRegistration | FcmRegistration,
    devices: DeviceRepository = _devices,
    endpoints: PlatformEndpoints = _endpoints,
) -> Device:
    """Registers (or refreshes) the caller's device: idempotent on the token; a token another account
    held moves to the caller (two accounts registering one token at once: the last one holds it)."""
    application_arn = _application_of(request.platform)
    device_id = device_id_of(request.platform, request.token)
    for _ in range(REGISTRATION_ATTEMPTS):
        existing = devices.get(caller.user_id, device_id)
        owner = devices.owner_of(device_id)
        previous = devices.get(owner, device_id) if owner and owner != caller.user_id else None
        known = existing or previous
        endpoint_arn = endpoints.ensure(application_arn, request.token, known.endpoint_arn if known else None)
        device = StoredDevice(
            device_id=device_id,
            platform=request.platform,
            created_at=existing.created_at if existing else to_iso(utc_now()),
            user_id=caller.user_id,
            token=request.token,
            endpoint_arn=endpoint_arn,
        )
        if devices.save(device, previous_owner=owner):
            if owner and owner != caller.user_id:
                logger.info("Device token moved to another account", extra={"device_id": device_id})
            return Device(device_id=device.device_id, platform=device.platform, created_at=device.created_at)
    raise Conflict("This device was registered by another account at the same moment: try again.")


def devices_of(caller: Caller, devices: DeviceRepository = _devices) -> list[Device]:
    return [
        Device(device_id=d.device_id, platform=d.platform, created_at=d.created_at)
        for d in devices.of_user(caller.user_id)
    ]


def _forget(device: StoredDevice, devices: DeviceRepository, endpoints: PlatformEndpoints) -> bool:
    """The endpoint goes first, while the token is still the user's (or nobody's): a crash between the two
    leaves a device item to forget again, never an endpoint whose ARN nothing remembers (the purge relies on
    it). Another account registering the token meanwhile recreates the endpoint (`PlatformEndpoints.ensure`)."""
    if device.endpoint_arn and devices.owner_of(device.device_id) in {device.user_id, None}:
        endpoints.delete(device.endpoint_arn)
    return devices.remove(device.user_id, device.device_id)


def remove_device(
    caller: Caller, device_id: str, devices: DeviceRepository = _devices, endpoints: PlatformEndpoints = _endpoints
) -> None:
    device = devices.get(caller.user_id, device_id)
    if device is None or not _forget(device, devices, endpoints):
        raise NotFound("No such device.")


def forget_devices(
    user_id: str, devices: DeviceRepository = _devices, endpoints: PlatformEndpoints = _endpoints
) -> int:
    """Every device of the user goes (signing out everywhere): nothing is pushed to them any more. How
    many there were."""
    found = devices.of_user(user_id)
    for device in found:
        _forget(device, devices, endpoints)
    return len(found)


def settings_of(caller: Caller, store: SettingsRepository = _settings_store) -> NotificationSettings:
    return store.get(caller.user_id)


def change_settings(
    caller: Caller, patch: NotificationSettingsPatch, store: SettingsRepository = _settings_store
) -> NotificationSettings:
    return store.update(caller.user_id, patch.model_dump(exclude_none=True))


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


class PushWorker:
    """Publishes queued pushes, with its collaborators as parameters (tests pass their own)."""

    def __init__(
        self,
        devices: DeviceRepository = _devices,
        settings: SettingsRepository = _settings_store,
        marks: DeliveryMarks = _marks,
        endpoints: PlatformEndpoints = _endpoints,
        notifications: NotificationRepository = _notifications,
        conversations: MessageRepository = _conversations,
    ) -> None:
        self.devices, self.settings, self.marks = devices, settings, marks
        self.endpoints, self.notifications, self.conversations = endpoints, notifications, conversations

    def _wanted(self, job: PushJob) -> bool:
        """Whether the user wants this push: its kind is on in their settings, and a message's conversation is
        not muted by them (asked as it is pushed: a mute meanwhile holds back what is still queued)."""
        if not self.settings.get(job.user_id).model_dump()[SETTING_OF[job.kind]]:
            return False
        conversation_id = job.data.get("conversation_id") if job.kind == "message" else None
        return not (conversation_id and self.conversations.is_muted(job.user_id, conversation_id))

    def deliver(self, job: PushJob) -> int:
        """Publishes the job to each of the user's devices that has not had it; how many got it now.
        PushNotSent if some could not be reached (the job comes back; those that got it are skipped)."""
        if not self._wanted(job):
            return 0
        devices = self.devices.of_user(job.user_id)
        if not devices:
            return 0
        badge = self.notifications.unread_count(job.user_id)
        sent, failed = 0, 0
        for device in devices:
            if not device.endpoint_arn or not self.marks.claim(job.push_id, device.device_id, job.user_id):
                continue
            try:
                self.endpoints.publish(device.endpoint_arn, sns_message(job, device.platform, badge))
            except EndpointGone:
                logger.info("Endpoint disabled or gone: device forgotten", extra={"device_id": device.device_id})
                _forget(device, self.devices, self.endpoints)
                self.marks.sent(job.push_id, device.device_id, job.user_id)
                continue
            except Exception:
                logger.warning("Push not published", extra={"device_id": device.device_id}, exc_info=True)
                self.marks.release(job.push_id, device.device_id, job.user_id)
                failed += 1
                continue
            self.marks.sent(job.push_id, device.device_id, job.user_id)
            sent += 1
        if failed:
            raise PushNotSent(f"{failed} of {len(devices)} devices not reached")
        return sent


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
    )


def message_push(message: Message, recipient_ids: Iterable[str]) -> list[PushJob]:
    """The pushes of a delivered message, one per recipient: the sender and the ids, never its text."""
    sender = message.sender.display_name or message.sender.username
    return [
        PushJob(
            push_id=f"m:{message.message_id}:{recipient_id}",
            user_id=recipient_id,
            kind="message",
            title=sender[:100],
            body="sent you a message.",
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
