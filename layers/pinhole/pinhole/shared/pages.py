"""Cursor pagination over DynamoDB queries, in one place: the client's opaque cursor becomes the
query's ExclusiveStartKey and back (pinhole.shared.cursor makes it tamper-evident and scoped)."""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pinhole.shared.cursor import decode_cursor, encode_cursor
from pinhole.shared.secrets import cursor_secret

T = TypeVar("T")


def start_after(cursor: str | None, scope: str) -> dict[str, Any] | None:
    return decode_cursor(cursor, scope, cursor_secret()) if cursor else None


def next_cursor(last_key: dict[str, Any] | None, scope: str) -> str | None:
    return encode_cursor(last_key, scope, cursor_secret()) if last_key else None


def exact_page(
    items: Sequence[T], limit: int, key_of: Callable[[T], dict[str, Any]]
) -> tuple[list[T], dict[str, Any] | None]:
    """A page read as `limit + 1` items: the first `limit`, and the key to go on from when there was one more.
    DynamoDB's LastEvaluatedKey may name the last item of a page exactly full, and a client then reads an empty page
    to learn the list ended: with the extra item, the page says so itself."""
    page = list(items[:limit])
    return page, key_of(page[-1]) if len(items) > limit else None
