"""The local cloud end to end over the fixture assembly: auth, uploads, media, pumps, WebSocket."""

import json
import time

import boto3
import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.integration.local.conftest import wait_for

# One worker runs these back to back: the cloud lives in this process, and moto's backends (and
# os.environ) are process-wide, so no other test may run while it is up.
pytestmark = pytest.mark.xdist_group("local_cloud_in_process")
PASSWORD = "correct-horse-1"


def module_of(cloud, logical_id):
    """What the fixture handler module recorded, across every execution environment the local cloud
    loaded for the function (concurrent or back-to-back invocations may land in different ones)."""
    merged: dict[str, list] = {}
    for handler in cloud.cloud.runner.get(logical_id).idle_handlers():
        for name in ("RECEIVED", "EVENTS"):
            merged.setdefault(name, []).extend(handler.__globals__.get(name, []))
    return merged


@pytest.fixture(scope="module")
def http(cloud):
    with httpx.Client(base_url=cloud.cloud.outputs["HttpApiUrl"], timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def cognito(cloud):
    return boto3.client("cognito-idp", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")


@pytest.fixture(scope="module")
def access_token(cloud, cognito):
    outputs = cloud.cloud.outputs
    cognito.admin_create_user(UserPoolId=outputs["UserPoolId"], Username="alice", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=outputs["UserPoolId"], Username="alice", Password=PASSWORD, Permanent=True
    )
    tokens = cognito.initiate_auth(
        ClientId=outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )
    return tokens["AuthenticationResult"]["AccessToken"]


def s3(cloud):
    return boto3.client("s3", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")


def test_password_policy_from_the_template_is_enforced(cloud, cognito):
    # Given the template's MinimumLength 10, When a short password is set, Then Cognito (moto) refuses it
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.sign_up(
            ClientId=cloud.cloud.outputs["UserPoolClientId"],
            Username="bob",
            Password=PASSWORD[:6],
            UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
        )


def test_cognito_access_token_reaches_the_handler_as_string_claims(http, access_token):
    # When alice calls a JWT route with her access token
    response = http.get("/users/alice", headers={"Authorization": f"Bearer {access_token}"})
    # Then the handler sees API Gateway's v2 event with her claims and the path parameter
    assert response.status_code == 200
    event = response.json()["event"]
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["username"] == "alice"
    assert event["pathParameters"] == {"username": "alice"}
    assert event["routeKey"] == "GET /users/{username}"
    assert response.headers["apigw-requestid"] == event["requestContext"]["requestId"]


def test_handler_gets_its_own_environment_and_a_lambda_context(http, access_token):
    body = http.get("/me", headers={"Authorization": access_token}).json()
    assert body["service"] == "users"
    assert body["context"]["function_name"] == "PinholeStateless-UsersFunction5E6F7A8B"
    assert body["context"]["memory"] == 256
    assert 0 < body["context"]["remaining"] <= 1000


def test_errors_of_handlers_are_enveloped_without_internals(http):
    boom = http.get("/boom")
    assert boom.status_code == 500
    assert boom.json() == {"error": {"code": "internal", "message": "Internal server error."}}
    assert "secret" not in boom.text
    assert http.get("/garbage").status_code == 500
    assert http.get("/slow").status_code == 504


def test_body_over_10_mb_is_payload_too_large(http):
    response = http.post("/echo", content=b"x" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_binary_body_round_trips_base64_with_cookies(http):
    response = http.post("/echo", content=b"\x89PNG\x00", headers={"content-type": "image/png"})
    assert response.content == b"\x89PNG\x00"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_presigned_post_from_a_handler_is_checked_and_feeds_resize_and_media(cloud, http, access_token):
    # Given an upload URL signed by a handler (its boto3 points at the local S3 front)
    upload = http.post("/uploads", headers={"Authorization": access_token}).json()
    assert upload["url"].startswith(cloud.cloud.endpoints.s3)
    # When a file of the wrong type is posted, Then S3's policy error comes back
    refused = httpx.post(
        upload["url"], data={**upload["fields"], "Content-Type": "text/html"}, files={"file": ("p.jpg", b"jpeg-bytes")}
    )
    assert refused.status_code == 403
    assert "<Code>AccessDenied</Code>" in refused.text
    # When the right file is posted
    accepted = httpx.post(upload["url"], data=upload["fields"], files={"file": ("p.jpg", b"jpeg-bytes")})
    assert accepted.status_code == 204
    # Then the S3 notification runs resize, whose rendition is served at MediaBaseUrl like CloudFront would
    media_url = f"{cloud.cloud.outputs['MediaBaseUrl']}/renditions/photo.jpg"
    served = wait_for(lambda: (r := httpx.get(media_url)).status_code == 200 and r)
    assert served.content == b"jpeg-bytes"
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in served.headers["cache-control"]
    record = module_of(cloud, "ResizeFunction8C9D0E1F")["RECEIVED"][0]["Records"][0]
    assert record["s3"]["object"]["sequencer"]
    assert record["eventName"] == "ObjectCreated:Post"


def test_media_endpoint_answers_404_envelope_for_missing_keys(cloud):
    response = httpx.get(f"{cloud.cloud.outputs['MediaBaseUrl']}/nope.jpg")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_other_s3_calls_are_proxied_to_moto(cloud):
    client = boto3.client("s3", endpoint_url=cloud.cloud.endpoints.s3, region_name="us-east-1")
    client.put_object(
        Bucket="pinholestateful-mediabucketbcbb02ba", Key="direct.txt", Body=b"hi", ContentType="text/plain"
    )
    assert client.get_object(Bucket="pinholestateful-mediabucketbcbb02ba", Key="direct.txt")["Body"].read() == b"hi"


def test_table_stream_reaches_the_consumer_with_event_source_arn(cloud):
    # Given the users table with a stream mapped to the stream consumer
    table = next(t for t in cloud.cloud.resources.tables if "Users" in t.resource.logical_id)
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    # When an item is written
    dynamodb.put_item(TableName=table.name, Item={"user_id": {"S": "stream-1"}, "username": {"S": "s"}})

    # Then the consumer receives it in a Records batch naming the stream
    def received():
        return module_of(cloud, "StreamConsumer0A1B2C3D")["RECEIVED"]

    record = wait_for(
        lambda: next(
            (r for e in received() for r in e["Records"] if r["dynamodb"]["Keys"]["user_id"]["S"] == "stream-1"), None
        )
    )
    assert record["eventSourceARN"] == table.stream_arn
    assert record["eventName"] == "INSERT"


def test_failing_stream_record_lands_in_the_on_failure_queue(cloud):
    table = next(t for t in cloud.cloud.resources.tables if "Users" in t.resource.logical_id)
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    dynamodb.put_item(TableName=table.name, Item={"user_id": {"S": "poison"}, "fail": {"BOOL": True}})
    sqs = boto3.client("sqs", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    queue_url = next(url for arn, url in cloud.cloud.resources.queues.items() if "StreamFailures" in arn)
    message = wait_for(lambda: sqs.receive_message(QueueUrl=queue_url).get("Messages"))[0]
    assert json.loads(message["Body"])["DDBStreamBatchInfo"]["streamArn"] == table.stream_arn


def test_ttl_sweeper_deletes_expired_items_and_the_stream_says_remove(cloud):
    table = next(t for t in cloud.cloud.resources.tables if "Users" in t.resource.logical_id)
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    dynamodb.put_item(
        TableName=table.name, Item={"user_id": {"S": "ttl-1"}, "expires_at": {"N": str(int(time.time()) - 5)}}
    )
    dynamodb.put_item(
        TableName=table.name, Item={"user_id": {"S": "ttl-2"}, "expires_at": {"N": str(int(time.time()) + 3600)}}
    )
    wait_for(lambda: "Item" not in dynamodb.get_item(TableName=table.name, Key={"user_id": {"S": "ttl-1"}}))

    def received():
        return module_of(cloud, "StreamConsumer0A1B2C3D")["RECEIVED"]

    wait_for(
        lambda: any(
            r["eventName"] == "REMOVE" and r["dynamodb"]["Keys"]["user_id"]["S"] == "ttl-1"
            for e in received()
            for r in e["Records"]
        )
    )
    assert "Item" in dynamodb.get_item(TableName=table.name, Key={"user_id": {"S": "ttl-2"}})


def test_failed_queue_messages_are_redriven_to_the_dlq(cloud):
    sqs = boto3.client("sqs", endpoint_url=cloud.cloud.moto_url, region_name="us-east-1")
    queues = cloud.cloud.resources.queues
    queue_url = next(url for arn, url in queues.items() if "NotificationsQueue" in arn)
    dlq_url = next(url for arn, url in queues.items() if "NotificationsDlq" in arn)
    sqs.send_message(QueueUrl=queue_url, MessageBody="ok")
    sqs.send_message(QueueUrl=queue_url, MessageBody="fail")
    message = wait_for(lambda: sqs.receive_message(QueueUrl=dlq_url).get("Messages"), timeout_s=15)[0]
    assert message["Body"] == "fail"
    bodies = [r["body"] for e in module_of(cloud, "QueueConsumer4E5F6A7B")["RECEIVED"] for r in e["Records"]]
    assert bodies.count("ok") == 1


def test_websocket_connect_authorizer_routes_and_connections_api(cloud):
    url = cloud.cloud.outputs["WebSocketUrl"]
    # Given a refused token, the handshake fails
    with pytest.raises(InvalidStatus):
        connect(f"{url}?token=bad", open_timeout=5).close()
    # When a client connects with a good token and sends a frame
    with connect(f"{url}?token=good", open_timeout=5) as ws:
        ws.send(json.dumps({"action": "ping"}))
        reply = json.loads(ws.recv(timeout=5))
        ws.send("not json")
        fallback = json.loads(ws.recv(timeout=5))
    # Then the routed handler answered through @connections, with the authorizer's context
    assert reply["route"] == "ping"
    assert reply["authorizer"]["username"] == "alice"
    assert fallback["route"] == "$default"
    wait_for(
        lambda: any(
            e["requestContext"]["routeKey"] == "$disconnect" for e in module_of(cloud, "WsFunction2A3B4C5D")["EVENTS"]
        )
    )


def test_connections_api_answers_gone_for_unknown_ids(cloud):
    management = boto3.client(
        "apigatewaymanagementapi", endpoint_url=cloud.cloud.endpoints.management + "/prod", region_name="us-east-1"
    )
    with pytest.raises(management.exceptions.GoneException):
        management.post_to_connection(ConnectionId="nobody", Data=b"x")
