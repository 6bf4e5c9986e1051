"""Cursor pagination over DynamoDB queries, in one place: the client's opaque cursor becomes the
query's ExclusiveStartKey and back (pinhole.shared.cursor encrypts it, bound to its list)."""

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


U = TypeVar("U")

FILL_READS = 5
"""How many reads of `limit + 1` items a filled page makes at most before it answers with what it has."""


def filled_page(
    read: Callable[[int, dict[str, Any] | None], tuple[list[T], dict[str, Any] | None]],
    shown: Callable[[list[T]], list[U | None]],
    limit: int,
    after: dict[str, Any] | None,
    key_of: Callable[[T], dict[str, Any]],
    reads: int = FILL_READS,
) -> tuple[list[U], dict[str, Any] | None]:
    """A page of a list some of whose items the reader is not shown (a block, an account gone): read `limit + 1`
    items at a time (`read(count, after)`: the items and DynamoDB's LastEvaluatedKey), each as `shown` shows it (None
    for one left out), until `limit` are shown or the list ends — or `reads` reads were made, and the page answers
    with what it has and the key to go on from. So a page is shorter than `limit`, or even empty, while the list goes
    on only when hidden items fill more than those reads; the key is that of the last item the page took, so
    nothing read past it is skipped."""
    page: list[U] = []
    for _ in range(reads):
        items, last_key = read(limit + 1, after)
        for position, (item, visible) in enumerate(zip(items, shown(items), strict=True)):
            if visible is None:
                continue
            page.append(visible)
            if len(page) == limit:
                more = position < len(items) - 1 or last_key is not None
                return page, key_of(item) if more else None
        if last_key is None:
            return page, None
        after = last_key
    return page, after
