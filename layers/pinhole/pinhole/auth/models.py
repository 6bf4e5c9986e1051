"""The contracts of the auth context: sign-up, login and refresh requests and the tokens they return."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pinhole.auth.password_policy import PASSWORD_POLICY
from pinhole.shared.text import not_blank
from pinhole.users.models import DisplayName, Email, Me, NewUsername, Password

LoginName = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=128, pattern=not_blank(""))
]
"""A name as a person types it to log in: not the strict Username pattern (a wrong name is a wrong credential, 401,
not a malformed request), and not only blanks."""
NewPassword = Annotated[str, Field(min_length=1, json_schema_extra=PASSWORD_POLICY.json_schema())]
"""A password being set: the document states the pool's policy and Cognito's longest password; the server checks
both itself rather than with pydantic's generic messages, which would stop at the first (auth.logic.
check_password_rules: a sentence per broken rule, a 257-character password of lower-case letters told all three)."""


class SignUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: NewUsername
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None


class SignUpResponse(BaseModel):
    user: Me


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: LoginName
    password: Password


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, Field(min_length=1, max_length=8192)]


class Tokens(BaseModel):
    access_token: str
    id_token: str
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


class LoginTokens(Tokens):
    refresh_token: str


VerificationCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$"),
    Field(description="The 6-digit code Cognito sent by e-mail", examples=["123456"]),
]
TotpCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$"),
    Field(description="The 6-digit code of the authenticator app", examples=["123456"]),
]
RecoveryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z2-7]{5}-[A-Za-z2-7]{5}$"),
    Field(description="One of the recovery codes shown when two-factor was turned on", examples=["abcde-fgh23"]),
]
Session = Annotated[
    str, Field(min_length=20, max_length=4096, description="The session of the login challenge (as Cognito bounds it)")
]


class LoginChallenge(BaseModel):
    """POST /auth/login when two-factor is on: the password was right; send a TOTP code with this session."""

    challenge: Literal["totp"] = "totp"
    session: str


class TotpLoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: LoginName
    session: Session
    code: TotpCode


class RecoveryLoginRequest(BaseModel):
    """POST /auth/login/recovery: the password and one recovery code instead of the TOTP code (the phone is
    lost). It signs in and turns two-factor off: the other codes stop working, set it up again."""

    model_config = ConfigDict(extra="forbid")

    username: LoginName
    password: Password
    recovery_code: RecoveryCode


class LogoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Annotated[str, Field(min_length=1, max_length=8192)]


class ForgotPasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: LoginName


class ResetPasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: LoginName
    code: VerificationCode
    new_password: NewPassword


class VerifyEmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: LoginName
    code: VerificationCode


class ChangePasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: NewPassword


class TotpSetup(BaseModel):
    secret: str = Field(description="Base32, for typing into an authenticator app")
    otpauth_uri: str = Field(description="otpauth://totp/... for a QR code")


class TotpCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: TotpCode


class TotpEnableRequest(BaseModel):
    """POST /me/mfa/totp/verify: a code of the new secret, and the account's password. Turning two-factor on decides
    whose authenticator the account needs from then on, so an access token alone must not do it: its holder would
    lock the owner out with an authenticator of his own."""

    model_config = ConfigDict(extra="forbid")

    code: TotpCode
    password: Annotated[
        Password,
        Field(
            description="The account's password (401 invalid_credentials when wrong, counted with every other "
            "password check of the account): an access token alone cannot turn two-factor on"
        ),
    ]


class RecoveryCodesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Password


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once: each signs in once instead of a TOTP code")


class ForgotPasswordAccepted(BaseModel):
    """202 whatever the account: the same words for everyone (no enumeration)."""

    message: str = "If the account has a verified e-mail address, a reset code is on its way."
