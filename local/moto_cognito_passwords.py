"""moto's Cognito taking the long passwords Cognito takes.

moto 5.2.5's `CognitoIdpBackend._validate_password` refuses every password of 99 characters or more with
`InvalidPasswordException`: it reads a `MaximumLength` (default 99, compared with `<`) that no Cognito policy has
(a pool's policy sets the minimum and the character classes). Cognito's bound is its API's: a password of up to 256
characters (botocore's `PasswordType`), whatever the policy; a longer one is a malformed request
(`InvalidParameterException`). So the local cloud and the integration tests refused at sign-up, change and reset
the long passwords a password manager makes, which AWS takes and the API document promises (`maxLength` 256).

Here the same check with Cognito's bound; everything else is moto's (its defaults for a pool without a policy, the
minimum, the classes and its list of symbols). moto's method is fingerprinted: another moto stops the install with
`MotoCognitoPasswordsChanged`, to be checked against the new source."""

from __future__ import annotations

import hashlib
import inspect
import re
from typing import Any

from moto.cognitoidp import models as cognito_models
from moto.cognitoidp.exceptions import InvalidParameterException, InvalidPasswordException

COGNITO_MAX_PASSWORD_LENGTH = 256
"""The longest password Cognito's API takes (botocore's cognito-idp `PasswordType`: `max` 256)."""
FINGERPRINT = "e647fd188c973dd8"
# moto's symbols, as its `_validate_password` lists them (Cognito's, and a space)
_SYMBOLS = set("^ $ * . [ ] { } ( ) ? \" ! @ # % & / \\ , > < ' : ; | _ ~ ` = + -")

_MOTOS_OWN: list[Any] = []


class MotoCognitoPasswordsChanged(RuntimeError):
    """moto's password check is not the one this module was written against."""


def current_fingerprint() -> str:
    source = inspect.getsource(_MOTOS_OWN[0] if _MOTOS_OWN else cognito_models.CognitoIdpBackend._validate_password)
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def validate_password(self: Any, user_pool_id: str, password: str) -> None:
    """moto's check of a password against its pool's policy, with Cognito's longest password instead of 98."""
    if len(password) > COGNITO_MAX_PASSWORD_LENGTH:
        raise InvalidParameterException(
            f"1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length "
            f"less than or equal to {COGNITO_MAX_PASSWORD_LENGTH}"
        )
    policy = self.describe_user_pool(user_pool_id).extended_config.get("Policies", {}).get("PasswordPolicy", {})
    rules = [
        len(password) >= policy.get("MinimumLength", 5),
        not policy.get("RequireNumbers", True) or bool(re.search(r"\d", password)),
        not policy.get("RequireSymbols", True) or any(character in _SYMBOLS for character in password),
        not policy.get("RequireUppercase", True) or bool(re.search(r"[A-Z]", password)),
        not policy.get("RequireLowercase", True) or bool(re.search(r"[a-z]", password)),
    ]
    if not all(rules):
        raise InvalidPasswordException()


def install() -> None:
    """Idempotent; process-wide (moto's Cognito in process and in the local cloud)."""
    if _MOTOS_OWN:
        return
    if current_fingerprint() != FINGERPRINT:
        raise MotoCognitoPasswordsChanged(
            "local/moto_cognito_passwords.py: moto's CognitoIdpBackend._validate_password changed; re-check"
        )
    _MOTOS_OWN.append(cognito_models.CognitoIdpBackend._validate_password)
    cognito_models.CognitoIdpBackend._validate_password = validate_password  # type: ignore[method-assign]


if __name__ == "__main__":
    print(f'FINGERPRINT = "{current_fingerprint()}"')
