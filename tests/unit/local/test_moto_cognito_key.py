"""`local.moto_cognito_key`: every moto user pool signs with moto's one key, imported once; tokens a pool
issues still verify with the JWKS it publishes; any other key is imported as joserfc does."""

import boto3
import pytest
from joserfc import jwk, jwt
from moto.cognitoidp import models as cognito_models
from moto.cognitoidp.models import cognitoidp_backends

from local import moto_cognito_key


def _pool(name: str) -> cognito_models.CognitoIdpUserPool:
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool_id, Username="user")
    return cognitoidp_backends["123456789012"]["us-east-1"].user_pools[pool_id]


def test_pools_share_motos_key_imported_once_and_their_tokens_verify(aws: None) -> None:
    # Given the install
    moto_cognito_key.install()

    # When two pools are made
    first, second = _pool("first"), _pool("second")

    # Then they hold the one key moto ships, the same as joserfc imports from moto's file
    assert first.json_web_key is second.json_web_key
    shipped = jwk.RSAKey.import_key(moto_cognito_key.load_resource(moto_cognito_key.MOTO_KEY_FILE))
    assert first.json_web_key.as_dict(private=True) == shipped.as_dict(private=True)
    # And a token a pool signs verifies with the public key it publishes
    token, _ = first.create_jwt("client", "user", "access")
    public = jwk.RSAKey.import_key(moto_cognito_key.load_resource("cognitoidp/resources/jwks-public.json")["keys"][0])
    assert jwt.decode(token, public).claims["username"] == "user"


def test_another_key_is_imported_as_joserfc_does() -> None:
    moto_cognito_key.install()
    other = jwk.RSAKey.generate_key(2048)

    imported = cognito_models.jwk.RSAKey.import_key(other.as_dict(private=True))

    assert imported.as_dict(private=True) == other.as_dict(private=True)


def test_the_install_is_refused_for_another_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cognito_models, "jwk", jwk)
    monkeypatch.setattr(moto_cognito_key, "FINGERPRINT", "0000000000000000")

    with pytest.raises(moto_cognito_key.MotoCognitoKeyChanged):
        moto_cognito_key.install()
