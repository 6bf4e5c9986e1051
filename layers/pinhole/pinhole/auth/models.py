"""The contracts of the auth context: sign-up, login and refresh requests and the tokens they return."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pinhole.users.models import DisplayName, Me, Username

Email = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
Password = Annotated[str, Field(min_length=1, max_length=256, json_schema_extra={"format": "password"})]


class SignUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    email: Email
    password: Password
    display_name: DisplayName | None = None


class SignUpResponse(BaseModel):
    user: Me


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Not the strict Username pattern: a wrong name is a wrong credential (401), not a malformed request.
    username: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=128)]
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
