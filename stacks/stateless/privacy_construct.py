"""privacy: delete my account and download my data (JWT routes); `on_deletion_due`, fed by the privacy table's
stream, starts the purge of an account whose deletion marker expired (DynamoDB TTL); `purge` and `export`
consume their job queues (partial batch failures, redrive to a dead-letter queue, alarms)."""

from collections.abc import Mapping

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from pinhole.streams.models import TTL_DELETER
from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateful.privacy_construct import EXPORT_TIMEOUT, PURGE_TIMEOUT, PrivacyData
from stacks.stateless.api_construct import HttpApiGateway, WebSocketGateway
from stacks.stateless.event_sources import consume_queue
from stacks.stateless.grants import (
    grant_message_media,
    grant_objects,
    grant_rendition_removal,
    grant_table_read,
    grant_table_read_write,
)
from stacks.stateless.streams_construct import StreamRoutes

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.PRIVACY}"
ROUTES = (
    (apigwv2.HttpMethod.DELETE, "/me"),
    (apigwv2.HttpMethod.POST, "/me/reactivate"),
    (apigwv2.HttpMethod.POST, "/me/export"),
    (apigwv2.HttpMethod.GET, "/me/export"),
)
# Only a marker's expiry can start a purge: a REMOVE that DynamoDB's TTL made (a reactivation's delete of the
# marker never reaches the function); the consumer checks it again, and that the account's deletion is due.
DELETION_EXPIRED = [
    {
        "eventName": ["REMOVE"],
        "userIdentity": {name: [value] for name, value in TTL_DELETER.items()},
        "dynamodb": {"Keys": {"sk": {"S": ["deletion"]}}},
    }
]
# Every table a purge scans and cleans (pinhole.privacy.purge), and an export reads.
_PURGED_TABLES = (
    "users",
    "posts",
    "graph",
    "interactions",
    "feeds",
    "notifications",
    "messages",
    "connections",
    "rate_limits",
    "moderation",  # pseudonymised, not deleted (docs/PRIVACY.md, *Moderation records*)
    "privacy",
)
_EXPORTED_TABLES = ("users", "posts", "graph", "interactions", "messages", "notifications", "moderation")
EXPORT_MEMORY_MB = 1024  # one 8 MiB part and a 1 MiB chunk at a time (tests/unit/test_export_memory.py)


def _grant_scan(function: lambda_.Function, table: dynamodb.ITableV2) -> None:
    """A purge and an export find a user's items by a filtered Scan (docs/PRIVACY.md, *Cost*)."""
    function.add_to_role_policy(iam.PolicyStatement(actions=["dynamodb:Scan"], resources=[table.table_arn]))


def _grant_listing(function: lambda_.Function, bucket: s3.IBucket, prefixes: list[str], versions: bool) -> None:
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket", *(["s3:ListBucketVersions"] if versions else [])],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}},
        )
    )


class Privacy(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        websocket_api: WebSocketGateway,
        tables: Mapping[str, dynamodb.ITableV2],
        data: PrivacyData,
        uploads_bucket: s3.IBucket,
        media_bucket: s3.IBucket,
        message_media_bucket: s3.IBucket,
        user_pool: cognito.IUserPool,
        stream_routes: StreamRoutes,
        invalidations: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        exports = f"{constants.EXPORT_KEY_PREFIX}*"

        self.function = factory.create(self, context=constants.PRIVACY, code_dir=CODE_DIR)
        grant_table_read_write(self.function, tables["users"], index_names=[constants.USERS_BY_USERNAME_INDEX])
        grant_table_read_write(self.function, data.table)
        grant_table_read_write(self.function, tables["rate_limits"])  # a password check, one export a day
        grant_table_read_write(self.function, tables["connections"])  # deactivation closes the connections
        websocket_api.grant_manage_connections(self.function)
        data.export_queue.grant_send_messages(self.function)
        grant_objects(self.function, uploads_bucket, exports, ["s3:GetObject"])  # signs the download link
        self.function.add_to_role_policy(  # DELETE /me revokes every refresh token, however often it is asked
            iam.PolicyStatement(actions=["cognito-idp:AdminUserGlobalSignOut"], resources=[user_pool.user_pool_arn])
        )
        http_api.add_routes(self.function, ROUTES, public=False)

        due_scope = Construct(self, "DeletionDue")
        self.on_deletion_due = factory.create(
            due_scope, context=constants.PRIVACY, code_dir=CODE_DIR, handler="handler.on_deletion_due"
        )
        grant_table_read_write(self.on_deletion_due, tables["users"])
        grant_table_read_write(self.on_deletion_due, data.table)
        data.purge_queue.grant_send_messages(self.on_deletion_due)
        stream_routes.subscribe(self.on_deletion_due, {"privacy": DELETION_EXPIRED}, what="Account deletions")

        purge_scope = Construct(self, "Purge")
        self.purge = factory.create(
            purge_scope, context=constants.PRIVACY, code_dir=CODE_DIR, handler="handler.purge", timeout=PURGE_TIMEOUT
        )
        for name in _PURGED_TABLES:
            table = data.table if name == "privacy" else tables[name]
            grant_table_read_write(self.purge, table)
            _grant_scan(self.purge, table)
        prefixes = [
            constants.UPLOAD_KEY_PREFIX,
            constants.AVATAR_KEY_PREFIX,
            constants.EXPORT_KEY_PREFIX,
            constants.MESSAGE_UPLOAD_KEY_PREFIX,  # photo messages' originals: erased, or moved with the other side
        ]
        grant_objects(
            self.purge, uploads_bucket, f"{constants.MESSAGE_UPLOAD_KEY_PREFIX}*", ["s3:GetObject", "s3:PutObject"]
        )
        grant_message_media(self.purge, message_media_bucket, ["s3:GetObject", "s3:PutObject"])
        for prefix in prefixes:
            grant_objects(self.purge, uploads_bucket, f"{prefix}*", ["s3:DeleteObject", "s3:DeleteObjectVersion"])
        _grant_listing(self.purge, uploads_bucket, prefixes, versions=True)
        grant_rendition_removal(self.purge, media_bucket, invalidations, constants.AVATAR_KEY_PREFIX)
        self.purge.add_to_role_policy(
            iam.PolicyStatement(actions=["cognito-idp:AdminDeleteUser"], resources=[user_pool.user_pool_arn])
        )
        data.purge_queue.grant_send_messages(self.purge)  # a purge out of time continues in a new message
        consume_queue(purge_scope, self.purge, data.purge_queue, data.purge_dlq, what="Account purges", batch_size=1)

        export_scope = Construct(self, "Export")
        self.export = factory.create(
            export_scope,
            context=constants.PRIVACY,
            code_dir=CODE_DIR,
            handler="handler.export",
            timeout=EXPORT_TIMEOUT,
            memory_mb=EXPORT_MEMORY_MB,
        )
        for name in _EXPORTED_TABLES:
            indexes = [constants.MODERATION_BY_REPORTER_INDEX] if name == "moderation" else []
            grant_table_read(self.export, tables[name], index_names=indexes)
            _grant_scan(self.export, tables[name])
        grant_table_read_write(self.export, data.table)
        grant_table_read_write(self.export, tables["notifications"])  # "your export is ready"
        originals = [constants.UPLOAD_KEY_PREFIX, constants.AVATAR_KEY_PREFIX, constants.MESSAGE_UPLOAD_KEY_PREFIX]
        for prefix in originals:
            grant_objects(self.export, uploads_bucket, f"{prefix}*", ["s3:GetObject"])
        _grant_listing(self.export, uploads_bucket, originals, False)
        # A multipart upload is PutObject to S3's IAM (create, parts, complete); a failed one is aborted.
        grant_objects(self.export, uploads_bucket, exports, ["s3:PutObject", "s3:AbortMultipartUpload"])
        consume_queue(export_scope, self.export, data.export_queue, data.export_dlq, what="Data exports", batch_size=1)
        self.functions = [self.function, self.on_deletion_due, self.purge, self.export]
