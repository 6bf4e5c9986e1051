"""The JWT authorizer refuses what API Gateway refuses."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.jwt_authorizer import JwksCache, JwtAuthorizer, JwtAuthorizerConfig, Unauthorized

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT_ID = "client-1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(_issuer):
    public = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    return {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}


AUTHORIZER = JwtAuthorizer(JwtAuthorizerConfig("auth", ISSUER, (CLIENT_ID,)), JwksCache(jwks))


def token(key=KEY, algorithm="RS256", kid="k1", **claims):
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "iat": now,
        "exp": now + 60,
        "sub": "u1",
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def authorize(value):
    return AUTHORIZER.authorize({"authorization": value})


def test_access_token_signed_by_the_pool_is_accepted():
    assert authorize(f"Bearer {token()}")["sub"] == "u1"


def test_id_token_audience_is_accepted_and_bearer_prefix_optional():
    assert authorize(token(client_id=None, aud=CLIENT_ID))["sub"] == "u1"


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda: token(key=OTHER_KEY), id="other-rsa-key"),
        pytest.param(lambda: token(kid="unknown"), id="unknown-kid"),
        pytest.param(
            lambda: jwt.encode(
                {"iss": ISSUER, "client_id": CLIENT_ID, "exp": time.time() + 60}, None, algorithm="none"
            ),
            id="alg-none",
        ),
        pytest.param(lambda: token(key="shared-secret-shared-secret-shared", algorithm="HS256"), id="hs256"),
        pytest.param(lambda: token(exp=int(time.time()) - 1), id="expired"),
        pytest.param(lambda: token(nbf=int(time.time()) + 300), id="not-yet-valid"),
        pytest.param(lambda: token(iat=int(time.time()) + 300), id="issued-in-future"),
        pytest.param(lambda: token(client_id="other-client"), id="wrong-audience"),
        pytest.param(lambda: token(client_id=None), id="no-audience"),
        pytest.param(lambda: token(iss="https://cognito-idp.us-east-1.amazonaws.com/other"), id="wrong-issuer"),
        pytest.param(lambda: "not.a.jwt", id="malformed"),
        pytest.param(lambda: "", id="missing"),
    ],
)
def test_forged_or_invalid_token_is_unauthorized(forged):
    with pytest.raises(Unauthorized):
        authorize(f"Bearer {forged()}")


def test_missing_header_is_unauthorized():
    with pytest.raises(Unauthorized):
        AUTHORIZER.authorize({})


def test_a_token_is_verified_once_and_its_expiry_still_checked_at_every_use(monkeypatch):
    # Given an authorizer that has accepted a token living two more seconds
    authorizer = JwtAuthorizer(JwtAuthorizerConfig("auth", ISSUER, (CLIENT_ID,)), JwksCache(jwks))
    short_lived = token(exp=int(time.time()) + 2)
    assert authorizer.authorize({"authorization": short_lived})["sub"] == "u1"
    verifications = []
    decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *args, **kwargs: verifications.append(1) or decode(*args, **kwargs))
    # When it is presented again, Then it is accepted without verifying its signature again
    assert authorizer.authorize({"authorization": f"Bearer {short_lived}"})["sub"] == "u1"
    assert verifications == []
    # And a token differing only in its signature is verified (and refused)
    header, payload, _ = short_lived.split(".")
    _, _, other_signature = token(key=OTHER_KEY).split(".")
    with pytest.raises(Unauthorized):
        authorizer.authorize({"authorization": f"{header}.{payload}.{other_signature}"})
    # And once it has expired (PyJWT reads the real clock: wait for it) it is refused as an expired token is
    expires_at = jwt.decode(short_lived, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires_at - time.time()) + 0.05)
    with pytest.raises(Unauthorized, match="expired"):
        authorizer.authorize({"authorization": short_lived})


def test_scopes_are_checked_at_every_use_of_a_verified_token():
    authorizer = JwtAuthorizer(JwtAuthorizerConfig("auth", ISSUER, (CLIENT_ID,)), JwksCache(jwks))
    reader = token(scope="pinhole/read")
    assert authorizer.authorize({"authorization": reader}, ("pinhole/read",))["sub"] == "u1"
    with pytest.raises(Unauthorized, match="scope"):
        authorizer.authorize({"authorization": reader}, ("pinhole/write",))
