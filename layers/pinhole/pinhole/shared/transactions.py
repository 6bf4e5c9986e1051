"""DynamoDB transactions that keep several items in step (an item and its counters, a message and
both inboxes), run one way: a refused condition is an answer, a collision is retried."""

import random
import time
from collections.abc import Callable

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

CONFLICT_ATTEMPTS = 12
PAUSE_CAP_S = 0.64
"""Transactions on one hot item (a popular post's counter, a busy inbox, a followed account's
counts) collide (TransactionConflict) while another one holds it; each is retried, after pauses
drawn up to 20 ms, 40 ms, ... 640 ms, then up to 640 ms each: a dozen transactions at once on one
item all get through (tests/e2e/test_eventual_consistency.py, where transactions stay in flight as
on DynamoDB). At most 4.46 s of pauses in all, inside an API function's 10 s. With eight attempts
and pauses doubling to 1.28 s (2.5 s in all), one follow of twelve at once was refused once, on a
machine running the whole suite."""
_jitter = random.SystemRandom()


def cancelled_by(error: TransactWriteError, code: str, items: slice = slice(None)) -> bool:
    """Whether one of the transaction's items (all, or those `items` selects) was refused with `code`."""
    return any(reason and reason.code == code for reason in (error.cancellation_reasons or [])[items])


def transact(
    build: Callable[[TransactWrite], None],
    connection: Connection,
    attempts: int = CONFLICT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Runs the transaction `build` describes. A collision with another transaction on the same item
    is retried after a jittered, growing pause; any other failure, a refused condition included, is
    raised for the caller to read (`cancelled_by`)."""
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=connection) as transaction:
                build(transaction)
        except TransactWriteError as error:
            collided = cancelled_by(error, "TransactionConflict") and not cancelled_by(error, "ConditionalCheckFailed")
            if not collided or attempt == attempts - 1:
                raise
            pause_before_retry(attempt, sleep)
        else:
            return
    raise AssertionError("unreachable: the last attempt returns or raises")


def pause_before_retry(attempt: int, sleep: Callable[[float], None] = time.sleep) -> None:
    """The pause after the `attempt`-th (from 0) of writes colliding on one item: jittered, up to 20 ms, 40 ms, ...
    640 ms, then up to 640 ms each, so that the writers spread out instead of colliding again at once."""
    sleep(_jitter.uniform(0, min(0.02 * 2**attempt, PAUSE_CAP_S)))


def commit(
    build: Callable[[TransactWrite], None],
    connection: Connection,
    attempts: int = CONFLICT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Runs the transaction `build` describes (collisions retried, as `transact`): True once committed,
    False if a condition refused it."""
    try:
        transact(build, connection, attempts, sleep)
    except TransactWriteError as error:
        if cancelled_by(error, "ConditionalCheckFailed"):
            return False
        raise
    return True
