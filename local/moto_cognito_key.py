"""moto's Cognito without importing its signing key again for every user pool.

moto gives every user pool the same RSA key, a JWK shipped with moto (cognitoidp/resources/jwks-private.json),
and imports it again in each `CognitoIdpUserPool.__init__`: cryptography checks the private key on every
import, about 0.1 s of CPU — measured, 40% of the CPU of the integration tests' `aws` fixture, which makes a
pool for every test. Here moto's own key file is imported once and that key serves every pool: the same
file makes the same key, and a pool only signs and verifies with it. Any other key is imported as joserfc
does. Source: moto 5.2.5 `CognitoIdpUserPool.__init__` (cognitoidp/models.py), checked at install by
fingerprint."""

from __future__ import annotations

import hashlib
import inspect
from functools import cached_property
from typing import Any

from joserfc import jwk
from moto.cognitoidp import models as cognito_models
from moto.utilities.utils import load_resource

MOTO_KEY_FILE = "cognitoidp/resources/jwks-private.json"
# What the replacement relies on (the pool imports MOTO_KEY_FILE with `jwk.RSAKey.import_key`): a change fails
# the install.
FINGERPRINT = "1c8d864a15c3f0dd"


class MotoCognitoKeyChanged(RuntimeError):
    """moto's user pool no longer gets its key the way this module was written against."""


class _RSAKeyImportedOnce:
    """`jwk.RSAKey` as moto's Cognito models call it: moto's key file answered with one key."""

    @cached_property
    def _moto_key_file(self) -> Any:
        return load_resource(MOTO_KEY_FILE)

    @cached_property
    def _moto_key(self) -> jwk.RSAKey:
        return jwk.RSAKey.import_key(self._moto_key_file)

    def import_key(self, value: Any, *args: Any, **kwargs: Any) -> jwk.RSAKey:
        if not args and not kwargs and value == self._moto_key_file:
            return self._moto_key
        return jwk.RSAKey.import_key(value, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(jwk.RSAKey, name)


class _JwkForMotoCognito:
    """`joserfc.jwk` as moto's Cognito models see it, with RSAKey's import of moto's key done once."""

    def __init__(self) -> None:
        self.RSAKey = _RSAKeyImportedOnce()

    def __getattr__(self, name: str) -> Any:
        return getattr(jwk, name)


def current_fingerprint() -> str:
    return hashlib.sha256(inspect.getsource(cognito_models.CognitoIdpUserPool.__init__).encode()).hexdigest()[:16]


def install() -> None:
    """Idempotent; process-wide (moto's Cognito in process and in the local cloud)."""
    if isinstance(cognito_models.jwk, _JwkForMotoCognito):
        return
    if current_fingerprint() != FINGERPRINT:
        raise MotoCognitoKeyChanged("local/moto_cognito_key.py: moto's CognitoIdpUserPool.__init__ changed; re-check")
    cognito_models.jwk = _JwkForMotoCognito()  # type: ignore[assignment]


if __name__ == "__main__":
    print(f'FINGERPRINT = "{current_fingerprint()}"')
