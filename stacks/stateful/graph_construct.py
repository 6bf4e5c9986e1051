"""The social graph's table of edges; its shape is pinhole.graph.dal.EdgeModel's (tests/infrastructure proves it)."""

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks import constants
from stacks.stateful.tables import index, pinhole_table


class GraphData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self,
            constants.GRAPH_TABLE_ID,
            partition_key="pk",
            sort_key="sk",
            indexes=[index(constants.GRAPH_INVERSE_INDEX, "gsi1pk", "gsi1sk")],
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
