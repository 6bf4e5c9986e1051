"""Handlers → logic → PynamoDB and Cognito, on moto in-process."""

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import cognito_strict
from local.fast_dynamodb import install as install_fast_dynamodb
from local.moto_cognito_key import install as import_motos_cognito_key_once
from local.moto_cognito_passwords import install as take_passwords_as_long_as_cognito_does
from local.moto_dynamodb_limits import enforce_dynamodb_limits
from local.moto_sqs_attributes import install as read_sqs_attributes_alone
from local.moto_sqs_limits import enforce_sqs_limits
from local.moto_sqs_receive import install as receive_sqs_messages_cheaper
from pinhole.auth.password_policy import PASSWORD_POLICY
from pinhole.shared.settings import get_settings
from tests.support.direct_calls import every_client_answered_directly


def _create_user_pool(cognito: Any) -> tuple[str, str]:
    pool = cognito.create_user_pool(
        PoolName="pinhole-users",
        # As stacks/stateful/auth_construct.py: e-mail codes, and a changed address pending until verified.
        AutoVerifiedAttributes=["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
        Policies={
            "PasswordPolicy": {
                "MinimumLength": PASSWORD_POLICY.min_length,
                "RequireLowercase": PASSWORD_POLICY.require_lowercase,
                "RequireUppercase": PASSWORD_POLICY.require_uppercase,
                "RequireNumbers": PASSWORD_POLICY.require_digits,
                "RequireSymbols": PASSWORD_POLICY.require_symbols,
            }
        },
    )["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="mobile",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return pool["Id"], client["ClientId"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A fresh moto account holding Pinhole's user pool and tables, wired into the settings. DynamoDB is
    the local cloud's fast path (test_fast_dynamodb_differential.py proves it answers as moto does), and its,
    SQS's and Cognito's calls are answered at before-call, as the local cloud's handlers' are."""
    install_fast_dynamodb()
    import_motos_cognito_key_once()
    take_passwords_as_long_as_cognito_does()
    enforce_dynamodb_limits()
    enforce_sqs_limits()
    read_sqs_attributes_alone()
    receive_sqs_messages_cheaper()
    with mock_aws(), every_client_answered_directly():
        pool_id, client_id = _create_user_pool(boto3.client("cognito-idp"))
        monkeypatch.setenv("USER_POOL_ID", pool_id)
        monkeypatch.setenv("USER_POOL_CLIENT_ID", client_id)
        get_settings.cache_clear()
        secret = boto3.client("secretsmanager").create_secret(Name="cursor", SecretString="s3cr3t-cursor-key")
        monkeypatch.setenv("CURSOR_SECRET_ARN", secret["ARN"])
        s3 = boto3.client("s3")
        for bucket in (
            os.environ["UPLOADS_BUCKET_NAME"],
            os.environ["MEDIA_BUCKET_NAME"],
            os.environ["MESSAGE_MEDIA_BUCKET_NAME"],
        ):
            s3.create_bucket(Bucket=bucket)
        get_settings.cache_clear()
        from pinhole.feed.dal import FeedModel
        from pinhole.graph.dal import EdgeModel
        from pinhole.messaging.dal import MessagingModel
        from pinhole.moderation.dal import ModerationModel
        from pinhole.notifications.dal import NotificationModel
        from pinhole.posts.dal import PostModel
        from pinhole.realtime.dal import ConnectionModel
        from pinhole.search.dal import SearchModel
        from pinhole.shared.rate_limits import RateCounterModel
        from pinhole.social.dal import InteractionModel
        from pinhole.users.dal import UserModel

        for model in (
            UserModel,
            PostModel,
            EdgeModel,
            FeedModel,
            InteractionModel,
            NotificationModel,
            MessagingModel,
            ConnectionModel,
            RateCounterModel,
            SearchModel,
            ModerationModel,
        ):
            model.create_table()  # moto creates a table ACTIVE: nothing to wait for
        boto3.client("dynamodb").create_table(  # Powertools' idempotency records
            TableName=os.environ["IDEMPOTENCY_TABLE_NAME"],
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        )
        yield {"user_pool_id": pool_id, "user_pool_client_id": client_id}
    get_settings.cache_clear()


class CognitoClock:
    """The strict Cognito's clock: each TOTP step's code is accepted once, so tests move on a step at a time."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def strict_cognito(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[CognitoClock]:
    """moto's Cognito made as strict as Cognito, as the local cloud's is (local/cognito_strict.py: TOTP secrets per
    user, RevokeToken, single-use codes), with its clock. The patch stays for the process (it is idempotent and
    only stricter); its codes and secrets are forgotten after each test."""
    cognito_strict.install()
    cognito_strict.reset_state()
    clock = CognitoClock()
    monkeypatch.setattr(cognito_strict, "clock", clock)
    yield clock
    cognito_strict.reset_state()
