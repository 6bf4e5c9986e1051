"""Which IAM action(s) and resource(s) AWS authorizes for an SDK call (local/iam/operations.py)."""

from typing import Any

import pytest

from local.iam.authorizer import TemplateLookups
from local.iam.operations import Access, UnknownOperation, accesses_of, cognito_operations_without_iam

LOOKUPS = TemplateLookups(
    secret_arns={"cursor": "arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor-AbCdEf"},
    websocket_endpoints={"http://127.0.0.1:8000/_aws/execute-api": ("wsapi", "prod")},
)
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/posts"


def accesses(service: str, operation: str, endpoint_url: str = "", **params: Any) -> list[tuple[str, str]] | None:
    found = accesses_of(service, operation, params, LOOKUPS, endpoint_url)
    return None if found is None else [(access.action, access.resource) for access in found]


def test_dynamodb_item_operations_name_the_table_by_name_or_arn() -> None:
    assert accesses("dynamodb", "GetItem", TableName="posts", Key={}) == [("dynamodb:GetItem", TABLE)]
    assert accesses("dynamodb", "UpdateItem", TableName=TABLE, Key={}) == [("dynamodb:UpdateItem", TABLE)]


def test_dynamodb_queries_on_an_index_name_the_index() -> None:
    assert accesses("dynamodb", "Query", TableName="posts", IndexName="by_author") == [
        ("dynamodb:Query", f"{TABLE}/index/by_author")
    ]
    assert accesses("dynamodb", "Scan", TableName="posts") == [("dynamodb:Scan", TABLE)]


def test_dynamodb_batches_are_authorized_per_table() -> None:
    assert accesses("dynamodb", "BatchWriteItem", RequestItems={"posts": [], "users": []}) == [
        ("dynamodb:BatchWriteItem", TABLE),
        ("dynamodb:BatchWriteItem", "arn:aws:dynamodb:us-east-1:123456789012:table/users"),
    ]
    assert accesses("dynamodb", "BatchGetItem", RequestItems={"posts": {}}) == [("dynamodb:BatchGetItem", TABLE)]


def test_dynamodb_transactions_are_authorized_item_by_item() -> None:
    items = [
        {"Put": {"TableName": "posts", "Item": {}}},
        {"Update": {"TableName": "users", "Key": {}}},
        {"Delete": {"TableName": "posts", "Key": {}}},
        {"ConditionCheck": {"TableName": "graph", "Key": {}}},
    ]
    assert accesses("dynamodb", "TransactWriteItems", TransactItems=items) == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", "arn:aws:dynamodb:us-east-1:123456789012:table/users"),
        ("dynamodb:DeleteItem", TABLE),
        ("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:us-east-1:123456789012:table/graph"),
    ]
    assert accesses("dynamodb", "TransactGetItems", TransactItems=[{"Get": {"TableName": "posts"}}]) == [
        ("dynamodb:GetItem", TABLE)
    ]


def test_stream_reads_name_the_stream_even_by_shard_iterator() -> None:
    stream = f"{TABLE}/stream/2026-01-01T00:00:00.000"
    assert accesses("dynamodbstreams", "DescribeStream", StreamArn=stream) == [("dynamodb:DescribeStream", stream)]
    assert accesses("dynamodbstreams", "GetRecords", ShardIterator=f"{stream}|1|AAAAAAAA") == [
        ("dynamodb:GetRecords", stream)
    ]


def test_s3_object_operations_and_their_exceptions() -> None:
    key = "arn:aws:s3:::media/posts/p/m/large.jpg"
    assert accesses("s3", "HeadObject", Bucket="media", Key="posts/p/m/large.jpg") == [("s3:GetObject", key)]
    assert accesses("s3", "GetObject", Bucket="media", Key="posts/p/m/large.jpg", VersionId="v1") == [
        ("s3:GetObjectVersion", key)
    ]
    assert accesses("s3", "DeleteObjects", Bucket="media", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]}) == [
        ("s3:DeleteObject", "arn:aws:s3:::media/a"),
        ("s3:DeleteObject", "arn:aws:s3:::media/b"),
    ]
    copy_of_a_version = "uploads/posts/o?versionId=7"
    assert accesses("s3", "CopyObject", Bucket="media", Key="posts/v.mp4", CopySource=copy_of_a_version) == [
        ("s3:GetObjectVersion", "arn:aws:s3:::uploads/posts/o"),
        ("s3:PutObject", "arn:aws:s3:::media/posts/v.mp4"),
    ]
    assert accesses("s3", "CopyObject", Bucket="media", Key="k", CopySource={"Bucket": "uploads", "Key": "o"}) == [
        ("s3:GetObject", "arn:aws:s3:::uploads/o"),
        ("s3:PutObject", "arn:aws:s3:::media/k"),
    ]


def test_listing_is_list_bucket_on_the_bucket_with_the_prefix_in_the_context() -> None:
    (access,) = accesses_of("s3", "ListObjectsV2", {"Bucket": "media", "Prefix": "posts/p/"}, LOOKUPS) or []
    assert access == Access("s3:ListBucket", "arn:aws:s3:::media", {"s3:prefix": "posts/p/"})


def test_sqs_queue_urls_become_arns() -> None:
    url = "http://127.0.0.1:5000/123456789012/fanout"
    arn = "arn:aws:sqs:us-east-1:123456789012:fanout"
    assert accesses("sqs", "SendMessageBatch", QueueUrl=url, Entries=[]) == [("sqs:SendMessage", arn)]
    assert accesses("sqs", "DeleteMessageBatch", QueueUrl=url, Entries=[]) == [("sqs:DeleteMessage", arn)]


def test_cognito_admin_operations_need_iam_and_token_operations_do_not() -> None:
    pool = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
    assert accesses("cognito-idp", "AdminCreateUser", UserPoolId="us-east-1_abc", Username="u") == [
        ("cognito-idp:AdminCreateUser", pool)
    ]
    assert accesses("cognito-idp", "InitiateAuth", ClientId="c", AuthFlow="USER_PASSWORD_AUTH") is None
    # AWS's own documentation of each operation, in botocore's model, says which ones IAM does not authorize
    assert {"InitiateAuth", "SignUp", "GetUser", "GlobalSignOut", "RevokeToken"} <= cognito_operations_without_iam()
    assert "AdminInitiateAuth" not in cognito_operations_without_iam()


def test_secrets_are_named_by_their_full_arn() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor-AbCdEf"
    assert accesses("secretsmanager", "GetSecretValue", SecretId="cursor") == [("secretsmanager:GetSecretValue", arn)]
    assert accesses("secretsmanager", "GetSecretValue", SecretId=arn) == [("secretsmanager:GetSecretValue", arn)]


def test_cloudfront_invalidations_name_the_distribution() -> None:
    assert accesses("cloudfront", "CreateInvalidation", DistributionId="E123", InvalidationBatch={}) == [
        ("cloudfront:CreateInvalidation", "arn:aws:cloudfront::123456789012:distribution/E123")
    ]


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://wsapi.execute-api.us-east-1.amazonaws.com/prod",
        "http://127.0.0.1:8000/_aws/execute-api/prod",
        "http://127.0.0.1:8000/_aws/execute-api",
    ],
    ids=["aws", "local", "local-without-stage"],
)
def test_connection_management_names_api_stage_method_and_connection(endpoint: str) -> None:
    connections = "arn:aws:execute-api:us-east-1:123456789012:wsapi/prod"
    assert accesses("apigatewaymanagementapi", "PostToConnection", endpoint, ConnectionId="c1=", Data=b"") == [
        ("execute-api:ManageConnections", f"{connections}/POST/@connections/c1=")
    ]
    assert accesses("apigatewaymanagementapi", "DeleteConnection", endpoint, ConnectionId="c1=") == [
        ("execute-api:ManageConnections", f"{connections}/DELETE/@connections/c1=")
    ]


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        ("dynamodb", "ExportTableToPointInTime", {"TableArn": TABLE}),
        ("s3", "PutBucketPolicy", {"Bucket": "media"}),
        ("translate", "TranslateText", {"Text": "hej"}),
        ("dynamodb", "GetItem", {}),
    ],
    ids=["unmapped-operation", "unmapped-s3-operation", "unmapped-service", "missing-parameter"],
)
def test_an_operation_the_mapper_does_not_know_is_named_as_a_gap(
    service: str, operation: str, params: dict[str, Any]
) -> None:
    with pytest.raises(UnknownOperation, match=operation):
        accesses_of(service, operation, params, LOOKUPS)


APP = "arn:aws:sns:us-east-1:123456789012:app/APNS/PinholeStateful-apns"
ENDPOINT = "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/PinholeStateful-apns/7f9c1b2a"


def test_sns_mobile_push_is_authorized_on_the_application_or_the_endpoint() -> None:
    assert accesses("sns", "CreatePlatformEndpoint", PlatformApplicationArn=APP, Token="ab") == [
        ("sns:CreatePlatformEndpoint", APP)
    ]
    for operation in ("GetEndpointAttributes", "SetEndpointAttributes", "DeleteEndpoint"):
        assert accesses("sns", operation, EndpointArn=ENDPOINT) == [(f"sns:{operation}", ENDPOINT)]
    assert accesses("sns", "Publish", TargetArn=ENDPOINT, Message="{}") == [("sns:Publish", ENDPOINT)]
    assert accesses("sns", "CreatePlatformApplication", Name="x", Platform="APNS", Attributes={}) == [
        ("sns:CreatePlatformApplication", "*")
    ]


def test_an_sns_operation_it_does_not_know_is_named_not_allowed() -> None:
    with pytest.raises(UnknownOperation, match=r"sns\.CreateTopic"):
        accesses("sns", "CreateTopic", Name="t")
