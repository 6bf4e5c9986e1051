"""users: profiles and the social graph between them, blocks included (JWT routes), and `on_made_public`, fed the
users table's records of an account switched from private to public by its stream router through a FIFO queue of
its own: the account's pending follow requests become follows."""

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.grants import grant_table_read_write
from stacks.stateless.streams_construct import StreamRoutes

ROUTES = (
    (apigwv2.HttpMethod.GET, "/me"),
    (apigwv2.HttpMethod.PATCH, "/me"),
    (apigwv2.HttpMethod.GET, "/users/{username}"),
    (apigwv2.HttpMethod.POST, "/users/{username}/follow"),
    (apigwv2.HttpMethod.DELETE, "/users/{username}/follow"),
    (apigwv2.HttpMethod.GET, "/users/{username}/followers"),
    (apigwv2.HttpMethod.GET, "/users/{username}/following"),
    (apigwv2.HttpMethod.GET, "/me/follow-requests"),
    (apigwv2.HttpMethod.POST, "/me/follow-requests/{username}"),
    (apigwv2.HttpMethod.POST, "/users/{username}/block"),
    (apigwv2.HttpMethod.DELETE, "/users/{username}/block"),
    (apigwv2.HttpMethod.GET, "/me/blocked"),
    (apigwv2.HttpMethod.GET, "/me/muted"),
    (apigwv2.HttpMethod.POST, "/users/{username}/mute"),
    (apigwv2.HttpMethod.DELETE, "/users/{username}/mute"),
)

# An account with very many pending requests takes long to approve them (one follow at a time: each moves its
# follower count); a redelivery goes on from the requests left.
REQUESTS_APPROVAL_TIMEOUT = Duration.minutes(5)

# The only records `on_made_public` acts on: is_private true before, false after.
_MADE_PUBLIC: dict[str, Any] = {
    "eventName": ["MODIFY"],
    "dynamodb": {"OldImage": {"is_private": {"BOOL": [True]}}, "NewImage": {"is_private": {"BOOL": [False]}}},
}


class UsersApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        users_table: dynamodb.ITableV2,
        graph_table: dynamodb.ITableV2,
        interactions_table: dynamodb.ITableV2,
        cursor_secret: secretsmanager.ISecret,
        user_pool: cognito.IUserPool,
        stream_routes: StreamRoutes,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(
            self, context=constants.USERS, code_dir=f"{constants.FUNCTIONS_DIR}/{constants.USERS}"
        )
        grant_table_read_write(self.function, users_table, index_names=[constants.USERS_BY_USERNAME_INDEX])
        grant_table_read_write(self.function, graph_table, index_names=[constants.GRAPH_INVERSE_INDEX])
        grant_table_read_write(self.function, interactions_table)  # profile visits, a ranked-feed signal
        cursor_secret.grant_read(self.function)
        # PATCH /me {email} needs no grant: it checks the password by logging in, and changes the address with the
        # user's own access token (UpdateUserAttributes), which Cognito authorizes by the token, not IAM.
        http_api.add_routes(self.function, ROUTES, public=False)

        approvals_scope = Construct(self, "RequestsApprovedByGoingPublic")
        self.on_made_public = factory.create(
            approvals_scope,
            context=constants.USERS,
            code_dir=f"{constants.FUNCTIONS_DIR}/{constants.USERS}",
            handler="consumers.on_made_public",
            timeout=REQUESTS_APPROVAL_TIMEOUT,
        )
        grant_table_read_write(self.on_made_public, users_table)  # the profile, read; both follow counts
        grant_table_read_write(self.on_made_public, graph_table, index_names=[constants.GRAPH_INVERSE_INDEX])
        stream_routes.subscribe(
            self.on_made_public, {"users": [_MADE_PUBLIC]}, what="Follow requests approved by going public"
        )
