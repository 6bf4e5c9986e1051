"""web: Pinhole Web from its own private bucket behind CloudFront, with a strict CSP, deployed with the
config.json that points it at this stack's APIs. Bucket privacy, TLS, OAC, HTTPS only, retention, tracing,
named actions and cdk-nag are test_guarantees.py's, which finds the bucket and distribution by type. The
uploads bucket's CORS, which names the app's origin, is set by this stack in the same deploy."""

import json
from typing import Any

import pytest

from stacks import constants
from tests.infrastructure.assembly import CloudAssembly, Resource, sdk_call

MANAGED_CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def _at(cloud_assembly: CloudAssembly, path: str) -> tuple[str, dict[str, Any]]:
    return cloud_assembly.resource_at(constants.STATELESS_STACK_ID, f"{constants.WEB_APP_CONSTRUCT_ID}/{path}")


@pytest.fixture(scope="module")
def distribution(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    _, resource = _at(cloud_assembly, f"{constants.WEB_DISTRIBUTION_ID}/Resource")
    return dict(resource["Properties"]["DistributionConfig"])


@pytest.fixture(scope="module")
def csp(cloud_assembly: CloudAssembly, stateless: dict[str, Any], distribution: dict[str, Any]) -> str:
    policy_id = distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"]
    config = stateless["Resources"][policy_id]["Properties"]["ResponseHeadersPolicyConfig"]
    value = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert value["Override"] is True
    policy = value["ContentSecurityPolicy"]
    # tokens (region, bucket, media domain) arrive as a Fn::Join; the literal parts carry the directives
    return (
        policy
        if isinstance(policy, str)
        else "".join(p if isinstance(p, str) else "<token>" for p in policy["Fn::Join"][1])
    )


def _directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split("; ")}


def _deployments(stateless: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        resource["Metadata"]["aws:cdk:path"].split("/")[2]: resource["Properties"]
        for resource in stateless["Resources"].values()
        if resource["Type"] == "Custom::CDKBucketDeployment"
    }


def test_web_app_is_served_from_its_own_bucket_with_index_html_at_the_root(
    cloud_assembly: CloudAssembly, distribution: dict[str, Any]
) -> None:
    # Given the web distribution's only origin
    (origin,) = distribution["Origins"]
    bucket_id, _ = _at(cloud_assembly, f"{constants.WEB_BUCKET_ID}/Resource")

    # Then it is the web bucket (not the media or uploads bucket), and / serves the app
    assert origin["DomainName"] == {"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}
    assert distribution["DefaultRootObject"] == "index.html"
    assert distribution["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    assert distribution["DefaultCacheBehavior"]["CachePolicyId"] == MANAGED_CACHING_OPTIMIZED
    assert distribution["DefaultCacheBehavior"]["Compress"] is True
    assert "Logging" not in distribution  # standard logging v2 instead: test_web_app_logs_access_in_a_folder_of_its_own


def test_web_app_logs_access_in_a_folder_of_its_own(cloud_assembly: CloudAssembly) -> None:
    # Given the log delivery destinations of the stateless stack (CloudFront standard logging v2)
    delivery = cloud_assembly.resources(constants.STATELESS_STACK_ID, "AWS::Logs::DeliveryDestination")
    destinations = [resource["Properties"]["DestinationResourceArn"]["Fn::Join"][1] for resource in delivery.values()]

    # Then the web app's requests go to the access-logs bucket, apart from the media CDN's
    (arn,) = [arn for arn in destinations if arn[1] == "/cloudfront/web"]
    assert "AccessLogsBucket" in arn[0]["Fn::ImportValue"]


def test_content_security_policy_allows_no_inline_script_nor_framing(csp: str) -> None:
    # Given the CSP CloudFront adds to every response of the app
    directives = _directives(csp)

    # Then scripts and styles come only from the app's own origin: no inline code, no eval
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert "unsafe" not in csp
    assert "data:" not in csp
    # And nobody may frame it, forms post nowhere, and no plugin runs
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    # And it talks only to this region's APIs and the uploads bucket (pre-signed POSTs)
    assert [source for source in directives["connect-src"] if "execute-api" in source] == [
        "https://*.execute-api.<token>.amazonaws.com",
        "wss://*.execute-api.<token>.amazonaws.com",
    ]
    assert all(source == "'self'" or ".amazonaws.com" in source for source in directives["connect-src"])


def test_other_security_headers_match_the_media_distribution(stateless: dict[str, Any], distribution) -> None:
    policy_id = distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"]
    headers = stateless["Resources"][policy_id]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["StrictTransportSecurity"]["Override"] is True
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"


def test_config_json_is_written_at_deploy_from_the_stacks_own_endpoints(stateless: dict[str, Any]) -> None:
    # Given the deployment of index.html and config.json
    pages = _deployments(stateless)[constants.WEB_PAGES_DEPLOYMENT_ID]

    # Then config.json's values are deploy-time references to this stack's APIs, media CDN and app client
    markers = {key: json.dumps(value) for source in pages["SourceMarkers"] for key, value in source.items()}
    text = "\n".join(markers.values())
    assert len(markers) == len(constants.WEB_CONFIG_KEYS)
    assert '"HttpApiGatewayHttpApi' in text and '"WebSocketGatewayWebSocketApi' in text
    assert "MediaCdnMediaDistribution" in text and "UserPoolClient" in text
    # And they are revalidated on every load, so a deploy shows at once
    assert pages["SystemMetadata"] == {"cache-control": "no-cache"}
    assert pages["Prune"] is False


def test_hashed_assets_are_cached_for_a_year_and_deployed_before_the_pages(stateless: dict[str, Any]) -> None:
    # Given the two deployments into the web bucket
    by_name = {
        resource["Metadata"]["aws:cdk:path"].split("/")[2]: (logical_id, resource)
        for logical_id, resource in stateless["Resources"].items()
        if resource["Type"] == "Custom::CDKBucketDeployment"
    }
    assets_id, assets = by_name[constants.WEB_ASSETS_DEPLOYMENT_ID]
    _, pages = by_name[constants.WEB_PAGES_DEPLOYMENT_ID]

    # Then the content-hashed assets are cached for a year and never pruned (a page loaded before a
    # deploy still finds its script), and index.html is written only after them
    assert assets["Properties"]["DestinationBucketKeyPrefix"] == "assets/"
    assert assets["Properties"]["SystemMetadata"] == {"cache-control": "public, max-age=31536000, immutable"}
    assert assets["Properties"]["Prune"] is False
    assert assets_id in pages["DependsOn"]


def test_web_app_url_output_is_the_distribution(stateless: dict[str, Any], cloud_assembly: CloudAssembly) -> None:
    distribution_id, _ = _at(cloud_assembly, f"{constants.WEB_DISTRIBUTION_ID}/Resource")
    assert stateless["Outputs"]["WebAppUrl"]["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/"]]
    }


@pytest.fixture(scope="module")
def uploads_cors(cloud_assembly: CloudAssembly) -> Resource:
    logical_id, _ = _at(cloud_assembly, f"{constants.WEB_UPLOADS_CORS_ID}/Resource/Resource/Default")
    return cloud_assembly.get(constants.STATELESS_STACK_ID, logical_id)


def _is_uploads_bucket(cloud_assembly: CloudAssembly, value: Any, attribute: str) -> bool:
    found = cloud_assembly.referenced(constants.STATELESS_STACK_ID, value)
    return (
        found is not None
        and found[0].path.endswith(f"/{constants.MEDIA_STORAGE_CONSTRUCT_ID}/{constants.UPLOADS_BUCKET_ID}")
        and found[1] == attribute
    )


def test_one_deploy_sets_the_uploads_cors_with_the_web_apps_origin(
    cloud_assembly: CloudAssembly, uploads_cors: Resource, distribution: dict[str, Any]
) -> None:
    # Given the call the stateless stack makes when it is created and whenever its origins change
    create, update = sdk_call(uploads_cors, "Create"), sdk_call(uploads_cors, "Update")
    assert create == update

    # Then it puts the uploads bucket's CORS, after the web distribution exists (its domain is a reference)
    assert (create["service"], create["action"]) == ("S3", "putBucketCors")
    assert _is_uploads_bucket(cloud_assembly, create["parameters"]["Bucket"], "Ref")
    (rule,) = create["parameters"]["CORSConfiguration"]["CORSRules"]
    web_origin = {
        "Fn::Join": [
            "",
            ["https://", {"Fn::GetAtt": [_at(cloud_assembly, "WebDistribution/Resource")[0], "DomainName"]}],
        ]
    }
    assert web_origin in rule["AllowedOrigins"]
    # And browsers may only POST a pre-signed upload, from those origins (the others: test_guarantees.py)
    assert rule["AllowedMethods"] == ["POST"]
    assert "*" not in rule["AllowedOrigins"]
    # And the same physical id on update: a change of origins is one more PutBucketCors, never a delete
    assert create["physicalResourceId"]["id"] == update["physicalResourceId"]["id"]


def test_the_uploads_cors_goes_with_the_stack_and_its_role_may_only_set_it(
    cloud_assembly: CloudAssembly, uploads_cors: Resource, stateless: dict[str, Any]
) -> None:
    # Given what the custom resource does when the stack is deleted, and the policies of its function's role
    delete = sdk_call(uploads_cors, "Delete")
    provider = next(
        resource
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Role", {}).get("Fn::GetAtt", [""])[0].startswith("WebAppUploadsCorsRole")
    )
    role_id = provider["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    role = stateless["Resources"][role_id]["Properties"]

    # Then the CORS is removed with the stack (no app left to upload from)
    assert (delete["action"], _is_uploads_bucket(cloud_assembly, delete["parameters"]["Bucket"], "Ref")) == (
        "deleteBucketCors",
        True,
    )
    # And the role can set that bucket's CORS (DeleteBucketCors needs s3:PutBucketCORS too), write its own
    # log group and send traces, nothing else: no managed policy (AWSLambdaBasicExecutionRole writes to every
    # log group)
    assert "ManagedPolicyArns" not in role
    s3_statements = [statement for statement in statements if str(statement["Action"]).startswith("s3:")]
    (s3_statement,) = s3_statements
    assert s3_statement["Action"] == "s3:PutBucketCORS"
    assert _is_uploads_bucket(cloud_assembly, s3_statement["Resource"], "Arn")
    others = [statement for statement in statements if statement not in s3_statements]
    assert {action for statement in others for action in statement["Action"]} == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
