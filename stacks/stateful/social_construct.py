"""Likes, comments and saved posts, one table; its shape is pinhole.social.dal's model's."""

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks import constants
from stacks.stateful.tables import index, pinhole_table


class SocialData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self,
            constants.INTERACTIONS_TABLE_ID,
            partition_key="pk",
            sort_key="sk",
            # who saved a post (each saver's marker item): a deleted post is taken out of their collections
            indexes=[index(constants.INTERACTIONS_SAVES_BY_POST_INDEX, "saved_post_id")],
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
