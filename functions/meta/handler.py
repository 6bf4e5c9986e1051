"""Lambda entry point of the API's own description: /health, /openapi.json, /docs, and the catch-all
`$default` route, so that an unknown route gets the same JSON error envelope as every other error, and a
known path asked with a method it does not answer gets 405 with `Allow`.

This function's code asset is the whole `functions/` folder: the OpenAPI document is merged from the
resolvers of every sibling handler, so it is generated from the code that serves the routes."""

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from pinhole.shared.api import SECURITY_SCHEMES, apply_api_conventions, document_conventions
from pinhole.shared.observability import logger, tracer
from pinhole.shared.request_shape import RouteTable

TITLE = "Pinhole API"
VERSION = "1.0.0"

app = APIGatewayHttpResolver(enable_validation=True)


@cache
def merged_document() -> dict:
    """The whole API's OpenAPI document, with the conventions, built when first asked (`/openapi.json`, `/docs`, or
    the `$default` route telling a 404 from a 405): discovering the handlers parses every handler file and merging
    imports them all, which a start, or a cold start that answers `/health`, never needs."""
    app.configure_openapi_merge(
        path=str(Path(__file__).resolve().parent.parent),
        pattern="handler.py",
        recursive=True,
        title=TITLE,
        version=VERSION,
        description="Photo and video sharing: posts, feed, follows, likes, comments, stories, messages, search.",
        security_schemes=SECURITY_SCHEMES,  # type: ignore[arg-type]
        on_conflict="error",
    )
    # Completed in place in the document Powertools caches, which Swagger UI renders too.
    return document_conventions(app.get_openapi_merge_schema())


# `$default` brings every request API Gateway cannot route here, a known path asked with another method
# included: the merged document (every handler's route declarations) tells those apart with 405.
apply_api_conventions(app, other_routes=lambda: RouteTable.of_document(merged_document()))


def _documented_conventions(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    merged_document()
    return next_middleware(app)


app.enable_swagger(path="/docs", title=TITLE, version=VERSION, middlewares=[_documented_conventions])


class Health(BaseModel):
    status: str


@app.get("/health", summary="Liveness", tags=["meta"])
def health() -> Health:
    return Health(status="ok")


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    merged_document()
    return Response(200, content_types.APPLICATION_JSON, app.get_openapi_merge_json_schema())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
