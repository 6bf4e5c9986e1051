"""Lambda entry point of the users context: the caller's own profile and other users' profiles."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.shared.api import BEARER_AUTH, apply_api_conventions, current_caller
from pinhole.shared.observability import logger, tracer
from pinhole.users import logic
from pinhole.users.models import Me, ProfileUpdate, User, Username

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.get("/me", summary="The caller's own profile, with email", tags=["users"], security=BEARER_AUTH)
@tracer.capture_method
def get_me() -> Me:
    return logic.get_me(current_caller(app))


@app.patch("/me", summary="Change display name, bio or privacy", tags=["users"], security=BEARER_AUTH)
@tracer.capture_method
def update_me(update: Annotated[ProfileUpdate, Body()]) -> Me:
    return logic.update_me(current_caller(app), update)


@app.get("/users/<username>", summary="A user's public profile", tags=["users"], security=BEARER_AUTH)
@tracer.capture_method
def get_user(username: Annotated[Username, Path()]) -> User:
    current_caller(app)
    return logic.get_user(username)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
