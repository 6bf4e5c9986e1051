"""Every DynamoDB table of Pinhole is made here, so each one is on-demand, recoverable to any point
in time, protected from deletion and retained when its stack goes: its construct states only its
shape (which tests/infrastructure holds to the PynamoDB model)."""

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

STRING = dynamodb.AttributeType.STRING


def string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=STRING)


def pinhole_table(
    scope: Construct,
    construct_id: str,
    *,
    partition_key: str,
    sort_key: str | None = None,
    indexes: Sequence[dynamodb.GlobalSecondaryIndexPropsV2] = (),
    stream: dynamodb.StreamViewType | None = None,
    time_to_live_attribute: str | None = None,
) -> dynamodb.TableV2:
    return dynamodb.TableV2(
        scope,
        construct_id,
        partition_key=string_key(partition_key),
        sort_key=string_key(sort_key) if sort_key else None,
        global_secondary_indexes=list(indexes) or None,
        dynamo_stream=stream,
        time_to_live_attribute=time_to_live_attribute,
        billing=dynamodb.Billing.on_demand(),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )


def index(
    name: str,
    partition_key: str,
    sort_key: str | None = None,
    projection: dynamodb.ProjectionType = dynamodb.ProjectionType.ALL,
) -> dynamodb.GlobalSecondaryIndexPropsV2:
    return dynamodb.GlobalSecondaryIndexPropsV2(
        index_name=name,
        partition_key=string_key(partition_key),
        sort_key=string_key(sort_key) if sort_key else None,
        projection_type=projection,
    )
