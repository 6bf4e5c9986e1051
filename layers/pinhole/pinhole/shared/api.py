"""What every API function's resolver shares: every error — domain, validation, unknown route,
unexpected — in the one envelope of API.md, and the caller as the JWT authorizer vouched for them.

Each handler builds its resolver as `APIGatewayHttpResolver(enable_validation=True)` in plain sight
(Powertools' OpenAPI merge finds resolvers by that call) and passes it to `apply_api_conventions`."""

import json
from http import HTTPStatus
from typing import Annotated, Any, Generic, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import BaseModel

from pinhole.shared.caller import Caller
from pinhole.shared.errors import DomainError, RateLimited, Unauthorized
from pinhole.shared.observability import logger

SECURITY_SCHEMES = {"bearerAuth": HTTPBearer(bearerFormat="JWT", description="The access_token of POST /auth/login")}
T = TypeVar("T")

BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]
"""OpenAPI security requirement of every route behind the JWT authorizer."""


def error_response(
    status: HTTPStatus, code: str, message: str, details: list[dict[str, Any]] | None = None, **headers: str
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error}),
        headers=headers or None,
    )


def no_content() -> Response[None]:
    """204: done, nothing to say (a body, even `null`, is not allowed with it)."""
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


def _domain_error(error: DomainError) -> Response:
    headers = {"Retry-After": str(error.retry_after_s)} if isinstance(error, RateLimited) else {}
    return error_response(error.status, error.code, error.message, error.details, **headers)


def _field_name(location: tuple[Any, ...]) -> str:
    # Powertools prefixes the source ("body", "query", "path"); the client wants the field itself.
    parts = [str(part) for part in location[1:]] or [str(part) for part in location]
    return ".".join(parts)


def _validation_error(error: RequestValidationError) -> Response:
    details = [
        {"field": _field_name(tuple(issue["loc"])), "type": issue["type"], "message": issue.get("msg", "")}
        for issue in error.errors()
    ]
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", "The request is not valid.", details)


def _route_not_found(_: NotFoundError) -> Response:
    return error_response(HTTPStatus.NOT_FOUND, "not_found", "No such route.")


def _unexpected(error: Exception) -> Response:
    logger.exception("Unhandled error", extra={"error_type": type(error).__name__})
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", "Something went wrong on our side.")


def apply_api_conventions(app: APIGatewayHttpResolver) -> None:
    app.configure_openapi(security_schemes=SECURITY_SCHEMES)  # type: ignore[arg-type]
    app.exception_handler(DomainError)(_domain_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.not_found(_route_not_found)
    app.exception_handler(Exception)(_unexpected)


def current_caller(app: APIGatewayHttpResolver) -> Caller:
    claims = app.current_event.request_context.authorizer.jwt_claim
    user_id, username = claims.get("sub"), claims.get("username")
    # The HTTP API's JWT authorizer lets an id token through too (its `aud` is the app client): only an
    # access token speaks for a caller of this API.
    if claims.get("token_use") != "access" or not user_id or not username:
        raise Unauthorized("This route needs a valid access token.")
    return Caller(user_id=user_id, username=username)


Limit = Annotated[int, Query(ge=1, le=50, description="Page size, 1 to 50")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=255,
        description="Retry with the same key within 24 h: the first result comes back, nothing is doubled",
    ),
]


class Page(BaseModel, Generic[T]):
    """Every list of API.md: a page of items and the opaque cursor of the next page (null at the end)."""

    items: list[T]
    next_cursor: str | None
