"""The local cloud refuses what DynamoDB Streams would throttle: more than two readers of one stream."""

from typing import Any, cast

import pytest

from local.pumps import EventSource, _refuse_crowded_streams
from local.template import TemplateError

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/posts/stream/2026-11-22T00:00:00.000"


class Function:
    def __init__(self, logical_id: str) -> None:
        self.logical_id = logical_id


def reader(name: str, kind: str = "dynamodb", source: str = STREAM) -> EventSource:
    return EventSource(kind, source, cast(Any, Function(name)), {})


def test_two_readers_of_a_stream_are_served() -> None:
    _refuse_crowded_streams([reader("Router"), reader("Replicator"), reader("Other", source=f"{STREAM}-other")])


def test_a_third_reader_of_a_stream_is_refused_with_the_readers_named() -> None:
    with pytest.raises(TemplateError, match="LimitExceededException") as refused:
        _refuse_crowded_streams([reader("Cleanup"), reader("FanOut"), reader("Search"), reader("Queue", kind="sqs")])

    assert "Cleanup" in str(refused.value) and "Search" in str(refused.value) and "Queue" not in str(refused.value)
