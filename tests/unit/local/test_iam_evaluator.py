"""AWS's policy evaluation logic, as local IAM enforcement applies it (local/iam/evaluator.py)."""

from typing import Any

import pytest

from local.iam.context import normalized
from local.iam.evaluator import Decision, PolicyNotUnderstood, Request, evaluate, parse_policy

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/resize"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/resize/resize-fn"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/posts"
BUCKET = "arn:aws:s3:::media"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(
    identity: dict[str, Any],
    action: str,
    resource: str,
    context: dict[str, Any] | None = None,
    resource_policy: dict[str, Any] | None = None,
) -> Decision:
    request = Request(action, resource, dict(normalized({"aws:SecureTransport": "true", **(context or {})})))
    return evaluate(
        request,
        parse_policy(identity, "identity"),
        parse_policy(resource_policy, "resource", resource_policy=True) if resource_policy else (),
        principal_arns=(ROLE, SESSION),
        account=ACCOUNT,
    )


def test_an_action_no_statement_allows_is_implicitly_denied() -> None:
    # Given a role that may read the table
    role = policy(allow(["dynamodb:GetItem", "dynamodb:Query"], TABLE))

    # Then it may read, and may not write
    assert decide(role, "dynamodb:GetItem", TABLE) is Decision.ALLOW
    assert decide(role, "dynamodb:PutItem", TABLE) is Decision.IMPLICIT_DENY


def test_actions_match_case_insensitively_with_wildcards() -> None:
    role = policy(allow("S3:get*", f"{BUCKET}/posts/*"))

    assert decide(role, "s3:GetObject", f"{BUCKET}/posts/a.jpg") is Decision.ALLOW
    assert decide(role, "s3:GetObjectVersion", f"{BUCKET}/posts/a.jpg") is Decision.ALLOW
    assert decide(role, "s3:PutObject", f"{BUCKET}/posts/a.jpg") is Decision.IMPLICIT_DENY


def test_resources_match_case_sensitively_with_star_and_question_mark() -> None:
    role = policy(allow("s3:GetObject", [f"{BUCKET}/posts/*", f"{BUCKET}/v?/x"]))

    assert decide(role, "s3:GetObject", f"{BUCKET}/posts/deep/key.jpg") is Decision.ALLOW
    assert decide(role, "s3:GetObject", f"{BUCKET}/Posts/key.jpg") is Decision.IMPLICIT_DENY
    assert decide(role, "s3:GetObject", f"{BUCKET}/v1/x") is Decision.ALLOW
    assert decide(role, "s3:GetObject", f"{BUCKET}/v12/x") is Decision.IMPLICIT_DENY
    # A bucket ARN is not an object ARN: `bucket/*` does not cover ListBucket on the bucket
    assert decide(policy(allow("s3:ListBucket", f"{BUCKET}/*")), "s3:ListBucket", BUCKET) is Decision.IMPLICIT_DENY


def test_a_table_grant_does_not_cover_its_indexes() -> None:
    role = policy(allow("dynamodb:Query", TABLE))

    assert decide(role, "dynamodb:Query", TABLE) is Decision.ALLOW
    assert decide(role, "dynamodb:Query", f"{TABLE}/index/by_author") is Decision.IMPLICIT_DENY


def test_explicit_deny_beats_any_allow() -> None:
    role = policy(allow("dynamodb:*", "*"), deny("dynamodb:DeleteItem", TABLE))

    assert decide(role, "dynamodb:PutItem", TABLE) is Decision.ALLOW
    assert decide(role, "dynamodb:DeleteItem", TABLE) is Decision.IDENTITY_DENY


def test_not_action_allows_everything_but_what_it_names() -> None:
    role = policy({"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": TABLE})

    assert decide(role, "dynamodb:PutItem", TABLE) is Decision.ALLOW
    assert decide(role, "dynamodb:DeleteItem", TABLE) is Decision.IMPLICIT_DENY


def test_not_resource_covers_everything_but_what_it_names() -> None:
    role = policy(
        allow("s3:GetObject", "*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": [f"{BUCKET}/posts/*"]}
    )

    assert decide(role, "s3:GetObject", f"{BUCKET}/posts/a") is Decision.ALLOW
    assert decide(role, "s3:GetObject", f"{BUCKET}/secrets/a") is Decision.IDENTITY_DENY


def test_string_like_prefix_condition_scopes_listing() -> None:
    # Given the cleanup role's listing grant: only under posts/
    role = policy(allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["posts/*"]}}))

    # Then listing under posts/ is allowed; another prefix, or no prefix at all, is not
    assert decide(role, "s3:ListBucket", BUCKET, {"s3:prefix": "posts/01H/"}) is Decision.ALLOW
    assert decide(role, "s3:ListBucket", BUCKET, {"s3:prefix": "stories/01H/"}) is Decision.IMPLICIT_DENY
    assert decide(role, "s3:ListBucket", BUCKET) is Decision.IMPLICIT_DENY


def test_condition_keys_are_case_insensitive_and_values_or_while_keys_and() -> None:
    role = policy(
        allow(
            "s3:ListBucket",
            BUCKET,
            Condition={
                "StringLike": {"S3:Prefix": ["posts/*", "stories/*"]},
                "Bool": {"AWS:SecureTransport": "true"},
            },
        )
    )

    assert decide(role, "s3:ListBucket", BUCKET, {"s3:prefix": "stories/x"}) is Decision.ALLOW
    assert decide(role, "s3:ListBucket", BUCKET, {"s3:prefix": "x", "aws:SecureTransport": "true"}) is (
        Decision.IMPLICIT_DENY
    )


def test_negated_operators_on_an_absent_key_hold_and_if_exists_passes_absence() -> None:
    not_like = policy(allow("s3:ListBucket", BUCKET, Condition={"StringNotLike": {"s3:prefix": "private/*"}}))
    like_if_exists = policy(allow("s3:ListBucket", BUCKET, Condition={"StringLikeIfExists": {"s3:prefix": "a/*"}}))

    assert decide(not_like, "s3:ListBucket", BUCKET) is Decision.ALLOW
    assert decide(not_like, "s3:ListBucket", BUCKET, {"s3:prefix": "private/x"}) is Decision.IMPLICIT_DENY
    assert decide(like_if_exists, "s3:ListBucket", BUCKET) is Decision.ALLOW
    assert decide(like_if_exists, "s3:ListBucket", BUCKET, {"s3:prefix": "b/x"}) is Decision.IMPLICIT_DENY


def test_a_negated_operator_with_several_values_is_their_nor() -> None:
    role = policy(allow("s3:ListBucket", BUCKET, Condition={"StringNotEquals": {"s3:prefix": ["a/", "b/"]}}))

    assert decide(role, "s3:ListBucket", BUCKET, {"s3:prefix": "c/"}) is Decision.ALLOW
    assert decide(role, "s3:ListBucket", BUCKET, {"s3:prefix": "b/"}) is Decision.IMPLICIT_DENY


def test_null_numeric_and_set_operators() -> None:
    null = policy(allow("s3:ListBucket", BUCKET, Condition={"Null": {"s3:prefix": "false"}}))
    numeric = policy(allow("s3:ListBucket", BUCKET, Condition={"NumericLessThanEquals": {"s3:max-keys": "100"}}))
    any_value = policy(allow("s3:ListBucket", BUCKET, Condition={"ForAnyValue:StringEquals": {"s3:prefix": "a/"}}))

    assert decide(null, "s3:ListBucket", BUCKET, {"s3:prefix": "x"}) is Decision.ALLOW
    assert decide(null, "s3:ListBucket", BUCKET) is Decision.IMPLICIT_DENY
    assert decide(numeric, "s3:ListBucket", BUCKET, {"s3:max-keys": "50"}) is Decision.ALLOW
    assert decide(numeric, "s3:ListBucket", BUCKET, {"s3:max-keys": "1000"}) is Decision.IMPLICIT_DENY
    assert decide(any_value, "s3:ListBucket", BUCKET, {"s3:prefix": "a/"}) is Decision.ALLOW
    assert decide(any_value, "s3:ListBucket", BUCKET) is Decision.IMPLICIT_DENY


def test_the_enforce_ssl_deny_of_a_bucket_policy_refuses_plain_http_only() -> None:
    # Given CDK's enforce_ssl statement on the bucket and a role that may read it
    bucket_policy = policy(
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [BUCKET, f"{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    role = policy(allow("s3:GetObject", f"{BUCKET}/*"))

    # Then an HTTPS call (what handlers make) is allowed, a plain HTTP one is denied by the bucket policy
    assert decide(role, "s3:GetObject", f"{BUCKET}/k", resource_policy=bucket_policy) is Decision.ALLOW
    assert decide(role, "s3:GetObject", f"{BUCKET}/k", {"aws:SecureTransport": "false"}, bucket_policy) is (
        Decision.RESOURCE_DENY
    )


def test_resource_policies_apply_to_the_principals_they_name_only() -> None:
    # Given a queue policy letting S3 (a service principal) send, and one letting the role send
    for_s3 = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": "arn:aws:sqs:us-east-1:123456789012:q",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads"}},
        }
    )
    for_role = policy(
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sqs:SendMessage", "Resource": "*"},
    )
    queue = "arn:aws:sqs:us-east-1:123456789012:q"

    # Then the service's grant gives the role nothing, the role's grant is enough without an identity policy
    assert decide(policy(), "sqs:SendMessage", queue, resource_policy=for_s3) is Decision.IMPLICIT_DENY
    assert decide(policy(), "sqs:SendMessage", queue, resource_policy=for_role) is Decision.ALLOW


def test_arn_like_matches_each_part_on_its_own() -> None:
    role = policy(
        allow(
            "sqs:SendMessage",
            "*",
            Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/res*"}},
        )
    )

    assert decide(role, "sqs:SendMessage", "q", {"aws:PrincipalArn": ROLE}) is Decision.ALLOW
    assert decide(role, "sqs:SendMessage", "q", {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/resize"}) is (
        Decision.IMPLICIT_DENY
    )


@pytest.mark.parametrize(
    ("statement", "refused"),
    [
        (allow("s3:ListBucket", BUCKET, Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01"}}), "operator"),
        (allow("s3:ListBucket", BUCKET, Condition={"StringLikeSomehow": {"s3:prefix": "a"}}), "operator"),
        (allow("s3:ListBucket", BUCKET, Condition={"StringEquals": {"dynamodb:LeadingKeys": "a"}}), "key"),
        (allow("s3:GetObject", f"{BUCKET}/${{aws:username}}/*"), "policy variables"),
        ({"Effect": "Allow", "Action": "s3:*"}, "Resource"),
        ({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}, "Effect"),
    ],
    ids=["date-operator", "unknown-operator", "unmodelled-key", "policy-variable", "no-resource", "bad-effect"],
)
def test_what_is_not_modelled_is_refused_loudly_when_parsed(statement: dict[str, Any], refused: str) -> None:
    with pytest.raises(PolicyNotUnderstood, match=refused):
        parse_policy(policy(statement), "role")


def test_not_principal_is_refused() -> None:
    with pytest.raises(PolicyNotUnderstood, match="NotPrincipal"):
        parse_policy(policy({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "*", "Resource": "*"}), "b")
