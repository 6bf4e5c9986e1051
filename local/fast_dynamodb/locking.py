"""A lock per table instead of one for all of DynamoDB.

DynamoDB guarantees that each item write (condition checked, then applied) is atomic, that a
transaction is all or nothing and serializable against single-item operations, that reads return
committed values, and that a table's stream holds its changes in order. One lock per table gives all
of that: a single-item operation holds its table's lock; a transaction holds the locks of every table
it touches, always taken in table-name order (so two transactions cannot deadlock); a stream read
holds its table's lock (so it never sees a record of a transaction that is then cancelled). Operations
on different tables no longer wait for each other. The locks are re-entrant: moto's TransactWriteItems
calls the single-item operations, which take the lock again."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator

from moto.dynamodb.models.table import Table

from local.fast_dynamodb.storage import FastTable

_other_locks: dict[int, threading.RLock] = {}
_other_locks_guard = threading.Lock()
# Table creation, deletion and schema changes, and anything reading every table (PartiQL).
ddl_lock = threading.RLock()


def lock_of(table: Table) -> threading.RLock:
    if isinstance(table, FastTable):
        return table._lock
    # Tables the fast path leaves to moto (binary keys, restored backups) are locked all the same.
    with _other_locks_guard:
        return _other_locks.setdefault(id(table), threading.RLock())


@contextlib.contextmanager
def locked(tables: Iterable[Table]) -> Iterator[None]:
    ordered = sorted({id(table): table for table in tables}.values(), key=lambda table: table.name)
    taken: list[threading.RLock] = []
    try:
        for table in ordered:
            lock = lock_of(table)
            lock.acquire()
            taken.append(lock)
        yield
    finally:
        for lock in reversed(taken):
            lock.release()
