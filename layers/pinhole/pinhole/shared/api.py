"""What every API function's resolver shares: every error — domain, validation, unknown route,
unexpected — in the one envelope of API.md, and the caller as the JWT authorizer vouched for them.

Each handler builds its resolver as `APIGatewayHttpResolver(enable_validation=True)` in plain sight
(Powertools' OpenAPI merge finds resolvers by that call) and passes it to `apply_api_conventions`."""

import json
import re
from collections.abc import Callable
from functools import cache
from http import HTTPStatus
from typing import Annotated, Any, Generic, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field
from pynamodb.exceptions import PynamoDBException

from pinhole.shared import idempotency
from pinhole.shared.caller import Caller
from pinhole.shared.errors import AccountSuspended, DomainError, MethodNotAllowed, NotFound, Unauthorized
from pinhole.shared.observability import logger
from pinhole.shared.request_shape import (
    RouteTable,
    accepts_array,
    body_bytes,
    check_query,
    check_request_shape,
    is_json,
)
from pinhole.shared.throttling import RETRY_AFTER_S, throttled_by_aws
from pinhole.users.dal import ProfileRepository, TokenStanding

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The access_token of POST /auth/login",
    }
}
"""Plain data, parsed into Powertools' OpenAPI models only when the document is made: importing those models
(pydantic classes for the whole OpenAPI specification) was 12% of feed_read's import (`-X importtime`)."""
T = TypeVar("T")

BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]
"""OpenAPI security requirement of every route behind the JWT authorizer."""


class ErrorDetail(BaseModel):
    """Which input a problem is about and, for a validation error, what is wrong with it."""

    field: str
    type: str | None = None
    message: str | None = None


class Error(BaseModel):
    code: str = Field(pattern=r"^[a-z]+(_[a-z]+)*$", description="snake_case, for machines: API.md lists them")
    message: str = Field(min_length=1, description="A sentence for people")
    details: list[ErrorDetail] | None = Field(default=None, min_length=1)


class ErrorEnvelope(BaseModel):
    """API.md: every error has this one shape, whatever raised it."""

    error: Error


def error_response(
    status: HTTPStatus, code: str, message: str, details: list[dict[str, Any]] | None = None, **headers: str
) -> Response:
    listed = [ErrorDetail.model_validate(detail) for detail in details] if details else None
    envelope = ErrorEnvelope(error=Error(code=code, message=message, details=listed))
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=envelope.model_dump_json(exclude_none=True),
        headers=headers or None,
    )


def no_content() -> Response[None]:
    """204: done, nothing to say (a body, even `null`, is not allowed with it)."""
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


def _domain_error(error: DomainError) -> Response:
    return error_response(error.status, error.code, error.message, error.details, **error.headers)


def _field_name(location: tuple[Any, ...]) -> str:
    # Powertools prefixes the source ("body", "query", "path"); the client wants the field itself.
    parts = [str(part) for part in location[1:]] or [str(part) for part in location]
    return ".".join(parts)


def _validation_error(error: RequestValidationError) -> Response:
    details = [
        {
            # JSON that does not parse is the body's fault: Powertools locates it by character offset ("0")
            "field": "body" if issue["type"] == "json_invalid" else _field_name(tuple(issue["loc"])),
            "type": issue["type"],
            "message": issue.get("msg", ""),
        }
        for issue in error.errors()
    ]
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", "The request is not valid.", details)


def _registered_routes(app: EventHandlerInstance) -> list[Route]:
    # Powertools 3 keeps a resolver's routes in these two lists (its own matching reads them) and has no
    # public accessor for them.
    return [*app._static_routes, *app._dynamic_routes]


def _route_not_found(app: APIGatewayHttpResolver, known_routes: Callable[[], RouteTable]) -> Callable[..., Response]:
    """A path the API knows asked with another method is 405 with `Allow`; anything else is 404."""

    def not_found(_: NotFoundError) -> Response:
        try:
            known_routes().check_method(app.current_event.http_method, app.current_event.path)
        except MethodNotAllowed as wrong_method:
            return _domain_error(wrong_method)
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "No such route.")

    return not_found


class _RequestShapeThenValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, after the request-shape rules (pinhole.shared.request_shape). Alone, it
    would read a text/plain body (RequestUnsupportedContentType: a 500), parse form data as the body, or
    validate the first element of a JSON array as the body. Powertools runs this middleware before any a
    resolver adds, so the rules ride in it (the resolver's `_request_validation_middleware`). It also reads
    as JSON every type the rules take for JSON (Powertools only those starting `application/json`: a 500 for
    `Application/JSON` or `application/merge-patch+json`), and JSON nested deeper than Python's parser goes
    (a RecursionError) or holding an integer longer than Python converts (4,300 digits: a ValueError) is a 422
    like any other JSON it cannot read, not a 500. `admitted` runs before any of it: a route only some callers
    may use refuses the others (403) whatever they sent."""

    def __init__(self, admitted: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self._admitted = admitted

    def handler(self, app: EventHandlerInstance, next_middleware: NextMiddleware) -> Response:
        route = next((known for known in _registered_routes(app) if known is app.context.get("_route")), None)
        if route is not None:  # None: the not-found route, which answers 404 or 405 whatever the body
            self._admitted()
            event = app.current_event
            if route.include_in_schema:  # an operation of the document (Swagger UI's /docs reads `?format=json`)
                declared = (param.alias for param in route.dependant.query_params)
                check_query(event.query_string_parameters or {}, declared)
            body_params = route.dependant.body_params
            content_type = event.headers.get("content-type")
            body = body_bytes(event.body, bool(event.is_base64_encoded))
            check_request_shape(
                content_type=content_type,
                body=body,
                takes_body=bool(body_params),
                parsed_body=_json_or_none(event) if body and body_params and is_json(content_type) else None,
                takes_array=bool(body_params) and accepts_array(body_params[0].field_info.annotation),
            )
        return super().handler(app, next_middleware)

    def _get_body(self, app: EventHandlerInstance) -> dict[str, Any]:
        # Every body this API reads is JSON: the request-shape rules refused any other (415), and an empty body's
        # Content-Type describes nothing (Powertools would read it: a 500 for text/plain, multipart's boundary...).
        return self._parse_json_data(app)

    def _parse_json_data(self, app: EventHandlerInstance) -> dict[str, Any]:
        try:
            return super()._parse_json_data(app)
        except RecursionError:
            unreadable = "JSON nested too deeply"
        except UnicodeDecodeError:  # the request-shape rules refuse it first; this is base64 they could not read
            unreadable = "The body is not valid UTF-8: JSON is UTF-8."
        except ValueError:  # not JSONDecodeError, which Powertools reports: sys.get_int_max_str_digits()
            unreadable = "JSON number too long"
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": unreadable, "input": {}}])


def _json_or_none(event: Any) -> Any:
    try:
        return event.json_body
    except (ValueError, RecursionError):
        return None  # malformed or nested too deeply: Powertools' validation reports it as `json_invalid`


def _unexpected(error: Exception) -> Response:
    """A throttled request was fine: the client is told to retry shortly (503 `unavailable`, Retry-After),
    not that it failed, whichever AWS service throttled it and whatever wrapped its error. Anything else is
    our fault (500)."""
    if throttled_by_aws(error):
        logger.warning("Throttled by AWS", extra={"error_type": type(error).__name__})
        retry_after = {"Retry-After": str(RETRY_AFTER_S)}
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE, "unavailable", "Too busy right now: retry in a moment.", None, **retry_after
        )
    logger.exception("Unhandled error", extra={"error_type": type(error).__name__})
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal", "Something went wrong on our side.")


def _aws_error(error: ClientError | PynamoDBException) -> Response:
    return _unexpected(error)


_PATH_PARAMETER = re.compile(r"<(\w+)>")


def _route_pattern(rule: str, base_regex: str = "^{}$") -> re.Pattern[str]:
    """A route's pattern whose path parameters take any characters but `/`, as API Gateway's `{name}` does.
    Powertools' take word characters and some of URI syntax: a hashtag with a combining mark (`#हिन्दी`, whose
    vowel signs are not word characters) or sent with its `#` (`%23`, which API Gateway decodes in `rawPath`)
    was 'No such route'. The route's own validation judges the value."""
    return re.compile(base_regex.format(_PATH_PARAMETER.sub(r"(?P<\1>[^/]+)", rule)))


def apply_api_conventions(
    app: APIGatewayHttpResolver,
    other_routes: Callable[[], RouteTable] = lambda: RouteTable(()),
    admitted: Callable[[], None] = lambda: None,
) -> None:
    """Errors in the envelope, the request-shape rules, and 405 for a known path asked with another method:
    the resolver's own routes, and `other_routes` (meta, which answers the `$default` route, knows the
    whole API's from the merged OpenAPI document). `admitted` raises a DomainError for a caller a route refuses
    whatever they send: it runs before the request is read."""

    @cache
    def known_routes() -> RouteTable:
        return RouteTable((route.method, route.path) for route in _registered_routes(app)) | other_routes()

    app.configure_openapi(security_schemes=SECURITY_SCHEMES)  # type: ignore[arg-type]
    app._compile_regex = _route_pattern  # type: ignore[method-assign]  # the routes declared after this
    app._request_validation_middleware = _RequestShapeThenValidation(admitted)
    app.exception_handler(DomainError)(_domain_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.not_found(_route_not_found(app, known_routes))
    app.exception_handler([ClientError, PynamoDBException])(_aws_error)
    app.exception_handler(Exception)(_unexpected)


CALLER_CONTEXT_KEY = "pinhole_caller"
_profiles = ProfileRepository()


def current_caller(
    app: APIGatewayHttpResolver,
    token_standing: Callable[[str], TokenStanding] = _profiles.token_standing,
    *,
    deleted_may: bool = False,
) -> Caller:
    """The caller the access token speaks for, refused while a moderator has them suspended (403
    `account_suspended`), if the token was issued before they last signed out everywhere or its session was logged
    out (401), and once they deleted their account (404, as the absent account it is), except on the routes that
    say `deleted_may` (the deletion's own: asking again, reactivating, and their data's export): Cognito cannot
    recall an access token already handed out (it is good for its 15 minutes and the JWT authorizer never asks
    Cognito), so every request, reads too, reads all of it — once per request (the resolver's context keeps the
    caller until the request ends)."""
    known = app.context.get(CALLER_CONTEXT_KEY)
    if isinstance(known, Caller):
        return known
    claims = app.current_event.request_context.authorizer.jwt_claim
    user_id, username = claims.get("sub"), claims.get("username")
    # The HTTP API's JWT authorizer lets an id token through too (its `aud` is the app client): only an
    # access token speaks for a caller of this API.
    if claims.get("token_use") != "access" or not user_id or not username:
        raise Unauthorized("This route needs a valid access token.")
    standing = token_standing(user_id)
    if standing.suspended:
        raise AccountSuspended("This account is suspended.")
    if standing.signed_out(issued_at(claims.get("iat")), claims.get("origin_jti")):
        raise Unauthorized("This access token was signed out: log in again.")
    if standing.deactivated and not deleted_may:
        raise NotFound("No such user: this account is deleted (POST /me/reactivate, or a log-in, brings it back).")
    caller = Caller(user_id=user_id, username=username, groups=token_groups(claims.get("cognito:groups")))
    app.append_context(**{CALLER_CONTEXT_KEY: caller})
    return caller


def issued_at(claim: object) -> int | None:
    """`iat` as the JWT authorizer renders it in the event (a string of epoch seconds), or as the token's JSON."""
    try:
        return int(str(claim))
    except ValueError:
        return None


def token_groups(claim: object) -> frozenset[str]:
    """`cognito:groups` as the HTTP API's JWT authorizer renders a list claim in the event (`[a b]`), or as a
    list (a Lambda test event may carry the token's own JSON)."""
    if isinstance(claim, list):
        return frozenset(str(group) for group in claim)
    if isinstance(claim, str):
        return frozenset(claim.strip("[]").replace(",", " ").split())
    return frozenset()


def bearer_token(app: APIGatewayHttpResolver) -> str:
    """The caller's access token itself, for the Cognito calls that act as the user (ChangePassword,
    GlobalSignOut, VerifySoftwareToken...): Cognito checks it again, revocation included."""
    current_caller(app)
    scheme, _, token = (app.current_event.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("This route needs a valid access token.")
    return token.strip()


def source_ip(app: APIGatewayHttpResolver) -> str | None:
    """The client's address as API Gateway saw it (rate limits per source address)."""
    return app.current_event.request_context.http.source_ip or None


Limit = Annotated[int, Query(ge=1, le=50, description="Page size, 1 to 50")]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=2048,
        description="next_cursor of the previous page; omitted for the first (an empty one is refused: a client "
        "passing on a null next_cursor would otherwise read the first page again and again)",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        min_length=1,
        max_length=idempotency.KEY_MAX,
        description="Retry with the same key within 24 h: the first result comes back, nothing is doubled",
    ),
]


class Page(BaseModel, Generic[T]):
    """Every list of API.md: a page of items and the opaque cursor of the next page (null at the end)."""

    items: list[T]
    next_cursor: str | None


_ENVELOPE_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
# Each after the schemas that refer to it (both validation errors list ValidationError): one pass drops them all.
_POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


def _envelope(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ENVELOPE_REF}}}


def document_conventions(document: dict[str, Any]) -> dict[str, Any]:
    """Completes a generated OpenAPI document with what `apply_api_conventions` does and Powertools
    cannot see: errors come in ErrorEnvelope (not Powertools' own `HTTPValidationError`), every
    route behind the authorizer may answer 401, a route with a body 415, and a 204 has no body.
    Changes `document` in place and returns it; a second call changes nothing."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = {str(status): response for status, response in operation["responses"].items()}
            responses["422"] = _envelope("Validation error: a parameter or the body does not match this document")
            if operation.get("security"):
                responses["401"] = _envelope("Missing, expired or forged access token")
            if "requestBody" in operation:
                responses["415"] = _envelope(
                    "unsupported_media_type: the body is not JSON (Content-Type: application/json or "
                    "application/*+json; a body without a Content-Type is read as JSON)"
                )
            responses["default"] = _envelope(
                "Any other error: 403 forbidden, 404 not_found, 405 method_not_allowed (another method of this "
                "path: the Allow header lists this path's methods), 409 conflict, 413 payload_too_large, "
                "429 rate_limited (with Retry-After), 500 internal, 503 unavailable (throttled by AWS: retry after "
                "Retry-After), and the codes API.md names per route"
            )
            if "204" in responses:
                responses["204"] = {"description": responses["204"].get("description", "Done: no body")}
            operation["responses"] = responses
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    envelope_schema = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(envelope_schema.pop("$defs", {}))
    schemas["ErrorEnvelope"] = envelope_schema
    for name in _POWERTOOLS_ERROR_SCHEMAS:
        if f"#/components/schemas/{name}" not in json.dumps(document, default=str):  # enums among the values
            schemas.pop(name, None)
    return document
