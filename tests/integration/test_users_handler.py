from typing import Any

import pytest

from functions.auth import handler as auth
from functions.users import handler as users
from tests.support.events import FakeLambdaContext, http_event, response_json


@pytest.fixture
def alice(aws: dict[str, str]) -> dict[str, str]:
    body = {"username": "alice", "email": "alice@example.com", "password": "Correct-Horse-9"}
    response = auth.handler(http_event("POST", "/auth/signup", body=body), FakeLambdaContext())
    user = response_json(response)["user"]
    return {"sub": user["user_id"], "username": user["username"]}


def call(method: str, path: str, claims: dict[str, str] | None, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    event = http_event(method, path, claims=claims, body=body, **kwargs)
    response = users.handler(event, FakeLambdaContext())
    return response["statusCode"], response_json(response)


def test_get_me_returns_own_profile_with_email(alice: dict[str, str]) -> None:
    status, body = call("GET", "/me", alice)

    assert status == 200
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["followed_by_me"] is False


def test_an_id_token_does_not_speak_for_a_caller(alice: dict[str, str]) -> None:
    # Given Alice's id token claims (the HTTP API's authorizer accepts them: their `aud` is the app client)
    id_token_claims = {**alice, "token_use": "id"}

    # When it is used on a private route
    status, body = call("GET", "/me", id_token_claims)

    # Then only an access token will do
    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_patch_me_changes_only_the_given_fields(alice: dict[str, str]) -> None:
    status, body = call("PATCH", "/me", alice, {"bio": "Light chaser", "is_private": True})

    assert status == 200
    assert (body["bio"], body["is_private"], body["display_name"]) == ("Light chaser", True, "alice")
    assert call("GET", "/me", alice)[1]["bio"] == "Light chaser"


@pytest.mark.parametrize(
    "blank",
    ["", "   ", "\u00a0\t", "\u200b", "\u200b\u200d", "\u3164", "\u2800"],
    ids=["empty", "spaces", "nbsp-tab", "zero-width-space", "zero-width-joined", "hangul-filler", "braille-blank"],
)
def test_an_empty_display_name_shows_the_username_as_at_sign_up(alice: dict[str, str], blank: str) -> None:
    # Given a display name of her own
    assert call("PATCH", "/me", alice, {"display_name": "Alice A."})[1]["display_name"] == "Alice A."

    # When she empties it
    status, body = call("PATCH", "/me", alice, {"display_name": blank})

    # Then her username is her name again, on her profile and wherever she shows
    assert (status, body["display_name"]) == (200, "alice")
    assert call("GET", "/users/alice", alice)[1]["display_name"] == "alice"
    from pinhole.users.dal import ProfileRepository

    assert ProfileRepository().get_consistent(alice["sub"]).display_name == "alice"
    # while a name that draws something, a joiner inside it too, stays hers
    assert call("PATCH", "/me", alice, {"display_name": "👩\u200d💻 Al"})[1]["display_name"] == "👩\u200d💻 Al"


@pytest.mark.parametrize(
    "patch",
    [
        {"bio": "x" * 151},
        {"follower_count": 10**6},
        {"email": "not-an-address"},
        {"is_private": "yes"},
        {"username": "root"},
        {"display_name": "Ali\u0000ce"},
        {"display_name": "Alice\nSmith"},
        {"bio": "\u001b[31mred"},
    ],
    ids=[
        "bio-too-long",
        "counter",
        "malformed-email",
        "not-bool",
        "username",
        "nul-in-name",
        "two-line-name",
        "escape",
    ],
)
def test_patch_me_refuses_invalid_or_foreign_fields_and_keeps_the_profile(
    alice: dict[str, str], patch: dict[str, Any]
) -> None:
    status, body = call("PATCH", "/me", alice, patch)

    assert status == 422
    assert body["error"]["code"] == "validation_error"
    profile = call("GET", "/me", alice)[1]
    assert (profile["bio"], profile["follower_count"], profile["email"]) == ("", 0, "alice@example.com")


@pytest.mark.parametrize(
    "raw",
    [b'{"bio": "caf\xe9"}', b'{"bio": "\xff\xfe"}', b'{"bio": "\xed\xa0\x80"}'],
    ids=["latin-1", "ff-fe", "surrogate"],
)
def test_a_patch_that_is_not_utf8_is_refused_and_the_bio_stays_as_it_was(alice: dict[str, str], raw: bytes) -> None:
    # Given a bio
    assert call("PATCH", "/me", alice, {"bio": "café"})[0] == 200

    # When a body that is not UTF-8 arrives (as the local cloud passes it: base64-encoded, byte for byte)
    status, body = call("PATCH", "/me", alice, raw_body=raw)

    # Then it is refused as JSON that cannot be read, and the bio is the one she wrote, not one with U+FFFD
    assert (status, body["error"]["code"]) == (422, "validation_error")
    (detail,) = body["error"]["details"]
    assert (detail["field"], detail["type"]) == ("body", "json_invalid")
    assert detail["message"].startswith("The body is not valid UTF-8")
    assert call("GET", "/me", alice)[1]["bio"] == "café"


def test_a_bio_keeps_its_line_breaks_and_tabs_and_a_name_any_letter_or_emoji(alice: dict[str, str]) -> None:
    written = {"bio": "Light chaser\r\nOslo\t\u2600\ufe0f", "display_name": "Ålice \u00a0\U0001f4f7"}

    status, body = call("PATCH", "/me", alice, written)

    assert status == 200, body
    assert {name: call("GET", "/me", alice)[1][name] for name in written} == written


def test_get_user_by_username_any_case_hides_email(alice: dict[str, str]) -> None:
    status, body = call(
        "GET", "/users/Alice", alice, route_key="GET /users/{username}", path_parameters={"username": "Alice"}
    )

    assert status == 200
    assert body["username"] == "alice"
    assert "email" not in body


def test_get_unknown_user_returns_404_envelope(alice: dict[str, str]) -> None:
    status, body = call(
        "GET", "/users/nobody", alice, route_key="GET /users/{username}", path_parameters={"username": "nobody"}
    )

    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_private_route_without_claims_returns_401_envelope(aws: dict[str, str]) -> None:
    status, body = call("GET", "/me", None)

    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_an_edit_of_a_profile_a_transaction_holds_is_a_503_to_retry(alice: dict[str, str]) -> None:
    # Given DynamoDB as consistent as AWS's, and a transaction in flight on Alice's profile (a follow)
    from moto.dynamodb.models import dynamodb_backends

    from local.fast_dynamodb import Consistency, configure, transactions
    from pinhole.shared.settings import get_settings

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    configure(Consistency("eventual"))
    try:
        with transactions.held(backend, get_settings().users_table_name, {"user_id": {"S": alice["sub"]}}):
            # When she edits her profile (DynamoDB refuses the write: TransactionConflictException)
            status, body = call("PATCH", "/me", alice, {"bio": "edited"})
    finally:
        configure(Consistency())

    # Then she is told to retry in a moment, as for throttling, not that something broke
    assert status == 503, body
    assert body["error"]["code"] == "unavailable"
