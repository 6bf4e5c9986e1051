"""The stream routers on moto, wired from the template: a record too large for an SQS message reaches its
consumers whole, through the overflow bucket; a record nobody wants does not even invoke its router."""

import boto3
import pytest

from functions.search import consumers as search_index
from functions.search import handler as search
from pinhole.shared.settings import get_settings
from pinhole.streams.logic import MAX_MESSAGE_BYTES
from tests.support.event_sources import EventSources, InProcessRunner, RoutedQueues, drain_queue, route_streams
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.users import sign_up_claims

HUGE_BIO = "b" * 300_000  # a users item under DynamoDB's 400 KB; its MODIFY record carries it twice


@pytest.fixture
def world(aws: dict[str, str]) -> tuple[EventSources, RoutedQueues]:
    sources = EventSources(InProcessRunner())
    tables = {"Users": get_settings().users_table_name, "Posts": get_settings().posts_table_name}
    routed = route_streams(sources, {"Search/Indexer": search_index.on_change}, tables)
    return sources, routed


def found(claims: dict[str, str], q: str) -> list[str]:
    event = http_event("GET", "/search/users", claims=claims)
    event["queryStringParameters"] = {"q": q}
    response = search.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 200, response
    return [user["username"] for user in response_json(response)["items"]]


def test_a_record_larger_than_an_sqs_message_reaches_its_consumer_whole(
    world: tuple[EventSources, RoutedQueues],
) -> None:
    # Given a user, indexed
    sources, routed = world
    jose = sign_up_claims("jose")
    sources.settle()

    # When their profile becomes larger than an SQS message can carry twice (a new name, and a huge bio)
    boto3.client("dynamodb").update_item(
        TableName=get_settings().users_table_name,
        Key={"user_id": {"S": jose["sub"]}},
        UpdateExpression="SET display_name = :name, bio = :bio",
        ExpressionAttributeValues={":name": {"S": "Zacarías Ünal"}, ":bio": {"S": HUGE_BIO}},
    )
    sources.settle()

    # Then the record went through the overflow bucket, and the index found the new name in it
    listed = boto3.client("s3").list_objects_v2(Bucket=routed.overflow_bucket).get("Contents", [])
    assert len(listed) == 1 and listed[0]["Key"].startswith("users/") and listed[0]["Size"] > MAX_MESSAGE_BYTES
    assert found(jose, "zacarias") == ["jose"]
    # and nothing was given up on
    given_up = [drain_queue(url) for url in [*routed.dead_letters.values(), *routed.on_failure.values()]]
    assert given_up == [[], [], []]


def test_records_no_consumer_wants_never_invoke_the_router_and_the_others_go_where_they_are_wanted(
    world: tuple[EventSources, RoutedQueues],
) -> None:
    # Given the posts table's router, feeding the search index (which wants publications and deletions of
    # published posts)
    sources, routed = world
    ada = sign_up_claims("ada")
    sources.settle()
    posts = boto3.client("dynamodb")
    table = get_settings().posts_table_name
    item = {"post_id": {"S": "p1"}, "author_id": {"S": ada["sub"]}, "status": {"S": "pending"}}

    # When a post is created pending and a counter of it changes
    posts.put_item(TableName=table, Item=item)
    posts.update_item(
        TableName=table,
        Key={"post_id": {"S": "p1"}},
        UpdateExpression="SET like_count = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    sources.settle()

    # Then the router was not even invoked (its mapping's filters dropped both records)
    assert sources.runner.invocations["StreamRoutesPosts"] == 0
    indexed = sources.runner.records["SearchIndexer"]

    # When the post is published
    posts.update_item(
        TableName=table,
        Key={"post_id": {"S": "p1"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "published"}},
    )
    sources.settle()

    # Then that record alone reached the router, and the index
    assert (sources.runner.invocations["StreamRoutesPosts"], sources.runner.records["StreamRoutesPosts"]) == (1, 1)
    assert sources.runner.records["SearchIndexer"] == indexed + 1
    assert drain_queue(routed.queue_urls["Search/Indexer"]) == []
