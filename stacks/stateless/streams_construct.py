"""streams: every table stream has one Lambda reader, its router, and every consumer its own queue.

DynamoDB Streams serves at most two simultaneous readers per shard (more are throttled with
LimitExceededException and fall behind), and consumers keep coming. So a consumer never reads a stream
itself: it subscribes, with the patterns of the records it wants,

    queue = stream_routes.subscribe(function, {"posts": [REMOVED]}, what="Rendition cleanup")

and gets a queue of its own (FIFO, one message group per item, unless `ordered=False`), with a dead-letter
queue, partial batch failures, alarms, and read access to the overflow bucket. The table's router (created with
the first subscription to that table) sends it each matching record, unchanged. Adding a consumer is that one
call; the router's routes and its mapping's filters follow from the subscriptions at synth time.
Why this shape, its costs and limits: docs/INFRASTRUCTURE.md, "Stream routing"."""

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Lazy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pinhole.streams.models import ROUTES_ENV
from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.queues import work_queue
from stacks.stateless.alarms import alarm_on
from stacks.stateless.event_sources import AtSynth, consume_queue, consume_stream
from stacks.stateless.grants import grant_objects

ROUTER_BATCH_SIZE = 100
# Batches of one shard routed at once (Lambda keeps each item's records in order across them): a shard takes up
# to 1,000 writes a second, more than one router invocation at a time sends on.
ROUTER_PARALLELIZATION = 4
ROUTED_MAX_RECEIVES = 5
VISIBILITY_PER_TIMEOUT = 6  # AWS advises a visibility timeout of six times the consumer's timeout
BACKLOG_ALARM_AGE = Duration.minutes(5)
MAX_MAPPING_FILTERS = 5  # Lambda's default quota of filters per event source mapping

Pattern = dict[str, Any]


def _status(*statuses: str) -> Pattern:
    return {"status": {"S": list(statuses)}}


# Patterns several consumers of the posts table's stream share. A post is published after its upload
# (pending), after automatic screening held it (in_review), or restored by a moderator (removed); a moderator's
# removal takes a published post down without deleting it (pinhole.posts.models.PostStatus).
POST_PUBLISHED: Pattern = {
    "eventName": ["MODIFY"],
    "dynamodb": {"OldImage": _status("pending", "in_review", "removed"), "NewImage": _status("published")},
}
PUBLISHED_POST_REMOVED: Pattern = {"eventName": ["REMOVE"], "dynamodb": {"OldImage": _status("published")}}
PUBLISHED_POST_TAKEN_DOWN: Pattern = {  # removed by a moderator: kept, restorable, hidden from everyone else
    "eventName": ["MODIFY"],
    "dynamodb": {"OldImage": _status("published"), "NewImage": _status("removed")},
}
PUBLISHED_POST_EDITED: Pattern = {  # a caption edited (PATCH /posts/{id}): tags and mentions may change
    "eventName": ["MODIFY"],
    "dynamodb": {
        "OldImage": _status("published"),
        "NewImage": {**_status("published"), "edited_at": {"S": [{"exists": True}]}},
    },
}
PUBLISHED_POST_CHANGED: Pattern = {  # anything of a post that stays published: counts, caption
    "eventName": ["MODIFY"],
    "dynamodb": {"OldImage": _status("published"), "NewImage": _status("published")},
}
REMOVED: Pattern = {"eventName": ["REMOVE"]}


def created_or_removed(*sort_key_prefixes: str) -> list[Pattern]:
    """Items of these kinds (their sort key's prefix) created or deleted."""
    return [
        {"eventName": ["INSERT", "REMOVE"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": prefix}]}}}}
        for prefix in sort_key_prefixes
    ]


def covers(wider: Any, narrower: Any) -> bool:
    """Whether every record `narrower` matches, `wider` matches too: each field `wider` tests, `narrower` tests
    as well, for values among `wider`'s (so `narrower` adds nothing to a mapping that has `wider`)."""
    if isinstance(wider, dict):
        return isinstance(narrower, dict) and all(
            key in narrower and covers(value, narrower[key]) for key, value in wider.items()
        )
    if isinstance(wider, list):
        return isinstance(narrower, list) and all(value in wider for value in narrower)
    return bool(wider == narrower)


def mapping_filters(patterns: Sequence[Pattern]) -> list[Pattern] | None:
    """The router mapping's filters: every consumer's pattern that no other one covers, so Lambda drops what
    nobody wants before invoking the router; None (no filter: the router sorts every record itself) beyond
    the quota."""
    unique: list[Pattern] = []
    for pattern in patterns:
        if pattern not in unique:
            unique.append(pattern)
    kept = [
        pattern
        for index, pattern in enumerate(unique)
        if not any(covers(other, pattern) for other_index, other in enumerate(unique) if other_index != index)
    ]
    return kept if 0 < len(kept) <= MAX_MAPPING_FILTERS else None


class _Router(Construct):
    """The one reader of a table's stream."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        table_name: str,
        table: dynamodb.ITableV2,
        overflow_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table_name = table_name
        self.routes: list[dict[str, Any]] = []
        config = AtSynth(
            lambda: Stack.of(self).to_json_string(
                {"table": table_name, "overflow_bucket": overflow_bucket.bucket_name, "routes": self.routes}
            )
        )
        self.function = factory.create(
            self,
            context=constants.STREAMS,
            code_dir=f"{constants.FUNCTIONS_DIR}/{constants.STREAMS}",
            handler="handler.route",
            own_environment={ROUTES_ENV: Lazy.uncached_string(config)},
        )
        grant_objects(self.function, overflow_bucket, f"{table_name}/*", ["s3:PutObject"])
        self.failures = consume_stream(
            self,
            self.function,
            table,
            patterns=lambda: mapping_filters([pattern for route in self.routes for pattern in route["patterns"]]),
            what=f"Stream router ({table_name})",
            batch_size=ROUTER_BATCH_SIZE,
            parallelization_factor=ROUTER_PARALLELIZATION,
        )

    def add_route(self, consumer: str, queue: sqs.IQueue, fifo: bool, patterns: Sequence[Pattern]) -> None:
        self.routes.append({"consumer": consumer, "queue_url": queue.queue_url, "fifo": fifo, "patterns": patterns})
        queue.grant_send_messages(self.function)


class StreamRoutes(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        tables: Mapping[str, dynamodb.ITableV2],
        overflow_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self._factory = factory
        self._tables = tables
        self._overflow_bucket = overflow_bucket
        self.routers: dict[str, _Router] = {}
        self.consumers: list[lambda_.Function] = []
        self.dead_letter_queues: list[sqs.Queue] = []
        self.overflow_readers: list[tuple[lambda_.Function, str]] = []  # (function, table) of each grant

    def subscribe(
        self,
        function: lambda_.Function,
        sources: Mapping[str, Sequence[Pattern]],
        *,
        what: str,
        ordered: bool = True,
        batch_size: int = 10,
    ) -> sqs.Queue:
        """Feeds `function` with the records of each source table's stream that match one of its patterns,
        through a queue of its own (made in the function's scope); with `ordered`, a FIFO queue that keeps
        each item's records in stream order."""
        scope = function.node.scope
        assert isinstance(scope, Construct)
        timeout = function.timeout or Duration.seconds(3)
        queue, dead_letters = work_queue(
            scope,
            "RoutedRecords",
            "RoutedRecordsDeadLetters",
            visibility_timeout=Duration.seconds(timeout.to_seconds() * VISIBILITY_PER_TIMEOUT),
            max_receive_count=ROUTED_MAX_RECEIVES,
            fifo=ordered,
        )
        consume_queue(scope, function, queue, dead_letters, what=what, batch_size=batch_size)
        self.consumers.append(function)
        self.dead_letter_queues.append(dead_letters)
        alarm_on(
            scope,
            "RoutedRecordsBacklogAlarm",
            f"{what} falls behind its stream records",
            queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(1)),
            BACKLOG_ALARM_AGE.to_seconds(),
            evaluation_periods=3,
        )
        consumer = scope.node.path.split("/", 1)[1]
        for table_name, patterns in sources.items():
            self._router(table_name).add_route(consumer, queue, ordered, [dict(pattern) for pattern in patterns])
            grant_objects(function, self._overflow_bucket, f"{table_name}/*", ["s3:GetObject"])
            self.overflow_readers.append((function, table_name))
        return queue

    def _router(self, table_name: str) -> _Router:
        if table_name not in self.routers:
            self.routers[table_name] = _Router(
                self,
                table_name.capitalize(),
                factory=self._factory,
                table_name=table_name,
                table=self._tables[table_name],
                overflow_bucket=self._overflow_bucket,
            )
        return self.routers[table_name]
