"""local/moto_s3_listing.py: a bucket listed while another thread deletes one of its keys."""

import copy
import itertools
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.s3.utils import _VersionedKeyStore

from local import moto_s3_listing


@pytest.fixture
def installed() -> None:
    moto_s3_listing.install()


def store_losing(deleted: str) -> _VersionedKeyStore:
    """A key store whose key `deleted` goes away right after the copy a listing starts from (another thread's
    delete, landing between the copy and the read)."""
    store = _VersionedKeyStore()
    for key in ("a", deleted, "c"):
        store.setlist(key, [f"{key}-v1", f"{key}-v2"])
    original = store._self_iterable

    def copy_then_delete() -> dict[str, Any]:
        copied = original()
        dict.pop(store, deleted)
        return copied

    store._self_iterable = copy_then_delete  # type: ignore[method-assign]
    return store


def test_moto_as_written_fails_on_a_key_deleted_mid_listing() -> None:
    # The failure this module exists for, in moto's own iterator and in the way list_object_versions uses it
    motos_iterlists = moto_s3_listing._MOTOS["_iterlists"]
    with pytest.raises(TypeError, match="not iterable"):
        list(itertools.chain(*(copy.deepcopy(versions) for _, versions in motos_iterlists(store_losing("b")))))


def test_a_key_deleted_mid_listing_is_left_out_of_every_listing(installed: None) -> None:
    assert list(store_losing("b").iterlists()) == [("a", ["a-v1", "a-v2"]), ("c", ["c-v1", "c-v2"])]
    assert list(store_losing("b").lists()) == [("a", ["a-v1", "a-v2"]), ("c", ["c-v1", "c-v2"])]
    assert list(store_losing("b").iteritems()) == [("a", "a-v2"), ("c", "c-v2")]
    assert list(store_losing("b").items()) == [("a", "a-v2"), ("c", "c-v2")]
    assert list(store_losing("b").itervalues()) == ["a-v2", "c-v2"]
    assert list(store_losing("b").values()) == ["a-v2", "c-v2"]


def test_listings_of_a_bucket_nobody_changes_are_moto_s_own(installed: None) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="listing")
        s3.put_bucket_versioning(Bucket="listing", VersioningConfiguration={"Status": "Enabled"})
        for key, body in (("x/1", b"one"), ("x/1", b"two"), ("x/2", b"three"), ("y/1", b"four")):
            s3.put_object(Bucket="listing", Key=key, Body=body)
        s3.delete_object(Bucket="listing", Key="x/2")
        versions = s3.list_object_versions(Bucket="listing", Prefix="x/")
        listed = s3.list_objects_v2(Bucket="listing")
    assert [(v["Key"], v["IsLatest"]) for v in versions["Versions"]] == [("x/1", True), ("x/1", False), ("x/2", False)]
    assert [(m["Key"], m["IsLatest"]) for m in versions["DeleteMarkers"]] == [("x/2", True)]
    assert [item["Key"] for item in listed["Contents"]] == ["x/1", "y/1"]


def test_the_replaced_methods_are_still_motos_as_written() -> None:
    assert moto_s3_listing.current_fingerprints() == moto_s3_listing.FINGERPRINTS
