"""The template's API Gateway v2 wiring: APIs, routes, integrations and authorizers.

Read once from the template so the gateways, the wiring test and the docs agree on one table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from local.cors import CorsPolicy
from local.jwt_authorizer import JwtAuthorizerConfig
from local.template import CloudAssembly, Resource, TemplateError

DEFAULT_ROUTE = "$default"


@dataclass(frozen=True)
class Route:
    api_logical_id: str
    route_key: str
    function_logical_id: str | None  # None: the route has no Lambda integration
    authorization_type: str  # NONE | JWT | CUSTOM | AWS_IAM
    authorizer: JwtAuthorizerConfig | None
    scopes: tuple[str, ...]
    custom_authorizer_function: str | None = None
    returns_response: bool = False  # a two-way WebSocket route: its integration's body goes back to the caller

    @property
    def method(self) -> str:
        return self.route_key.split(" ", 1)[0] if " " in self.route_key else ""

    @property
    def path(self) -> str:
        return self.route_key.split(" ", 1)[1] if " " in self.route_key else ""


@dataclass(frozen=True)
class Api:
    logical_id: str
    api_id: str
    protocol: str  # HTTP | WEBSOCKET
    route_selection_expression: str
    routes: tuple[Route, ...]
    stage: str = "$default"
    cors: CorsPolicy | None = None


def _function_of_uri(assembly: CloudAssembly, resource: Resource, uri: str) -> str:
    """Logical id of the function an integration URI (a function ARN, or an invoke ARN) targets."""
    match = re.search(r"(arn:aws:lambda:[^:]+:\d+:function:[^/:]+)", uri)
    arn = match.group(1) if match else uri
    target = assembly.resource_by_ref(resource.stack, arn)
    if target is None or target.type != "AWS::Lambda::Function":
        raise TemplateError(f"{resource}: integration target {uri!r} is not a function of the template")
    return target.logical_id


def _routes_with_a_response(assembly: CloudAssembly) -> set[str]:
    """Ids of the routes with a `$default` route response (WebSocket APIs allow no other key).

    API Gateway sends an integration's answer back only when the route has both that and a route response
    selection expression: what CDK's `add_route(..., return_response=True)` synthesizes.
    """
    responses = (
        assembly.resolve(response.stack, response.properties)
        for response in assembly.resources("AWS::ApiGatewayV2::RouteResponse")
    )
    return {props["RouteId"] for props in responses if props.get("RouteResponseKey") == DEFAULT_ROUTE}


def apis_from(assembly: CloudAssembly) -> list[Api]:
    integrations: dict[str, str] = {}
    for integration in assembly.resources("AWS::ApiGatewayV2::Integration"):
        props = assembly.resolve(integration.stack, integration.properties)
        if props.get("IntegrationType") == "AWS_PROXY":
            integrations[assembly.physical_of(integration).ref] = _function_of_uri(
                assembly, integration, props["IntegrationUri"]
            )
    authorizers: dict[str, Resource] = {
        assembly.physical_of(authorizer).ref: authorizer
        for authorizer in assembly.resources("AWS::ApiGatewayV2::Authorizer")
    }
    two_way = _routes_with_a_response(assembly)
    routes_by_api: dict[str, list[Route]] = {}
    for route in assembly.resources("AWS::ApiGatewayV2::Route"):
        props = assembly.resolve(route.stack, route.properties)
        target = props.get("Target", "")
        function = integrations.get(target.removeprefix("integrations/")) if target else None
        jwt_config, custom_function = None, None
        authorizer_resource = authorizers.get(props.get("AuthorizerId", ""))
        if authorizer_resource is not None:
            auth = assembly.resolve(authorizer_resource.stack, authorizer_resource.properties)
            if auth["AuthorizerType"] == "JWT":
                jwt_config = JwtAuthorizerConfig(
                    authorizer_id=assembly.physical_of(authorizer_resource).ref,
                    issuer=auth["JwtConfiguration"]["Issuer"],
                    audiences=tuple(auth["JwtConfiguration"].get("Audience", [])),
                    identity_source=(auth.get("IdentitySource") or ["$request.header.Authorization"])[0],
                )
            else:
                custom_function = _function_of_uri(assembly, authorizer_resource, auth["AuthorizerUri"])
        routes_by_api.setdefault(props["ApiId"], []).append(
            Route(
                api_logical_id="",
                route_key=props["RouteKey"],
                function_logical_id=function,
                authorization_type=props.get("AuthorizationType", "NONE"),
                authorizer=jwt_config,
                scopes=tuple(props.get("AuthorizationScopes", [])),
                custom_authorizer_function=custom_function,
                returns_response="RouteResponseSelectionExpression" in props
                and assembly.physical_of(route).ref in two_way,
            )
        )
    stages: dict[str, str] = {}
    for stage in assembly.resources("AWS::ApiGatewayV2::Stage"):
        props = assembly.resolve(stage.stack, stage.properties)
        stages.setdefault(props["ApiId"], props.get("StageName", "$default"))
    apis = []
    for api in assembly.resources("AWS::ApiGatewayV2::Api"):
        props = api.properties
        api_id = assembly.physical_of(api).ref
        routes = tuple(
            Route(**{**route.__dict__, "api_logical_id": api.logical_id}) for route in routes_by_api.get(api_id, [])
        )
        apis.append(
            Api(
                logical_id=api.logical_id,
                api_id=api_id,
                protocol=props.get("ProtocolType", "HTTP"),
                route_selection_expression=props.get("RouteSelectionExpression", "$request.body.action"),
                routes=routes,
                stage=stages.get(api_id, "$default"),
                cors=_cors_policy(assembly, api),
            )
        )
    return apis


def _cors_policy(assembly: CloudAssembly, api: Resource) -> CorsPolicy | None:
    """The API's CORS policy. An allowed origin that names a resource not provisioned locally (the web app's
    CloudFront domain) is left out: the local web app is served by the local cloud itself, from the API's origin."""
    configuration = api.properties.get("CorsConfiguration")
    if not configuration:
        return None
    origins = []
    for origin in configuration.get("AllowOrigins", []):
        try:
            origins.append(assembly.resolve(api.stack, origin))
        except TemplateError:
            continue
    others = {key: value for key, value in configuration.items() if key != "AllowOrigins"}
    return CorsPolicy.from_configuration({**assembly.resolve(api.stack, others), "AllowOrigins": origins})


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


class HttpRouteTable:
    """Route selection as API Gateway HTTP APIs do it: exact, then parameters, then greedy, then $default."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self.default = next((route for route in routes if route.route_key == DEFAULT_ROUTE), None)
        self._compiled = [(route, *_compile(route.path)) for route in routes if route.route_key != DEFAULT_ROUTE]

    def match(self, method: str, path: str) -> RouteMatch | None:
        candidates = []
        for route, pattern, specificity in self._compiled:
            if route.method not in (method, "ANY"):
                continue
            found = pattern.fullmatch(path)
            if found:
                candidates.append(((*specificity, route.method == "ANY"), route, found.groupdict()))
        if candidates:
            _, route, parameters = min(candidates, key=lambda candidate: candidate[0])
            return RouteMatch(route, {_unmangle(key): value for key, value in parameters.items()})
        if self.default is not None:
            return RouteMatch(self.default, {})
        return None


def _compile(path: str) -> tuple[re.Pattern[str], tuple[int, int, int]]:
    parts, parameters, greedy = [], 0, 0
    for segment in path.strip("/").split("/") if path.strip("/") else []:
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{_mangle(segment[1:-2])}>.+)")
            greedy = 1
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{_mangle(segment[1:-1])}>[^/]+)")
            parameters += 1
        else:
            parts.append(re.escape(segment))
    # A trailing slash is part of the path: `/posts/` is not `/posts`'s route (it goes to `$default`).
    pattern = re.compile("/" + "/".join(parts))
    literal_segments = len(parts) - parameters - greedy
    return pattern, (greedy, -literal_segments, parameters)


def _mangle(name: str) -> str:
    return "p_" + name.encode().hex()


def _unmangle(name: str) -> str:
    return bytes.fromhex(name.removeprefix("p_")).decode()
