"""API Gateway's JWT authorizer, verifying Cognito tokens against moto's JWKS.

Rules as API Gateway applies them: RS256 only, `kid` from the issuer's JWKS, exp/nbf/iat, the
issuer equal to the authorizer's, and `aud` (ID tokens) or `client_id` (access tokens) among the
authorizer's audiences.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

LEEWAY_S = 0
VERIFIED_TOKENS_KEPT = 10_000


class Unauthorized(Exception):
    """The request carries no token, or a token API Gateway would refuse."""


@dataclass(frozen=True)
class JwtAuthorizerConfig:
    authorizer_id: str
    issuer: str
    audiences: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"


def claims_for_event(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway puts them in the event: every value a string, lists as `[a b]`."""
    rendered: dict[str, str] = {}
    for key, value in claims.items():
        if isinstance(value, list):
            rendered[key] = "[" + " ".join(str(item) for item in value) + "]"
        elif isinstance(value, bool):
            rendered[key] = str(value).lower()
        elif isinstance(value, dict):
            rendered[key] = json.dumps(value)
        else:
            rendered[key] = str(value)
    return rendered


class JwksCache:
    """Public keys per issuer, fetched from moto (not AWS) once and on an unknown `kid`."""

    def __init__(self, fetch_jwks: Callable[[str], dict[str, Any]]) -> None:
        self._fetch = fetch_jwks
        self._keys: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def key(self, issuer: str, kid: str) -> Any:
        with self._lock:
            keys = self._keys.get(issuer, {})
            if kid not in keys:
                jwks = self._fetch(issuer)
                keys = {jwk["kid"]: jwt.PyJWK(jwk, algorithm="RS256").key for jwk in jwks.get("keys", [])}
                self._keys[issuer] = keys
        if kid not in keys:
            raise Unauthorized("unknown signing key")
        return keys[kid]


class JwtAuthorizer:
    def __init__(self, config: JwtAuthorizerConfig, jwks: JwksCache) -> None:
        self.config = config
        self.jwks = jwks
        # token -> its claims, once the signature, issuer, audience, nbf and iat were checked: none of that can
        # change for a given token, so it is verified once (an RSA verification, ~0.3 ms here, was most of
        # the gateway's CPU per request); exp is checked at every use. Keyed by the whole token, signature
        # included: a forged token is another key. API Gateway caches what it may as well (the JWKS) and
        # does not look up revocation either.
        self._verified: dict[str, dict[str, Any]] = {}
        self._verified_lock = threading.Lock()

    def token_from(self, headers: dict[str, str]) -> str:
        source = self.config.identity_source
        header_name = source.removeprefix("$request.header.").lower()
        value = headers.get(header_name, "").strip()
        if not value:
            raise Unauthorized("missing token")
        # API Gateway accepts the token with or without the Bearer prefix.
        scheme, _, rest = value.partition(" ")
        return rest.strip() if scheme.lower() == "bearer" and rest else value

    def authorize(self, headers: dict[str, str], required_scopes: tuple[str, ...] = ()) -> dict[str, Any]:
        """The verified claims, or Unauthorized."""
        token = self.token_from(headers)
        claims = self._verified.get(token)
        if claims is None or claims["exp"] <= time.time() - LEEWAY_S:
            claims = self._verify(token)  # an expired token fails here, as it did when first verified
            with self._verified_lock:
                if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                    self._verified.pop(next(iter(self._verified)))  # the oldest
                self._verified[token] = claims
        if required_scopes:
            granted = str(claims.get("scope", "")).split()
            if not any(scope in granted for scope in required_scopes):
                raise Unauthorized("insufficient scope")
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized("malformed token") from error
        if header.get("alg") != "RS256":
            raise Unauthorized("unsupported algorithm")
        key = self.jwks.key(self.config.issuer, str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.config.issuer,
                leeway=LEEWAY_S,
                options={"verify_aud": False, "require": ["exp", "iss"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(str(error)) from error
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(item in self.config.audiences for item in audiences):
            raise Unauthorized("audience not allowed")
        return claims
