"""Lambda entry point of the auth context: sign-up, log-in (and its TOTP step), refresh, log-out and the
forgotten-password routes (public: no token yet), and the routes that act on the caller's credentials with
their own access token: password change, e-mail verification, two-factor, sign-out everywhere."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pinhole.auth import logic
from pinhole.auth.models import (
    ChangePasswordRequest,
    ForgotPasswordAccepted,
    ForgotPasswordRequest,
    LoginChallenge,
    LoginRequest,
    LoginTokens,
    LogoutRequest,
    RecoveryCodes,
    RecoveryCodesRequest,
    RecoveryLoginRequest,
    RefreshRequest,
    ResetPasswordRequest,
    SignUpRequest,
    SignUpResponse,
    Tokens,
    TotpCodeRequest,
    TotpEnableRequest,
    TotpLoginRequest,
    TotpSetup,
    VerifyEmailRequest,
)
from pinhole.shared.api import (
    BEARER_AUTH,
    apply_api_conventions,
    bearer_token,
    current_caller,
    no_content,
    source_ip,
)
from pinhole.shared.observability import logger, metrics, tracer

app = APIGatewayHttpResolver(enable_validation=True)
apply_api_conventions(app)


@app.post("/auth/signup", summary="Create an account", tags=["auth"], status_code=201)
@tracer.capture_method
def sign_up(request: Annotated[SignUpRequest, Body()]) -> SignUpResponse:
    user = logic.sign_up(request, source_address=app.current_event.request_context.http.source_ip)
    metrics.add_metric(name="SignUps", unit="Count", value=1)
    return SignUpResponse(user=user)


@app.post(
    "/auth/login",
    summary="Exchange a username and password for tokens, or for a TOTP challenge when two-factor is on",
    tags=["auth"],
)
@tracer.capture_method
def log_in(request: Annotated[LoginRequest, Body()]) -> LoginTokens | LoginChallenge:
    return logic.log_in(request, source_address=app.current_event.request_context.http.source_ip)


@app.post("/auth/login/totp", summary="Answer the TOTP challenge of a log-in: the tokens", tags=["auth"])
@tracer.capture_method
def log_in_with_totp(request: Annotated[TotpLoginRequest, Body()]) -> LoginTokens:
    return logic.log_in_with_totp(request, source_ip(app))


@app.post(
    "/auth/login/recovery",
    summary="Log in with the password and a recovery code instead of a TOTP code (turns two-factor off)",
    tags=["auth"],
)
@tracer.capture_method
def log_in_with_recovery_code(request: Annotated[RecoveryLoginRequest, Body()]) -> LoginTokens:
    return logic.log_in_with_recovery_code(request, source_ip(app))


@app.post("/auth/refresh", summary="Exchange a refresh token for fresh access and id tokens", tags=["auth"])
@tracer.capture_method
def refresh(request: Annotated[RefreshRequest, Body()]) -> Tokens:
    return logic.refresh(request)


@app.post("/auth/logout", summary="Revoke a refresh token (this device signs out)", tags=["auth"], status_code=204)
@tracer.capture_method
def log_out(request: Annotated[LogoutRequest, Body()]) -> Response[None]:
    logic.log_out(request.refresh_token)
    return no_content()


@app.post(
    "/auth/password/forgot",
    summary="E-mail a reset code to the account's verified address (always 202)",
    tags=["auth"],
    status_code=202,
)
@tracer.capture_method
def forgot_password(request: Annotated[ForgotPasswordRequest, Body()]) -> ForgotPasswordAccepted:
    logic.forgot_password(request, source_ip(app))
    return ForgotPasswordAccepted()


@app.post("/auth/password/reset", summary="Set a new password with the e-mailed code", tags=["auth"], status_code=204)
@tracer.capture_method
def reset_password(request: Annotated[ResetPasswordRequest, Body()]) -> Response[None]:
    logic.reset_password(request, source_ip(app))
    return no_content()


@app.post(
    "/auth/verify-email",
    summary="Verify the account's e-mail address with the code sent to it",
    tags=["auth"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def verify_email(request: Annotated[VerifyEmailRequest, Body()]) -> Response[None]:
    logic.verify_email(current_caller(app), bearer_token(app), request)
    return no_content()


@app.post(
    "/me/email/verification",
    summary="Send a new verification code to the account's e-mail address",
    tags=["auth"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def resend_email_verification() -> Response[None]:
    logic.resend_email_verification(current_caller(app), bearer_token(app))
    return no_content()


@app.post("/me/password", summary="Change the password", tags=["auth"], security=BEARER_AUTH, status_code=204)
@tracer.capture_method
def change_password(request: Annotated[ChangePasswordRequest, Body()]) -> Response[None]:
    logic.change_password(current_caller(app), bearer_token(app), request)
    return no_content()


@app.post(
    "/me/mfa/totp",
    summary="Start two-factor set-up: a new TOTP secret and its otpauth:// URI (409 while two-factor is on)",
    tags=["auth"],
    security=BEARER_AUTH,
)
@tracer.capture_method
def start_totp() -> TotpSetup:
    return logic.start_totp(current_caller(app), bearer_token(app))


@app.post(
    "/me/mfa/totp/verify",
    summary="Turn two-factor on with a code of the new secret and the account's password",
    tags=["auth"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def enable_totp(request: Annotated[TotpEnableRequest, Body()]) -> Response[None]:
    logic.enable_totp(current_caller(app), bearer_token(app), request)
    return no_content()


@app.delete(
    "/me/mfa",
    summary="Turn two-factor off with a current code (409 when it is not on)",
    tags=["auth"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def disable_totp(request: Annotated[TotpCodeRequest, Body()]) -> Response[None]:
    logic.disable_totp(current_caller(app), bearer_token(app), request.code)
    return no_content()


@app.post(
    "/me/mfa/recovery-codes",
    summary="A new set of recovery codes, shown once (the previous set stops working)",
    tags=["auth"],
    security=BEARER_AUTH,
    status_code=201,
)
@tracer.capture_method
def issue_recovery_codes(request: Annotated[RecoveryCodesRequest, Body()]) -> RecoveryCodes:
    return logic.issue_recovery_codes(current_caller(app), request.password)


@app.post(
    "/me/sign-out-everywhere",
    summary="Revoke every refresh token of the account and close its WebSocket connections",
    tags=["auth"],
    security=BEARER_AUTH,
    status_code=204,
)
@tracer.capture_method
def sign_out_everywhere() -> Response[None]:
    logic.sign_out_everywhere(current_caller(app), bearer_token(app))
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
