"""Notifications through the local cloud, the deployed way: a follow and a like go through the tables'
streams, the notifications FIFO queue and its consumer, then arrive live on an open WebSocket and in
GET /notifications; an unlike takes its notification back."""

from typing import Any

import pytest

from tests.e2e.test_feed import post_photo
from tests.support.api_client import Device, Member, eventually

pytestmark = pytest.mark.e2e


def listed(member: Member) -> list[tuple[str, str]]:
    response = member.http.get("/notifications")
    assert response.status_code == 200, response.text
    return [(item["type"], item["actor"]["username"]) for item in response.json()["items"]]


def test_notifications_arrive_live_and_in_the_list(local_cloud: Any) -> None:
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    phone = Device(local_cloud.outputs["WebSocketUrl"], ann)
    post_id = post_photo(ann, "sunrise")
    eventually(lambda: ann.http.get(f"/posts/{post_id}").json()["status"], lambda status: status == "published")

    assert ben.http.post(f"/users/{ann.username}/follow").status_code == 200
    followed = phone.next("notification", timeout_s=30)["notification"]
    assert ben.http.post(f"/posts/{post_id}/like").status_code == 200
    liked = phone.next("notification", timeout_s=30)["notification"]

    assert (followed["type"], followed["actor"]["username"]) == ("follow", ben.username)
    assert (liked["type"], liked["post_id"], liked["read"]) == ("like", post_id, False)
    assert listed(ann) == [("like", ben.username), ("follow", ben.username)]

    assert ben.http.delete(f"/posts/{post_id}/like").status_code == 200
    eventually(lambda: listed(ann), lambda found: found == [("follow", ben.username)])
    assert ann.http.post("/notifications/read", json={}).status_code == 204
    assert all(item["read"] for item in ann.http.get("/notifications").json()["items"])
    phone.close()
