"""Every function is made by stacks/function_factory.py with the same defaults and environment."""

from typing import Any

import pytest

from pinhole.streams.models import ROUTES_ENV
from stacks import constants

EXPECTED_FUNCTIONS = {
    # function (context, or context.entry point when a context has several): (handler, code asset folder)
    "auth": ("handler.handler", "functions/auth"),
    "users": ("handler.handler", "functions/users"),
    "users.on_made_public": ("consumers.on_made_public", "functions/users"),
    "meta": ("meta.handler.handler", "functions"),
    "messaging": ("handler.handler", "functions/messaging"),
    "messaging.websocket": ("websocket.handler", "functions/messaging"),
    "messaging.authorizer": ("authorizer.handler", "functions/messaging"),
    "messaging.sweep": ("sweep.handler", "functions/messaging"),
    "notifications": ("handler.handler", "functions/notifications"),
    "notifications.on_activity": ("consumers.on_activity", "functions/notifications"),
    "notifications.deliver": ("consumers.deliver", "functions/notifications"),
    "search": ("handler.handler", "functions/search"),
    "search.on_change": ("consumers.on_change", "functions/search"),
    "moderation": ("handler.handler", "functions/moderation"),
    "upload": ("handler.handler", "functions/upload"),
    "upload.sweep": ("handler.sweep", "functions/upload"),
    "resize": ("handler.handler", "functions/resize"),
    "resize.cleanup": ("handler.cleanup", "functions/resize"),
    "resize.invalidate": ("handler.invalidate", "functions/resize"),
    "streams.route": ("handler.route", "functions/streams"),  # one per table stream
    "transcode": ("handler.handler", "functions/transcode"),
    "transcode.dead_letter": ("handler.dead_letter", "functions/transcode"),
    "social": ("handler.handler", "functions/social"),
    "social.on_post_deleted": ("consumers.on_post_deleted", "functions/social"),
    "feed_read": ("handler.handler", "functions/feed_read"),
    "feed_fanout.on_post_change": ("handler.on_post_change", "functions/feed_fanout"),
    "feed_fanout.on_follow_change": ("handler.on_follow_change", "functions/feed_fanout"),
    "feed_fanout.on_user_change": ("handler.on_user_change", "functions/feed_fanout"),
    "feed_fanout.deliver": ("handler.deliver", "functions/feed_fanout"),
    "feed_signals.on_record": ("handler.on_record", "functions/feed_signals"),
    "push": ("handler.handler", "functions/push"),
    "push.deliver": ("handler.deliver", "functions/push"),
    "privacy": ("handler.handler", "functions/privacy"),
    "privacy.on_deletion_due": ("handler.on_deletion_due", "functions/privacy"),
    "privacy.purge": ("handler.purge", "functions/privacy"),
    "privacy.export": ("handler.export", "functions/privacy"),
}
# Told only to the functions that need it (Lambda's 4 KB of variables): the ranked feed's settings.
OWN_ENVIRONMENT = {
    "feed_read": {constants.ENV_FEED_RANKING},
    "feed_signals": {constants.ENV_FEED_RANKING},
    "feed_fanout": {constants.ENV_FEED_RANKING},  # k copies of a celebrity's recent-posts item
}
API_FUNCTIONS = {
    "auth",
    "users",
    "meta",
    "messaging",
    "upload",
    "social",
    "feed_read",
    "notifications",
    "search",
    "push",
    "privacy",
    "moderation",
}
API_GATEWAY_TIMEOUT_S = 29
LAMBDA_MAX_TIMEOUT_S = 900
COMMON_ENVIRONMENT = {
    constants.ENV_USERS_TABLE_NAME,
    constants.ENV_USER_POOL_ID,
    constants.ENV_USER_POOL_CLIENT_ID,
    constants.ENV_POSTS_TABLE_NAME,
    constants.ENV_GRAPH_TABLE_NAME,
    constants.ENV_INTERACTIONS_TABLE_NAME,
    constants.ENV_FEEDS_TABLE_NAME,
    constants.ENV_FANOUT_QUEUE_URL,
    constants.ENV_IDEMPOTENCY_TABLE_NAME,
    constants.ENV_CELEBRITY_THRESHOLD,
    constants.ENV_FEED_CAP,
    constants.ENV_UPLOADS_BUCKET_NAME,
    constants.ENV_MEDIA_BUCKET_NAME,
    constants.ENV_MESSAGE_MEDIA_BUCKET_NAME,
    constants.ENV_MEDIA_BASE_URL,
    constants.ENV_MEDIA_DISTRIBUTION_ID,
    constants.ENV_MEDIA_INVALIDATIONS_QUEUE_URL,
    constants.ENV_CURSOR_SECRET_ARN,
    constants.ENV_MESSAGES_TABLE_NAME,
    constants.ENV_CONNECTIONS_TABLE_NAME,
    constants.ENV_NOTIFICATIONS_TABLE_NAME,
    constants.ENV_NOTIFICATIONS_QUEUE_URL,
    constants.ENV_TRANSCODE_QUEUE_URL,
    constants.ENV_RATE_LIMITS_TABLE_NAME,
    constants.ENV_SEARCH_TABLE_NAME,
    constants.ENV_RATE_LIMITS,
    constants.ENV_WEBSOCKET_CALLBACK_URL,
    constants.ENV_MODERATION_TABLE_NAME,
    constants.ENV_IMAGE_MODERATION,
    constants.ENV_IMAGE_MODERATION_MIN_CONFIDENCE,
    constants.ENV_NOTIFICATION_GROUP_WINDOW_S,
    constants.ENV_PUSH_QUEUE_URL,
    constants.ENV_PUSH_PLATFORM_APPLICATIONS,
    constants.ENV_PRIVACY_TABLE_NAME,
    constants.ENV_PURGE_QUEUE_URL,
    constants.ENV_EXPORT_QUEUE_URL,
    constants.ENV_ACCOUNT_DELETION_GRACE_DAYS,
    constants.ENV_SERVICE_NAME,
    constants.ENV_METRICS_NAMESPACE,
    constants.ENV_LOG_LEVEL,
}


def _function_name(resource: dict[str, Any]) -> str:
    """The context, or `context.<entry point>` (or `context.<module>` for a module of its own)."""
    service = resource["Properties"]["Environment"]["Variables"][constants.ENV_SERVICE_NAME]
    module, entry_point = resource["Properties"]["Handler"].rsplit(".", 1)
    if entry_point != "handler":
        return f"{service}.{entry_point}"
    module = module.rsplit(".", 1)[-1]
    return service if module == "handler" else f"{service}.{module}"


def _functions_by_service(stateless: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        _function_name(resource): (logical_id, resource)
        for logical_id, resource in stateless["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        # Pinhole's own (CDK's deployment functions have an environment of their own)
        and constants.ENV_SERVICE_NAME in resource["Properties"].get("Environment", {}).get("Variables", {})
    }


def _policy_statements(stateless: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for resource in stateless["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {
        action
        for statement in statements
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }


def test_functions_are_one_per_context(stateless) -> None:
    # Given the stateless stack
    # When its functions are listed by service name
    functions = _functions_by_service(stateless)

    # Then there is exactly one per context of this issue
    assert set(functions) == set(EXPECTED_FUNCTIONS)


@pytest.mark.parametrize("context", sorted(EXPECTED_FUNCTIONS))
def test_function_has_the_factory_defaults(stateless, context: str) -> None:
    # Given the function of a context
    _, function = _functions_by_service(stateless)[context]
    props = function["Properties"]

    # Then it runs on arm64 Python 3.12 with the domain layer, within its kind's time limit
    # (tracing, log group retention: test_guarantees.py)
    assert props["Architectures"] == ["arm64"]
    assert props["Runtime"] == "python3.12"
    assert props["MemorySize"] >= 512
    assert 0 < props["Timeout"] <= (API_GATEWAY_TIMEOUT_S if context in API_FUNCTIONS else LAMBDA_MAX_TIMEOUT_S)
    layers = [stateless["Resources"][layer["Ref"]] for layer in props["Layers"]]
    # (CDK orders a function's layers by logical id: the authorizer's auth layer comes before the domain's)
    assert [layer["Properties"]["Description"].startswith("Pinhole domain") for layer in layers].count(True) == 1
    assert all(layer["Type"] == "AWS::Lambda::LayerVersion" for layer in layers)


@pytest.mark.parametrize("context", sorted(EXPECTED_FUNCTIONS))
def test_function_has_its_handler_code_and_the_shared_environment(cloud_assembly, stateless, context: str) -> None:
    # Given the function of a context
    _, function = _functions_by_service(stateless)[context]
    handler, code_dir = EXPECTED_FUNCTIONS[context]
    variables = function["Properties"]["Environment"]["Variables"]

    # Then it has the context's handler, the same environment as every function (a stream router: its own
    # routes instead, which would not fit beside it in Lambda's 4 KB), and its code asset
    assert function["Properties"]["Handler"] == handler
    if context == "streams.route":
        assert set(variables) == {
            ROUTES_ENV,
            constants.ENV_SERVICE_NAME,
            constants.ENV_METRICS_NAMESPACE,
            constants.ENV_LOG_LEVEL,
        }
    else:
        assert set(variables) == COMMON_ENVIRONMENT | OWN_ENVIRONMENT.get(context.split(".")[0], set())
    assert variables[constants.ENV_METRICS_NAMESPACE] == "Pinhole"
    assert variables[constants.ENV_LOG_LEVEL] == "INFO"
    staged = cloud_assembly.directory / function["Metadata"]["aws:asset:path"]
    source = cloud_assembly.directory.parent / code_dir
    assert sorted(p.name for p in staged.iterdir() if p.name != "__pycache__") == sorted(
        p.name for p in source.iterdir() if p.name != "__pycache__"
    )


def test_domain_layer_is_arm64_python312_and_holds_the_pinhole_package(cloud_assembly, stateless) -> None:
    # Given the layer
    ((_, layer),) = [
        (k, r)
        for k, r in stateless["Resources"].items()
        if r["Type"] == "AWS::Lambda::LayerVersion" and r["Properties"]["Description"].startswith("Pinhole domain")
    ]
    bundle = cloud_assembly.directory / layer["Metadata"]["aws:asset:path"]

    # Then it targets the functions' runtime and architecture and has the package plus its dependencies
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert (bundle / "python" / "pinhole" / "__init__.py").is_file()
    assert (bundle / "python" / "pynamodb").is_dir()
    # (its bytecode is the runtime's own, compiled at bundling: tests/infrastructure/test_layer_bytecode.py)
    assert list((bundle / "python" / "pydantic_core").glob("*cpython-312-aarch64-linux-gnu.so"))


def test_function_roles_grant_only_what_each_context_needs(stateless) -> None:
    # Given each function's role policies
    functions = _functions_by_service(stateless)
    actions = {
        context: _actions(_policy_statements(stateless, function["Properties"]["Role"]["Fn::GetAtt"][0]))
        for context, (_, function) in functions.items()
    }
    baseline = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}

    # Then meta may only log and trace
    assert actions["meta"] == baseline
    # And the WebSocket authorizer needs the token (Cognito's JWKS is public) and one read: is its user suspended?
    assert actions["messaging.authorizer"] == baseline | {"dynamodb:GetItem"}
    # And only the functions that push to connections (resize delivers photo messages, transcode video messages, its
    # dead-letter consumer tells a sender their video was given up on, the messaging sweep that their upload never
    # came, moderation removes and restores them), or close them (auth's sign-out everywhere), may manage them
    managers = {context for context, granted in actions.items() if "execute-api:ManageConnections" in granted}
    assert managers == {
        "messaging",
        "messaging.websocket",
        "messaging.sweep",
        "notifications.deliver",
        "auth",
        "resize",
        "transcode",
        "transcode.dead_letter",
        "privacy",
        "moderation",
    }
    # And only a purge may delete Cognito users other than sign-up's undo, and only a purge or export scans
    assert "cognito-idp:AdminDeleteUser" in actions["privacy.purge"]
    scanners = {context for context, granted in actions.items() if "dynamodb:Scan" in granted}
    assert scanners == {"privacy.purge", "privacy.export"}
    # And users reads and writes items, never scans, and has no Cognito grant: PATCH /me {email} acts with the
    # user's own token (and password), which a grant could only widen
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"} <= actions["users"]
    assert "dynamodb:Scan" not in actions["users"]
    assert {a for a in actions["users"] if a.startswith("cognito-idp:")} == set()
    # And auth may also create and manage users in the pool, and nothing more of Cognito
    assert {a for a in actions["auth"] if a.startswith("cognito-idp:")} == {
        "cognito-idp:AdminCreateUser",
        "cognito-idp:AdminSetUserPassword",
        "cognito-idp:AdminDeleteUser",
        "cognito-idp:AdminGetUser",
        "cognito-idp:AdminSetUserMFAPreference",
        "cognito-idp:AdminUserGlobalSignOut",
    }
