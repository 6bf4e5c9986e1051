"""search: people, hashtags and a hashtag's posts (JWT routes), and the index upkeep, `on_change`, fed
the users and posts tables' records by their stream routers through a FIFO queue of its own, with partial
batch failures, bounded retries, a dead-letter queue and alarms."""

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.grants import grant_table_read, grant_table_read_write
from stacks.stateless.streams_construct import (
    POST_PUBLISHED,
    PUBLISHED_POST_EDITED,
    PUBLISHED_POST_REMOVED,
    PUBLISHED_POST_TAKEN_DOWN,
    StreamRoutes,
)

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.SEARCH}"
ROUTES = (
    (apigwv2.HttpMethod.GET, "/search/users"),
    (apigwv2.HttpMethod.GET, "/search/tags"),
    (apigwv2.HttpMethod.GET, "/tags/{tag}/posts"),
)


# Which stream records can change the index (the tables' routers send it no others). A filter cannot
# compare the two images of a record, so the profile changes that leave the index as it was (counters
# other than followers, a bio, a follower count within its bucket) are dropped by `on_change` itself,
# without a write. Posts: the publication (a moderator's restore too), the deletion of a published post or its
# removal by a moderator, and any change of a published
# post whose caption was edited (`edited_at` exists): its tags may have moved. Likes and comments on posts
# never edited modify them many times and are not wanted here; on an edited post they pass the filter and
# `on_change` finds the tags unchanged and writes nothing.
_WANTED: dict[str, list[dict[str, Any]]] = {
    "users": [{"eventName": ["INSERT", "MODIFY", "REMOVE"]}],
    "posts": [POST_PUBLISHED, PUBLISHED_POST_REMOVED, PUBLISHED_POST_TAKEN_DOWN, PUBLISHED_POST_EDITED],
}


class Search(Construct):
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
        self.function = factory.create(self, context=constants.SEARCH, code_dir=CODE_DIR)
        grant_table_read(self.function, tables["search"])
        # profiles; a tag's page: posts, follows and blocks, likes and saves
        for name in ("users", "posts", "graph", "interactions"):
            grant_table_read(self.function, tables[name])
        cursor_secret.grant_read(self.function)
        http_api.add_routes(self.function, ROUTES, public=False)

        indexer_scope = Construct(self, "Indexer")
        self.on_change = factory.create(
            indexer_scope, context=constants.SEARCH, code_dir=CODE_DIR, handler="consumers.on_change"
        )
        grant_table_read_write(self.on_change, tables["search"])
        stream_routes.subscribe(self.on_change, _WANTED, what="Search index")
        self.functions = [self.function, self.on_change]
