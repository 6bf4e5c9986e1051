"""feed_read: GET /feed, POST /feed/seen and GET /stories/feed (JWT). feed_signals: what the ranked feed
learns from the interactions, messages and posts tables' records (affinity, authors' recent posts).
feed_fanout: the push half of the hybrid feed, one function per event source — the posts, graph and users
tables' streams, and the fan-out queue of large deliveries — each with bisect on error, bounded retries,
partial batch failures, an on-failure queue and alarms."""

from collections.abc import Mapping

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateful.feed_construct import FANOUT_DELIVER_TIMEOUT
from stacks.stateful.posts_construct import STORIES_BY_AUTHOR_INDEX
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.event_sources import consume_queue, consume_stream
from stacks.stateless.grants import grant_table_read, grant_table_read_write

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.FEED_FANOUT}"
DELIVER_BATCH_SIZE = 2
ROUTES = (
    (apigwv2.HttpMethod.GET, "/feed"),
    (apigwv2.HttpMethod.POST, "/feed/seen"),
    (apigwv2.HttpMethod.GET, "/stories/feed"),
)
# Celebrities' posts and stories are pulled from these; a follow backfills from them.
AUTHOR_INDEXES = (constants.POSTS_BY_AUTHOR_INDEX, STORIES_BY_AUTHOR_INDEX)

# Which stream records each entry point wants (Lambda drops the others before invoking).
_WANTED = {
    "posts": [
        {"eventName": lambda_.FilterRule.is_equal("MODIFY")},
        {"eventName": lambda_.FilterRule.is_equal("REMOVE")},
    ],
    "graph": [
        {"eventName": lambda_.FilterRule.is_equal("INSERT")},
        {"eventName": lambda_.FilterRule.is_equal("REMOVE")},
    ],
    "users": [{"eventName": lambda_.FilterRule.is_equal("MODIFY")}],
}


class FeedReadApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        tables: Mapping[str, dynamodb.ITableV2],
        cursor_secret: secretsmanager.ISecret,
        ranking: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(
            self, context=constants.FEED_READ, code_dir=f"{constants.FUNCTIONS_DIR}/{constants.FEED_READ}"
        )
        # Only the feed's functions are told the ranking's settings: the shared variables are near Lambda's 4 KB.
        self.function.add_environment(constants.ENV_FEED_RANKING, ranking)
        # the feed's own partition: snapshots of ranked pages, impressions
        grant_table_read_write(self.function, tables["feeds"])
        for name in ("users", "graph", "interactions"):
            grant_table_read(self.function, tables[name])
        grant_table_read(self.function, tables["posts"], index_names=AUTHOR_INDEXES)
        cursor_secret.grant_read(self.function)
        http_api.add_routes(self.function, ROUTES, public=False)


class FeedFanout(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        tables: Mapping[str, dynamodb.ITableV2],
        fanout_queue: sqs.IQueue,
        fanout_dlq: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: list[lambda_.Function] = []
        self.failure_queues: list[sqs.Queue] = []
        for source, entry_point in (
            ("posts", "on_post_change"),
            ("graph", "on_follow_change"),
            ("users", "on_user_change"),
        ):
            function = self._stream_consumer(factory, tables, source, entry_point)
            fanout_queue.grant_send_messages(function)  # a large fan-out leaves as chunks
            self.functions.append(function)
        self.deliver = self._function(factory, tables, "Deliver", "deliver")
        consume_queue(
            self, self.deliver, fanout_queue, fanout_dlq, what="Feed fan-out chunks", batch_size=DELIVER_BATCH_SIZE
        )
        self.functions.append(self.deliver)

    def _function(
        self, factory: FunctionFactory, tables: Mapping[str, dynamodb.ITableV2], name: str, entry_point: str
    ) -> lambda_.Function:
        scope = Construct(self, name)
        function = factory.create(
            scope,
            context=constants.FEED_FANOUT,
            code_dir=CODE_DIR,
            handler=f"handler.{entry_point}",
            timeout=FANOUT_DELIVER_TIMEOUT,
        )
        grant_table_read_write(function, tables["feeds"])
        grant_table_read(function, tables["graph"], index_names=[constants.GRAPH_INVERSE_INDEX])
        grant_table_read(function, tables["users"])
        grant_table_read(function, tables["posts"], index_names=AUTHOR_INDEXES)  # a follow backfills both
        return function

    def _stream_consumer(
        self, factory: FunctionFactory, tables: Mapping[str, dynamodb.ITableV2], source: str, entry_point: str
    ) -> lambda_.Function:
        name = f"{source.capitalize()}Stream"
        function = self._function(factory, tables, name, entry_point)
        scope = function.node.scope
        assert isinstance(scope, Construct)
        failures = consume_stream(
            scope, function, tables[source], patterns=_WANTED[source], what=f"Feed fan-out ({source})"
        )
        self.failure_queues.append(failures)
        return function


# What the ranked feed's signals want of each table (pinhole.feed.signals ignores anything else).
_SIGNALS = {
    # likes and comments created; profile visits stamped
    "interactions": [
        {"eventName": lambda_.FilterRule.is_equal("INSERT")},
        {"eventName": lambda_.FilterRule.is_equal("MODIFY")},
    ],
    # inbox entries taking a new message
    "messages": [
        {"eventName": lambda_.FilterRule.is_equal("INSERT")},
        {"eventName": lambda_.FilterRule.is_equal("MODIFY")},
    ],
    # published, deleted, counts moving
    "posts": [
        {"eventName": lambda_.FilterRule.is_equal("MODIFY")},
        {"eventName": lambda_.FilterRule.is_equal("REMOVE")},
    ],
}


class FeedSignals(Construct):
    """One function per source table, each keeping the feed partition's affinity or recent-posts items."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        tables: Mapping[str, dynamodb.ITableV2],
        ranking: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: list[lambda_.Function] = []
        self.failure_queues: list[sqs.Queue] = []
        for source, entry_point in (
            ("interactions", "on_interaction_change"),
            ("messages", "on_message_change"),
            ("posts", "on_post_change"),
        ):
            function = factory.create(
                Construct(self, f"{source.capitalize()}Stream"),
                context=constants.FEED_SIGNALS,
                code_dir=f"{constants.FUNCTIONS_DIR}/{constants.FEED_SIGNALS}",
                handler=f"handler.{entry_point}",
            )
            function.add_environment(constants.ENV_FEED_RANKING, ranking)
            grant_table_read_write(function, tables["feeds"])
            grant_table_read(function, tables["posts"])  # a like names the post: its author is read
            function_scope = function.node.scope
            assert isinstance(function_scope, Construct)
            self.failure_queues.append(
                consume_stream(
                    function_scope, function, tables[source], patterns=_SIGNALS[source], what=f"Feed signals ({source})"
                )
            )
            self.functions.append(function)
