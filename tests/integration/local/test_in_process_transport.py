"""Handlers reach moto in process (`local/in_process.py`), and nothing a tester or a browser uses changes:
the moto endpoint serves the same data to a script in another process, the S3 front still proxies plain
HTTP, and a backend that raises answers a 500 as moto's server does."""

import json
import subprocess
import sys
import threading

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend

from local import direct_calls
from local.in_process import AsgiEndpoint, transport

pytestmark = pytest.mark.xdist_group("local_cloud_in_process")
BUCKET = "pinholestateful-mediabucketbcbb02ba"
TESTERS_SCRIPT = """
import json, sys, boto3
moto_url, table = sys.argv[1], sys.argv[2]
dynamodb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")
seen = dynamodb.get_item(TableName=table, Key={"user_id": {"S": "written-in-process"}}).get("Item")
dynamodb.put_item(TableName=table, Item={"user_id": {"S": "written-by-a-script"}, "username": {"S": "script"}})
print(json.dumps(seen))
"""


def users_table(cloud) -> str:
    return next(t.name for t in cloud.cloud.resources.tables if "Users" in t.resource.logical_id)


def answered_in_process(monkeypatch) -> list[str]:
    """How each call of this thread was answered in process: `before-call <service> <operation>` for one
    local/direct_calls.py answered, else the AWS URL moto's in-process dispatch answered (the pumps call too)."""
    answered: list[str] = []
    dispatch = transport._dispatch.process_request
    answer = direct_calls.answer
    me = threading.get_ident()

    def recording(request):
        if threading.get_ident() == me:
            answered.append(request.url)
        return dispatch(request)

    def recording_direct(service_id, model, *args):
        found = answer(service_id, model, *args)
        if found is not None and threading.get_ident() == me:
            answered.append(f"before-call {service_id} {model.name}")
        return found

    monkeypatch.setattr(transport._dispatch, "process_request", recording)
    monkeypatch.setattr(direct_calls, "answer", recording_direct)
    return answered


def test_clients_of_the_local_cloud_are_answered_in_process(cloud, monkeypatch):
    # Given clients configured as handlers' are: moto's endpoint, and the S3 front for S3
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    s3 = boto3.client("s3", endpoint_url=cloud.cloud.endpoints.s3, region_name="us-east-1")
    answered = answered_in_process(monkeypatch)
    # When they write and read
    dynamodb.put_item(TableName=users_table(cloud), Item={"user_id": {"S": "in-process-1"}})
    s3.put_object(Bucket=BUCKET, Key="in-process.txt", Body=b"in process", ContentType="text/plain")
    got = s3.get_object(Bucket=BUCKET, Key="in-process.txt")
    # Then every call was answered in process, with moto's answers
    assert answered == [
        "before-call dynamodb PutItem",
        f"https://s3.amazonaws.com/{BUCKET}/in-process.txt",
        f"https://s3.amazonaws.com/{BUCKET}/in-process.txt",
    ]
    assert got["Body"].read() == b"in process"
    assert got["ContentType"] == "text/plain"


def test_a_testers_script_at_the_moto_endpoint_sees_the_same_data(cloud):
    # Given an item written in process
    table = users_table(cloud)
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    dynamodb.put_item(TableName=table, Item={"user_id": {"S": "written-in-process"}, "username": {"S": "handler"}})
    # When a tester's own boto3 script, in another process, reads it and writes another through the endpoint
    result = subprocess.run(
        [sys.executable, "-c", TESTERS_SCRIPT, cloud.cloud.moto_url, table],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # Then both see each other's writes: one set of backends
    assert json.loads(result.stdout)["username"] == {"S": "handler"}
    written = dynamodb.get_item(TableName=table, Key={"user_id": {"S": "written-by-a-script"}})["Item"]
    assert written["username"] == {"S": "script"}


def test_the_s3_front_still_proxies_plain_http_requests_to_moto(cloud):
    # Given an object stored in process
    s3 = boto3.client("s3", endpoint_url=cloud.cloud.endpoints.s3, region_name="us-east-1")
    s3.put_object(Bucket=BUCKET, Key="plain/http.txt", Body=b"over http", ContentType="text/plain")
    # When a plain HTTP client (not botocore: a browser, curl) asks the S3 front for it with a pre-signed URL
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "plain/http.txt"})
    assert url.startswith(cloud.cloud.endpoints.s3)
    response = httpx.get(url)
    # Then the front proxies it to moto's server as before
    assert response.status_code == 200
    assert response.content == b"over http"


def test_switched_off_the_same_calls_go_over_http(cloud, monkeypatch):
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    answered = answered_in_process(monkeypatch)
    transport.enabled = False
    try:
        dynamodb.put_item(TableName=users_table(cloud), Item={"user_id": {"S": "over-http"}})
        item = dynamodb.get_item(TableName=users_table(cloud), Key={"user_id": {"S": "over-http"}})["Item"]
    finally:
        transport.enabled = True
    assert item == {"user_id": {"S": "over-http"}}
    assert answered == []


def test_with_direct_answers_off_dynamodb_is_answered_at_before_send_with_the_same_data(cloud, monkeypatch):
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    table = users_table(cloud)
    dynamodb.put_item(TableName=table, Item={"user_id": {"S": "either-way"}, "n": {"N": "1.50"}, "b": {"B": b"\x00"}})
    answered = answered_in_process(monkeypatch)
    transport.direct = False
    try:
        at_before_send = dynamodb.get_item(TableName=table, Key={"user_id": {"S": "either-way"}})
    finally:
        transport.direct = True
    at_before_call = dynamodb.get_item(TableName=table, Key={"user_id": {"S": "either-way"}})
    assert answered == ["https://dynamodb.us-east-1.amazonaws.com/", "before-call dynamodb GetItem"]
    assert (
        at_before_send["Item"]
        == at_before_call["Item"]
        == {
            "user_id": {"S": "either-way"},
            "n": {"N": "1.50"},
            "b": {"B": b"\x00"},
        }
    )


def test_a_backend_that_raises_answers_500_as_motos_server_does(cloud, monkeypatch):
    # Given a DynamoDB backend raising (a bug in moto): the before-call answer leaves it to before-send
    def broken(*args, **kwargs):
        raise KeyError("a moto bug")

    monkeypatch.setattr(DynamoDBBackend, "describe_table", broken)
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=cloud.cloud.moto_url,
        region_name="us-east-1",
        config=boto3.session.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    # When a handler's client calls, Then it gets the 500 the server would give, not the KeyError
    with pytest.raises(ClientError) as raised:
        dynamodb.describe_table(TableName=users_table(cloud))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_connections_api_calls_are_answered_in_process_by_the_gateway(cloud, monkeypatch):
    # Given the management client handlers build (its endpoint is the gateway's @connections API)
    answered: list[str] = []
    original = AsgiEndpoint.__call__

    def recording(self, request):
        answered.append(request.url)
        return original(self, request)

    monkeypatch.setattr(AsgiEndpoint, "__call__", recording)
    management = boto3.client(
        "apigatewaymanagementapi", endpoint_url=cloud.cloud.endpoints.management + "/prod", region_name="us-east-1"
    )
    # When it asks for a connection nobody has, Then the gateway answers, in process, with AWS's GoneException
    with pytest.raises(management.exceptions.GoneException):
        management.get_connection(ConnectionId="nobody")
    assert answered == [f"{cloud.cloud.endpoints.management}/prod/@connections/nobody"]


def test_connections_api_calls_get_the_same_answers_at_before_call_and_at_before_send(cloud, monkeypatch):
    # Given the management client handlers build, and a record of the calls answered at before-call
    management = boto3.client(
        "apigatewaymanagementapi", endpoint_url=cloud.cloud.endpoints.management + "/prod", region_name="us-east-1"
    )
    at_before_call: list[str] = []
    answer_asgi_call = transport._answer_asgi_call

    def recording(model, params, service_id):
        at_before_call.append(model.name)
        return answer_asgi_call(model, params, service_id)

    monkeypatch.setattr(transport, "_answer_asgi_call", recording)
    calls = {
        "post": lambda: management.post_to_connection(ConnectionId="nobody", Data=b'{"type": "message"}'),
        "too large": lambda: management.post_to_connection(ConnectionId="nobody", Data=b"x" * (128 * 1024 + 1)),
        "get": lambda: management.get_connection(ConnectionId="nobody"),
        "delete": lambda: management.delete_connection(ConnectionId="nobody"),
    }

    def outcomes() -> dict[str, object]:
        found = {}
        for name, call in calls.items():
            with pytest.raises(ClientError) as raised:
                call()
            response = raised.value.response
            found[name] = (response["Error"], response["ResponseMetadata"]["HTTPStatusCode"])
        return found

    # When each is made with direct answers on, then off (signed, at before-send)
    direct = outcomes()
    transport.direct = False
    try:
        signed = outcomes()
    finally:
        transport.direct = True

    # Then the gateway gave the same answers both ways (AWS's GoneException for a connection nobody has), and the
    # first four were answered at before-call
    assert direct == signed
    assert direct["post"][0]["Code"] == direct["get"][0]["Code"] == "GoneException"
    assert direct["post"][1] == 410
    assert at_before_call == ["PostToConnection", "PostToConnection", "GetConnection", "DeleteConnection"]
