from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from pinhole.auth.models import SignUpRequest
from pinhole.shared.clock import to_iso
from pinhole.users.models import ProfileUpdate


def test_username_is_stored_lower_case_and_trimmed() -> None:
    request = SignUpRequest(username=" Ada.Lovelace_1 ", email="ADA@Example.com", password="x")

    assert (request.username, request.email) == ("ada.lovelace_1", "ada@example.com")


@pytest.mark.parametrize("username", ["ab", "a" * 31, "with-dash", "émile", "a b", ""])
def test_username_outside_the_alphabet_or_length_is_refused(username: str) -> None:
    with pytest.raises(ValidationError):
        SignUpRequest(username=username, email="a@example.com", password="x")


def test_profile_update_keeps_only_given_fields() -> None:
    assert ProfileUpdate(bio="hello").changes() == {"bio": "hello"}
    assert ProfileUpdate().changes() == {}


@pytest.mark.parametrize("payload", [{"follower_count": 1}, {"bio": "x" * 151}, {"is_private": "true"}])
def test_profile_update_refuses_foreign_or_invalid_fields(payload: dict) -> None:
    with pytest.raises(ValidationError):
        ProfileUpdate.model_validate(payload)


def test_timestamps_are_iso_utc_with_milliseconds_and_z() -> None:
    assert to_iso(datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)) == "2026-11-22T10:00:00.123Z"
