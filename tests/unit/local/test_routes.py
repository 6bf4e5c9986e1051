"""Route selection as API Gateway HTTP APIs do it."""

from pathlib import Path

import pytest

from local.routes import HttpRouteTable, Route, apis_from
from local.template import CloudAssembly


def route(key: str) -> Route:
    return Route(
        api_logical_id="Api",
        route_key=key,
        function_logical_id=key,
        authorization_type="NONE",
        authorizer=None,
        scopes=(),
    )


TABLE = HttpRouteTable(
    tuple(
        route(key)
        for key in [
            "GET /users/me",
            "GET /users/{username}",
            "GET /users/{username}/posts",
            "ANY /files/{proxy+}",
            "GET /files/readme",
            "POST /posts",
        ]
    )
)


def test_exact_route_wins_over_parameter():
    assert TABLE.match("GET", "/users/me").route.route_key == "GET /users/me"


def test_parameter_route_extracts_path_parameters():
    match = TABLE.match("GET", "/users/alice/posts")
    assert (match.route.route_key, match.path_parameters) == ("GET /users/{username}/posts", {"username": "alice"})


def test_greedy_route_takes_the_rest_of_the_path_unless_an_exact_route_matches():
    assert TABLE.match("DELETE", "/files/a/b/c").path_parameters == {"proxy": "a/b/c"}
    assert TABLE.match("GET", "/files/readme").route.route_key == "GET /files/readme"


def test_other_method_or_path_has_no_route_without_default():
    assert TABLE.match("DELETE", "/users/alice") is None
    assert TABLE.match("GET", "/nowhere") is None


def test_a_trailing_slash_is_another_path_that_no_declared_route_matches():
    # API Gateway HTTP APIs match the path as sent: `/posts/` is not `POST /posts`, `/users/alice/` not
    # `GET /users/{username}`; only a greedy variable takes it
    assert TABLE.match("POST", "/posts/") is None
    assert TABLE.match("GET", "/users/alice/") is None
    assert TABLE.match("GET", "/users/me/") is None
    assert TABLE.match("GET", "/files/readme/").path_parameters == {"proxy": "readme/"}


def test_a_trailing_slash_goes_to_the_default_route():
    table = HttpRouteTable((route("POST /posts"), route("GET /me"), route("$default")))
    assert table.match("POST", "/posts/").route.route_key == "$default"
    assert table.match("GET", "/me/").route.route_key == "$default"
    assert table.match("GET", "/me").route.route_key == "GET /me"


def test_default_route_catches_everything_else():
    table = HttpRouteTable((route("GET /health"), route("$default")))
    assert table.match("GET", "/health").route.route_key == "GET /health"
    assert table.match("PATCH", "/anything/else").route.route_key == "$default"


def websocket_assembly(echo_properties: dict, response_key: str = "$default") -> CloudAssembly:
    """A WebSocket API with one `echo` route and a route response for it, as CDK synthesizes them."""
    api = {"Ref": "Ws"}
    template = {
        "Resources": {
            "Ws": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET"}},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Integration": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": api,
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": {"Fn::GetAtt": ["Fn", "Arn"]},
                },
            },
            "Echo": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": api,
                    "RouteKey": "echo",
                    "Target": {"Fn::Join": ["", ["integrations/", {"Ref": "Integration"}]]},
                    **echo_properties,
                },
            },
            "EchoResponse": {
                "Type": "AWS::ApiGatewayV2::RouteResponse",
                "Properties": {"ApiId": api, "RouteId": {"Ref": "Echo"}, "RouteResponseKey": response_key},
            },
        }
    }
    assembly = CloudAssembly.from_templates({"Stack": template}, Path("."))
    for resource in assembly.resources():
        assembly.set_physical(
            resource, resource.logical_id.lower(), Arn=f"arn:aws:lambda:us-east-1:1:function:{resource.logical_id}"
        )
    return assembly


@pytest.mark.parametrize(
    ("echo_properties", "response_key", "two_way"),
    [
        ({"RouteResponseSelectionExpression": "$default"}, "$default", True),
        ({}, "$default", False),
        ({"RouteResponseSelectionExpression": "$default"}, "error", False),
    ],
    ids=["cdk-return-response", "no-selection-expression", "no-default-response"],
)
def test_route_returns_the_response_only_with_selection_expression_and_default_route_response(
    echo_properties, response_key, two_way
):
    (api,) = apis_from(websocket_assembly(echo_properties, response_key))
    (echo,) = api.routes
    assert echo.returns_response is two_way
