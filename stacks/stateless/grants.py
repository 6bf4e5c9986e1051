"""Least-privilege grants CDK's grant_* methods make wider than needed."""

from collections.abc import Sequence

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from stacks.constants import MESSAGE_RENDITION_KEY_PREFIX as RENDITIONS_PREFIX

TABLE_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)


def grant_table_read_write(
    function: lambda_.Function, table: dynamodb.ITableV2, *, index_names: Sequence[str] = ()
) -> None:
    """Item reads and writes on the table, and queries on the named indexes only (CDK's
    grant_read_write_data allows `index/*` and Scan)."""
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=[*TABLE_READ_ACTIONS, *TABLE_WRITE_ACTIONS],
            resources=[table.table_arn],
        )
    )
    if index_names:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[f"{table.table_arn}/index/{name}" for name in index_names],
            )
        )


def grant_table_read(function: lambda_.Function, table: dynamodb.ITableV2, *, index_names: Sequence[str] = ()) -> None:
    """Item reads and queries on the table, and queries on the named indexes only; no writes."""
    function.add_to_role_policy(iam.PolicyStatement(actions=list(TABLE_READ_ACTIONS), resources=[table.table_arn]))
    if index_names:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[f"{table.table_arn}/index/{name}" for name in index_names],
            )
        )


def grant_prefix_listing(function: lambda_.Function, bucket: s3.IBucket, key_pattern: str) -> None:
    """Listing the bucket's keys under the pattern only (to delete everything under a prefix)."""
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [key_pattern]}},
        )
    )


def grant_message_media(function: lambda_.Function, message_media_bucket: s3.IBucket, actions: Sequence[str]) -> None:
    """`pinhole.messaging.media.MessageMediaStorage` on the photo messages' renditions: the object actions
    given, and removal (list and delete under `conversations/`)."""
    pattern = f"{RENDITIONS_PREFIX}*"
    grant_objects(function, message_media_bucket, pattern, [*actions, "s3:DeleteObject"])
    grant_prefix_listing(function, message_media_bucket, pattern)


def grant_objects(function: lambda_.Function, bucket: s3.IBucket, key_pattern: str, actions: Sequence[str]) -> None:
    """Exactly these object actions on keys matching the pattern (CDK's grant_read/grant_put add
    wildcard actions such as s3:GetObject*, s3:List* and s3:Abort*)."""
    function.add_to_role_policy(
        iam.PolicyStatement(actions=list(actions), resources=[bucket.arn_for_objects(key_pattern)])
    )


def grant_rendition_removal(
    function: lambda_.Function, media_bucket: s3.IBucket, invalidations: sqs.IQueue, key_prefix: str
) -> None:
    """What `pinhole.resize.purge.purge_prefix` needs for keys under the prefix: list and delete them, and
    queue their paths for the CDN invalidator."""
    grant_objects(function, media_bucket, f"{key_prefix}*", ["s3:DeleteObject"])
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[media_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{key_prefix}*"]}},
        )
    )
    invalidations.grant_send_messages(function)


def grant_image_screening(function: lambda_.Function, moderation_table: dynamodb.ITableV2) -> None:
    """Automatic screening (context `image_moderation`): Rekognition looks at a rendition; a flagged post is held
    and a case opened in the moderation table. Granted whether the switch is on or off, so turning it on changes
    one variable, not the role. DetectModerationLabels has no resource-level permissions (Service Authorization
    Reference): its resource is `*`."""
    grant_table_read_write(function, moderation_table)
    function.add_to_role_policy(iam.PolicyStatement(actions=["rekognition:DetectModerationLabels"], resources=["*"]))
