"""The local cloud's saved state, end to end on moto (a moto server, as the local cloud runs it, but no
gateway): what a tester created in the fixture template's table, buckets, user pool and queue is
captured, written, read and restored into freshly provisioned resources, and the restore is not
replayed as stream records."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from local.provision import LocalResources, Provisioner
from local.state import Restorer, Snapshot, SnapshotUnreadable, StateDir, capture
from local.state.cognito import STABLE_ID_ENVIRONMENT
from local.state.transfer import drain_queue, send_back
from local.template import REGION, CloudAssembly

FIXTURE_CDK_OUT = Path(__file__).parent / "local" / "fixture_cdk_out"
PASSWORD = "Correct-Horse-9"


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name, value in STABLE_ID_ENVIRONMENT.items():  # as LocalCloud.start(stable_ids=True) provisions
        monkeypatch.setenv(name, value)


@pytest.fixture
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url
    finally:
        restart(url)
        server.stop()


def restart(moto_url: str) -> None:
    """Everything moto holds is gone, as when the local cloud's process ends."""
    httpx.post(f"{moto_url}/moto-api/reset", timeout=30).raise_for_status()


class Session:
    """A boto3 session whose clients all talk to the moto server."""

    def __init__(self, moto_url: str) -> None:
        self.moto_url = moto_url
        self._session = boto3.session.Session(region_name=REGION)

    def client(self, service: str, **kwargs: Any) -> Any:
        return self._session.client(service, **{"endpoint_url": self.moto_url, **kwargs})


@pytest.fixture
def session(moto_url: str) -> Session:
    return Session(moto_url)


def provision(session: Session, restorer: Restorer | None = None) -> tuple[CloudAssembly, LocalResources]:
    assembly = CloudAssembly.load(FIXTURE_CDK_OUT)
    resources = Provisioner(assembly, session, session.moto_url, hooks=restorer).run()
    if restorer is not None:
        restorer.restore_after_provisioning(assembly)
    return assembly, resources


def stream_records(session: Session, stream_arn: str) -> list[dict[str, Any]]:
    streams = session.client("dynamodbstreams")
    records = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return records


def a_testers_data(session: Session, resources: LocalResources) -> str:
    """A user row with binary data and a TTL, a rendition, a Cognito user, a waiting message; the sub."""
    cognito = session.client("cognito-idp")
    created = cognito.admin_create_user(
        UserPoolId=resources.user_pool_id,
        Username="alice",
        UserAttributes=[{"Name": "email", "Value": "alice@example.com"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=resources.user_pool_id, Username="alice", Password=PASSWORD, Permanent=True
    )
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    table = resources.tables[0]
    session.client("dynamodb").put_item(
        TableName=table.name,
        Item={
            "user_id": {"S": sub},
            "username": {"S": "alice"},
            "avatar": {"B": b"\x89PNG"},
            "expires_at": {"N": "4102444800"},
        },
    )
    assert resources.media_bucket is not None
    session.client("s3").put_object(
        Bucket=resources.media_bucket,
        Key="posts/p1/large.jpg",
        Body=b"\xff\xd8jpeg",
        ContentType="image/jpeg",
        CacheControl="public, max-age=31536000, immutable",
        Metadata={"post-id": "p1"},
    )
    queue_url = next(url for url in resources.queues.values() if "NotificationsQueue" in url)
    session.client("sqs").send_message(QueueUrl=queue_url, MessageBody='{"kind": "like"}')
    return sub


def test_what_a_tester_created_comes_back_after_a_restart(tmp_path: Path, session: Session) -> None:
    # Given a provisioned fixture cloud with a tester's data, saved to a state directory
    assembly, resources = provision(session)
    sub = a_testers_data(session, resources)
    saved = capture(assembly, session, session.moto_url)
    StateDir(tmp_path).write(saved)
    # When moto starts afresh and is provisioned from the same template with the snapshot read back
    restart(session.moto_url)
    snapshot = StateDir(tmp_path).read()
    assert snapshot is not None
    restorer = Restorer(snapshot, session, session.moto_url)
    assembly, resources = provision(session, restorer)
    # Then everything is there again, and capturing it gives the same snapshot
    assert (restorer.report.users, restorer.report.items, restorer.report.objects, restorer.report.messages) == (
        1,
        1,
        1,
        1,
    )
    again = capture(assembly, session, session.moto_url)
    assert again.tables == saved.tables
    assert again.buckets == saved.buckets
    assert again.queues == saved.queues
    assert again.user_pools == saved.user_pools
    # And alice logs in with her password and keeps her sub
    cognito = session.client("cognito-idp")
    tokens = cognito.initiate_auth(
        ClientId=resources.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    me = cognito.get_user(AccessToken=tokens["AccessToken"])
    assert {a["Name"]: a["Value"] for a in me["UserAttributes"]}["sub"] == sub
    # And the rendition keeps its headers
    got = session.client("s3").get_object(Bucket=resources.media_bucket, Key="posts/p1/large.jpg")
    assert (got["ContentType"], got["CacheControl"], got["Metadata"]) == (
        "image/jpeg",
        "public, max-age=31536000, immutable",
        {"post-id": "p1"},
    )


def test_restored_items_are_not_new_stream_records(session: Session) -> None:
    # Given a snapshot holding three rows of the streamed users table
    table_key = "PinholeStateful/UsersTable9725E9C8"
    rows = [{"user_id": {"S": f"u{n}"}, "username": {"S": f"user{n}"}} for n in range(3)]
    restorer = Restorer(Snapshot(tables={table_key: rows}), session, session.moto_url)
    # When the table is provisioned with the snapshot
    _, resources = provision(session, restorer)
    table = resources.tables[0]
    assert table.stream_arn is not None
    # Then the rows are there, but the stream consumers have nothing to deliver again
    assert session.client("dynamodb").scan(TableName=table.name)["Count"] == 3
    assert stream_records(session, table.stream_arn) == []
    # And a write after the restore is a stream record as usual (the stream is on)
    session.client("dynamodb").put_item(TableName=table.name, Item={"user_id": {"S": "new"}, "username": {"S": "n"}})
    assert [record["eventName"] for record in stream_records(session, table.stream_arn)] == ["INSERT"]


def test_resources_the_template_no_longer_has_are_ignored_and_named(session: Session) -> None:
    # Given a snapshot with a table the template has since lost
    gone = "PinholeStateful/OldTable0000"
    restorer = Restorer(Snapshot(tables={gone: [{"pk": {"S": "x"}}]}), session, session.moto_url)
    # When it is restored
    provision(session, restorer)
    # Then the start goes on, and the report names what was left out
    assert restorer.report.ignored == [gone]
    assert gone in restorer.report.summary()


def test_fifo_messages_are_kept_in_order_with_their_group(session: Session) -> None:
    # Given a FIFO queue (as the notifications queue is) holding two messages of one group
    sqs = session.client("sqs")
    attributes = {"FifoQueue": "true"}
    queue_url = sqs.create_queue(QueueName="notifications.fifo", Attributes=attributes)["QueueUrl"]
    for n in (1, 2):
        sqs.send_message(
            QueueUrl=queue_url, MessageBody=f"m{n}", MessageGroupId="alice", MessageDeduplicationId=f"d{n}"
        )
    # When it is drained into the snapshot and sent back to a fresh queue
    kept = drain_queue(sqs, queue_url)
    restart(session.moto_url)
    queue_url = sqs.create_queue(QueueName="notifications.fifo", Attributes=attributes)["QueueUrl"]
    for message in kept:
        send_back(sqs, queue_url, message)
    # Then both are there, in order, in their group
    assert [(m.body, m.group_id) for m in kept] == [("m1", "alice"), ("m2", "alice")]
    assert [(m.body, m.group_id) for m in drain_queue(sqs, queue_url)] == [("m1", "alice"), ("m2", "alice")]


def test_items_that_no_longer_fit_their_table_stop_the_restore(session: Session) -> None:
    # Given a snapshot of the users table whose rows lack the key the template now gives it (user_id)
    rows = [{"id": {"S": "u1"}, "username": {"S": "user1"}}]
    restorer = Restorer(Snapshot(tables={"PinholeStateful/UsersTable9725E9C8": rows}), session, session.moto_url)
    # When it is restored, Then the start stops with the snapshot named unreadable, rather than dropping them
    with pytest.raises(SnapshotUnreadable, match="do not fit"):
        provision(session, restorer)
