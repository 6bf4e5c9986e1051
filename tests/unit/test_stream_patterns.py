import json

import pytest

from pinhole.streams.patterns import matches, patterns_of, wanted

REMOVE = {"eventName": "REMOVE", "dynamodb": {"Keys": {"post_id": {"S": "p1"}}}}
INSERT = {"eventName": "INSERT", "dynamodb": {"NewImage": {"status": {"S": "published"}}}}


def test_no_filter_criteria_lets_every_record_through() -> None:
    assert wanted(INSERT, patterns_of(None)) and wanted(REMOVE, patterns_of({}))


def test_literal_pattern_as_cdk_writes_it_selects_by_event_name() -> None:
    patterns = patterns_of({"Filters": [{"Pattern": json.dumps({"eventName": ["REMOVE"]})}]})

    assert wanted(REMOVE, patterns)
    assert not wanted(INSERT, patterns)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"dynamodb": {"NewImage": {"status": {"S": ["published"]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "pub"}]}}}}, True),
        ({"dynamodb": {"OldImage": {"status": {"S": [{"exists": True}]}}}}, False),
        ({"dynamodb": {"OldImage": [{"exists": False}]}}, True),
        ({"eventName": [{"anything-but": ["REMOVE", "MODIFY"]}]}, True),
        ({"eventName": ["MODIFY", "REMOVE"]}, False),
    ],
)
def test_nested_patterns_match_like_eventbridge(pattern: dict, expected: bool) -> None:
    assert matches(INSERT, pattern) is expected
