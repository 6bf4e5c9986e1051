"""Cognito users survive a snapshot with their `sub`, password, status and sessions. This pins the
moto internals `local.state.cognito` relies on: a moto upgrade that moves them fails here."""

from typing import Any

import boto3
import jwt
import pytest

from local import cognito_strict
from local.state.cognito import STABLE_ID_ENVIRONMENT, export_user_pool, import_user_pool
from local.state.snapshot import StoredUserPool

PASSWORD = "Correct-Horse-9"


@pytest.fixture
def cognito(aws: None) -> Any:
    return boto3.client("cognito-idp", region_name="us-east-1")


def pool_with_client(cognito: Any, **client_settings: Any) -> tuple[str, str]:
    pool_id = cognito.create_user_pool(PoolName="pinhole", UsernameConfiguration={"CaseSensitive": False})["UserPool"][
        "Id"
    ]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        **client_settings,
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def sign_up(cognito: Any, pool_id: str, username: str) -> str:
    created = cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
    return next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")


def log_in(cognito: Any, client_id: str, username: str) -> dict[str, Any]:
    return dict(
        cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
    )


def unverified_claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_users_come_back_with_their_sub_password_and_sessions(cognito: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a pool (with ids from its configuration, as the local cloud makes them) where alice logged in
    # and bob was disabled
    for name, value in STABLE_ID_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    pool_id, client_id = pool_with_client(cognito)
    alice_sub, bob_sub = sign_up(cognito, pool_id, "alice"), sign_up(cognito, pool_id, "bob")
    refresh_token = log_in(cognito, client_id, "alice")["RefreshToken"]
    cognito.admin_disable_user(UserPoolId=pool_id, Username="bob")
    # When the pool is exported and imported into a fresh pool with the same client id
    saved = export_user_pool(pool_id)
    cognito.delete_user_pool(UserPoolId=pool_id)
    new_pool, new_client = pool_with_client(cognito)
    import_user_pool(new_pool, saved)
    # Then alice logs in with her password and keeps her sub; bob is still disabled
    users = {u["Username"]: u for u in cognito.list_users(UserPoolId=new_pool)["Users"]}
    assert {name: {a["Name"]: a["Value"] for a in user["Attributes"]}["sub"] for name, user in users.items()} == {
        "alice": alice_sub,
        "bob": bob_sub,
    }
    assert (users["alice"]["UserStatus"], users["alice"]["Enabled"], users["bob"]["Enabled"]) == (
        "CONFIRMED",
        True,
        False,
    )
    assert log_in(cognito, new_client, "alice")["AccessToken"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(
            ClientId=new_client,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": "wrong-Pass-1"},
        )
    # And her refresh token still works (the client is the same one: ids are stable)
    assert new_client == client_id
    refreshed = cognito.initiate_auth(
        ClientId=new_client, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
    )
    assert refreshed["AuthenticationResult"]["AccessToken"]


def test_a_signed_out_session_is_not_brought_back(cognito: Any) -> None:
    # Given alice logged in, then signed out everywhere
    pool_id, client_id = pool_with_client(cognito)
    sign_up(cognito, pool_id, "alice")
    refresh_token = log_in(cognito, client_id, "alice")["RefreshToken"]
    cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username="alice")
    # When the pool is exported
    saved = export_user_pool(pool_id)
    # Then her revoked refresh token is not among what is kept
    assert saved.users[0].username == "alice"
    assert refresh_token not in {token.token for token in saved.refresh_tokens}


def test_stable_ids_give_the_same_pool_and_client_for_the_same_configuration(
    cognito: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given moto's HASH id strategy, as the local cloud sets it while it provisions
    for name, value in STABLE_ID_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    # When a pool and its client are created, deleted, and created again from the same configuration
    first = pool_with_client(cognito)
    cognito.delete_user_pool(UserPoolId=first[0])
    second = pool_with_client(cognito)
    # Then both ids are the same: a tester's outputs.json and tokens stay valid across a restart
    assert second == first


def saved_with_a_moderator(cognito: Any) -> StoredUserPool:
    """A pool where alice is in `moderators` (as /_local/moderators makes her) and bob in no group, exported and
    deleted, as the local cloud's shutdown leaves it."""
    pool_id, _ = pool_with_client(cognito)
    sign_up(cognito, pool_id, "alice")
    sign_up(cognito, pool_id, "bob")
    cognito.create_group(UserPoolId=pool_id, GroupName="moderators")
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="moderators")
    saved = export_user_pool(pool_id)
    cognito.delete_user_pool(UserPoolId=pool_id)
    return saved


def test_a_moderator_stays_one_across_a_restart(cognito: Any) -> None:
    # Given a saved pool with alice a moderator
    saved = saved_with_a_moderator(cognito)
    # When it is imported into a fresh pool that the template gives the same group
    new_pool, new_client = pool_with_client(cognito)
    cognito.create_group(UserPoolId=new_pool, GroupName="moderators")
    import_user_pool(new_pool, saved)
    # Then the group lists alice only, and her next access token carries it
    members = cognito.list_users_in_group(UserPoolId=new_pool, GroupName="moderators")["Users"]
    assert [user["Username"] for user in members] == ["alice"]
    claims = unverified_claims(log_in(cognito, new_client, "alice")["AccessToken"])
    assert claims["cognito:groups"] == ["moderators"]
    assert "cognito:groups" not in unverified_claims(log_in(cognito, new_client, "bob")["AccessToken"])


def test_a_group_the_template_no_longer_creates_is_left_out(cognito: Any) -> None:
    # Given a saved pool with alice a moderator
    saved = saved_with_a_moderator(cognito)
    # When it is imported into a pool without that group
    new_pool, _ = pool_with_client(cognito)
    import_user_pool(new_pool, saved)
    # Then she is back, in no group
    assert cognito.admin_list_groups_for_user(UserPoolId=new_pool, Username="alice")["Groups"] == []


def test_a_restored_refresh_token_expires_when_it_would_have_without_the_restart(
    cognito: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the strict Cognito (refresh tokens expire) and a client whose refresh tokens live one day,
    # where alice logged in at noon
    cognito_strict.install()
    cognito_strict.reset_state()
    now = [1_800_000_000.0]
    monkeypatch.setattr(cognito_strict, "clock", lambda: now[0])
    for name, value in STABLE_ID_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    one_day = {"RefreshTokenValidity": 1, "TokenValidityUnits": {"RefreshToken": "days"}}
    pool_id, client_id = pool_with_client(cognito, **one_day)
    sign_up(cognito, pool_id, "alice")
    refresh_token = log_in(cognito, client_id, "alice")["RefreshToken"]
    # When the pool is saved and restored half a day later
    saved = export_user_pool(pool_id)
    cognito.delete_user_pool(UserPoolId=pool_id)
    cognito_strict.reset_state()
    now[0] += 12 * 3600
    new_pool, new_client = pool_with_client(cognito, **one_day)
    import_user_pool(new_pool, saved)

    def refresh() -> Any:
        return cognito.initiate_auth(
            ClientId=new_client, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
        )

    # Then her refresh token works until a day after she logged in, not a day after the restore
    assert saved.refresh_tokens[0].issued_at == 1_800_000_000.0
    now[0] += 12 * 3600 - 1
    assert refresh()["AuthenticationResult"]["AccessToken"]
    now[0] += 1
    with pytest.raises(cognito.exceptions.NotAuthorizedException, match="Refresh Token has expired"):
        refresh()
    cognito_strict.reset_state()
