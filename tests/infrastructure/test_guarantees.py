"""Issue 7's template guarantees, as a checklist in the issue's order: one test per property,
parametrized over every resource the property applies to.

Resources are discovered in the synthesized templates by type (never from a list kept here), so a new
table, bucket, consumer, function, route, stage or policy statement is checked without touching this
file, and a failure names the resource by its construct path. `test_discovery_finds_*` keeps an empty
discovery from passing vacuously.
"""

import fnmatch
import json
from collections.abc import Iterable, Iterator
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import cloudformation_include as cfn_include
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

import app
from stacks import constants
from stacks.stage import NON_PRODUCTION_STAGES, UnsafeConfiguration, is_production
from stacks.stateless.alarms import AlarmTopic
from stacks.stateless.edge import CLOUDFRONT_REGION_RULE_ID, require_cloudfront_region
from tests.infrastructure.assembly import REPO_ROOT, CloudAssembly, Resource, load_cloud_assembly, sdk_call

TABLE_TYPES = ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")
RETAINED_TYPES = (*TABLE_TYPES, "AWS::S3::Bucket", "AWS::Cognito::UserPool")
POLICY_DOCUMENT_TYPES = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
)

# At least this many of each are in the app today: a discovery finding fewer is broken, not a pass.
EXPECTED_AT_LEAST = {
    "tables": 11,
    "buckets": 4,
    "stream consumers": 4,  # one router per table stream (stacks/stateless/streams_construct.py)
    "queue consumers": 10,
    "functions": 27,
    "log groups": 29,
    "protected HTTP routes": 37,
    "API stages": 2,
    "distributions": 2,
    "alarms": 23,
    "alarm topics": 1,
    "user pools": 1,
    "user pool clients": 1,
    "roles": 28,
    "allow statements": 100,
}

ABORT_MULTIPART_WITHIN_DAYS = 7  # an upload abandoned half-way is not stored (and billed) for longer

SQS_MAX_RETENTION_S = 14 * 24 * 3600
MAX_RETRIES = 10  # a poison record or message is given up on (into its failure queue) after at most this
STRONG_PASSWORD_MIN_LENGTH = 10
STRONG_PASSWORD_MIN_CHARACTER_CLASSES = 3  # of lower, upper, digits, symbols
TEMPORARY_PASSWORD_MAX_DAYS = 7

# The only actions granted on Resource "*": AWS offers no resource-level permission for them.
ACTIONS_ALLOWED_ON_ANY_RESOURCE = {
    "xray:PutTraceSegments": "X-Ray has no resource types: active tracing (every function) needs it on '*'",
    "xray:PutTelemetryRecords": "X-Ray has no resource types: active tracing (every function) needs it on '*'",
    "rekognition:DetectModerationLabels": "no resource types for this action (Service Authorization Reference): "
    "resize's automatic image screening needs it on '*'",
}
# The only AWS managed policies a role may carry.
MANAGED_POLICIES_ALLOWED = {
    "service-role/AmazonAPIGatewayPushToCloudWatchLogs": "the account's API Gateway logging role (WebSocket "
    "access logs need it) serves every API of the account and region, writing to groups API Gateway names "
    "itself; AWS documents this policy for it",
}


def _assembly() -> CloudAssembly:
    assembly = load_cloud_assembly()
    if assembly is None:
        pytest.fail("cdk.out/manifest.json is missing: run `make synth` first", pytrace=False)
    return assembly


def _params(resources: Iterable[Resource]) -> list[Any]:
    return [pytest.param(resource, id=resource.path) for resource in resources]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- discovery ---------------------------------------------------------------------------------------


def tables() -> list[Resource]:
    return _assembly().all_of(*TABLE_TYPES)


def buckets() -> list[Resource]:
    return _assembly().all_of("AWS::S3::Bucket")


def _mappings() -> list[Resource]:
    return _assembly().all_of("AWS::Lambda::EventSourceMapping")


def _source_type(mapping: Resource) -> str:
    found = _assembly().referenced(mapping.stack, mapping.properties["EventSourceArn"])
    assert found is not None, f"{mapping.path}: event source not found in the templates"
    source, _ = found
    return source.type


def stream_consumers() -> list[Resource]:
    return [m for m in _mappings() if _source_type(m) in TABLE_TYPES]


def queue_consumers() -> list[Resource]:
    return [m for m in _mappings() if _source_type(m) == "AWS::SQS::Queue"]


def functions() -> list[Resource]:
    return _assembly().all_of("AWS::Lambda::Function")


def log_groups() -> list[Resource]:
    return _assembly().all_of("AWS::Logs::LogGroup")


def _http_api_ids() -> set[tuple[str, str]]:
    return {
        (api.stack, api.logical_id)
        for api in _assembly().all_of("AWS::ApiGatewayV2::Api")
        if api.properties["ProtocolType"] == "HTTP"
    }


def protected_http_routes() -> list[Resource]:
    """Every route of an HTTP API but the public ones of API.md (stacks.constants.PUBLIC_ROUTES)."""
    return [
        route
        for route in _assembly().all_of("AWS::ApiGatewayV2::Route")
        if (route.stack, route.properties["ApiId"].get("Ref")) in _http_api_ids()
        and route.properties["RouteKey"] not in constants.PUBLIC_ROUTES
    ]


def api_stages() -> list[Resource]:
    return _assembly().all_of("AWS::ApiGatewayV2::Stage")


def distributions() -> list[Resource]:
    return _assembly().all_of("AWS::CloudFront::Distribution")


def alarms() -> list[Resource]:
    return _assembly().all_of("AWS::CloudWatch::Alarm")


def alarm_topics() -> list[Resource]:
    """Every topic an alarm tells."""
    found = {}
    for alarm in alarms():
        for action in alarm.properties.get("AlarmActions", []):
            target = _assembly().referenced(alarm.stack, action)
            if target is not None and target[0].type == "AWS::SNS::Topic":
                found[(target[0].stack, target[0].logical_id)] = target[0]
    return list(found.values())


def user_pools() -> list[Resource]:
    return _assembly().all_of("AWS::Cognito::UserPool")


def user_pool_clients() -> list[Resource]:
    return _assembly().all_of("AWS::Cognito::UserPoolClient")


def roles() -> list[Resource]:
    return _assembly().all_of("AWS::IAM::Role")


def _policy_documents() -> Iterator[tuple[Resource, dict[str, Any]]]:
    for resource in _assembly().all_of(*POLICY_DOCUMENT_TYPES):
        yield resource, resource.properties["PolicyDocument"]
    for role in roles():
        for policy in role.properties.get("Policies", []):
            yield role, policy["PolicyDocument"]


def allow_statements() -> list[Any]:
    """(resource, statement) for every Allow statement of every policy, named `<path>#<index>`."""
    params = []
    for resource, document in _policy_documents():
        for index, statement in enumerate(_as_list(document["Statement"])):
            if statement["Effect"] == "Allow":
                params.append(pytest.param(resource, statement, id=f"{resource.path}#{index}"))
    return params


DISCOVERIES = {
    "tables": tables,
    "buckets": buckets,
    "stream consumers": stream_consumers,
    "queue consumers": queue_consumers,
    "functions": functions,
    "log groups": log_groups,
    "protected HTTP routes": protected_http_routes,
    "API stages": api_stages,
    "distributions": distributions,
    "alarms": alarms,
    "alarm topics": alarm_topics,
    "user pools": user_pools,
    "user pool clients": user_pool_clients,
    "roles": roles,
    "allow statements": allow_statements,
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_AT_LEAST))
def test_discovery_finds_at_least_the_resources_the_app_has(kind: str) -> None:
    # Given a discovery by resource type
    # When it runs on the synthesized templates
    found = DISCOVERIES[kind]()

    # Then it finds at least what the app is known to hold, so no checklist item below passes on nothing
    assert len(found) >= EXPECTED_AT_LEAST[kind], f"{kind}: found {len(found)}"


# --- tables ------------------------------------------------------------------------------------------


def _table_settings(table: Resource) -> list[dict[str, Any]]:
    """Where a table's settings live: each replica of a TableV2 (GlobalTable), or the table itself."""
    props = table.properties
    return list(props["Replicas"]) if table.type == "AWS::DynamoDB::GlobalTable" else [props]


@pytest.mark.parametrize("table", _params(tables()))
def test_table_has_point_in_time_recovery(table: Resource) -> None:
    # Given a table (every replica of it)
    for settings in _table_settings(table):
        # Then it can be restored to any second of the last 35 days
        assert settings["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


@pytest.mark.parametrize("table", _params(tables()))
def test_table_has_deletion_protection(table: Resource) -> None:
    # Given a table (every replica of it)
    for settings in _table_settings(table):
        # Then neither a console click nor an API call can delete it
        assert settings["DeletionProtectionEnabled"] is True


# --- retention ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", _params(_assembly().all_of(*RETAINED_TYPES)))
def test_stateful_resource_is_retained(resource: Resource) -> None:
    # Given a table, a bucket or the user pool
    # Then deleting its stack, or a change that replaces it, leaves it (and its data) in place
    assert resource.body.get("DeletionPolicy") == "Retain"
    assert resource.body.get("UpdateReplacePolicy") == "Retain"


# --- buckets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bucket", _params(buckets()))
def test_bucket_blocks_public_access(bucket: Resource) -> None:
    # Given a bucket
    # Then no ACL nor policy can make it or its objects public
    assert bucket.properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def _bucket_policy_statements(bucket: Resource) -> list[dict[str, Any]]:
    return [
        statement
        for policy in _assembly().all_of("AWS::S3::BucketPolicy")
        if policy.stack == bucket.stack and policy.properties["Bucket"] == {"Ref": bucket.logical_id}
        for statement in _as_list(policy.properties["PolicyDocument"]["Statement"])
    ]


@pytest.mark.parametrize("bucket", _params(buckets()))
def test_bucket_denies_requests_without_tls(bucket: Resource) -> None:
    # Given a bucket's policy
    statements = _bucket_policy_statements(bucket)

    # Then every action, by anyone, on the bucket and its objects is denied over plain HTTP
    denies_plain_http = [
        statement
        for statement in statements
        if statement["Effect"] == "Deny"
        and statement["Action"] == "s3:*"
        and statement["Principal"] == {"AWS": "*"}
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and len(_as_list(statement["Resource"])) == 2  # the bucket and bucket/*
    ]
    assert denies_plain_http


@pytest.mark.parametrize("bucket", _params(buckets()))
def test_bucket_enforces_bucket_owner_ownership(bucket: Resource) -> None:
    # Given a bucket's object ownership (the access-logs bucket too: CloudFront logs through standard logging v2)
    (rule,) = bucket.properties["OwnershipControls"]["Rules"]

    # Then the bucket owner owns every object and ACLs are off
    assert rule == {"ObjectOwnership": "BucketOwnerEnforced"}


@pytest.mark.parametrize("bucket", _params(buckets()))
def test_bucket_aborts_incomplete_multipart_uploads(bucket: Resource) -> None:
    # Given a bucket's lifecycle rules
    rules = bucket.properties.get("LifecycleConfiguration", {}).get("Rules", [])

    # Then the parts of an upload abandoned half-way are deleted within days, not kept (and billed) forever
    aborting = [rule for rule in rules if rule["Status"] == "Enabled" and "AbortIncompleteMultipartUpload" in rule]
    assert aborting
    assert all(
        0 < rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] <= ABORT_MULTIPART_WITHIN_DAYS
        for rule in aborting
    )


def _cors_configurations() -> list[Any]:
    """(resource, allowed origins) for every bucket CORS rule (in a bucket's template, or set by an
    AwsCustomResource's PutBucketCors) and every HTTP API CORS configuration."""
    params = []
    for bucket in buckets():
        for index, rule in enumerate(bucket.properties.get("CorsConfiguration", {}).get("CorsRules", [])):
            params.append(pytest.param(bucket, rule["AllowedOrigins"], id=f"{bucket.path}#{index}"))
    for call_resource in _assembly().all_of("Custom::AWS"):
        for phase in ("Create", "Update"):
            call = sdk_call(call_resource, phase)
            if call["service"] == "S3" and call["action"] == "putBucketCors":
                for index, rule in enumerate(call["parameters"]["CORSConfiguration"]["CORSRules"]):
                    name = f"{call_resource.path}#{phase}#{index}"
                    params.append(pytest.param(call_resource, rule["AllowedOrigins"], id=name))
    for api in _assembly().all_of("AWS::ApiGatewayV2::Api"):
        if "CorsConfiguration" in api.properties:
            params.append(pytest.param(api, api.properties["CorsConfiguration"]["AllowOrigins"], id=api.path))
    return params


def _cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


def test_discovery_finds_the_cors_of_the_uploads_bucket_and_the_http_api() -> None:
    assert len(_cors_configurations()) >= 3  # the uploads bucket's (create and update) and the HTTP API's


@pytest.mark.parametrize(("resource", "origins"), _cors_configurations())
def test_cors_allows_the_configured_origins_never_any(resource: Resource, origins: list[str]) -> None:
    # Given a CORS configuration in the templates, synthesized from cdk.json
    configured = _cdk_json_context()[constants.CTX_CORS_ORIGINS]

    # Then it allows exactly the origins of the context (the HTTP API and the uploads bucket's CORS, set by the
    # stateless stack, also Pinhole Web's own origin, a reference to its distribution), and never every origin
    web_origins = [origin for origin in origins if _is_web_app_origin(resource, origin)]
    assert [origin for origin in origins if origin not in web_origins] == configured
    assert len(web_origins) == (0 if resource.type == "AWS::S3::Bucket" else 1)
    assert "*" not in origins


def _is_web_app_origin(resource: Resource, origin: Any) -> bool:
    """`https://` + the domain of the web app's distribution (stacks/stateless/web_construct.py)."""
    if not isinstance(origin, dict) or "Fn::Join" not in origin:
        return False
    scheme, domain = origin["Fn::Join"][1]
    found = _assembly().referenced(resource.stack, domain)
    return (
        scheme == "https://"
        and found is not None
        and found[0].type == "AWS::CloudFront::Distribution"
        and found[1] == "DomainName"
        and f"/{constants.WEB_APP_CONSTRUCT_ID}/" in found[0].path
    )


def test_cdk_json_synthesizes_a_production_stage() -> None:
    # Given the committed context (which cdk.out/ and `make deploy` use)
    stage = _cdk_json_context().get(constants.CTX_STAGE, constants.DEFAULT_STAGE)

    # Then it is production, so the rules production enforces hold for the templates checked here
    assert is_production(stage)


@pytest.mark.parametrize("stage", ["prod", "production", "staging", "Dev", ""])
def test_synth_refuses_any_origin_for_a_production_stage(stage: str) -> None:
    # Given a production stage (any stage not named non-production, even a misspelt one) and `*`
    context = {constants.CTX_STAGE: stage, constants.CTX_CORS_ORIGINS: ["https://pinhole.example", "*"]}

    # When the app reads its CORS origins
    # Then synth stops, naming the problem
    with pytest.raises(UnsafeConfiguration, match="never '\\*'"):
        app.cors_origins(cdk.App(context=context))


def test_synth_refuses_any_origin_when_no_stage_is_given() -> None:
    with pytest.raises(UnsafeConfiguration):
        app.cors_origins(cdk.App(context={constants.CTX_CORS_ORIGINS: "*"}))


@pytest.mark.parametrize("stage", sorted(NON_PRODUCTION_STAGES))
def test_synth_allows_any_origin_outside_production(stage: str) -> None:
    # Given a non-production stage given `*` on the command line (`-c cors_origins=*`)
    context = {constants.CTX_STAGE: stage, constants.CTX_CORS_ORIGINS: "*"}

    # Then the origins are taken as given
    assert app.cors_origins(cdk.App(context=context)) == ["*"]


def test_synth_refuses_an_empty_origin_list() -> None:
    with pytest.raises(UnsafeConfiguration):
        app.cors_origins(cdk.App(context={constants.CTX_STAGE: "dev", constants.CTX_CORS_ORIGINS: []}))


def _uploads_bucket() -> Resource:
    logical_id, _ = _assembly().resource_at(
        constants.STATEFUL_STACK_ID, f"{constants.MEDIA_STORAGE_CONSTRUCT_ID}/{constants.UPLOADS_BUCKET_ID}/Resource"
    )
    return _assembly().get(constants.STATEFUL_STACK_ID, logical_id)


def test_uploads_bucket_is_versioned() -> None:
    # Given the bucket originals are uploaded to
    # Then an overwritten or deleted original can be recovered
    assert _uploads_bucket().properties["VersioningConfiguration"] == {"Status": "Enabled"}


@pytest.mark.parametrize("bucket", _params(b for b in buckets() if "VersioningConfiguration" in b.properties))
def test_versioned_bucket_expires_noncurrent_versions(bucket: Resource) -> None:
    # Given a versioned bucket (the uploads bucket)
    rules = bucket.properties["LifecycleConfiguration"]["Rules"]

    # Then an enabled lifecycle rule expires old versions, so versioning does not keep them forever
    expiring = [r for r in rules if r["Status"] == "Enabled" and "NoncurrentVersionExpiration" in r]
    assert expiring
    assert all(r["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0 for r in expiring)


# --- stream and queue consumers ----------------------------------------------------------------------


def _source_queue(consumer: Resource) -> Resource:
    found = _assembly().referenced(consumer.stack, consumer.properties["EventSourceArn"])
    assert found is not None
    return found[0]


def _failure_queue(consumer: Resource) -> Resource:
    """Where records or messages go once given up on: a stream mapping's on-failure destination, or the
    dead-letter queue of the queue a queue mapping reads."""
    if _source_type(consumer) == "AWS::SQS::Queue":
        queue = _source_queue(consumer)
        target = queue.properties["RedrivePolicy"]["deadLetterTargetArn"]
        found = _assembly().referenced(queue.stack, target)
    else:
        target = consumer.properties["DestinationConfig"]["OnFailure"]["Destination"]
        found = _assembly().referenced(consumer.stack, target)
    assert found is not None, f"{consumer.path}: failure destination not found"
    queue, _ = found
    assert queue.type == "AWS::SQS::Queue"
    return queue


def _alarms_on(namespace: str, metric: str, dimension: str, target: Resource) -> list[Resource]:
    alarms = []
    for alarm in _assembly().all_of("AWS::CloudWatch::Alarm"):
        props = alarm.properties
        if props.get("Namespace") != namespace or props.get("MetricName") != metric:
            continue
        for item in props.get("Dimensions", []):
            found = _assembly().referenced(alarm.stack, item["Value"]) if item["Name"] == dimension else None
            if found and (found[0].stack, found[0].logical_id) == (target.stack, target.logical_id):
                alarms.append(alarm)
    return alarms


@pytest.mark.parametrize("consumer", _params(stream_consumers() + queue_consumers()))
def test_consumer_retries_are_bounded(consumer: Resource) -> None:
    # Given a stream or queue consumer
    # When its retry bound is read: the mapping's for a stream, the queue's redrive policy for a queue
    if _source_type(consumer) == "AWS::SQS::Queue":
        attempts = _source_queue(consumer).properties["RedrivePolicy"]["maxReceiveCount"]
    else:
        attempts = consumer.properties["MaximumRetryAttempts"]  # absent means -1: retry until the record expires

    # Then a record or message that keeps failing is tried a bounded number of times
    assert 0 <= attempts <= MAX_RETRIES


@pytest.mark.parametrize("consumer", _params(stream_consumers()))
def test_stream_consumer_bisects_a_failing_batch(consumer: Resource) -> None:
    # Given a stream consumer
    # Then a failing batch is split, so one poison record does not hold back its neighbours
    assert consumer.properties["BisectBatchOnFunctionError"] is True


@pytest.mark.parametrize("consumer", _params(stream_consumers() + queue_consumers()))
def test_consumer_reports_partial_batch_failures(consumer: Resource) -> None:
    # Given a stream or queue consumer
    # Then only the records its function reports as failed are retried, not the whole batch
    assert consumer.properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("consumer", _params(stream_consumers() + queue_consumers()))
def test_consumer_keeps_what_it_gives_up_on(consumer: Resource) -> None:
    # Given a stream or queue consumer
    # When its failure queue is followed (on-failure destination, or the source queue's DLQ)
    queue = _failure_queue(consumer)

    # Then it is a queue that keeps what failed as long as SQS can (14 days), for replay
    assert queue.properties["MessageRetentionPeriod"] == SQS_MAX_RETENTION_S


@pytest.mark.parametrize("consumer", _params(stream_consumers() + queue_consumers()))
def test_consumer_failure_queue_has_an_alarm(consumer: Resource) -> None:
    # Given a consumer's failure queue
    queue = _failure_queue(consumer)

    # When the alarms on its visible messages are found
    alarms = _alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue)

    # Then one fires on the first message given up on
    assert [
        alarm.path
        for alarm in alarms
        if alarm.properties["Threshold"] <= 1
        and alarm.properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    ]


@pytest.mark.parametrize("consumer", _params(stream_consumers()))
def test_stream_consumer_has_an_iterator_age_alarm(consumer: Resource) -> None:
    # Given a stream consumer's function
    found = _assembly().referenced(consumer.stack, consumer.properties["FunctionName"])
    assert found is not None
    function, _ = found

    # Then an alarm fires when it falls behind its stream
    alarms = _alarms_on("AWS/Lambda", "IteratorAge", "FunctionName", function)
    assert [alarm.path for alarm in alarms if alarm.properties["Statistic"] == "Maximum"]


# --- functions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", _params(functions()))
def test_function_has_an_explicit_timeout_and_memory(function: Resource) -> None:
    # Given a function (ours, or one CDK adds)
    props = function.properties

    # Then neither is left to Lambda's defaults (3 s, 128 MB)
    assert 0 < props["Timeout"] <= 900
    assert 128 <= props["MemorySize"] <= 10240


@pytest.mark.parametrize("function", _params(functions()))
def test_function_is_traced(function: Resource) -> None:
    assert function.properties["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("function", _params(functions()))
def test_function_logs_to_its_own_group_with_retention(function: Resource) -> None:
    # Given a function's logging configuration
    found = _assembly().referenced(function.stack, function.properties["LoggingConfig"]["LogGroup"])
    assert found is not None, "LoggingConfig.LogGroup must name a log group of the stack"
    log_group, _ = found

    # Then it writes to a log group the stack owns, which expires old events
    assert log_group.type == "AWS::Logs::LogGroup"
    assert log_group.properties["RetentionInDays"] > 0


@pytest.mark.parametrize("log_group", _params(log_groups()))
def test_log_group_has_retention(log_group: Resource) -> None:
    assert log_group.properties["RetentionInDays"] > 0


# --- HTTP routes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", _params(protected_http_routes()))
def test_protected_http_route_has_the_jwt_authorizer(route: Resource) -> None:
    # Given an HTTP route that API.md does not call public
    props = route.properties
    assert props["AuthorizationType"] == "JWT"
    found = _assembly().referenced(route.stack, props["AuthorizerId"])
    assert found is not None
    authorizer = found[0].properties

    # Then it is behind a JWT authorizer that checks the token's issuer (this region's user pool, not
    # a client) and its audience (the app client)
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    jwt = authorizer["JwtConfiguration"]
    issuer = jwt["Issuer"]["Fn::Join"][1]
    assert issuer[:3] == ["https://cognito-idp.", {"Ref": "AWS::Region"}, ".amazonaws.com/"]
    pool = _assembly().referenced(route.stack, issuer[3])
    assert pool is not None
    assert (pool[0].type, pool[1]) == ("AWS::Cognito::UserPool", "Ref")
    (audience,) = jwt["Audience"]
    client = _assembly().referenced(route.stack, audience)
    assert client is not None
    assert (client[0].type, client[1]) == ("AWS::Cognito::UserPoolClient", "Ref")


API = "AWS::ApiGatewayV2::Api"


def api_routes() -> list[Resource]:
    return _assembly().all_of("AWS::ApiGatewayV2::Route")


def _invoked_function(route: Resource) -> Resource:
    (integration,) = _references_in(route.stack, route.properties["Target"])
    functions = _references_in(route.stack, integration.properties["IntegrationUri"])
    assert [f.type for f in functions] == ["AWS::Lambda::Function"], route.path
    return functions[0]


def _execute_api_resource(route: Resource) -> str:
    """The part after the API id of the ARN API Gateway invokes with: stage, then method and path (HTTP) or
    the route key (WebSocket); any stage will do."""
    method, _, path = route.properties["RouteKey"].partition(" ")
    return f"/a-stage/{method}{path}" if path else f"/a-stage/{method}"


@pytest.mark.parametrize("route", _params(api_routes()))
def test_route_may_invoke_its_function_and_nothing_wider(route: Resource) -> None:
    # Given the function behind a route, and the resource-based statements that let API Gateway invoke it
    function = _invoked_function(route)
    grants = [
        permission.properties
        for permission in _assembly().all_of("AWS::Lambda::Permission")
        if any(
            _is(found, function) for found in _references_in(permission.stack, permission.properties["FunctionName"])
        )
        and permission.properties["Principal"] == "apigateway.amazonaws.com"
    ]

    # Then each names an API of this app, never any API of the account, and one of them covers this route of
    # this API (on AWS, a route whose function refuses API Gateway answers 500)
    covering = []
    for grant in grants:
        parts = grant["SourceArn"]["Fn::Join"][1]
        apis = [i for i, part in enumerate(parts) if [r.type for r in _references_in(route.stack, part)] == [API]]
        assert len(apis) == 1, grant
        suffix = "".join(parts[apis[0] + 1 :])
        if parts[apis[0]] == route.properties["ApiId"] and fnmatch.fnmatchcase(_execute_api_resource(route), suffix):
            covering.append(grant)
    assert covering, f"{route.path}: no permission lets API Gateway invoke {function.path} for this route"


# --- API stages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", _params(api_stages()))
def test_api_stage_throttles(stage: Resource) -> None:
    # Given an HTTP or WebSocket stage
    settings = stage.properties["DefaultRouteSettings"]

    # Then every route is rate limited, with a burst at least the rate
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] >= settings["ThrottlingRateLimit"]


@pytest.mark.parametrize("stage", _params(api_stages()))
def test_api_stage_logs_access(stage: Resource) -> None:
    # Given an HTTP or WebSocket stage
    settings = stage.properties["AccessLogSettings"]
    found = _assembly().referenced(stage.stack, settings["DestinationArn"])
    assert found is not None
    log_group, _ = found

    # Then each request (or frame) is logged as one JSON object with its id, caller and status, into
    # a log group with retention
    entry = json.loads(settings["Format"])
    assert {"requestId", "ip", "routeKey", "status"} <= entry.keys()
    assert log_group.type == "AWS::Logs::LogGroup"
    assert log_group.properties["RetentionInDays"] > 0


def test_websocket_stage_logs_through_the_account_logging_role() -> None:
    # Given the WebSocket stage (API Gateway refuses its access logs without the account's CloudWatch role)
    (stage,) = [s for s in api_stages() if s.properties["StageName"] == constants.WEBSOCKET_STAGE_NAME]

    # When the resources it depends on are read
    depends_on = [_assembly().get(stage.stack, logical_id) for logical_id in _as_list(stage.body["DependsOn"])]

    # Then the account's role is set before the stage is created, assumable by API Gateway only
    (account,) = [d for d in depends_on if d.type == "AWS::ApiGateway::Account"]
    found = _assembly().referenced(account.stack, account.properties["CloudWatchRoleArn"])
    assert found is not None
    role, _ = found
    (trust,) = role.properties["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}


# --- CloudFront --------------------------------------------------------------------------------------


@pytest.mark.parametrize("distribution", _params(distributions()))
def test_distribution_serves_https_only(distribution: Resource) -> None:
    # Given every cache behaviour of a distribution
    config = distribution.properties["DistributionConfig"]
    behaviors = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]

    # Then a viewer on plain HTTP is refused, not redirected
    assert [b["ViewerProtocolPolicy"] for b in behaviors] == ["https-only"] * len(behaviors)


@pytest.mark.parametrize("distribution", _params(distributions()))
def test_distribution_reads_its_origins_through_origin_access_control(distribution: Resource) -> None:
    # Given every origin of a distribution
    for origin in distribution.properties["DistributionConfig"]["Origins"]:
        found = _assembly().referenced(distribution.stack, origin["OriginAccessControlId"])
        assert found is not None, origin["Id"]
        oac = found[0].properties["OriginAccessControlConfig"]

        # Then it is an S3 origin that CloudFront signs every request to (OAC), with no legacy OAI
        assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
        assert oac["OriginAccessControlOriginType"] == "s3"
        assert oac["SigningBehavior"] == "always"
        assert oac["SigningProtocol"] == "sigv4"


def _references_in(stack: str, value: Any) -> list[Resource]:
    """Every resource a property value points at, however deep in a Fn::Join or Fn::Sub it sits."""
    found = _assembly().referenced(stack, value)
    if found is not None:
        return [found[0]]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [resource for item in items for resource in _references_in(stack, item)]


def _is(resource: Resource, other: Resource) -> bool:
    return (resource.stack, resource.logical_id) == (other.stack, other.logical_id)


@pytest.mark.parametrize("distribution", _params(distributions()))
def test_distribution_logs_access_through_standard_logging_v2(distribution: Resource) -> None:
    # Given the log deliveries whose source is this distribution's access logs
    sources = [
        source
        for source in _assembly().all_of("AWS::Logs::DeliverySource")
        if source.properties["LogType"] == "ACCESS_LOGS"
        and any(_is(found, distribution) for found in _references_in(source.stack, source.properties["ResourceArn"]))
    ]
    deliveries = [
        delivery
        for delivery in _assembly().all_of("AWS::Logs::Delivery")
        for source in sources
        if any(
            _is(found, source) for found in _references_in(delivery.stack, delivery.properties["DeliverySourceName"])
        )
    ]

    # Then they arrive in a bucket of the app (which, like every bucket, keeps ACLs off: legacy logging needed
    # them on), and the legacy logging is not configured
    assert "Logging" not in distribution.properties["DistributionConfig"]
    assert deliveries, "no standard logging v2 delivery for this distribution"
    for delivery in deliveries:
        (destination,) = _references_in(delivery.stack, delivery.properties["DeliveryDestinationArn"])
        targets = _references_in(destination.stack, destination.properties["DestinationResourceArn"])
        assert [target.type for target in targets] == ["AWS::S3::Bucket"]


def _waf_on_for_cdk_json() -> bool:
    return app.edge_settings(cdk.App(context=_cdk_json_context())).waf


@pytest.mark.parametrize("distribution", _params(distributions()))
def test_distribution_has_the_edge_firewall(distribution: Resource) -> None:
    # Given a distribution synthesized from cdk.json (a production stage: `waf` is on)
    assert _waf_on_for_cdk_json()
    web_acl_id = distribution.properties["DistributionConfig"].get("WebACLId")
    assert web_acl_id is not None, "no WebACL"
    ((web_acl, attribute),) = [_assembly().referenced(distribution.stack, web_acl_id)]  # type: ignore[misc]

    # Then a CloudFront web ACL screens every request: AWS's common rules, and a rate limit per source address
    assert (web_acl.type, attribute, web_acl.properties["Scope"]) == ("AWS::WAFv2::WebACL", "Arn", "CLOUDFRONT")
    statements = [rule["Statement"] for rule in web_acl.properties["Rules"]]
    assert {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"} in [
        statement.get("ManagedRuleGroupStatement") for statement in statements
    ]
    (rate,) = [statement["RateBasedStatement"] for statement in statements if "RateBasedStatement" in statement]
    assert rate["AggregateKeyType"] == "IP"
    expected = _cdk_json_context().get(constants.CTX_WAF_RATE_LIMIT, constants.DEFAULT_WAF_RATE_LIMIT)
    assert rate["Limit"] == expected


@pytest.mark.parametrize(
    ("context", "waf"),
    [
        ({constants.CTX_STAGE: "prod"}, True),
        ({}, True),  # no stage is production
        ({constants.CTX_STAGE: "dev"}, False),
        ({constants.CTX_STAGE: "prod", constants.CTX_WAF: "false"}, False),  # `-c waf=false`
        ({constants.CTX_STAGE: "test", constants.CTX_WAF: True}, True),
    ],
)
def test_waf_is_on_by_default_in_production_and_a_context_switch(context: dict[str, Any], waf: bool) -> None:
    assert app.edge_settings(cdk.App(context=context)).waf is waf


def test_a_stack_with_a_distribution_deploys_only_to_us_east_1() -> None:
    # Given every stack holding a distribution (its web ACL and log delivery source exist only in us-east-1)
    stacks = {distribution.stack for distribution in distributions()}

    # Then its template refuses, before creating anything, to deploy to another region
    for stack in stacks:
        assertions = [
            assertion["Assert"]
            for rule in _assembly().templates[stack].get("Rules", {}).values()
            for assertion in rule["Assertions"]
        ]
        assert {"Fn::Equals": [{"Ref": "AWS::Region"}, constants.CLOUDFRONT_REGION]} in assertions, stack


@pytest.mark.parametrize(("region", "refused"), [("eu-west-1", True), ("us-east-1", False)])
def test_synth_refuses_cloudfront_pieces_pinned_to_another_region(region: str, refused: bool) -> None:
    # Given a stack pinned to a region (CDK_DEFAULT_REGION, as `cdk deploy` sets it)
    stack = cdk.Stack(cdk.App(), "Pinned", env=cdk.Environment(account="111122223333", region=region))

    # When it is asked to hold CloudFront's pieces
    # Then synth stops outside us-east-1, and in us-east-1 needs no deploy-time rule
    if refused:
        with pytest.raises(UnsafeConfiguration, match="us-east-1"):
            require_cloudfront_region(stack)
    else:
        require_cloudfront_region(stack)
        cdk.CfnWaitConditionHandle(stack, "Something")  # a template needs a resource
        assert CLOUDFRONT_REGION_RULE_ID not in Template.from_stack(stack).to_json().get("Rules", {})


# --- alarms ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alarm", _params(alarms()))
def test_alarm_tells_the_alarm_topic_when_it_fires_and_clears(alarm: Resource) -> None:
    # Given an alarm (a DLQ's first message, a stream falling behind, a failing function...)
    props = alarm.properties

    # Then someone hears of it: it publishes to an encrypted SNS topic on ALARM and on OK
    for actions in (props.get("AlarmActions", []), props.get("OKActions", [])):
        targets = [_assembly().referenced(alarm.stack, action) for action in actions]
        assert targets and all(target is not None and target[0].type == "AWS::SNS::Topic" for target in targets)


@pytest.mark.parametrize("topic", _params(alarm_topics()))
def test_alarm_topic_is_encrypted_with_a_rotated_key_and_refuses_plain_http(topic: Resource) -> None:
    # Given the topic alarms publish to
    key = _assembly().referenced(topic.stack, topic.properties["KmsMasterKeyId"])
    policies = [
        policy
        for policy in _assembly().all_of("AWS::SNS::TopicPolicy")
        if any(_assembly().referenced(policy.stack, ref) == (topic, "Ref") for ref in policy.properties["Topics"])
    ]
    statements = [statement for policy in policies for statement in policy.properties["PolicyDocument"]["Statement"]]

    # Then messages are encrypted with a key of the app's that rotates (CloudWatch cannot use `aws/sns`), the topic
    # is reached over TLS only, and only CloudWatch alarms of this account may publish
    assert key is not None and key[0].type == "AWS::KMS::Key" and key[0].properties["EnableKeyRotation"] is True
    assert {
        "Effect": "Deny",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }.items() <= next(s for s in statements if s["Effect"] == "Deny").items()
    (allow,) = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert set(allow["Condition"]) == {"StringEquals", "ArnLike"}


@pytest.mark.parametrize("email", ["ops@pinhole.example", None])
def test_alarm_email_subscribes_to_the_alarm_topic(email: str | None) -> None:
    # Given the alarm topic with and without context `alarm_email`
    stack = cdk.Stack(cdk.App(), "Alarms")
    AlarmTopic(stack, "AlarmTopic", email=email)

    # Then the address, when given, is subscribed by e-mail (it confirms once), and nothing is otherwise
    subscriptions = Template.from_stack(stack).find_resources("AWS::SNS::Subscription")
    assert [s["Properties"]["Endpoint"] for s in subscriptions.values()] == ([email] if email else [])
    assert all(s["Properties"]["Protocol"] == "email" for s in subscriptions.values())


# --- identity ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("pool", _params(user_pools()))
def test_user_pool_has_a_strong_password_policy(pool: Resource) -> None:
    # Given a user pool's password policy
    policy = pool.properties["Policies"]["PasswordPolicy"]
    classes = [policy.get(f"Require{kind}", False) for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols")]

    # Then passwords are long, mix character classes, and a temporary password soon expires
    assert policy["MinimumLength"] >= STRONG_PASSWORD_MIN_LENGTH
    assert sum(classes) >= STRONG_PASSWORD_MIN_CHARACTER_CLASSES
    assert 0 < policy["TemporaryPasswordValidityDays"] <= TEMPORARY_PASSWORD_MAX_DAYS


@pytest.mark.parametrize("client", _params(user_pool_clients()))
def test_user_pool_client_has_no_implicit_oauth_flow(client: Resource) -> None:
    # Given an app client
    props = client.properties

    # Then tokens are never handed out in a redirect URL's fragment (in this app: no OAuth flow at all)
    assert "implicit" not in props.get("AllowedOAuthFlows", [])
    assert props.get("AllowedOAuthFlowsUserPoolClient", False) is False


@pytest.mark.parametrize("client", _params(user_pool_clients()))
def test_user_pool_client_prevents_user_existence_errors(client: Resource) -> None:
    # Then a wrong username and a wrong password get the same answer
    assert client.properties["PreventUserExistenceErrors"] == "ENABLED"


# --- IAM ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("resource", "statement"), allow_statements())
def test_allow_statement_names_its_actions(resource: Resource, statement: dict[str, Any]) -> None:
    # Given an Allow statement of any policy (roles', buckets', queues')
    # Then it lists actions one by one: no `*`, no `service:*`, and no prefix glob either
    # (CDK's grant helpers' `s3:GetObject*`, `dynamodb:BatchGet*` are replaced by stacks/stateless/grants.py)
    assert "NotAction" not in statement
    assert [action for action in _as_list(statement["Action"]) if "*" in action] == []


@pytest.mark.parametrize(("resource", "statement"), allow_statements())
def test_allow_statement_scopes_its_resources(resource: Resource, statement: dict[str, Any]) -> None:
    # Given an Allow statement of any policy
    assert "NotResource" not in statement
    if "Resource" not in statement:  # a resource policy: it applies to its own bucket or queue
        assert resource.type in {"AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"}
        return

    # Then it grants on named resources; "*" only for actions AWS offers no resource scope for
    if "*" in _as_list(statement["Resource"]):
        assert set(_as_list(statement["Action"])) <= ACTIONS_ALLOWED_ON_ANY_RESOURCE.keys()


def _managed_policy_name(arn: Any) -> str:
    """`service-role/X` of `arn:<partition>:iam::aws:policy/service-role/X` (a Fn::Join in the template)."""
    text = arn if isinstance(arn, str) else "".join(p for p in arn["Fn::Join"][1] if isinstance(p, str))
    assert ":iam::aws:policy/" in text, f"not an AWS managed policy: {arn}"
    return text.split(":policy/", 1)[1]


@pytest.mark.parametrize("role", _params(roles()))
def test_role_carries_no_managed_policy_but_the_allowed_ones(role: Resource) -> None:
    # Given a role's AWS managed policies (AWSLambdaBasicExecutionRole, for one, allows logs on every group)
    names = [_managed_policy_name(arn) for arn in role.properties.get("ManagedPolicyArns", [])]

    # Then each is one AWS requires, with its reason above
    assert set(names) <= MANAGED_POLICIES_ALLOWED.keys()


# --- cdk-nag -----------------------------------------------------------------------------------------

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
MIN_REASON_LENGTH = 40  # a reason says why this finding is acceptable here, not "not needed"
STACKS = (constants.STATEFUL_STACK_ID, constants.STATELESS_STACK_ID)


def _acknowledgements(cloud_assembly: CloudAssembly, stack: str) -> dict[str, dict[str, str]]:
    """construct path -> {rule id: reason}, from the stack's metadata in cdk.out."""
    metadata = json.loads((cloud_assembly.directory / f"{stack}.metadata.json").read_text())
    found: dict[str, dict[str, str]] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry["type"] == ACKNOWLEDGED:
                found.setdefault(path.lstrip("/"), {}).update(entry["data"])
    return found


def _nag_findings_on_raw_template(cloud_assembly: CloudAssembly, stack: str) -> set[tuple[str, str]]:
    """(rule id, construct path) for every finding cdk-nag reports on the template as synthesized,
    i.e. ignoring every acknowledgement."""
    nag_app = cdk.App()
    scope = cdk.Stack(nag_app, stack)
    cfn_include.CfnInclude(scope, "Template", template_file=str(cloud_assembly.directory / f"{stack}.template.json"))
    resources = cloud_assembly.templates[stack]["Resources"]
    findings = set()
    for pack in (AwsSolutionsChecks(), ServerlessChecks()):
        for violation in pack.validate_scope(scope).violations:
            for resource in violation.violating_resources:
                logical_id = str(resource.construct_path).rsplit("/", 1)[-1]
                findings.add((violation.rule_name, resources[logical_id]["Metadata"]["aws:cdk:path"]))
    return findings


def _is_acknowledged(acknowledged: dict[str, dict[str, str]], rule: str, path: str) -> bool:
    framework_id = f"{rule.split('-', 1)[0]}::{rule}"  # <pack>::<rule>, as the validation framework names it
    return any(
        framework_id in rules and (path == scope or path.startswith(f"{scope}/"))
        for scope, rules in acknowledged.items()
    )


def test_validation_report_has_no_unacknowledged_findings(cloud_assembly: CloudAssembly) -> None:
    # Given the validation report synth wrote (cdk-nag v3 reports through CDK's validation framework)
    report_file = cloud_assembly.directory / "validation-report.json"
    assert report_file.exists(), "cdk.out/validation-report.json is missing: run `make synth`"

    # When its violations are collected
    report = json.loads(report_file.read_text())
    violations = [
        (plugin["pluginName"], violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]

    # Then there are none
    assert violations == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_nag_finding_is_acknowledged_with_a_reason(cloud_assembly: CloudAssembly, stack: str) -> None:
    # Given what cdk-nag (AwsSolutions and Serverless) finds on the raw template and what the app acknowledges
    findings = _nag_findings_on_raw_template(cloud_assembly, stack)
    acknowledged = _acknowledgements(cloud_assembly, stack)

    # When each finding is looked up on its construct or an ancestor
    unacknowledged = sorted((rule, path) for rule, path in findings if not _is_acknowledged(acknowledged, rule, path))

    # Then every finding is acknowledged (the packs do run: a stack with findings has acknowledgements)
    assert unacknowledged == []
    assert bool(findings) == bool(acknowledged)


@pytest.mark.parametrize("stack", STACKS)
def test_acknowledgements_are_nag_rules_with_specific_reasons(cloud_assembly: CloudAssembly, stack: str) -> None:
    # Given every acknowledgement of the stack
    acknowledged = _acknowledgements(cloud_assembly, stack)

    for path, rules in acknowledged.items():
        for rule, reason in rules.items():
            # Then it names a rule of the two packs (<pack>::<rule>) and says why it is acceptable
            pack, _, rule_id = rule.partition("::")
            assert pack in {"AwsSolutions", "Serverless"}, (path, rule)
            assert rule_id.startswith(f"{pack}-"), (path, rule)
            assert len(reason) >= MIN_REASON_LENGTH, (path, rule, reason)
