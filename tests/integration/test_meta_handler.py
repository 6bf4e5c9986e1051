import importlib

from functions.meta import handler as meta
from tests.support.events import FakeLambdaContext, http_event, response_json


def get(path: str, route_key: str | None = None) -> dict:
    return meta.handler(http_event("GET", path, route_key=route_key), FakeLambdaContext())


def test_health_answers_ok() -> None:
    response = get("/health")

    assert response["statusCode"] == 200
    assert response_json(response) == {"status": "ok"}


def test_openapi_document_merges_every_handlers_routes() -> None:
    response = get("/openapi.json")

    document = response_json(response)
    assert document["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert {
        ("POST", "/auth/signup"),
        ("POST", "/auth/login"),
        ("POST", "/auth/refresh"),
        ("GET", "/me"),
        ("PATCH", "/me"),
        ("GET", "/users/{username}"),
        ("GET", "/health"),
    } <= operations
    assert document["paths"]["/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"]["/auth/login"]["post"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_renders_swagger_ui_with_the_merged_document() -> None:
    response = get("/docs")

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in response["body"]
    assert "/auth/signup" in response["body"]


def test_unknown_route_via_default_route_returns_404_envelope() -> None:
    response = get("/no/such/thing", route_key="$default")

    assert response["statusCode"] == 404
    assert response_json(response) == {"error": {"code": "not_found", "message": "No such route."}}


def _operations(document: dict) -> dict[tuple[str, str], dict]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_openapi_document_describes_every_error_as_the_envelope() -> None:
    # Given the merged document
    document = response_json(get("/openapi.json"))

    # Then no operation points at Powertools' own validation error shape, which the API never sends
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for (method, path), operation in _operations(document).items():
        responses = operation["responses"]
        assert responses["422"]["content"]["application/json"]["schema"] == envelope, (method, path)
        assert responses["default"]["content"]["application/json"]["schema"] == envelope, (method, path)
        assert ("401" in responses) == bool(operation.get("security")), (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message"}


def test_openapi_document_gives_each_route_the_success_status_it_answers_with() -> None:
    # Given the merged document
    operations = _operations(response_json(get("/openapi.json")))

    # Then creations are documented as 201, and bodiless answers as 204 without content
    for created in [("POST", "/auth/signup"), ("POST", "/posts"), ("POST", "/stories"), ("POST", "/messages")]:
        assert "201" in operations[created]["responses"] and "200" not in operations[created]["responses"], created
    assert operations[("POST", "/posts/{post_id}/comments")]["responses"]["201"]["content"]
    for bodiless in [
        ("DELETE", "/posts/{post_id}"),
        ("POST", "/users/{username}/block"),
        ("POST", "/notifications/read"),
    ]:
        assert operations[bodiless]["responses"]["204"] == {"description": "Successful Response"}, bodiless
        assert "200" not in operations[bodiless]["responses"], bodiless


def test_openapi_document_is_the_same_on_every_request_without_powertools_error_shapes() -> None:
    # Given the document asked once, then again after the Swagger UI page
    first = get("/openapi.json")["body"]
    get("/docs")

    # When it is asked again
    again = get("/openapi.json")["body"]

    # Then it has not changed, and names none of Powertools' validation error shapes
    assert again == first
    schemas = response_json(get("/openapi.json"))["components"]["schemas"]
    assert not {"HTTPValidationError", "ResponseValidationError", "ValidationError"} & set(schemas)


def test_meta_builds_the_merged_document_only_when_first_asked() -> None:
    # Given the meta handler freshly imported (a cold start)
    fresh = importlib.reload(meta)

    # When it answers /health
    fresh.handler(http_event("GET", "/health"), FakeLambdaContext())

    # Then the other handlers were neither discovered nor merged
    assert fresh.merged_document.cache_info().currsize == 0
    assert getattr(fresh.app, "_openapi_merge", None) is None


def test_docs_and_openapi_json_render_the_same_completed_document() -> None:
    docs = get("/docs")["body"]

    assert "ErrorEnvelope" in docs
    assert "HTTPValidationError" not in docs


def _object_schemas(schema: dict, components: dict) -> list[dict]:
    """The object schemas a body schema stands for: itself, its $ref, or each branch of an anyOf (or of a
    discriminated oneOf)."""
    if "$ref" in schema:
        return [components[schema["$ref"].rsplit("/", 1)[-1]]]
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", [])
    branches = [branch for branch in alternatives if branch.get("type") != "null"]
    return [found for branch in branches for found in _object_schemas(branch, components)] if branches else [schema]


def test_every_request_body_refuses_properties_it_does_not_name() -> None:
    # Given the merged OpenAPI document (generated from the models that validate each route's body)
    document = response_json(get("/openapi.json"))
    components = document["components"]["schemas"]
    bodies = {
        f"{method.upper()} {path}": operation["requestBody"]["content"]["application/json"]["schema"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }

    # When each body's object schemas are looked up
    open_bodies = [
        route
        for route, schema in bodies.items()
        if any(found.get("additionalProperties") is not False for found in _object_schemas(schema, components))
    ]

    # Then none accepts a property it does not declare (no mass assignment of counters, ids or email)
    assert len(bodies) >= 13
    assert open_bodies == []


def test_openapi_document_describes_a_videos_processing_state() -> None:
    # Given the OpenAPI document / When the Media schema is read
    schemas = response_json(get("/openapi.json"))["components"]["schemas"]

    # Then a client learns of `processing` (nullable) and its `done` and `total`
    media = schemas["Media"]["properties"]
    assert {"$ref": "#/components/schemas/Processing"} in media["processing"]["anyOf"]
    assert set(schemas["Processing"]["required"]) == {"done", "total"}


def test_openapi_document_takes_a_group_of_31_others_named_with_the_creator() -> None:
    # Given the OpenAPI document / When the body of POST /conversations is read
    schemas = response_json(get("/openapi.json"))["components"]["schemas"]
    members = schemas["CreateConversationRequest"]["properties"]["members"]

    # Then 32 names are valid (31 others and the caller's own, which is ignored), and the description says so
    assert (members["minItems"], members["maxItems"], members["uniqueItems"]) == (2, 32, True)
    assert "2–31 others" in members["description"] and "is ignored" in members["description"]
