"""Moderation in the template: the moderators' Cognito group, the screening switch (off by default, one variable of
every function), and what only the moderation and resize functions may do."""

from typing import Any

import aws_cdk as cdk
import pytest

import app
from stacks import constants


def _functions(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and constants.ENV_SERVICE_NAME in resource["Properties"].get("Environment", {}).get("Variables", {})
    ]


def _roles_by_action(template: dict[str, Any]) -> dict[str, set[str]]:
    roles_by_action: dict[str, set[str]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        roles = {role["Ref"] for role in resource["Properties"]["Roles"]}
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                roles_by_action.setdefault(action, set()).update(roles)
    return roles_by_action


def test_the_moderators_group_is_in_the_user_pool(stateful) -> None:
    groups = [r for r in stateful["Resources"].values() if r["Type"] == "AWS::Cognito::UserPoolGroup"]
    assert [group["Properties"]["GroupName"] for group in groups] == ["moderators"]


def test_image_screening_is_off_by_default_for_every_function(stateless) -> None:
    # Every function told the shared environment (a stream router is told only its routes: it screens nothing).
    every = [resource["Properties"]["Environment"]["Variables"] for resource in _functions(stateless)]
    variables = [v for v in every if constants.ENV_POSTS_TABLE_NAME in v]
    assert len(variables) > len(every) / 2
    assert {v[constants.ENV_IMAGE_MODERATION] for v in variables} == {"false"}
    assert {v[constants.ENV_IMAGE_MODERATION_MIN_CONFIDENCE] for v in variables} == {"80.0"}


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({}, (False, 80.0)),
        ({"image_moderation": "true"}, (True, 80.0)),
        ({"image_moderation": True, "image_moderation_min_confidence": 70}, (True, 70.0)),
        ({"image_moderation": "off", "image_moderation_min_confidence": "95.5"}, (False, 95.5)),
    ],
)
def test_the_screening_context_becomes_the_settings(context: dict[str, Any], expected: tuple[bool, float]) -> None:
    settings = app.screening_settings(cdk.App(context=context))
    assert (settings.image_moderation, settings.min_confidence) == expected


def test_a_confidence_outside_0_to_100_stops_synth() -> None:
    with pytest.raises(ValueError, match="0 to 100"):
        app.screening_settings(cdk.App(context={"image_moderation_min_confidence": 120}))


def test_only_resize_and_transcode_may_ask_rekognition_whether_screening_is_on_or_off(stateless) -> None:
    # Granted with the switch off (cdk.json), so turning it on changes a variable, not a role. Resize screens each
    # image, transcode a video's poster; transcode's dead-letter function only rejects and is not granted.
    resize, transcode = sorted(_roles_by_action(stateless)["rekognition:DetectModerationLabels"])
    assert resize.startswith("ResizeRole") and transcode.startswith("TranscodeRole")


def test_only_the_moderation_function_may_suspend_accounts(stateless) -> None:
    roles = _roles_by_action(stateless)
    for action in ("cognito-idp:AdminDisableUser", "cognito-idp:AdminEnableUser"):
        assert len(roles[action]) == 1 and next(iter(roles[action])).startswith("ModerationApi"), roles[action]
    # signing someone out everywhere: a suspension, an account's own deletion (its refresh tokens revoked), and a
    # password reset (whoever had the account keeps no session)
    signing_out = sorted(role.rstrip("0123456789ABCDEF") for role in roles["cognito-idp:AdminUserGlobalSignOut"])
    assert signing_out == ["AuthApiRole", "ModerationApiRole", "PrivacyRole"], roles[
        "cognito-idp:AdminUserGlobalSignOut"
    ]
