"""A group conversation in real time through the local cloud, with a real WebSocket client
(`websockets`): five members, one on two devices and one offline; a photo message whose picture is
private to the group; typing; an unsend; a member leaving mid-conversation and hearing nothing after; a video
message; a muted group; a creator who leaves."""

import io
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from PIL import Image

from tests.support.api_client import Device, Member, upload
from tests.support.video_corpus import build

pytestmark = pytest.mark.e2e


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), (20, 160, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def heard(device: Device, *types: str) -> list[dict[str, Any]]:
    return [frame for frame in device.heard_until_pong() if frame.get("type") in types]


def test_a_five_member_group_talks_shares_a_private_photo_types_unsends_and_loses_a_member(local_cloud: Any) -> None:
    url = str(local_cloud.outputs["WebSocketUrl"])
    ann, ben, cat, dan, eve = (Member(local_cloud.http) for _ in range(5))
    ann_phone, ben_phone, ben_laptop, cat_phone, dan_phone = (
        Device(url, member) for member in (ann, ben, ben, cat, dan)
    )  # eve is offline
    online = (ben_phone, ben_laptop, cat_phone, dan_phone)

    # Ann starts the group: everyone online hears of it
    created = ann.http.post(
        "/conversations", json={"members": [m.username for m in (ben, cat, dan, eve)], "title": "weekend"}
    )
    assert created.status_code == 201, created.text
    group = created.json()["conversation_id"]
    for device in online:
        assert device.next("conversation")["conversation"]["conversation_id"] == group
        assert device.next("message")["message"]["event"]["type"] == "created"

    # A text over the WebSocket reaches every other device once, and Ann's own by the ack
    ann_phone.send({"action": "sendMessage", "conversation_id": group, "text": "who's in?", "client_id": "a-1"})
    text = ann_phone.next("ack")["message"]
    for device in online:
        assert device.next("message")["message"]["message_id"] == text["message_id"]

    # Cat types: the others hear it once, Cat hears nothing of her own typing
    for _ in range(2):
        cat_phone.send({"action": "typing", "conversation_id": group})
    # (Cat's frames are handled in order: her pong means both typing frames were handled and pushed)
    assert heard(cat_phone, "typing") == []
    for device in (ann_phone, ben_phone, ben_laptop, dan_phone):
        assert heard(device, "typing") == [{"type": "typing", "conversation_id": group, "by": cat.username}]

    # A photo: answered with an upload, delivered to everyone once its picture is ready
    picture = photo()
    sent = ann.http.post(
        "/messages",
        json={
            "conversation_id": group,
            "text": "view",
            "media": {"content_type": "image/jpeg", "size_bytes": len(picture)},
        },
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["media"]["status"] == "pending"
    assert upload(sent.json()["upload"], picture).status_code == 204
    delivered = [device.next("message", timeout_s=60)["message"] for device in online]
    assert {m["message_id"] for m in delivered} == {sent.json()["message_id"]}
    large = delivered[0]["media"]["renditions"]["large"]
    assert (large["width"], large["height"]) == (1080, 810)
    # ... private: a signed, expiring URL outside MediaBaseUrl; the same URL without its signature is refused
    assert not large["url"].startswith(local_cloud.outputs["MediaBaseUrl"])
    fetched = httpx.get(large["url"], timeout=30)
    assert (fetched.status_code, fetched.headers["content-type"]) == (200, "image/jpeg")
    unsigned = urlunsplit(urlsplit(large["url"])._replace(query=""))
    assert httpx.get(unsigned, timeout=30).status_code == 403

    # Ann unsends her text: every device hears it, and nobody's preview or count keeps it
    assert ann.http.delete(f"/conversations/{group}/messages/{text['message_id']}").status_code == 204
    for device in online:
        assert device.next("message_deleted") == {
            "type": "message_deleted",
            "conversation_id": group,
            "message_id": text["message_id"],
        }
    history = eve.http.get(f"/conversations/{group}/messages").json()["items"]
    assert text["message_id"] not in [m["message_id"] for m in history]
    [eves] = [c for c in eve.http.get("/conversations").json()["items"] if c["conversation_id"] == group]
    assert eves["unread_count"] == 2  # the creation notice and the photo (the unsent text no longer counts)
    assert eves["last_message"]["message_id"] == sent.json()["message_id"]

    # Dan leaves mid-conversation: he hears nothing after, and his history ends with his leaving
    assert dan.http.delete(f"/conversations/{group}/members/{dan.username}").status_code == 204
    ann_phone.send({"action": "sendMessage", "conversation_id": group, "text": "dan's gone", "client_id": "a-2"})
    after = ann_phone.next("ack")["message"]
    assert ben_laptop.next("message")["message"]["event"] == {
        "type": "left",
        "usernames": [dan.username],
        "title": None,
    }
    assert ben_laptop.next("message")["message"]["message_id"] == after["message_id"]
    assert [f for f in heard(dan_phone, "message", "typing") if f["message"]["kind"] != "system"] == []
    dans = [m["text"] for m in dan.http.get(f"/conversations/{group}/messages").json()["items"]]
    assert dans[0] == f"{dan.username} left" and "dan's gone" not in dans
    refused = dan.http.post("/messages", json={"conversation_id": group, "text": "wait"})
    assert refused.status_code == 404
    dan_phone.send({"action": "sendMessage", "conversation_id": group, "text": "wait", "client_id": "d-1"})
    assert dan_phone.next("error")["code"] == "not_found"

    # Eve, offline all along, finds the conversation as it is
    eves_history = [m["text"] for m in eve.http.get(f"/conversations/{group}/messages").json()["items"]]
    assert eves_history[:3] == ["dan's gone", f"{dan.username} left", "view"]
    for device in (ann_phone, *online):
        device.close()


def test_a_video_message_a_muted_group_and_a_creator_who_leaves(local_cloud: Any) -> None:
    url = str(local_cloud.outputs["WebSocketUrl"])
    ann, ben, cat = (Member(local_cloud.http) for _ in range(3))
    ben_phone, cat_phone = Device(url, ben), Device(url, cat)
    created = ann.http.post("/conversations", json={"members": [ben.username, cat.username]})
    assert created.status_code == 201, created.text
    group = created.json()["conversation_id"]
    assert created.json()["admin"]["username"] == ann.username
    for device in (ben_phone, cat_phone):
        assert device.next("message")["message"]["event"]["type"] == "created"

    # Cat mutes the group: it lists as muted for her, and still reaches her phone's connection
    assert cat.http.post(f"/conversations/{group}/mute").status_code == 204
    [cats] = [c for c in cat.http.get("/conversations").json()["items"] if c["conversation_id"] == group]
    assert cats["muted"] is True

    # A video: answered with an upload, delivered to everyone once transcode has made its MP4s and poster
    clip = build("half-second")
    media = {"content_type": "video/mp4", "size_bytes": len(clip)}
    sent = ann.http.post("/messages", json={"conversation_id": group, "text": "clip", "media": media})
    assert sent.status_code == 201, sent.text
    assert (sent.json()["media"]["type"], sent.json()["media"]["status"]) == ("video", "pending")
    assert upload(sent.json()["upload"], clip, "clip.mp4", "video/mp4").status_code == 204
    delivered = [device.next("message", timeout_s=120)["message"] for device in (ben_phone, cat_phone)]
    assert {m["message_id"] for m in delivered} == {sent.json()["message_id"]}
    renditions = delivered[0]["media"]["renditions"]
    assert "hls" not in renditions and {"video", "poster", "thumb"} <= set(renditions)
    assert not renditions["video"]["url"].startswith(local_cloud.outputs["MediaBaseUrl"])
    video = httpx.get(renditions["video"]["url"], timeout=30)
    assert (video.status_code, video.headers["content-type"]) == (200, "video/mp4")

    # Ann, the creator, leaves: the longest-standing member (Ben and Cat founded it together: the smaller user id)
    # manages the group, and removes the other
    assert ann.http.delete(f"/conversations/{group}/members/{ann.username}").status_code == 204
    admin = ben.http.get("/conversations").json()["items"][0]["admin"]
    assert admin["username"] in (ben.username, cat.username)
    admin_member, other = (ben, cat) if admin["username"] == ben.username else (cat, ben)
    refused = other.http.delete(f"/conversations/{group}/members/{admin_member.username}")
    assert refused.status_code == 403
    assert admin_member.http.delete(f"/conversations/{group}/members/{other.username}").status_code == 204

    # The last member leaves: the video's files go (its signed URL, still within its 10 minutes, finds nothing)
    assert admin_member.http.delete(f"/conversations/{group}/members/{admin_member.username}").status_code == 204
    assert httpx.get(renditions["video"]["url"], timeout=30).status_code in (403, 404)
    for device in (ben_phone, cat_phone):
        device.close()
