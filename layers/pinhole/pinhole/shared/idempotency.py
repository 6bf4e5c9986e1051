"""Idempotency-Key (API.md): a write a client may retry — create a post, comment, send a message, create a group —
returns its first result to a retry with the same key for 24 hours, and nothing is done twice.
Powertools' idempotency utility does the work (a DynamoDB record per key, in-progress locking,
expiry); the key is scoped to the caller and the operation, so two users' keys never collide.

A key names one request, not one slot: the record keeps a hash of the request (the operation and the
canonical form of what was asked: the validated body, plus path parameters such as the post commented
on), and the same key sent with a different request is refused (422 `idempotency_key_reused`, as payment
APIs do) rather than answered with the first result, which would tell the client that its second request
was done. Powertools' payload validation compares the hashes. A first result whose comment, post or story was
deleted since is not answered again either (409 `conflict`, FirstResultGone): the client would show what is gone;
nor a comment on a post hidden from its author since (404, as a new comment would be: `on_replay` decides).
A message keeps its own record of its key (pinhole.messaging.dal) and refuses the same way."""

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from pinhole.shared.caller import Caller
from pinhole.shared.errors import IdempotencyKeyReused, RequestInProgress
from pinhole.shared.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

KEY_MAX = 255
"""The longest Idempotency-Key (and a message frame's `client_id`, the same key over the WebSocket)."""
RETENTION_S = 24 * 3600
Result = TypeVar("Result", bound=BaseModel)


class RetryScope(BaseModel):
    user_id: str
    operation: str
    key: str
    request: Any  # JSON: what was asked under this key


_SCOPE_KEY = "[user_id, operation, key]"
_REQUEST = "request"


@lru_cache(maxsize=1)
def _persistence() -> "DynamoDBPersistenceLayer":
    # Powertools' idempotency package imports boto3 (its DynamoDB layer makes a boto3 client): ~15 ms of a cold
    # start, paid by the first request that carries a key rather than by every start of the function.
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name)


def once(
    caller: Caller,
    operation: str,
    key: str | None,
    action: Callable[[], Result],
    result_type: type[Result],
    lambda_context: Any = None,
    request: Any = None,
    on_replay: Callable[[Result], object] | None = None,
) -> Result:
    """`action()`, or — for a key already used by this caller for this operation with the same `request`
    (pydantic models, or plain JSON values, nested as you like) — its first result. The same key with
    another request is IdempotencyKeyReused. With the Lambda context, a retry arriving while the first call
    still runs is refused until the first call's remaining time has passed (then it may run again: the
    first one died). `on_replay` sees a first result before it is answered again, and raises when it cannot be
    (FirstResultGone: what it made was deleted since, and answering it would say that it stands)."""
    if not key:
        return action()
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    config = IdempotencyConfig(
        event_key_jmespath=_SCOPE_KEY,
        payload_validation_jmespath=_REQUEST,
        expires_after_seconds=RETENTION_S,
        hash_function="sha256",
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(
        data_keyword_argument="scope",
        persistence_store=_persistence(),
        config=config,
        output_serializer=PydanticSerializer(model=result_type),
    )
    def run(scope: RetryScope) -> Result:
        ran.append(True)
        return action()

    ran: list[bool] = []
    canonical = to_jsonable_python(request)
    try:
        result = run(scope=RetryScope(user_id=caller.user_id, operation=operation, key=key, request=canonical))
    except IdempotencyValidationError:
        raise IdempotencyKeyReused() from None
    except IdempotencyAlreadyInProgressError:
        raise RequestInProgress() from None  # a double tap, or a client's retry before the first call ended
    if not ran and on_replay is not None:
        on_replay(result)
    return result
