"""Lambda entry point of the upload context: creating posts (and signing their uploads), reading,
editing, listing and deleting them; creating and deleting stories; the avatar's upload and removal."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.posts import logic
from pinhole.posts.models import CreatePostRequest, CreatePostResponse, EditPostRequest, Post
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
from pinhole.stories import logic as stories
from pinhole.stories.models import CreateStoryRequest, CreateStoryResponse
from pinhole.users import avatar
from pinhole.users.models import AvatarUploadRequest, AvatarUploadResponse, Username

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.post(
    "/posts",
    summary="Create a post and get one pre-signed upload per media item",
    tags=["posts"],
    security=BEARER_AUTH,
    status_code=201,
)
@tracer.capture_method
def create_post(
    request: Annotated[CreatePostRequest, Body()], idempotency_key: IdempotencyKey = None
) -> CreatePostResponse:
    caller = current_caller(app)
    created = once(
        caller,
        "create_post",
        idempotency_key,
        lambda: logic.create_post(caller, request),
        CreatePostResponse,
        app.lambda_context,
        request=request,
        on_replay=lambda first: logic.ensure_still_there(first.post.post_id),
    )
    metrics.add_metric(name="PostsCreated", unit="Count", value=1)
    return created


@app.get("/posts/<post_id>", summary="A post", tags=["posts"], security=BEARER_AUTH)
@tracer.capture_method
def get_post(post_id: Annotated[str, Path(max_length=64)]) -> Post:
    return logic.get_post(current_caller(app), post_id)


@app.patch("/posts/<post_id>", summary="Edit your post's caption", tags=["posts"], security=BEARER_AUTH)
@tracer.capture_method
def edit_post(post_id: Annotated[str, Path(max_length=64)], request: Annotated[EditPostRequest, Body()]) -> Post:
    return logic.edit_caption(current_caller(app), post_id, request)


@app.post(
    "/me/avatar",
    summary="Get a pre-signed upload for a new avatar (a photo of at most 10 MB)",
    tags=["users"],
    security=BEARER_AUTH,
    status_code=201,
)
@tracer.capture_method
def upload_avatar(request: Annotated[AvatarUploadRequest, Body()]) -> AvatarUploadResponse:
    return AvatarUploadResponse(upload=avatar.request_upload(current_caller(app), request))


@app.delete("/me/avatar", summary="Remove your avatar", tags=["users"], security=BEARER_AUTH, status_code=204)
@tracer.capture_method
def remove_avatar() -> Response[None]:
    avatar.remove(current_caller(app))
    return no_content()


@app.delete(
    "/posts/<post_id>", summary="Delete one of your posts", tags=["posts"], security=BEARER_AUTH, status_code=204
)
@tracer.capture_method
def delete_post(post_id: Annotated[str, Path(max_length=64)]) -> Response[None]:
    logic.delete_post(current_caller(app), post_id)
    return no_content()


@app.get(
    "/users/<username>/posts", summary="A user's published posts, newest first", tags=["posts"], security=BEARER_AUTH
)
@tracer.capture_method
def list_user_posts(
    username: Annotated[Username, Path()],
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[Post]:
    items, next_cursor = logic.list_user_posts(current_caller(app), username, limit, cursor)
    return Page[Post](items=items, next_cursor=next_cursor)


@app.post(
    "/stories",
    summary="Create a story (a photo or a video for 24 hours) and get its pre-signed upload",
    tags=["stories"],
    security=BEARER_AUTH,
    status_code=201,
)
@tracer.capture_method
def create_story(
    request: Annotated[CreateStoryRequest, Body()], idempotency_key: IdempotencyKey = None
) -> CreateStoryResponse:
    caller = current_caller(app)
    created = once(
        caller,
        "create_story",
        idempotency_key,
        lambda: stories.create_story(caller, request),
        CreateStoryResponse,
        app.lambda_context,
        request=request,
        on_replay=lambda first: logic.ensure_still_there(first.story.story_id, made="story"),
    )
    metrics.add_metric(name="StoriesCreated", unit="Count", value=1)
    return created


@app.delete(
    "/me/stories/<story_id>",
    summary="Delete one of your stories, before its 24 hours are up",
    tags=["stories"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def delete_story(story_id: Annotated[str, Path(max_length=64)]) -> Response[None]:
    stories.delete_story(current_caller(app), story_id)
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def sweep(event: dict, context: LambdaContext) -> dict:
    """Scheduled: posts whose upload never arrived fail with `upload_missing`."""
    failed = logic.fail_overdue_posts()
    logger.info("Swept pending posts", extra={"failed": failed})
    return {"failed": failed}
