"""moderation: reports (anyone signed in) and the moderators' routes (the `moderators` group, checked by the
function on the token's `cognito:groups`). Its actions reach into the content's own tables the way a delete
does (posts, and the author's post count; comments; messages, with every participant's inbox and open connections),
suspend accounts (the users table and Cognito), and notify authors."""

from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway, WebSocketGateway
from stacks.stateless.grants import grant_table_read, grant_table_read_write

GET, POST = apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST
ROUTES = (
    (POST, "/reports"),
    (GET, "/me/reports"),
    (GET, "/moderation/queue"),
    (GET, "/moderation/cases/{case_id}"),
    (POST, "/moderation/cases/{case_id}/actions"),
    (GET, "/moderation/log"),
)
SUSPENSION_ACTIONS = (
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminUserGlobalSignOut",
)


class ModerationApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        websocket_api: WebSocketGateway,
        tables: Mapping[str, dynamodb.ITableV2],
        user_pool: cognito.IUserPool,
        cursor_secret: secretsmanager.ISecret,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(
            self, context=constants.MODERATION, code_dir=f"{constants.FUNCTIONS_DIR}/{constants.MODERATION}"
        )
        grant_table_read_write(
            self.function,
            tables["moderation"],
            index_names=[constants.MODERATION_QUEUE_INDEX, constants.MODERATION_BY_REPORTER_INDEX],
        )
        grant_table_read_write(self.function, tables["posts"])  # remove / restore: the post's status
        grant_table_read_write(self.function, tables["users"])  # the post count with it; suspensions
        grant_table_read_write(self.function, tables["notifications"])  # the author is told
        grant_table_read_write(self.function, tables["rate_limits"])  # reports per reporter
        grant_table_read(self.function, tables["graph"])  # a report only of what the reporter can see
        grant_table_read_write(self.function, tables["interactions"])  # comments removed and restored
        grant_table_read_write(self.function, tables["messages"])  # messages removed and restored, inboxes put right
        grant_table_read_write(self.function, tables["connections"])  # ... told live (a vanished connection goes)
        websocket_api.grant_manage_connections(self.function)
        cursor_secret.grant_read(self.function)
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(SUSPENSION_ACTIONS),
                resources=[
                    Stack.of(self).format_arn(
                        service="cognito-idp", resource="userpool", resource_name=user_pool.user_pool_id
                    )
                ],
            )
        )
        http_api.add_routes(self.function, ROUTES, public=False)
