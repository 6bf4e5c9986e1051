"""Stateful resources: identity, buckets. Retained, private, encrypted, TLS only."""

from typing import Any

from aws_cdk.assertions import Match, Template

from pinhole.auth.password_policy import PASSWORD_POLICY
from stacks import constants


def _bucket(cloud_assembly, construct_id: str) -> dict[str, Any]:
    _, bucket = cloud_assembly.resource_at(
        constants.STATEFUL_STACK_ID, f"{constants.MEDIA_STORAGE_CONSTRUCT_ID}/{construct_id}/Resource"
    )
    return bucket


def test_every_stateful_resource_is_retained(stateful) -> None:
    # Given the resources that hold data
    kinds = {"AWS::Cognito::UserPool", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket"}
    resources = {k: r for k, r in stateful["Resources"].items() if r["Type"] in kinds}

    # Then deleting the stack (or replacing them) keeps them
    assert {r["Type"] for r in resources.values()} == kinds
    for logical_id, resource in resources.items():
        assert resource["DeletionPolicy"] == "Retain", logical_id
        assert resource["UpdateReplacePolicy"] == "Retain", logical_id


def test_buckets_block_public_access_and_encrypt(stateful) -> None:
    # Given every bucket
    buckets = Template.from_json(stateful).find_resources("AWS::S3::Bucket")
    assert len(buckets) == 3

    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        # Then no public access of any kind, and S3-managed encryption at rest
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", logical_id


def test_buckets_deny_requests_without_tls(stateful) -> None:
    # Given every bucket and the bucket policies
    template = Template.from_json(stateful)
    buckets = template.find_resources("AWS::S3::Bucket")
    policies = template.find_resources("AWS::S3::BucketPolicy")

    for logical_id in buckets:
        # Then each bucket's policy denies every action over plain HTTP
        (policy,) = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": logical_id}]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), logical_id


def test_uploads_bucket_keeps_versions_and_ages_originals(cloud_assembly) -> None:
    # Given the uploads bucket
    props = _bucket(cloud_assembly, constants.UPLOADS_BUCKET_ID)["Properties"]
    (rule,) = props["LifecycleConfiguration"]["Rules"]

    # Then it is versioned, owner-enforced, and its lifecycle cleans up and moves originals to Glacier IR
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert rule["Status"] == "Enabled"
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["Transitions"] == [{"StorageClass": "GLACIER_IR", "TransitionInDays": 30}]


def test_uploads_bucket_cors_allows_post_from_named_origins_only(cloud_assembly) -> None:
    # Given the uploads bucket
    (cors,) = _bucket(cloud_assembly, constants.UPLOADS_BUCKET_ID)["Properties"]["CorsConfiguration"]["CorsRules"]

    # Then browsers may POST a pre-signed upload from the configured origins, never from anywhere
    assert cors["AllowedMethods"] == ["POST"]
    assert cors["AllowedOrigins"] == list(constants.DEFAULT_CORS_ORIGINS)
    assert "*" not in cors["AllowedOrigins"]


def test_media_bucket_is_readable_only_by_cloudfront(stateful, cloud_assembly) -> None:
    # Given the media bucket's policy
    media_id, media = cloud_assembly.resource_at(
        constants.STATEFUL_STACK_ID, f"{constants.MEDIA_STORAGE_CONSTRUCT_ID}/{constants.MEDIA_BUCKET_ID}/Resource"
    )
    policies = Template.from_json(stateful).find_resources(
        "AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": media_id}}}
    )
    ((_, policy),) = policies.items()
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]

    # Then the only reader is the CloudFront service of this account, reading objects
    assert media["Properties"]["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allow["Condition"]["StringLike"]


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

    # Then it has no secret, logs in by password or refresh only, no OAuth flows,
    # hides whether a user exists, and tokens live 1 h (access) and 30 days (refresh)
    assert props["GenerateSecret"] is False
    assert set(props["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert "AllowedOAuthFlows" not in props or "implicit" not in props["AllowedOAuthFlows"]
    assert props.get("AllowedOAuthFlowsUserPoolClient", False) is False
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["AccessTokenValidity"] == 60
    assert props["RefreshTokenValidity"] == 43200
    assert props["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert props["TokenValidityUnits"]["RefreshToken"] == "minutes"
