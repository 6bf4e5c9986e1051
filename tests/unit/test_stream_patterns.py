import json

import pytest

from pinhole.streams.models import TTL_DELETER
from pinhole.streams.patterns import matches, patterns_of, wanted
from stacks.stateless.privacy_construct import DELETION_EXPIRED
from stacks.stateless.streams_construct import POST_PUBLISHED, PUBLISHED_POST_TAKEN_DOWN

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


def _post_change(old: str, new: str) -> dict:
    return {
        "eventName": "MODIFY",
        "dynamodb": {"OldImage": {"status": {"S": old}}, "NewImage": {"status": {"S": new}}},
    }


@pytest.mark.parametrize(
    ("old", "new", "published", "taken_down"),
    [
        ("pending", "published", True, False),
        ("in_review", "published", True, False),  # released by a moderator after automatic screening held it
        ("removed", "published", True, False),  # restored by a moderator
        ("published", "removed", False, True),  # removed by a moderator: kept, hidden
        ("pending", "in_review", False, False),
        ("in_review", "removed", False, False),  # never shown: nothing to retract
        ("published", "published", False, False),
    ],
)
def test_the_shared_post_patterns_follow_publication_and_moderation(
    old: str, new: str, published: bool, taken_down: bool
) -> None:
    record = _post_change(old, new)
    assert (matches(record, POST_PUBLISHED), matches(record, PUBLISHED_POST_TAKEN_DOWN)) == (published, taken_down)


def _privacy_removal(sk: str, **identity: str) -> dict:
    return {
        "eventName": "REMOVE",
        "dynamodb": {"Keys": {"user_id": {"S": "u1"}, "sk": {"S": sk}}},
        **({"userIdentity": identity} if identity else {}),
    }


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (_privacy_removal("deletion", **TTL_DELETER), True),
        (_privacy_removal("deletion"), False),  # a reactivation (or anyone) deleting the marker
        (_privacy_removal("deletion", type="Service", principalId="someone.amazonaws.com"), False),
        (_privacy_removal("export", **TTL_DELETER), False),  # an export's link expiring
        ({**_privacy_removal("deletion", **TTL_DELETER), "eventName": "MODIFY"}, False),
    ],
    ids=["expired marker", "deleted marker", "other service", "expired export", "not a removal"],
)
def test_only_a_deletion_marker_removed_by_its_ttl_reaches_the_purge_trigger(record: dict, expected: bool) -> None:
    assert wanted(record, DELETION_EXPIRED) is expected
