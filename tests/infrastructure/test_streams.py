"""Table streams and their readers: DynamoDB Streams serves at most two simultaneous readers per shard (more
are throttled, LimitExceededException, and fall behind), so no stream may have more than two, counting every
kind of reader (Lambda event source mappings, EventBridge pipes). Pinhole gives each stream one, its router,
and each consumer a queue of its own (stacks/stateless/streams_construct.py)."""

import json
from collections import defaultdict
from typing import Any

import pytest

from pinhole.streams.logic import MAX_INLINE_BYTES
from stacks.stateless.streams_construct import MAX_MAPPING_FILTERS, covers, mapping_filters
from tests.infrastructure.assembly import CloudAssembly, Resource
from tests.support.stream_routes import TemplateRouter, routers

MAX_READERS_PER_STREAM = 2
LAMBDA_ENVIRONMENT_LIMIT = 4 * 1024
# Deployed lengths the template cannot show, taken at their longest: an SQS queue URL (80-character name), a
# bucket name.
LONGEST_QUEUE_URL = len("https://sqs.ap-southeast-2.amazonaws.com/123456789012/") + 80
LONGEST_BUCKET_NAME = 63
TABLE_TYPES = ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")


def _stream_readers(assembly: CloudAssembly) -> dict[tuple[str, str], list[str]]:
    """The construct paths of every reader of each table's stream, by table (stack, logical id)."""
    readers: dict[tuple[str, str], list[str]] = defaultdict(list)
    sources = [(m, m.properties["EventSourceArn"]) for m in assembly.all_of("AWS::Lambda::EventSourceMapping")]
    sources += [(pipe, pipe.properties["Source"]) for pipe in assembly.all_of("AWS::Pipes::Pipe")]
    for reader, arn in sources:
        found = assembly.referenced(reader.stack, arn)
        if found is not None and found[0].type in TABLE_TYPES and found[1] == "StreamArn":
            readers[(found[0].stack, found[0].logical_id)].append(reader.path)
    return readers


def _streamed_tables(assembly: CloudAssembly) -> list[Resource]:
    def has_stream(table: Resource) -> bool:
        specification = table.properties.get("StreamSpecification") or {}
        return bool(specification.get("StreamViewType") or specification.get("StreamEnabled"))

    return [table for table in assembly.all_of(*TABLE_TYPES) if has_stream(table)]


def test_no_table_stream_has_more_than_two_readers(cloud_assembly: CloudAssembly) -> None:
    # Given every reader of every table stream
    readers = _stream_readers(cloud_assembly)

    # Then none has more than DynamoDB Streams serves without throttling
    over = {table: paths for table, paths in readers.items() if len(paths) > MAX_READERS_PER_STREAM}
    assert not over, f"streams with more than {MAX_READERS_PER_STREAM} readers: {over}"
    assert readers, "no stream reader found: the discovery is broken"


def test_every_table_stream_has_one_reader_its_router(cloud_assembly: CloudAssembly, stateless: dict[str, Any]) -> None:
    # Given the readers of each table's stream, and the routers
    readers = _stream_readers(cloud_assembly)
    by_table = routers(stateless["Resources"])

    # Then each stream is read once, by its router (the second reader DynamoDB Streams allows stays free)
    for table in _streamed_tables(cloud_assembly):
        paths = readers.get((table.stack, table.logical_id), [])
        assert len(paths) <= 1 and all("/StreamRoutes/" in path for path in paths), (table.path, paths)
    assert {
        path.split("/StreamRoutes/")[1].split("/")[0].lower() for paths in readers.values() for path in paths
    } == set(by_table)


def _queue_consumers(stateless: dict[str, Any]) -> dict[str, str]:
    """The function (logical id) consuming each queue of the stateless stack, by queue logical id."""
    consumers = {}
    for mapping in stateless["Resources"].values():
        if mapping["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        source = mapping["Properties"]["EventSourceArn"]
        if "Fn::GetAtt" in source:
            consumers[source["Fn::GetAtt"][0]] = mapping["Properties"]["FunctionName"]["Ref"]
    return consumers


@pytest.fixture(scope="module")
def template_routers(stateless: dict[str, Any]) -> dict[str, TemplateRouter]:
    return routers(stateless["Resources"])


def test_every_route_leads_to_a_queue_its_consumer_reads(stateless: dict[str, Any], template_routers) -> None:
    resources, consumers = stateless["Resources"], _queue_consumers(stateless)
    for router in template_routers.values():
        for route in router.routes:
            queue = resources[route.queue]
            # Given a route: its queue is FIFO exactly when the route keeps order, with a dead-letter queue
            assert queue["Type"] == "AWS::SQS::Queue"
            assert bool(queue["Properties"].get("FifoQueue")) is route.fifo
            assert "deadLetterTargetArn" in queue["Properties"]["RedrivePolicy"]
            # And the function reading it is the consumer the route names
            function = resources[consumers[route.queue]]
            assert f"/{route.consumer}/" in function["Metadata"]["aws:cdk:path"]


def test_every_consumer_of_a_stream_record_is_routed(template_routers) -> None:
    # Given the consumers the routes name
    routed = {route.consumer for router in template_routers.values() for route in router.routes}

    # Then every one that reads table records is among them (what issues 13-17 add subscribes the same way)
    assert routed >= {
        "Resize/Cleanup",
        "FeedFanout/PostsStream",
        "FeedFanout/GraphStream",
        "FeedFanout/UsersStream",
        "Notifications/Activity",
        "Search/Indexer",
    }


def test_order_is_kept_for_every_consumer_but_the_rendition_cleanup(template_routers) -> None:
    unordered = {route.consumer for router in template_routers.values() for route in router.routes if not route.fifo}

    # A post's REMOVE comes once and cleaning up is idempotent; everything else depends on each item's order
    assert unordered == {"Resize/Cleanup"}


def test_the_router_mapping_lets_through_everything_a_route_wants(stateless: dict[str, Any], template_routers) -> None:
    resources = stateless["Resources"]
    for router in template_routers.values():
        (mapping,) = [
            m["Properties"]
            for m in resources.values()
            if m["Type"] == "AWS::Lambda::EventSourceMapping"
            and m["Properties"]["FunctionName"] == {"Ref": router.function}
        ]
        filters = [json.loads(f["Pattern"]) for f in mapping.get("FilterCriteria", {}).get("Filters", [])]
        # Then with filters, every route's every pattern is one of them or covered by one (no filter: the router
        # sorts all); only a table whose consumers want more than Lambda's quota of patterns goes unfiltered
        wanted = [pattern for route in router.routes for pattern in route.patterns]
        assert all(any(covers(f, pattern) for f in filters) for pattern in wanted) or not filters, router.table
        assert len(filters) <= MAX_MAPPING_FILTERS
        assert filters or mapping_filters(wanted) is None, router.table


def test_mapping_filters_are_each_pattern_once_and_none_beyond_lambdas_quota() -> None:
    removed, modified = {"eventName": ["REMOVE"]}, {"eventName": ["MODIFY"]}

    assert mapping_filters([removed, modified, removed]) == [removed, modified]
    published = {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["published"]}}}}
    edited = {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["published"]}, "edited_at": {}}}}
    assert mapping_filters([edited, published, removed]) == [published, removed]  # edited adds nothing
    assert mapping_filters([published, {"eventName": ["MODIFY", "REMOVE"]}]) == [{"eventName": ["MODIFY", "REMOVE"]}]
    assert mapping_filters([published, {**published, "eventName": ["INSERT"]}]) == [
        published,
        {**published, "eventName": ["INSERT"]},
    ]
    assert mapping_filters([{"eventName": [f"E{n}"]} for n in range(MAX_MAPPING_FILTERS + 1)]) is None
    assert mapping_filters([]) is None


def test_router_variables_fit_lambdas_4_kb_at_their_longest(template_routers) -> None:
    for router in template_routers.values():
        # Given the router's variables with every queue URL and bucket name at its longest
        length = len(router.variables_json)
        for placeholder in {route.queue for route in router.routes}:
            length += LONGEST_QUEUE_URL - len(f"@{placeholder}@")
        length += LONGEST_BUCKET_NAME

        # Then they fit, with room for more consumers
        assert length <= LAMBDA_ENVIRONMENT_LIMIT, (router.table, length)
        print(f"\n{router.table} router variables: at most {length} of {LAMBDA_ENVIRONMENT_LIMIT} bytes")


def _role_statements(stateless: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = stateless["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_a_router_may_read_its_stream_send_to_its_consumers_and_put_overflow_and_nothing_else(
    stateless: dict[str, Any], template_routers
) -> None:
    for router in template_routers.values():
        statements = _role_statements(stateless, router.function)
        actions = {action for statement in statements for action in _actions(statement)}
        # Then it touches no table's items, and writes to S3 only under its table's prefix of the overflow bucket
        assert not {
            a
            for a in actions
            if a.startswith("dynamodb:")
            and a
            not in {
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            }
        }
        assert {a for a in actions if a.startswith("s3:")} == {"s3:PutObject"}
        (put,) = [s for s in statements if "s3:PutObject" in _actions(s)]
        assert "StreamOverflow" in json.dumps(put["Resource"]) and f'"/{router.table}/*"' in json.dumps(put["Resource"])
        # And it may send to exactly its consumers' queues, and to its mapping's on-failure destination
        sent_to = {
            resource["Fn::GetAtt"][0]
            for statement in statements
            if "sqs:SendMessage" in _actions(statement)
            for resource in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            if "Fn::GetAtt" in resource
        }
        (mapping,) = [
            m["Properties"]
            for m in stateless["Resources"].values()
            if m["Type"] == "AWS::Lambda::EventSourceMapping"
            and m["Properties"]["FunctionName"] == {"Ref": router.function}
        ]
        on_failure = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert sent_to == {route.queue for route in router.routes} | {on_failure}


def test_a_record_too_large_for_an_sqs_message_goes_to_the_overflow_bucket_which_forgets_it_later(
    stateful: dict[str, Any],
) -> None:
    # Given the overflow bucket
    ((bucket,),) = [
        [resource]
        for resource in stateful["Resources"].values()
        if resource["Type"] == "AWS::S3::Bucket" and "/StreamOverflow/" in resource["Metadata"]["aws:cdk:path"]
    ]

    # Then its objects expire, but not before a message naming one can have left every queue (14 days in a
    # queue, 14 more in a FIFO dead-letter queue)
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] >= 28 and rule["Status"] == "Enabled"
    assert MAX_INLINE_BYTES < 256 * 1024
