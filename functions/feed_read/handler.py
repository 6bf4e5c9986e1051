"""Lambda entry point of the feed_read context: GET /feed, the home feed, POST /feed/seen, its impressions,
and GET /stories/feed."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.feed import logic
from pinhole.feed.models import FeedOrder, FeedPage, SeenRequest
from pinhole.shared.api import BEARER_AUTH, Cursor, Limit, apply_api_conventions, current_caller, no_content
from pinhole.shared.observability import logger, tracer
from pinhole.stories import feed as stories
from pinhole.stories.models import StoriesFeed

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)

Order = Annotated[
    FeedOrder,
    Query(description="ranked (the default): by the documented score; chronological: newest first"),
]
Explain = Annotated[bool, Query(description="Ranked only: each item carries its score and the score's parts")]


@app.get(
    "/feed",
    summary="Posts of people you follow, and yours: ranked (default) or newest first; caught_up once "
    "every post of the last 48 hours is seen",
    tags=["feed"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def read_feed(
    limit: Limit = 20,
    cursor: Cursor = None,
    order: Order = FeedOrder.RANKED,
    explain: Explain = False,
) -> FeedPage:
    return logic.read_feed(current_caller(app), limit, cursor, order, explain)


@app.post(
    "/feed/seen",
    summary="Record that these posts were seen (up to 50; unknown ids are ignored; repeating changes nothing)",
    tags=["feed"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def mark_seen(request: Annotated[SeenRequest, Body()]) -> Response[None]:
    logic.mark_seen(current_caller(app), request.post_ids)
    return no_content()


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
