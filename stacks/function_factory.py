"""The one place that knows how a Pinhole Lambda function is made: every default lives here."""

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import constants

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
MEMORY_MB = 1024  # Lambda CPU scales with memory; 1 GB keeps p99 cold starts of the API functions low
TIMEOUT = Duration.seconds(10)  # under API Gateway's 30 s integration limit, so a stuck call fails fast
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
LOG_LEVEL = "INFO"


@dataclass(frozen=True)
class FunctionEnvironment:
    """What every function is told, the same for all (pinhole.shared.settings reads it)."""

    users_table_name: str
    user_pool_id: str
    user_pool_client_id: str
    posts_table_name: str
    graph_table_name: str
    interactions_table_name: str
    feeds_table_name: str
    fanout_queue_url: str
    idempotency_table_name: str
    celebrity_threshold: int
    feed_cap: int
    uploads_bucket_name: str
    media_bucket_name: str
    message_media_bucket_name: str
    media_base_url: str
    media_distribution_id: str
    media_invalidations_queue_url: str
    cursor_secret_arn: str
    messages_table_name: str
    connections_table_name: str
    notifications_table_name: str
    notifications_queue_url: str
    transcode_queue_url: str
    rate_limits_table_name: str
    search_table_name: str
    rate_limits: str  # JSON, pinhole.shared.rate_limits reads it
    websocket_callback_url: str
    moderation_table_name: str
    image_moderation: bool
    image_moderation_min_confidence: float
    notification_group_window_s: int
    push_queue_url: str
    push_platform_applications: str  # JSON {platform: platform application ARN}; {} when push is off
    privacy_table_name: str
    purge_queue_url: str
    export_queue_url: str
    account_deletion_grace_days: int

    def for_service(self, service_name: str) -> dict[str, str]:
        return {
            constants.ENV_USERS_TABLE_NAME: self.users_table_name,
            constants.ENV_USER_POOL_ID: self.user_pool_id,
            constants.ENV_USER_POOL_CLIENT_ID: self.user_pool_client_id,
            constants.ENV_POSTS_TABLE_NAME: self.posts_table_name,
            constants.ENV_GRAPH_TABLE_NAME: self.graph_table_name,
            constants.ENV_INTERACTIONS_TABLE_NAME: self.interactions_table_name,
            constants.ENV_FEEDS_TABLE_NAME: self.feeds_table_name,
            constants.ENV_FANOUT_QUEUE_URL: self.fanout_queue_url,
            constants.ENV_IDEMPOTENCY_TABLE_NAME: self.idempotency_table_name,
            constants.ENV_CELEBRITY_THRESHOLD: str(self.celebrity_threshold),
            constants.ENV_FEED_CAP: str(self.feed_cap),
            constants.ENV_UPLOADS_BUCKET_NAME: self.uploads_bucket_name,
            constants.ENV_MEDIA_BUCKET_NAME: self.media_bucket_name,
            constants.ENV_MESSAGE_MEDIA_BUCKET_NAME: self.message_media_bucket_name,
            constants.ENV_MEDIA_BASE_URL: self.media_base_url,
            constants.ENV_MEDIA_DISTRIBUTION_ID: self.media_distribution_id,
            constants.ENV_MEDIA_INVALIDATIONS_QUEUE_URL: self.media_invalidations_queue_url,
            constants.ENV_CURSOR_SECRET_ARN: self.cursor_secret_arn,
            constants.ENV_MESSAGES_TABLE_NAME: self.messages_table_name,
            constants.ENV_CONNECTIONS_TABLE_NAME: self.connections_table_name,
            constants.ENV_NOTIFICATIONS_TABLE_NAME: self.notifications_table_name,
            constants.ENV_NOTIFICATIONS_QUEUE_URL: self.notifications_queue_url,
            constants.ENV_TRANSCODE_QUEUE_URL: self.transcode_queue_url,
            constants.ENV_RATE_LIMITS_TABLE_NAME: self.rate_limits_table_name,
            constants.ENV_SEARCH_TABLE_NAME: self.search_table_name,
            constants.ENV_RATE_LIMITS: self.rate_limits,
            constants.ENV_WEBSOCKET_CALLBACK_URL: self.websocket_callback_url,
            constants.ENV_MODERATION_TABLE_NAME: self.moderation_table_name,
            constants.ENV_IMAGE_MODERATION: str(self.image_moderation).lower(),
            constants.ENV_IMAGE_MODERATION_MIN_CONFIDENCE: str(self.image_moderation_min_confidence),
            constants.ENV_NOTIFICATION_GROUP_WINDOW_S: str(self.notification_group_window_s),
            constants.ENV_PUSH_QUEUE_URL: self.push_queue_url,
            constants.ENV_PUSH_PLATFORM_APPLICATIONS: self.push_platform_applications,
            constants.ENV_PRIVACY_TABLE_NAME: self.privacy_table_name,
            constants.ENV_PURGE_QUEUE_URL: self.purge_queue_url,
            constants.ENV_EXPORT_QUEUE_URL: self.export_queue_url,
            constants.ENV_ACCOUNT_DELETION_GRACE_DAYS: str(self.account_deletion_grace_days),
            **powertools_environment(service_name),
        }


def powertools_environment(service_name: str) -> dict[str, str]:
    return {
        constants.ENV_SERVICE_NAME: service_name,
        constants.ENV_METRICS_NAMESPACE: constants.METRICS_NAMESPACE,
        constants.ENV_LOG_LEVEL: LOG_LEVEL,
    }


@dataclass(frozen=True)
class FunctionFactory:
    layers: tuple[lambda_.ILayerVersion, ...]
    environment: FunctionEnvironment

    def create(
        self,
        scope: Construct,
        *,
        context: str,
        code_dir: str,
        handler: str = "handler.handler",
        exclude: tuple[str, ...] = ("__pycache__", "*.pyc"),
        memory_mb: int = MEMORY_MB,
        timeout: Duration = TIMEOUT,
        extra_layers: tuple[lambda_.ILayerVersion, ...] = (),
        own_environment: Mapping[str, str] | None = None,
        ephemeral_storage_mb: int | None = None,
    ) -> lambda_.Function:
        """A function for one context, in `scope`, with its own log group and a role that may only
        write to that log group (grants for data come from the caller). It is told the shared environment,
        or with `own_environment` only that and Powertools' settings: for a function that needs none of the
        shared one and whose own would not fit beside it in Lambda's 4 KB of variables (a stream router)."""
        log_group = logs.LogGroup(
            scope,
            "LogGroup",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Pinhole {context} function",
        )
        # Instead of AWSLambdaBasicExecutionRole (logs:* on every log group), only this function's group.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        return lambda_.Function(
            scope,
            constants.FUNCTION_ID,
            description=f"Pinhole {context}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=memory_mb,
            timeout=timeout,
            tracing=lambda_.Tracing.ACTIVE,
            code=lambda_.Code.from_asset(code_dir, exclude=list(exclude)),
            handler=handler,
            layers=[*self.layers, *extra_layers],
            ephemeral_storage_size=Size.mebibytes(ephemeral_storage_mb) if ephemeral_storage_mb else None,
            environment=(
                {**own_environment, **powertools_environment(context)}
                if own_environment is not None
                else self.environment.for_service(context)
            ),
            log_group=log_group,
            role=role,
        )
