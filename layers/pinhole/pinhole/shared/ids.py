"""Identifiers: ULIDs, so that ids listed by time sort by time (API.md conventions)."""

from ulid import ULID


def new_id() -> str:
    return str(ULID())
