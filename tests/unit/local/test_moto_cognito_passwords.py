"""`local.moto_cognito_passwords`: moto's Cognito takes passwords up to Cognito's 256 characters (moto itself refused
99 and more), refuses a longer one as Cognito does, and still holds a password to the pool's policy."""

import boto3
import pytest
from botocore.exceptions import ClientError

from local import moto_cognito_passwords


def set_password(password: str) -> str:
    """Sets a password on a new user of a pool of Pinhole's policy: "ok" or Cognito's error code."""
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    policy = {"MinimumLength": 10, "RequireSymbols": False}
    pool = cognito.create_user_pool(PoolName="pool", Policies={"PasswordPolicy": policy})["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool, Username="ada", MessageAction="SUPPRESS")
    try:
        cognito.admin_set_user_password(UserPoolId=pool, Username="ada", Password=password, Permanent=True)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


@pytest.mark.parametrize(
    ("password", "answer"),
    [
        ("Aa1" + "x" * 95, "ok"),
        ("Aa1" + "x" * 96, "ok"),  # 99 characters: moto's own check refused it
        ("Aa1" + "x" * 253, "ok"),
        ("Aa1" + "x" * 254, "InvalidParameterException"),
        ("aa1" + "x" * 96, "InvalidPasswordException"),
        ("Aa1-short", "InvalidPasswordException"),
    ],
    ids=["98", "99", "256", "257", "no-upper-case", "too-short"],
)
def test_a_password_is_held_to_cognitos_bound_and_the_pools_policy(aws: None, password: str, answer: str) -> None:
    moto_cognito_passwords.install()

    assert set_password(password) == answer


def test_install_stops_when_motos_check_is_not_the_one_it_replaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_cognito_passwords, "FINGERPRINT", "another moto")
    monkeypatch.setattr(moto_cognito_passwords, "_MOTOS_OWN", [])
    from moto.cognitoidp.models import CognitoIdpBackend

    monkeypatch.setattr(CognitoIdpBackend, "_validate_password", CognitoIdpBackend._validate_password)

    with pytest.raises(moto_cognito_passwords.MotoCognitoPasswordsChanged):
        moto_cognito_passwords.install()
