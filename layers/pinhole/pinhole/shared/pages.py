"""Cursor pagination over DynamoDB queries, in one place: the client's opaque cursor becomes the
query's ExclusiveStartKey and back (pinhole.shared.cursor makes it tamper-evident and scoped)."""

from typing import Any

from pinhole.shared.cursor import decode_cursor, encode_cursor
from pinhole.shared.secrets import cursor_secret


def start_after(cursor: str | None, scope: str) -> dict[str, Any] | None:
    return decode_cursor(cursor, scope, cursor_secret()) if cursor else None


def next_cursor(last_key: dict[str, Any] | None, scope: str) -> str | None:
    return encode_cursor(last_key, scope, cursor_secret()) if last_key else None
