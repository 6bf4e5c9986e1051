"""Stories among the posts table's stream consumers, without AWS: the fan-out routes a story's
publication to the stories path and leaves its expiry alone; notifications ignore it; and the id bound
that stories reads use."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from ulid import ULID

from functions.feed_fanout import handler as feed_fanout
from pinhole.feed.dal import WriteReport
from pinhole.notifications.activity import intents_of
from pinhole.shared.ids import first_id_at
from tests.support.events import FakeLambdaContext
from tests.support.streams import routed_event, stream_record

STORY, AUTHOR = "01JSTORY000000000000000000", "alice-sub"
EXPIRES = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def item(status: str, kind: str | None, mentions: list[str] | None = None) -> dict[str, Any]:
    found = {"post_id": STORY, "author_id": AUTHOR, "status": status, "caption": "", "mentions": mentions or []}
    if kind is not None:
        found["kind"] = kind
    if kind == "story" and status == "published":
        found["expires_at"] = int(EXPIRES.timestamp())
    return found


class Recorder:
    """Stands in for FanOut: which use case each record reached."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any) -> WriteReport:
            self.calls.append((name, args))
            return WriteReport()

        return record


@pytest.fixture
def fanout(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(feed_fanout, "fanout", recorder)
    return recorder


def deliver(*records: dict[str, Any]) -> None:
    result = feed_fanout.on_post_change(routed_event(list(records), "posts"), FakeLambdaContext())
    assert result == {"batchItemFailures": []}


def test_a_published_story_is_fanned_out_as_a_story_with_its_expiry(fanout: Recorder) -> None:
    deliver(stream_record("MODIFY", {"post_id": STORY}, old=item("pending", "story"), new=item("published", "story")))

    assert fanout.calls == [("story_published", (STORY, AUTHOR, EXPIRES))]


@pytest.mark.parametrize("kind", ["post", None], ids=["post", "stored-before-kinds"])
def test_a_post_is_fanned_out_as_before(fanout: Recorder, kind: str | None) -> None:
    deliver(
        stream_record("MODIFY", {"post_id": STORY}, old=item("pending", kind), new=item("published", kind)),
        stream_record("REMOVE", {"post_id": STORY}, old=item("published", kind)),
    )

    assert fanout.calls == [("post_published", (STORY, AUTHOR)), ("post_deleted", (STORY, AUTHOR))]


def test_a_moderators_removal_retracts_a_post_and_a_restore_or_a_release_pushes_it_again(fanout: Recorder) -> None:
    deliver(
        stream_record("MODIFY", {"post_id": STORY}, old=item("published", "post"), new=item("removed", "post")),
        stream_record("MODIFY", {"post_id": STORY}, old=item("removed", "post"), new=item("published", "post")),
        stream_record("MODIFY", {"post_id": STORY}, old=item("in_review", "post"), new=item("published", "post")),
        stream_record("MODIFY", {"post_id": STORY}, old=item("published", "post"), new=item("published", "post")),
    )

    assert fanout.calls == [
        ("post_deleted", (STORY, AUTHOR)),
        ("post_published", (STORY, AUTHOR)),
        ("post_published", (STORY, AUTHOR)),
    ]


def test_an_expired_story_retracts_nothing(fanout: Recorder) -> None:
    # Its feed entries carry the story's own expiry: the TTL deletes them for free
    deliver(stream_record("REMOVE", {"post_id": STORY}, old=item("published", "story")))

    assert fanout.calls == []


def published(kind: str | None) -> DynamoDBStreamRecordModel:
    old, new = item("pending", kind, ["carol"]), item("published", kind, ["carol"])
    return DynamoDBStreamRecordModel.model_validate(stream_record("MODIFY", {"post_id": STORY}, old=old, new=new))


def test_a_story_publication_notifies_nobody_where_a_post_would() -> None:
    assert [intent.mentioned for intent in intents_of(published("post"))] == ["carol"]
    assert [intent.mentioned for intent in intents_of(published(None))] == ["carol"]
    assert intents_of(published("story")) == []


def test_first_id_at_bounds_ids_made_from_that_moment_on() -> None:
    # Given a moment, and ids made a millisecond before it, at it and after it
    moment = datetime(2026, 11, 22, 10, 0, 0, 123000, tzinfo=UTC)
    before, at, later = (str(ULID.from_datetime(moment + timedelta(milliseconds=offset))) for offset in (-1, 0, 1))

    # Then the bound sorts above the earlier id and not above the others
    bound = first_id_at(moment)
    assert before < bound <= at < later
    assert bound == at[:10] + "0" * 16
