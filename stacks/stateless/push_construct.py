"""push: devices and notification settings (JWT routes), and the worker that publishes queued pushes to
phones through SNS mobile push. Whoever queues a push (notifications' `deliver`, messaging) gets
`grant_queue` and `grant_endpoint_cleanup` for signing out everywhere."""

from collections.abc import Mapping

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateful.push_construct import PUSH_TIMEOUT
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.event_sources import consume_queue
from stacks.stateless.grants import grant_table_read, grant_table_read_write

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.PUSH}"
GET, POST, PATCH, DELETE = (
    apigwv2.HttpMethod.GET,
    apigwv2.HttpMethod.POST,
    apigwv2.HttpMethod.PATCH,
    apigwv2.HttpMethod.DELETE,
)
ROUTES = (
    (POST, "/me/devices"),
    (GET, "/me/devices"),
    (DELETE, "/me/devices/{device_id}"),
    (GET, "/me/notification-settings"),
    (PATCH, "/me/notification-settings"),
)
DELIVER_BATCH_SIZE = 10


class Push(Construct):
    """Its grants name Pinhole's own platform applications by name (`<stateful stack>-<platform>`) and their
    endpoints, whether or not credentials made them: with push off, the code never calls SNS, and turning
    push on needs no new grant."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        tables: Mapping[str, dynamodb.ITableV2],
        queue: sqs.IQueue,
        dead_letters: sqs.IQueue,
        application_name_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = queue
        stack = Stack.of(self)
        names = f"{application_name_prefix}-*"
        self.application_resource = f"app/*/{names}"
        self.endpoint_resource = f"endpoint/*/{names}/*"
        self.applications = stack.format_arn(
            service="sns", resource=self.application_resource, arn_format=ArnFormat.NO_RESOURCE_NAME
        )
        self.endpoints = stack.format_arn(
            service="sns", resource=self.endpoint_resource, arn_format=ArnFormat.NO_RESOURCE_NAME
        )

        self.function = factory.create(self, context=constants.PUSH, code_dir=CODE_DIR)
        grant_table_read_write(self.function, tables["notifications"])  # devices and settings live there
        grant_table_read(self.function, tables["users"])  # every request: is the caller suspended?
        self.grant_endpoint_cleanup(self.function)
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:CreatePlatformEndpoint"], resources=[self.applications])
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sns:GetEndpointAttributes", "sns:SetEndpointAttributes"], resources=[self.endpoints]
            )
        )
        http_api.add_routes(self.function, ROUTES, public=False)

        deliver_scope = Construct(self, "Deliver")
        self.deliver = factory.create(
            deliver_scope, context=constants.PUSH, code_dir=CODE_DIR, handler="handler.deliver", timeout=PUSH_TIMEOUT
        )
        grant_table_read_write(self.deliver, tables["notifications"])  # marks, devices; the badge
        grant_table_read(self.deliver, tables["messages"])  # a message not unsent, nor muted by its recipient
        # the badge counts what the notifications list shows: its actors (users, blocks) and posts checked
        for name in ("users", "graph", "posts"):
            grant_table_read(self.deliver, tables[name])
        self.grant_endpoint_cleanup(self.deliver)
        self.deliver.add_to_role_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[self.endpoints]))
        consume_queue(deliver_scope, self.deliver, queue, dead_letters, what="Push", batch_size=DELIVER_BATCH_SIZE)
        self.functions = [self.function, self.deliver]

    def grant_queue(self, function: lambda_.Function) -> None:
        """For a function that queues pushes."""
        self.queue.grant_send_messages(function)

    def grant_endpoint_cleanup(self, function: lambda_.Function) -> None:
        """For a function that forgets devices (removing one, signing out everywhere): their endpoints go."""
        function.add_to_role_policy(iam.PolicyStatement(actions=["sns:DeleteEndpoint"], resources=[self.endpoints]))
