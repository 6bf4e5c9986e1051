"""Moderation's pure parts: how reports count into a case, the queue's order, the moderators' claim, automatic
screening's threshold, and the local Rekognition stand-in."""

import base64
import io
import json
from typing import Any

import pytest
from PIL import Image

from local.rekognition import ModerationRules, RekognitionStandIn
from pinhole.messaging.models import InboxEntry, MessageRecord
from pinhole.messaging.moderation import restore_fixes
from pinhole.moderation.dal import queue_position
from pinhole.moderation.logic import _counted, require_moderator
from pinhole.moderation.models import SEVERITY, CaseStatus, Reason, ReportRecord, TargetType, case_id_of
from pinhole.moderation.screening import ImageScreen
from pinhole.shared.api import token_groups
from pinhole.shared.caller import Caller
from pinhole.shared.errors import Forbidden


def _report(reason: Reason, at: str = "2026-12-05T10:00:00.000Z") -> ReportRecord:
    return ReportRecord(
        report_id=f"r-{reason.value}-{at}",
        case_id=case_id_of(TargetType.POST, "p1"),
        reporter_id="someone",
        target_type=TargetType.POST,
        target_id="p1",
        reason=reason,
        created_at=at,
    )


def test_reports_of_one_target_count_into_one_case_by_reason() -> None:
    first = _counted(None, _report(Reason.SPAM), "author")
    second = _counted(first, _report(Reason.NUDITY, "2026-12-05T10:01:00.000Z"), "author")
    third = _counted(second, _report(Reason.NUDITY, "2026-12-05T10:02:00.000Z"), "author")
    assert (third.report_count, third.reasons, third.status) == (3, {"spam": 1, "nudity": 2}, CaseStatus.OPEN)
    assert third.severity == SEVERITY[Reason.NUDITY]
    assert third.opened_at == first.opened_at == "2026-12-05T10:00:00.000Z"
    assert [first.version, second.version, third.version] == [0, 1, 2]


def test_a_closed_case_reported_again_opens_afresh() -> None:
    closed = _counted(None, _report(Reason.SELF_HARM), "author").model_copy(
        update={"status": CaseStatus.DISMISSED, "reasons": {}, "report_count": 0}
    )
    reopened = _counted(closed, _report(Reason.SPAM, "2026-12-06T00:00:00.000Z"), "author")
    assert (reopened.status, reopened.reasons, reopened.severity) == (
        CaseStatus.OPEN,
        {"spam": 1},
        SEVERITY[Reason.SPAM],
    )
    assert reopened.opened_at == "2026-12-06T00:00:00.000Z"


def test_the_queue_puts_severity_first_then_count_then_age() -> None:
    cases = {
        "one self-harm report": queue_position(SEVERITY[Reason.SELF_HARM], 1, "2026-12-05T12:00:00.000Z"),
        "fifty spam reports": queue_position(SEVERITY[Reason.SPAM], 50, "2026-12-05T09:00:00.000Z"),
        "three nudity reports": queue_position(SEVERITY[Reason.NUDITY], 3, "2026-12-05T11:00:00.000Z"),
        "two nudity reports, older": queue_position(SEVERITY[Reason.NUDITY], 2, "2026-12-05T08:00:00.000Z"),
        "two nudity reports, newer": queue_position(SEVERITY[Reason.NUDITY], 2, "2026-12-05T10:00:00.000Z"),
    }
    assert sorted(cases, key=cases.__getitem__) == [
        "one self-harm report",
        "three nudity reports",
        "two nudity reports, older",
        "two nudity reports, newer",
        "fifty spam reports",
    ]


def test_a_case_id_is_the_targets_whoever_reports_it() -> None:
    assert case_id_of(TargetType.POST, "p1") == case_id_of(TargetType.POST, "p1")
    assert case_id_of(TargetType.POST, "p1") != case_id_of(TargetType.STORY, "p1")
    assert len(case_id_of(TargetType.USER, "u")) == 24


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        ("[moderators]", {"moderators"}),
        ("[admins moderators]", {"admins", "moderators"}),
        (["moderators"], {"moderators"}),
        ("[]", set()),
        (None, set()),
        ("[moderatorsx]", {"moderatorsx"}),
    ],
)
def test_the_groups_claim_as_the_authorizer_renders_it(claim: Any, groups: set[str]) -> None:
    assert token_groups(claim) == groups


def test_only_the_moderators_group_may_moderate() -> None:
    require_moderator(Caller("u", "mod", frozenset({"moderators"})))
    for groups in (frozenset(), frozenset({"moderatorsx"}), frozenset({"admins"})):
        with pytest.raises(Forbidden):
            require_moderator(Caller("u", "someone", groups))


class FakeRekognition:
    def __init__(self, labels: list[dict[str, Any]]) -> None:
        self.labels = labels
        self.calls: list[dict[str, Any]] = []

    def detect_moderation_labels(self, **call: Any) -> dict[str, Any]:
        self.calls.append(call)
        return {"ModerationLabels": self.labels}


def test_screening_keeps_the_labels_at_or_above_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeRekognition(
        [
            {"Name": "Explicit Nudity", "ParentName": "", "Confidence": 91.0},
            {"Name": "Suggestive", "ParentName": "", "Confidence": 79.9},
            {"Name": "Violence", "ParentName": "", "Confidence": 80.0},
        ]
    )
    screen = ImageScreen(client)
    monkeypatch.setattr(ImageScreen, "enabled", property(lambda self: True))
    flagged = screen.flagged(b"jpeg bytes")
    assert [(label.name, label.confidence) for label in flagged] == [("Explicit Nudity", 91.0), ("Violence", 80.0)]
    assert client.calls == [{"Image": {"Bytes": b"jpeg bytes"}, "MinConfidence": 80.0}]


def test_screening_off_asks_nothing() -> None:
    client = FakeRekognition([{"Name": "Explicit Nudity", "Confidence": 99.0}])
    assert ImageScreen(client).flagged(b"jpeg bytes") == []  # IMAGE_MODERATION is unset in tests: off
    assert client.calls == []


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def test_the_stand_in_answers_by_colour_and_is_clean_by_default() -> None:
    rules = ModerationRules()
    assert rules.labels_for(_jpeg((250, 0, 250))) == []
    rules.set([{"colour": [250, 0, 250], "labels": [{"Name": "Explicit Nudity", "Confidence": 97.0}]}])
    assert rules.labels_for(_jpeg((245, 5, 248))) == [{"Name": "Explicit Nudity", "Confidence": 97.0}]
    assert rules.labels_for(_jpeg((40, 160, 90))) == []


def test_the_stand_in_speaks_rekognitions_json_protocol() -> None:
    stand_in = RekognitionStandIn()
    stand_in.rules.set([{"colour": [0, 0, 0], "labels": [{"Name": "Violence", "Confidence": 60.0}]}])
    call = {"Image": {"Bytes": base64.b64encode(_jpeg((0, 0, 0))).decode()}, "MinConfidence": 50}
    answer = json.loads(stand_in._detect(json.dumps(call).encode()).body)
    assert answer["ModerationLabels"] == [{"Name": "Violence", "ParentName": "", "Confidence": 60.0}]
    below = json.loads(stand_in._detect(json.dumps({**call, "MinConfidence": 70}).encode()).body)
    assert below["ModerationLabels"] == []
    assert stand_in._detect(b'{"Image": {"Bytes": "bm90IGFuIGltYWdl"}}').status_code == 400


def _message(message_id: str, sender_id: str = "x") -> MessageRecord:
    return MessageRecord(message_id=message_id, conversation_id="g1", sender_id=sender_id, text="", created_at="")


def _entry(user_id: str, last: str | None, read_up_to: str | None, visible_from: str | None = None) -> InboxEntry:
    last_message = None if last is None else _message(last)
    return InboxEntry(
        conversation_id="g1",
        user_id=user_id,
        with_id="",
        last_message=last_message,
        unread_count=0,
        read_up_to=read_up_to,
        visible_from=visible_from,
    )


def test_a_restored_message_is_the_preview_where_newest_and_unread_where_unread_never_for_its_sender() -> None:
    restored = _message("m5", sender_id="ann")
    entries = [
        _entry("ann", last="m4", read_up_to="m4"),  # its sender: preview again, never unread
        _entry("ben", last="m4", read_up_to="m3"),  # had not read it: preview and unread
        _entry("cy", last="m7", read_up_to="m7"),  # read past it, newer preview: nothing changes
        _entry("dee", last="m7", read_up_to=None, visible_from="m6"),  # joined after it: not in their history
    ]

    fixes = {fix.entry.user_id: (fix.replace_preview, fix.one_more_unread) for fix in restore_fixes(restored, entries)}

    assert fixes == {"ann": (True, False), "ben": (True, True)}
