"""Persistence of the push context, in the notifications table (the recipient's partition holds what
concerns them). PynamoDB objects never leave this module.

    user_id = <user>                       sk = device#<device_id>     a device: platform, token, endpoint_arn,
                                                                       created_at, updated_at
    user_id = token#<device_id>            sk = owner                  whose the token is now: owner_id
    user_id = <user>                       sk = push-settings          the kinds turned on or off
    user_id = <user>                       sk = pushed#<push_id>#<device_id>
                                                                       one push to one device: status
                                                                       (sending|sent), lease_until, expires_at

A device id is derived from the platform and token, so registering the same token again is the same
device; its `token#` item says which account holds it, so a token registered by another account leaves
the first one (one transaction moves it). A push to a device is claimed before it is published and
marked sent after: a duplicate delivery finds it sent (or claimed, within the lease) and publishes
nothing; a failed publish releases the claim, so the retry publishes it."""

import base64
import hashlib
from datetime import timedelta

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.push.models import Device, NotificationSettings, Platform
from pinhole.shared.clock import utc_now
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import commit

_settings = get_settings()

DEVICE = "device#"
TOKEN = "token#"  # noqa: S105 - a key prefix
OWNER = "owner"
SETTINGS = "push-settings"
PUSHED = "pushed#"
LEASE = timedelta(seconds=60)
"""How long a claim on one push to one device holds (far above one SNS publish)."""
KEEP_MARKS = timedelta(days=2)
"""Past the push queue's retention of its retries: a duplicate can no longer arrive."""
MAX_DEVICES = 25
"""Devices per account (an old phone's token is dropped by SNS feedback; a cap keeps a leak bounded)."""


def device_id_of(platform: Platform, token: str) -> str:
    digest = hashlib.sha256(f"{platform.value}:{token}".encode()).digest()
    return base64.b32encode(digest).decode().rstrip("=")[:26].lower()


class PushModel(Model):
    class Meta:
        table_name = _settings.notifications_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"

    user_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    platform = UnicodeAttribute(null=True)
    token = UnicodeAttribute(null=True)
    endpoint_arn = UnicodeAttribute(null=True)
    owner_id = UnicodeAttribute(null=True)
    device_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    likes = BooleanAttribute(null=True)
    comments = BooleanAttribute(null=True)
    follows = BooleanAttribute(null=True)
    mentions = BooleanAttribute(null=True)
    messages = BooleanAttribute(null=True)
    status = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class StoredDevice(Device):
    """A device as the table keeps it: the token and its SNS endpoint too (never shown)."""

    user_id: str
    token: str
    endpoint_arn: str | None = None


def _to_device(item: PushModel) -> StoredDevice:
    return StoredDevice(
        device_id=str(item.sk).removeprefix(DEVICE),
        platform=Platform(item.platform),
        created_at=str(item.created_at),
        user_id=str(item.user_id),
        token=str(item.token),
        endpoint_arn=item.endpoint_arn,
    )


class DeviceRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def get(self, user_id: str, device_id: str) -> StoredDevice | None:
        try:
            return _to_device(PushModel.get(user_id, f"{DEVICE}{device_id}", consistent_read=True))
        except DoesNotExist:
            return None

    def of_user(self, user_id: str) -> list[StoredDevice]:
        return [
            _to_device(item)
            for item in PushModel.query(
                user_id, PushModel.sk.startswith(DEVICE), consistent_read=True, limit=MAX_DEVICES
            )
        ]

    def owner_of(self, device_id: str) -> str | None:
        try:
            return PushModel.get(f"{TOKEN}{device_id}", OWNER, consistent_read=True).owner_id
        except DoesNotExist:
            return None

    def save(self, device: StoredDevice, previous_owner: str | None) -> bool:
        """Stores the device for its user and makes them the token's owner; the previous owner (another
        account) loses it in the same transaction. False if the token changed hands since `previous_owner`
        was read (a registration of the same token by another account at the same moment)."""
        now = utc_now().isoformat()
        item = PushModel(
            user_id=device.user_id,
            sk=f"{DEVICE}{device.device_id}",
            platform=device.platform.value,
            token=device.token,
            endpoint_arn=device.endpoint_arn,
            created_at=device.created_at,
            updated_at=now,
        )
        owner = PushModel(user_id=f"{TOKEN}{device.device_id}", sk=OWNER, owner_id=device.user_id)

        same_owner = PushModel.sk.does_not_exist() if previous_owner is None else PushModel.owner_id == previous_owner

        def build(transaction: TransactWrite) -> None:
            transaction.save(item)
            transaction.save(owner, condition=same_owner)
            if previous_owner and previous_owner != device.user_id:
                transaction.delete(PushModel(previous_owner, f"{DEVICE}{device.device_id}"))

        return commit(build, self._connection)

    def remove(self, user_id: str, device_id: str) -> bool:
        """Forgets the user's device (and the token's ownership, if still theirs); False if there was none."""

        def build(transaction: TransactWrite) -> None:
            transaction.delete(PushModel(user_id, f"{DEVICE}{device_id}"), condition=PushModel.sk.exists())
            transaction.delete(PushModel(f"{TOKEN}{device_id}", OWNER), condition=PushModel.owner_id == user_id)

        if commit(build, self._connection):
            return True
        try:  # the token has moved on: only the user's own item goes
            PushModel(user_id, f"{DEVICE}{device_id}").delete(condition=PushModel.sk.exists())
        except DeleteError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False
        return True


class SettingsRepository:
    def get(self, user_id: str) -> NotificationSettings:
        try:
            item = PushModel.get(user_id, SETTINGS, consistent_read=True)
        except DoesNotExist:
            return NotificationSettings()
        stored = {name: getattr(item, name) for name in NotificationSettings.model_fields}
        return NotificationSettings(**{name: value for name, value in stored.items() if value is not None})

    def update(self, user_id: str, changes: dict[str, bool]) -> NotificationSettings:
        if changes:
            PushModel(user_id, SETTINGS).update(
                actions=[getattr(PushModel, name).set(value) for name, value in changes.items()]
            )
        return self.get(user_id)


class DeliveryMarks:
    """Which push reached which device, so that a duplicate delivery publishes nothing twice."""

    def claim(self, push_id: str, device_id: str, user_id: str) -> bool:
        """True if this delivery may publish the push to the device now (nobody sent it, nor holds it)."""
        now = int(utc_now().timestamp())
        mark = PushModel(
            user_id=user_id,
            sk=f"{PUSHED}{push_id}#{device_id}",
            status="sending",
            lease_until=now + int(LEASE.total_seconds()),
            expires_at=now + int(KEEP_MARKS.total_seconds()),
        )
        free = PushModel.sk.does_not_exist() | ((PushModel.status == "sending") & (PushModel.lease_until < now))
        try:
            mark.save(condition=free)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def sent(self, push_id: str, device_id: str, user_id: str) -> None:
        PushModel(user_id, f"{PUSHED}{push_id}#{device_id}").update(actions=[PushModel.status.set("sent")])

    def release(self, push_id: str, device_id: str, user_id: str) -> None:
        PushModel(user_id, f"{PUSHED}{push_id}#{device_id}").delete()
