"""Verifying a Cognito access token ourselves, where no API Gateway JWT authorizer does it for us
(the WebSocket API's `$connect`): the same rules — RS256 with a key of the pool's JWKS, not expired,
the pool as issuer, an access token of this app's client."""

from dataclasses import dataclass
from functools import lru_cache

import jwt

from pinhole.shared import aws_clients
from pinhole.shared.caller import Caller
from pinhole.shared.errors import Unauthorized
from pinhole.shared.settings import get_settings

JWKS_CACHE_S = 6 * 60 * 60  # Cognito rotates signing keys rarely; an unknown `kid` refetches at once


def issuer() -> str:
    settings = get_settings()
    return f"https://cognito-idp.{settings.region}.amazonaws.com/{settings.user_pool_id}"


@lru_cache(maxsize=1)
def _jwks() -> jwt.PyJWKClient:
    # Where a Cognito client would reach Cognito (botocore's endpoint resolution honours AWS_ENDPOINT_URL*, so a
    # local stand-in serves the keys too); on AWS this is the issuer's own /.well-known/jwks.json.
    endpoint = aws_clients.client("cognito-idp", region_name=get_settings().region).meta.endpoint_url
    return jwt.PyJWKClient(
        f"{endpoint.rstrip('/')}/{get_settings().user_pool_id}/.well-known/jwks.json", lifespan=JWKS_CACHE_S
    )


@dataclass(frozen=True)
class VerifiedToken:
    caller: Caller
    issued_at: int | None  # `iat`, epoch s
    origin_jti: str | None = None  # the session (log-in) it belongs to


def verify_access_token(token: str) -> VerifiedToken:
    """The caller the token vouches for, and when it was issued; or Unauthorized."""
    try:
        key = _jwks().get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token, key.key, algorithms=["RS256"], issuer=issuer(), options={"require": ["exp", "iss", "sub"]}
        )
    except jwt.PyJWTError as error:
        raise Unauthorized("The token is not valid.") from error
    if claims.get("token_use") != "access" or claims.get("client_id") != get_settings().user_pool_client_id:
        raise Unauthorized("The token is not an access token of this app.")
    caller = Caller(user_id=str(claims["sub"]), username=str(claims.get("username", "")))
    origin_jti = claims.get("origin_jti")
    return VerifiedToken(
        caller,
        claims["iat"] if isinstance(claims.get("iat"), int) else None,
        str(origin_jti) if origin_jti else None,
    )
