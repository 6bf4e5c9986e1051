"""API Gateway's CORS for the HTTP API, as its developer guide describes it ("Configure CORS for HTTP APIs"):
preflights answered by the gateway on any path, the policy's headers on answers to allowed origins only, and the
function's own CORS headers ignored."""

from pathlib import Path
from typing import Any

import httpx

from local.cors import CorsPolicy
from local.http_gateway import HttpGateway
from local.routes import Api, Route, apis_from
from local.template import CloudAssembly
from tests.support.asyncio_run import run as run_coroutine

CONFIGURATION = {  # as CDK synthesizes the stack's cors_preflight
    "AllowHeaders": ["Authorization", "Content-Type", "Idempotency-Key"],
    "AllowMethods": ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
    "AllowOrigins": ["http://localhost:8000"],
    "ExposeHeaders": ["Retry-After", "Allow"],
    "MaxAge": 600,
}
ALLOWED = "http://localhost:8000"


class Runner:
    """The Lambda runner's two calls, with a function that answers with a CORS header of its own."""

    def __init__(self) -> None:
        self.invoked: list[dict[str, Any]] = []

    def get(self, function_id: str) -> str:
        return function_id

    async def invoke_async(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        self.invoked.append(event)
        return {"statusCode": 200, "headers": {"access-control-allow-origin": "*"}, "body": "{}"}


class Client:
    """Requests to the gateway in process (no socket)."""

    def __init__(self, app: HttpGateway) -> None:
        self.app = app

    def request(self, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8123") as http:
                return await http.request(method, path, headers=headers)

        return run_coroutine(send())

    def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        return self.request("GET", path, headers)

    def options(self, path: str, headers: dict[str, str]) -> httpx.Response:
        return self.request("OPTIONS", path, headers)


def gateway(configuration: dict[str, Any] | None = CONFIGURATION) -> tuple[Client, Runner]:
    route = Route(
        api_logical_id="Api",
        route_key="GET /feed",
        function_logical_id="Feed",
        authorization_type="NONE",
        authorizer=None,
        scopes=(),
    )
    api = Api("Api", "api", "HTTP", "", (route,), cors=CorsPolicy.from_configuration(configuration))
    runner = Runner()
    return Client(HttpGateway(api, runner, jwks=None)), runner  # type: ignore[arg-type]


def preflight(client: Client, path: str, origin: str) -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def cors_headers(response: Any) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


def test_a_preflight_from_an_allowed_origin_is_answered_by_the_gateway_on_any_path() -> None:
    client, runner = gateway()

    for path in ("/feed", "/no/such/route"):
        answer = preflight(client, path, ALLOWED)

        assert answer.status_code == 204
        assert cors_headers(answer) == {
            "access-control-allow-origin": ALLOWED,
            "access-control-allow-methods": "GET,POST,PATCH,DELETE,OPTIONS",
            "access-control-allow-headers": "Authorization,Content-Type,Idempotency-Key",
            "access-control-max-age": "600",
        }
    assert runner.invoked == []


def test_another_origin_gets_no_cors_header_so_the_browser_refuses_it() -> None:
    client, runner = gateway()

    assert (preflight(client, "/feed", "https://evil.example").status_code, runner.invoked) == (204, [])
    assert cors_headers(preflight(client, "/feed", "https://evil.example")) == {}
    assert cors_headers(client.get("/feed", headers={"Origin": "https://evil.example"})) == {}


def test_an_allowed_origin_s_request_gets_the_policy_s_headers_not_the_function_s() -> None:
    client, runner = gateway()

    answer = client.get("/feed", headers={"Origin": ALLOWED})

    assert answer.status_code == 200 and len(runner.invoked) == 1
    assert cors_headers(answer) == {
        "access-control-allow-origin": ALLOWED,
        "access-control-expose-headers": "Retry-After,Allow",
    }


def test_without_a_cors_configuration_the_gateway_answers_no_preflight() -> None:
    client, _ = gateway(configuration=None)

    assert preflight(client, "/feed", ALLOWED).status_code == 404
    assert cors_headers(client.get("/feed", headers={"Origin": ALLOWED})) == {"access-control-allow-origin": "*"}


def test_an_options_request_that_is_no_preflight_is_routed_as_any_other() -> None:
    client, runner = gateway()

    assert client.options("/feed", headers={"Origin": ALLOWED}).status_code == 404
    assert runner.invoked == []


def test_wildcards_of_allow_origins() -> None:
    assert CorsPolicy(allow_origins=("*",)).allows("https://anything.example")
    assert CorsPolicy(allow_origins=("https://*",)).allows("https://app.example")
    assert not CorsPolicy(allow_origins=("https://*",)).allows("http://app.example")
    assert CorsPolicy(allow_origins=("*",))._origin_headers("https://a.example") == {"access-control-allow-origin": "*"}


def test_the_template_s_policy_leaves_out_origins_not_provisioned_locally() -> None:
    # Given an API whose origins are a literal one and the web app's CloudFront domain (not provisioned locally)
    configuration = {
        **CONFIGURATION,
        "AllowOrigins": [ALLOWED, {"Fn::Join": ["", ["https://", {"Fn::GetAtt": ["Web", "DomainName"]}]]}],
    }
    template = {
        "Resources": {
            "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"CorsConfiguration": configuration}},
            "Web": {"Type": "AWS::CloudFront::Distribution", "Properties": {}},
        }
    }
    assembly = CloudAssembly.from_templates({"Stack": template}, Path("."))
    assembly.set_physical(next(iter(assembly.resources("AWS::ApiGatewayV2::Api"))), "api")

    (api,) = apis_from(assembly)

    assert api.cors == CorsPolicy.from_configuration(CONFIGURATION)
