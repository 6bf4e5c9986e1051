"""The cursor key is read from Secrets Manager at most once an hour per process, as Powertools' get_secret with
max_age=3600 read it before (pinhole.shared.secrets); a failed read is not cached."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from pinhole.shared.secrets import MAX_AGE_S, CursorKey
from pinhole.shared.settings import get_settings


class FakeSecretsManager:
    def __init__(self, *values: str | Exception) -> None:
        self.values = list(values)
        self.asked: list[str] = []

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.asked.append(SecretId)
        value = self.values.pop(0)
        if isinstance(value, Exception):
            raise value
        return {"ARN": SecretId, "SecretString": value}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_key_is_read_once_within_its_max_age() -> None:
    # Given a key in Secrets Manager
    secrets_manager, clock = FakeSecretsManager("first-key", "rotated-key"), Clock()
    key = CursorKey(secrets_manager, clock=clock)

    # When it is asked for three times within the hour
    seen = [key.value()]
    clock.now += MAX_AGE_S / 2
    seen.append(key.value())
    clock.now += MAX_AGE_S / 2 - 1
    seen.append(key.value())

    # Then Secrets Manager was asked once, for the cursor secret
    assert seen == [b"first-key"] * 3
    assert secrets_manager.asked == [get_settings().cursor_secret_arn]


def test_once_its_max_age_is_over_a_rotated_key_is_read_again() -> None:
    # Given a key read once
    secrets_manager, clock = FakeSecretsManager("first-key", "rotated-key"), Clock()
    key = CursorKey(secrets_manager, clock=clock)
    key.value()

    # When the hour is over
    clock.now += MAX_AGE_S

    # Then the key is read again
    assert key.value() == b"rotated-key"
    assert len(secrets_manager.asked) == 2


def test_a_failed_read_is_not_cached() -> None:
    # Given Secrets Manager throttling the first read
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetSecretValue")
    secrets_manager = FakeSecretsManager(throttled, "the-key")
    key = CursorKey(secrets_manager, clock=Clock())

    # When the key is asked for, then again
    with pytest.raises(ClientError):
        key.value()

    # Then the second request reads it
    assert key.value() == b"the-key"
    assert len(secrets_manager.asked) == 2
