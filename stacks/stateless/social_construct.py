"""social: likes, comments and saved posts (JWT routes)."""

from collections.abc import Mapping

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.grants import grant_table_read, grant_table_read_write

GET, POST, DELETE = apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST, apigwv2.HttpMethod.DELETE
ROUTES = (
    (POST, "/posts/{post_id}/like"),
    (DELETE, "/posts/{post_id}/like"),
    (GET, "/posts/{post_id}/likes"),
    (POST, "/posts/{post_id}/comments"),
    (GET, "/posts/{post_id}/comments"),
    (DELETE, "/posts/{post_id}/comments/{comment_id}"),
    (POST, "/posts/{post_id}/save"),
    (DELETE, "/posts/{post_id}/save"),
    (GET, "/me/saved"),
    (GET, "/me/collections"),
)


class SocialApi(Construct):
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
            self, context=constants.SOCIAL, code_dir=f"{constants.FUNCTIONS_DIR}/{constants.SOCIAL}"
        )
        grant_table_read_write(self.function, tables["interactions"])
        grant_table_read_write(self.function, tables["idempotency"])  # Idempotency-Key on comments
        grant_table_read_write(self.function, tables["posts"])  # like and comment counters, in transactions
        grant_table_read(self.function, tables["users"], index_names=[constants.USERS_BY_USERNAME_INDEX])
        grant_table_read(self.function, tables["graph"])
        cursor_secret.grant_read(self.function)
        http_api.add_routes(self.function, ROUTES, public=False)
