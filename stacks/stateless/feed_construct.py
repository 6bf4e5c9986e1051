"""feed_read: GET /feed, POST /feed/seen and GET /stories/feed (JWT). feed_signals: what the ranked feed
learns from the interactions, messages and posts tables' records (affinity, authors' recent posts), one function
fed by the three tables' stream routers through one FIFO queue. feed_fanout: the push
half of the hybrid feed, one function per event source — the posts, graph and users tables' records (each routed
to a FIFO queue of its own by the table's stream router) and the fan-out queue of large deliveries — each with
bounded retries, partial batch failures, a dead-letter queue and alarms."""

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
from stacks.stateless.event_sources import consume_queue
from stacks.stateless.grants import grant_table_read, grant_table_read_write
from stacks.stateless.streams_construct import (
    POST_PUBLISHED,
    PUBLISHED_POST_CHANGED,
    PUBLISHED_POST_REMOVED,
    PUBLISHED_POST_TAKEN_DOWN,
    Pattern,
    StreamRoutes,
    created_or_removed,
)

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.FEED_FANOUT}"
DELIVER_BATCH_SIZE = 2
ROUTES = (
    (apigwv2.HttpMethod.GET, "/feed"),
    (apigwv2.HttpMethod.POST, "/feed/seen"),
    (apigwv2.HttpMethod.GET, "/stories/feed"),
)
# Celebrities' posts and stories are pulled from these; a follow backfills from them.
AUTHOR_INDEXES = (constants.POSTS_BY_AUTHOR_INDEX, STORIES_BY_AUTHOR_INDEX)

# Which stream records each entry point wants (its table's router sends it no others).
_WANTED = {
    # published (a post or a story; restored by a moderator too), or a published post deleted or removed by a
    # moderator (an expired story's entries expire on their own)
    "posts": [POST_PUBLISHED, PUBLISHED_POST_REMOVED, PUBLISHED_POST_TAKEN_DOWN],
    "graph": created_or_removed("follows#"),
    "users": [{"eventName": ["MODIFY"]}],  # a follower count crossing the celebrity threshold
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
        stream_routes: StreamRoutes,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: list[lambda_.Function] = []
        for source, entry_point in (
            ("posts", "on_post_change"),
            ("graph", "on_follow_change"),
            ("users", "on_user_change"),
        ):
            function = self._function(factory, tables, f"{source.capitalize()}Stream", entry_point)
            stream_routes.subscribe(function, {source: _WANTED[source]}, what=f"Feed fan-out ({source})")
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


# What the ranked feed's signals want of each table (pinhole.feed.signals ignores anything else).
_SIGNALS: dict[str, list[Pattern]] = {
    # likes and comments created; profile visits stamped
    "interactions": [{"eventName": ["INSERT", "MODIFY"]}],
    # inbox entries taking a new message
    "messages": [{"eventName": ["INSERT", "MODIFY"]}],
    # published (or restored), deleted or taken down, counts moving while published
    "posts": [
        POST_PUBLISHED,
        PUBLISHED_POST_REMOVED,
        PUBLISHED_POST_TAKEN_DOWN,
        PUBLISHED_POST_CHANGED,
    ],
}


class FeedSignals(Construct):
    """One function fed by the interactions, messages and posts routers, keeping the feed partition's affinity and
    recent-posts items."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        tables: Mapping[str, dynamodb.ITableV2],
        ranking: str,
        stream_routes: StreamRoutes,
    ) -> None:
        super().__init__(scope, construct_id)
        # One function for the three tables (their records told apart by message group): three would take ~24
        # more resources of a stack near CloudFormation's 500.
        self.function = factory.create(
            Construct(self, "Signals"),
            context=constants.FEED_SIGNALS,
            code_dir=f"{constants.FUNCTIONS_DIR}/{constants.FEED_SIGNALS}",
            handler="handler.on_record",
        )
        self.function.add_environment(constants.ENV_FEED_RANKING, ranking)
        grant_table_read_write(self.function, tables["feeds"])
        grant_table_read(self.function, tables["posts"])  # a like names the post: its author is read
        stream_routes.subscribe(self.function, _SIGNALS, what="Feed signals")
        self.functions: list[lambda_.Function] = [self.function]
