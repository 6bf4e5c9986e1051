"""Cognito as Pinhole's identity store: accounts, passwords and tokens. boto3 stays in this module."""

from typing import Any

import boto3
from botocore.exceptions import ClientError

from pinhole.auth.models import LoginTokens, Tokens
from pinhole.shared.errors import AccountSuspended, InvalidCredentials, Unauthorized, UsernameTaken, ValidationFailed
from pinhole.shared.settings import get_settings

_cognito = boto3.client("cognito-idp", region_name=get_settings().region)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_disabled(error: ClientError) -> bool:
    # Cognito answers a disabled user's log-in with NotAuthorizedException "User is disabled." — before it checks
    # the password, so this tells anyone who tries that the account is suspended (docs/SECURITY.md says why
    # that is accepted).
    message = str(error.response.get("Error", {}).get("Message", ""))
    return _error_code(error) == "NotAuthorizedException" and "disabled" in message.lower()


class CognitoIdentity:
    def __init__(self, client: Any = _cognito) -> None:
        self._cognito = client

    @property
    def _pool(self) -> str:
        return get_settings().user_pool_id

    @property
    def _client_id(self) -> str:
        return get_settings().user_pool_client_id

    def create_user(self, username: str, email: str, password: str) -> str:
        """Creates a confirmed account and returns its immutable id (the token's `sub`)."""
        try:
            created = self._cognito.admin_create_user(
                UserPoolId=self._pool,
                Username=username,
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                MessageAction="SUPPRESS",
            )
        except ClientError as error:
            if _error_code(error) == "UsernameExistsException":
                raise UsernameTaken(f"The username {username} is taken.") from error
            raise
        try:
            self._cognito.admin_set_user_password(
                UserPoolId=self._pool, Username=username, Password=password, Permanent=True
            )
        except ClientError as error:
            self.delete_user(username)
            if _error_code(error) == "InvalidPasswordException":
                raise ValidationFailed("The password is too weak.", [{"field": "password"}]) from error
            raise
        attributes = {a["Name"]: a["Value"] for a in created["User"]["Attributes"]}
        return attributes["sub"]

    def delete_user(self, username: str) -> None:
        self._cognito.admin_delete_user(UserPoolId=self._pool, Username=username)

    def log_in(self, username: str, password: str) -> LoginTokens:
        try:
            result = self._initiate_auth("USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password})
        except ClientError as error:
            if _is_disabled(error):
                raise AccountSuspended("This account is suspended.") from error
            if _error_code(error) in {"NotAuthorizedException", "UserNotFoundException"}:
                raise InvalidCredentials("The username or password is wrong.") from error
            raise
        return LoginTokens(
            access_token=result["AccessToken"],
            id_token=result["IdToken"],
            refresh_token=result["RefreshToken"],
            expires_in=result["ExpiresIn"],
        )

    def refresh(self, refresh_token: str) -> Tokens:
        try:
            result = self._initiate_auth("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})
        except ClientError as error:
            if _error_code(error) in {"NotAuthorizedException", "UserNotFoundException"}:
                raise Unauthorized("The refresh token is not valid; log in again.") from error
            raise
        return Tokens(access_token=result["AccessToken"], id_token=result["IdToken"], expires_in=result["ExpiresIn"])

    def suspend(self, username: str) -> None:
        """No more log-ins or token refreshes, and every refresh token revoked (an access token already issued
        lives out its hour: the API refuses its writes, pinhole.users.logic.active_profile)."""
        self._cognito.admin_disable_user(UserPoolId=self._pool, Username=username)
        self._cognito.admin_user_global_sign_out(UserPoolId=self._pool, Username=username)

    def reinstate(self, username: str) -> None:
        self._cognito.admin_enable_user(UserPoolId=self._pool, Username=username)

    def _initiate_auth(self, flow: str, parameters: dict[str, str]) -> dict[str, Any]:
        response = self._cognito.initiate_auth(ClientId=self._client_id, AuthFlow=flow, AuthParameters=parameters)
        return dict(response["AuthenticationResult"])
