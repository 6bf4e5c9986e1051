"""auth: sign-up, login, refresh (public routes)."""

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.grants import grant_table_read_write

ROUTES = (
    (apigwv2.HttpMethod.POST, "/auth/signup"),
    (apigwv2.HttpMethod.POST, "/auth/login"),
    (apigwv2.HttpMethod.POST, "/auth/refresh"),
)
# InitiateAuth (login, refresh) is a public Cognito API and needs no IAM permission.
USER_ADMIN_ACTIONS = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminGetUser",
)


class AuthApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        users_table: dynamodb.ITableV2,
        user_pool: cognito.IUserPool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(
            self, context=constants.AUTH, code_dir=f"{constants.FUNCTIONS_DIR}/{constants.AUTH}"
        )
        grant_table_read_write(self.function, users_table, index_names=[constants.USERS_BY_USERNAME_INDEX])
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(USER_ADMIN_ACTIONS), resources=[user_pool.user_pool_arn])
        )
        http_api.add_routes(self.function, ROUTES, public=True)
