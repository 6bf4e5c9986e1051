"""Lambda entry point of the feed_read context: GET /feed, the home feed, and GET /stories/feed."""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.feed import logic
from pinhole.posts.models import Post
from pinhole.shared.api import BEARER_AUTH, Cursor, Limit, Page, apply_api_conventions, current_caller
from pinhole.shared.observability import logger, tracer
from pinhole.stories import logic as stories
from pinhole.stories.models import StoriesFeed

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.get(
    "/feed",
    summary="Published posts of people you follow, and yours, newest first",
    tags=["feed"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def read_feed(
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[Post]:
    items, next_cursor = logic.read_feed(current_caller(app), limit, cursor)
    return Page[Post](items=items, next_cursor=next_cursor)


@app.get(
    "/stories/feed",
    summary="Unexpired stories of people you follow, and yours, by author: the newest story's author first",
    tags=["stories"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def read_stories_feed() -> StoriesFeed:
    return stories.read_stories_feed(current_caller(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
