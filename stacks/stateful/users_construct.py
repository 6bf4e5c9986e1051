"""The users table; its shape is pinhole.users.dal.UserModel's (tests/infrastructure proves it)."""

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks import constants
from stacks.stateful.tables import index, pinhole_table


class UsersData(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = pinhole_table(
            self,
            constants.USERS_TABLE_ID,
            partition_key="user_id",
            indexes=[index(constants.USERS_BY_USERNAME_INDEX, "username")],
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        )
