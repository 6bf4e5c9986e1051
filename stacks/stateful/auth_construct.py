"""Identity: the Cognito user pool and the mobile app's client."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from pinhole.auth.password_policy import PASSWORD_POLICY
from pinhole.shared.caller import MODERATORS_GROUP
from stacks import constants

# The HTTP API's JWT authorizer checks signatures and expiry, not revocation: after a log-out or a sign-out
# everywhere, an access token already issued would keep passing it until it expires; Pinhole's own check refuses
# it (docs/SECURITY.md, "Sign-out"), and a short life bounds what that check must remember (a logged-out session)
# and what Cognito's own endpoints still accept. Clients renew silently with the refresh token.
ACCESS_TOKEN_VALIDITY = Duration.minutes(15)
ID_TOKEN_VALIDITY = Duration.minutes(15)
REFRESH_TOKEN_VALIDITY = Duration.days(30)
# How long a log-in may wait between the password and the TOTP code (Cognito allows 3 to 15 minutes).
AUTH_SESSION_VALIDITY = Duration.minutes(3)


class AuthIdentity(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            constants.USER_POOL_ID,
            # The auth function creates users (AdminCreateUser + AdminSetUserPassword) after its own checks.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True),
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_POLICY.min_length,
                require_lowercase=PASSWORD_POLICY.require_lowercase,
                require_uppercase=PASSWORD_POLICY.require_uppercase,
                require_digits=PASSWORD_POLICY.require_digits,
                require_symbols=PASSWORD_POLICY.require_symbols,
                temp_password_validity=Duration.days(PASSWORD_POLICY.temp_password_validity_days),
            ),
            # Codes by e-mail: sign-up and an e-mail change send a verification code (the attribute stays
            # unverified until POST /auth/verify-email), and a password reset goes to a verified address only.
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # A changed address replaces the old one only once verified: until then the account keeps the old,
            # verified address, where a reset code still goes (without it the account had no verified address
            # meanwhile, and a forgotten password could be reset nowhere). docs/SECURITY.md, "Account takeover".
            keep_original=cognito.KeepOriginalAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Two-factor is each user's choice (POST /me/mfa/totp), by authenticator app only: no SMS.
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Moderators (pinhole.moderation): members get `cognito:groups: [moderators]` in their access token.
        # Membership is granted by an administrator (README, "Moderators"), never by the API.
        self.moderators_group = cognito.CfnUserPoolGroup(
            self,
            constants.MODERATORS_GROUP_ID,
            user_pool_id=self.user_pool.user_pool_id,
            group_name=MODERATORS_GROUP,
            description="Pinhole moderators: the moderation queue, cases, actions and audit log",
        )
        self.user_pool_client = self.user_pool.add_client(
            constants.USER_POOL_CLIENT_ID,
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=ACCESS_TOKEN_VALIDITY,
            id_token_validity=ID_TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
            auth_session_validity=AUTH_SESSION_VALIDITY,
        )
