#!/usr/bin/env python3
"""The Pinhole CDK app. Synth needs no AWS credentials: both stacks are environment-agnostic unless
CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION are set (as `cdk deploy` does).

    CDK_OUTDIR=cdk.out .venv/bin/python app.py
"""

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from pinhole.shared.settings import DEFAULT_RATE_LIMITS, FeedRankingSettings, RateLimit
from stacks import constants
from stacks.nag_suppressions import acknowledge_findings
from stacks.stage import checked_cors_origins, is_production
from stacks.stateful_stack import StatefulStack
from stacks.stateless.api_construct import Throttle
from stacks.stateless_stack import EdgeSettings, FeedSettings, ScreeningSettings, StatelessStack

ROOT = Path(__file__).resolve().parent
CDK_JSON = ROOT / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """cdk.json's context, so `python app.py` synthesizes what `cdk synth` does (the CLI passes it in
    CDK_CONTEXT_JSON, which still takes precedence, as do `-c key=value` overrides)."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def environment() -> cdk.Environment | None:
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    return cdk.Environment(account=account, region=region) if account or region else None


def _context_int(app: cdk.App, key: str, default: int) -> int:
    value = app.node.try_get_context(key)
    return default if value is None else int(value)


def _context_list(app: cdk.App, key: str, default: tuple[str, ...]) -> list[str]:
    """A list from cdk.json, or from `-c key='["a","b"]'` / `-c key=a,b` on the command line."""
    value = app.node.try_get_context(key)
    if value is None:
        return list(default)
    if isinstance(value, str):
        value = json.loads(value) if value.startswith("[") else [item.strip() for item in value.split(",")]
    return [str(item) for item in value]


def _context_bool(app: cdk.App, key: str, default: bool) -> bool:
    """A flag from cdk.json, or `-c key=false` on the command line (which arrives as a string)."""
    value = app.node.try_get_context(key)
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in {"false", "0", "no", "off"}
    return bool(value)


def cors_origins(app: cdk.App) -> list[str]:
    """cdk.json's `cors_origins`, refused at synth if `*` is given to a production `stage`."""
    origins = _context_list(app, constants.CTX_CORS_ORIGINS, constants.DEFAULT_CORS_ORIGINS)
    return checked_cors_origins(origins, stage=_stage(app))


def _stage(app: cdk.App) -> str:
    return str(app.node.try_get_context(constants.CTX_STAGE) or constants.DEFAULT_STAGE)


def edge_settings(app: cdk.App) -> EdgeSettings:
    """The WAF web ACL is on unless context `waf` says otherwise, or off outside production unless it says on."""
    alarm_email = app.node.try_get_context(constants.CTX_ALARM_EMAIL)
    return EdgeSettings(
        waf=_context_bool(app, constants.CTX_WAF, is_production(_stage(app))),
        waf_rate_limit=_context_int(app, constants.CTX_WAF_RATE_LIMIT, constants.DEFAULT_WAF_RATE_LIMIT),
        alarm_email=str(alarm_email) if alarm_email else None,
    )


def screening_settings(app: cdk.App) -> ScreeningSettings:
    """Automatic image screening is off unless context `image_moderation` turns it on (README's production example
    does); `image_moderation_min_confidence` (0-100) is how sure Rekognition must be to hold a post."""
    confidence = float(
        app.node.try_get_context(constants.CTX_IMAGE_MODERATION_MIN_CONFIDENCE)
        or constants.DEFAULT_IMAGE_MODERATION_MIN_CONFIDENCE
    )
    if not 0 <= confidence <= 100:
        raise ValueError(f"{constants.CTX_IMAGE_MODERATION_MIN_CONFIDENCE} is a confidence, 0 to 100: {confidence}")
    return ScreeningSettings(
        image_moderation=_context_bool(app, constants.CTX_IMAGE_MODERATION, constants.DEFAULT_IMAGE_MODERATION),
        min_confidence=confidence,
    )


def _rate_limits(app: cdk.App) -> dict[str, RateLimit]:
    """Per-user write limits: cdk.json's `rate_limits` ({action: {limit, per_seconds}}), over the defaults."""
    configured = app.node.try_get_context(constants.CTX_RATE_LIMITS) or {}
    if isinstance(configured, str):
        configured = json.loads(configured)
    return {**DEFAULT_RATE_LIMITS, **{action: RateLimit(**limit) for action, limit in configured.items()}}


def _feed_ranking(app: cdk.App) -> FeedRankingSettings:
    """The ranked feed's weights: cdk.json's `feed_ranking` over the defaults (docs/DATA_MODEL.md, "Ranking")."""
    configured = app.node.try_get_context(constants.CTX_FEED_RANKING) or {}
    if isinstance(configured, str):
        configured = json.loads(configured)
    return FeedRankingSettings(**configured)


def push_secrets(app: cdk.App) -> dict[str, str]:
    """The Secrets Manager secret of each push platform the context names (none: push is off)."""
    keys = {
        "apns": constants.CTX_PUSH_APNS_SECRET,
        "apns_sandbox": constants.CTX_PUSH_APNS_SANDBOX_SECRET,
        "fcm": constants.CTX_PUSH_FCM_SECRET,
    }
    return {platform: str(name) for platform, key in keys.items() if (name := app.node.try_get_context(key))}


def main() -> None:
    app = cdk.App(context=cdk_json_context())
    origins = cors_origins(app)

    env = environment()
    stateful = StatefulStack(
        app,
        constants.STATEFUL_STACK_ID,
        env=env,
        description="Pinhole: identity, tables and buckets (retained)",
        push_secrets=push_secrets(app),
    )
    stateless = StatelessStack(
        app,
        constants.STATELESS_STACK_ID,
        env=env,
        description="Pinhole: APIs, functions, domain layer and CDN",
        stateful=stateful,
        cors_origins=origins,
        http_throttle=Throttle(
            rate_limit=_context_int(app, constants.CTX_HTTP_THROTTLE_RATE, constants.DEFAULT_HTTP_THROTTLE_RATE),
            burst_limit=_context_int(app, constants.CTX_HTTP_THROTTLE_BURST, constants.DEFAULT_HTTP_THROTTLE_BURST),
        ),
        feed=FeedSettings(
            celebrity_threshold=_context_int(
                app, constants.CTX_CELEBRITY_THRESHOLD, constants.DEFAULT_CELEBRITY_THRESHOLD
            ),
            feed_cap=_context_int(app, constants.CTX_FEED_CAP, constants.DEFAULT_FEED_CAP),
            ranking=_feed_ranking(app),
        ),
        rate_limits=_rate_limits(app),
        notification_group_window_minutes=_context_int(
            app, constants.CTX_NOTIFICATION_GROUP_WINDOW, constants.DEFAULT_NOTIFICATION_GROUP_WINDOW_MINUTES
        ),
        account_deletion_grace_days=_context_int(
            app, constants.CTX_ACCOUNT_DELETION_GRACE_DAYS, constants.DEFAULT_ACCOUNT_DELETION_GRACE_DAYS
        ),
        edge=edge_settings(app),
        screening=screening_settings(app),
        manage_api_gateway_logging_role=_context_bool(
            app, constants.CTX_API_GATEWAY_LOGGING_ROLE, constants.DEFAULT_API_GATEWAY_LOGGING_ROLE
        ),
        websocket_throttle=Throttle(
            rate_limit=_context_int(
                app, constants.CTX_WEBSOCKET_THROTTLE_RATE, constants.DEFAULT_WEBSOCKET_THROTTLE_RATE
            ),
            burst_limit=_context_int(
                app, constants.CTX_WEBSOCKET_THROTTLE_BURST, constants.DEFAULT_WEBSOCKET_THROTTLE_BURST
            ),
        ),
    )

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True), ServerlessChecks(app, verbose=True))
    acknowledge_findings(stateful, stateless)
    app.synth()


if __name__ == "__main__":
    main()
