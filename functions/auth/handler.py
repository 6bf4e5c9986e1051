"""Lambda entry point of the auth context: POST /auth/signup, /auth/login, /auth/refresh (public routes)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.auth import logic
from pinhole.auth.models import LoginRequest, LoginTokens, RefreshRequest, SignUpRequest, SignUpResponse, Tokens
from pinhole.shared.api import apply_api_conventions
from pinhole.shared.observability import logger, metrics, tracer

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.post("/auth/signup", summary="Create an account", tags=["auth"], status_code=201)
@tracer.capture_method
def sign_up(request: Annotated[SignUpRequest, Body()]) -> SignUpResponse:
    user = logic.sign_up(request, source_address=app.current_event.request_context.http.source_ip)
    metrics.add_metric(name="SignUps", unit="Count", value=1)
    return SignUpResponse(user=user)


@app.post("/auth/login", summary="Exchange a username and password for tokens", tags=["auth"])
@tracer.capture_method
def log_in(request: Annotated[LoginRequest, Body()]) -> LoginTokens:
    return logic.log_in(request, source_address=app.current_event.request_context.http.source_ip)


@app.post("/auth/refresh", summary="Exchange a refresh token for fresh access and id tokens", tags=["auth"])
@tracer.capture_method
def refresh(request: Annotated[RefreshRequest, Body()]) -> Tokens:
    return logic.refresh(request)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
