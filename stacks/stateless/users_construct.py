"""users: profiles (JWT routes)."""

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.grants import grant_table_read_write

ROUTES = (
    (apigwv2.HttpMethod.GET, "/me"),
    (apigwv2.HttpMethod.PATCH, "/me"),
    (apigwv2.HttpMethod.GET, "/users/{username}"),
)


class UsersApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        users_table: dynamodb.ITableV2,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(
            self, context=constants.USERS, code_dir=f"{constants.FUNCTIONS_DIR}/{constants.USERS}"
        )
        grant_table_read_write(self.function, users_table, index_names=[constants.USERS_BY_USERNAME_INDEX])
        http_api.add_routes(self.function, ROUTES, public=False)
