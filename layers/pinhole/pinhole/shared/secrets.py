"""Secrets, fetched once per container and cached (Powertools parameters), never put in environment
variables where anyone who may read a function's configuration would see them."""

from aws_lambda_powertools.utilities.parameters import get_secret

from pinhole.shared.settings import get_settings

_MAX_AGE_S = 3600


def cursor_secret() -> bytes:
    """The key that makes page cursors tamper-evident (pinhole.shared.cursor)."""
    return str(get_secret(get_settings().cursor_secret_arn, max_age=_MAX_AGE_S)).encode()
