"""The search index's routes: which records of the users and posts tables' streams reach `on_change` (the
routes' patterns in the template, as the stream routers apply them), and who may write the index."""

from typing import Any

import pytest

from pinhole.streams.patterns import wanted
from stacks import constants
from tests.support.stream_routes import routers
from tests.support.streams import stream_record

POST = {"post_id": "01JPOST", "author_id": "u1", "caption": "#sunset", "tags": ["sunset"], "like_count": 0}
USER = {"user_id": "u1", "username": "jose", "display_name": "José", "follower_count": 0}


def _search_patterns(stateless: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The patterns of the search indexer's routes, by the table whose stream they route ("users", "posts")."""
    return {
        table: route.patterns
        for table, router in routers(stateless["Resources"]).items()
        for route in router.routes
        if route.consumer == "Search/Indexer"
    }


def test_search_indexer_gets_the_users_and_posts_records(stateless) -> None:
    # Retries, partial failures, dead-letter queue and alarms of every consumer: test_guarantees.py
    assert set(_search_patterns(stateless)) == {"users", "posts"}


def post_change(event_name: str, old_status: str | None, new_status: str | None, **changes: Any) -> dict[str, Any]:
    old = POST | {"status": old_status} if old_status else None
    new = POST | {"status": new_status} | changes if new_status else None
    return stream_record(event_name, {"post_id": POST["post_id"]}, old=old, new=new)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (post_change("MODIFY", "pending", "published"), True),
        (post_change("REMOVE", "published", None), True),
        (post_change("INSERT", None, "pending"), False),
        (post_change("MODIFY", "published", "published", like_count=1), False),
        (post_change("MODIFY", "pending", "failed"), False),
        (post_change("REMOVE", "failed", None), False),
    ],
    ids=["published", "published deleted", "created", "liked", "failed", "failed deleted"],
)
def test_only_publications_and_deletions_of_published_posts_reach_the_indexer(
    stateless, record: dict[str, Any], expected: bool
) -> None:
    patterns = _search_patterns(stateless)["posts"]

    assert wanted(record, patterns) is expected


@pytest.mark.parametrize("event_name", ["INSERT", "MODIFY", "REMOVE"])
def test_every_profile_change_reaches_the_indexer(stateless, event_name: str) -> None:
    # A filter cannot compare the two images: on_change drops the changes the index does not use itself
    record = stream_record(
        event_name,
        {"user_id": "u1"},
        old=None if event_name == "INSERT" else USER,
        new=None if event_name == "REMOVE" else USER | {"follower_count": 1},
    )
    patterns = _search_patterns(stateless)["users"]

    assert wanted(record, patterns)


WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def _granted(stateless: dict[str, Any], handler: str) -> set[str]:
    """The actions the role of the search function with this handler may take."""
    ((role,),) = [
        [resource["Properties"]["Role"]["Fn::GetAtt"][0]]
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == handler
        and resource["Properties"]["Environment"]["Variables"][constants.ENV_SERVICE_NAME] == constants.SEARCH
    ]
    statements = [
        statement
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    return {
        action
        for statement in statements
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }


def test_search_routes_read_only_and_only_the_indexer_writes(stateless) -> None:
    routes, indexer = _granted(stateless, "handler.handler"), _granted(stateless, "consumers.on_change")

    assert {"dynamodb:Query", "dynamodb:BatchGetItem"} <= routes
    assert not routes & WRITES
    assert indexer >= WRITES
    assert "dynamodb:Scan" not in routes | indexer
