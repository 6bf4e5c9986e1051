"""Sign-up is all or nothing: the collaborators are in-memory fakes, so each failure is injected exactly."""

import pytest

from pinhole.auth import logic
from pinhole.auth.models import SignUpRequest
from pinhole.shared.errors import UsernameTaken, ValidationFailed
from pinhole.users.models import Profile


class FakeIdentity:
    def __init__(self) -> None:
        self.users: dict[str, str] = {}

    def create_user(self, username: str, email: str, password: str) -> str:
        if username in self.users:
            raise UsernameTaken(f"The username {username} is taken.")
        self.users[username] = f"sub-{username}"
        return self.users[username]

    def delete_user(self, username: str) -> None:
        del self.users[username]


class FakeProfiles:
    def __init__(self, fail_with: Exception | None = None) -> None:
        self.saved: list[Profile] = []
        self.fail_with = fail_with

    def create(self, profile: Profile) -> None:
        if self.fail_with:
            raise self.fail_with
        self.saved.append(profile)


def request(username: str = "alice", password: str = "Correct-Horse-9") -> SignUpRequest:
    return SignUpRequest(username=username, email=f"{username}@example.com", password=password)


def test_sign_up_creates_identity_and_profile_with_default_display_name() -> None:
    identity, profiles = FakeIdentity(), FakeProfiles()

    me = logic.sign_up(request(), identity, profiles)  # type: ignore[arg-type]

    assert identity.users == {"alice": "sub-alice"}
    assert [p.user_id for p in profiles.saved] == ["sub-alice"]
    assert (me.user_id, me.display_name, me.email) == ("sub-alice", "alice", "alice@example.com")


def test_sign_up_undoes_the_identity_when_the_profile_cannot_be_written() -> None:
    identity, profiles = FakeIdentity(), FakeProfiles(fail_with=RuntimeError("DynamoDB unavailable"))

    with pytest.raises(RuntimeError):
        logic.sign_up(request(), identity, profiles)  # type: ignore[arg-type]

    assert identity.users == {}


def test_sign_up_weak_password_touches_nothing() -> None:
    identity, profiles = FakeIdentity(), FakeProfiles()

    with pytest.raises(ValidationFailed) as raised:
        logic.sign_up(request(password="weak"), identity, profiles)  # type: ignore[arg-type]

    assert raised.value.details and all(d["field"] == "password" for d in raised.value.details)
    assert identity.users == {} and profiles.saved == []
