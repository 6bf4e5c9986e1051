"""`local.in_process.RememberingStubber` answers what moto's in-process dispatch answers, finding the handler of a
service's root URL once: the same results and errors for DynamoDB, SQS, Secrets Manager and Cognito, moto's own
path for anything else (S3's bucket and key URLs)."""

from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

from local.in_process import RememberingStubber

REGION = "us-east-1"


def _client(service: str, stubber: BotocoreStubber | None = None) -> Any:
    client = boto3.client(service, region_name=REGION)
    if stubber is not None:

        def answer(request: Any, **_: Any) -> AWSResponse:
            status, headers, body = stubber.process_request(request)
            return AWSResponse(request.url, status, headers, MockRawResponse(body))

        client.meta.events.register_first("before-send", answer)
    return client


def _outcome(call: Any) -> Any:
    try:
        result = call()
    except ClientError as error:
        return ("error", error.response["Error"], error.response["ResponseMetadata"]["HTTPStatusCode"])
    if isinstance(result, dict):
        result.pop("ResponseMetadata", None)
    return result


def _calls(clients: dict[str, Any], suffix: str) -> list[Any]:
    dynamodb, sqs, secrets, cognito = (
        clients["dynamodb"],
        clients["sqs"],
        clients["secretsmanager"],
        clients["cognito-idp"],
    )
    return [
        lambda: dynamodb.create_table(
            TableName=f"t{suffix}",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )["TableDescription"]["KeySchema"],
        lambda: dynamodb.put_item(TableName=f"t{suffix}", Item={"pk": {"S": "a"}, "n": {"N": "1"}}),
        lambda: dynamodb.get_item(TableName=f"t{suffix}", Key={"pk": {"S": "a"}}),
        lambda: dynamodb.get_item(TableName="missing", Key={"pk": {"S": "a"}}),
        lambda: dynamodb.put_item(TableName=f"t{suffix}", Item={"pk": {"S": ""}}),
        lambda: sqs.create_queue(QueueName=f"q{suffix}")["QueueUrl"].rsplit("/", 1)[-1].removesuffix(suffix),
        lambda: sqs.get_queue_url(QueueName="missing"),
        lambda: secrets.create_secret(Name=f"s{suffix}", SecretString="x")["Name"].removesuffix(suffix),
        lambda: secrets.get_secret_value(SecretId="missing"),
        lambda: cognito.describe_user_pool(UserPoolId=f"{REGION}_missing"),
    ]


def test_the_remembering_dispatch_answers_as_moto_s(aws: None) -> None:
    # Given clients answered by moto's own in-process dispatch, and the same clients answered by the stubber
    services = ["dynamodb", "sqs", "secretsmanager", "cognito-idp"]
    stubber = RememberingStubber()
    moto_s = {service: _client(service) for service in services}
    remembering = {service: _client(service, stubber) for service in services}

    # When both make the same calls (on resources of their own)
    expected = [_outcome(call) for call in _calls(moto_s, "1")]
    got = [_outcome(call) for call in _calls(remembering, "2")]

    # Then the answers and errors are the same, and each service's handler was found once, by its root URL
    assert got == expected
    assert any(outcome[0] == "error" for outcome in got if isinstance(outcome, tuple))
    assert sorted(stubber._handlers) == sorted(
        f"https://{host}.{REGION}.amazonaws.com/" for host in ("dynamodb", "sqs", "secretsmanager", "cognito-idp")
    )


def test_a_url_with_a_path_goes_through_moto_s_own_dispatch(aws: None) -> None:
    # Given S3 clients answered by moto's stubber and by the remembering one
    stubber = RememberingStubber()
    outcomes = []
    for bucket, client in (("by-moto", _client("s3", BotocoreStubber())), ("remembering", _client("s3", stubber))):
        # When each writes and reads an object (a URL with a path)
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="a/b.txt", Body=b"xyz")
        outcomes.append(_outcome(lambda c=client, b=bucket: c.head_object(Bucket=b, Key="a/b.txt")["ContentLength"]))

    # Then the answers are the same, and no object URL was remembered
    assert outcomes[0] == outcomes[1]
    assert not [url for url in stubber._handlers if "b.txt" in url]
