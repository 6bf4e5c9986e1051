"""The social graph's table of edges; its shape is pinhole.graph.dal.EdgeModel's (tests/infrastructure proves it)."""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks import constants

STRING = dynamodb.AttributeType.STRING


class GraphData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            constants.GRAPH_TABLE_ID,
            partition_key=dynamodb.Attribute(name="pk", type=STRING),
            sort_key=dynamodb.Attribute(name="sk", type=STRING),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=constants.GRAPH_INVERSE_INDEX,
                    partition_key=dynamodb.Attribute(name="gsi1pk", type=STRING),
                    sort_key=dynamodb.Attribute(name="gsi1sk", type=STRING),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            ],
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
