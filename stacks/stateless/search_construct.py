"""search: people, hashtags and a hashtag's posts (JWT routes), and the index upkeep, `on_change`, fed
by the users and posts tables' streams with partial batch failures, bounded retries, bisect, an
on-failure queue and alarms per stream."""

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks import constants
from stacks.function_factory import FunctionFactory
from stacks.stateless.api_construct import HttpApiGateway
from stacks.stateless.event_sources import consume_stream
from stacks.stateless.grants import grant_table_read, grant_table_read_write

CODE_DIR = f"{constants.FUNCTIONS_DIR}/{constants.SEARCH}"
ROUTES = (
    (apigwv2.HttpMethod.GET, "/search/users"),
    (apigwv2.HttpMethod.GET, "/search/tags"),
    (apigwv2.HttpMethod.GET, "/tags/{tag}/posts"),
)


def _status(status: str) -> dict[str, Any]:
    return {"status": {"S": lambda_.FilterRule.is_equal(status)}}


# Which stream records can change the index (Lambda drops the others before invoking). A filter cannot
# compare the two images of a record, so the profile changes that leave the index as it was (counters
# other than followers, a bio, a follower count within its bucket) are dropped by `on_change` itself,
# without a write. Posts: only the publication and the deletion of a published post (captions, and so
# tags, never change; likes and comments modify a post many times and are not wanted here).
_WANTED: dict[str, list[dict[str, Any]]] = {
    "users": [{"eventName": lambda_.FilterRule.or_("INSERT", "MODIFY", "REMOVE")}],
    "posts": [
        {
            # published: after the upload, after review, or restored by a moderator
            "eventName": lambda_.FilterRule.is_equal("MODIFY"),
            "dynamodb": {
                "OldImage": {"status": {"S": lambda_.FilterRule.or_("pending", "in_review", "removed")}},
                "NewImage": _status("published"),
            },
        },
        {
            "eventName": lambda_.FilterRule.is_equal("MODIFY"),
            "dynamodb": {"OldImage": _status("published"), "NewImage": _status("removed")},
        },
        {"eventName": lambda_.FilterRule.is_equal("REMOVE"), "dynamodb": {"OldImage": _status("published")}},
    ],
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
            indexer_scope, context=constants.SEARCH, code_dir=CODE_DIR, handler="handler.on_change"
        )
        grant_table_read_write(self.on_change, tables["search"])
        self.failure_queues = [
            consume_stream(
                Construct(indexer_scope, source.capitalize()),
                self.on_change,
                tables[source],
                patterns=patterns,
                what=f"Search index ({source})",
            )
            for source, patterns in _WANTED.items()
        ]
        self.functions = [self.function, self.on_change]
