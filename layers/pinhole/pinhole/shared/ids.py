"""Identifiers: ULIDs, so that ids listed by time sort by time (API.md conventions)."""

from datetime import datetime

from ulid import ULID


def new_id() -> str:
    return str(ULID())


def first_id_at(moment: datetime) -> str:
    """The smallest ULID of that millisecond: every id made at or after `moment` sorts above or equal to it."""
    milliseconds = int(moment.timestamp() * 1000)
    return str(ULID.from_bytes(milliseconds.to_bytes(6, "big") + bytes(10)))


def time_of(ulid: str) -> datetime:
    """When a ULID was made (to the millisecond)."""
    return ULID.from_str(ulid).datetime
