"""Lambda entry point of the users context: profiles, and the social graph between them (follows,
follow requests, follower and following lists, blocks)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.graph import logic as graph
from pinhole.graph.models import FollowRequestDecision, FollowResult
from pinhole.shared.api import (
    BEARER_AUTH,
    Cursor,
    Limit,
    Page,
    apply_api_conventions,
    bearer_token,
    current_caller,
    no_content,
)
from pinhole.shared.observability import logger, tracer
from pinhole.users import logic
from pinhole.users.models import Me, ProfileUpdate, User, Username, UserSummary

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.get("/me", summary="The caller's own profile, with email", tags=["users"], security=BEARER_AUTH)
@tracer.capture_method
def get_me() -> Me:
    return logic.get_me(current_caller(app))


@app.patch(
    "/me",
    summary="Change display name, bio, privacy or e-mail (with the current password; re-verified)",
    tags=["users"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def update_me(update: Annotated[ProfileUpdate, Body()]) -> Me:
    return logic.update_me(current_caller(app), update, lambda: bearer_token(app))


@app.get("/users/<username>", summary="A user's public profile", tags=["users"], security=BEARER_AUTH)
@tracer.capture_method
def get_user(username: Annotated[Username, Path()]) -> User:
    return logic.get_user(current_caller(app), username)


@app.post(
    "/users/<username>/follow",
    summary="Follow, or ask to follow a private account",
    tags=["graph"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def follow(username: Annotated[Username, Path()]) -> FollowResult:
    return graph.follow(current_caller(app), username)


@app.delete(
    "/users/<username>/follow",
    summary="Unfollow, or withdraw a follow request",
    tags=["graph"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def unfollow(username: Annotated[Username, Path()]) -> Response[None]:
    graph.unfollow(current_caller(app), username)
    return no_content()


@app.get(
    "/users/<username>/followers", summary="Who follows a user, newest first", tags=["graph"], security=BEARER_AUTH
)
@tracer.capture_method
def followers(username: Annotated[Username, Path()], limit: Limit = 20, cursor: Cursor = None) -> Page[UserSummary]:
    items, next_cursor = graph.followers(current_caller(app), username, limit, cursor)
    return Page[UserSummary](items=items, next_cursor=next_cursor)


@app.get("/users/<username>/following", summary="Whom a user follows", tags=["graph"], security=BEARER_AUTH)
@tracer.capture_method
def following(username: Annotated[Username, Path()], limit: Limit = 20, cursor: Cursor = None) -> Page[UserSummary]:
    items, next_cursor = graph.following(current_caller(app), username, limit, cursor)
    return Page[UserSummary](items=items, next_cursor=next_cursor)


@app.get("/me/follow-requests", summary="Who asked to follow you", tags=["graph"], security=BEARER_AUTH)
@tracer.capture_method
def follow_requests(limit: Limit = 20, cursor: Cursor = None) -> Page[UserSummary]:
    items, next_cursor = graph.follow_requests(current_caller(app), limit, cursor)
    return Page[UserSummary](items=items, next_cursor=next_cursor)


@app.post(
    "/me/follow-requests/<username>",
    summary="Approve or deny a follow request",
    tags=["graph"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def decide_request(
    username: Annotated[Username, Path()], decision: Annotated[FollowRequestDecision, Body()]
) -> Response[None]:
    graph.decide_request(current_caller(app), username, decision.approve)
    return no_content()


@app.post(
    "/users/<username>/block",
    summary="Block a user: each side disappears for the other, follows end both ways",
    tags=["graph"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def block(username: Annotated[Username, Path()]) -> Response[None]:
    graph.block(current_caller(app), username)
    return no_content()


@app.delete(
    "/users/<username>/block",
    summary="Unblock a user (follows do not come back)",
    tags=["graph"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def unblock(username: Annotated[Username, Path()]) -> Response[None]:
    graph.unblock(current_caller(app), username)
    return no_content()


@app.get("/me/blocked", summary="Whom you blocked", tags=["graph"], security=BEARER_AUTH)
@tracer.capture_method
def blocked(limit: Limit = 20, cursor: Cursor = None) -> Page[UserSummary]:
    items, next_cursor = graph.blocked_users(current_caller(app), limit, cursor)
    return Page[UserSummary](items=items, next_cursor=next_cursor)


@app.get("/me/muted", summary="Whom you muted", tags=["graph"], security=BEARER_AUTH)
@tracer.capture_method
def muted(limit: Limit = 20, cursor: Cursor = None) -> Page[UserSummary]:
    items, next_cursor = graph.muted_users(current_caller(app), limit, cursor)
    return Page[UserSummary](items=items, next_cursor=next_cursor)


@app.post(
    "/users/<username>/mute",
    summary="Mute a user: their posts and stories leave your feed and tray; they are not told",
    tags=["graph"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def mute(username: Annotated[Username, Path()]) -> Response[None]:
    graph.mute(current_caller(app), username)
    return no_content()


@app.delete("/users/<username>/mute", summary="Unmute a user", tags=["graph"], security=BEARER_AUTH, status_code=204)
@tracer.capture_method
def unmute(username: Annotated[Username, Path()]) -> Response[None]:
    graph.unmute(current_caller(app), username)
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
