"""AWS's hard limits on what the templates deploy, checked on the synthesized assembly: what `cdk deploy`
would have refused (or what would fail on the first request) fails here first.

- Lambda refuses a function whose code and layers, unzipped, reach 262,144,000 bytes ("Unzipped size must be
  smaller than 262144000 bytes"). Measured on the staged asset directories in cdk.out, which are exactly what
  `cdk deploy` zips and uploads.
- API Gateway gives up on an integration after its timeout (HTTP API: 30 s, WebSocket API: 29 s) and answers
  an error while the function runs on: every function behind a route or an authorizer must time out first,
  with room for a cold start (below 29 s)."""

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.assembly import CloudAssembly, Resource

LAMBDA_UNZIPPED_LIMIT_BYTES = 262_144_000
API_FUNCTION_TIMEOUT_BELOW_S = 29
DEFAULT_INTEGRATION_TIMEOUT_MS = {"HTTP": 30_000, "WEBSOCKET": 29_000}
MB = 1024 * 1024


def _tree_bytes(directory: Path) -> int:
    """What the directory holds once unzipped: every regular file's size (symbolic links are zipped as the file
    they point at, so they count as that)."""
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def _unzipped_parts(cloud_assembly: CloudAssembly, function: Resource) -> dict[str, int]:
    """Bytes of the function's own code and of each layer it names."""
    code = function.properties["Code"]
    if "ZipFile" in code:  # inline code (CDK's own providers): the source is the whole package
        parts = {"inline code": len(str(code["ZipFile"]).encode())}
    else:
        parts = {"code": _tree_bytes(cloud_assembly.directory / function.body["Metadata"]["aws:asset:path"])}
    for layer_ref in function.properties.get("Layers", []):
        found = cloud_assembly.referenced(function.stack, layer_ref)
        assert found is not None, f"{function.path}: layer {layer_ref} is not in the assembly, so it cannot be measured"
        layer, _ = found
        parts[layer.path] = _tree_bytes(cloud_assembly.directory / layer.body["Metadata"]["aws:asset:path"])
    return parts


def _functions(cloud_assembly: CloudAssembly) -> list[Resource]:
    return cloud_assembly.all_of("AWS::Lambda::Function")


def test_every_function_with_its_layers_fits_lambdas_unzipped_limit(cloud_assembly: CloudAssembly) -> None:
    # Given every function of both stacks, its code and its layers as staged for deployment
    margins = []
    for function in _functions(cloud_assembly):
        parts = _unzipped_parts(cloud_assembly, function)
        total = sum(parts.values())
        margins.append((LAMBDA_UNZIPPED_LIMIT_BYTES - total, function.path, total, parts))
    assert len(margins) >= 21, "the assembly should hold every function of the app"

    # Then (printed, tightest first, for `pytest -s` and the report) each fits below the limit
    for margin, path, total, parts in sorted(margins, key=lambda item: item[0]):
        detail = ", ".join(f"{name} {size:,}" for name, size in parts.items())
        print(f"{path}: {total:,} bytes ({total / MB:.1f} MiB), margin {margin:,} ({margin / MB:.1f} MiB) [{detail}]")
    too_large = [(path, total) for margin, path, total, _ in margins if margin <= 0]
    assert not too_large, f"over Lambda's {LAMBDA_UNZIPPED_LIMIT_BYTES:,}-byte unzipped limit: {too_large}"


def test_the_package_measure_counts_every_file_below_the_asset(tmp_path: Path) -> None:
    # Given a staged tree with nested packages
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_bytes(b"x" * 10)
    (tmp_path / "pkg" / "sub" / "b.so").write_bytes(b"y" * 1000)

    # Then the measure is the sum of the files, not of directory entries
    assert _tree_bytes(tmp_path) == 1010


def _functions_named_in(value: Any) -> set[str]:
    """Logical ids of the functions an integration or authorizer URI names (Fn::GetAtt [id, "Arn"], wherever)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Fn::GetAtt" and isinstance(item, list) and item[1] == "Arn":
                found.add(item[0])
            else:
                found |= _functions_named_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _functions_named_in(item)
    return found


def _api_fronted_functions(cloud_assembly: CloudAssembly) -> dict[str, tuple[Resource, int]]:
    """Every function API Gateway waits for (route integrations and authorizers), with the shortest time it waits."""
    apis = cloud_assembly.all_of("AWS::ApiGatewayV2::Api")
    protocols = {(api.stack, api.logical_id): api.properties["ProtocolType"] for api in apis}
    fronted: dict[str, tuple[Resource, int]] = {}
    for front in cloud_assembly.all_of("AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Authorizer"):
        protocol = protocols[(front.stack, front.properties["ApiId"]["Ref"])]
        wait_ms = int(front.properties.get("TimeoutInMillis", DEFAULT_INTEGRATION_TIMEOUT_MS[protocol]))
        uri = front.properties.get("IntegrationUri") or front.properties.get("AuthorizerUri")
        for logical_id in _functions_named_in(uri):
            function = cloud_assembly.get(front.stack, logical_id)
            previous = fronted.get(function.path)
            fronted[function.path] = (function, min(wait_ms, previous[1]) if previous else wait_ms)
    return fronted


def test_every_function_behind_an_api_times_out_before_api_gateway_gives_up(cloud_assembly: CloudAssembly) -> None:
    # Given every function behind an HTTP or WebSocket route or authorizer
    fronted = _api_fronted_functions(cloud_assembly)
    assert len(fronted) >= 11, sorted(fronted)

    # Then its own timeout ends first, with room for a cold start
    late = {
        path: (function.properties.get("Timeout", 3), wait_ms / 1000)
        for path, (function, wait_ms) in fronted.items()
        if not function.properties.get("Timeout", 3) < min(API_FUNCTION_TIMEOUT_BELOW_S, wait_ms / 1000)
    }
    assert not late, f"function Timeout (s) vs API Gateway's integration timeout (s): {late}"


@pytest.mark.parametrize("timeout_s, expected_late", [(10, False), (29, True), (60, True)])
def test_the_api_timeout_check_refuses_a_function_that_outlives_the_gateway(
    cloud_assembly: CloudAssembly, timeout_s: int, expected_late: bool
) -> None:
    # Given a copy of the assembly where the auth function's timeout is changed
    changed = CloudAssembly(directory=cloud_assembly.directory, templates=copy.deepcopy(cloud_assembly.templates))
    function = next(
        function
        for function, _ in _api_fronted_functions(changed).values()
        if function.logical_id.startswith("AuthApiFunction")
    )
    function.body["Properties"]["Timeout"] = timeout_s

    # When the check runs on it, Then it passes or fails as AWS would
    if expected_late:
        with pytest.raises(AssertionError, match="Timeout"):
            test_every_function_behind_an_api_times_out_before_api_gateway_gives_up(changed)
    else:
        test_every_function_behind_an_api_times_out_before_api_gateway_gives_up(changed)
