"""social: likes, comments and saved posts (JWT routes), and `on_post_deleted`, fed the posts table's deletions of
published posts by its stream router through a FIFO queue of its own: a deleted post leaves every collection it
was saved in."""

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.grants import grant_table_read, grant_table_read_write
from stacks.stateless.streams_construct import Pattern, StreamRoutes

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.SOCIAL}"
GET, POST, DELETE = apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST, apigwv2.HttpMethod.DELETE
ROUTES = (
    (POST, "/posts/{post_id}/like"),
    (DELETE, "/posts/{post_id}/like"),
    (GET, "/posts/{post_id}/likes"),
    (POST, "/posts/{post_id}/comments"),
    (GET, "/posts/{post_id}/comments"),
    (DELETE, "/posts/{post_id}/comments/{comment_id}"),
    (POST, "/posts/{post_id}/save"),
    (DELETE, "/posts/{post_id}/save"),
    (GET, "/me/saved"),
    (GET, "/me/collections"),
)

# A post saved by very many takes long to leave every collection; a redelivery goes on from the saves left.
SAVES_CLEANUP_TIMEOUT = Duration.minutes(5)

# A post deleted while published: the only records `on_post_deleted` acts on. Not a story: stories are never saved,
# and every one of them leaves by TTL (a REMOVE of a published story), which would invoke the consumer for nothing.
# PUBLISHED_POST_REMOVED covers it, so the posts router's mapping needs no filter more.
_DELETED_POST: Pattern = {
    "eventName": ["REMOVE"],
    "dynamodb": {"OldImage": {"status": {"S": ["published"]}, "kind": {"S": ["post"]}}},
}


class SocialApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: FunctionFactory,
        http_api: HttpApiGateway,
        tables: Mapping[str, dynamodb.ITableV2],
        cursor_secret: secretsmanager.ISecret,
        stream_routes: StreamRoutes,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.create(self, context=constants.SOCIAL, code_dir=CODE_DIR)
        grant_table_read_write(self.function, tables["interactions"])
        grant_table_read_write(self.function, tables["idempotency"])  # Idempotency-Key on comments
        grant_table_read_write(self.function, tables["posts"])  # like and comment counters, in transactions
        grant_table_read(self.function, tables["users"], index_names=[constants.USERS_BY_USERNAME_INDEX])
        grant_table_read(self.function, tables["graph"])
        cursor_secret.grant_read(self.function)
        http_api.add_routes(self.function, ROUTES, public=False)

        saves_scope = Construct(self, "SavesOfDeletedPosts")
        self.on_post_deleted = factory.create(
            saves_scope,
            context=constants.SOCIAL,
            code_dir=CODE_DIR,
            handler="consumers.on_post_deleted",
            timeout=SAVES_CLEANUP_TIMEOUT,
        )
        grant_table_read_write(
            self.on_post_deleted, tables["interactions"], index_names=[constants.INTERACTIONS_SAVES_BY_POST_INDEX]
        )
        stream_routes.subscribe(self.on_post_deleted, {"posts": [_DELETED_POST]}, what="Saves of deleted posts")
