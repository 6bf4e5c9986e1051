"""Tables and objects straight from and to moto's backends, in bulk.

Through the APIs a snapshot of 5,000 items and 1,400 objects was one request per object each way, and took
about 20 s to save and as long to restore (docs/LOCAL_CLOUD.md). Here an item goes straight into its table's
storage (checked against the table's key, not validated again as a PutItem: it was valid when saved; the fast
DynamoDB indexes it as any write) and an object into its bucket with the backend's `put_object`, without a
request, a signature or a serialisation. The moto
internals this reads are few and pinned by `tests/unit/local/test_state_backends.py`, so a moto upgrade that
moves them fails a test rather than losing a tester's data.

Restoring happens before the table's stream is switched on and before the bucket notifies anyone (see
`local.provision`), and objects are put with their notification off as well: nothing restored is an event.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from moto.backends import get_backend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.s3.models import FakeDeleteMarker

from local.fast_dynamodb.items import held_item
from local.fast_dynamodb.locking import locked
from local.fast_dynamodb.storage import FastTable
from local.moto_atomicity import serialising_lock
from local.state.snapshot import Item, Snapshot, StoredObject
from local.template import ACCOUNT_ID, REGION

META_PREFIX = "x-amz-meta-"
# StoredObject field -> the header moto keeps it under in an object's metadata
OBJECT_HEADERS = {
    "content_type": "Content-Type",
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
}


class ItemsDoNotFit(Exception):
    """An item the table refuses (e.g. the template changed the table's key since the snapshot)."""


def _dynamodb() -> Any:
    return get_backend("dynamodb")[ACCOUNT_ID][REGION]


def _s3() -> Any:
    return get_backend("s3")[ACCOUNT_ID]["aws"]


def export_table(table_name: str) -> list[Item]:
    """Every item of the table, as the low-level client would return it."""
    table = _dynamodb().get_table(table_name)
    # moto holds items in the low-level client's own shapes (binary as bytes, numbers as text)
    return [item.to_json()["Attributes"] for item in table.all_items()]


def import_table(table_name: str, items: list[Item]) -> None:
    """Puts back items the table held when the snapshot was taken, so valid then: each is checked against the
    table's key (the template may have changed it since) but not validated again as a PutItem would be; the fast
    DynamoDB's indexes are kept as for any write, and no stream record is made."""
    put_items_held(table_name, items)


def put_items_held(table_name: str, items: Iterable[Item]) -> int:
    """Puts items known to be valid (a snapshot's, or made by the product's own models for a benchmark's world)
    as state the table already held: checked against the table's key, not validated again as a PutItem, indexed
    by the fast DynamoDB as any write and its partitions sorted before any read asks, no stream record. No other
    DynamoDB operation writes the table meanwhile. Returns how many were put."""
    table = _dynamodb().get_table(table_name)
    fast = isinstance(table, FastTable)
    stored: Any = table.items
    put = []
    with serialising_lock(), locked([table]):
        for attrs in items:
            hash_key = _key_value(attrs, table.hash_key_attr, table.hash_key_type)
            range_key = None
            if table.range_key_attr is not None:
                range_key = _key_value(attrs, table.range_key_attr, table.range_key_type)
            item = held_item(hash_key, range_key, attrs)
            if fast:
                table.put_held(item)
            elif range_key is None:
                stored[hash_key] = item
            else:
                stored[hash_key][range_key] = item
            put.append(item)
        if fast:
            table.order_partitions(put)
    return len(put)


def _key_value(attrs: Item, name: str, key_type: str | None) -> DynamoType:
    value = attrs.get(name)
    if value is None:
        raise ItemsDoNotFit(f"an item has no {name}, the table's key")
    typed = DynamoType(value)
    if typed.type != key_type:
        raise ItemsDoNotFit(f"an item's {name} is of type {typed.type}, the table's key is of type {key_type}")
    return typed


def put_items_unrecorded(table_name: str, items: Iterable[Item]) -> int:
    """Puts the items as state the table already held: with the backend's own `put_item` (its validation,
    the fast path's indexes), but no stream record, so no stream consumer takes them for events. For
    setup that would otherwise be worked off record by record (a benchmark's 10,000 long-established
    follows). No other DynamoDB operation writes the table meanwhile, whichever engine runs. Returns how
    many were put."""
    backend = _dynamodb()
    table = backend.get_table(table_name)
    written = 0
    with serialising_lock(), locked([table]), _stream_paused(table.stream_shard):
        for item in items:
            backend.put_item(table_name, item)
            written += 1
    return written


def _no_record(old: Any, new: Any) -> None:
    return None


@contextlib.contextmanager
def _stream_paused(shard: Any) -> Iterator[None]:
    """The shard stays (readers keep describing and reading it); it records nothing meanwhile."""
    if shard is None:
        yield
        return
    shard.add = _no_record
    try:
        yield
    finally:
        del shard.add


def export_objects(bucket_name: str, snapshot: Snapshot) -> list[StoredObject]:
    """The current version of every object (older versions of a versioned bucket are not kept), bodies
    added to the snapshot's blobs."""
    bucket = _s3().get_bucket(bucket_name)
    stored = []
    for name in sorted(bucket.keys):
        key = bucket.keys[name]  # the latest version
        if isinstance(key, FakeDeleteMarker):
            continue
        metadata = dict(key.metadata.items())
        stored.append(
            StoredObject(
                key=name,
                blob=snapshot.add_blob(key.value),
                metadata={
                    header[len(META_PREFIX) :]: value
                    for header, value in metadata.items()
                    if header.lower().startswith(META_PREFIX)
                },
                **{field: key.metadata.get(header) for field, header in OBJECT_HEADERS.items()},
            )
        )
    return stored


def import_objects(bucket_name: str, stored: list[StoredObject], blobs: dict[str, bytes]) -> None:
    backend = _s3()
    for saved in stored:
        key = backend.put_object(bucket_name, saved.key, blobs[saved.blob], disable_notification=True)
        headers = {header: getattr(saved, field) for field, header in OBJECT_HEADERS.items()}
        key.set_metadata(
            {
                **{header: value for header, value in headers.items() if value is not None},
                **{f"{META_PREFIX}{name}": value for name, value in saved.metadata.items()},
            }
        )
