"""DynamoDB transactions that keep several items in step (an item and its counters, a message and
both inboxes), run one way: a refused condition is an answer, a collision is retried."""

import random
import time
from collections.abc import Callable

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

CONFLICT_ATTEMPTS = 5
"""Transactions on one hot item (a popular post's counter, a busy inbox) can collide
(TransactionConflict); each is retried."""
_jitter = random.SystemRandom()


def cancelled_by(error: TransactWriteError, code: str, items: slice = slice(None)) -> bool:
    """Whether one of the transaction's items (all, or those `items` selects) was refused with `code`."""
    return any(reason and reason.code == code for reason in (error.cancellation_reasons or [])[items])


def commit(
    build: Callable[[TransactWrite], None],
    connection: Connection,
    attempts: int = CONFLICT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Runs the transaction `build` describes: True once committed, False if a condition refused it.

    A collision with another transaction on the same item is no refusal: it is retried after a
    jittered, growing pause."""
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=connection) as transaction:
                build(transaction)
        except TransactWriteError as error:
            if cancelled_by(error, "ConditionalCheckFailed"):
                return False
            if not cancelled_by(error, "TransactionConflict") or attempt == attempts - 1:
                raise
            sleep(_jitter.uniform(0, 0.02 * 2**attempt))
        else:
            return True
    raise AssertionError("unreachable: the last attempt returns or raises")
