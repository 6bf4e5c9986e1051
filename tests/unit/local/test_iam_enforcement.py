"""The botocore hook: a call made as a role that may not make it fails exactly like AWS's AccessDenied, and
the identity follows the handler into the threads it starts (local/iam/authorizer.py, identity.py)."""

import concurrent.futures
import threading
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.iam.authorizer import Authorizer, TemplateLookups, authorizer_for
from local.iam.evaluator import parse_policy
from local.iam.identity import Identity, acting_as, current_identity
from local.iam.operations import Access
from local.iam.policies import PolicyStore, role_arn

TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/posts"
READER = role_arn("reader")


@pytest.fixture
def authorizer() -> Authorizer:
    store = PolicyStore(
        roles={
            READER: parse_policy(
                {
                    "Statement": [
                        {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": TABLE_ARN},
                        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/posts/*"},
                    ]
                },
                "reader",
            )
        }
    )
    return authorizer_for(store, TemplateLookups())


@pytest.fixture
def reader(authorizer: Authorizer) -> Identity:
    return authorizer.identity("feed-read", READER)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="posts",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        )
        yield


def test_an_allowed_call_goes_through_and_a_denied_one_is_aws_access_denied(aws: None, reader: Identity) -> None:
    dynamodb = boto3.client("dynamodb")
    with acting_as(reader):
        # Given a role that may read the table, its read reaches DynamoDB
        assert "Item" not in dynamodb.get_item(TableName="posts", Key={"id": {"S": "x"}})

        # When it writes
        with pytest.raises(ClientError) as refused:
            dynamodb.put_item(TableName="posts", Item={"id": {"S": "x"}})

    # Then DynamoDB's own error: 403 AccessDeniedException with AWS's message, and nothing was written
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["Error"]["Message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/reader/feed-read is not authorized to perform: "
        f"dynamodb:PutItem on resource: {TABLE_ARN} because no identity-based policy allows the dynamodb:PutItem action"
    )
    assert "Item" not in dynamodb.get_item(TableName="posts", Key={"id": {"S": "x"}})


def test_each_service_answers_with_its_own_error_code(aws: None, reader: Identity) -> None:
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    with acting_as(reader):
        with pytest.raises(s3.exceptions.ClientError) as s3_refusal:
            s3.put_object(Bucket="media", Key="posts/a.jpg", Body=b"x")
        with pytest.raises(ClientError) as sqs_refusal:
            sqs.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/q", MessageBody="m")

    assert s3_refusal.value.response["Error"]["Code"] == "AccessDenied"
    assert sqs_refusal.value.response["Error"]["Code"] == "AccessDenied"
    assert "perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:123456789012:q" in str(sqs_refusal.value)


def test_a_call_without_an_identity_is_not_checked(aws: None, reader: Identity) -> None:
    # The local cloud itself, and tests setting up their world, act with no identity
    boto3.client("dynamodb").put_item(TableName="posts", Item={"id": {"S": "x"}})


def test_an_operation_nobody_mapped_is_denied_naming_the_gap(aws: None, reader: Identity) -> None:
    with acting_as(reader), pytest.raises(ClientError) as refused:
        boto3.client("dynamodb").describe_limits()
    assert "does not know how AWS authorizes it" in refused.value.response["Error"]["Message"]
    assert "dynamodb.DescribeLimits" in refused.value.response["Error"]["Message"]


def test_the_identity_follows_the_handler_into_pools_and_threads(reader: Identity) -> None:
    seen: dict[str, Identity | None] = {}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)  # a module-level pool, shared by functions

    def record(name: str) -> None:
        seen[name] = current_identity()

    with acting_as(reader):
        pool.submit(record, "submitted").result()
        thread = threading.Thread(target=record, args=("thread",))
        thread.start()
        thread.join()
    # The same worker thread, now serving a submitter with no identity (a test's own setup)
    pool.submit(record, "submitted-later-without-identity").result()
    pool.shutdown()

    assert seen == {"submitted": reader, "thread": reader, "submitted-later-without-identity": None}


def test_a_function_signs_with_its_own_access_key(reader: Identity) -> None:
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with acting_as(reader):
        signed = s3.generate_presigned_post("uploads", "posts/a.jpg")
    unsigned = s3.generate_presigned_post("uploads", "posts/a.jpg")

    assert reader.access_key_id in str(signed["fields"])
    assert reader.access_key_id not in str(unsigned["fields"])


def test_decisions_are_cached_per_role_action_resource_and_context(reader: Identity, authorizer: Authorizer) -> None:
    access = Access("dynamodb:GetItem", TABLE_ARN)
    assert authorizer.decide(reader, access).allowed
    assert authorizer.decide(reader, access) is authorizer.decide(reader, Access("dynamodb:GetItem", TABLE_ARN))
    assert len(authorizer._decisions) == 1
