"""The posts table; its shape is pinhole.posts.dal.PostModel's (tests/infrastructure proves it)."""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks import constants

STRING = dynamodb.AttributeType.STRING


class PostsData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            constants.POSTS_TABLE_ID,
            partition_key=dynamodb.Attribute(name="post_id", type=STRING),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=constants.POSTS_BY_AUTHOR_INDEX,
                    partition_key=dynamodb.Attribute(name="published_by", type=STRING),
                    sort_key=dynamodb.Attribute(name="post_id", type=STRING),
                    projection_type=dynamodb.ProjectionType.ALL,
                ),
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=constants.POSTS_PENDING_INDEX,
                    partition_key=dynamodb.Attribute(name="pending_shard", type=STRING),
                    sort_key=dynamodb.Attribute(name="fail_after", type=STRING),
                    projection_type=dynamodb.ProjectionType.KEYS_ONLY,
                ),
            ],
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
