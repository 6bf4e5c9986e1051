"""Local wiring equals the template's: every route, WebSocket route and event source is served by exactly
the handler the template names (same staged file, same function), and nothing else is served.

The expectations are read from the raw template JSON here, independently of local.template/local.routes.
"""

import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.cloud import LocalCloud
from local.endpoints import LocalEndpoints
from local.pumps import event_sources_from
from tests.integration.local.conftest import FIXTURE_CDK_OUT, isolated_process_state
from tests.support.ci import skip_unless_ci

# One worker runs these back to back: the cloud lives in this process, and moto's backends (and
# os.environ) are process-wide, so no other test may run while it is up.
pytestmark = pytest.mark.xdist_group("local_cloud_in_process")
REAL_CDK_OUT = Path(__file__).parents[3] / "cdk.out"


def assemblies() -> list[Any]:
    return [pytest.param(FIXTURE_CDK_OUT, id="fixture"), pytest.param(REAL_CDK_OUT, id="real-cdk-out")]


def raw_resources(cdk_out: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((cdk_out / "manifest.json").read_text())
    resources: dict[str, dict[str, Any]] = {}
    for artifact in manifest["artifacts"].values():
        if artifact.get("type") == "aws:cloudformation:stack":
            template = json.loads((cdk_out / artifact["properties"]["templateFile"]).read_text())
            resources.update(template["Resources"])
    return resources


def referenced_functions(value: Any, resources: dict[str, dict[str, Any]]) -> set[str]:
    """Logical ids of functions a property names through Ref or Fn::GetAtt, wherever nested."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            target = item if key == "Ref" else item[0] if key == "Fn::GetAtt" and isinstance(item, list) else None
            if isinstance(target, str) and resources.get(target, {}).get("Type") == "AWS::Lambda::Function":
                found.add(target)
            found |= referenced_functions(item, resources)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_functions(item, resources)
    return found


def ref_of(value: Any) -> str:
    """The logical id a Ref (possibly inside Fn::Join) points at."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::Join" in value:
        return next(ref_of(part) for part in value["Fn::Join"][1] if isinstance(part, dict))
    raise AssertionError(f"no Ref in {value!r}")


def expected_routes(resources: dict[str, dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """(api logical id, route key, function logical id, authorizer kind) per template route."""
    routes = set()
    for body in resources.values():
        if body["Type"] != "AWS::ApiGatewayV2::Route":
            continue
        props = body["Properties"]
        integration = resources[ref_of(props["Target"])]["Properties"]
        (function,) = referenced_functions(integration["IntegrationUri"], resources)
        routes.add((ref_of(props["ApiId"]), props["RouteKey"], function, props.get("AuthorizationType", "NONE")))
    return routes


def expected_event_sources(resources: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    sources = []
    for body in resources.values():
        if body["Type"] == "AWS::Lambda::EventSourceMapping":
            (function,) = referenced_functions(body["Properties"]["FunctionName"], resources)
            sources.append(("mapping", function))
        elif body["Type"] == "Custom::S3BucketNotifications":
            for config in body["Properties"]["NotificationConfiguration"].get("LambdaFunctionConfigurations", []):
                (function,) = referenced_functions(config["LambdaFunctionArn"], resources)
                sources.append(("s3", function))
        elif body["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in body["Properties"]:
            for target in body["Properties"].get("Targets", []):
                (function,) = referenced_functions(target["Arn"], resources)
                sources.append(("schedule", function))
    return sorted(sources)


def staged_file(cdk_out: Path, resources: dict[str, dict[str, Any]], function: str) -> tuple[Path, str]:
    body = resources[function]
    module, _, attribute = body["Properties"]["Handler"].rpartition(".")
    asset = cdk_out / body["Metadata"]["aws:asset:path"]
    return (asset.joinpath(*module.split(".")).with_suffix(".py")).resolve(), attribute


@pytest.fixture(scope="module")
def real_cloud() -> Iterator[LocalCloud]:
    with isolated_process_state():
        cloud = LocalCloud.start(REAL_CDK_OUT, LocalEndpoints("127.0.0.1", 1), start_pumps=False)
        try:
            yield cloud
        finally:
            cloud.stop()


@pytest.fixture(params=assemblies())
def started(request) -> tuple[Path, LocalCloud]:
    # moto's backends are process-wide: the fixture assembly reuses the package's running cloud.
    if request.param == FIXTURE_CDK_OUT:
        return FIXTURE_CDK_OUT, request.getfixturevalue("cloud").cloud
    if not (REAL_CDK_OUT / "manifest.json").is_file():
        skip_unless_ci("cdk.out is absent: run `make synth` to check the real wiring")
    return REAL_CDK_OUT, request.getfixturevalue("real_cloud")


def test_every_template_route_is_served_by_the_named_handler_and_nothing_else(started):
    cdk_out, cloud = started
    resources = raw_resources(cdk_out)
    # Given the routes the template declares
    expected = expected_routes(resources)
    # When the local cloud has wired its gateways
    served = {
        (api.logical_id, route.route_key, route.function_logical_id, route.authorization_type)
        for api in cloud.apis
        for route in api.routes
    }
    # Then the two sets are equal: same keys, same functions, same authorization
    assert served == expected
    # And each function is the staged file and attribute the template's Handler names
    for _, _, function, _ in expected:
        path, attribute = staged_file(cdk_out, resources, function)
        handler = inspect.unwrap(cloud.runner.get(function).handler())  # through Powertools' decorators
        assert Path(inspect.getsourcefile(handler)).resolve() == path
        assert handler.__name__ == attribute


def test_jwt_routes_use_the_template_authorizer(started):
    cdk_out, cloud = started
    resources = raw_resources(cdk_out)
    for api in cloud.apis:
        for route in api.routes:
            if route.authorization_type == "JWT":
                assert route.authorizer is not None
                assert route.authorizer.issuer.endswith(cloud.resources.user_pool_id)
                assert cloud.resources.user_pool_client_id in route.authorizer.audiences
    custom = [
        body
        for body in resources.values()
        if body["Type"] == "AWS::ApiGatewayV2::Route" and body["Properties"].get("AuthorizationType") == "CUSTOM"
    ]
    served_custom = [route for api in cloud.apis for route in api.routes if route.custom_authorizer_function]
    assert len(served_custom) == len(custom)


def test_every_event_source_is_pumped_to_the_named_function_and_nothing_else(started):
    cdk_out, cloud = started
    expected = expected_event_sources(raw_resources(cdk_out))
    served = sorted(
        (source.kind if source.kind in ("s3", "schedule") else "mapping", source.function.logical_id)
        for source in event_sources_from(cloud.assembly, cloud.runner)
    )
    assert served == expected


def expected_two_way_routes(resources: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    """(api logical id, route key) of the routes with a route response and a route response selection expression."""
    responding = {
        ref_of(body["Properties"]["RouteId"])
        for body in resources.values()
        if body["Type"] == "AWS::ApiGatewayV2::RouteResponse"
    }
    return {
        (ref_of(body["Properties"]["ApiId"]), body["Properties"]["RouteKey"])
        for logical_id, body in resources.items()
        if logical_id in responding and "RouteResponseSelectionExpression" in body["Properties"]
    }


def test_two_way_routes_are_the_template_routes_with_a_route_response(started):
    cdk_out, cloud = started
    expected = expected_two_way_routes(raw_resources(cdk_out))
    served = {(api.logical_id, route.route_key) for api in cloud.apis for route in api.routes if route.returns_response}
    assert served == expected
