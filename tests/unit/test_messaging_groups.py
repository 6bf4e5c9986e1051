"""The messaging contracts that need no AWS: what a send must name, group sizes, who may read what, and how
unsending a message changes each member's inbox entry."""

from typing import Any

import pytest
from pydantic import ValidationError

from pinhole.messaging.dal import EntryFix
from pinhole.messaging.logic import Standing, entry_fixes
from pinhole.messaging.models import CreateConversationRequest, InboxEntry, MessageRecord, SendMessageRequest
from pinhole.posts.models import StoredMedia


def record(message_id: str, sender: str = "ada", **changes: Any) -> MessageRecord:
    return MessageRecord(
        message_id=message_id, conversation_id="g-1", sender_id=sender, text=message_id, created_at="t", **changes
    )


def entry(user: str, last: str | None, unread: int, read_up_to: str | None, **changes: Any) -> InboxEntry:
    return InboxEntry(
        conversation_id="g-1",
        user_id=user,
        with_id="",
        last_message=record(last) if last else None,
        unread_count=unread,
        read_up_to=read_up_to,
        **changes,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"text": "no destination"},
        {"to": "bob", "conversation_id": "g-1", "text": "both"},
        {"to": "bob"},
        {"conversation_id": "g-1", "text": "   "},
    ],
)
def test_a_send_names_one_destination_and_something_to_say(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SendMessageRequest.model_validate(body)


def test_a_send_may_be_a_photo_alone() -> None:
    request = SendMessageRequest.model_validate(
        {"conversation_id": "g-1", "media": {"content_type": "image/jpeg", "size_bytes": 10}}
    )
    assert request.text is None and request.media is not None


@pytest.mark.parametrize(("names", "valid"), [(1, False), (2, True), (31, True), (32, True), (33, False)])
def test_a_group_request_names_two_to_thirty_two_people(names: int, valid: bool) -> None:
    # 32: 31 others and the caller's own name, which the logic drops before counting (it alone knows who asks)
    members = [f"user{index:02d}" for index in range(names)]
    if valid:
        assert len(CreateConversationRequest(members=members).members) == names
    else:
        with pytest.raises(ValidationError):
            CreateConversationRequest(members=members)


def test_a_group_request_as_retried_is_the_same_however_its_members_are_named() -> None:
    # Given one group named four ways: another order, the caller's own name, a name twice in two cases, capitals
    asked = [
        CreateConversationRequest(members=members, title="trip")
        for members in (["bob", "cat"], ["cat", "bob"], ["bob", "cat", "ADA"], ["bob", "cat", "Cat"], ["BOB", "cat"])
    ]

    # When each is read as a retry by ada compares it
    compared = {request.as_retried_by("ada").model_dump_json() for request in asked}

    # Then they are one request, and each still names its members in its own order, once each
    assert compared == {'{"members":["bob","cat"],"title":"trip"}'}
    assert [request.members for request in asked] == [
        ["bob", "cat"],
        ["cat", "bob"],
        ["bob", "cat", "ada"],
        ["bob", "cat"],
        ["bob", "cat"],
    ]


def test_a_member_reads_from_joining_to_leaving_and_pending_photos_are_the_senders_alone() -> None:
    standing = Standing("g-1", entry("bob", None, 0, None, visible_from="B", visible_until="D"))
    pending = StoredMedia(media_id="m", type="image", content_type="image/jpeg", size_bytes=1)

    assert [m for m in "ABCDE" if standing.can_read(record(m))] == ["B", "C", "D"]
    assert not standing.can_read(record("C", media=pending))
    assert standing.can_read(record("C", sender="bob", media=pending))


class LatestBefore:
    def latest_delivered_before(self, conversation_id: str, message_id: str, floor: str | None) -> MessageRecord:
        return record("B")


def test_unsending_fixes_only_the_entries_it_changes() -> None:
    # Given ada's message C: bob has not read it, cat read it, dan's preview is it but he read it, eve joined after
    entries = [
        entry("ada", "C", 0, "C"),
        entry("bob", "C", 2, "A"),
        entry("cat", "D", 1, "C"),
        entry("dan", "C", 0, "C"),
        entry("eve", "E", 1, None, visible_from="E"),
    ]

    fixes = entry_fixes(record("C"), entries, LatestBefore())  # type: ignore[arg-type]

    assert [(fix.entry.user_id, fix.replace_preview, fix.one_less_unread) for fix in fixes] == [
        ("ada", True, False),
        ("bob", True, True),
        ("dan", True, False),
    ]
    assert all(isinstance(fix, EntryFix) and fix.preview == record("B") for fix in fixes)
