"""Stateful resources: identity, buckets, beyond the guarantees every one of them has
(retained, private, TLS only, owner-enforced: test_guarantees.py)."""

from typing import Any

from aws_cdk.assertions import Match, Template

from pinhole.auth.password_policy import PASSWORD_POLICY
from stacks import constants


def _bucket(cloud_assembly, construct_id: str) -> dict[str, Any]:
    _, bucket = cloud_assembly.resource_at(
        constants.STATEFUL_STACK_ID, f"{constants.MEDIA_STORAGE_CONSTRUCT_ID}/{construct_id}/Resource"
    )
    return bucket


def test_buckets_encrypt_at_rest(stateful) -> None:
    # Given every bucket
    buckets = Template.from_json(stateful).find_resources("AWS::S3::Bucket")
    assert len(buckets) == 5  # access logs, uploads, media, message media, stream overflow

    for logical_id, bucket in buckets.items():
        # Then S3-managed encryption at rest
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", logical_id


def test_uploads_bucket_ages_originals(cloud_assembly) -> None:
    # Given the uploads bucket (versioned, with noncurrent-version expiry: test_guarantees.py)
    props = _bucket(cloud_assembly, constants.UPLOADS_BUCKET_ID)["Properties"]
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    rule = rules["originals"]

    # Then its lifecycle cleans up after 30 days and moves originals to Glacier IR
    assert rule["Status"] == "Enabled"
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["Transitions"] == [{"StorageClass": "GLACIER_IR", "TransitionInDays": 30}]
    # And data exports go a day after their 7-day link (docs/PRIVACY.md)
    assert rules["exports"]["Prefix"] == constants.EXPORT_KEY_PREFIX
    assert rules["exports"]["ExpirationInDays"] == 8
    assert set(rules) == {"originals", "exports"}


def test_uploads_bucket_declares_no_cors_of_its_own(cloud_assembly) -> None:
    # Given the uploads bucket's template
    props = _bucket(cloud_assembly, constants.UPLOADS_BUCKET_ID)["Properties"]

    # Then its CORS has one owner, the stateless stack (test_web_app.py): a CorsConfiguration here would be
    # applied again by CloudFormation over the one that names the web app's origin
    assert "CorsConfiguration" not in props


def test_media_bucket_is_readable_only_by_cloudfront(stateful, cloud_assembly) -> None:
    # Given the media bucket's policy
    media_id, _ = cloud_assembly.resource_at(
        constants.STATEFUL_STACK_ID, f"{constants.MEDIA_STORAGE_CONSTRUCT_ID}/{constants.MEDIA_BUCKET_ID}/Resource"
    )
    policies = Template.from_json(stateful).find_resources(
        "AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": media_id}}}
    )
    ((_, policy),) = policies.items()
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]

    # Then the only reader is the CloudFront service of this account, reading objects
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allow["Condition"]["StringLike"]


def test_user_pool_keeps_the_verified_email_until_a_new_one_is_verified(stateful) -> None:
    # Given the user pool
    template = Template.from_json(stateful)

    # Then a changed address waits for its code, and reset codes keep going to the verified one meanwhile
    # (without it, an account changing its address had no address a reset code could go to)
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AutoVerifiedAttributes": ["email"],
            "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]},
        },
    )


def test_user_pool_follows_the_password_policy_and_admin_only_sign_up(stateful) -> None:
    # Given the user pool
    template = Template.from_json(stateful)

    # Then users sign in by case-insensitive username, need an email, cannot sign themselves up,
    # recover by email, and the password policy is pinhole.auth.password_policy's
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "UsernameConfiguration": {"CaseSensitive": False},
            "AliasAttributes": Match.absent(),
            "UsernameAttributes": Match.absent(),
            "Schema": Match.array_with([Match.object_like({"Name": "email", "Required": True})]),
            "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": PASSWORD_POLICY.min_length,
                    "RequireLowercase": PASSWORD_POLICY.require_lowercase,
                    "RequireUppercase": PASSWORD_POLICY.require_uppercase,
                    "RequireNumbers": PASSWORD_POLICY.require_digits,
                    "RequireSymbols": PASSWORD_POLICY.require_symbols,
                    "TemporaryPasswordValidityDays": PASSWORD_POLICY.temp_password_validity_days,
                }
            },
        },
    )


def test_app_client_is_public_password_only_with_agreed_token_lifetimes(stateful) -> None:
    # Given the app client
    clients = Template.from_json(stateful).find_resources("AWS::Cognito::UserPoolClient")
    ((_, client),) = clients.items()
    props = client["Properties"]

    # Then it has no secret, logs in by password or refresh only (no OAuth flow and hidden user
    # existence: test_guarantees.py), and tokens live 1 h (access) and 30 days (refresh)
    assert props["GenerateSecret"] is False
    assert set(props["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert props["AccessTokenValidity"] == 15  # docs/SECURITY.md: what a token can do after a sign-out
    assert props["RefreshTokenValidity"] == 43200
    assert props["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert props["TokenValidityUnits"]["RefreshToken"] == "minutes"
