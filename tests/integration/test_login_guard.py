"""Password guessing is slowed per account and source address, and nobody's guesses lock the owner out
(pinhole.auth.login_guard, docs/SECURITY.md "Log-in guessing"), through the auth handler on moto, with the
source address API Gateway puts in `requestContext.http.sourceIp`. Limits as in cdk.json: 5 failures per
account and source in 15 minutes; past 20 failures on an account in 15 minutes, unfamiliar sources are
slowed to one attempt a minute."""

from typing import Any

import pytest

from functions.auth import handler as auth
from pinhole.auth import logic
from pinhole.auth.login_guard import LoginGuard
from pinhole.auth.models import LoginRequest
from pinhole.shared.errors import InvalidCredentials, RateLimited
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.faults import Fault, injected_faults
from tests.support.users import PASSWORD, sign_up_claims

OWNER_HOME = "203.0.113.7"
ATTACKER = "198.51.100.66"


@pytest.fixture
def alice(aws: dict[str, str]) -> str:
    return sign_up_claims("alice")["username"]


def log_in(username: str, password: str, source: str) -> tuple[int, dict[str, str], Any]:
    event = http_event("POST", "/auth/login", body={"username": username, "password": password})
    event["requestContext"]["http"]["sourceIp"] = source
    response = auth.handler(event, FakeLambdaContext())
    return response["statusCode"], response.get("headers") or {}, response_json(response)


def status(username: str, password: str, source: str) -> int:
    return log_in(username, password, source)[0]


def guess(n: int) -> str:
    return f"Guess-{n}-Aa"


def test_an_attacker_is_stopped_at_his_address_and_the_owner_logs_in_from_hers(alice: str) -> None:
    # Given someone guessing alice's password from one address, five times
    guesses = [status(alice, guess(n), ATTACKER) for n in range(5)]

    # When he tries again — even with the right password — and alice logs in from her own address
    refused = log_in(alice, PASSWORD, ATTACKER)
    owner = status(alice, PASSWORD, OWNER_HOME)

    # Then his guesses were 401s, his next attempt is refused before the password is checked, and she is in
    assert guesses == [401] * 5
    code, headers, body = refused
    assert code == 429 and body["error"]["code"] == "rate_limited"
    assert 1 <= int(headers["Retry-After"]) <= 900
    assert owner == 200


def test_only_failures_count_so_the_owner_logs_in_as_often_as_she_likes(alice: str) -> None:
    # Given alice logging in again and again from her address (the old rule allowed 10 attempts in 5 minutes)
    statuses = [status(alice, PASSWORD, OWNER_HOME) for _ in range(12)]

    # Then every one succeeds, and a typo afterwards is just a 401
    assert statuses == [200] * 12
    assert status(alice, "Typo-Pass-1", OWNER_HOME) == 401


def test_the_owners_own_typos_count_against_her_address_only(alice: str) -> None:
    # Given alice mistyping five times at home
    assert [status(alice, guess(n), OWNER_HOME) for n in range(5)] == [401] * 5

    # Then home waits out the window, and her phone on another network logs in
    assert status(alice, PASSWORD, OWNER_HOME) == 429
    assert status(alice, PASSWORD, "192.0.2.44") == 200


def test_addresses_of_one_ipv6_network_count_as_one_source(alice: str) -> None:
    # Given guesses from five addresses of one /64 (a single subscriber line)
    assert [status(alice, guess(n), f"2001:db8:1:2::{n + 1:x}") for n in range(5)] == [401] * 5

    # Then a sixth address of that /64 is refused, another /64 is not
    assert status(alice, guess(5), "2001:db8:1:2::99") == 429
    assert status(alice, guess(6), "2001:db8:1:3::1") == 401


def test_a_distributed_attack_slows_unfamiliar_sources_but_never_locks_the_owner_out(alice: str) -> None:
    # Given alice's phone, which she has logged in from, and then guesses from 20 addresses (one each)
    assert status(alice, PASSWORD, OWNER_HOME) == 200
    assert [status(alice, guess(n), f"198.18.0.{n + 1}") for n in range(20)] == [401] * 20

    # When a new address guesses twice in a row, and alice logs in from home and from a hotel she never used
    first_new, second_new = status(alice, guess(99), "198.18.1.1"), status(alice, guess(98), "198.18.1.1")
    home = [status(alice, PASSWORD, OWNER_HOME) for _ in range(3)]
    hotel = status(alice, PASSWORD, "192.0.2.200")

    # Then the new address gets one try a minute; at home she is not slowed at all; at the hotel she is in,
    # on her first try (slowed, not locked)
    assert (first_new, second_new) == (401, 429)
    assert home == [200, 200, 200]
    assert hotel == 200


def test_another_account_is_not_affected_by_an_attack_on_alice(alice: str) -> None:
    sign_up_claims("bob")
    assert [status(alice, guess(n), f"198.18.0.{n + 1}") for n in range(20)] == [401] * 20
    assert [status("bob", PASSWORD, "198.18.0.1") for _ in range(2)] == [200, 200]


def test_an_attempt_cognito_throttled_is_not_counted_as_a_failure(alice: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Cognito throttling alice's first five attempts from home (503s)
    with injected_faults(monkeypatch) as faults:
        faults.add(Fault("cognito-idp", "InitiateAuth", "TooManyRequestsException", times=5))
        throttled = [status(alice, guess(n), OWNER_HOME) for n in range(5)]

    # Then none of them used up her address's allowance: five real failures still get their 401
    assert throttled == [503] * 5
    assert [status(alice, guess(n), OWNER_HOME) for n in range(5)] == [401] * 5


def test_a_refused_source_may_try_again_once_its_window_ends(alice: str) -> None:
    # Given an address that failed five times, on a clock the test moves (at 1,000,000 s the 15-minute window
    # in force ends at 1,000,800 s)
    now = [1_000_000.0]
    guard = LoginGuard(clock=lambda: now[0])

    def attempt(password: str) -> str:
        try:
            logic.log_in(LoginRequest(username=alice, password=password), ATTACKER, guard=guard)
        except InvalidCredentials:
            return "wrong"
        except RateLimited as refused:
            return f"refused for {refused.retry_after_s} s"
        return "in"

    assert [attempt(guess(n)) for n in range(5)] == ["wrong"] * 5

    # When it tries at once, and again after the 15-minute window
    refused = attempt(PASSWORD)
    now[0] += 900
    later = attempt(PASSWORD)

    # Then it is refused until the window ends, and then it is heard
    assert refused == "refused for 800 s"
    assert later == "in"
