"""Faults in direct messages: POST /messages retried with its Idempotency-Key (a WebSocket frame's
client_id takes the same path) after the first attempt was throttled, collided, crashed after storing,
or lost its answer. Each message is stored once, in both inboxes, counted unread once, and pushed to
the recipient's open connection once; a failed first attempt is a 503 (throttled) or 500 in the API envelope, nothing
more."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.messaging import handler as http
from pinhole.messaging import dal, logic
from pinhole.messaging.dal import DELIVERY_LEASE_MS, MessagingModel
from pinhole.realtime.dal import ConnectionRepository
from pinhole.shared.settings import get_settings
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.faults import THROTTLED, THROTTLING, Fault, FaultInjector, injected_faults
from tests.support.realtime import FakeConnectionsApi
from tests.support.users import sign_up_claims


@pytest.fixture
def api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConnectionsApi]:
    fake = FakeConnectionsApi()
    monkeypatch.setattr(logic._pusher, "_client", fake)
    yield fake


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Any:
    with injected_faults(monkeypatch) as injector:
        yield injector


def send(sender: dict[str, str], to: str, text: str, key: str) -> tuple[int, Any]:
    event = http_event("POST", "/messages", claims=sender, body={"to": to, "text": text})
    event["headers"]["idempotency-key"] = key
    response = http.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def send_until_accepted(sender: dict[str, str], to: str, text: str, key: str) -> tuple[list[int], Any]:
    """What a client does: the same request, same key, until it is accepted (bounded)."""
    statuses = []
    for _ in range(5):
        status, body = send(sender, to, text, key)
        statuses.append(status)
        if status == 201:
            return statuses, body
        assert (status, body["error"]["code"]) in {(503, "unavailable"), (500, "internal")}, body
    raise AssertionError(f"never accepted: {statuses}")


class FlakyConnectionsApi(FakeConnectionsApi):
    """@connections refusing its first `failures` posts (API Gateway throttling the management API)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("LimitExceededException: injected")
        super().post_to_connection(ConnectionId, Data)


def test_retried_sends_store_count_and_push_each_message_once(
    aws: dict[str, str], api: FakeConnectionsApi, faults: FaultInjector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given bob online, and alice sending five messages, each first attempt failing another way
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    ConnectionRepository().add(bob["sub"], "bob-phone")
    store = "TransactWriteItems"
    faults.add(Fault("dynamodb", store, THROTTLED, when=lambda params: "refused" in json.dumps(params)))
    faults.add(Fault("dynamodb", store, "TransactionConflict", when=lambda p: "collided" in json.dumps(p), times=2))
    faults.add(Fault("dynamodb", store, THROTTLED, when=lambda p: "answer lost" in json.dumps(p), answer_lost=True))
    users_table = get_settings().users_table_name
    faults.add(
        Fault(
            "dynamodb",
            "GetItem",
            THROTTLING,
            when=lambda p: faults_armed and p["TableName"] == users_table and alice["sub"] in json.dumps(p),
        )
    )
    texts = ["refused", "collided", "answer lost", "crashed after storing", "plain retry"]

    # When each is sent until accepted (the fourth crashes reading alice's profile after storing,
    # the fifth is simply sent twice, as a client does whose first answer never arrived)
    outcomes = {}
    for text in texts:
        faults_armed = text == "crashed after storing"
        outcomes[text] = send_until_accepted(alice, "bob", text, key=f"key-{text}")
    faults_armed = False
    again = send(alice, "bob", "plain retry", key="key-plain retry")

    # Then the first attempts failed as injected, and every retry got the first message back
    assert {text: statuses for text, (statuses, _) in outcomes.items()} == {
        "refused": [503, 201],
        "collided": [201],
        "answer lost": [503, 201],
        "crashed after storing": [503, 201],
        "plain retry": [201],
    }
    assert again == (201, outcomes["plain retry"][1])
    # and each message is stored once, counted unread once, and pushed once
    conversation_id = outcomes["refused"][1]["conversation_id"]
    stored = [item.text for item in MessagingModel.query(f"conv#{conversation_id}")]
    assert sorted(stored) == sorted(texts)
    [inbox] = [item for item in MessagingModel.query(f"user#{bob['sub']}") if item.sk == f"conv#{conversation_id}"]
    assert inbox.unread_count == len(texts)
    pushed = [frame["message"]["text"] for frame in api.of_type("bob-phone", "message")]
    assert sorted(pushed) == sorted(texts)
    print("\nmessaging faults:", json.dumps({"messages": len(texts), "faults_injected": faults.injected}))


def test_a_push_that_fails_after_storing_is_pushed_by_the_retry(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given bob online, and @connections refusing the first push
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    ConnectionRepository().add(bob["sub"], "bob-phone")
    flaky = FlakyConnectionsApi(failures=1)
    monkeypatch.setattr(logic._pusher, "_client", flaky)

    # When alice sends until accepted
    statuses, message = send_until_accepted(alice, "bob", "hello", key="k-1")

    # Then the message was stored once and reached bob's phone once
    assert statuses == [500, 201]
    assert [frame["message"]["message_id"] for frame in flaky.of_type("bob-phone", "message")] == [
        message["message_id"]
    ]
    assert len(list(MessagingModel.query(f"conv#{message['conversation_id']}"))) == 1


def test_a_send_whose_attempt_died_pushing_is_pushed_by_a_retry_once_its_claim_ran_out(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given bob online, and alice's first attempt dying as it pushes (killed: its claim to push is never let go)
    alice, bob = sign_up_claims("alice"), sign_up_claims("bob")
    ConnectionRepository().add(bob["sub"], "bob-phone")
    flaky = FlakyConnectionsApi(failures=1)
    monkeypatch.setattr(logic._pusher, "_client", flaky)
    monkeypatch.setattr(logic._messages, "release_delivery", lambda *args: None)
    assert send(alice, "bob", "hello", key="k-1")[0] == 500

    # When alice retries at once, and again once the claim ran out
    soon = send(alice, "bob", "hello", key="k-1")
    pushed_soon = flaky.of_type("bob-phone", "message")
    later = datetime.now(UTC) + timedelta(milliseconds=DELIVERY_LEASE_MS + 1000)
    monkeypatch.setattr(dal, "utc_now", lambda: later)
    after = send(alice, "bob", "hello", key="k-1")

    # Then both retries answer the message; the first pushes nothing (the claim may be a live attempt's), the
    # second pushes it, once
    assert soon[0] == after[0] == 201 and soon[1] == after[1]
    assert pushed_soon == []
    assert [frame["message"]["message_id"] for frame in flaky.of_type("bob-phone", "message")] == [
        after[1]["message_id"]
    ]
    assert send(alice, "bob", "hello", key="k-1")[0] == 201
    assert len(flaky.of_type("bob-phone", "message")) == 1
