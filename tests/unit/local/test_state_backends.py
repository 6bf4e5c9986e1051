"""Tables and objects in bulk, straight from and to moto's backends (`local.state.backends`). This pins the
moto internals it relies on: a moto upgrade that moves them fails here, not in a tester's restart."""

from typing import Any

import boto3
import pytest

from local.state.backends import ItemsDoNotFit, export_objects, export_table, import_objects, import_table
from local.state.snapshot import Snapshot, StoredObject

EVERY_TYPE = {
    "pk": {"S": "user#1"},
    "sk": {"N": "7"},
    "avatar": {"B": b"\x89PNG\x00"},
    "profile": {"M": {"thumb": {"B": b"\x00\x01"}, "tags": {"L": [{"S": "a"}, {"N": "1.5"}, {"B": b"z"}]}}},
    "names": {"SS": ["ada", "grace"]},
    "scores": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"a", b"b"]},
    "nothing": {"NULL": True},
    "private": {"BOOL": False},
}


def table(name: str, hash_key: str = "pk", range_key: str | None = "sk") -> Any:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": range_key, "AttributeType": "N"})
    dynamodb.create_table(
        TableName=name, KeySchema=schema, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
    )
    return dynamodb


def test_every_dynamodb_type_comes_out_as_the_low_level_client_reads_it_and_goes_back(aws: None) -> None:
    # Given an item of every DynamoDB type, written through the API
    dynamodb = table("before")
    dynamodb.put_item(TableName="before", Item=EVERY_TYPE)
    # When it is exported from the backend and imported into a fresh table
    exported = export_table("before")
    table("after")
    import_table("after", exported)
    # Then the export is what GetItem answers, and so is the imported copy
    assert exported == [EVERY_TYPE]
    key = {"pk": EVERY_TYPE["pk"], "sk": EVERY_TYPE["sk"]}
    assert dynamodb.get_item(TableName="after", Key=key)["Item"] == EVERY_TYPE


def test_items_that_do_not_fit_the_tables_key_are_refused(aws: None) -> None:
    # Given a table whose key changed since the snapshot (now `user_id`)
    table("changed", hash_key="user_id", range_key=None)
    # When the old items are imported, Then they are refused, not dropped
    with pytest.raises(ItemsDoNotFit):
        import_table("changed", [EVERY_TYPE])


def test_items_whose_key_changed_type_are_refused(aws: None) -> None:
    # Given a table whose sort key is now a number, and an item saved when it was a string
    table("retyped")
    saved = {**EVERY_TYPE, "sk": {"S": "7"}}
    # When it is imported, Then it is refused, not put
    with pytest.raises(ItemsDoNotFit, match="sk"):
        import_table("retyped", [saved])


def test_objects_keep_bytes_headers_and_metadata_and_only_their_current_version(aws: None) -> None:
    # Given a versioned bucket: an object overwritten once, one deleted, one with every kept header
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="uploads")
    s3.put_bucket_versioning(Bucket="uploads", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="uploads", Key="a.jpg", Body=b"first")
    s3.put_object(Bucket="uploads", Key="a.jpg", Body=b"second")
    s3.put_object(Bucket="uploads", Key="gone.jpg", Body=b"x")
    s3.delete_object(Bucket="uploads", Key="gone.jpg")
    s3.put_object(
        Bucket="uploads",
        Key="posts/p1/large.jpg",
        Body=b"\xff\xd8jpeg",
        ContentType="image/jpeg",
        CacheControl="public, max-age=31536000, immutable",
        ContentDisposition="inline",
        ContentEncoding="identity",
        Metadata={"post-id": "p1", "Owner_Name": "ada"},
    )
    # When they are exported and imported into another bucket
    snapshot = Snapshot()
    exported = export_objects("uploads", snapshot)
    s3.create_bucket(Bucket="restored")
    import_objects("restored", exported, snapshot.blobs)
    # Then the current versions come back, byte for byte, with their headers; the deleted one does not
    assert [stored.key for stored in exported] == ["a.jpg", "posts/p1/large.jpg"]
    assert s3.get_object(Bucket="restored", Key="a.jpg")["Body"].read() == b"second"
    got = s3.get_object(Bucket="restored", Key="posts/p1/large.jpg")
    assert got["Body"].read() == b"\xff\xd8jpeg"
    assert (got["ContentType"], got["CacheControl"], got["ContentDisposition"], got["ContentEncoding"]) == (
        "image/jpeg",
        "public, max-age=31536000, immutable",
        "inline",
        "identity",
    )
    assert got["Metadata"] == s3.get_object(Bucket="uploads", Key="posts/p1/large.jpg")["Metadata"]
    assert export_objects("restored", Snapshot()) == exported


def test_imported_objects_are_not_notifications(aws: None) -> None:
    # Given a bucket that notifies a queue of every new object
    s3, sqs = boto3.client("s3", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="created")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.create_bucket(Bucket="media")
    s3.put_bucket_notification_configuration(
        Bucket="media",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    sqs.purge_queue(QueueUrl=queue_url)  # moto's s3:TestEvent
    # When an object is imported
    snapshot = Snapshot()
    blob = snapshot.add_blob(b"jpeg")
    import_objects("media", [StoredObject(key="k.jpg", blob=blob)], snapshot.blobs)
    # Then it is there, and nobody was told
    assert s3.get_object(Bucket="media", Key="k.jpg")["Body"].read() == b"jpeg"
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", []) == []
