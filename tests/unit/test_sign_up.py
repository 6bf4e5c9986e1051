"""Sign-up is all or nothing: the collaborators are in-memory fakes, so each failure is injected exactly."""

import pytest

from pinhole.auth import logic
from pinhole.auth.models import SignUpRequest
from pinhole.shared.errors import RateLimited, UsernameTaken, ValidationFailed
from pinhole.shared.network import source_network
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


ADDRESS = "198.51.100.7"


class FakeLimiter:
    """Counts attempts per key; refuses once `limit` are counted."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self.counted: list[tuple[str, str]] = []

    def count(self, key: str, action: str) -> None:
        if sum(1 for counted in self.counted if counted == (key, action)) >= self.limit:
            raise RateLimited("Too many signups.", retry_after_s=42)
        self.counted.append((key, action))


def request(username: str = "alice", password: str = "Correct-Horse-9") -> SignUpRequest:
    return SignUpRequest(username=username, email=f"{username}@example.com", password=password)


def test_sign_up_creates_identity_and_profile_with_default_display_name() -> None:
    identity, profiles = FakeIdentity(), FakeProfiles()

    me = logic.sign_up(request(), ADDRESS, identity, profiles, count_attempt=FakeLimiter().count)  # type: ignore[arg-type]

    assert identity.users == {"alice": "sub-alice"}
    assert [p.user_id for p in profiles.saved] == ["sub-alice"]
    assert (me.user_id, me.display_name, me.email) == ("sub-alice", "alice", "alice@example.com")


def test_sign_up_undoes_the_identity_when_the_profile_cannot_be_written() -> None:
    identity, profiles = FakeIdentity(), FakeProfiles(fail_with=RuntimeError("DynamoDB unavailable"))

    with pytest.raises(RuntimeError):
        logic.sign_up(request(), ADDRESS, identity, profiles, count_attempt=FakeLimiter().count)  # type: ignore[arg-type]

    assert identity.users == {}


def test_sign_up_weak_password_touches_nothing() -> None:
    identity, profiles = FakeIdentity(), FakeProfiles()

    with pytest.raises(ValidationFailed) as raised:
        logic.sign_up(request(password="weak"), ADDRESS, identity, profiles, count_attempt=FakeLimiter().count)  # type: ignore[arg-type]

    assert raised.value.details and all(d["field"] == "password" for d in raised.value.details)
    assert identity.users == {} and profiles.saved == []


@pytest.mark.parametrize("username", ["deleted.account", "deleted_account", "admin", "support", "pinhole"])
def test_a_reserved_name_is_taken_already_and_touches_nothing(username: str) -> None:
    identity, profiles = FakeIdentity(), FakeProfiles()

    with pytest.raises(UsernameTaken) as raised:
        logic.sign_up(request(username), ADDRESS, identity, profiles, count_attempt=FakeLimiter().count)  # type: ignore[arg-type]

    assert raised.value.message == f"The username {username} is reserved: choose another."
    assert identity.users == {} and profiles.saved == []


def test_every_attempt_counts_against_its_source_address_even_one_that_fails() -> None:
    # Given a limiter, and two attempts from one address (the second with a weak password)
    identity, profiles, limiter = FakeIdentity(), FakeProfiles(), FakeLimiter()

    logic.sign_up(request("alice"), ADDRESS, identity, profiles, count_attempt=limiter.count)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        logic.sign_up(request("bob", "weak"), ADDRESS, identity, profiles, count_attempt=limiter.count)  # type: ignore[arg-type]

    # Then both were counted, under the address and the sign-up limit
    assert limiter.counted == [(ADDRESS, "signup"), (ADDRESS, "signup")]


def test_a_sign_up_over_the_address_limit_creates_nothing() -> None:
    # Given an address that has used up its sign-ups
    identity, profiles, limiter = FakeIdentity(), FakeProfiles(), FakeLimiter(limit=1)
    logic.sign_up(request("alice"), ADDRESS, identity, profiles, count_attempt=limiter.count)  # type: ignore[arg-type]

    # When another sign-up comes from it
    with pytest.raises(RateLimited) as refused:
        logic.sign_up(request("bob"), ADDRESS, identity, profiles, count_attempt=limiter.count)  # type: ignore[arg-type]

    # Then it is refused with a retry time, and no identity nor profile exists for it
    assert refused.value.retry_after_s == 42
    assert list(identity.users) == ["alice"] and [p.username for p in profiles.saved] == ["alice"]


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),  # the same subscriber line: the same count
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("not an address", "not an address"),
    ],
)
def test_an_ipv6_address_counts_as_its_64_and_an_ipv4_address_as_itself(address: str, counted_as: str) -> None:
    assert source_network(address) == counted_as
