"""The contracts of the push context: a registered device, the notification settings, and the push job
that travels on the push queue from whatever happened (a notification stored, a message sent) to the
worker that publishes it to the recipient's devices through SNS."""

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator


class Platform(StrEnum):
    APNS = "apns"
    APNS_SANDBOX = "apns_sandbox"
    FCM = "fcm"


SNS_PLATFORM = {Platform.APNS: "APNS", Platform.APNS_SANDBOX: "APNS_SANDBOX", Platform.FCM: "GCM"}
"""The platform names SNS gives these (FCM's is still GCM in SNS)."""

APNS_TOKEN = r"^[0-9a-fA-F]{64,200}$"  # noqa: S105 - a pattern
FCM_TOKEN = r"^[A-Za-z0-9_:\-]{32,4096}$"  # noqa: S105 - a pattern


TOKEN_PATTERNS = {Platform.APNS: APNS_TOKEN, Platform.APNS_SANDBOX: APNS_TOKEN, Platform.FCM: FCM_TOKEN}


class DeviceRegistration(BaseModel):
    """POST /me/devices: the token the phone's push service gave the app; its shape depends on the platform, and
    the document says which (one `anyOf` branch per shape). One model, not a union of one per platform: an error
    then names the body's field (`token`), not the union's branch (`fcm.token`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"properties": {"platform": {"enum": ["apns", "apns_sandbox"]}, "token": {"pattern": APNS_TOKEN}}},
                {"properties": {"platform": {"enum": ["fcm"]}, "token": {"pattern": FCM_TOKEN}}},
            ]
        },
    )

    platform: Platform
    token: str = Field(description="The APNs device token, in hex (apns, apns_sandbox), or the FCM registration token")

    @field_validator("token")
    @classmethod
    def _shaped_for_its_platform(cls, token: str, info: ValidationInfo) -> str:
        platform = info.data.get("platform")  # absent when the platform itself is refused: that is its error
        if platform is not None and not re.fullmatch(TOKEN_PATTERNS[platform], token):
            raise ValueError(f"this is not the token of a {platform.value} device")
        if platform in (Platform.APNS, Platform.APNS_SANDBOX):
            return token.lower()  # hex: one phone, however its digits are cased (registration is idempotent on it)
        return token


class Device(BaseModel):
    device_id: str
    platform: Platform
    created_at: str


class NotificationSettings(BaseModel):
    """Which kinds of push the user wants (every kind is on until turned off). They steer push only:
    notifications are stored and listed whatever they say."""

    likes: bool = True
    comments: bool = True
    follows: bool = Field(default=True, description="Follows and follow requests")
    mentions: bool = True
    messages: bool = True


class NotificationSettingsPatch(BaseModel):
    """PATCH /me/notification-settings: the kinds to change; the others stay. JSON booleans only (strict): in
    pydantic's lax mode `"no"` and `0` would switch a kind off."""

    model_config = ConfigDict(extra="forbid", strict=True)

    likes: bool | None = None
    comments: bool | None = None
    follows: bool | None = None
    mentions: bool | None = None
    messages: bool | None = None


PushKind = Literal["like", "comment", "follow", "follow_request", "mention", "message"]
SETTING_OF: dict[str, str] = {
    "like": "likes",
    "comment": "comments",
    "follow": "follows",
    "follow_request": "follows",
    "mention": "mentions",
    "message": "messages",
}


class PushJob(BaseModel):
    """One push to every device of one user. `push_id` names it: delivered twice (a queue's duplicate,
    a retried send), each device still gets it once."""

    model_config = ConfigDict(frozen=True)

    push_id: str
    user_id: str
    kind: PushKind
    title: Annotated[str, StringConstraints(max_length=100)]
    body: Annotated[str, StringConstraints(max_length=180)]
    thread_id: str = Field(description="Groups pushes on the phone: a conversation, or a post's activity")
    data: dict[str, str] = Field(description="The ids the app needs to open the right screen")
    actor_id: str | None = Field(
        default=None,
        description="A notification's actor, whom the worker checks it still names as it publishes (not sent: the "
        "phone gets the username); absent on a message's, and on a notification's queued before it was kept",
    )
