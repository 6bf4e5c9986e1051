from datetime import UTC, datetime

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from pinhole.auth.models import SignUpRequest
from pinhole.push.models import DeviceRegistration
from pinhole.shared.clock import to_iso
from pinhole.users.models import Email, ProfileUpdate


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


@settings(max_examples=500, deadline=None)
@given(
    address=st.builds(
        "{}@{}.{}".format,
        *[st.text(st.characters(codec="utf-8"), min_size=1, max_size=4) | st.sampled_from(["a", "b\x1c", "\x85"])] * 3,
    )
    | st.text(max_size=12)
)
def test_the_document_and_the_server_take_the_same_e_mail_addresses(address: str) -> None:
    # Given an address as the document reads it (ECMAScript, whose \s is not Python's) and as the server does
    document = jsonschema_rs.validator_for(TypeAdapter(Email).json_schema())
    try:
        TypeAdapter(Email).validate_python(address)
        taken = True
    except ValidationError:
        taken = False

    # Then they agree, but for blanks around it, which the server trims (the document reads what is sent)
    if address == address.strip():
        assert document.is_valid(address) == taken, address
    else:
        assert taken or not document.is_valid(address), address


@settings(max_examples=300, deadline=None)
@given(
    platform=st.sampled_from(["apns", "apns_sandbox", "fcm", "windows"]),
    token=st.sampled_from(["ab" * 32, "ab" * 32 + "\n", "fcm-token:" + "Zq9_" * 12, "short", "ab" * 101])
    | st.text(max_size=80),
)
def test_the_document_and_the_server_take_the_same_device_registrations(platform: str, token: str) -> None:
    # Given a registration as the document reads it (its anyOf of platform and token shape) and as the server does
    registration = {"platform": platform, "token": token}
    document = jsonschema_rs.validator_for(DeviceRegistration.model_json_schema())
    try:
        DeviceRegistration.model_validate(registration)
        taken = True
    except ValidationError:
        taken = False

    # Then they agree
    assert document.is_valid(registration) == taken, registration
