"""Identifiers: ULIDs, so that ids listed by time sort by time (API.md conventions)."""

import os
from datetime import UTC, datetime, timedelta

from ulid import ULID

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def new_id() -> str:
    return str(ULID())


def first_id_at(moment: datetime) -> str:
    """The smallest ULID of that millisecond: every id made at or after `moment` sorts above or equal to it."""
    milliseconds = int(moment.timestamp() * 1000)
    return str(ULID.from_bytes(milliseconds.to_bytes(6, "big") + bytes(10)))


def id_at(moment: datetime) -> str:
    """A new ULID of that millisecond, not of now: ids of things minted after they happened (a notification of a
    like, stored when the stream delivers it) sort by when they happened; the random part keeps each unique."""
    # integer arithmetic: a float timestamp times 1000 can land a millisecond short (….942 → 941)
    milliseconds = (moment - _EPOCH) // timedelta(milliseconds=1)
    return str(ULID.from_bytes(milliseconds.to_bytes(6, "big") + os.urandom(10)))


def time_of(ulid: str) -> datetime:
    """When a ULID was made (to the millisecond)."""
    return ULID.from_str(ulid).datetime
