"""A password Cognito refuses although it passed our statement of the policy is still a 422 whose every `details`
entry says what to do: the refusal is answered in the error envelope's terms, never as an entry without words."""

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pinhole.auth.identity import CognitoIdentity
from pinhole.shared.errors import ValidationFailed
from pinhole.shared.settings import get_settings

REFUSED = "The password was refused by the account service: choose another."


class RefusingCognito:
    """Cognito as a client sees it when a password breaks a rule of its own (password history, say)."""

    def __init__(self) -> None:
        self.deleted: list[str] = []

    @staticmethod
    def _refuse(operation: str) -> ClientError:
        error = {"Error": {"Code": "InvalidPasswordException", "Message": "Password has previously been used"}}
        return ClientError(error, operation)

    def admin_create_user(self, **_: Any) -> dict[str, Any]:
        return {"User": {"Attributes": [{"Name": "sub", "Value": "sub-ada"}]}}

    def admin_set_user_password(self, **_: Any) -> None:
        raise self._refuse("AdminSetUserPassword")

    def admin_delete_user(self, Username: str, **_: Any) -> None:
        self.deleted.append(Username)

    def change_password(self, **_: Any) -> None:
        raise self._refuse("ChangePassword")

    def confirm_forgot_password(self, **_: Any) -> None:
        raise self._refuse("ConfirmForgotPassword")


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[CognitoIdentity]:
    monkeypatch.setenv("USER_POOL_ID", "pool")
    monkeypatch.setenv("USER_POOL_CLIENT_ID", "client")
    get_settings.cache_clear()
    yield CognitoIdentity(RefusingCognito())
    get_settings.cache_clear()


def test_a_sign_up_password_cognito_refuses_is_422_with_a_message_and_no_account(identity: CognitoIdentity) -> None:
    with pytest.raises(ValidationFailed) as raised:
        identity.create_user("ada", "ada@example.com", "Correct-Horse-9")

    assert (raised.value.message, raised.value.details) == (
        "The password is too weak.",
        [{"field": "password", "message": REFUSED}],
    )
    assert identity._cognito.deleted == ["ada"]


@pytest.mark.parametrize(
    "set_password",
    [
        lambda identity: identity.change_password("token", "Correct-Horse-9", "Brand-New-Secret-7"),
        lambda identity: identity.reset_password("ada", "123456", "Brand-New-Secret-7"),
    ],
    ids=["change", "reset"],
)
def test_a_new_password_cognito_refuses_is_422_with_a_message(identity: CognitoIdentity, set_password: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        set_password(identity)

    assert (raised.value.message, raised.value.details) == (
        "The new password is too weak.",
        [{"field": "new_password", "message": REFUSED}],
    )
