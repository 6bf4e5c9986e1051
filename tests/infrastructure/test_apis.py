"""The edges: which routes exist, who may call them, and how the stages are protected."""

from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks import constants

# API.md: every route needs a token except /auth/*, /health, /openapi.json, /docs (and the
# $default catch-all that only answers with the JSON 404 envelope).
EXPECTED_ROUTES = {
    "POST /auth/signup": ("auth", False),
    "POST /auth/login": ("auth", False),
    "POST /auth/refresh": ("auth", False),
    "POST /auth/login/totp": ("auth", False),
    "POST /auth/login/recovery": ("auth", False),
    "POST /auth/logout": ("auth", False),
    "POST /auth/password/forgot": ("auth", False),
    "POST /auth/password/reset": ("auth", False),
    "POST /auth/verify-email": ("auth", True),
    "POST /me/email/verification": ("auth", True),
    "POST /me/password": ("auth", True),
    "POST /me/mfa/totp": ("auth", True),
    "POST /me/mfa/totp/verify": ("auth", True),
    "DELETE /me/mfa": ("auth", True),
    "POST /me/mfa/recovery-codes": ("auth", True),
    "POST /me/sign-out-everywhere": ("auth", True),
    "DELETE /me": ("privacy", True),
    "POST /me/reactivate": ("privacy", True),
    "POST /me/export": ("privacy", True),
    "GET /me/export": ("privacy", True),
    "GET /me/blocked": ("users", True),
    "GET /me/muted": ("users", True),
    "POST /users/{username}/mute": ("users", True),
    "DELETE /users/{username}/mute": ("users", True),
    "PATCH /posts/{post_id}": ("upload", True),
    "POST /me/avatar": ("upload", True),
    "DELETE /me/avatar": ("upload", True),
    "GET /me": ("users", True),
    "PATCH /me": ("users", True),
    "GET /users/{username}": ("users", True),
    "POST /users/{username}/follow": ("users", True),
    "DELETE /users/{username}/follow": ("users", True),
    "GET /users/{username}/followers": ("users", True),
    "GET /users/{username}/following": ("users", True),
    "GET /me/follow-requests": ("users", True),
    "POST /me/follow-requests/{username}": ("users", True),
    "POST /users/{username}/block": ("users", True),
    "DELETE /users/{username}/block": ("users", True),
    "GET /feed": ("feed_read", True),
    "POST /feed/seen": ("feed_read", True),
    "GET /stories/feed": ("feed_read", True),
    "POST /posts/{post_id}/like": ("social", True),
    "DELETE /posts/{post_id}/like": ("social", True),
    "GET /posts/{post_id}/likes": ("social", True),
    "POST /posts/{post_id}/comments": ("social", True),
    "GET /posts/{post_id}/comments": ("social", True),
    "DELETE /posts/{post_id}/comments/{comment_id}": ("social", True),
    "POST /posts/{post_id}/save": ("social", True),
    "DELETE /posts/{post_id}/save": ("social", True),
    "GET /me/saved": ("social", True),
    "GET /me/collections": ("social", True),
    "POST /posts": ("upload", True),
    "GET /posts/{post_id}": ("upload", True),
    "DELETE /me/stories/{story_id}": ("upload", True),
    "DELETE /posts/{post_id}": ("upload", True),
    "GET /users/{username}/posts": ("upload", True),
    "POST /stories": ("upload", True),
    "POST /messages": ("messaging", True),
    "GET /conversations": ("messaging", True),
    "GET /conversations/{conversation_id}/messages": ("messaging", True),
    "POST /conversations/{conversation_id}/read": ("messaging", True),
    "POST /conversations/{conversation_id}/mute": ("messaging", True),
    "DELETE /conversations/{conversation_id}/mute": ("messaging", True),
    "POST /conversations": ("messaging", True),
    "PATCH /conversations/{conversation_id}": ("messaging", True),
    "POST /conversations/{conversation_id}/members": ("messaging", True),
    "DELETE /conversations/{conversation_id}/members/{username}": ("messaging", True),
    "DELETE /conversations/{conversation_id}/messages/{message_id}": ("messaging", True),
    "GET /notifications": ("notifications", True),
    "POST /notifications/read": ("notifications", True),
    "GET /notifications/unread-count": ("notifications", True),
    "POST /me/devices": ("push", True),
    "GET /me/devices": ("push", True),
    "DELETE /me/devices/{device_id}": ("push", True),
    "GET /me/notification-settings": ("push", True),
    "PATCH /me/notification-settings": ("push", True),
    "GET /search/users": ("search", True),
    "GET /search/tags": ("search", True),
    "GET /tags/{tag}/posts": ("search", True),
    "POST /reports": ("moderation", True),
    "GET /me/reports": ("moderation", True),
    "GET /moderation/queue": ("moderation", True),
    "GET /moderation/cases/{case_id}": ("moderation", True),
    "POST /moderation/cases/{case_id}/actions": ("moderation", True),
    "GET /moderation/log": ("moderation", True),
    "GET /health": ("meta", False),
    "GET /openapi.json": ("meta", False),
    "GET /docs": ("meta", False),
    "$default": ("meta", False),
}


def _api_id(stateless: dict[str, Any], protocol: str) -> str:
    (api_id,) = [
        logical_id
        for logical_id, resource in stateless["Resources"].items()
        if resource["Type"] == "AWS::ApiGatewayV2::Api" and resource["Properties"]["ProtocolType"] == protocol
    ]
    return api_id


def _routes(stateless: dict[str, Any], protocol: str) -> dict[str, dict[str, Any]]:
    api_id = _api_id(stateless, protocol)
    return {
        resource["Properties"]["RouteKey"]: resource["Properties"]
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::ApiGatewayV2::Route" and resource["Properties"]["ApiId"] == {"Ref": api_id}
    }


def _functions_referenced(stateless: dict[str, Any], value: Any) -> list[str]:
    if isinstance(value, dict):
        if "Fn::GetAtt" in value and stateless["Resources"][value["Fn::GetAtt"][0]]["Type"] == "AWS::Lambda::Function":
            return [value["Fn::GetAtt"][0]]
        return [found for item in value.values() for found in _functions_referenced(stateless, item)]
    if isinstance(value, list):
        return [found for item in value for found in _functions_referenced(stateless, item)]
    return []


def _service_behind(stateless: dict[str, Any], route: dict[str, Any]) -> str:
    integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
    integration = stateless["Resources"][integration_id]["Properties"]
    (function_id,) = _functions_referenced(stateless, integration["IntegrationUri"])
    function = stateless["Resources"][function_id]["Properties"]
    return function["Environment"]["Variables"][constants.ENV_SERVICE_NAME]


def test_http_routes_are_exactly_the_expected_ones(stateless) -> None:
    # Given the synthesized HTTP API
    # When its route keys are listed
    routes = _routes(stateless, "HTTP")

    # Then they are the routes of this issue, no more, no less
    assert set(routes) == set(EXPECTED_ROUTES)


@pytest.mark.parametrize("route_key", sorted(EXPECTED_ROUTES))
def test_http_route_reaches_its_context_function(stateless, route_key: str) -> None:
    # Given a route of the HTTP API
    route = _routes(stateless, "HTTP")[route_key]

    # When its integration is followed to the function
    service = _service_behind(stateless, route)

    # Then it is the function of the route's context
    assert service == EXPECTED_ROUTES[route_key][0]


def test_public_routes_have_no_authorizer(stateless) -> None:
    # Given the HTTP routes API.md calls public
    routes = _routes(stateless, "HTTP")
    public = [key for key, (_, protected) in EXPECTED_ROUTES.items() if not protected]

    # Then none asks for a token
    for route_key in public:
        assert routes[route_key]["AuthorizationType"] == "NONE", route_key
        assert "AuthorizerId" not in routes[route_key], route_key
    assert set(public) == set(constants.PUBLIC_ROUTES)


def test_http_api_has_one_auto_deployed_default_stage(stateless) -> None:
    # Given the HTTP API's stages (throttling and access logs of every stage: test_guarantees.py)
    stages = Template.from_json(stateless).find_resources(
        "AWS::ApiGatewayV2::Stage", {"Properties": {"StageName": "$default"}}
    )

    # Then there is one, $default, deployed on every change
    ((_, stage),) = stages.items()
    assert stage["Properties"]["AutoDeploy"] is True


def test_http_api_cors_allows_the_authorization_header(stateless) -> None:
    # Given the HTTP API
    ((_, api),) = (
        Template.from_json(stateless)
        .find_resources("AWS::ApiGatewayV2::Api", {"Properties": {"ProtocolType": "HTTP"}})
        .items()
    )

    # Then CORS preflight lets a browser send the token (its origins: test_guarantees.py)
    assert "Authorization" in api["Properties"]["CorsConfiguration"]["AllowHeaders"]


WEBSOCKET_ROUTES = {"$connect", "$disconnect", "sendMessage", "markRead", "typing", "ping", "$default"}
TWO_WAY_ROUTES = {"sendMessage", "markRead", "typing", "ping", "$default"}


def test_websocket_routes_reach_messaging_and_only_connect_is_authorized(stateless) -> None:
    # Given the WebSocket API, selecting routes by the frame's `action`
    routes = _routes(stateless, "WEBSOCKET")
    api = stateless["Resources"][_api_id(stateless, "WEBSOCKET")]["Properties"]
    assert api["RouteSelectionExpression"] == "$request.body.action"

    # Then every route of API.md reaches the messaging function's WebSocket entry point
    assert set(routes) == WEBSOCKET_ROUTES
    for route in routes.values():
        assert _service_behind(stateless, route) == constants.MESSAGING
    # And $connect (only it: API Gateway authorizes a connection once) has the REQUEST authorizer,
    # with no identity source, since the token may be a query parameter or a subprotocol
    authorized = {key for key, route in routes.items() if route.get("AuthorizationType", "NONE") != "NONE"}
    assert authorized == {"$connect"}
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    authorizer_id = routes["$connect"]["AuthorizerId"]["Ref"]
    authorizer = stateless["Resources"][authorizer_id]["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert not authorizer.get("IdentitySource")
    (function_id,) = _functions_referenced(stateless, authorizer["AuthorizerUri"])
    assert stateless["Resources"][function_id]["Properties"]["Handler"] == "authorizer.handler"


def test_websocket_frames_that_expect_an_answer_get_the_function_result_back(stateless) -> None:
    # Given the route responses of the WebSocket API
    routes = _routes(stateless, "WEBSOCKET")
    route_ids = {
        logical_id: resource["Properties"]["RouteKey"]
        for logical_id, resource in stateless["Resources"].items()
        if resource["Type"] == "AWS::ApiGatewayV2::Route"
    }
    answered = {
        route_ids[resource["Properties"]["RouteId"]["Ref"]]
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::ApiGatewayV2::RouteResponse"
    }

    # Then ack, pong and error frames come back on the sending connection, and only for those routes
    assert answered == TWO_WAY_ROUTES
    assert {key for key, route in routes.items() if route.get("RouteResponseSelectionExpression")} == TWO_WAY_ROUTES


def test_websocket_stage_is_prod_and_auto_deployed(stateless) -> None:
    Template.from_json(stateless).has_resource_properties(
        "AWS::ApiGatewayV2::Stage", {"StageName": constants.WEBSOCKET_STAGE_NAME, "AutoDeploy": True}
    )
