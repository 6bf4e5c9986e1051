"""Calls that take a bounded number of keys (BatchGetItem: 100) made for any number of keys in one round:
the keys cut into chunks, every chunk's call in flight at once. PynamoDB's own batch_get sends its pages
one after the other, which costs a round per 100 keys."""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

BATCH_GET_MAX = 100
# A page of the feed sends at most ~15 chunks at once (500 candidates' posts, profiles and edges).
_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="chunks")


def chunks(items: Sequence[K], size: int) -> list[Sequence[K]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def gather_dict(call: Callable[[list[K]], dict[str, V]], items: Sequence[K], size: int = BATCH_GET_MAX) -> dict[str, V]:
    """`call` on each chunk of `items` at once, the answers merged."""
    unique = list(dict.fromkeys(items))
    if len(unique) <= size:
        return call(unique) if unique else {}
    merged: dict[str, V] = {}
    for answer in _pool.map(lambda chunk: call(list(chunk)), chunks(unique, size)):
        merged.update(answer)
    return merged


def gather_set(call: Callable[[list[K]], set[str]], items: Sequence[K], size: int = BATCH_GET_MAX) -> set[str]:
    unique = list(dict.fromkeys(items))
    if len(unique) <= size:
        return call(unique) if unique else set()
    merged: set[str] = set()
    for answer in _pool.map(lambda chunk: call(list(chunk)), chunks(unique, size)):
        merged |= answer
    return merged
