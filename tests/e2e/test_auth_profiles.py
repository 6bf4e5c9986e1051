"""Sign up, log in, read and patch the profile — and every error case — with a real HTTP client over a
socket against the local cloud, exactly as a mobile client would."""

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.support.api_client import from_own_address, own_address

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-9"


def new_username() -> str:
    return f"u{uuid.uuid4().hex[:12]}"


def sign_up(http: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    return http.post(
        "/auth/signup",
        json={"username": username, "email": f"{username}@example.com", "password": password},
        headers=from_own_address(),
    )


def log_in(http: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = http.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


def test_sign_up_log_in_read_and_patch_profile(local_cloud: Any) -> None:
    http, username = local_cloud.http, new_username()

    created = sign_up(http, username.upper())
    tokens = log_in(http, username)
    me = http.get("/me", headers=bearer(tokens["access_token"]))
    patched = http.patch("/me", headers=bearer(tokens["access_token"]), json={"bio": "hello", "is_private": True})
    public = http.get(f"/users/{username}", headers=bearer(tokens["access_token"]))

    assert created.status_code == 201, created.text
    assert created.json()["user"]["username"] == username
    assert me.status_code == 200 and me.json()["email"] == f"{username}@example.com"
    assert patched.status_code == 200 and (patched.json()["bio"], patched.json()["is_private"]) == ("hello", True)
    assert public.status_code == 200 and public.json()["bio"] == "hello" and "email" not in public.json()


def test_refresh_token_gives_a_working_access_token(local_cloud: Any) -> None:
    http, username = local_cloud.http, new_username()
    sign_up(http, username)
    tokens = log_in(http, username)

    refreshed = http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert refreshed.status_code == 200, refreshed.text
    assert http.get("/me", headers=bearer(refreshed.json()["access_token"])).status_code == 200


def test_taken_username_gives_409_and_the_first_account_still_works(local_cloud: Any) -> None:
    http, username = local_cloud.http, new_username()
    sign_up(http, username)

    again = http.post(
        "/auth/signup",
        json={"username": username, "email": "other@example.com", "password": "Another-Pass-1"},
        headers=from_own_address(),
    )

    assert_envelope(again, 409, "username_taken")
    assert log_in(http, username)["access_token"]
    assert http.post("/auth/login", json={"username": username, "password": "Another-Pass-1"}).status_code == 401


def test_weak_password_gives_422_and_creates_nothing(local_cloud: Any) -> None:
    http, username = local_cloud.http, new_username()

    weak = sign_up(http, username, password="password")

    assert_envelope(weak, 422, "validation_error")
    assert {detail["field"] for detail in weak.json()["error"]["details"]} == {"password"}
    assert sign_up(http, username).status_code == 201  # the name was not taken by the failed attempt


@pytest.mark.parametrize(
    "payload",
    [{"username": "x", "email": "x@example.com", "password": PASSWORD}, {"username": "valid_name"}, "not json"],
    ids=["bad-username", "missing-fields", "not-json"],
)
def test_invalid_sign_up_gives_422_envelope(local_cloud: Any, payload: Any) -> None:
    http = local_cloud.http
    kwargs = (
        {"content": payload, "headers": {"content-type": "application/json"}}
        if isinstance(payload, str)
        else {"json": payload}
    )

    assert_envelope(http.post("/auth/signup", **kwargs), 422, "validation_error")


def test_wrong_password_gives_401_invalid_credentials(local_cloud: Any) -> None:
    http, username = local_cloud.http, new_username()
    sign_up(http, username)

    response = http.post("/auth/login", json={"username": username, "password": "Wrong-Password-1"})

    assert_envelope(response, 401, "invalid_credentials")


def test_mass_assignment_on_patch_me_is_refused(local_cloud: Any) -> None:
    http, username = local_cloud.http, new_username()
    sign_up(http, username)
    token = log_in(http, username)["access_token"]

    response = http.patch("/me", headers=bearer(token), json={"follower_count": 1_000_000})

    assert_envelope(response, 422, "validation_error")
    assert http.get("/me", headers=bearer(token)).json()["follower_count"] == 0


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"])
def test_missing_or_malformed_token_gives_401(local_cloud: Any, header: str | None) -> None:
    headers = {"authorization": header} if header else {}

    assert_envelope(local_cloud.http.get("/me", headers=headers), 401, "unauthorized")


def test_id_token_is_not_accepted_where_an_access_token_is_due(local_cloud: Any) -> None:
    http, username = local_cloud.http, new_username()
    sign_up(http, username)
    tokens = log_in(http, username)

    response = http.get("/me", headers=bearer(tokens["id_token"]))

    # API Gateway's JWT authorizer accepts an id token whose `aud` is the client; the handler still
    # needs the access token's `username` claim, so the request fails closed either way.
    assert response.status_code == 401


def test_unknown_user_gives_404(local_cloud: Any) -> None:
    http, username = local_cloud.http, new_username()
    sign_up(http, username)
    token = log_in(http, username)["access_token"]

    assert_envelope(http.get("/users/nobody_here", headers=bearer(token)), 404, "not_found")


def test_openapi_document_describes_every_template_route(local_cloud: Any) -> None:
    document = local_cloud.http.get("/openapi.json").json()
    docs = local_cloud.http.get("/docs")

    described = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    assert {
        "POST /auth/signup",
        "POST /auth/login",
        "POST /auth/refresh",
        "GET /me",
        "PATCH /me",
        "GET /users/{username}",
        "GET /health",
    } <= described
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text


def test_sign_ups_from_one_address_stop_at_the_limit_with_retry_after(local_cloud: Any) -> None:
    # Given one source address signing up as many accounts as cdk.json's `rate_limits.signup` allows
    limit = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["rate_limits"]["signup"]
    farm = {"X-Forwarded-For": own_address()}
    accounts = [new_username() for _ in range(limit["limit"] + 1)]
    answers = [
        local_cloud.http.post(
            "/auth/signup",
            json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
            headers=farm,
        )
        for name in accounts
    ]

    # Then the one past the limit is 429 rate_limited with Retry-After, and never became an account
    assert [answer.status_code for answer in answers] == [201] * limit["limit"] + [429]
    assert_envelope(answers[-1], 429, "rate_limited")
    assert 0 < int(answers[-1].headers["retry-after"]) <= limit["per_seconds"]
    assert (
        local_cloud.http.post("/auth/login", json={"username": accounts[-1], "password": PASSWORD}).status_code == 401
    )
    # And another address still signs up
    assert sign_up(local_cloud.http, new_username()).status_code == 201
