"""The saved state's format: every DynamoDB type survives the trip, writes are atomic, and anything
damaged is refused with a reason instead of being restored in part."""

import json
import os
from pathlib import Path

import pytest

from local.state.snapshot import (
    MANIFEST,
    OBJECTS,
    Snapshot,
    SnapshotUnreadable,
    StateDir,
    StoredMessage,
    StoredObject,
    StoredRefreshToken,
    StoredUser,
    StoredUserPool,
    item_from_json,
    item_to_json,
)

EVERY_TYPE = {
    "pk": {"S": "USER#1"},
    "n": {"N": "42"},
    "b": {"B": b"\x00\xffbytes"},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "nested": {"M": {"inner": {"L": [{"B": b"\x03"}, {"S": "x"}, {"M": {"deep": {"B": b"\x04"}}}]}}},
    "expires_at": {"N": "1700000000"},
}


def a_snapshot() -> Snapshot:
    snapshot = Snapshot()
    snapshot.tables["Stateful/Posts"] = [EVERY_TYPE]
    blob = snapshot.add_blob(b"\xff\xd8jpeg bytes")
    snapshot.buckets["Stateful/Media"] = [
        StoredObject(
            key="posts/p1/large.jpg",
            blob=blob,
            content_type="image/jpeg",
            metadata={"post-id": "p1"},
            cache_control="public, max-age=31536000, immutable",
        )
    ]
    snapshot.user_pools["Stateful/Users"] = StoredUserPool(
        users=[StoredUser("alice", "sub-1", "Correct-Horse-9", "CONFIRMED", True, {"email": "a@example.com"})],
        refresh_tokens=[StoredRefreshToken("token", "client", "alice", "jti")],
    )
    snapshot.queues["Stateful/Notifications"] = [
        StoredMessage('{"kind": "like"}', {"kind": {"DataType": "String", "StringValue": "like"}})
    ]
    snapshot.secrets["Stateful/CursorSecret"] = "s3cr3t"
    return snapshot


def test_every_dynamodb_type_survives_the_json_trip():
    # Given an item with every attribute type, binary ones nested in maps and lists
    # When it goes to the snapshot's JSON and back
    encoded = json.loads(json.dumps(item_to_json(EVERY_TYPE)))
    # Then it is the same item, binary values as bytes again
    assert item_from_json(encoded) == EVERY_TYPE
    assert encoded["b"] == {"B": "AP9ieXRlcw=="}  # base64, as DynamoDB's wire format carries it


def test_a_written_snapshot_reads_back_the_same(tmp_path: Path):
    # Given a snapshot with something of each kind
    written = a_snapshot()
    # When it is written and read again
    size = StateDir(tmp_path / "state").write(written)
    read = StateDir(tmp_path / "state").read()
    # Then everything is there, the object body once under its hash, the files private to the user
    assert read is not None
    assert (read.tables, read.buckets, read.user_pools, read.queues, read.secrets) == (
        written.tables,
        written.buckets,
        written.user_pools,
        written.queues,
        written.secrets,
    )
    assert read.blobs == written.blobs
    assert read.counts == {"users": 1, "items": 1, "objects": 1, "messages": 1}
    assert size == sum(path.stat().st_size for path in (tmp_path / "state").rglob("*") if path.is_file())
    assert oct((tmp_path / "state" / MANIFEST).stat().st_mode & 0o777) == "0o600"


def test_no_saved_state_reads_as_none(tmp_path: Path):
    assert StateDir(tmp_path / "nothing").read() is None


def test_bodies_no_longer_referenced_are_removed(tmp_path: Path):
    # Given a saved snapshot with an object
    state = StateDir(tmp_path)
    state.write(a_snapshot())
    # When the next snapshot has no objects
    state.write(Snapshot())
    # Then the old body is gone with it
    assert list((tmp_path / OBJECTS).iterdir()) == []


def test_a_failed_write_leaves_the_previous_snapshot_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Given a saved snapshot
    state = StateDir(tmp_path)
    state.write(a_snapshot())
    # When the next write dies while it writes the manifest (say the disk is full)
    real_replace = os.replace

    def crash_on_manifest(source, target):
        if Path(target).name == MANIFEST:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", crash_on_manifest)
    later = a_snapshot()
    later.tables["Stateful/Posts"] = []
    with pytest.raises(OSError, match="No space"):
        state.write(later)
    monkeypatch.undo()
    # Then the previous snapshot is still read in full, and no temporary file is left behind
    read = state.read()
    assert read is not None
    assert read.tables["Stateful/Posts"] == [EVERY_TYPE]
    assert not [path for path in tmp_path.rglob("*.tmp")]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda state: (state / MANIFEST).write_text('{"format": "pinhole-loc'), "cannot be read"),
        (lambda state: (state / MANIFEST).write_bytes(b"\xff\xfe\x00"), "cannot be read"),
        (lambda state: (state / MANIFEST).write_text('{"format": "other/2"}'), "not a pinhole-local-state/1"),
        (lambda state: (state / MANIFEST).write_text("[]"), "not a pinhole-local-state/1"),
        (
            lambda state: (state / MANIFEST).write_text(
                '{"format": "pinhole-local-state/1", "tables": {"t": [{"pk": {}}]}}'
            ),
            "malformed",
        ),
        (
            lambda state: (state / MANIFEST).write_text(
                '{"format": "pinhole-local-state/1", "tables": {"t": [{"pk": {"B": "not base64!"}}]}}'
            ),
            "malformed",
        ),
        (
            lambda state: (state / MANIFEST).write_text(
                '{"format": "pinhole-local-state/1", "user_pools": {"p": {"users": [{"username": "a"}]}}}'
            ),
            "malformed",
        ),
        (lambda state: [path.unlink() for path in (state / OBJECTS).iterdir()], "missing"),
        (lambda state: [path.write_bytes(b"rot") for path in (state / OBJECTS).iterdir()], "damaged"),
    ],
    ids=[
        "cut-short",
        "not-utf8",
        "other-format",
        "not-an-object",
        "empty-attribute",
        "bad-base64",
        "user-without-fields",
        "object-body-missing",
        "object-body-damaged",
    ],
)
def test_a_damaged_snapshot_is_refused_with_a_reason(tmp_path: Path, damage, reason: str):
    # Given a saved snapshot that is then damaged
    StateDir(tmp_path).write(a_snapshot())
    damage(tmp_path)
    # When it is read
    with pytest.raises(SnapshotUnreadable) as refused:
        StateDir(tmp_path).read()
    # Then the reason is one line a person can act on
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)
