"""Lambda entry point of the search context's API: GET /search/users, GET /search/tags and GET /tags/{tag}/posts
(JWT). The index upkeep, `on_change`, is `consumers.py`'s: each function imports only its own entry module."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.posts.models import Post
from pinhole.search import logic
from pinhole.search.models import QUERY_MAX, TagResults, UserResults
from pinhole.shared.api import BEARER_AUTH, Cursor, Limit, Page, apply_api_conventions, current_caller
from pinhole.shared.observability import logger, metrics, tracer

SearchText = Annotated[str, Query(min_length=1, max_length=QUERY_MAX, description="What the name or tag starts with")]
Tag = Annotated[str, Path(max_length=256, description="The hashtag, without #")]

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.get(
    "/search/users",
    summary="Find people by the start of their username or of a word of their name",
    tags=["search"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def search_users(q: SearchText, limit: Limit = 20) -> UserResults:
    return UserResults(items=logic.search_users(current_caller(app), q, limit))


@app.get(
    "/search/tags", summary="Find hashtags by their start, with post counts", tags=["search"], security=BEARER_AUTH
)
@tracer.capture_method
def search_tags(q: SearchText, limit: Limit = 20) -> TagResults:
    current_caller(app)  # for signed-in users only, though the answer is the same for all of them
    return TagResults(items=logic.search_tags(q, limit))


@app.get("/tags/<tag>/posts", summary="A hashtag's posts, newest first", tags=["search"], security=BEARER_AUTH)
@tracer.capture_method
def tag_posts(tag: Tag, limit: Limit = 20, cursor: Cursor = None) -> Page[Post]:
    items, next_cursor = logic.tag_posts(current_caller(app), tag, limit, cursor)
    return Page[Post](items=items, next_cursor=next_cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
