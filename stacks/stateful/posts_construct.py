"""The posts table; its shape is pinhole.posts.dal.PostModel's (tests/infrastructure proves it).
Stories live in it too, listed on their own index and deleted by the TTL a day after publishing."""

from typing import Final

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks import constants
from stacks.stateful.tables import index, pinhole_table

STORIES_BY_AUTHOR_INDEX: Final = "stories-by-author-index"
EXPIRES_AT: Final = "expires_at"  # TTL, stories only


class PostsData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self,
            constants.POSTS_TABLE_ID,
            partition_key="post_id",
            indexes=[
                index(constants.POSTS_BY_AUTHOR_INDEX, "published_by", "post_id"),
                index(STORIES_BY_AUTHOR_INDEX, "story_by", "post_id"),
                index(constants.POSTS_PENDING_INDEX, "pending_shard", "fail_after", dynamodb.ProjectionType.KEYS_ONLY),
            ],
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute=EXPIRES_AT,
        )
