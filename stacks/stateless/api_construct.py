"""The edges: the HTTP API (Cognito JWT authorizer, throttled, access-logged) and the WebSocket API
(throttled, access-logged)."""

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import constants

ACCESS_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
CORS_MAX_AGE = Duration.hours(1)
# $context variables API Gateway fills in; one JSON object per request.
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod",'
    '"routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol",'
    '"responseLength":"$context.responseLength","integrationLatency":"$context.integrationLatency",'
    '"integrationError":"$context.integrationErrorMessage","authorizerError":"$context.authorizer.error"}'
)
WEBSOCKET_ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","eventType":"$context.eventType","routeKey":"$context.routeKey",'
    '"connectionId":"$context.connectionId","status":"$context.status",'
    '"integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage",'
    '"authorizerError":"$context.authorizer.error"}'
)
# AWS's managed policy for the account's API Gateway logging role (AWS documents this one for it).
API_GATEWAY_LOGGING_POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


@dataclass(frozen=True)
class Throttle:
    rate_limit: int
    burst_limit: int


def cognito_issuer(user_pool: cognito.IUserPool, region: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool.user_pool_id}"


class HttpApiGateway(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        cors_origins: Sequence[str],
        throttle: Throttle,
    ) -> None:
        super().__init__(scope, construct_id)
        self.public_routes: list[apigwv2.HttpRoute] = []
        self.api = apigwv2.HttpApi(
            self,
            constants.HTTP_API_ID,
            description="Pinhole HTTP API",
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=list(cors_origins),
                allow_methods=[
                    apigwv2.CorsHttpMethod.GET,
                    apigwv2.CorsHttpMethod.POST,
                    apigwv2.CorsHttpMethod.PATCH,
                    apigwv2.CorsHttpMethod.DELETE,
                    apigwv2.CorsHttpMethod.OPTIONS,
                ],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
                expose_headers=["Retry-After", "Allow"],  # 429 and 503; 405
                max_age=CORS_MAX_AGE,
            ),
        )
        self.authorizer = authorizers.HttpJwtAuthorizer(
            constants.JWT_AUTHORIZER_ID,
            cognito_issuer(user_pool, Stack.of(self).region),
            jwt_audience=[user_pool_client.user_pool_client_id],
        )
        access_logs = logs.LogGroup(
            self,
            constants.HTTP_API_ACCESS_LOGS_ID,
            retention=ACCESS_LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The L2 HttpApi creates the $default stage without access logs or throttling options.
        default_stage = self.api.default_stage
        assert default_stage is not None  # created by HttpApi unless create_default_stage=False
        cfn_stage: apigwv2.CfnStage = default_stage.node.default_child  # type: ignore[assignment]
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn,
            format=ACCESS_LOG_FORMAT,
        )
        cfn_stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            throttling_rate_limit=throttle.rate_limit,
            throttling_burst_limit=throttle.burst_limit,
        )

    @property
    def url(self) -> str:
        url = self.api.url
        assert url is not None
        return url

    def add_routes(
        self,
        function: lambda_.IFunction,
        routes: Sequence[tuple[apigwv2.HttpMethod, str]],
        *,
        public: bool,
    ) -> None:
        """Routes of one context to its function; a route is protected by the JWT authorizer unless
        the context declares it public (stacks.constants.PUBLIC_ROUTES is the list tests hold it to)."""
        integration = integrations.HttpLambdaIntegration("Integration", function, scope_permission_to_route=False)
        for method, path in routes:
            added = self.api.add_routes(
                path=path,
                methods=[method],
                integration=integration,
                authorizer=apigwv2.HttpNoneAuthorizer() if public else self.authorizer,
            )
            if public:
                self.public_routes.extend(added)

    def add_default_route(self, function: lambda_.IFunction) -> None:
        """`$default` catches unknown routes so they get our JSON error envelope, not API Gateway's."""
        route = apigwv2.HttpRoute(
            self,
            "DefaultRoute",
            http_api=self.api,
            route_key=apigwv2.HttpRouteKey.DEFAULT,
            integration=integrations.HttpLambdaIntegration("DefaultIntegration", function),
        )
        self.public_routes.append(route)


class WebSocketGateway(Construct):
    """The WebSocket API of direct messages and live notifications: `$connect` behind a Lambda REQUEST
    authorizer (API Gateway has no JWT authorizer for WebSockets), routing on the frame's `action`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, throttle: Throttle, manage_account_logging_role: bool
    ) -> None:
        super().__init__(scope, construct_id)
        self.routes: list[apigwv2.WebSocketRoute] = []
        self.api = apigwv2.WebSocketApi(
            self,
            constants.WEBSOCKET_API_ID,
            description="Pinhole WebSocket API",
            route_selection_expression="$request.body.action",
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            constants.WEBSOCKET_STAGE_ID,
            web_socket_api=self.api,
            stage_name=constants.WEBSOCKET_STAGE_NAME,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle.rate_limit, burst_limit=throttle.burst_limit),
        )
        self.account_logging_role: iam.Role | None = None
        self._log_access(manage_account_logging_role)

    def _log_access(self, manage_account_logging_role: bool) -> None:
        """JSON access logs per frame and connection. Unlike HTTP APIs, a WebSocket stage writes them
        through the account's API Gateway CloudWatch role (AWS::ApiGateway::Account, one per account and
        region): this app sets it unless told that the account's baseline owns it."""
        access_logs = logs.LogGroup(
            self,
            constants.WEBSOCKET_ACCESS_LOGS_ID,
            retention=ACCESS_LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        cfn_stage: apigwv2.CfnStage = self.stage.node.default_child  # type: ignore[assignment]
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn,
            format=WEBSOCKET_ACCESS_LOG_FORMAT,
        )
        if not manage_account_logging_role:
            return
        self.account_logging_role = role = iam.Role(
            self,
            constants.API_GATEWAY_LOGGING_ROLE_ID,
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway's CloudWatch Logs role for this account and region",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(API_GATEWAY_LOGGING_POLICY)],
        )
        # Other APIs of the account may log through it too: deleting this stack must not break them.
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        account = apigateway.CfnAccount(self, constants.API_GATEWAY_ACCOUNT_ID, cloud_watch_role_arn=role.role_arn)
        self.stage.node.add_dependency(account)

    @property
    def url(self) -> str:
        return self.stage.url

    @property
    def callback_url(self) -> str:
        """Where functions reach `@connections` of this stage."""
        return self.stage.callback_url

    def add_connect_route(self, function: lambda_.IFunction, authorizer_function: lambda_.IFunction) -> None:
        """`$connect` runs the authorizer first. It has no identity source: the token may come as the
        `token` query parameter or as a `Sec-WebSocket-Protocol` value, and API Gateway would refuse a
        connection lacking the one source it was told about before asking the authorizer."""
        authorizer = authorizers.WebSocketLambdaAuthorizer(
            constants.WEBSOCKET_AUTHORIZER_ID, authorizer_function, identity_source=[]
        )
        self.connect_route = self.api.add_route(
            "$connect",
            integration=integrations.WebSocketLambdaIntegration("ConnectIntegration", function),
            authorizer=authorizer,
        )
        self.routes.append(self.connect_route)

    def add_routes(self, function: lambda_.IFunction, route_keys: Sequence[str], *, two_way: Sequence[str]) -> None:
        """Routes to one function; those in `two_way` send the function's result body back to the caller."""
        integration = integrations.WebSocketLambdaIntegration("RoutesIntegration", function)
        for key in route_keys:
            self.routes.append(self.api.add_route(key, integration=integration, return_response=key in two_way))

    def connections_arn(self, method: str) -> str:
        """`method` on any connection of this stage's `@connections` (connection ids are not known ahead)."""
        return Stack.of(self).format_arn(
            service="execute-api",
            resource=self.api.api_id,
            resource_name=f"{self.stage.stage_name}/{method}/@connections/*",
        )

    def grant_manage_connections(self, function: lambda_.IFunction) -> None:
        """Sending to and closing connections of this stage, nothing more (CDK's grant allows every
        method of every stage)."""
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["execute-api:ManageConnections"],
                resources=[self.connections_arn("POST"), self.connections_arn("DELETE")],
            )
        )
