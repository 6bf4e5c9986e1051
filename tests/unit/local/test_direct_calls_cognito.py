"""Cognito calls answered at before-call (local/direct_calls.py) get what moto's dispatch answers at before-send:
the same user pool's life (sign-up, confirmation, log-in, reading and changing the user, Cognito's refusals)
lived once by a client of each kind, answer for answer (ids, tokens and times compared by shape: moto makes
them at random)."""

from __future__ import annotations

import datetime
import re
from typing import Any

import boto3

from tests.support.direct_calls import answered_directly, outcome

PASSWORD = "Correct-Horse-9"
RANDOM = re.compile(r"^(eyJ[\w-]+\.[\w-]+\.[\w-]+|[\w-]{20,}|us-east-1_\w+|[0-9a-f-]{36})$")


def normalised(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalised(item) for item in value]
    if isinstance(value, datetime.datetime):
        return "<time>"
    if isinstance(value, str) and RANDOM.match(value):
        return "<random>"
    return value


def life(cognito: Any) -> list[Any]:
    pool = cognito.create_user_pool(PoolName="pool", UsernameAttributes=["email"])["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    seen: list[Any] = []
    email = "ada@example.com"
    attributes = [{"Name": "email", "Value": email}]
    seen.append(
        outcome(lambda: cognito.sign_up(ClientId=client, Username=email, Password=PASSWORD, UserAttributes=attributes))
    )
    seen.append(
        outcome(lambda: cognito.sign_up(ClientId=client, Username=email, Password=PASSWORD, UserAttributes=attributes))
    )
    seen.append(outcome(lambda: cognito.sign_up(ClientId=client, Username="b@example.com", Password="short")))
    seen.append(outcome(lambda: cognito.admin_confirm_sign_up(UserPoolId=pool, Username=email)))
    logged_in = outcome(
        lambda: cognito.initiate_auth(
            ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
        )
    )
    seen.append(logged_in)
    token = logged_in["AuthenticationResult"]["AccessToken"]
    seen.append(outcome(lambda: cognito.get_user(AccessToken=token)))
    seen.append(
        outcome(
            lambda: cognito.initiate_auth(
                ClientId=client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": "wrong"}
            )
        )
    )
    seen.append(
        outcome(
            lambda: cognito.initiate_auth(
                ClientId=client,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "nobody@example.com", "PASSWORD": PASSWORD},
            )
        )
    )
    seen.append(outcome(lambda: cognito.admin_get_user(UserPoolId=pool, Username=email)))
    seen.append(outcome(lambda: cognito.list_users(UserPoolId=pool)))
    seen.append(outcome(lambda: cognito.get_user(AccessToken="not-a-token")))
    seen.append(outcome(lambda: cognito.admin_delete_user(UserPoolId=pool, Username=email)))
    seen.append(outcome(lambda: cognito.admin_get_user(UserPoolId=pool, Username=email)))
    return seen


def test_cognito_answered_at_before_call_answers_as_moto_s_dispatch_does(aws):
    at_before_send = boto3.client("cognito-idp", region_name="us-east-1")
    at_before_call = boto3.client("cognito-idp", region_name="us-east-1")
    sent_on: list[str] = []
    answered_directly(at_before_call)
    at_before_call.meta.events.register("before-send", lambda **kwargs: sent_on.append(kwargs["request"].url))
    assert normalised(life(at_before_call)) == normalised(life(at_before_send))
    assert sent_on == []
