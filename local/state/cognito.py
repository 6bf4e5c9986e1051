"""Cognito users in and out of moto's in-process backend.

The one place the local state reaches into moto's internals, because no Cognito API gives them:
a user's password (moto keeps it in the clear) and its `sub`, which Cognito assigns and never lets
a caller choose. Pinhole's user ids are those `sub`s, so a user restored with a new one would lose
every post, follow and message. `tests/unit/local/test_state_cognito.py` pins the internals used
here, so a moto upgrade that moves them fails a test instead of silently dropping users.
"""

from __future__ import annotations

from typing import Any

from moto.backends import get_backend
from moto.cognitoidp.models import CognitoIdpUser, UserStatus

from local.cognito_strict import refresh_token_issued_at, restore_refresh_token_issued_at
from local.state.snapshot import StoredRefreshToken, StoredUser, StoredUserPool
from local.template import ACCOUNT_ID, REGION

# Pool and client ids derived from their configuration (moto's documented HASH strategy) instead of
# random ones: the same template gives the same UserPoolId and UserPoolClientId on every start, so a
# tester's client configuration, and the tokens it holds, stay valid across a restart.
STABLE_ID_ENVIRONMENT = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}


def _pool(pool_id: str) -> Any:
    return get_backend("cognito-idp")[ACCOUNT_ID][REGION].user_pools[pool_id]


def export_user_pool(pool_id: str) -> StoredUserPool:
    pool = _pool(pool_id)
    users = [
        StoredUser(
            username=user.username,
            sub=user.id,
            password=user.password,
            status=str(UserStatus(user.status).value),
            enabled=user.enabled,
            attributes={name: value for name, value in user.attribute_lookup.items() if name != "sub"},
            groups=sorted(group.group_name for group in user.groups),
        )
        for user in pool.users.values()
    ]
    tokens = [
        StoredRefreshToken(
            token=token,
            client_id=grant[0],
            username=grant[1],
            origin_jti=grant[2],
            issued_at=refresh_token_issued_at(token),  # it expires after the client's RefreshTokenValidity
        )
        for token, grant in pool.refresh_tokens.items()
        if grant is not None  # revoked by a sign-out
    ]
    return StoredUserPool(users=users, refresh_tokens=tokens)


def import_user_pool(pool_id: str, stored: StoredUserPool) -> int:
    """Puts the users back with their `sub`, password, status and group memberships (the groups the template
    still creates: a moderator stays one across a restart); how many were restored."""
    pool = _pool(pool_id)
    for saved in stored.users:
        attributes = [{"Name": name, "Value": value} for name, value in saved.attributes.items()]
        # moto compares a status by identity (`is UserStatus.CONFIRMED`): the enum member, not its text
        user = CognitoIdpUser(pool_id, saved.username, saved.password, UserStatus(saved.status), attributes)
        user.id = saved.sub
        user.update_attributes([{"Name": "sub", "Value": saved.sub}])
        user.enabled = saved.enabled
        pool.users[user.username] = user
        for name in saved.groups:
            if name in pool.groups:
                # moto links a membership both ways (what AdminAddUserToGroup does)
                pool.groups[name].users.add(user)
                user.groups.add(pool.groups[name])
    for token in stored.refresh_tokens:
        # A refresh token of a client the template no longer has would be refused anyway.
        if token.client_id in pool.clients and token.username in pool.users:
            pool.refresh_tokens[token.token] = (token.client_id, token.username, token.origin_jti)
            restore_refresh_token_issued_at(token.token, token.issued_at)
    return len(stored.users)
