"""auth: sign-up, log-in (and its TOTP step), refresh, log-out, forgotten passwords (public routes); and the
caller's credentials: password change, e-mail verification, two-factor, sign-out everywhere (JWT routes)."""

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway, WebSocketGateway
from stacks.stateless.grants import grant_table_read_write

ROUTES = (
    (apigwv2.HttpMethod.POST, "/auth/signup"),
    (apigwv2.HttpMethod.POST, "/auth/login"),
    (apigwv2.HttpMethod.POST, "/auth/login/totp"),
    (apigwv2.HttpMethod.POST, "/auth/login/recovery"),
    (apigwv2.HttpMethod.POST, "/auth/refresh"),
    (apigwv2.HttpMethod.POST, "/auth/logout"),
    (apigwv2.HttpMethod.POST, "/auth/password/forgot"),
    (apigwv2.HttpMethod.POST, "/auth/password/reset"),
)
PROTECTED_ROUTES = (
    (apigwv2.HttpMethod.POST, "/auth/verify-email"),
    (apigwv2.HttpMethod.POST, "/me/email/verification"),
    (apigwv2.HttpMethod.POST, "/me/password"),
    (apigwv2.HttpMethod.POST, "/me/mfa/totp"),
    (apigwv2.HttpMethod.POST, "/me/mfa/totp/verify"),
    (apigwv2.HttpMethod.DELETE, "/me/mfa"),
    (apigwv2.HttpMethod.POST, "/me/mfa/recovery-codes"),
    (apigwv2.HttpMethod.POST, "/me/sign-out-everywhere"),
)
# The calls a user makes about themselves (InitiateAuth, RespondToAuthChallenge, RevokeToken, ForgotPassword,
# ConfirmForgotPassword, ChangePassword, GetUserAttributeVerificationCode, VerifyUserAttribute,
# AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference, GlobalSignOut) are Cognito's public API,
# authorised by the client id or the user's own access token: IAM cannot grant or deny them.
USER_ADMIN_ACTIONS = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminSetUserMFAPreference",  # a recovery code turns two-factor off
    "cognito-idp:AdminUserGlobalSignOut",  # a password reset or change signs the account out everywhere
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
        connections_table: dynamodb.ITableV2,
        websocket_api: WebSocketGateway,
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
        # Signing out everywhere closes the account's WebSocket connections.
        grant_table_read_write(self.function, connections_table)
        websocket_api.grant_manage_connections(self.function)
        http_api.add_routes(self.function, ROUTES, public=True)
        http_api.add_routes(self.function, PROTECTED_ROUTES, public=False)
