"""Persistence of the privacy context: the deletion marker whose expiry starts a purge, the purge's progress,
the export job; and the generic reads and deletes a purge or an export makes across every table and bucket
(plain dicts and keys cross this module's boundary, never PynamoDB objects)."""

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.privacy.models import ExportJob, ExportStatus, PurgeProgress, ScheduledDeletion, UserRef
from pinhole.shared import aws_clients
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import commit
from pinhole.users.dal import UserModel, is_deactivated

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_settings = get_settings()


@functools.cache
def _dynamodb() -> Any:
    """The raw client of the export and the purge, made on their first use: auth imports this module for an
    account's state (PynamoDB), and its cold start should not make clients it never calls (~34 ms for the two)."""
    return aws_clients.client("dynamodb", region_name=_settings.region)


@functools.cache
def s3_client() -> Any:
    return aws_clients.client("s3", region_name=_settings.region)


@functools.cache
def _types() -> "tuple[TypeSerializer, TypeDeserializer]":
    """boto3's conversions between plain values and DynamoDB's typed ones, made on the export's or the purge's first
    use: importing boto3 would cost auth's cold start ~15 ms for nothing a log-in does."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _serialize(value: Any) -> dict[str, Any]:
    return _types()[0].serialize(value)


def _deserialize(value: dict[str, Any]) -> Any:
    return _types()[1].deserialize(value)


DELETION = "deletion"
PURGE = "purge"
EXPORT = "export"


class PrivacyModel(Model):
    class Meta:
        table_name = _settings.privacy_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    user_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # deletion | purge | export
    username = UnicodeAttribute(null=True)
    purge_after = UTCDateTimeAttribute(null=True)
    step = UnicodeAttribute(null=True)  # purge: the step under way
    cursor = UnicodeAttribute(null=True)  # purge: where that step stopped (JSON of a LastEvaluatedKey)
    status = UnicodeAttribute(null=True)  # export: pending | ready | failed
    requested_at = UTCDateTimeAttribute(null=True)
    object_key = UnicodeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL: the deletion's purge_after; an export's link expiry


def deletion_marker(image: dict[str, Any]) -> ScheduledDeletion | None:
    """The deletion a stream record's image of a privacy item holds; None if the item is not a deletion marker."""
    if image.get("sk") != DELETION or not image.get("purge_after"):
        return None
    return ScheduledDeletion(
        user=UserRef(user_id=str(image["user_id"]), username=str(image.get("username", ""))),
        purge_after=UTCDateTimeAttribute().deserialize(str(image["purge_after"])),
    )


def _conditional_failure(error: PutError | UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class AccountRepository:
    """Deactivation and reactivation of an account: its profile and its deletion marker move together."""

    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def state(self, user_id: str) -> tuple[UserRef, datetime | None, bool] | None:
        """The account as the privacy context sees it, deactivated or not: (who, purge_after, purging);
        None when there is no profile at all."""
        try:
            item = UserModel.get(user_id, consistent_read=True)
        except DoesNotExist:
            return None
        return UserRef(user_id=item.user_id, username=item.username), item.purge_after, bool(item.purging)

    def find(self, username: str) -> UserRef | None:
        for item in UserModel.by_username.query(username, limit=1):
            return UserRef(user_id=item.user_id, username=item.username)
        return None

    def deactivate(self, user: UserRef, now: datetime, purge_after: datetime) -> bool:
        """Deactivated now, purged after `purge_after` (the marker's TTL); False if it already was."""

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                UserModel(user_id=user.user_id),
                actions=[UserModel.deactivated_at.set(now), UserModel.purge_after.set(purge_after)],
                condition=UserModel.user_id.exists() & UserModel.deactivated_at.does_not_exist(),
            )
            transaction.save(
                PrivacyModel(
                    user_id=user.user_id,
                    sk=DELETION,
                    username=user.username,
                    purge_after=purge_after,
                    expires_at=int(purge_after.timestamp()),
                )
            )

        return commit(build, self._connection)

    def reactivate(self, user_id: str, now: datetime) -> bool:
        """Active again if the grace period has not ended and no purge began; False otherwise."""

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                UserModel(user_id=user_id),
                actions=[UserModel.deactivated_at.remove(), UserModel.purge_after.remove()],
                condition=UserModel.deactivated_at.exists()
                & UserModel.purging.does_not_exist()
                & (UserModel.purge_after > now),
            )
            transaction.delete(PrivacyModel(user_id=user_id, sk=DELETION))

        return commit(build, self._connection)

    def start_purge(self, deletion: ScheduledDeletion, now: datetime) -> bool:
        """Marks the account as being purged (no reactivation from here on) and records the purge's start, if
        this deletion is the account's current one and is due: the profile is deactivated with this deletion's
        `purge_after`, which has passed, and no later marker replaced this one. False otherwise (reactivated,
        deleted again since, or gone). Starting twice is harmless: a purge under way is reported as started."""
        user_id = deletion.user.user_id
        try:
            item = UserModel.get(user_id, consistent_read=True)
        except DoesNotExist:
            return PurgeRepository().get(user_id) is not None
        if item.purging:
            return PurgeRepository().get(user_id) is not None
        if not is_deactivated(item) or item.purge_after != deletion.purge_after or deletion.purge_after > now:
            return False
        if not self._marker_due(deletion, now):
            return False

        def build(transaction: TransactWrite) -> None:
            transaction.update(
                UserModel(user_id=user_id),
                actions=[UserModel.purging.set(True)],
                # the deletion read above, still the account's: nothing can have begun another in between
                condition=UserModel.deactivated_at.exists() & (UserModel.purge_after == deletion.purge_after),
            )
            transaction.save(
                PrivacyModel(user_id=user_id, sk=PURGE, username=deletion.user.username, step="", requested_at=now),
                condition=PrivacyModel.user_id.does_not_exist(),
            )

        if commit(build, self._connection):
            return True
        return PurgeRepository().get(user_id) is not None

    @staticmethod
    def _marker_due(deletion: ScheduledDeletion, now: datetime) -> bool:
        """The account's marker is gone (its TTL took it) or is this deletion's and due; a marker of another
        deletion means the account was deleted again since."""
        try:
            marker = PrivacyModel.get(deletion.user.user_id, DELETION, consistent_read=True)
        except DoesNotExist:
            return True
        return marker.purge_after == deletion.purge_after and deletion.purge_after <= now


class PurgeRepository:
    def get(self, user_id: str) -> PurgeProgress | None:
        try:
            item = PrivacyModel.get(user_id, PURGE, consistent_read=True)
        except DoesNotExist:
            return None
        return PurgeProgress(
            user=UserRef(user_id=user_id, username=item.username or ""), step=item.step or "", cursor=item.cursor
        )

    def save(self, progress: PurgeProgress) -> None:
        PrivacyModel(user_id=progress.user.user_id, sk=PURGE).update(
            actions=[
                PrivacyModel.step.set(progress.step),
                PrivacyModel.cursor.set(progress.cursor) if progress.cursor else PrivacyModel.cursor.remove(),
            ]
        )

    def finish(self, user_id: str) -> None:
        """The last write of a purge: its own record (and anything else the user left here) goes."""
        for sk in (PURGE, DELETION, EXPORT):
            PrivacyModel(user_id=user_id, sk=sk).delete()


class ExportRepository:
    def get(self, user_id: str) -> ExportJob | None:
        try:
            item = PrivacyModel.get(user_id, EXPORT, consistent_read=True)
        except DoesNotExist:
            return None
        return ExportJob(
            status=ExportStatus(item.status),
            requested_at=item.requested_at,
            object_key=item.object_key,
            finished_at=item.finished_at,
        )

    def start(self, user_id: str, requested_at: datetime) -> None:
        PrivacyModel(user_id=user_id, sk=EXPORT, status=ExportStatus.PENDING.value, requested_at=requested_at).save()

    def finish(self, user_id: str, requested_at: datetime, job: ExportJob, expires_at: datetime) -> bool:
        """Records the outcome of the export requested at `requested_at`; False if a newer one replaced it."""
        try:
            PrivacyModel(user_id=user_id, sk=EXPORT).update(
                actions=[
                    PrivacyModel.status.set(job.status.value),
                    PrivacyModel.finished_at.set(job.finished_at or requested_at),
                    *([PrivacyModel.object_key.set(job.object_key)] if job.object_key else []),
                    PrivacyModel.expires_at.set(int(expires_at.timestamp())),
                ],
                condition=PrivacyModel.requested_at == requested_at,
            )
        except UpdateError as error:
            if _conditional_failure(error):
                return False
            raise
        return True


# Generic reads and deletes over every table: what a purge and an export walk through.


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserialize(value) for name, value in item.items()}


@dataclass(frozen=True)
class ScanPage:
    items: list[dict[str, Any]]
    cursor: str | None  # where the next page starts; None after the last


def scan_page(
    table: str,
    filter_expression: str,
    values: dict[str, str],
    cursor: str | None,
    limit: int,
    names: dict[str, str] | None = None,
) -> ScanPage:
    """One page of a filtered Scan, resumable from `cursor` (a crash re-reads at most this page)."""
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": filter_expression,
        "ExpressionAttributeValues": {name: {"S": value} for name, value in values.items()},
        "Limit": limit,
        "ConsistentRead": True,
    }
    if names:
        request["ExpressionAttributeNames"] = names
    if cursor:
        request["ExclusiveStartKey"] = json.loads(cursor)
    response = _dynamodb().scan(**request)
    last_key = response.get("LastEvaluatedKey")
    return ScanPage(
        items=[_plain(item) for item in response.get("Items", [])], cursor=json.dumps(last_key) if last_key else None
    )


def scan_all(
    table: str, filter_expression: str | None = None, values: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every item of the table (that the filter keeps), a page at a time."""
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if filter_expression:
        request["FilterExpression"] = filter_expression
        request["ExpressionAttributeValues"] = {name: {"S": value} for name, value in (values or {}).items()}
    for page in _dynamodb().get_paginator("scan").paginate(**request):
        yield from (_plain(item) for item in page.get("Items", []))


def query_all(
    table: str,
    key_name: str,
    key_value: str,
    index: str | None = None,
    sort_key_prefix: tuple[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every item of one partition; with `sort_key_prefix` (the sort key's name, a prefix), only those whose sort
    key begins with it (one kind of item of a partition that holds several)."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#k = :v",
        "ExpressionAttributeNames": {"#k": key_name},
        "ExpressionAttributeValues": {":v": {"S": key_value}},
    }
    if sort_key_prefix:
        sort_key, prefix = sort_key_prefix
        request["KeyConditionExpression"] += " AND begins_with(#s, :prefix)"
        request["ExpressionAttributeNames"]["#s"] = sort_key
        request["ExpressionAttributeValues"][":prefix"] = {"S": prefix}
    if index:
        request["IndexName"] = index
    for page in _dynamodb().get_paginator("query").paginate(**request):
        yield from (_plain(item) for item in page.get("Items", []))


def get_item(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    response = _dynamodb().get_item(
        TableName=table, Key={name: _serialize(value) for name, value in key.items()}, ConsistentRead=True
    )
    return _plain(response["Item"]) if "Item" in response else None


def delete_item(table: str, key: dict[str, Any]) -> None:
    _dynamodb().delete_item(TableName=table, Key={name: _serialize(value) for name, value in key.items()})


def put_item(table: str, item: dict[str, Any]) -> None:
    _dynamodb().put_item(TableName=table, Item={name: _serialize(value) for name, value in item.items()})


def replace_item(table: str, item: dict[str, Any], before: dict[str, Any]) -> bool:
    """Writes `item` over the item that was read as `before`, if it is still as it was (its `version`, when
    it has one, moves on: a writer that read it before retries on the new one); False if it changed."""
    key = {"pk": before["pk"], "sk": before["sk"]}
    condition, values = "attribute_exists(pk)", {}
    if "version" in before:
        condition = "version = :version"
        values = {":version": _serialize(before["version"])}
        item = {**item, "version": before["version"] + 1}
    try:
        _dynamodb().put_item(
            TableName=table,
            Item={name: _serialize(value) for name, value in {**item, **key}.items()},
            ConditionExpression=condition,
            **({"ExpressionAttributeValues": values} if values else {}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def copy_objects(bucket: str, prefix: str, new_prefix: str) -> int:
    """Copies every object under `prefix` to the same key under `new_prefix` (again: the same copies)."""
    copied = 0
    for key in list(object_keys(bucket, prefix)):
        s3_client().copy_object(
            Bucket=bucket, Key=f"{new_prefix}{key.removeprefix(prefix)}", CopySource={"Bucket": bucket, "Key": key}
        )
        copied += 1
    return copied


def delete_objects(bucket: str, prefix: str) -> int:
    """Every version and delete marker under `prefix` (the uploads bucket is versioned): how many."""
    deleted = 0
    for page in s3_client().get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        versions = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(versions), 1000):
            s3_client().delete_objects(Bucket=bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True})
        deleted += len(versions)
    return deleted


def object_keys(bucket: str, prefix: str) -> Iterator[str]:
    for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from (entry["Key"] for entry in page.get("Contents", []))


def open_object(bucket: str, key: str) -> Any:
    """The object's body, a stream read in chunks (never whole)."""
    try:
        return s3_client().get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as error:
        if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
            return None
        raise


def presigned_get(bucket: str, key: str, expires_in_s: int) -> str:
    return str(
        s3_client().generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in_s)
    )
