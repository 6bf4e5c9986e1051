"""What a phone receives: SNS's per-platform message (MessageStructure=json). APNs gets `aps` (alert,
badge, thread-id, sound) beside the app's own `pinhole` ids; FCM gets an HTTP v1 message
(`fcmV1Message`) with the notification, string-valued data and Android's tag. Only ids and the short
text the notification itself says: never a message's or a comment's text."""

import json

from pinhole.push.models import Platform, PushJob


def apns(job: PushJob, badge: int) -> dict[str, object]:
    return {
        "aps": {
            "alert": {"title": job.title, "body": job.body},
            "badge": badge,
            "thread-id": job.thread_id,
            "sound": "default",
        },
        "pinhole": {"type": job.kind, **job.data},
    }


def fcm_v1(job: PushJob, badge: int) -> dict[str, object]:
    return {
        "fcmV1Message": {
            "message": {
                "notification": {"title": job.title, "body": job.body},
                "data": {"type": job.kind, "badge": str(badge), "thread_id": job.thread_id, **job.data},
                "android": {"priority": "high", "notification": {"tag": job.thread_id, "notification_count": badge}},
            }
        }
    }


def sns_message(job: PushJob, platform: Platform, badge: int) -> dict[str, str]:
    """The SNS message for one device: `default` and the key of its platform, each a JSON string."""
    if platform == Platform.FCM:
        return {"default": job.body, "GCM": json.dumps(fcm_v1(job, badge))}
    key = "APNS_SANDBOX" if platform == Platform.APNS_SANDBOX else "APNS"
    return {"default": job.body, key: json.dumps(apns(job, badge))}
