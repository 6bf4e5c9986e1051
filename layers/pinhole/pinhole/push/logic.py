"""Use cases of push to phones: registering devices (one SNS platform endpoint per token), the
notification settings, and the worker that publishes each queued push to the recipient's devices.

Push is asynchronous: the request or consumer that caused it only queues a job (pinhole.push.queue);
the worker publishes it, with the queue's retries and dead-letter queue behind it, and is idempotent per
device (`DeliveryMarks`). Push is off when no platform application exists (no credentials were given to
the stacks): registration answers `push_unavailable`, and nothing is queued."""

from collections.abc import Callable

from pinhole.messaging.dal import MessageRepository
from pinhole.notifications.dal import NotificationRepository
from pinhole.push.dal import DeliveryMarks, DeviceRepository, SettingsRepository, StoredDevice, device_id_of
from pinhole.push.endpoints import EndpointGone, PlatformEndpoints
from pinhole.push.models import (
    SETTING_OF,
    Device,
    DeviceRegistration,
    NotificationSettings,
    NotificationSettingsPatch,
    Platform,
    PushJob,
)
from pinhole.push.payloads import sns_message
from pinhole.push.queue import PushNotSent
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import Conflict, NotFound
from pinhole.shared.observability import logger
from pinhole.shared.settings import get_settings

_devices = DeviceRepository()
_settings_store = SettingsRepository()
_marks = DeliveryMarks()
_endpoints = PlatformEndpoints()


def _badge(user_id: str) -> int:
    """The number a phone's badge shows: the unread notifications the list shows, as `GET
    /notifications/unread-count` counts them (not the stored counter, which also counts those the list leaves
    out: a post deleted since, an actor gone or blocked since)."""
    from pinhole.notifications.logic import unread_count  # the worker's alone: the device routes need none of it

    return unread_count(user_id)


_conversations = MessageRepository()
_notifications = NotificationRepository()


class PushUnavailable(Conflict):
    """The server has no platform application for the platform (no credentials were given): a state of
    this deployment, not a fault of the request."""

    code = "push_unavailable"


def _application_of(platform: Platform) -> str:
    arn = get_settings().push_platform_applications.get(platform.value)
    if not arn:
        raise PushUnavailable(f"Push to {platform.value} is not set up on this server.", [{"field": "platform"}])
    return arn


REGISTRATION_ATTEMPTS = 3


def register_device(
    caller: Caller,
    request: DeviceRegistration,
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


class PushWorker:
    """Publishes queued pushes, with its collaborators as parameters (tests pass their own)."""

    def __init__(
        self,
        devices: DeviceRepository = _devices,
        settings: SettingsRepository = _settings_store,
        marks: DeliveryMarks = _marks,
        endpoints: PlatformEndpoints = _endpoints,
        conversations: MessageRepository = _conversations,
        badge: Callable[[str], int] = _badge,
        notifications: NotificationRepository = _notifications,
    ) -> None:
        self.devices, self.settings, self.marks = devices, settings, marks
        self.endpoints, self.conversations, self.badge = endpoints, conversations, badge
        self.notifications = notifications

    def _wanted(self, job: PushJob) -> bool:
        """Whether the user wants this push: its kind is on in their settings, and what it names is still there —
        a message (not unsent) in a conversation they did not mute, a notification that still names its actor (not
        taken back by an unlike, a deleted comment, an unfollow). Asked as it is pushed: an undoing or a mute
        meanwhile holds back what is still queued. One read besides the settings."""
        if not self.settings.get(job.user_id).model_dump()[SETTING_OF[job.kind]]:
            return False
        if job.kind == "message":
            conversation_id, message_id = job.data["conversation_id"], job.data["message_id"]
            return self.conversations.still_to_push(job.user_id, conversation_id, message_id)
        if job.actor_id is None:  # queued before notification pushes said their actor: as they were then
            return True
        return self.notifications.names(job.user_id, job.data["notification_id"], job.actor_id)

    def deliver(self, job: PushJob) -> int:
        """Publishes the job to each of the user's devices that has not had it; how many got it now.
        PushNotSent if some could not be reached (the job comes back; those that got it are skipped)."""
        if not self._wanted(job):
            return 0
        devices = self.devices.of_user(job.user_id)
        if not devices:
            return 0
        badge = self.badge(job.user_id)
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
