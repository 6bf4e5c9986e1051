"""Direct messages in real time through the local cloud's WebSocket API, with a real WebSocket
client (`websockets`): the same frames a mobile app sends and receives."""

import json
import re
from typing import Any

import boto3
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.api_client import Device, Member

pytestmark = pytest.mark.e2e


@pytest.fixture
def websocket_url(local_cloud: Any) -> str:
    return str(local_cloud.outputs["WebSocketUrl"])


def send(device: Device, to: Member, text: str, client_id: str) -> dict[str, Any]:
    device.send({"action": "sendMessage", "to": to.username, "text": text, "client_id": client_id})
    return device.next("ack")


def test_two_people_one_with_two_devices_talk_in_real_time(local_cloud: Any, websocket_url: str) -> None:
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    ann_phone, ann_laptop, ben_phone = (
        Device(websocket_url, ann),
        Device(websocket_url, ann),
        Device(websocket_url, ben),
    )

    ack = send(ann_phone, ben, "hi ben", "a-1")
    received = ben_phone.next("message")["message"]
    on_laptop = ann_laptop.next("message")["message"]
    ben_phone.send({"action": "sendMessage", "to": ann.username, "text": "hi ann", "client_id": "b-1"})
    reply = {key: value for key, value in ben_phone.next("ack")["message"].items() if key != "upload"}

    assert ack["client_id"] == "a-1"
    # the ack's message is POST /messages' answer: with `upload` (null for a text), the sender's alone
    assert received == on_laptop == {key: value for key, value in ack["message"].items() if key != "upload"}
    assert ack["message"]["upload"] is None
    assert received["sender"]["username"] == ann.username
    assert ann_phone.next("message")["message"] == reply
    assert ann_laptop.next("message")["message"] == reply
    assert [frame["type"] for frame in ann_phone.heard_until_pong()] == []  # no echo of its own send
    for device in (ann_phone, ann_laptop, ben_phone):
        device.close()


def test_an_offline_user_finds_the_messages_in_history(local_cloud: Any, websocket_url: str) -> None:
    ann, cat = Member(local_cloud.http), Member(local_cloud.http)
    ann_phone = Device(websocket_url, ann)
    sent = [send(ann_phone, cat, f"message {i}", f"c-{i}")["message"] for i in range(3)]
    ann_phone.close()

    [conversation] = cat.http.get("/conversations").json()["items"]
    history = cat.http.get(f"/conversations/{conversation['conversation_id']}/messages").json()["items"]

    assert conversation["unread_count"] == 3
    assert conversation["with"]["username"] == ann.username
    assert [message["message_id"] for message in history] == [message["message_id"] for message in reversed(sent)]


def test_a_third_user_cannot_read_the_conversation(local_cloud: Any, websocket_url: str) -> None:
    ann, ben, eve = (Member(local_cloud.http) for _ in range(3))
    message = ann.http.post("/messages", json={"to": ben.username, "text": "just us"}).json()
    conversation_id = message["conversation_id"]

    assert eve.http.get(f"/conversations/{conversation_id}/messages").status_code == 404
    assert (
        eve.http.post(f"/conversations/{conversation_id}/read", json={"up_to": message["message_id"]}).status_code
        == 404
    )
    eve_phone = Device(websocket_url, eve)
    eve_phone.send({"action": "markRead", "conversation_id": conversation_id, "up_to": message["message_id"]})
    assert eve_phone.next("error")["code"] == "not_found"
    eve_phone.close()


@pytest.mark.parametrize("token", ["", "not-a-token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_a_bad_token_is_refused_at_the_handshake(websocket_url: str, token: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{websocket_url}?token={token}", open_timeout=10)
    assert refused.value.response.status_code == 401


def test_the_token_may_be_offered_as_a_subprotocol(local_cloud: Any, websocket_url: str) -> None:
    ann = Member(local_cloud.http)
    with connect(websocket_url, subprotocols=["pinhole", ann.access_token], open_timeout=10) as connection:  # type: ignore[list-item]
        assert connection.subprotocol == "pinhole"
        connection.send(json.dumps({"action": "ping"}))
        assert json.loads(connection.recv(timeout=10)) == {"type": "pong"}


def test_a_malformed_frame_gets_an_error_frame_and_the_connection_survives(
    local_cloud: Any, websocket_url: str
) -> None:
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    phone = Device(websocket_url, ann)

    phone.send("{not json")
    assert phone.next("error")["code"] == "invalid_frame"
    phone.send({"action": "teleport"})
    assert phone.next("error")["code"] == "unknown_action"
    phone.send({"action": "sendMessage", "to": ben.username, "text": "", "client_id": "x-1"})
    invalid = phone.next("error")
    assert (invalid["code"], invalid["client_id"]) == ("validation_error", "x-1")

    assert send(phone, ben, "still here", "x-2")["message"]["text"] == "still here"
    phone.close()


def test_a_vanished_connection_is_cleaned_up(local_cloud: Any, websocket_url: str) -> None:
    ann, ben = Member(local_cloud.http), Member(local_cloud.http)
    laptop = Device(websocket_url, ben)
    # A connection API Gateway dropped without $disconnect reaching us (best-effort on AWS): still in
    # the connections table, unknown to the gateway, so @connections answers 410 Gone for it.
    connections = _ConnectionsTable(local_cloud)
    connections.add(ben.user_id, "vanished-connection")
    assert len(connections.of(ben.user_id)) == 2

    ann.http.post("/messages", json={"to": ben.username, "text": "anyone?"})

    assert laptop.next("message")["message"]["text"] == "anyone?"
    assert "vanished-connection" not in connections.of(ben.user_id)
    assert len(connections.of(ben.user_id)) == 1
    laptop.close()


class _ConnectionsTable:
    """The local cloud's connections table, read and written straight through its moto endpoint."""

    def __init__(self, local_cloud: Any) -> None:
        moto_url = re.search(r"moto at (http://\S+)", local_cloud.output())
        assert moto_url, local_cloud.output()
        self.client = boto3.client("dynamodb", endpoint_url=moto_url.group(1), region_name="us-east-1")
        [self.table] = [name for name in self.client.list_tables()["TableNames"] if "ConnectionsTable" in name]

    def add(self, user_id: str, connection_id: str) -> None:
        item = {"user_id": user_id, "connection_id": connection_id, "connected_at": "2026-11-22T10:00:00.000Z"}
        self.client.put_item(
            TableName=self.table,
            Item={**{key: {"S": value} for key, value in item.items()}, "expires_at": {"N": str(2**31)}},
        )

    def of(self, user_id: str) -> list[str]:
        items = self.client.query(
            TableName=self.table,
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
            ConsistentRead=True,
        )["Items"]
        return [item["connection_id"]["S"] for item in items]
