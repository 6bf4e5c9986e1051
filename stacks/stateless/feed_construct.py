"""feed_read: GET /feed (JWT). feed_fanout: the push half of the hybrid feed, one function per event
source — the posts, graph and users tables' streams, and the fan-out queue of large deliveries —
each with bisect on error, bounded retries, partial batch failures, an on-failure queue and alarms."""

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateful.feed_construct import FANOUT_DELIVER_TIMEOUT
from stacks.stateless.alarms import alarm_on
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.grants import grant_table_read, grant_table_read_write

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.FEED_FANOUT}"
STREAM_BATCH_SIZE = 50
STREAM_RETRIES = 5
DELIVER_BATCH_SIZE = 2
ITERATOR_AGE_ALARM = Duration.minutes(5)

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
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(
            self, context=constants.FEED_READ, code_dir=f"{constants.FUNCTIONS_DIR}/{constants.FEED_READ}"
        )
        for name in ("feeds", "users", "graph", "interactions"):
            grant_table_read(self.function, tables[name])
        grant_table_read(self.function, tables["posts"], index_names=[constants.POSTS_BY_AUTHOR_INDEX])
        cursor_secret.grant_read(self.function)
        http_api.add_routes(self.function, ((apigwv2.HttpMethod.GET, "/feed"),), public=False)


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
        self.deliver.add_event_source(
            event_sources.SqsEventSource(fanout_queue, batch_size=DELIVER_BATCH_SIZE, report_batch_item_failures=True)
        )
        self.functions.append(self.deliver)
        alarm_on(
            self,
            "DeadLettersAlarm",
            "Feed fan-out chunks were given up on: see the fan-out DLQ",
            fanout_dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            1,
        )

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
        grant_table_read(function, tables["posts"], index_names=[constants.POSTS_BY_AUTHOR_INDEX])
        return function

    def _stream_consumer(
        self, factory: FunctionFactory, tables: Mapping[str, dynamodb.ITableV2], source: str, entry_point: str
    ) -> lambda_.Function:
        name = f"{source.capitalize()}Stream"
        function = self._function(factory, tables, name, entry_point)
        scope = function.node.scope
        assert isinstance(scope, Construct)
        failures = sqs.Queue(
            scope,
            "FailedRecords",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.failure_queues.append(failures)
        function.add_event_source(
            event_sources.DynamoEventSource(
                tables[source],
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=STREAM_BATCH_SIZE,
                bisect_batch_on_error=True,
                retry_attempts=STREAM_RETRIES,
                report_batch_item_failures=True,
                on_failure=event_sources.SqsDlq(failures),
                filters=[lambda_.FilterCriteria.filter(pattern) for pattern in _WANTED[source]],
            )
        )
        alarm_on(
            scope,
            "FailedRecordsAlarm",
            f"Feed fan-out gave up on {source} stream records",
            failures.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            1,
        )
        alarm_on(
            scope,
            "IteratorAgeAlarm",
            f"Feed fan-out falls behind the {source} stream",
            function.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1)),
            ITERATOR_AGE_ALARM.to_milliseconds(),
            evaluation_periods=3,
        )
        return function


def _index_query(table: dynamodb.ITableV2, index: str):
    from aws_cdk import aws_iam as iam

    return iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{index}"])
