"""Lambda entry point of the social context: likes, comments, and saved posts in collections."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.posts.models import Post
from pinhole.shared.api import (
    BEARER_AUTH,
    Cursor,
    IdempotencyKey,
    Limit,
    Page,
    apply_api_conventions,
    current_caller,
    no_content,
)
from pinhole.shared.idempotency import once
from pinhole.shared.observability import logger, metrics, tracer
from pinhole.social import logic
from pinhole.social.models import (
    DEFAULT_COLLECTION,
    CollectionName,
    Collections,
    Comment,
    CreateCommentRequest,
    LikeState,
    SaveRequest,
)
from pinhole.users.models import UserSummary

PostId = Annotated[str, Path(max_length=64)]
OptionalSaveRequest = Annotated[SaveRequest | None, Body(description='Optional: the collection, "saved" if none')]

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.post("/posts/<post_id>/like", summary="Like a post (again: no change)", tags=["social"], security=BEARER_AUTH)
@tracer.capture_method
def like(post_id: PostId) -> LikeState:
    return logic.like(current_caller(app), post_id)


@app.delete(
    "/posts/<post_id>/like", summary="Take back a like (again: no change)", tags=["social"], security=BEARER_AUTH
)
@tracer.capture_method
def unlike(post_id: PostId) -> LikeState:
    return logic.unlike(current_caller(app), post_id)


@app.get("/posts/<post_id>/likes", summary="Who likes a post", tags=["social"], security=BEARER_AUTH)
@tracer.capture_method
def likers(post_id: PostId, limit: Limit = 20, cursor: Cursor = None) -> Page[UserSummary]:
    items, next_cursor = logic.likers(current_caller(app), post_id, limit, cursor)
    return Page[UserSummary](items=items, next_cursor=next_cursor)


@app.post(
    "/posts/<post_id>/comments", summary="Comment on a post", tags=["social"], security=BEARER_AUTH, status_code=201
)
@tracer.capture_method
def add_comment(
    post_id: PostId, request: Annotated[CreateCommentRequest, Body()], idempotency_key: IdempotencyKey = None
) -> Comment:
    caller = current_caller(app)
    comment = once(
        caller,
        "comment",
        idempotency_key,
        lambda: logic.add_comment(caller, post_id, request),
        Comment,
        app.lambda_context,
        request={"post_id": post_id, "comment": request},
        on_replay=lambda first: logic.ensure_comment_still_there(caller, first),
    )
    metrics.add_metric(name="CommentsCreated", unit="Count", value=1)
    return comment


@app.get("/posts/<post_id>/comments", summary="A post's comments, oldest first", tags=["social"], security=BEARER_AUTH)
@tracer.capture_method
def comments(post_id: PostId, limit: Limit = 20, cursor: Cursor = None) -> Page[Comment]:
    items, next_cursor = logic.comments(current_caller(app), post_id, limit, cursor)
    return Page[Comment](items=items, next_cursor=next_cursor)


@app.delete(
    "/posts/<post_id>/comments/<comment_id>",
    summary="Delete a comment: yours, or one on your post",
    tags=["social"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def delete_comment(post_id: PostId, comment_id: Annotated[str, Path(max_length=64)]) -> Response[None]:
    logic.delete_comment(current_caller(app), post_id, comment_id)
    return no_content()


@app.post(
    "/posts/<post_id>/save",
    summary="Save a post into a collection",
    tags=["social"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def save(post_id: PostId, request: OptionalSaveRequest = None) -> Response[None]:
    logic.save(current_caller(app), post_id, (request or SaveRequest()).collection)
    return no_content()


@app.delete(
    "/posts/<post_id>/save",
    summary="Take a post out of a collection",
    tags=["social"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def unsave(post_id: PostId, request: OptionalSaveRequest = None) -> Response[None]:
    logic.unsave(current_caller(app), post_id, (request or SaveRequest()).collection)
    return no_content()


@app.get("/me/saved", summary="Your saved posts in one collection", tags=["social"], security=BEARER_AUTH)
@tracer.capture_method
def saved_posts(
    collection: Annotated[CollectionName, Query()] = DEFAULT_COLLECTION, limit: Limit = 20, cursor: Cursor = None
) -> Page[Post]:
    items, next_cursor = logic.saved_posts(current_caller(app), collection, limit, cursor)
    return Page[Post](items=items, next_cursor=next_cursor)


@app.get("/me/collections", summary="Your collections of saved posts", tags=["social"], security=BEARER_AUTH)
@tracer.capture_method
def collections() -> Collections:
    return logic.collections(current_caller(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
